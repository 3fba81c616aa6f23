//! `smishd rescore`.

use clap::Args;

use super::{EngineArgs, Exit};

#[derive(Debug, Args)]
pub struct RescoreArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(_args: RescoreArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("smishd rescore is not available in this build yet")
}
