//! The gRPC daemon: `smishd.v1.Classifier`, health, reflection, metrics, hot reload.
//!
//! # Layout
//!
//! - `mod.rs`: [`run`], the server's lifecycle (load, serve, reload, drain);
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

pub mod config;
pub mod limits;
pub mod metrics;
pub mod reload;
pub mod service;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwapOption;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::transport::Server;
use tonic_health::ServingStatus;

pub use config::{Config, LogFormat, ServeFlags, TlsFiles};
pub use limits::Limits;
pub use metrics::Metrics;

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

    /// Scores one message, counting fired rules and the verdict.
    pub fn score(&self, msg: &Message<'_>, metrics: &Metrics) -> Verdict {
        let judged = self.engine.judge(msg);
        for fired in judged.evidence.rules.iter().filter(|r| !r.negated) {
            if let Some(c) = self.rule_hits.get(fired.rule as usize) {
                c.fetch_add(1, Relaxed);
            }
        }
        let v = judged.verdict;
        metrics.verdict(v.verdict, v.category);
        v
    }
}

/// State shared by the service, the reloader and the metrics listener for the server's life.
pub struct Shared {
    pub engine: ArcSwapOption<Loaded>,
    pub metrics: Arc<Metrics>,
    pub limits: Limits,
    pub admission: limits::Admission,
}

impl Shared {
    pub fn new(limits: Limits) -> Self {
        Shared {
            engine: ArcSwapOption::empty(),
            metrics: Arc::new(Metrics::new()),
            admission: limits::Admission::new(&limits),
            limits,
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
pub async fn run(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    config: Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    config.validate()?;
    let source = EngineSource {
        rules: config.rules.clone(),
        model: config.model.clone(),
    };
    let shared = Arc::new(Shared::new(config.limits.clone()));
    let (stop_tx, stop_rx) = watch::channel(false);

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

    let mut builder = Server::builder().tcp_nodelay(true);
    if let Some(tls) = &config.tls {
        builder = builder
            .tls_config(tls.load()?)
            .context("tls configuration")?;
    }
    let classifier = service::ClassifierService::new(shared.clone()).into_server();
    let router = builder
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(classifier);

    let local = listener.local_addr()?;
    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
    let mut server_stop = stop_rx.clone();
    let mut server = tokio::spawn(async move {
        router
            .serve_with_incoming_shutdown(incoming, async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await
    });
    tracing::info!(addr = %local, tls = config.tls.is_some(), "grpc listening");

    let metrics_task = match metrics_listener {
        Some(l) => {
            tracing::info!(addr = %l.local_addr()?, "metrics listening");
            Some(tokio::spawn(metrics::serve(
                l,
                shared.metrics.clone(),
                stop_rx.clone(),
            )))
        }
        None => None,
    };

    tokio::pin!(shutdown);
    // Fingerprint before the first build, so a change made while it runs is still seen.
    let fingerprint = reload::fingerprint(&source);
    let first = tokio::task::spawn_blocking({
        let source = source.clone();
        move || source.build()
    });
    let outcome: anyhow::Result<bool> = tokio::select! {
        built = first => match built {
            Ok(Ok(engine)) => {
                shared.install(engine);
                set_health(&health, ServingStatus::Serving).await;
                if let Some(l) = shared.engine.load().as_ref() {
                    tracing::info!(
                        ruleset = l.engine.ruleset_version(),
                        model = l.engine.model_version(),
                        "engine loaded, serving"
                    );
                }
                Ok(true)
            }
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("cannot load the engine")),
            Err(e) => Err(anyhow::anyhow!("engine build panicked: {e}")),
        },
        _ = &mut shutdown => Ok(false),
        ended = &mut server => Err(server_ended(ended)),
    };
    let serving = match outcome {
        Ok(serving) => serving,
        Err(e) => {
            let _ = stop_tx.send(true);
            server.abort();
            return Err(e);
        }
    };

    let mut reloader = None;
    if serving {
        reloader = Some(tokio::spawn(reload::watch(
            shared.clone(),
            source,
            reload::Triggers {
                poll: config.reload_poll(),
                sighup: config.reload_on_sighup,
            },
            fingerprint,
            stop_rx.clone(),
        )));
        tokio::select! {
            _ = &mut shutdown => {}
            ended = &mut server => {
                let _ = stop_tx.send(true);
                return Err(server_ended(ended));
            }
        }
    }

    tracing::info!("shutting down: no new connections, draining calls in flight");
    set_health(&health, ServingStatus::NotServing).await;
    let _ = stop_tx.send(true);
    let grace = config.shutdown_grace();
    let result = match tokio::time::timeout(grace, &mut server).await {
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
            server.abort();
            Ok(())
        }
    };
    if let Some(r) = reloader {
        let _ = r.await;
    }
    if let Some(m) = metrics_task {
        let _ = m.await;
    }
    result
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
