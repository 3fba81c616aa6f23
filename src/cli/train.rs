//! `smishd train`.

use clap::Args;

use super::{EngineArgs, Exit};

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(_args: TrainArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("smishd train is not available in this build yet")
}
