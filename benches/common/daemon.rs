//! What the benchmarks that run `smishd serve` in its own process share (`campaign_rss`,
//! `soak`): starting the release binary on a free loopback port, waiting until it answers a
//! call, and reading its resident memory.

use std::ffi::OsStr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::ScoreRequest;
use tonic::transport::{Channel, Endpoint};

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Starts `smishd serve --listen 127.0.0.1:PORT ARGS...` with warnings only and no output.
pub fn serve<S: AsRef<OsStr>>(port: u16, args: &[S]) -> std::io::Result<Child> {
    Command::new(env!("CARGO_BIN_EXE_smishd"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

/// A channel to the daemon on `port` once it answers a Score call (it answers UNAVAILABLE
/// until its engine is loaded); an error after `limit`.
pub async fn ready(port: u16, limit: Duration) -> anyhow::Result<Channel> {
    let endpoint = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))?;
    let start = Instant::now();
    loop {
        if let Ok(c) = endpoint.connect().await {
            let answered = ClassifierClient::new(c.clone())
                .score(ScoreRequest {
                    id: "w".into(),
                    text: "你好".into(),
                    sender: String::new(),
                })
                .await
                .is_ok();
            if answered {
                return Ok(c);
            }
        }
        anyhow::ensure!(
            start.elapsed() < limit,
            "the server did not answer within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Resident memory of process `pid` in KiB (0 when it cannot be read).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
