//! The command line: one file per subcommand, each thin over the library.

pub mod campaigns;
pub mod eval;
pub mod output;
pub mod rescore;
pub mod rules;
pub mod score;
pub mod serve;
pub mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

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

#[derive(Debug, Parser)]
#[command(
    name = "smishd",
    version,
    about = "SMS and URL anti-fraud classifier",
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gRPC daemon.
    Serve(Box<serve::ServeArgs>),
    /// Score one message and explain the verdict.
    Score(score::ScoreArgs),
    /// Rescore message logs in batch (JSONL, CSV, TSV, gzip).
    Rescore(rescore::RescoreArgs),
    /// Group a message log into campaigns (near-duplicate copies of one template).
    Campaigns(campaigns::CampaignsArgs),
    /// Check a rule set, or run the examples embedded in it.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Precision, recall and false-positive rate on labelled data.
    Eval(eval::EvalArgs),
    /// Train the linear model.
    Train(train::TrainArgs),
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

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Exit {
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::Score(args) => score::run(args),
        Command::Rescore(args) => rescore::run(args),
        Command::Campaigns(args) => campaigns::run(args),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Eval(args) => eval::run(args),
        Command::Train(args) => train::run(args),
    };
    match result {
        Ok(exit) => exit,
        Err(e) if output::is_broken_pipe(&e) => Exit::Ok,
        Err(e) => {
            eprintln!("smishd: error: {e:#}");
            Exit::Error
        }
    }
}
