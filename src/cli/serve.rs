//! `smishd serve`.

use clap::Args;

use super::{EngineArgs, Exit};

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(_args: ServeArgs) -> anyhow::Result<Exit> {
    anyhow::bail!("smishd serve is not available in this build yet")
}
