//! The gRPC daemon against real sockets on 127.0.0.1:0 with tonic clients: every RPC, health,
//! reflection, every limit, metrics, hot reload, TLS, shutdown draining, and (with the real
//! binary) signals and the privacy of the logs.
//!
//! Each test builds its own rule set in a temp directory and scores without a model, so the
//! verdicts do not move when the shipped rules or model change.

use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use smishd::server::proto::classifier_client::ClassifierClient;
use smishd::server::proto::{ScoreBatchRequest, ScoreRequest, ScoreResponse};
use smishd::server::{Config, Limits, TlsFiles};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::common::daemon::{free_addr, serve_args, Daemon};
use crate::common::smishd;

/// A rule that blocks "parcel tested positive" messages, so verdicts are known in advance.
const RULES: &str = r#"
[[rule]]
id = "TEST_PARCEL_POSITIVE"
category = "positive_parcel"
weight = 3.0
action = "block"
description = "test rule: a parcel said to have tested positive"
all = [["快递", "包裹"], ["阳性"]]
hit = ["您的快递检测呈阳性"]
miss = ["您的快递已到"]
"#;

pub(crate) const FRAUD: &str = "您的快递检测呈阳性已销毁，请联系客服理赔";
pub(crate) const HAM: &str = "今晚一起吃饭吗";

/// A bounded test body: no test hangs the suite.
pub(crate) async fn bounded<F: Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test took longer than 30 s");
}

pub(crate) fn rules_dir(version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("VERSION"), version).unwrap();
    std::fs::write(dir.path().join("test.toml"), RULES).unwrap();
    dir
}

/// Replaces a file by rename, as deploy tools do, so a poll never sees half of it.
fn replace(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

pub(crate) fn config(rules: &Path) -> Config {
    Config {
        rules: Some(rules.to_path_buf()),
        model: Some("none".into()),
        reload_poll_ms: 0,
        reload_on_sighup: false,
        shutdown_grace_ms: 5_000,
        ..Config::default()
    }
}

pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    pub(crate) metrics: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    pub(crate) async fn start(config: Config) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics_addr = metrics.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(smishd::server::run(
            listener,
            Some(metrics),
            config,
            async move {
                let _ = stopped.await;
            },
        ));
        Server {
            addr,
            metrics: metrics_addr,
            stop: Some(stop),
            task,
        }
    }

    /// Starts and waits until health says SERVING.
    pub(crate) async fn serving(config: Config) -> Server {
        let s = Server::start(config).await;
        let mut health = HealthClient::new(s.channel().await);
        for _ in 0..200 {
            if health_of(&mut health, "").await == ServingStatus::Serving as i32 {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server never became SERVING");
    }

    pub(crate) async fn channel(&self) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub(crate) async fn client(&self) -> ClassifierClient<Channel> {
        ClassifierClient::new(self.channel().await)
    }

    pub(crate) async fn scrape(&self) -> String {
        scrape(self.metrics).await
    }

    /// Triggers shutdown and waits for `run` to return.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap()
    }
}

pub(crate) async fn scrape(addr: SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    conn.read_to_string(&mut out).await.unwrap();
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    out
}

/// The value of one metric line, by its exact name and labels.
pub(crate) fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn health_of(health: &mut HealthClient<Channel>, service: &str) -> i32 {
    match health
        .check(HealthCheckRequest {
            service: service.to_string(),
        })
        .await
    {
        Ok(r) => r.into_inner().status,
        Err(_) => -1,
    }
}

/// Opens a ScoreStream fed from a channel and waits for the answer to its first message, so
/// the server has surely counted the stream. Returns the sender, the stream and that answer.
async fn open_stream(
    client: &mut ClassifierClient<Channel>,
    first: ScoreRequest,
) -> (
    tokio::sync::mpsc::Sender<ScoreRequest>,
    tonic::Streaming<ScoreResponse>,
    ScoreResponse,
) {
    let (tx, rx) = tokio::sync::mpsc::channel::<ScoreRequest>(8);
    let mut stream = client
        .score_stream(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    tx.send(first).await.unwrap();
    let answer = stream
        .message()
        .await
        .unwrap()
        .expect("an answer to the first message");
    (tx, stream, answer)
}

/// The serving (rule-set VERSION, model) of `smishd_engine_info`, when it is 1.
fn engine_info(m: &str) -> Option<(String, String)> {
    let line = m
        .lines()
        .find(|l| l.starts_with("smishd_engine_info{") && l.ends_with("} 1"))?;
    let field = |name: &str| {
        let start = line.find(&format!("{name}=\""))? + name.len() + 2;
        let len = line[start..].find('"')?;
        Some(line[start..start + len].to_string())
    };
    Some((version(&field("ruleset")?).to_string(), field("model")?))
}

/// The VERSION part of a rule-set version (`test-1` of `test-1+3fa9c2d1`).
pub(crate) fn version(ruleset: &str) -> &str {
    ruleset.split_once('+').map_or(ruleset, |(v, _)| v)
}

pub(crate) fn req(id: &str, text: &str) -> ScoreRequest {
    ScoreRequest {
        id: id.to_string(),
        text: text.to_string(),
        sender: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn score_answers_with_verdict_spans_and_versions() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;

        let r = client
            .score(ScoreRequest {
                id: "m-1".into(),
                text: FRAUD.into(),
                sender: "+8613800000000".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(r.id, "m-1");
        assert_eq!(
            (r.verdict.as_str(), r.category.as_str()),
            ("block", "positive_parcel")
        );
        assert_eq!(r.action, smishd::server::proto::Action::Block as i32);
        assert_eq!(
            (version(&r.ruleset), r.model.as_str()),
            ("test-1", "rules-only")
        );
        assert!(!r.hits.is_empty());
        for h in &r.hits {
            assert_eq!(h.rule, "TEST_PARCEL_POSITIVE");
            assert_eq!(&FRAUD[h.start as usize..h.end as usize], h.text);
        }

        let r = client.score(req("m-2", HAM)).await.unwrap().into_inner();
        assert_eq!((r.verdict.as_str(), r.id.as_str()), ("allow", "m-2"));
        assert!(r.hits.is_empty());
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_and_stream_answer_in_request_order() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;
        let texts: Vec<&str> = (0..300)
            .map(|i| if i % 3 == 0 { FRAUD } else { HAM })
            .collect();
        let expect = |i: usize| if i % 3 == 0 { "block" } else { "allow" };

        // 300 messages: more than one chunk of the batch scorer.
        let batch = ScoreBatchRequest {
            requests: texts
                .iter()
                .enumerate()
                .map(|(i, t)| req(&i.to_string(), t))
                .collect(),
        };
        let out = client
            .score_batch(batch)
            .await
            .unwrap()
            .into_inner()
            .responses;
        assert_eq!(out.len(), 300);
        for (i, r) in out.iter().enumerate() {
            assert_eq!(
                (r.id.as_str(), r.verdict.as_str()),
                (i.to_string().as_str(), expect(i))
            );
        }
        let empty = client
            .score_batch(ScoreBatchRequest { requests: vec![] })
            .await
            .unwrap();
        assert!(empty.into_inner().responses.is_empty());

        let outbound = tokio_stream::iter(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| req(&i.to_string(), t))
                .collect::<Vec<_>>(),
        );
        let mut inbound = client.score_stream(outbound).await.unwrap().into_inner();
        let mut n = 0;
        while let Some(r) = inbound.message().await.unwrap() {
            assert_eq!(
                (r.id.as_str(), r.verdict.as_str()),
                (n.to_string().as_str(), expect(n))
            );
            n += 1;
        }
        assert_eq!(n, 300);
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_not_serving_until_the_engine_is_loaded() {
    bounded(async {
        // VERSION is a named pipe: the engine build blocks reading it until the test writes.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.toml"), RULES).unwrap();
        let fifo = dir.path().join("VERSION");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let server = Server::start(config(dir.path())).await;
        let mut health = HealthClient::new(server.channel().await);
        let not_serving = ServingStatus::NotServing as i32;
        assert_eq!(health_of(&mut health, "").await, not_serving);
        assert_eq!(
            health_of(&mut health, "smishd.v1.Classifier").await,
            not_serving
        );
        let err = server.client().await.score(req("", HAM)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err:?}");

        std::thread::spawn(move || std::fs::write(fifo, "test-fifo").unwrap());
        let mut serving = false;
        for _ in 0..250 {
            if health_of(&mut health, "smishd.v1.Classifier").await == ServingStatus::Serving as i32
            {
                serving = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(serving, "never became SERVING");
        assert_eq!(
            health_of(&mut health, "").await,
            ServingStatus::Serving as i32
        );
        let r = server
            .client()
            .await
            .score(req("", HAM))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(version(&r.ruleset), "test-fifo");
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_services_v1_and_v1alpha() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let want = ["smishd.v1.Classifier", "grpc.health.v1.Health"];

        use tonic_reflection::pb::v1 as r1;
        let mut c1 =
            r1::server_reflection_client::ServerReflectionClient::new(server.channel().await);
        let ask = r1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(r1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        };
        let mut s = c1
            .server_reflection_info(tokio_stream::iter(vec![ask]))
            .await
            .unwrap()
            .into_inner();
        let names: Vec<String> = match s.message().await.unwrap().unwrap().message_response {
            Some(r1::server_reflection_response::MessageResponse::ListServicesResponse(l)) => {
                l.service.into_iter().map(|s| s.name).collect()
            }
            other => panic!("unexpected reflection answer {other:?}"),
        };
        for w in want {
            assert!(names.iter().any(|n| n == w), "v1 lists {names:?}");
        }

        use tonic_reflection::pb::v1alpha as ra;
        let mut ca =
            ra::server_reflection_client::ServerReflectionClient::new(server.channel().await);
        let ask = ra::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(ra::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            )),
        };
        let mut s = ca
            .server_reflection_info(tokio_stream::iter(vec![ask]))
            .await
            .unwrap()
            .into_inner();
        let names: Vec<String> = match s.message().await.unwrap().unwrap().message_response {
            Some(ra::server_reflection_response::MessageResponse::ListServicesResponse(l)) => {
                l.service.into_iter().map(|s| s.name).collect()
            }
            other => panic!("unexpected reflection answer {other:?}"),
        };
        for w in want {
            assert!(names.iter().any(|n| n == w), "v1alpha lists {names:?}");
        }
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_limits_refuse_without_repeating_the_text() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.limits = Limits {
            max_text_bytes: 100,
            max_batch: 4,
            max_message_bytes: 2_000,
            ..Limits::default()
        };
        let server = Server::serving(c).await;
        let mut client = server.client().await;

        let long = "快递阳性".repeat(20); // 240 bytes
        let err = client.score(req("", &long)).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        assert!(err.message().contains("100") && err.message().contains("max_text_bytes"));
        assert!(!err.message().contains("快递"), "{}", err.message());

        let err = client.score(req("", "")).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(err.message().contains("empty"));

        let five = ScoreBatchRequest {
            requests: (0..5).map(|_| req("", HAM)).collect(),
        };
        let err = client.score_batch(five).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        assert!(err.message().contains("max_batch"));

        // One bad message is answered in its place and names its index.
        let bad = ScoreBatchRequest {
            requests: vec![req("", HAM), req("e", "")],
        };
        let answers = client
            .score_batch(bad)
            .await
            .unwrap()
            .into_inner()
            .responses;
        assert_eq!(answers[0].verdict, "allow");
        let error = answers[1].error.as_ref().expect("an error in place");
        assert_eq!(error.code, Code::InvalidArgument as i32);
        assert!(error.reason.starts_with("message 1:"), "{}", error.reason);
        assert_eq!(
            (answers[1].id.as_str(), answers[1].verdict.as_str()),
            ("e", "")
        );

        // Over the decoded message size: refused before decoding, RESOURCE_EXHAUSTED (tonic
        // says OUT_OF_RANGE; the server rewrites it) with a message naming the limit.
        let big = ScoreBatchRequest {
            requests: (0..4).map(|_| req("", &"a".repeat(99))).collect(),
        };
        let ok = client.score_batch(big).await;
        assert!(ok.is_ok(), "400 bytes is under the limit: {ok:?}");
        let huge = ScoreRequest {
            id: "x".repeat(3000),
            text: HAM.into(),
            sender: String::new(),
        };
        let err = client.score(huge).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        assert!(err.message().contains("2000"), "{}", err.message());

        // A stream answers a bad message in its place and goes on.
        let outbound = tokio_stream::iter(vec![req("a", HAM), req("b", &long), req("c", HAM)]);
        let mut inbound = client.score_stream(outbound).await.unwrap().into_inner();
        assert_eq!(inbound.message().await.unwrap().unwrap().id, "a");
        let b = inbound.message().await.unwrap().unwrap();
        let error = b.error.expect("an error in place");
        assert_eq!(error.code, Code::ResourceExhausted as i32);
        assert!(error.reason.starts_with("message 1:"), "{}", error.reason);
        assert!(!error.reason.contains("快递"), "{}", error.reason);
        assert_eq!(inbound.message().await.unwrap().unwrap().verdict, "allow");
        assert!(inbound.message().await.unwrap().is_none());

        // The server is still fine.
        assert_eq!(
            client
                .score(req("", HAM))
                .await
                .unwrap()
                .into_inner()
                .verdict,
            "allow"
        );
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrency_limits_answer_resource_exhausted() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.limits = Limits {
            max_concurrent_requests: 2,
            max_concurrent_streams: 1,
            ..Limits::default()
        };
        let server = Server::serving(c).await;
        let mut client = server.client().await;

        // Hold one stream open (a message answered proves the server counted it).
        let (tx, mut open, first) = open_stream(&mut client, req("1", HAM)).await;
        assert_eq!(first.id, "1");

        let err = client
            .score_stream(tokio_stream::iter(vec![req("2", HAM)]))
            .await
            .map(|r| r.into_inner());
        let err = match err {
            Err(e) => e,
            Ok(mut s) => s.message().await.unwrap_err(),
        };
        assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
        assert!(err.message().contains("max_concurrent_streams"));

        // Unary calls still fit beside the open stream (2 calls allowed).
        assert!(client.score(req("", HAM)).await.is_ok());

        // Close the stream: its slots come back.
        drop(tx);
        assert!(open.message().await.unwrap().is_none());
        let mut again = client
            .score_stream(tokio_stream::iter(vec![req("3", HAM)]))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(again.message().await.unwrap().unwrap().id, "3");
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_limit_counts_open_streams() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.limits = Limits {
            max_concurrent_requests: 1,
            ..Limits::default()
        };
        let server = Server::serving(c).await;
        let mut client = server.client().await;
        let (tx, mut open, _) = open_stream(&mut client, req("1", HAM)).await;

        let err = client.score(req("", HAM)).await.unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);
        assert!(err.message().contains("max_concurrent_requests"));
        let err = client
            .score_batch(ScoreBatchRequest {
                requests: vec![req("", HAM)],
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted);

        drop(tx);
        assert!(open.message().await.unwrap().is_none());
        // The permit is released when the server drops the finished stream.
        let mut ok = false;
        for _ in 0..100 {
            if client.score(req("", HAM)).await.is_ok() {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(ok, "the stream's slot was never released");
        let m = server.scrape().await;
        assert!(
            metric(
                &m,
                "smishd_requests_total{method=\"Score\",code=\"RESOURCE_EXHAUSTED\"}"
            ) == Some(1.0),
            "{m}"
        );
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlines_are_honoured() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;

        // A deadline already gone: refused (by the client's own timer or by the server).
        let mut r = tonic::Request::new(req("", HAM));
        r.set_timeout(Duration::ZERO);
        let err = client.score(r).await.unwrap_err();
        assert!(
            matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
            "{err:?}"
        );

        // A batch that takes far longer than its 1 ms deadline: the server stops working on it
        // (between chunks, or when tonic's timer fires) instead of scoring all 1024 messages
        // for a client that has gone.
        let text = format!("{FRAUD} {}", "快递 包裹 阳性 ".repeat(150));
        let batch = ScoreBatchRequest {
            requests: (0..1024).map(|_| req("", &text)).collect(),
        };
        let mut r = tonic::Request::new(batch);
        r.set_timeout(Duration::from_millis(1));
        let err = client.score_batch(r).await.unwrap_err();
        assert!(
            matches!(err.code(), Code::DeadlineExceeded | Code::Cancelled),
            "{err:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let m = server.scrape().await;
        let scored = metric(
            &m,
            "smishd_verdicts_total{verdict=\"block\",category=\"positive_parcel\"}",
        )
        .unwrap_or(0.0);
        assert!(
            scored < 1024.0,
            "the expired batch was scored whole ({scored})\n{m}"
        );
        assert_eq!(
            metric(
                &m,
                "smishd_requests_total{method=\"ScoreBatch\",code=\"OK\"}"
            ),
            None
        );
        // A generous deadline is fine.
        let mut r = tonic::Request::new(req("", HAM));
        r.set_timeout(Duration::from_secs(5));
        assert!(client.score(r).await.is_ok());
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_verdicts_rules_and_versions() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;
        for _ in 0..3 {
            client.score(req("", FRAUD)).await.unwrap();
        }
        client.score(req("", HAM)).await.unwrap();
        client.score(req("", "")).await.unwrap_err();
        let m = server.scrape().await;
        let v = |s: &str| metric(&m, s);
        assert_eq!(
            v("smishd_requests_total{method=\"Score\",code=\"OK\"}"),
            Some(4.0),
            "{m}"
        );
        assert_eq!(
            v("smishd_requests_total{method=\"Score\",code=\"INVALID_ARGUMENT\"}"),
            Some(1.0)
        );
        assert_eq!(
            v("smishd_request_duration_seconds_count{method=\"Score\",code=\"OK\"}"),
            Some(4.0)
        );
        assert_eq!(
            v("smishd_verdicts_total{verdict=\"block\",category=\"positive_parcel\"}"),
            Some(3.0)
        );
        assert_eq!(
            v("smishd_rule_hits_total{rule=\"TEST_PARCEL_POSITIVE\"}"),
            Some(3.0)
        );
        assert_eq!(
            engine_info(&m),
            Some(("test-1".to_string(), "rules-only".to_string()))
        );
        assert_eq!(v("smishd_reload_failures_total"), Some(0.0));
        assert!(m.contains("# TYPE smishd_request_duration_seconds histogram"));
        assert!(!m.contains("快递"), "metrics must not carry text");
        server.stop().await.unwrap();
    })
    .await
}

/// Sends unary calls in a loop until told to stop; returns (versions seen in order, errors).
fn hammer(
    mut client: ClassifierClient<Channel>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> JoinHandle<(Vec<String>, Vec<tonic::Status>)> {
    tokio::spawn(async move {
        let mut versions: Vec<String> = Vec::new();
        let mut errors = Vec::new();
        while !*stop.borrow() {
            match client.score(req("", FRAUD)).await {
                Ok(r) => {
                    let r: ScoreResponse = r.into_inner();
                    let v = version(&r.ruleset);
                    if versions.last().map(String::as_str) != Some(v) {
                        versions.push(v.to_string());
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        (versions, errors)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_on_file_change_while_requests_run() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.reload_poll_ms = 30;
        let server = Server::serving(c).await;
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let workers: Vec<_> = {
            let mut v = Vec::new();
            for _ in 0..4 {
                v.push(hammer(server.client().await, stop_rx.clone()));
            }
            v
        };
        // A stream running across the reload, too.
        let (tx, mut stream, first) =
            open_stream(&mut server.client().await, req("s0", FRAUD)).await;
        assert_eq!(version(&first.ruleset), "test-1");

        tokio::time::sleep(Duration::from_millis(100)).await;
        replace(&rules.path().join("VERSION"), "test-2\n");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            tx.send(req("s", FRAUD)).await.unwrap();
            let r = stream.message().await.unwrap().unwrap();
            if version(&r.ruleset) == "test-2" {
                break;
            }
            assert!(Instant::now() < deadline, "reload never took effect");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop_tx.send(true).unwrap();
        for w in workers {
            let (versions, errors) = w.await.unwrap();
            assert!(errors.is_empty(), "calls failed during reload: {errors:?}");
            assert_eq!(
                versions.last().map(String::as_str),
                Some("test-2"),
                "{versions:?}"
            );
            assert!(versions.iter().all(|v| v == "test-1" || v == "test-2"));
        }
        let m = server.scrape().await;
        assert_eq!(metric(&m, "smishd_reloads_total"), Some(1.0), "{m}");
        assert_eq!(
            engine_info(&m),
            Some(("test-2".to_string(), "rules-only".to_string())),
            "{m}"
        );
        drop(tx);
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_rule_file_keeps_the_old_rules_serving() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.reload_poll_ms = 30;
        let server = Server::serving(c).await;
        let mut client = server.client().await;

        std::fs::write(rules.path().join("VERSION"), "test-broken").unwrap();
        replace(
            &rules.path().join("broken.toml"),
            "[[rule]]\nid = \"BROKEN\"\ncategory = \"no_such_category\"\n",
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let m = server.scrape().await;
            if metric(&m, "smishd_reload_failures_total").unwrap_or(0.0) >= 1.0 {
                assert_eq!(metric(&m, "smishd_reloads_total"), Some(0.0), "{m}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the failed reload was never counted"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The old engine still serves, with its rules and version.
        let r = client.score(req("", FRAUD)).await.unwrap().into_inner();
        assert_eq!(
            (version(&r.ruleset), r.verdict.as_str()),
            ("test-1", "block")
        );

        // Fixing the file reloads.
        std::fs::remove_file(rules.path().join("broken.toml")).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let r = client.score(req("", FRAUD)).await.unwrap().into_inner();
            if version(&r.ruleset) == "test-broken" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the fixed rules were never loaded"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        server.stop().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_open_calls_then_returns() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;
        let (tx, mut stream, first) = open_stream(&mut client, req("before", FRAUD)).await;
        assert_eq!(first.id, "before");

        server.stop.take().unwrap().send(()).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            !server.task.is_finished(),
            "run returned with a call still open"
        );
        // No new connections once draining.
        let refused = Endpoint::from_shared(format!("http://{}", server.addr))
            .unwrap()
            .connect_timeout(Duration::from_millis(500))
            .connect()
            .await;
        let new_call = match refused {
            Err(_) => true,
            Ok(ch) => ClassifierClient::new(ch).score(req("", HAM)).await.is_err(),
        };
        assert!(new_call, "a new connection was served during the drain");

        // The open stream still works and ends cleanly.
        tx.send(req("during", FRAUD)).await.unwrap();
        let r = stream.message().await.unwrap().unwrap();
        assert_eq!((r.id.as_str(), r.verdict.as_str()), ("during", "block"));
        drop(tx);
        assert!(stream.message().await.unwrap().is_none());
        let done = tokio::time::timeout(Duration::from_secs(5), &mut server.task)
            .await
            .expect("run did not return after the drain");
        done.unwrap().unwrap();
    })
    .await
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name),
    )
    .unwrap()
}

fn tls_files(client_ca: bool) -> TlsFiles {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    TlsFiles {
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        client_ca: client_ca.then(|| dir.join("ca.pem")),
    }
}

/// A call over TLS, retried while the engine is still loading.
async fn tls_call(
    addr: SocketAddr,
    identity: Option<(&str, &str)>,
) -> Result<ScoreResponse, String> {
    for _ in 0..250 {
        match tls_call_once(addr, identity).await {
            Err(e) if e.contains("engine not loaded") => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => return other,
        }
    }
    Err("engine never loaded".into())
}

async fn tls_call_once(
    addr: SocketAddr,
    identity: Option<(&str, &str)>,
) -> Result<ScoreResponse, String> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(fixture("ca.pem")))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(fixture(cert), fixture(key)));
    }
    let channel = Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    ClassifierClient::new(channel)
        .score(req("", FRAUD))
        .await
        .map(|r| r.into_inner())
        .map_err(|e| format!("call: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_mutual_tls() {
    bounded(async {
        let rules = rules_dir("test-1");
        let mut c = config(rules.path());
        c.tls = Some(tls_files(false));
        let server = Server::start(c).await;
        let r = tls_call(server.addr, None).await.unwrap();
        assert_eq!(r.verdict, "block");
        // Plain text against a TLS port fails.
        let plain = Endpoint::from_shared(format!("http://{}", server.addr))
            .unwrap()
            .connect()
            .await;
        if let Ok(ch) = plain {
            assert!(ClassifierClient::new(ch).score(req("", HAM)).await.is_err());
        }
        server.stop().await.unwrap();

        let mut c = config(rules.path());
        c.tls = Some(tls_files(true));
        let server = Server::start(c).await;
        let r = tls_call(server.addr, Some(("client.pem", "client.key")))
            .await
            .unwrap();
        assert_eq!(r.verdict, "block");
        assert!(
            tls_call(server.addr, None).await.is_err(),
            "no client certificate accepted"
        );
        assert!(
            tls_call(server.addr, Some(("stranger.pem", "stranger.key")))
                .await
                .is_err(),
            "a certificate from another CA was accepted"
        );
        server.stop().await.unwrap();
    })
    .await
}

pub(crate) async fn wait_serving(addr: SocketAddr) -> Channel {
    for _ in 0..250 {
        if let Ok(ch) = Endpoint::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
        {
            let mut h = HealthClient::new(ch.clone());
            if health_of(&mut h, "").await == ServingStatus::Serving as i32 {
                return ch;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("smishd serve never became SERVING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_carry_no_text_no_numbers() {
    bounded(async {
        let rules = rules_dir("test-1");
        let d = Daemon::start(&serve_args(rules.path(), &[]), &[("RUST_LOG", "trace")]);
        let mut client = ClassifierClient::new(wait_serving(d.addr).await);
        // Phone numbers, a resident ID number, a bank card, a sender: none may reach the log.
        let secrets = [
            "13912345678",
            "+8613987654321",
            "11010519491231002X",
            "6222021234567890123",
            // A bank-style short code, long enough that no timestamp or digest holds it by chance.
            "1065595588",
            "tracking-ID-Q7Z3",
        ];
        let texts = [
            format!(
                "您的快递检测呈阳性，请致电{}办理理赔，身份证{}",
                secrets[0], secrets[2]
            ),
            format!("尊敬的客户，您的卡{}异常，请回电{}", secrets[3], secrets[1]),
            format!("快递{}包裹阳性", secrets[5]),
        ];
        for t in &texts {
            let r = client
                .score(ScoreRequest {
                    id: "id-1".into(),
                    text: t.clone(),
                    sender: secrets[4].into(),
                })
                .await
                .unwrap();
            assert!(!r.into_inner().verdict.is_empty());
        }
        let batch = ScoreBatchRequest {
            requests: texts.iter().map(|t| req("", t)).collect(),
        };
        assert_eq!(
            client
                .score_batch(batch)
                .await
                .unwrap()
                .into_inner()
                .responses
                .len(),
            3
        );
        let outbound = tokio_stream::iter(texts.iter().map(|t| req("", t)).collect::<Vec<_>>());
        let mut s = client.score_stream(outbound).await.unwrap().into_inner();
        let mut n = 0;
        while s.message().await.unwrap().is_some() {
            n += 1;
        }
        assert_eq!(n, 3);
        // Refused calls are logged too; they must not carry the text either.
        let long = format!("{}{}", secrets[0], "x".repeat(70_000));
        assert!(client.score(req("", &long)).await.is_err());

        let (status, log) = tokio::task::spawn_blocking(move || d.terminate("-INT"))
            .await
            .unwrap();
        assert!(status.success(), "exit {status:?}\n{log}");
        assert!(
            log.contains("call finished"),
            "debug logging was not on:\n{log}"
        );
        assert!(log.contains("SIGINT") && log.contains("drained"), "{log}");
        for s in secrets {
            assert!(!log.contains(s), "log contains {s}:\n{log}");
        }
        for t in &texts {
            assert!(!log.contains(t.as_str()));
        }
        assert!(
            !log.contains("身份证") && !log.contains("快递"),
            "log contains message text"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_sigterm_exits_zero() {
    bounded(async {
        let rules = rules_dir("test-1");
        let metrics_addr = free_addr();
        let d = Daemon::start(
            &[
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                &metrics_addr.to_string(),
                "--model",
                "none",
                "--log-format",
                "json",
            ],
            // Flags by environment: rules from SMISHD_RULES, no file polling (SIGHUP only).
            &[
                ("SMISHD_RULES", rules.path().to_str().unwrap()),
                ("SMISHD_RELOAD_POLL_MS", "0"),
            ],
        );
        let mut client = ClassifierClient::new(wait_serving(d.addr).await);
        assert_eq!(
            client
                .score(req("", FRAUD))
                .await
                .unwrap()
                .into_inner()
                .ruleset
                .split('+')
                .next(),
            Some("test-1")
        );

        replace(&rules.path().join("VERSION"), "test-hup");
        // Polling is off (SMISHD_RELOAD_POLL_MS=0): nothing changes until SIGHUP. Waited out
        // over three default poll intervals, so a poll that was on would have reloaded by now
        // (a change is taken once it has held still for one poll).
        tokio::time::sleep(Duration::from_millis(3 * smishd::defaults::RELOAD_POLL_MS)).await;
        let m = scrape(metrics_addr).await;
        assert_eq!(metric(&m, "smishd_reloads_total"), Some(0.0), "{m}");
        assert_eq!(
            client
                .score(req("", FRAUD))
                .await
                .unwrap()
                .into_inner()
                .ruleset
                .split('+')
                .next(),
            Some("test-1")
        );
        d.signal("-HUP");
        let deadline = Instant::now() + Duration::from_secs(10);
        while client
            .score(req("", FRAUD))
            .await
            .unwrap()
            .into_inner()
            .ruleset
            .split('+')
            .next()
            != Some("test-hup")
        {
            assert!(Instant::now() < deadline, "SIGHUP did not reload");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let m = scrape(metrics_addr).await;
        assert_eq!(metric(&m, "smishd_reloads_total"), Some(1.0), "{m}");

        let (status, log) = tokio::task::spawn_blocking(move || d.terminate("-TERM"))
            .await
            .unwrap();
        assert_eq!(status.code(), Some(0), "{log}");
        // JSON logs: every line is an object.
        for line in log.lines() {
            let v: serde_json::Value = serde_json::from_str(line).expect(line);
            assert!(v.get("level").is_some(), "{line}");
        }
        assert!(log.contains("\"reason\":\"sighup\""), "{log}");
    })
    .await
}

#[test]
fn serve_refuses_a_broken_rule_set_at_start() {
    let dir = rules_dir("test-1");
    std::fs::write(dir.path().join("bad.toml"), "[[rule]]\nid = 3\n").unwrap();
    let mut child = smishd()
        .arg("serve")
        .args(serve_args(dir.path(), &[]))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve kept running on a broken rule set");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml"), "{err}");
    let _ = std::io::stderr().flush();
}

/// Deterministic pseudo-random text from a pool meant to trip up normalisation and offsets:
/// CJK, full-width and compatibility forms, emoji with joiners, combining marks, zero-width and
/// direction marks, NUL and control characters, URL pieces and digits.
fn odd_texts(n: usize) -> Vec<String> {
    const POOL: &[&str] = &[
        "a",
        "Z",
        "9",
        " ",
        "\n",
        "\t",
        "\0",
        "\u{7f}",
        "快",
        "递",
        "阳",
        "性",
        "密",
        "接",
        "红",
        "码",
        "健康碼",
        "ＶＸ",
        "１２３",
        "ｈｔｔｐ",
        "。",
        "．",
        "/",
        ":",
        "http://",
        "www.",
        ".top",
        "xn--",
        "@",
        "%",
        "e\u{301}",
        "\u{200b}",
        "\u{200d}",
        "\u{202e}",
        "\u{feff}",
        "👨\u{200d}👩\u{200d}👧",
        "🇨🇳",
        "\u{fffd}",
        "ﬁ",
        "Ⅻ",
        "㈱",
        "\u{10ffff}",
        "\u{e000}",
    ];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let len = 1 + (next() % 200) as usize;
            (0..len)
                .map(|_| POOL[(next() % POOL.len() as u64) as usize])
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_inputs_all_get_answers() {
    bounded(async {
        let rules = rules_dir("test-1");
        let server = Server::serving(config(rules.path())).await;
        let mut client = server.client().await;
        let texts = odd_texts(500);
        let outbound = tokio_stream::iter(
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| req(&i.to_string(), t))
                .collect::<Vec<_>>(),
        );
        let mut inbound = client.score_stream(outbound).await.unwrap().into_inner();
        let mut n = 0;
        while let Some(r) = inbound.message().await.unwrap() {
            let text = &texts[n];
            assert_eq!(r.id, n.to_string());
            for h in &r.hits {
                let (s, e) = (h.start as usize, h.end as usize);
                assert!(
                    s <= e
                        && e <= text.len()
                        && text.is_char_boundary(s)
                        && text.is_char_boundary(e)
                );
                assert_eq!(&text[s..e], h.text);
            }
            n += 1;
        }
        assert_eq!(n, texts.len());
        server.stop().await.unwrap();
    })
    .await
}
