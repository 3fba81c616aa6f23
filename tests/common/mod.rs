//! Shared helpers for the integration tests.

#![allow(dead_code)]

pub mod daemon;

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The real `smishd` binary built for this test run.
pub fn smishd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_smishd"))
}

/// Runs `smishd ARGS` with `stdin` as standard input.
pub fn run_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = smishd()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn smishd");
    child.stdin.take().unwrap().write_all(stdin).ok();
    child.wait_with_output().expect("wait for smishd")
}

/// Runs `smishd ARGS` with no standard input.
pub fn run(args: &[&str]) -> Output {
    run_with_stdin(args, b"")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The repository's rule directory.
pub fn rules_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")
}
