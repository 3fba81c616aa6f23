//! `smishd eval`.

use clap::Args;

use super::{EngineArgs, Exit};

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(_args: EvalArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("smishd eval is not available in this build yet")
}
