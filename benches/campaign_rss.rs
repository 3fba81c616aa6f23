//! The daemon's memory under a million distinct messages with the campaign window on: the
//! real `smishd serve` in its own process, fed over gRPC from this one, its resident set
//! sampled every 100,000 messages.
//!
//! ```text
//! cargo bench --bench campaign_rss [-- --messages N] [DATA.tsv]
//! ```
//!
//! Messages are distinct templates: message i joins two texts of DATA.tsv (`label<TAB>text`,
//! default $SMISHD_BENCH_DATA or the cn spam sample of shared/data) picked by i, from a
//! sender of its own. One message in 50 is instead a copy of one synthetic campaign (a parcel
//! refund with a new name, amount and link each time), so the window's signal shows in the
//! responses while the rest floods it. Two ScoreStreams on one connection, 127.0.0.1 only;
//! every message must be answered in order. Prints the server's RSS before the first message
//! and after every 100,000, the responses that named a campaign, and the load average.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::ScoreRequest;
use tonic::transport::Channel;

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/data.rs"]
mod data;

use daemon::{free_port, ready, rss_kib, serve};

const BATCH: usize = 100_000;
const STREAMS: usize = 2;
const NAMES: [&str; 6] = ["张伟", "李娜", "王芳", "刘洋", "陈静", "杨磊"];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let messages: usize = args
        .iter()
        .position(|a| a == "--messages")
        .and_then(|i| args.get(i + 1))
        .map_or(1_000_000, |s| s.parse().expect("--messages N"));
    let data = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--messages"))
        .map(|(_, a)| PathBuf::from(a))
        .unwrap_or_else(|| data::cn_sample("pass a label<TAB>text file"));
    let body =
        std::fs::read_to_string(&data).map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
    let texts: Vec<String> = body
        .lines()
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
        .filter(|t| !t.trim().is_empty())
        .collect();
    anyhow::ensure!(texts.len() > 100, "too few texts in {}", data.display());

    let port = free_port();
    let mut server = serve(port, &["--reload-poll-ms", "0"])?;
    let pid = server.id();
    println!(
        "{messages} messages ({} texts from {}), 1 in 50 a campaign copy; server pid {pid}",
        texts.len(),
        data.display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let result = rt.block_on(async {
        let channel = ready(port, Duration::from_secs(60)).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!("{:>9} messages: RSS {:>7.1} MiB", 0, rss_kib(pid) as f64 / 1024.0);
        let started = Instant::now();
        let (mut named, mut sent) = (0u64, 0usize);
        while sent < messages {
            let n = BATCH.min(messages - sent);
            named += batch(&channel, &texts, sent, n).await?;
            sent += n;
            println!(
                "{sent:>9} messages: RSS {:>7.1} MiB  ({named} responses named a campaign, {:.0} s)",
                rss_kib(pid) as f64 / 1024.0,
                started.elapsed().as_secs_f64()
            );
        }
        anyhow::ensure!(named > 0, "no response named the synthetic campaign");
        anyhow::Ok(())
    });
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let _ = server.wait();
    println!(
        "load average {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    result
}

/// Message `i`: a copy of the synthetic campaign, or two corpus texts joined.
fn message(texts: &[String], i: usize) -> ScoreRequest {
    let n = texts.len();
    let (text, sender) = if i % 50 == 0 {
        (
            format!(
                "【快运理赔】{}先生您好，您的包裹{}在运输中丢失，请访问kuaiyun-pei{}.top/r{} 申请赔付{}元，逾期作废。",
                NAMES[i / 50 % NAMES.len()],
                9_100_000 + i,
                i % 97,
                i % 1000,
                50 + i % 400
            ),
            format!("1770000{:04}", i / 50 % 10_000),
        )
    } else {
        let a = &texts[i % n];
        let b = &texts[(i / n + 1 + i * 7919) % n];
        (format!("{a}。{b}"), format!("1{i:010}"))
    };
    ScoreRequest {
        id: i.to_string(),
        text,
        sender,
    }
}

/// Sends messages `first..first + n` over [`STREAMS`] streams; returns the responses that
/// named a campaign.
async fn batch(channel: &Channel, texts: &[String], first: usize, n: usize) -> anyhow::Result<u64> {
    let mut tasks = Vec::new();
    for s in 0..STREAMS {
        let reqs: Vec<ScoreRequest> = (first + s..first + n)
            .step_by(STREAMS)
            .map(|i| message(texts, i))
            .collect();
        let expect: Vec<String> = reqs.iter().map(|r| r.id.clone()).collect();
        let mut client = ClassifierClient::new(channel.clone());
        tasks.push(tokio::spawn(async move {
            let mut inbound = client
                .score_stream(tokio_stream::iter(reqs))
                .await?
                .into_inner();
            let (mut got, mut named) = (0usize, 0u64);
            while let Some(r) = inbound.message().await? {
                anyhow::ensure!(r.id == expect[got], "stream answered out of order");
                got += 1;
                named += u64::from(r.campaign.is_some());
            }
            anyhow::ensure!(got == expect.len(), "{got} of {} answered", expect.len());
            anyhow::Ok(named)
        }));
    }
    let mut named = 0;
    for t in tasks {
        named += t.await??;
    }
    Ok(named)
}
