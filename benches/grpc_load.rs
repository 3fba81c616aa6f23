//! Load benchmark of `smishd serve` on loopback: unary requests per second and p50/p99 latency
//! at maximum load and at a fixed 5,000 requests/s, and streamed messages per second.
//!
//! ```text
//! cargo bench --bench grpc_load [-- DATA.tsv] [--campaigns on|off] [--senders N] [--stream-only]
//! ```
//!
//! DATA.tsv is `label<TAB>text` (default: $SMISHD_BENCH_DATA, else
//! cn_sms_spam_800k_sample/cn_sms_spam_sample.tsv of shared/data beside the clone or its parent
//! folder). The server runs in
//! this process on its own runtime (2 worker threads) with the compiled-in engine; the client runs on
//! another (2 worker threads). Both share the machine's cores, so the figures are a floor for the
//! server alone. Every phase is bounded in count and time, targets 127.0.0.1 only, and prints
//! the number of responses and the verdicts they carried, so a fast wrong answer shows.
//!
//! The max-load and streaming phases also print the CPU time of the whole process over the
//! phase per response (server and client together): on a shared machine the rates follow the
//! other work, the CPU a response costs much less.
//!
//! `--campaigns off` runs the server without its campaign window (`[campaigns] enabled =
//! false`); the default is the daemon's default, on. Run both, alternately, to read the
//! window's cost.
//!
//! `--senders N` gives message i the sender `1` followed by `i mod N` in ten digits (default:
//! no sender, as in the earlier figures): with senders, the repeated texts become campaigns the
//! window reports, and their verdicts carry the campaign. `--stream-only` skips the unary
//! phases (after the warm-up), for repeated streaming runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::{ScoreRequest, ScoreResponse};
use smishd::server::Config;
use tonic::transport::{Channel, Endpoint};

#[path = "common/data.rs"]
mod data;

/// Messages taken from the data file.
const MESSAGES: usize = 20_000;
/// Connections the client spreads unary calls over.
const CONNECTIONS: usize = 4;
/// Calls in flight at maximum load.
const CONCURRENCY: usize = 64;
const MAX_LOAD_TIME: Duration = Duration::from_secs(5);
const MAX_LOAD_CALLS: usize = 400_000;
const FIXED_RATE: u64 = 5_000;
const FIXED_RATE_TIME: Duration = Duration::from_secs(5);
const STREAMS: usize = 2;
const STREAM_MESSAGES: usize = 300_000;

type Verdicts = BTreeMap<String, u64>;

fn main() -> anyhow::Result<()> {
    // The data: an argument, $SMISHD_BENCH_DATA, or shared/ beside the clone (or beside the
    // folder of worktrees).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let campaigns = match args.iter().position(|a| a == "--campaigns") {
        None => true,
        Some(i) => match args.get(i + 1).map(String::as_str) {
            Some("on") => true,
            Some("off") => false,
            _ => anyhow::bail!("--campaigns on|off"),
        },
    };
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
    };
    if let Some(n) = value("--senders") {
        let n: usize = n.parse().map_err(|_| anyhow::anyhow!("--senders N"))?;
        SENDERS.store(n, std::sync::atomic::Ordering::Relaxed);
    }
    let stream_only = args.iter().any(|a| a == "--stream-only");
    let path = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with('-')
                && (*i == 0 || !matches!(args[i - 1].as_str(), "--campaigns" | "--senders"))
        })
        .map(|(_, a)| a)
        .map(PathBuf::from)
        .unwrap_or_else(|| data::cn_sample("pass DATA.tsv"));
    let texts = load(&path)?;
    println!(
        "data: {} messages from {} (mean {} bytes)",
        texts.len(),
        path.display(),
        texts.iter().map(String::len).sum::<usize>() / texts.len().max(1)
    );
    let texts = Arc::new(texts);

    engine_baseline(&texts)?;

    // Worker threads per side (default 2 each): SMISHD_BENCH_SERVER_THREADS, _CLIENT_THREADS.
    let threads = |name: &str| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2usize)
    };
    let (server_threads, client_threads) = (
        threads("SMISHD_BENCH_SERVER_THREADS"),
        threads("SMISHD_BENCH_CLIENT_THREADS"),
    );
    println!("runtimes: server {server_threads} worker threads, client {client_threads}");
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads)
        .thread_name("server")
        .enable_all()
        .build()?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(client_threads)
        .thread_name("client")
        .enable_all()
        .build()?;

    let listener = server_rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let mut config = Config {
        reload_poll_ms: 0,
        reload_on_sighup: false,
        ..Config::default()
    };
    config.campaigns.enabled = campaigns;
    println!(
        "campaigns: {}",
        if campaigns {
            "on (window as configured by default)"
        } else {
            "off"
        }
    );
    let server = server_rt.spawn(smishd::server::run(listener, None, config, async move {
        let _ = stop_rx.await;
    }));

    client_rt.block_on(async {
        let channels = connect(addr).await?;
        // Warm-up: connections, allocator, caches.
        unary_closed_loop(&channels, &texts, 16, Duration::from_secs(1), 20_000).await?;

        if !stream_only {
            let cpu = process_cpu_seconds();
            let mut r = unary_closed_loop(
                &channels,
                &texts,
                CONCURRENCY,
                MAX_LOAD_TIME,
                MAX_LOAD_CALLS,
            )
            .await?;
            r.cpu = process_cpu_seconds() - cpu;
            r.print(&format!(
                "unary, max load ({CONCURRENCY} in flight, {CONNECTIONS} connections)"
            ));

            // One call at a time: the bare round trip, to read the fixed-rate figures against.
            let r = unary_closed_loop(&channels[..1], &texts, 1, Duration::from_secs(2), 20_000)
                .await?;
            r.print("unary, one call in flight (round-trip baseline)");

            let r = unary_fixed_rate(&channels, &texts, FIXED_RATE, FIXED_RATE_TIME).await?;
            r.print(&format!("unary, fixed rate {FIXED_RATE}/s"));
        }

        let cpu = process_cpu_seconds();
        let mut r = streaming(&channels, &texts, STREAMS, STREAM_MESSAGES).await?;
        r.cpu = process_cpu_seconds() - cpu;
        r.print(&format!("ScoreStream ({STREAMS} streams)"));
        anyhow::Ok(())
    })?;

    let _ = stop_tx.send(());
    server_rt.block_on(server)??;
    Ok(())
}

fn load(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    use std::io::BufRead;
    let file = std::fs::File::open(path)
        .map_err(|e| anyhow::anyhow!("{}: {e} (pass a label<TAB>text file)", path.display()))?;
    let mut out = Vec::with_capacity(MESSAGES);
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        if let Some((_, text)) = line.split_once('\t') {
            if !text.is_empty() && text.len() <= smishd::defaults::MAX_TEXT_BYTES {
                out.push(text.to_string());
            }
        }
        if out.len() == MESSAGES {
            break;
        }
    }
    anyhow::ensure!(!out.is_empty(), "{}: no messages", path.display());
    Ok(out)
}

/// The engine alone, one thread: the ceiling the server's per-message cost starts from.
fn engine_baseline(texts: &[String]) -> anyhow::Result<()> {
    let engine = smishd::Engine::new()?;
    let started = Instant::now();
    let mut flagged = 0;
    for t in texts {
        if engine.score(&smishd::Message::new(t)).verdict != smishd::Action::Allow {
            flagged += 1;
        }
    }
    let per = started.elapsed() / texts.len() as u32;
    println!(
        "engine alone: {:.2} us/message, {:.0} messages/s on one thread ({flagged} of {} not allowed; ruleset {}, model {})",
        per.as_secs_f64() * 1e6,
        1.0 / per.as_secs_f64(),
        texts.len(),
        engine.ruleset_version(),
        engine.model_version()
    );
    Ok(())
}

async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Vec<ClassifierClient<Channel>>> {
    let mut out = Vec::new();
    for _ in 0..CONNECTIONS {
        let ch = Endpoint::from_shared(format!("http://{addr}"))?
            .tcp_nodelay(true)
            .connect()
            .await?;
        out.push(ClassifierClient::new(ch));
    }
    // Wait for the engine.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match out[0].clone().score(request(0, "warm")).await {
            Ok(_) => return Ok(out),
            Err(e) if Instant::now() < deadline && e.code() == tonic::Code::Unavailable => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Distinct senders messages are sent from (`--senders`); 0: none.
static SENDERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn request(i: usize, text: &str) -> ScoreRequest {
    let senders = SENDERS.load(std::sync::atomic::Ordering::Relaxed);
    ScoreRequest {
        id: i.to_string(),
        text: text.to_string(),
        sender: if senders == 0 {
            String::new()
        } else {
            format!("1{:010}", i % senders)
        },
    }
}

#[derive(Default)]
struct Run {
    sent: usize,
    responses: usize,
    errors: usize,
    elapsed: Duration,
    /// CPU seconds of the whole process (server and client) over the phase, where measured.
    cpu: f64,
    latencies_us: Vec<u32>,
    verdicts: Verdicts,
    versions: BTreeMap<String, u64>,
    /// Responses that named a campaign.
    campaigns: usize,
}

impl Run {
    fn add(&mut self, r: &ScoreResponse) {
        self.responses += 1;
        self.campaigns += usize::from(r.campaign.is_some());
        *self
            .verdicts
            .entry(format!("{}/{}", r.verdict, r.category))
            .or_default() += 1;
        if self.versions.len() < 4 {
            *self
                .versions
                .entry(format!("{}+{}", r.ruleset, r.model))
                .or_default() += 1;
        }
    }

    fn merge(&mut self, o: Run) {
        self.sent += o.sent;
        self.responses += o.responses;
        self.errors += o.errors;
        self.campaigns += o.campaigns;
        self.latencies_us.extend(o.latencies_us);
        for (k, v) in o.verdicts {
            *self.verdicts.entry(k).or_default() += v;
        }
        for (k, v) in o.versions {
            *self.versions.entry(k).or_default() += v;
        }
    }

    fn print(mut self, name: &str) {
        let secs = self.elapsed.as_secs_f64();
        println!("\n== {name}");
        println!(
            "sent {} responses {} errors {} in {:.2} s: {:.0} per second",
            self.sent,
            self.responses,
            self.errors,
            secs,
            self.responses as f64 / secs
        );
        println!("campaigns: {} responses named one", self.campaigns);
        if self.cpu > 0.0 && self.responses > 0 {
            // On a shared machine the rate follows the other work; the CPU a response costs
            // does much less, and compares builds and settings more steadily.
            println!(
                "cpu: {:.2} s, {:.2} us a response (server and client, user + system)",
                self.cpu,
                self.cpu * 1e6 / self.responses as f64
            );
        }
        if !self.latencies_us.is_empty() {
            self.latencies_us.sort_unstable();
            let q = |p: f64| {
                let i = ((self.latencies_us.len() as f64 * p) as usize)
                    .min(self.latencies_us.len() - 1);
                self.latencies_us[i] as f64 / 1000.0
            };
            println!(
                "latency ms: p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
                q(0.50),
                q(0.90),
                q(0.99),
                q(0.999),
                *self.latencies_us.last().unwrap() as f64 / 1000.0
            );
        }
        println!("verdicts: {:?}", self.verdicts);
        println!("versions: {:?}", self.versions);
        if self.errors > 0 || self.responses != self.sent {
            println!(
                "WARNING: {} calls did not get an answer",
                self.sent - self.responses
            );
        }
    }
}

/// `concurrency` tasks, each sending its next call when the last one returns.
async fn unary_closed_loop(
    channels: &[ClassifierClient<Channel>],
    texts: &Arc<Vec<String>>,
    concurrency: usize,
    time: Duration,
    max_calls: usize,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let per_task = max_calls / concurrency;
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let mut client = channels[t % channels.len()].clone();
        let texts = texts.clone();
        tasks.push(tokio::spawn(async move {
            let mut run = Run::default();
            let mut i = t;
            while run.sent < per_task && started.elapsed() < time {
                let req = request(i, &texts[i % texts.len()]);
                i += concurrency;
                run.sent += 1;
                let sent = Instant::now();
                match client.score(req).await {
                    Ok(r) => {
                        run.latencies_us.push(sent.elapsed().as_micros() as u32);
                        run.add(&r.into_inner());
                    }
                    Err(_) => run.errors += 1,
                }
            }
            run
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        total.merge(t.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// Open loop: calls start on a fixed schedule whatever the answers do, so a slow answer shows
/// in the latency instead of lowering the rate. tokio's timer ticks in milliseconds, which
/// would start calls in bursts of five; a plain thread sleeping to each call's due time spaces
/// them evenly instead and hands each call to the client runtime. Latency runs from that
/// hand-over to the answer.
async fn unary_fixed_rate(
    channels: &[ClassifierClient<Channel>],
    texts: &Arc<Vec<String>>,
    rate: u64,
    time: Duration,
) -> anyhow::Result<Run> {
    let total_calls = (rate as f64 * time.as_secs_f64()) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Result<(u32, ScoreResponse), ()>>();
    let handle = tokio::runtime::Handle::current();
    let channels = channels.to_vec();
    let texts = texts.clone();
    let started = Instant::now();
    let pacer = std::thread::spawn(move || {
        for i in 0..total_calls {
            let due = started + interval * i as u32;
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            let mut client = channels[i % channels.len()].clone();
            let req = request(i, &texts[i % texts.len()]);
            let tx = tx.clone();
            let sent = Instant::now();
            handle.spawn(async move {
                let r = client.score(req).await;
                let _ = tx.send(
                    r.map(|r| (sent.elapsed().as_micros() as u32, r.into_inner()))
                        .map_err(|_| ()),
                );
            });
        }
    });
    let mut run = Run {
        sent: total_calls,
        ..Run::default()
    };
    while let Some(r) = rx.recv().await {
        match r {
            Ok((us, resp)) => {
                run.latencies_us.push(us);
                run.add(&resp);
            }
            Err(()) => run.errors += 1,
        }
    }
    run.elapsed = started.elapsed();
    pacer
        .join()
        .map_err(|_| anyhow::anyhow!("pacer thread panicked"))?;
    Ok(run)
}

/// `streams` bidirectional streams, each sending its share of `messages` as fast as flow
/// control lets it, and counting the answers.
async fn streaming(
    channels: &[ClassifierClient<Channel>],
    texts: &Arc<Vec<String>>,
    streams: usize,
    messages: usize,
) -> anyhow::Result<Run> {
    let started = Instant::now();
    let per = messages / streams;
    let mut tasks = Vec::new();
    for s in 0..streams {
        let mut client = channels[s % channels.len()].clone();
        let texts = texts.clone();
        tasks.push(tokio::spawn(async move {
            let outbound = tokio_stream::iter(
                (0..per).map(move |i| request(i, &texts[(i * streams + s) % texts.len()])),
            );
            let mut run = Run {
                sent: per,
                ..Run::default()
            };
            let mut inbound = client.score_stream(outbound).await?.into_inner();
            let mut expect = 0usize;
            while let Some(r) = inbound.message().await? {
                anyhow::ensure!(r.id == expect.to_string(), "stream answered out of order");
                expect += 1;
                run.add(&r);
            }
            anyhow::Ok(run)
        }));
    }
    let mut total = Run::default();
    for t in tasks {
        total.merge(t.await??);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// CPU time of this process (all threads, user and system), in seconds.
fn process_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}
