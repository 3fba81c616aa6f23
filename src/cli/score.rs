//! `smishd score`: one message, its verdict, and why.

use std::io::{self, Read, Write};

use anyhow::{bail, Context};
use clap::Args;

use super::args::{EngineArgs, Exit};
use super::output::{colour, Style};
use crate::defaults::MAX_TEXT_BYTES;
use crate::engine::{self, Message, TextProblem};
use crate::span::Span;
use crate::verdict::{Action, Hit, Judgement, Verdict};

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Print the verdict as one JSON object (the contract's format).
    #[arg(long)]
    pub json: bool,
    /// Sender id (number, short code or alphanumeric name).
    #[arg(long, value_name = "S")]
    pub sender: Option<String>,
    /// The message; standard input when absent or `-`.
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: ScoreArgs) -> anyhow::Result<Exit> {
    let text = match args.text.as_deref() {
        None | Some("-") => read_stdin()?,
        Some(t) => t.to_string(),
    };
    check_text(&text)?;
    let engine = args.engine.engine()?;
    let msg = Message::new(&text).with_sender(args.sender.as_deref());
    let judged = engine.judge(&msg);
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &judged.verdict)?;
        writeln!(out)?;
    } else {
        write_human(&mut out, &text, &judged, &Style::new(colour()))?;
    }
    out.flush()?;
    Ok(Exit::Ok)
}

fn read_stdin() -> anyhow::Result<String> {
    let mut bytes = Vec::new();
    io::stdin()
        .lock()
        .take(MAX_TEXT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .context("reading standard input")?;
    if bytes.len() > MAX_TEXT_BYTES {
        bail!("message text is over the limit of {MAX_TEXT_BYTES} bytes");
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "standard input is not valid UTF-8 (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The checks every face applies before scoring: not empty, not over the size limit.
pub fn check_text(text: &str) -> anyhow::Result<()> {
    match engine::check_text(text, MAX_TEXT_BYTES) {
        Ok(()) => Ok(()),
        Err(TextProblem::Blank) => bail!("message text is empty"),
        Err(TextProblem::TooLong { bytes, limit }) => {
            bail!("message text is {bytes} bytes, over the limit of {limit} bytes")
        }
    }
}

/// The human explanation: verdict line, the text with hits marked, hits, links, versions.
pub fn write_human(
    out: &mut impl Write,
    text: &str,
    judged: &Judgement,
    s: &Style,
) -> io::Result<()> {
    let v = &judged.verdict;
    let verdict = match v.verdict {
        Action::Block => s.red("BLOCK"),
        Action::Flag => s.yellow("FLAG"),
        Action::Allow => s.green("ALLOW"),
    };
    writeln!(
        out,
        "{verdict}  {}  score {:.3}",
        s.bold(v.category.as_str()),
        v.score
    )?;
    writeln!(out, "  {}", highlight(text, v, s))?;
    if v.hits.is_empty() {
        writeln!(out, "hits: none")?;
    } else {
        // One line per fired rule, in order of its first hit, with every span it matched.
        writeln!(out, "hits:")?;
        let mut rules: Vec<_> = judged.evidence.rules.iter().collect();
        rules.sort_by_key(|fired| fired.hits.first().copied());
        for fired in rules {
            let hits: Vec<&Hit> = fired.hits.iter().map(|&i| &v.hits[i]).collect();
            let Some(first) = hits.first() else {
                continue;
            };
            // A negated rule is shown with its weight struck out: it did not count.
            let negated = if fired.negated {
                "  (negated, not counted)"
            } else {
                ""
            };
            let spans: Vec<String> = hits
                .iter()
                .map(|h| format!("{:?} {}..{}", h.text, h.span.start, h.span.end))
                .collect();
            writeln!(
                out,
                "  {:<30} {:<22} {:>+6.2}  {}{}",
                first.rule,
                first.category.as_str(),
                first.weight,
                spans.join(", "),
                s.dim(negated)
            )?;
        }
    }
    if v.urls.is_empty() {
        writeln!(out, "links: none")?;
    } else {
        writeln!(out, "links:")?;
        for u in &v.urls {
            let reasons = if u.reasons.is_empty() {
                "-".to_string()
            } else {
                u.reasons.join(", ")
            };
            writeln!(
                out,
                "  {:?} {}..{} -> {}  domain {}  {}  [{}]",
                u.raw,
                u.span.start,
                u.span.end,
                u.url,
                if u.registrable_domain.is_empty() {
                    "-"
                } else {
                    &u.registrable_domain
                },
                s.bold(u.reputation.as_str()),
                reasons
            )?;
        }
    }
    writeln!(
        out,
        "{}",
        s.dim(&format!("ruleset {}  model {}", v.ruleset, v.model))
    )
}

/// The text with every hit and link span marked. Overlapping spans are merged.
fn highlight(text: &str, v: &Verdict, s: &Style) -> String {
    let mut spans: Vec<Span> = v
        .hits
        .iter()
        .map(|h| h.span)
        .chain(v.urls.iter().map(|u| u.span))
        .collect();
    spans.sort_unstable();
    let mut merged: Vec<Span> = Vec::new();
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    let mut out = String::with_capacity(text.len() + merged.len() * 8);
    let mut pos = 0;
    for span in merged {
        out.push_str(&text[pos..span.start]);
        out.push_str(&s.mark(&text[span.range()]));
        pos = span.end;
    }
    out.push_str(&text[pos..]);
    out.replace(['\n', '\r'], " ")
}
