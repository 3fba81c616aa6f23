//! Prometheus metrics: counters and histograms in plain atomics, rendered in the text exposition
//! format by a tiny HTTP/1.1 responder on its own listener (`--metrics-listen`).
//!
//! Hand-rolled rather than a metrics crate: the label sets are small and fixed (3 methods x 17
//! gRPC codes, 3 actions x 7 categories), so fixed arrays of atomics cost one relaxed add on the
//! request path and no dependency. Rule-hit counters are keyed by rule id and live across
//! reloads, so a counter never goes backwards when the rule set changes.
//!
//! Nothing here carries message text, senders or request ids: labels are methods, status codes,
//! categories, rule ids, versions and campaign ids (hashes).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::category::Category;
use crate::verdict::Action;

/// The RPC methods measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Score,
    ScoreBatch,
    ScoreStream,
}

impl Method {
    const ALL: [Method; 3] = [Method::Score, Method::ScoreBatch, Method::ScoreStream];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Score => "Score",
            Method::ScoreBatch => "ScoreBatch",
            Method::ScoreStream => "ScoreStream",
        }
    }
}

/// gRPC status code names, indexed by code.
const CODES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// Latency bucket upper bounds, seconds: from tens of microseconds (one message) to a second
/// (a big batch on a busy machine).
const BUCKETS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_nanos
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Relaxed);
    }
}

/// Every metric of one server. Shared through `Arc`; lives as long as the server.
pub struct Metrics {
    /// [method][code]
    requests: Vec<Histogram>,
    /// [action][category]
    verdicts: [[AtomicU64; 7]; 3],
    stream_messages: AtomicU64,
    /// [method][code]: messages of a batch or stream answered with an error in their place.
    message_errors: Vec<AtomicU64>,
    rule_hits: RwLock<BTreeMap<String, Arc<AtomicU64>>>,
    conns: Connections,
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    engine: Mutex<EngineInfo>,
    /// The campaign window, when the server runs one: its largest campaigns are rendered.
    campaigns: std::sync::OnceLock<Arc<crate::campaign::Window>>,
    campaign_signals: AtomicU64,
}

/// Campaigns listed by `smishd_campaign_size`.
const TOP_CAMPAIGNS: usize = 10;

/// Connections and calls: gauges (open now) and counters.
#[derive(Default)]
struct Connections {
    open: AtomicU64,
    accepted: AtomicU64,
    refused: AtomicU64,
    accept_errors: AtomicU64,
    handshake_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    calls_in_flight: AtomicU64,
    streams_open: AtomicU64,
}

#[derive(Default)]
struct EngineInfo {
    ruleset: String,
    model: String,
    loaded_at: f64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            requests: (0..Method::ALL.len() * CODES.len())
                .map(|_| Histogram::default())
                .collect(),
            verdicts: Default::default(),
            stream_messages: AtomicU64::new(0),
            message_errors: (0..Method::ALL.len() * CODES.len())
                .map(|_| AtomicU64::new(0))
                .collect(),
            rule_hits: RwLock::new(BTreeMap::new()),
            conns: Connections::default(),
            reloads: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            engine: Mutex::new(EngineInfo::default()),
            campaigns: std::sync::OnceLock::new(),
            campaign_signals: AtomicU64::new(0),
        }
    }

    /// Records one finished call.
    pub fn request(&self, method: Method, code: tonic::Code, elapsed: Duration) {
        let code = (code as usize).min(CODES.len() - 1);
        self.requests[method as usize * CODES.len() + code].observe(elapsed);
    }

    /// Renders the largest campaigns of `window` with the other metrics.
    pub fn watch_campaigns(&self, window: Arc<crate::campaign::Window>) {
        let _ = self.campaigns.set(window);
    }

    /// One verdict carried a campaign.
    pub fn campaign_signal(&self) {
        self.campaign_signals.fetch_add(1, Relaxed);
    }

    pub fn verdict(&self, action: Action, category: Category) {
        self.verdicts[action as usize][category.index()].fetch_add(1, Relaxed);
    }

    pub fn connection_opened(&self) {
        self.conns.open.fetch_add(1, Relaxed);
        self.conns.accepted.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.conns.open.fetch_sub(1, Relaxed);
    }

    pub fn open_connections(&self) -> u64 {
        self.conns.open.load(Relaxed)
    }

    /// A connection accepted and closed at once: the connection cap was reached.
    pub fn connection_refused(&self) {
        self.conns.refused.fetch_add(1, Relaxed);
    }

    pub fn accept_error(&self) {
        self.conns.accept_errors.fetch_add(1, Relaxed);
    }

    /// A connection closed by the handshake timeout (`handshake`) or the idle timeout.
    pub fn connection_timed_out(&self, handshake: bool) {
        let c = if handshake {
            &self.conns.handshake_timeouts
        } else {
            &self.conns.idle_timeouts
        };
        c.fetch_add(1, Relaxed);
    }

    pub fn call_started(&self) {
        self.conns.calls_in_flight.fetch_add(1, Relaxed);
    }

    pub fn call_ended(&self) {
        self.conns.calls_in_flight.fetch_sub(1, Relaxed);
    }

    pub fn stream_opened(&self) {
        self.conns.streams_open.fetch_add(1, Relaxed);
    }

    pub fn stream_closed(&self) {
        self.conns.streams_open.fetch_sub(1, Relaxed);
    }

    /// Counts one message of a batch or stream refused in its place (the call goes on).
    pub fn message_refused(&self, method: Method, code: tonic::Code) {
        let code = (code as usize).min(CODES.len() - 1);
        self.message_errors[method as usize * CODES.len() + code].fetch_add(1, Relaxed);
    }

    pub fn stream_message(&self) {
        self.stream_messages.fetch_add(1, Relaxed);
    }

    /// The counter of one rule id, created at zero the first time a rule set names it.
    pub fn rule_counter(&self, rule: &str) -> Arc<AtomicU64> {
        if let Some(c) = self
            .rule_hits
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(rule)
        {
            return c.clone();
        }
        self.rule_hits
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(rule.to_string())
            .or_default()
            .clone()
    }

    pub fn reloaded(&self, ruleset: &str, model: &str) {
        let mut e = self.engine.lock().unwrap_or_else(|e| e.into_inner());
        e.ruleset = ruleset.to_string();
        e.model = model.to_string();
        e.loaded_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
    }

    /// Counts a successful reload (not the initial load).
    pub fn reload_ok(&self) {
        self.reloads.fetch_add(1, Relaxed);
    }

    pub fn reload_failed(&self) {
        self.reload_failures.fetch_add(1, Relaxed);
    }

    pub fn reload_failures(&self) -> u64 {
        self.reload_failures.load(Relaxed)
    }

    /// The text exposition format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        let _ = self.render_into(&mut out);
        out
    }

    fn render_into(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP smishd_requests_total gRPC calls finished, by method and status code."
        )?;
        writeln!(out, "# TYPE smishd_requests_total counter")?;
        for m in Method::ALL {
            for (c, code) in CODES.iter().enumerate() {
                let h = &self.requests[m as usize * CODES.len() + c];
                let n = h.count.load(Relaxed);
                if n > 0 {
                    writeln!(
                        out,
                        "smishd_requests_total{{method=\"{}\",code=\"{code}\"}} {n}",
                        m.as_str()
                    )?;
                }
            }
        }
        writeln!(
            out,
            "# HELP smishd_request_duration_seconds Time from the call reaching the service to its answer (streams: the whole stream)."
        )?;
        writeln!(out, "# TYPE smishd_request_duration_seconds histogram")?;
        for m in Method::ALL {
            for (c, code) in CODES.iter().enumerate() {
                let h = &self.requests[m as usize * CODES.len() + c];
                let n = h.count.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let labels = format!("method=\"{}\",code=\"{code}\"", m.as_str());
                let mut cumulative = 0;
                for (i, b) in BUCKETS.iter().enumerate() {
                    cumulative += h.buckets[i].load(Relaxed);
                    writeln!(
                        out,
                        "smishd_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {cumulative}"
                    )?;
                }
                writeln!(
                    out,
                    "smishd_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {n}"
                )?;
                writeln!(
                    out,
                    "smishd_request_duration_seconds_sum{{{labels}}} {}",
                    h.sum_nanos.load(Relaxed) as f64 / 1e9
                )?;
                writeln!(out, "smishd_request_duration_seconds_count{{{labels}}} {n}")?;
            }
        }
        writeln!(
            out,
            "# HELP smishd_verdicts_total Messages scored, by verdict and category."
        )?;
        writeln!(out, "# TYPE smishd_verdicts_total counter")?;
        for action in [Action::Allow, Action::Flag, Action::Block] {
            for category in Category::ALL {
                let n = self.verdicts[action as usize][category.index()].load(Relaxed);
                if n > 0 {
                    writeln!(
                        out,
                        "smishd_verdicts_total{{verdict=\"{}\",category=\"{}\"}} {n}",
                        action.as_str(),
                        category.as_str()
                    )?;
                }
            }
        }
        writeln!(
            out,
            "# HELP smishd_stream_messages_total Messages scored on ScoreStream calls."
        )?;
        writeln!(out, "# TYPE smishd_stream_messages_total counter")?;
        writeln!(
            out,
            "smishd_stream_messages_total {}",
            self.stream_messages.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP smishd_message_errors_total Messages of ScoreBatch and ScoreStream calls refused in their place (the call went on), by method and code."
        )?;
        writeln!(out, "# TYPE smishd_message_errors_total counter")?;
        for m in Method::ALL {
            for (c, code) in CODES.iter().enumerate() {
                let n = self.message_errors[m as usize * CODES.len() + c].load(Relaxed);
                if n > 0 {
                    writeln!(
                        out,
                        "smishd_message_errors_total{{method=\"{}\",code=\"{code}\"}} {n}",
                        m.as_str()
                    )?;
                }
            }
        }
        writeln!(
            out,
            "# HELP smishd_rule_hits_total Messages on which a rule fired, by rule id."
        )?;
        writeln!(out, "# TYPE smishd_rule_hits_total counter")?;
        for (rule, n) in self
            .rule_hits
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            writeln!(
                out,
                "smishd_rule_hits_total{{rule=\"{}\"}} {}",
                escape(rule),
                n.load(Relaxed)
            )?;
        }
        let c = &self.conns;
        let gauges = [
            ("smishd_open_connections", "gauge", "gRPC connections open now.", &c.open),
            ("smishd_connections_accepted_total", "counter", "gRPC connections accepted under the connection cap.", &c.accepted),
            ("smishd_connections_refused_total", "counter", "gRPC connections closed at once because max_connections were open.", &c.refused),
            ("smishd_accept_errors_total", "counter", "Failed accepts (such as EMFILE: out of descriptors), each followed by a pause.", &c.accept_errors),
            ("smishd_handshake_timeouts_total", "counter", "Connections closed for not sending the HTTP/2 preface within handshake_timeout_ms.", &c.handshake_timeouts),
            ("smishd_idle_timeouts_total", "counter", "Connections closed after idle_timeout_ms with no call.", &c.idle_timeouts),
            ("smishd_calls_in_flight", "gauge", "gRPC calls open now (every service, streams included).", &c.calls_in_flight),
            ("smishd_open_streams", "gauge", "ScoreStream calls open now.", &c.streams_open),
        ];
        for (name, kind, help, value) in gauges {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} {kind}")?;
            writeln!(out, "{name} {}", value.load(Relaxed))?;
        }
        writeln!(
            out,
            "# HELP smishd_reloads_total Engine reloads that took effect."
        )?;
        writeln!(out, "# TYPE smishd_reloads_total counter")?;
        writeln!(out, "smishd_reloads_total {}", self.reloads.load(Relaxed))?;
        writeln!(
            out,
            "# HELP smishd_reload_failures_total Engine reloads refused (the previous engine kept serving)."
        )?;
        writeln!(out, "# TYPE smishd_reload_failures_total counter")?;
        writeln!(
            out,
            "smishd_reload_failures_total {}",
            self.reload_failures.load(Relaxed)
        )?;
        let e = self.engine.lock().unwrap_or_else(|e| e.into_inner());
        if !e.ruleset.is_empty() {
            writeln!(
                out,
                "# HELP smishd_engine_info The rule set and model versions serving now."
            )?;
            writeln!(out, "# TYPE smishd_engine_info gauge")?;
            writeln!(
                out,
                "smishd_engine_info{{ruleset=\"{}\",model=\"{}\"}} 1",
                escape(&e.ruleset),
                escape(&e.model)
            )?;
            writeln!(
                out,
                "# HELP smishd_engine_loaded_timestamp_seconds When the serving engine was loaded."
            )?;
            writeln!(out, "# TYPE smishd_engine_loaded_timestamp_seconds gauge")?;
            writeln!(
                out,
                "smishd_engine_loaded_timestamp_seconds {}",
                e.loaded_at
            )?;
        }
        drop(e);
        self.render_campaigns(out)
    }

    /// The campaign window's figures: ids (hashes) and counts only.
    fn render_campaigns(&self, out: &mut String) -> std::fmt::Result {
        let Some(window) = self.campaigns.get() else {
            return Ok(());
        };
        writeln!(
            out,
            "# HELP smishd_campaign_signals_total Verdicts that carried a campaign."
        )?;
        writeln!(out, "# TYPE smishd_campaign_signals_total counter")?;
        writeln!(
            out,
            "smishd_campaign_signals_total {}",
            self.campaign_signals.load(Relaxed)
        )?;
        writeln!(
            out,
            "# HELP smishd_campaign_window_bytes Memory of the campaign window (fixed)."
        )?;
        writeln!(out, "# TYPE smishd_campaign_window_bytes gauge")?;
        writeln!(
            out,
            "smishd_campaign_window_bytes {}",
            window.memory_bytes()
        )?;
        let top = window.top(TOP_CAMPAIGNS);
        writeln!(
            out,
            "# HELP smishd_campaign_size Copies in the last window of the largest campaigns, by id."
        )?;
        writeln!(out, "# TYPE smishd_campaign_size gauge")?;
        for c in &top {
            let id = crate::campaign::id_hex(c.id);
            writeln!(out, "smishd_campaign_size{{campaign=\"{id}\"}} {}", c.size)?;
        }
        writeln!(
            out,
            "# HELP smishd_campaign_senders Distinct senders of the largest campaigns, by id."
        )?;
        writeln!(out, "# TYPE smishd_campaign_senders gauge")?;
        for c in &top {
            let id = crate::campaign::id_hex(c.id);
            writeln!(
                out,
                "smishd_campaign_senders{{campaign=\"{id}\"}} {}",
                c.senders
            )?;
        }
        Ok(())
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Measures one call from the moment it reaches the service.
pub struct Timer {
    started: Instant,
}

impl Timer {
    pub fn start() -> Self {
        Timer {
            started: Instant::now(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// Serves `GET /metrics` until `stop` turns true. One request per connection, then close:
/// Prometheus scrapes every few seconds, so keep-alive buys nothing.
pub async fn serve(listener: TcpListener, metrics: Arc<Metrics>, mut stop: super::Shutdown) {
    loop {
        tokio::select! {
            _ = stop.wait() => return,
            accepted = listener.accept() => match accepted {
                Ok((conn, _)) => {
                    let metrics = metrics.clone();
                    tokio::spawn(async move {
                        // A scraper that stalls is dropped rather than held forever.
                        let _ = tokio::time::timeout(Duration::from_secs(5), answer(conn, &metrics)).await;
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn answer(mut conn: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    // Read the request head only; a scrape has no body. Bounded to 8 KiB.
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 8192 {
        let n = conn.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET", "/metrics") | ("GET", "/") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        ("GET", _) => ("404 Not Found", "text/plain", "not found\n".to_string()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "method not allowed\n".to_string(),
        ),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body.as_bytes()).await?;
    conn.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative_and_counts_codes() {
        let m = Metrics::new();
        m.request(Method::Score, tonic::Code::Ok, Duration::from_micros(30));
        m.request(Method::Score, tonic::Code::Ok, Duration::from_millis(3));
        m.request(
            Method::ScoreBatch,
            tonic::Code::InvalidArgument,
            Duration::from_secs(5),
        );
        let text = m.render();
        assert!(text.contains("smishd_requests_total{method=\"Score\",code=\"OK\"} 2"));
        assert!(text.contains(
            "smishd_request_duration_seconds_bucket{method=\"Score\",code=\"OK\",le=\"0.001\"} 1"
        ));
        assert!(text.contains(
            "smishd_request_duration_seconds_bucket{method=\"Score\",code=\"OK\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "smishd_request_duration_seconds_bucket{method=\"ScoreBatch\",code=\"INVALID_ARGUMENT\",le=\"1\"} 0"
        ));
        assert!(text.contains(
            "smishd_request_duration_seconds_bucket{method=\"ScoreBatch\",code=\"INVALID_ARGUMENT\",le=\"+Inf\"} 1"
        ));
    }

    #[test]
    fn rule_counters_survive_a_new_lookup() {
        let m = Metrics::new();
        m.rule_counter("A_RULE").fetch_add(2, Relaxed);
        m.rule_counter("A_RULE").fetch_add(1, Relaxed);
        assert!(m
            .render()
            .contains("smishd_rule_hits_total{rule=\"A_RULE\"} 3"));
    }
}
