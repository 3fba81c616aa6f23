//! The command line: one file per subcommand, each thin over the library.

mod args;
pub mod campaigns;
pub mod eval;
pub mod output;
pub mod rescore;
pub mod rules;
pub mod score;
pub mod serve;
pub mod train;

use clap::{Parser, Subcommand};

pub use args::{EngineArgs, Exit};

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
