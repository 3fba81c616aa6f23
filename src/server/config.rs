//! Server configuration: a TOML file, then environment (`SMISHD_*`) and flags over it; every
//! default comes from `defaults.rs`.
//!
//! Precedence, lowest first: compiled-in defaults, `--config FILE`, environment, flags (clap
//! reads a flag and its `SMISHD_*` variable into the same field, the flag winning). Relative
//! paths in the file are taken relative to the file's own directory, so a config file works
//! from any working directory.
//!
//! ```toml
//! listen = "0.0.0.0:50051"
//! metrics_listen = "127.0.0.1:9464"
//! rules = "/etc/smishd/rules"
//! model = "/etc/smishd/smishd.model"
//! log_format = "json"            # or "text"
//! reload_poll_ms = 1000          # 0: reload on SIGHUP only
//! shutdown_grace_ms = 10000
//!
//! [limits]
//! max_message_bytes = 4194304
//! max_text_bytes = 65536
//! max_batch = 1024
//! max_concurrent_requests = 4096
//! max_concurrent_streams = 256
//! max_id_bytes = 256
//! max_sender_bytes = 128
//!
//! [connections]
//! max_connections = 4096         # lowered to fit the descriptor limit (RLIMIT_NOFILE - 64)
//! handshake_timeout_ms = 10000   # to send the HTTP/2 preface after connecting
//! idle_timeout_ms = 300000       # with no call open
//! keepalive_interval_ms = 60000  # HTTP/2 pings from the server
//! keepalive_timeout_ms = 20000   # unanswered ping: the connection is closed
//!
//! [campaigns]                   # near-duplicate bursts of one template (see campaign/window.rs)
//! enabled = true
//! window_secs = 600              # the window T
//! min_size = 20                  # copies within T before a verdict names the campaign
//! min_senders = 5                # ... from at least this many distinct senders
//! band_slots = 1048576           # 16 bytes each: how far back copies are linked
//! campaign_slots = 65536         # 64 bytes each: templates counted at once
//!
//! [tls]
//! cert = "server.pem"
//! key = "server.key"
//! client_ca = "clients-ca.pem"   # optional: require client certificates (mutual TLS)
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use serde::Deserialize;

use super::conn::Connections;
use super::limits::Limits;
use crate::defaults;

/// Everything `server::run` needs besides its listeners.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    pub metrics_listen: Option<SocketAddr>,
    /// Rule directory; the compiled-in rule set when absent.
    pub rules: Option<PathBuf>,
    /// Model file (`none` for rules only); the compiled-in model when absent.
    pub model: Option<PathBuf>,
    pub log_format: LogFormat,
    /// How often to look for changed rule or model files; 0 turns file watching off.
    pub reload_poll_ms: u64,
    /// Reload on SIGHUP. Off for servers embedded in a process that uses SIGHUP otherwise.
    pub reload_on_sighup: bool,
    pub shutdown_grace_ms: u64,
    pub limits: Limits,
    pub connections: Connections,
    pub campaigns: Campaigns,
    pub tls: Option<TlsFiles>,
}

/// The campaign window's settings (`[campaigns]`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Campaigns {
    pub enabled: bool,
    pub window_secs: u64,
    pub min_size: u32,
    pub min_senders: u32,
    pub band_slots: usize,
    pub campaign_slots: usize,
}

impl Default for Campaigns {
    fn default() -> Self {
        let w = crate::campaign::WindowConfig::default();
        Campaigns {
            enabled: true,
            window_secs: w.window.as_secs(),
            min_size: w.min_size,
            min_senders: w.min_senders,
            band_slots: w.band_slots,
            campaign_slots: w.campaign_slots,
        }
    }
}

impl Campaigns {
    /// The window to run, or `None` when turned off.
    pub fn window(&self) -> Option<crate::campaign::WindowConfig> {
        self.enabled.then(|| crate::campaign::WindowConfig {
            window: Duration::from_secs(self.window_secs),
            min_size: self.min_size,
            min_senders: self.min_senders,
            band_slots: self.band_slots,
            campaign_slots: self.campaign_slots,
        })
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.enabled && (self.window_secs == 0 || self.min_size == 0) {
            bail!("campaigns: window_secs and min_size must be at least 1");
        }
        if self.enabled && (self.band_slots > 1 << 28 || self.campaign_slots > 1 << 24) {
            bail!("campaigns: band_slots is at most 268435456 and campaign_slots at most 16777216");
        }
        Ok(())
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: defaults::LISTEN
                .parse()
                .expect("defaults::LISTEN is an address"),
            metrics_listen: None,
            rules: None,
            model: None,
            log_format: LogFormat::Text,
            reload_poll_ms: defaults::RELOAD_POLL_MS,
            reload_on_sighup: true,
            shutdown_grace_ms: defaults::SHUTDOWN_GRACE_MS,
            limits: Limits::default(),
            connections: Connections::default(),
            campaigns: Campaigns::default(),
            tls: None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// PEM files for TLS. With `client_ca`, clients must present a certificate it signed.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: Option<PathBuf>,
}

impl TlsFiles {
    /// Reads the PEM files into tonic's TLS configuration.
    pub fn load(&self) -> anyhow::Result<tonic::transport::ServerTlsConfig> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let read = |p: &Path| {
            std::fs::read(p).with_context(|| format!("tls: cannot read {}", p.display()))
        };
        let identity = Identity::from_pem(read(&self.cert)?, read(&self.key)?);
        let mut tls = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(read(ca)?));
        }
        Ok(tls)
    }
}

/// The flags of `smishd serve` beyond --rules/--model; each also reads a `SMISHD_*` variable.
#[derive(Clone, Debug, Default, Args)]
pub struct ServeFlags {
    /// gRPC listen address [default: 127.0.0.1:50051].
    #[arg(long, env = "SMISHD_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Prometheus metrics listen address (HTTP, GET /metrics); off when absent.
    #[arg(long, env = "SMISHD_METRICS_LISTEN", value_name = "ADDR")]
    pub metrics_listen: Option<SocketAddr>,
    /// TOML configuration file (flags and SMISHD_* variables override it).
    #[arg(long, env = "SMISHD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on standard error (RUST_LOG sets the level).
    #[arg(long, env = "SMISHD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Milliseconds between looks for changed rule and model files; 0 turns watching off.
    #[arg(long, env = "SMISHD_RELOAD_POLL_MS", value_name = "MS")]
    pub reload_poll_ms: Option<u64>,
    /// Milliseconds a shutdown waits for in-flight calls.
    #[arg(long, env = "SMISHD_SHUTDOWN_GRACE_MS", value_name = "MS")]
    pub shutdown_grace_ms: Option<u64>,
    /// Longest message text in bytes.
    #[arg(long, env = "SMISHD_MAX_TEXT_BYTES", value_name = "N")]
    pub max_text_bytes: Option<usize>,
    /// Largest decoded gRPC message in bytes.
    #[arg(long, env = "SMISHD_MAX_MESSAGE_BYTES", value_name = "N")]
    pub max_message_bytes: Option<usize>,
    /// Most messages in one ScoreBatch.
    #[arg(long, env = "SMISHD_MAX_BATCH", value_name = "N")]
    pub max_batch: Option<usize>,
    /// Most calls in flight at once.
    #[arg(long, env = "SMISHD_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    pub max_concurrent_requests: Option<usize>,
    /// Most ScoreStream calls open at once.
    #[arg(long, env = "SMISHD_MAX_CONCURRENT_STREAMS", value_name = "N")]
    pub max_concurrent_streams: Option<usize>,
    /// Longest request id in bytes.
    #[arg(long, env = "SMISHD_MAX_ID_BYTES", value_name = "N")]
    pub max_id_bytes: Option<usize>,
    /// Longest request sender in bytes.
    #[arg(long, env = "SMISHD_MAX_SENDER_BYTES", value_name = "N")]
    pub max_sender_bytes: Option<usize>,
    /// Most connections open at once (lowered to fit the descriptor limit).
    #[arg(long, env = "SMISHD_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Milliseconds a new connection has to send the HTTP/2 preface.
    #[arg(long, env = "SMISHD_HANDSHAKE_TIMEOUT_MS", value_name = "MS")]
    pub handshake_timeout_ms: Option<u64>,
    /// Milliseconds a connection may stay open with no call.
    #[arg(long, env = "SMISHD_IDLE_TIMEOUT_MS", value_name = "MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Milliseconds between the server's HTTP/2 keepalive pings.
    #[arg(long, env = "SMISHD_KEEPALIVE_INTERVAL_MS", value_name = "MS")]
    pub keepalive_interval_ms: Option<u64>,
    /// Milliseconds a keepalive ping may go unanswered before the connection is closed.
    #[arg(long, env = "SMISHD_KEEPALIVE_TIMEOUT_MS", value_name = "MS")]
    pub keepalive_timeout_ms: Option<u64>,
    /// Server certificate chain (PEM); turns TLS on, with --tls-key.
    #[arg(
        long,
        env = "SMISHD_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// Server private key (PEM).
    #[arg(
        long,
        env = "SMISHD_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// CA certificate (PEM) that client certificates must chain to: mutual TLS.
    #[arg(long, env = "SMISHD_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
}

impl Config {
    /// Parses a TOML config file, resolving its relative paths against its directory.
    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config {}", path.display()))?;
        let mut config: Config =
            toml::from_str(&text).with_context(|| format!("config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() && p.as_os_str() != "none" {
                *p = base.join(&*p);
            }
        };
        config.rules.as_mut().map(resolve);
        config.model.as_mut().map(resolve);
        if let Some(tls) = &mut config.tls {
            resolve(&mut tls.cert);
            resolve(&mut tls.key);
            tls.client_ca.as_mut().map(resolve);
        }
        Ok(config)
    }

    /// The file (when given), then flags and environment over it; validated.
    pub fn load(
        flags: &ServeFlags,
        rules: Option<&Path>,
        model: Option<&Path>,
    ) -> anyhow::Result<Config> {
        let mut c = match &flags.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        // --rules/--model come from the shared EngineArgs, which have no env of their own.
        let env_path = |name: &str| std::env::var_os(name).map(PathBuf::from);
        if let Some(r) = rules
            .map(Path::to_path_buf)
            .or_else(|| env_path("SMISHD_RULES"))
        {
            c.rules = Some(r);
        }
        if let Some(m) = model
            .map(Path::to_path_buf)
            .or_else(|| env_path("SMISHD_MODEL"))
        {
            c.model = Some(m);
        }
        macro_rules! over {
            ($($field:ident => $target:expr),* $(,)?) => {
                $(if let Some(v) = flags.$field.clone() { $target = v; })*
            };
        }
        over! {
            listen => c.listen,
            log_format => c.log_format,
            reload_poll_ms => c.reload_poll_ms,
            shutdown_grace_ms => c.shutdown_grace_ms,
            max_text_bytes => c.limits.max_text_bytes,
            max_message_bytes => c.limits.max_message_bytes,
            max_batch => c.limits.max_batch,
            max_concurrent_requests => c.limits.max_concurrent_requests,
            max_concurrent_streams => c.limits.max_concurrent_streams,
            max_id_bytes => c.limits.max_id_bytes,
            max_sender_bytes => c.limits.max_sender_bytes,
            max_connections => c.connections.max_connections,
            handshake_timeout_ms => c.connections.handshake_timeout_ms,
            idle_timeout_ms => c.connections.idle_timeout_ms,
            keepalive_interval_ms => c.connections.keepalive_interval_ms,
            keepalive_timeout_ms => c.connections.keepalive_timeout_ms,
        }
        if flags.metrics_listen.is_some() {
            c.metrics_listen = flags.metrics_listen;
        }
        if let (Some(cert), Some(key)) = (&flags.tls_cert, &flags.tls_key) {
            c.tls = Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: flags.tls_client_ca.clone(),
            });
        } else if let Some(ca) = &flags.tls_client_ca {
            match &mut c.tls {
                Some(tls) => tls.client_ca = Some(ca.clone()),
                None => bail!("--tls-client-ca needs --tls-cert and --tls-key"),
            }
        }
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.limits.validate().map_err(anyhow::Error::msg)?;
        self.connections.validate().map_err(anyhow::Error::msg)?;
        self.campaigns.validate()?;
        if self
            .metrics_listen
            .is_some_and(|m| m == self.listen && m.port() != 0)
        {
            bail!(
                "metrics_listen and listen are the same address ({})",
                self.listen
            );
        }
        Ok(())
    }

    pub fn reload_poll(&self) -> Option<Duration> {
        (self.reload_poll_ms > 0).then(|| Duration::from_millis(self.reload_poll_ms))
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_settings_from_file_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smishd.toml");
        std::fs::write(
            &path,
            "[connections]\nmax_connections = 100\nidle_timeout_ms = 5000\nkeepalive_interval_ms = 7000\n[limits]\nmax_id_bytes = 64\n",
        )
        .unwrap();
        let flags = ServeFlags {
            config: Some(path.clone()),
            idle_timeout_ms: Some(9000),
            keepalive_timeout_ms: Some(3000),
            max_sender_bytes: Some(32),
            ..ServeFlags::default()
        };
        let c = Config::load(&flags, None, None).unwrap();
        let want = Connections {
            max_connections: 100,
            handshake_timeout_ms: defaults::HANDSHAKE_TIMEOUT_MS,
            idle_timeout_ms: 9000,
            keepalive_interval_ms: 7000,
            keepalive_timeout_ms: 3000,
        };
        assert_eq!(c.connections, want);
        assert_eq!((c.limits.max_id_bytes, c.limits.max_sender_bytes), (64, 32));
        std::fs::write(&path, "[connections]\nhandshake_timeout_ms = 0\n").unwrap();
        let err = Config::load(&flags, None, None).unwrap_err();
        assert!(
            format!("{err:#}").contains("handshake_timeout_ms"),
            "{err:#}"
        );
    }

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smishd.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:6000\"\nrules = \"myrules\"\n[limits]\nmax_batch = 10\nmax_text_bytes = 100\n",
        )
        .unwrap();
        let flags = ServeFlags {
            config: Some(path),
            max_batch: Some(20),
            ..ServeFlags::default()
        };
        let c = Config::load(&flags, None, None).unwrap();
        assert_eq!(c.listen, "127.0.0.1:6000".parse().unwrap());
        assert_eq!(c.rules, Some(dir.path().join("myrules")));
        assert_eq!(c.limits.max_batch, 20);
        assert_eq!(c.limits.max_text_bytes, 100);
        assert_eq!(
            c.limits.max_concurrent_streams,
            defaults::MAX_CONCURRENT_STREAMS
        );
    }

    #[test]
    fn campaigns_on_by_default_and_configurable() {
        let c = Config::default();
        assert!(c.campaigns.window().is_some());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smishd.toml");
        std::fs::write(&path, "[campaigns]\nwindow_secs = 60\nmin_size = 3\n").unwrap();
        let w = Config::from_file(&path)
            .unwrap()
            .campaigns
            .window()
            .unwrap();
        assert_eq!((w.window.as_secs(), w.min_size), (60, 3));
        std::fs::write(&path, "[campaigns]\nenabled = false\n").unwrap();
        assert!(Config::from_file(&path)
            .unwrap()
            .campaigns
            .window()
            .is_none());
        std::fs::write(&path, "[campaigns]\nmin_size = 0\n").unwrap();
        assert!(Config::from_file(&path).unwrap().validate().is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("smishd.toml");
        std::fs::write(&path, "[limits]\nmax_bacth = 10\n").unwrap();
        let err = Config::from_file(&path).unwrap_err();
        assert!(format!("{err:#}").contains("max_bacth"), "{err:#}");
    }

    #[test]
    fn defaults_listen_on_loopback() {
        let c = Config::load(&ServeFlags::default(), None, None).unwrap();
        assert_eq!(c.listen.to_string(), defaults::LISTEN);
        assert!(c.tls.is_none());
    }
}
