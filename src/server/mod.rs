//! The gRPC daemon: `smishd.v1.Classifier`, health, reflection, metrics, hot reload.
//!
//! # Layout
//!
//! - `mod.rs`: [`run`], the server's lifecycle in phases (start, load, serve, drain) and the
//!   [`Shutdown`] signal its tasks share;
//! - `conn.rs`: connections: the accept loop (a cap, back-off on accept errors) and each
//!   connection's handshake and idle timeouts;
//! - `calls.rs`: a layer around every call: calls in flight, refusals made before a call
//!   reaches the service;
//! - `service.rs`: the tonic adapter: request -> Message, Verdict -> response, failure -> Status;
//! - `reload.rs`: SIGHUP and file-change reloads, built off the request path and swapped in;
//! - `config.rs`: TOML file, environment and flags;
//! - `limits.rs`: sizes, counts, concurrency and deadlines;
//! - `metrics.rs`: Prometheus counters and histograms and their HTTP listener.
//!
//! # Lifecycle of the engine
//!
//! [`Shared`] holds the serving engine in an `ArcSwapOption`: empty until the first load
//! (health says NOT_SERVING, calls get UNAVAILABLE), then swapped whole by each reload. A call
//! loads the `Arc` once and scores on it, so a call in flight during a swap finishes on the old
//! engine, which is freed when its last call ends.

mod calls;
pub mod config;
pub mod conn;
pub mod limits;
pub mod metrics;
pub mod reload;
pub mod service;
pub mod wire;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwapOption;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Server;
use tonic_health::ServingStatus;

pub use config::{Config, LogFormat, ServeFlags, TlsFiles};
pub use limits::Limits;
pub use metrics::Metrics;

use crate::analysis::Analysis;
use crate::campaign::fingerprint::hash_str;
use crate::campaign::{Fingerprint, Window};
use crate::engine::{Engine, Message};
use crate::verdict::Verdict;

/// The generated `smishd.v1` types, client and server, and the descriptor set for reflection.
pub mod proto {
    tonic::include_proto!("smishd.v1");

    /// Encoded `FileDescriptorSet` of proto/smishd/v1, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/smishd_v1_descriptor.bin"));
}

/// The service name health reports on, besides the whole server ("").
pub const SERVICE_NAME: &str = "smishd.v1.Classifier";

/// Where engines come from: the same paths at start and at every reload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineSource {
    pub rules: Option<PathBuf>,
    pub model: Option<PathBuf>,
}

impl EngineSource {
    /// Builds an engine: slow (milliseconds to seconds), synchronous; run it off the runtime.
    pub fn build(&self) -> crate::Result<Engine> {
        Engine::from_paths(self.rules.as_deref(), self.model.as_deref())
    }
}

/// A serving engine with its per-rule hit counters, resolved once at load so that counting a
/// hit on the request path is an index and an atomic add.
pub struct Loaded {
    pub engine: Engine,
    rule_hits: Vec<Arc<AtomicU64>>,
}

impl Loaded {
    pub fn new(engine: Engine, metrics: &Metrics) -> Self {
        let rule_hits = engine
            .rules()
            .rules()
            .iter()
            .map(|r| metrics.rule_counter(&r.id))
            .collect();
        Loaded { engine, rule_hits }
    }

    /// Scores one message, counting fired rules and the verdict; with a campaign window,
    /// counts the message's template in it and names the campaign in the verdict once the
    /// template has reached the window's threshold.
    pub fn score(
        &self,
        msg: &Message<'_>,
        metrics: &Metrics,
        campaigns: Option<&Window>,
    ) -> Verdict {
        // The fingerprint is taken from the analysis the verdict is made from, so the text is
        // normalised once.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Analysis> = std::cell::RefCell::default();
        }
        let (judged, campaign) = SCRATCH.with(|cell| {
            let mut fresh = Analysis::default();
            let mut borrowed = cell.try_borrow_mut();
            let analysis = match &mut borrowed {
                Ok(a) => &mut **a,
                Err(_) => &mut fresh,
            };
            // The fingerprint's entries in the window are fetched while the rules run.
            let probe = self.engine.analyze_into_with(msg, analysis, |normalized| {
                let w = campaigns?;
                Some((w, w.probe(&Fingerprint::of(normalized.as_str())?)))
            });
            // Counted before the verdict is made, so that rules with `campaign_min_size` see
            // the campaign this very copy belongs to.
            let campaign = probe.and_then(|(w, p)| w.observe(&p, msg.sender.map(hash_str)));
            let msg = msg.with_campaign(campaign);
            (self.engine.judge_analysis(&msg, analysis), campaign)
        });
        for fired in judged.evidence.rules.iter().filter(|r| !r.negated) {
            if let Some(c) = self.rule_hits.get(fired.rule as usize) {
                c.fetch_add(1, Relaxed);
            }
        }
        let mut v = judged.verdict;
        metrics.verdict(v.verdict, v.category);
        if campaign.is_some() {
            metrics.campaign_signal();
            v.campaign = campaign;
        }
        v
    }
}

/// State shared by the service, the reloader and the metrics listener for the server's life.
pub struct Shared {
    pub engine: ArcSwapOption<Loaded>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub admission: limits::Admission,
    /// The campaign window (daemon state beside the engines, kept across reloads); `None`
    /// when campaigns are turned off.
    pub campaigns: Option<Arc<Window>>,
}

impl Shared {
    pub fn new(limits: Limits) -> Self {
        Shared {
            engine: ArcSwapOption::empty(),
            metrics: Arc::new(Metrics::new()),
            admission: limits::Admission::new(&limits),
            limits,
            campaigns: None,
        }
    }

    /// Puts a new engine in service. Calls already holding the old one finish on it.
    pub fn install(&self, engine: Engine) {
        let loaded = Loaded::new(engine, &self.metrics);
        self.metrics.reloaded(
            loaded.engine.ruleset_version(),
            loaded.engine.model_version(),
        );
        self.engine.store(Some(Arc::new(loaded)));
    }
}

/// Runs the server on `listener` (and the metrics endpoint on `metrics_listener`) until
/// `shutdown` resolves, then stops accepting, drains calls in flight (at most
/// `config.shutdown_grace()`), and returns.
///
/// The caller binds the sockets, so tests bind `127.0.0.1:0`. The engine is built after the
/// server starts accepting: until it is ready, health reports NOT_SERVING and calls get
/// UNAVAILABLE. If it cannot be built, the server stops and the error is returned.
///
/// Four phases, each its own function: [`start`] (accept connections, health NOT_SERVING),
/// [`Running::load`] (the first engine), [`Running::serve`] (reloads, until shutdown), and
/// [`Running::drain`].
pub async fn run(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    config.validate()?;
    let mut running = start(listener, metrics_listener, &config).await?;
    tokio::pin!(shutdown);
    let result = match running.load(&config, &mut shutdown).await {
        Ok(Some(fingerprint)) => running.serve(&config, fingerprint, &mut shutdown).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => running.drain(config.shutdown_grace()).await,
        Err(e) => {
            running.abort().await;
            Err(e)
        }
    }
}

/// The stop signal every task of the server listens to: `run` holds the [`Stop`], each task
/// a [`Shutdown`]; after the stop, `Shutdown::wait` returns at once.
pub struct Stop(watch::Sender<bool>);

#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Stop {
    pub fn new() -> (Stop, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (Stop(tx), Shutdown(rx))
    }

    pub fn stop(&self) {
        let _ = self.0.send(true);
    }
}

impl Shutdown {
    /// Resolves when the server stops (at once if it has).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|s| *s).await;
    }

    pub fn is_shutdown(&self) -> bool {
        *self.0.borrow()
    }
}

/// A server that accepts connections: its tasks and what they share.
struct Running {
    shared: Arc<Shared>,
    health: tonic_health::server::HealthReporter,
    stop: Stop,
    shutdown: Shutdown,
    server: JoinHandle<Result<(), tonic::transport::Error>>,
    metrics: Option<JoinHandle<()>>,
    reloader: Option<JoinHandle<()>>,
    source: EngineSource,
}

/// Start: health NOT_SERVING, the gRPC services and the metrics endpoint accepting.
async fn start(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: &Config,
) -> anyhow::Result<Running> {
    let mut shared = Shared::new(config.limits.clone());
    shared.campaigns = config.campaigns.window().map(|w| Arc::new(Window::new(w)));
    if let Some(w) = &shared.campaigns {
        shared.metrics.watch_campaigns(w.clone());
    }
    let shared = Arc::new(shared);
    let (stop, shutdown) = Stop::new();

    let (health, health_service) = tonic_health::server::health_reporter();
    set_health(&health, ServingStatus::NotServing).await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .context("reflection v1")?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .context("reflection v1alpha")?;

    let conns = &config.connections;
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_millis(conns.keepalive_interval_ms)))
        .http2_keepalive_timeout(Some(Duration::from_millis(conns.keepalive_timeout_ms)));
    if let Some(tls) = &config.tls {
        builder = builder
            .tls_config(tls.load()?)
            .context("tls configuration")?;
    }
    let classifier = service::ClassifierService::new(shared.clone()).into_server();
    let router = builder
        .layer(calls::CallLayer::new(shared.metrics.clone()))
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(classifier);

    let local = listener.local_addr()?;
    let incoming = conn::Incoming::new(listener, conns, shared.metrics.clone());
    let cap = incoming.limit();
    let mut server_stop = shutdown.clone();
    let server = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, server_stop.wait())
            .await
    });
    tracing::info!(
        addr = %local,
        tls = config.tls.is_some(),
        max_connections = cap,
        "grpc listening"
    );

    tokio::spawn(conn::trim_after_storms(
        shared.metrics.clone(),
        shutdown.clone(),
    ));
    let metrics = match metrics_listener {
        Some(l) => {
            tracing::info!(addr = %l.local_addr()?, "metrics listening");
            Some(tokio::spawn(metrics::serve(
                l,
                shared.metrics.clone(),
                shutdown.clone(),
            )))
        }
        None => None,
    };
    Ok(Running {
        shared,
        health,
        stop,
        shutdown,
        server,
        metrics,
        reloader: None,
        source: EngineSource {
            rules: config.rules.clone(),
            model: config.model.clone(),
        },
    })
}

impl Running {
    /// Load: builds the first engine off the runtime and puts it in service. `Ok(None)` when
    /// shutdown came first; otherwise the fingerprint of the files it was built from.
    async fn load(
        &mut self,
        _config: &Config,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> anyhow::Result<Option<reload::Fingerprint>> {
        // Fingerprint before the first build, so a change made while it runs is still seen.
        let fingerprint = reload::fingerprint(&self.source);
        let first = tokio::task::spawn_blocking({
            let source = self.source.clone();
            move || source.build()
        });
        tokio::select! {
            built = first => match built {
                Ok(Ok(engine)) => {
                    self.shared.install(engine);
                    set_health(&self.health, ServingStatus::Serving).await;
                    if let Some(l) = self.shared.engine.load().as_ref() {
                        tracing::info!(
                            ruleset = l.engine.ruleset_version(),
                            model = l.engine.model_version(),
                            "engine loaded, serving"
                        );
                    }
                    Ok(Some(fingerprint))
                }
                Ok(Err(e)) => Err(anyhow::Error::new(e).context("cannot load the engine")),
                Err(e) => Err(anyhow::anyhow!("engine build panicked: {e}")),
            },
            _ = shutdown => Ok(None),
            ended = &mut self.server => Err(server_ended(ended)),
        }
    }

    /// Serve: reloads run beside the server until shutdown (or until the server fails).
    async fn serve(
        &mut self,
        config: &Config,
        fingerprint: reload::Fingerprint,
        shutdown: &mut (impl Future<Output = ()> + Unpin),
    ) -> anyhow::Result<()> {
        self.reloader = Some(tokio::spawn(reload::watch(
            self.shared.clone(),
            self.source.clone(),
            reload::Triggers {
                poll: config.reload_poll(),
                sighup: config.reload_on_sighup,
            },
            fingerprint,
            self.shutdown.clone(),
        )));
        tokio::select! {
            _ = shutdown => Ok(()),
            ended = &mut self.server => Err(server_ended(ended)),
        }
    }

    /// Drain: health NOT_SERVING, no new connections, calls in flight finish within `grace`
    /// (then they are closed); every task is joined.
    async fn drain(mut self, grace: Duration) -> anyhow::Result<()> {
        tracing::info!("shutting down: no new connections, draining calls in flight");
        set_health(&self.health, ServingStatus::NotServing).await;
        self.stop.stop();
        let result = match tokio::time::timeout(grace, &mut self.server).await {
            Ok(Ok(Ok(()))) => {
                tracing::info!("drained, stopped");
                Ok(())
            }
            Ok(ended) => Err(server_ended(ended)),
            Err(_) => {
                tracing::warn!(
                    grace_ms = grace.as_millis() as u64,
                    "calls still open after the grace period; closing them"
                );
                self.server.abort();
                Ok(())
            }
        };
        self.join().await;
        result
    }

    /// Stops everything at once (after a failure).
    async fn abort(mut self) {
        self.stop.stop();
        self.server.abort();
        self.join().await;
    }

    async fn join(&mut self) {
        debug_assert!(self.shutdown.is_shutdown());
        if let Some(r) = self.reloader.take() {
            let _ = r.await;
        }
        if let Some(m) = self.metrics.take() {
            let _ = m.await;
        }
    }
}

fn server_ended(
    ended: Result<Result<(), tonic::transport::Error>, tokio::task::JoinError>,
) -> anyhow::Error {
    match ended {
        Ok(Ok(())) => anyhow::anyhow!("grpc server stopped unexpectedly"),
        Ok(Err(e)) => anyhow::Error::new(e).context("grpc server failed"),
        Err(e) => anyhow::anyhow!("grpc server task failed: {e}"),
    }
}

/// Health of the whole server ("") and of the classifier service, always set together.
async fn set_health(health: &tonic_health::server::HealthReporter, status: ServingStatus) {
    health.set_service_status("", status).await;
    health.set_service_status(SERVICE_NAME, status).await;
}
