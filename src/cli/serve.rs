//! `smishd serve`: the gRPC daemon. Reads the configuration, sets up logging, binds the
//! sockets and runs `server::run` until SIGTERM or SIGINT.

use std::io::IsTerminal;

use anyhow::Context;
use clap::Args;
use tokio::signal::unix::{signal, SignalKind};

use super::args::{EngineArgs, Exit};
use crate::server::{self, Config, LogFormat, ServeFlags};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub flags: ServeFlags,
}

pub fn run(args: ServeArgs) -> anyhow::Result<Exit> {
    let config = Config::load(
        &args.flags,
        args.engine.rules.as_deref(),
        args.engine.model.as_deref(),
    )?;
    init_logging(config.log_format);
    withhold_panic_messages();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("smishd")
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(serve(config))?;
    Ok(Exit::Ok)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    // Signal handlers first, so a SIGTERM during start-up is a clean stop, not a kill.
    let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutdown requested"),
            _ = int.recv() => tracing::info!(signal = "SIGINT", "shutdown requested"),
        }
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let metrics = match config.metrics_listen {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr} for metrics"))?,
        ),
        None => None,
    };
    server::run(listener, metrics, config, shutdown).await
}

/// Logs to standard error; RUST_LOG sets the filter (default `info`).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Logs panics without their message: Rust's panic messages can quote the string being worked
/// on (a bad slice prints the text), and message text must never reach the logs.
fn withhold_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(%location, "panic (message withheld: it may quote message text)");
    }));
}
