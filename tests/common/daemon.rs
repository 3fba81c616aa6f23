//! The real daemon (`smishd serve`) as a child process: started on a free port with the test's
//! rule set and no model, its standard error collected, signalled and awaited.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::smishd;

/// The flags every daemon test starts from: a free gRPC port, the rule set at `rules`, no
/// model (verdicts that do not move with the shipped model); then `extra`.
pub fn serve_args<'a>(rules: &'a Path, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--rules",
        rules.to_str().expect("temp paths are UTF-8"),
        "--model",
        "none",
    ];
    args.extend_from_slice(extra);
    args
}

/// An address on 127.0.0.1 free a moment ago, for a listener the daemon opens itself (the
/// metrics endpoint, which does not report the port it bound).
pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

/// The real binary, with its standard error collected line by line.
pub struct Daemon {
    pub child: Child,
    log: Arc<Mutex<String>>,
    pub addr: SocketAddr,
}

impl Daemon {
    pub fn start(args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        Daemon::spawn(smishd(), args, envs)
    }

    /// Starts with a soft and hard descriptor limit of `nofile` (RLIMIT_NOFILE).
    pub fn start_with_nofile(args: &[&str], envs: &[(&str, &str)], nofile: u64) -> Daemon {
        use std::os::unix::process::CommandExt;
        let mut cmd = smishd();
        // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
        unsafe {
            cmd.pre_exec(move || {
                let rl = libc::rlimit {
                    rlim_cur: nofile as libc::rlim_t,
                    rlim_max: nofile as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &rl) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Daemon::spawn(cmd, args, envs)
    }

    fn spawn(mut cmd: std::process::Command, args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        cmd.arg("serve")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd.env_remove("RUST_LOG");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn smishd serve");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stderr);
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                if line.contains("grpc listening") {
                    // Text logs say addr=IP:PORT, JSON logs "addr":"IP:PORT".
                    let found = line
                        .split("addr=")
                        .nth(1)
                        .or_else(|| line.split("\"addr\":").nth(1));
                    if let Some(a) = found {
                        let a = a.trim_start_matches('"');
                        let end = a
                            .find(|c: char| c == '"' || c.is_whitespace())
                            .unwrap_or(a.len());
                        let a = &a[..end];
                        let _ = addr_tx.send(a.to_string());
                    }
                }
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("smishd serve never said where it listens")
            .parse()
            .unwrap();
        Daemon { child, log, addr }
    }

    pub fn signal(&self, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Sends `sig` (-TERM, -INT) and returns the exit status and the whole log.
    pub fn terminate(mut self, sig: &str) -> (std::process::ExitStatus, String) {
        self.signal(sig);
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("smishd serve did not exit after {sig}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
