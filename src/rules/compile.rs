//! Compiling rule files into a [`RuleSet`]: validation, keyword normalisation, lint findings,
//! and one Aho-Corasick automaton over every keyword of every rule.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::format::{line_of, RawRule, RuleFile, RuleSource};
use super::{Case, CaseExpect, Group, Rule, RuleAction, RuleSet};
use crate::category::Category;
use crate::error::{Error, ErrorKind, Result};
use crate::normalize::normalize;

/// One problem found in a rule set, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// `file:line`
    pub location: String,
    pub rule: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "rule {rule} in {}: {}", self.location, self.message),
            None => write!(f, "{}: {}", self.location, self.message),
        }
    }
}

/// Reads a rule directory: VERSION and every `*.toml`, in name order.
pub fn read_dir(dir: &Path) -> Result<(String, Vec<RuleSource>)> {
    let version_path = dir.join("VERSION");
    let version = fs::read_to_string(&version_path)
        .map_err(|e| Error::io(&version_path, e))?
        .trim()
        .to_string();
    let mut paths = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    if paths.is_empty() {
        return Err(Error::new(
            ErrorKind::Rules,
            format!("{}: no *.toml rule files", dir.display()),
        ));
    }
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let content = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        sources.push(RuleSource {
            name: path.display().to_string(),
            content,
        });
    }
    Ok((version, sources))
}

/// Keyword bookkeeping while compiling: each distinct normalised keyword gets one pattern id.
#[derive(Default)]
struct Patterns {
    ids: HashMap<String, u32>,
    list: Vec<String>,
}

impl Patterns {
    fn id(&mut self, keyword: &str) -> u32 {
        if let Some(&id) = self.ids.get(keyword) {
            return id;
        }
        let id = self.list.len() as u32;
        self.ids.insert(keyword.to_string(), id);
        self.list.push(keyword.to_string());
        id
    }
}

/// Compiles rule sources. Every error of every file is collected and returned at once;
/// lint findings that do not stop compilation are kept in [`RuleSet::warnings`].
pub fn compile(version: &str, sources: &[RuleSource]) -> Result<RuleSet> {
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let mut patterns = Patterns::default();
    let mut rules: Vec<Rule> = Vec::new();
    let mut cases: Vec<Case> = Vec::new();
    let mut seen_ids: BTreeMap<String, String> = BTreeMap::new();

    if version.is_empty() {
        errors.push(Diagnostic {
            location: "VERSION".into(),
            rule: None,
            message: "rule set version is empty".into(),
        });
    }

    for source in sources {
        let file: RuleFile = match toml::from_str(&source.content) {
            Ok(f) => f,
            Err(e) => {
                let line = e
                    .span()
                    .map(|s| line_of(&source.content, s.start))
                    .unwrap_or(1);
                errors.push(Diagnostic {
                    location: format!("{}:{line}", source.name),
                    rule: None,
                    message: e.message().trim_end_matches('.').to_string(),
                });
                continue;
            }
        };
        for spanned in file.rule {
            let line = line_of(&source.content, spanned.span().start);
            let location = format!("{}:{line}", source.name);
            let raw = spanned.into_inner();
            if let Some(prev) = seen_ids.get(&raw.id) {
                errors.push(Diagnostic {
                    location: location.clone(),
                    rule: Some(raw.id.clone()),
                    message: format!("duplicate rule id, first defined at {prev}"),
                });
                continue;
            }
            seen_ids.insert(raw.id.clone(), location.clone());
            if let Some(rule) =
                compile_rule(raw, location, &mut patterns, &mut errors, &mut warnings)
            {
                rules.push(rule);
            }
        }
        for spanned in file.case {
            let line = line_of(&source.content, spanned.span().start);
            let location = format!("{}:{line}", source.name);
            let raw = spanned.into_inner();
            let expect = match raw.expect.as_str() {
                "fraud" => Some(CaseExpect::Fraud),
                "not_fraud" => Some(CaseExpect::NotFraud),
                other => match other.parse::<Category>() {
                    Ok(c) => Some(CaseExpect::Category(c)),
                    Err(e) => {
                        errors.push(Diagnostic {
                            location: location.clone(),
                            rule: None,
                            message: format!("case expect: {e}, \"fraud\" or \"not_fraud\""),
                        });
                        None
                    }
                },
            };
            if raw.text.trim().is_empty() {
                errors.push(Diagnostic {
                    location: location.clone(),
                    rule: None,
                    message: "case text is empty".into(),
                });
                continue;
            }
            if let Some(expect) = expect {
                cases.push(Case {
                    location,
                    text: raw.text,
                    sender: raw.sender,
                    expect,
                });
            }
        }
    }

    if rules.is_empty() && errors.is_empty() {
        errors.push(Diagnostic {
            location: sources
                .first()
                .map(|s| s.name.clone())
                .unwrap_or_else(|| "rules".into()),
            rule: None,
            message: "rule set has no rules".into(),
        });
    }
    if !errors.is_empty() {
        let lines: Vec<String> = errors.iter().map(|d| d.to_string()).collect();
        return Err(Error::new(
            ErrorKind::Rules,
            format!(
                "{} error(s) in rule set:\n{}",
                errors.len(),
                lines.join("\n")
            ),
        ));
    }

    // A full DFA: a rule set of a few thousand keywords costs a few MB and matching becomes
    // one table lookup per byte, the hot path of every message.
    let ac = AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&patterns.list)
        .map_err(|e| Error::new(ErrorKind::Rules, format!("keyword automaton: {e}")))?;
    let mut pattern_rules = vec![Vec::new(); patterns.list.len()];
    for (ri, rule) in rules.iter().enumerate() {
        for group in &rule.groups {
            for &p in &group.patterns {
                let list: &mut Vec<u32> = &mut pattern_rules[p as usize];
                if list.last() != Some(&(ri as u32)) {
                    list.push(ri as u32);
                }
            }
        }
    }
    let pattern_word_bounded = patterns
        .list
        .iter()
        .map(|p| {
            let b = p.as_bytes();
            (
                b[0].is_ascii_alphanumeric(),
                b[b.len() - 1].is_ascii_alphanumeric(),
            )
        })
        .collect();
    Ok(RuleSet {
        version: version.to_string(),
        rules,
        patterns: patterns.list,
        pattern_word_bounded,
        pattern_rules,
        ac,
        cases,
        warnings,
    })
}

fn compile_rule(
    raw: RawRule,
    location: String,
    patterns: &mut Patterns,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) -> Option<Rule> {
    let before = errors.len();
    let mut err = |message: String| {
        errors.push(Diagnostic {
            location: location.clone(),
            rule: Some(raw.id.clone()),
            message,
        })
    };
    if !is_screaming_snake(&raw.id) {
        err(format!("id {:?} is not SCREAMING_SNAKE_CASE", raw.id));
    }
    let category = match raw.category.parse::<Category>() {
        Ok(c) => Some(c),
        Err(e) => {
            err(e);
            None
        }
    };
    let action = match raw.action.as_deref() {
        None | Some("score") => RuleAction::Score,
        Some("block") => RuleAction::Block,
        Some(other) => {
            err(format!(
                "unknown action {other:?} (expected \"score\" or \"block\")"
            ));
            RuleAction::Score
        }
    };
    let weight = match (raw.weight, action) {
        (Some(w), _) if !w.is_finite() || w.abs() > 100.0 => {
            err(format!("weight {w} is out of range (-100 to 100)"));
            0.0
        }
        (Some(w), _) => w,
        (None, RuleAction::Block) => 0.0,
        (None, RuleAction::Score) => {
            err("rule has neither a weight nor an action".into());
            0.0
        }
    };
    if action == RuleAction::Block && category.is_some_and(|c| !c.is_fraud()) {
        err("a block action needs a fraud category".into());
    }
    if raw.description.trim().is_empty() {
        err("description is empty".into());
    }
    if raw.all.is_empty() && raw.any.is_empty() {
        err("rule has no keywords: give `all` groups or an `any` group".into());
    }

    let mut groups = Vec::new();
    let mut group_keywords: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (i, group) in raw.all.iter().enumerate() {
        if group.is_empty() {
            err(format!("keyword group all[{i}] is empty"));
        }
        group_keywords.push(("all", group.clone()));
    }
    if !raw.any.is_empty() {
        group_keywords.push(("any", raw.any.clone()));
    }
    let mut positive: Vec<String> = Vec::new();
    let mut ok_groups: Vec<(&str, Vec<String>)> = Vec::new();
    for (kind, words) in group_keywords {
        let normalised = normalise_keywords(&words, kind, &mut err);
        positive.extend(normalised.iter().cloned());
        ok_groups.push((kind, normalised));
    }
    let none = normalise_keywords(&raw.none, "none", &mut err);
    if errors.len() > before {
        return None;
    }

    let mut warn = |message: String| {
        warnings.push(Diagnostic {
            location: location.clone(),
            rule: Some(raw.id.clone()),
            message,
        })
    };
    for (kind, words) in &ok_groups {
        lint_group(kind, words, &mut warn);
        if words.is_empty() {
            continue;
        }
        groups.push(Group {
            patterns: words.iter().map(|w| patterns.id(w)).collect(),
        });
    }
    lint_group("none", &none, &mut warn);
    for w in &none {
        if positive.contains(w) {
            warn(format!("keyword {w:?} is both required and forbidden"));
        }
    }
    if raw.hit.is_empty() {
        warn("rule has no `hit` example".into());
    }

    Some(Rule {
        id: raw.id,
        category: category?,
        weight,
        action,
        description: raw.description,
        location,
        groups,
        none: none.iter().map(|w| patterns.id(w)).collect(),
        hit: raw.hit,
        miss: raw.miss,
    })
}

/// Normalises keywords like message text; reports those that normalise to nothing.
fn normalise_keywords(words: &[String], kind: &str, err: &mut impl FnMut(String)) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    for w in words {
        let n = normalize(w);
        if n.is_empty() {
            err(format!(
                "keyword {w:?} in `{kind}` is empty after normalisation"
            ));
        } else {
            out.push(n.as_str().to_string());
        }
    }
    out
}

/// Duplicate keywords, and keywords shadowed by a shorter keyword of the same group (the
/// shorter one matches wherever the longer does, so the longer one adds nothing).
fn lint_group(kind: &str, words: &[String], warn: &mut impl FnMut(String)) {
    for (i, a) in words.iter().enumerate() {
        for (j, b) in words.iter().enumerate() {
            if i < j && a == b {
                warn(format!("duplicate keyword {a:?} in `{kind}`"));
            } else if i != j && a != b && shadows(a, b) {
                warn(format!("keyword {b:?} in `{kind}` is shadowed by {a:?}"));
            }
        }
    }
}

/// Whether keyword `short` matches wherever keyword `long` does. Keywords with ASCII
/// alphanumeric ends only match at ASCII word boundaries (see the matcher), so `http` does
/// not shadow `https` and `cvv` does not shadow `cvv2`: the occurrence of `short` inside
/// `long` must itself sit on such boundaries.
fn shadows(short: &str, long: &str) -> bool {
    let (s, l) = (short.as_bytes(), long.as_bytes());
    let bound_start = s[0].is_ascii_alphanumeric();
    let bound_end = s[s.len() - 1].is_ascii_alphanumeric();
    long.match_indices(short).any(|(pos, _)| {
        let end = pos + s.len();
        (!bound_start || pos == 0 || !l[pos - 1].is_ascii_alphanumeric())
            && (!bound_end || end == l.len() || !l[end].is_ascii_alphanumeric())
    })
}

fn is_screaming_snake(id: &str) -> bool {
    !id.is_empty()
        && id.as_bytes()[0].is_ascii_uppercase()
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::shadows;

    #[test]
    fn shadowing_respects_ascii_word_boundaries() {
        assert!(shadows("认证", "重新认证"));
        assert!(shadows("qq", "加qq"));
        assert!(shadows("qq", "qq群"));
        assert!(!shadows("http", "https"));
        assert!(!shadows("cvv", "cvv2"));
        assert!(!shadows("etc", "fetch"));
        assert!(shadows("etc", "etc卡"));
        assert!(!shadows("密接", "密切接触"));
    }
}
