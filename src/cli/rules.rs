//! `smishd rules lint [DIR]` and `smishd rules test [DIR]`: for rule authors.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::Exit;
use crate::category::Category;
use crate::defaults;
use crate::engine::{Engine, Message};
use crate::rules::{CaseExpect, RuleSet};

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Compile a rule set and report errors, duplicate or shadowed keywords and other findings.
    Lint(DirArgs),
    /// Run every example embedded in a rule set; exit 1 on any failure.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct DirArgs {
    /// Rule directory; the compiled-in rule set when absent.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub dir: DirArgs,
    /// Model file for the whole-message cases; `none` scores from rules alone.
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
}

pub fn run(cmd: RulesCommand) -> anyhow::Result<Exit> {
    match cmd {
        RulesCommand::Lint(args) => lint(args),
        RulesCommand::Test(args) => test(args),
    }
}

fn load(dir: &DirArgs) -> crate::Result<RuleSet> {
    match &dir.dir {
        Some(d) => RuleSet::from_dir(d),
        None => RuleSet::from_sources(defaults::rules_version(), &defaults::rule_sources()),
    }
}

fn lint(args: DirArgs) -> anyhow::Result<Exit> {
    let mut out = io::stdout().lock();
    let set = match load(&args) {
        Ok(set) => set,
        Err(e) if e.kind() == crate::ErrorKind::Rules => {
            writeln!(out, "{}", e.report())?;
            return Ok(Exit::Failures);
        }
        Err(e) => return Err(e.into()),
    };
    for w in set.warnings() {
        writeln!(out, "warning: {w}")?;
    }
    let mut per_category = [0usize; crate::category::CLASSES];
    for r in set.rules() {
        per_category[r.category.index()] += 1;
    }
    let counts: Vec<String> = Category::ALL
        .iter()
        .filter(|c| per_category[c.index()] > 0)
        .map(|c| format!("{} {}", c, per_category[c.index()]))
        .collect();
    writeln!(
        out,
        "rule set {}: {} rules, {} keywords, {} warnings ({})",
        set.version(),
        set.rules().len(),
        set.keyword_count(),
        set.warnings().len(),
        counts.join(", ")
    )?;
    Ok(Exit::Ok)
}

fn test(args: TestArgs) -> anyhow::Result<Exit> {
    let mut builder = Engine::builder();
    if let Some(d) = &args.dir.dir {
        builder = builder.rules_dir(d);
    }
    match args.model.as_deref() {
        Some(m) if m.as_os_str() == "none" => builder = builder.without_model(),
        Some(m) => builder = builder.model_file(m),
        None => {}
    }
    let engine = builder.build()?;
    let report = run_examples(&engine);
    let mut out = io::stdout().lock();
    for f in &report.failures {
        writeln!(out, "FAIL {f}")?;
    }
    writeln!(
        out,
        "rules test: {} examples, {} passed, {} failed (rule set {}, model {})",
        report.total,
        report.total - report.failures.len(),
        report.failures.len(),
        engine.ruleset_version(),
        engine.model_version()
    )?;
    Ok(if report.failures.is_empty() {
        Exit::Ok
    } else {
        Exit::Failures
    })
}

/// The outcome of running a rule set's embedded examples.
#[derive(Debug, Default)]
pub struct ExampleReport {
    pub total: usize,
    pub failures: Vec<String>,
}

/// Runs every `hit` and `miss` example of every rule, and every whole-message case.
pub fn run_examples(engine: &Engine) -> ExampleReport {
    let set = engine.rules();
    let mut report = ExampleReport::default();
    for (i, rule) in set.rules().iter().enumerate() {
        for text in &rule.hit {
            report.total += 1;
            if !set.fires(i as u32, text) {
                report.failures.push(format!(
                    "rule {} in {}: does not fire on hit example {text:?}",
                    rule.id, rule.location
                ));
            }
        }
        for text in &rule.miss {
            report.total += 1;
            if set.fires(i as u32, text) {
                report.failures.push(format!(
                    "rule {} in {}: fires on miss example {text:?}",
                    rule.id, rule.location
                ));
            }
        }
    }
    for case in set.cases() {
        report.total += 1;
        let msg = Message::new(&case.text).with_sender(case.sender.as_deref());
        let v = engine.score(&msg);
        let ok = match case.expect {
            CaseExpect::Fraud => v.is_fraud(),
            CaseExpect::NotFraud => !v.is_fraud(),
            CaseExpect::Category(c) if c.is_fraud() => v.is_fraud() && v.category == c,
            CaseExpect::Category(c) => !v.is_fraud() && v.category == c,
        };
        if !ok {
            let fired: Vec<&str> = {
                let mut ids: Vec<&str> = v.hits.iter().map(|h| h.rule.as_str()).collect();
                ids.dedup();
                ids
            };
            report.failures.push(format!(
                "case in {}: expected {}, got {} {} (score {:.3}, rules [{}]) for {:?}",
                case.location,
                match case.expect {
                    CaseExpect::Fraud => "fraud".to_string(),
                    CaseExpect::NotFraud => "not_fraud".to_string(),
                    CaseExpect::Category(c) => c.to_string(),
                },
                v.verdict.as_str(),
                v.category,
                v.score,
                fired.join(", "),
                case.text
            ));
        }
    }
    report
}
