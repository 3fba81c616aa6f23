//! Integration tests, compiled into one binary. Each module covers one face of smishd;
//! `common` holds the shared helpers (running the real binary on temp files).

mod common;

mod cli;
mod server;
