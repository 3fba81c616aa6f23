//! Integration tests, compiled into one binary. Each module covers one face of smishd;
//! `common` holds the shared helpers (running the real binary on temp files).

mod common;

mod campaigns;
mod cli;
mod consistency;
mod edges;
mod fixtures;
mod gateway;
mod identity;
mod links;
mod model;
mod properties;
mod rescore;
mod rule_set;
mod rules;
mod server;
