//! What every subcommand shares: the contract's exit statuses and where the engine comes from.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::engine::Engine;

/// Exit statuses of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Success.
    Ok = 0,
    /// The command ran but found failures (a failing example, rejected records).
    Failures = 1,
    /// The command could not do its job (bad flags, unreadable or invalid files).
    Error = 2,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Where the engine comes from: every command that scores takes these.
#[derive(Clone, Debug, Default, Args)]
pub struct EngineArgs {
    /// Rule directory (rule files, VERSION, domains/, public_suffix_list.dat) instead of the
    /// compiled-in rule set.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Model file instead of the compiled-in model; `none` scores from rules alone.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
}

impl EngineArgs {
    pub fn engine(&self) -> crate::Result<Engine> {
        Engine::from_paths(self.rules.as_deref(), self.model.as_deref())
    }
}
