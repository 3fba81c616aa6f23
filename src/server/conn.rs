//! Connections: the accept loop and the life of each connection.
//!
//! - **A cap.** At most `max_connections` are open; one more is accepted and closed at once
//!   (counted as refused), so a flood never takes the descriptors the server needs. The cap is
//!   lowered to fit the process's descriptor limit when that is smaller.
//! - **Back-off on accept errors.** When `accept` fails (EMFILE, ENFILE, ENOBUFS), the waiting
//!   connection stays in the kernel's queue and the listener stays readable: retrying at once
//!   spins a core. The loop sleeps instead, 10 ms doubling to 1 s, and logs once per burst.
//! - **A handshake timeout.** A connection must send the HTTP/2 preface within
//!   `handshake_timeout_ms` of being accepted, or it is closed.
//! - **An idle timeout.** A connection with no call open for `idle_timeout_ms` is closed.
//!   HTTP/2 keepalive pings (set on the server builder) find peers that vanished mid-call.
//!
//! Both timeouts live in [`Conn`], the connection's I/O: when one passes, the next read fails
//! and hyper drops the connection. The calls open on a connection are counted by the call
//! layer (`calls.rs`) through the [`ConnInfo`] tonic puts in each request's extensions.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Sleep;
use tokio_stream::Stream;
use tonic::transport::server::Connected;

use super::metrics::Metrics;
use crate::defaults;

/// Connection settings (`[connections]` in the config file). Defaults are in `defaults.rs`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Connections {
    /// Most connections open at once; more are accepted and closed at once.
    pub max_connections: usize,
    /// Time a new connection has to send the HTTP/2 preface, milliseconds.
    pub handshake_timeout_ms: u64,
    /// Time a connection may stay open with no call, milliseconds.
    pub idle_timeout_ms: u64,
    /// Interval of the server's HTTP/2 keepalive pings, milliseconds.
    pub keepalive_interval_ms: u64,
    /// Time a keepalive ping may go unanswered before the connection is closed, milliseconds.
    pub keepalive_timeout_ms: u64,
}

impl Default for Connections {
    fn default() -> Self {
        Connections {
            max_connections: defaults::MAX_CONNECTIONS,
            handshake_timeout_ms: defaults::HANDSHAKE_TIMEOUT_MS,
            idle_timeout_ms: defaults::IDLE_TIMEOUT_MS,
            keepalive_interval_ms: defaults::KEEPALIVE_INTERVAL_MS,
            keepalive_timeout_ms: defaults::KEEPALIVE_TIMEOUT_MS,
        }
    }
}

impl Connections {
    pub fn validate(&self) -> Result<(), String> {
        let named = [
            ("max_connections", self.max_connections as u64),
            ("handshake_timeout_ms", self.handshake_timeout_ms),
            ("idle_timeout_ms", self.idle_timeout_ms),
            ("keepalive_interval_ms", self.keepalive_interval_ms),
            ("keepalive_timeout_ms", self.keepalive_timeout_ms),
        ];
        for (name, value) in named {
            if value == 0 {
                return Err(format!("connections.{name} must be at least 1 (got 0)"));
            }
        }
        Ok(())
    }

    /// The cap in force: `max_connections`, lowered so that connections leave
    /// [`RESERVED_DESCRIPTORS`] of the process's descriptor limit free.
    pub fn effective_max(&self) -> usize {
        match descriptor_limit() {
            Some(n) => self
                .max_connections
                .min(n.saturating_sub(RESERVED_DESCRIPTORS).max(1)),
            None => self.max_connections,
        }
    }
}

/// Descriptors kept free of connections: the listeners, the metrics endpoint's connections,
/// rule files read on reload, logs.
pub const RESERVED_DESCRIPTORS: usize = 64;

/// The soft RLIMIT_NOFILE, when there is one.
fn descriptor_limit() -> Option<usize> {
    let mut rl = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl) };
    if rc != 0 || rl.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    usize::try_from(rl.rlim_cur).ok()
}

/// The length of the HTTP/2 client preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`).
const PREFACE_BYTES: usize = 24;

/// First pause after a failed accept; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// Shortest time between two log lines about refused connections or accept errors.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// The accepted connections of a listener, as tonic takes them. Never yields an error: accept
/// errors are counted, logged and waited out here.
pub struct Incoming {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    limit: usize,
    timeouts: Timeouts,
    metrics: Arc<Metrics>,
    backoff: Duration,
    pause: Option<Pin<Box<Sleep>>>,
    refused_log: RateLog,
    error_log: RateLog,
}

#[derive(Clone, Copy)]
struct Timeouts {
    handshake: Duration,
    idle: Duration,
}

impl Incoming {
    pub fn new(listener: TcpListener, config: &Connections, metrics: Arc<Metrics>) -> Self {
        let limit = config.effective_max();
        if limit < config.max_connections {
            tracing::warn!(
                max_connections = config.max_connections,
                in_force = limit,
                "the descriptor limit is below max_connections; lowering the connection cap"
            );
        }
        Incoming {
            listener,
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            timeouts: Timeouts {
                handshake: Duration::from_millis(config.handshake_timeout_ms),
                idle: Duration::from_millis(config.idle_timeout_ms),
            },
            metrics,
            backoff: Duration::ZERO,
            pause: None,
            refused_log: RateLog::default(),
            error_log: RateLog::default(),
        }
    }

    /// The connection cap in force.
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn admit(&mut self, stream: TcpStream, remote: SocketAddr) -> Option<Conn> {
        match self.slots.clone().try_acquire_owned() {
            Ok(slot) => {
                let _ = stream.set_nodelay(true);
                Some(Conn::new(
                    stream,
                    remote,
                    slot,
                    self.timeouts,
                    self.metrics.clone(),
                ))
            }
            Err(_) => {
                // Closed at once: the descriptor is free again and the client sees a reset
                // or an end of stream it can retry on, instead of a hang.
                drop(stream);
                self.metrics.connection_refused();
                if let Some(n) = self.refused_log.tick() {
                    tracing::info!(
                        limit = self.limit,
                        refused = n,
                        "connection cap reached; refusing connections"
                    );
                }
                None
            }
        }
    }
}

impl Stream for Incoming {
    type Item = Result<Conn, std::convert::Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(pause) = &mut this.pause {
                ready!(pause.as_mut().poll(cx));
                this.pause = None;
            }
            match ready!(this.listener.poll_accept(cx)) {
                Ok((stream, remote)) => {
                    this.backoff = Duration::ZERO;
                    if let Some(conn) = this.admit(stream, remote) {
                        return Poll::Ready(Some(Ok(conn)));
                    }
                }
                // The peer gave up before we took the connection: nothing to wait for.
                Err(e) if is_peer_error(&e) => {}
                Err(e) => {
                    this.metrics.accept_error();
                    this.backoff = (this.backoff * 2).clamp(MIN_BACKOFF, MAX_BACKOFF);
                    if let Some(n) = this.error_log.tick() {
                        tracing::warn!(
                            error = %e,
                            errors = n,
                            retry_in_ms = this.backoff.as_millis() as u64,
                            "accept failed; backing off"
                        );
                    }
                    this.pause = Some(Box::pin(tokio::time::sleep(this.backoff)));
                }
            }
        }
    }
}

fn is_peer_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// Logs the first event of a burst, then at most once per [`LOG_EVERY`] with the count since.
#[derive(Default)]
struct RateLog {
    last: Option<Instant>,
    count: u64,
}

impl RateLog {
    /// Counts an event; returns the count to log when a line is due.
    fn tick(&mut self) -> Option<u64> {
        self.count += 1;
        let now = Instant::now();
        if self.last.is_some_and(|t| now.duration_since(t) < LOG_EVERY) {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.count))
    }
}

/// Connections closed since the last trim that make a trim worth it (a few MiB of buffers).
const TRIM_AFTER_CLOSED: u64 = 256;
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Gives memory back to the system after a connection storm, until shutdown.
///
/// Each connection's buffers are freed when it closes, but the allocator keeps the freed
/// pages for reuse: after 9,000 silent connections came and went, the server's RSS stayed at
/// 4x its baseline. Every few seconds, when many connections have closed since the last
/// look, `malloc_trim` returns the free pages (a few milliseconds, off the runtime's workers).
pub async fn trim_after_storms(metrics: Arc<Metrics>, mut shutdown: super::Shutdown) {
    let mut high = metrics.open_connections();
    loop {
        tokio::select! {
            _ = shutdown.wait() => return,
            _ = tokio::time::sleep(TRIM_EVERY) => {}
        }
        let open = metrics.open_connections();
        if high >= open + TRIM_AFTER_CLOSED {
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
            high = open;
        } else {
            high = high.max(open);
        }
    }
}

fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// What the call layer and the connection share: calls open now, and since when none is.
#[derive(Debug)]
pub struct Activity {
    calls: AtomicUsize,
    /// Milliseconds from `born` to the end of the last call.
    idle_since_ms: AtomicU64,
    born: Instant,
}

impl Activity {
    fn new() -> Self {
        Activity {
            calls: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
            born: Instant::now(),
        }
    }

    pub fn call_started(&self) {
        self.calls.fetch_add(1, Relaxed);
    }

    pub fn call_ended(&self) {
        self.touch();
        self.calls.fetch_sub(1, Relaxed);
    }

    /// Restarts the idle clock.
    fn touch(&self) {
        self.idle_since_ms
            .store(self.born.elapsed().as_millis() as u64, Relaxed);
    }

    /// When the connection times out for idleness, if no call is open.
    fn idle_deadline(&self, idle: Duration) -> Option<Instant> {
        if self.calls.load(Relaxed) > 0 {
            return None;
        }
        let since = Duration::from_millis(self.idle_since_ms.load(Relaxed));
        Some(self.born + since + idle)
    }
}

/// The connection info tonic copies into each request's extensions.
#[derive(Clone, Debug)]
pub struct ConnInfo {
    pub remote: SocketAddr,
    pub activity: Arc<Activity>,
}

/// One accepted connection: the socket, its slot under the cap, and its timeouts.
pub struct Conn {
    io: TcpStream,
    remote: SocketAddr,
    activity: Arc<Activity>,
    timeouts: Timeouts,
    /// Preface bytes still to come; 0 once the handshake phase is over.
    preface_left: usize,
    timer: Pin<Box<Sleep>>,
    timed_out: bool,
    metrics: Arc<Metrics>,
    _slot: OwnedSemaphorePermit,
}

impl Conn {
    fn new(
        io: TcpStream,
        remote: SocketAddr,
        slot: OwnedSemaphorePermit,
        timeouts: Timeouts,
        metrics: Arc<Metrics>,
    ) -> Self {
        metrics.connection_opened();
        let timer = Box::pin(tokio::time::sleep(timeouts.handshake));
        Conn {
            io,
            remote,
            activity: Arc::new(Activity::new()),
            timeouts,
            preface_left: PREFACE_BYTES,
            timer,
            timed_out: false,
            metrics,
            _slot: slot,
        }
    }

    /// Polls the timer; Ready when the connection has timed out. Re-arms it otherwise, so a
    /// timer is always set and no state change can be missed.
    fn poll_timeout(&mut self, cx: &mut Context<'_>) -> Poll<&'static str> {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let now = Instant::now();
            if self.preface_left > 0 {
                return Poll::Ready("handshake");
            }
            let next = match self.activity.idle_deadline(self.timeouts.idle) {
                Some(deadline) if deadline <= now => return Poll::Ready("idle"),
                Some(deadline) => deadline,
                // Calls open: look again after a full idle period.
                None => now + self.timeouts.idle,
            };
            self.timer.as_mut().reset(next.into());
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.metrics.connection_closed();
    }
}

impl Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        ConnInfo {
            remote: self.remote,
            activity: self.activity.clone(),
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.timed_out {
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        let before = buf.filled().len();
        if let Poll::Ready(r) = Pin::new(&mut this.io).poll_read(cx, buf) {
            if this.preface_left > 0 {
                let n = buf.filled().len() - before;
                this.preface_left = this.preface_left.saturating_sub(n);
                if this.preface_left == 0 {
                    // Handshake over: the idle clock starts now.
                    this.activity.touch();
                    let deadline = Instant::now() + this.timeouts.idle;
                    this.timer.as_mut().reset(deadline.into());
                }
            }
            return Poll::Ready(r);
        }
        match this.poll_timeout(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(phase) => {
                this.timed_out = true;
                this.metrics.connection_timed_out(phase == "handshake");
                tracing::debug!(phase, "closing a connection that timed out");
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("{phase} timeout"),
                )))
            }
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_deadline_waits_for_open_calls() {
        let a = Activity::new();
        let idle = Duration::from_secs(5);
        assert!(a.idle_deadline(idle).unwrap() <= Instant::now() + idle);
        a.call_started();
        assert_eq!(a.idle_deadline(idle), None);
        a.call_started();
        a.call_ended();
        assert_eq!(a.idle_deadline(idle), None, "one call still open");
        a.call_ended();
        let d = a.idle_deadline(idle).unwrap();
        assert!(
            d > Instant::now() + Duration::from_secs(4),
            "clock restarted"
        );
    }

    #[test]
    fn rate_log_reports_bursts_with_counts() {
        let mut log = RateLog::default();
        assert_eq!(log.tick(), Some(1));
        assert_eq!(log.tick(), None);
        assert_eq!(log.tick(), None);
        log.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(log.tick(), Some(3));
    }

    #[test]
    fn zero_settings_are_refused() {
        let c = Connections {
            idle_timeout_ms: 0,
            ..Connections::default()
        };
        assert!(c.validate().unwrap_err().contains("idle_timeout_ms"));
        assert!(Connections::default().effective_max() >= 1);
    }
}
