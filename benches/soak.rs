//! Soak test of `smishd serve`: steady load from this (second) process on loopback for several
//! minutes while the rule set is reloaded every few seconds, some reloads broken on purpose.
//!
//! ```text
//! cargo bench --bench soak [-- --seconds 300 --rate 2000 --reload-every 5 DATA.tsv]
//! ```
//!
//! Reports requests sent and failed (must be 0), latency before and during reloads, reloads
//! that took and that were refused, the rule-set versions seen in responses, and the server's
//! resident memory at the start and the end. Bounded in time and count; 127.0.0.1 only. Exits
//! non-zero when a request failed, a good reload was not picked up, a broken reload was not
//! refused, or the server did not exit cleanly on SIGTERM.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::ScoreRequest;

#[path = "common/daemon.rs"]
mod daemon;
#[path = "common/data.rs"]
mod data;

use daemon::{free_port, ready, rss_kib, serve};

struct Opts {
    seconds: u64,
    rate: u64,
    reload_every: u64,
    data: PathBuf,
}

fn opts() -> Opts {
    let mut o = Opts {
        seconds: 300,
        rate: 2000,
        reload_every: 5,
        data: PathBuf::new(),
    };
    let mut data = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let next = || args.get(i + 1).and_then(|v| v.parse().ok());
        match args[i].as_str() {
            "--seconds" => o.seconds = next().expect("--seconds N"),
            "--rate" => o.rate = next().expect("--rate N"),
            "--reload-every" => o.reload_every = next().expect("--reload-every N"),
            "--bench" => {
                i += 1;
                continue;
            }
            a if !a.starts_with('-') => data = Some(PathBuf::from(a)),
            a => panic!("unknown flag {a}"),
        }
        i += if args[i].starts_with("--") { 2 } else { 1 };
    }
    o.seconds = o.seconds.clamp(10, 3600);
    o.data = data.unwrap_or_else(|| data::cn_sample("pass a label<TAB>text file"));
    o
}

/// Latencies (µs) of one phase.
#[derive(Default)]
struct Phase {
    lat: Vec<u32>,
}

impl Phase {
    fn summary(&mut self) -> String {
        if self.lat.is_empty() {
            return "no requests".into();
        }
        self.lat.sort_unstable();
        let q = |p: f64| self.lat[((self.lat.len() - 1) as f64 * p) as usize] as f64 / 1000.0;
        format!(
            "{} requests, p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
            self.lat.len(),
            q(0.5),
            q(0.99),
            q(0.999),
            q(1.0)
        )
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn signal(child: &Child, sig: &str) {
    Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
}

fn metric(body: &str, name: &str) -> u64 {
    body.lines()
        .filter(|l| l.starts_with(name) && !l.starts_with('#'))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

async fn scrape(port: u16) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return String::new();
    };
    let _ = s
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    String::from_utf8_lossy(&buf).into_owned()
}

fn main() -> anyhow::Result<()> {
    let o = opts();
    let data = std::fs::read_to_string(&o.data)
        .map_err(|e| anyhow::anyhow!("{}: {e}", o.data.display()))?;
    let texts: Arc<Vec<String>> = Arc::new(
        data.lines()
            .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
            .filter(|t| !t.trim().is_empty())
            .take(50_000)
            .collect(),
    );
    let dir = tempfile::tempdir()?;
    let rules = dir.path().join("rules");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules"), &rules);
    std::fs::write(rules.join("VERSION"), "soak-0\n")?;

    let (port, mport) = (free_port(), free_port());
    let mut server = serve(
        port,
        &[
            "--metrics-listen".as_ref(),
            format!("127.0.0.1:{mport}").as_ref(),
            "--rules".as_ref(),
            rules.as_os_str(),
        ],
    )?;
    let pid = server.id();
    println!(
        "soak: {} s at {} req/s, reload every {} s (every third broken), {} messages from {}",
        o.seconds,
        o.rate,
        o.reload_every,
        texts.len(),
        o.data.display()
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(async {
        let channel = ready(port, Duration::from_secs(30)).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_start = rss_kib(pid);

        let sent = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let reloading = Arc::new(AtomicBool::new(false));
        let before = Arc::new(Mutex::new(Phase::default()));
        let during = Arc::new(Mutex::new(Phase::default()));
        let versions = Arc::new(Mutex::new(BTreeMap::<String, u64>::new()));
        let end = Instant::now() + Duration::from_secs(o.seconds);
        // The first fifth of the run has no reloads: the "before" latency.
        let quiet_until = Instant::now() + Duration::from_secs(o.seconds / 5);

        let workers = 16u64;
        let per_worker = Duration::from_secs_f64(workers as f64 / o.rate as f64);
        let mut tasks = Vec::new();
        for w in 0..workers {
            let mut client = ClassifierClient::new(channel.clone());
            let (texts, sent, failed) = (texts.clone(), sent.clone(), failed.clone());
            let (reloading, before, during, versions) = (
                reloading.clone(),
                before.clone(),
                during.clone(),
                versions.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(per_worker);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut i = w as usize;
                let mut local_versions = BTreeMap::<String, u64>::new();
                while Instant::now() < end {
                    tick.tick().await;
                    let text = texts[i % texts.len()].clone();
                    i += workers as usize;
                    let t = Instant::now();
                    let r = client
                        .score(ScoreRequest {
                            id: i.to_string(),
                            text,
                            sender: String::new(),
                        })
                        .await;
                    let us = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                    sent.fetch_add(1, Relaxed);
                    match r {
                        Ok(resp) => {
                            *local_versions.entry(resp.into_inner().ruleset).or_default() += 1;
                        }
                        Err(_) => {
                            failed.fetch_add(1, Relaxed);
                        }
                    }
                    let phase = if reloading.load(Relaxed) {
                        &during
                    } else {
                        &before
                    };
                    phase.lock().unwrap().lat.push(us);
                }
                let mut v = versions.lock().unwrap();
                for (k, n) in local_versions {
                    *v.entry(k).or_default() += n;
                }
            }));
        }

        // The reloader: good reloads bump VERSION; every third adds a broken rule file, which
        // the next reload removes again.
        let mut reloads = 0u64;
        let mut broken = 0u64;
        let mut rss_samples = vec![rss_start];
        tokio::time::sleep_until((quiet_until).into()).await;
        reloading.store(true, Relaxed);
        let broken_file = rules.join("zz_broken.toml");
        while Instant::now() + Duration::from_secs(o.reload_every) < end {
            reloads += 1;
            if reloads % 3 == 0 {
                std::fs::write(
                    &broken_file,
                    "[[rule]]\nid = \"BROKEN\"\ncategory = \"nope\"\n",
                )?;
                broken += 1;
            } else {
                let _ = std::fs::remove_file(&broken_file);
                std::fs::write(rules.join("VERSION"), format!("soak-{reloads}\n"))?;
            }
            signal(&server, "-HUP");
            tokio::time::sleep(Duration::from_secs(o.reload_every)).await;
            rss_samples.push(rss_kib(pid));
        }
        for t in tasks {
            t.await?;
        }
        let rss_end = rss_kib(pid);
        let metrics = scrape(mport).await;
        let before = std::mem::take(&mut *before.lock().unwrap());
        let during = std::mem::take(&mut *during.lock().unwrap());
        let versions = std::mem::take(&mut *versions.lock().unwrap());
        Ok::<_, anyhow::Error>((
            sent.load(Relaxed),
            failed.load(Relaxed),
            before,
            during,
            versions,
            reloads,
            broken,
            rss_start,
            rss_end,
            rss_samples,
            metrics,
        ))
    });
    let (sent, failed, mut before, mut during, versions, reloads, broken, rss0, rss1, samples, m) =
        match report {
            Ok(r) => r,
            Err(e) => {
                let _ = server.kill();
                return Err(e);
            }
        };
    signal(&server, "-TERM");
    let status = server.wait()?;

    println!("requests sent {sent}, failed {failed}");
    println!("latency before reloads: {}", before.summary());
    println!("latency during reloads: {}", during.summary());
    println!("reloads triggered {reloads} ({broken} broken on purpose)");
    println!(
        "server metrics: reloads ok {}, reload failures {}",
        metric(&m, "smishd_reloads_total"),
        metric(&m, "smishd_reload_failures_total")
    );
    println!(
        "rule-set versions seen in responses: {} distinct",
        versions.len()
    );
    println!(
        "server RSS: start {:.1} MiB, end {:.1} MiB, max {:.1} MiB over {} samples",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        *samples.iter().max().unwrap_or(&0) as f64 / 1024.0,
        samples.len()
    );
    let step = (samples.len() / 10).max(1);
    let trace: Vec<String> = samples
        .iter()
        .step_by(step)
        .map(|k| format!("{:.1}", *k as f64 / 1024.0))
        .collect();
    println!(
        "server RSS every {} s (MiB): {}",
        step as u64 * o.reload_every,
        trace.join(" ")
    );
    let half = samples[samples.len() / 2];
    println!(
        "server RSS growth over the second half: {:+.1} MiB",
        (rss1 as f64 - half as f64) / 1024.0
    );
    println!("server exit on SIGTERM: {status}");
    anyhow::ensure!(failed == 0, "{failed} requests failed");
    anyhow::ensure!(versions.len() > 1, "no reload was picked up");
    anyhow::ensure!(status.success(), "server did not exit cleanly");
    Ok(())
}
