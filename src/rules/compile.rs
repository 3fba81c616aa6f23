//! Compiling rule files into a [`RuleSet`]: validation, keyword normalisation, lint findings,
//! and one Aho-Corasick automaton over every keyword of every rule.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::Path;

use aho_corasick::{AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::format::{line_of, Diagnostic, RawKeyword, RawRule, RuleFile, RuleSource};
use super::keyword::Keyword;
use super::lexicon::{Lexicons, SCOPE_LEXICONS};
use super::{scope, Case, CaseExpect, Group, Rule, RuleAction, RuleSet, MAX_GROUPS, NONE_GROUP};
use crate::category::Category;
use crate::error::{Error, ErrorKind, Result};

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

/// Keyword bookkeeping while compiling: each distinct keyword gets one id, each distinct
/// anchor (the literal text the automaton looks for) one automaton pattern.
#[derive(Default)]
struct Table {
    ids: HashMap<Keyword, u32>,
    keywords: Vec<Keyword>,
    anchor_ids: HashMap<String, u32>,
    anchors: Vec<String>,
    anchor_keywords: Vec<Vec<u32>>,
}

impl Table {
    fn id(&mut self, keyword: &Keyword) -> u32 {
        if let Some(&id) = self.ids.get(keyword) {
            return id;
        }
        let id = self.keywords.len() as u32;
        self.ids.insert(keyword.clone(), id);
        self.keywords.push(keyword.clone());
        let anchor = match self.anchor_ids.get(&keyword.anchor) {
            Some(&a) => a,
            None => {
                let a = self.anchors.len() as u32;
                self.anchor_ids.insert(keyword.anchor.clone(), a);
                self.anchors.push(keyword.anchor.clone());
                self.anchor_keywords.push(Vec::new());
                a
            }
        };
        self.anchor_keywords[anchor as usize].push(id);
        id
    }
}

/// Compiles rule sources. Every error of every file is collected and returned at once;
/// lint findings that do not stop compilation are kept in [`RuleSet::warnings`].
pub fn compile(version: &str, sources: &[RuleSource]) -> Result<RuleSet> {
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut warnings: Vec<Diagnostic> = Vec::new();
    let mut table = Table::default();
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

    // Every file is read first: a rule may use a lexicon defined in any file of the set.
    let mut files = Vec::with_capacity(sources.len());
    let mut lexicons = Lexicons::default();
    for source in sources {
        match toml::from_str::<RuleFile>(&source.content) {
            Ok(mut f) => {
                let lex = std::mem::take(&mut f.lexicon);
                lexicons.add_file(&source.name, &source.content, lex, &mut errors);
                files.push((source, f));
            }
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
            }
        }
    }
    lint_lexicons(&mut lexicons, &mut errors, &mut warnings);

    for (source, file) in files {
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
            let mut ctx = RuleContext {
                source,
                location,
                table: &mut table,
                lexicons: &mut lexicons,
                errors: &mut errors,
                warnings: &mut warnings,
            };
            if let Some(rule) = compile_rule(raw, &mut ctx) {
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

    // The scope cues are keywords of the automaton too, with a role instead of a rule.
    let mut roles: Vec<(u32, u8)> = Vec::new();
    for (name, role) in SCOPE_LEXICONS.iter().zip(ROLES) {
        let mut err = |location: String, message: String| {
            errors.push(Diagnostic {
                location,
                rule: None,
                message,
            })
        };
        for word in lexicons.expand_lexicon(name, &mut err) {
            match Keyword::parse(&word.text) {
                Ok(k) => roles.push((table.id(&k), role)),
                Err(message) => errors.push(Diagnostic {
                    location: word.location,
                    rule: None,
                    message: format!("lexicon @{name}: {message}"),
                }),
            }
        }
    }
    for (name, location) in lexicons.unused() {
        warnings.push(Diagnostic {
            location,
            rule: None,
            message: format!("lexicon @{name} is never used"),
        });
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
        .build(&table.anchors)
        .map_err(|e| Error::new(ErrorKind::Rules, format!("keyword automaton: {e}")))?;
    let mut keyword_rules: Vec<Vec<(u32, u8)>> = vec![Vec::new(); table.keywords.len()];
    for (ri, rule) in rules.iter().enumerate() {
        let positive = rule
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| (g as u8, group));
        for (g, keywords) in positive
            .map(|(g, group)| (g, &group.keywords))
            .chain(std::iter::once((NONE_GROUP, &rule.none)))
        {
            for &k in keywords {
                let list = &mut keyword_rules[k as usize];
                if !list.contains(&(ri as u32, g)) {
                    list.push((ri as u32, g));
                }
            }
        }
    }
    let mut keyword_role = vec![0u8; table.keywords.len()];
    for (k, role) in roles {
        keyword_role[k as usize] |= role;
    }
    let anchor_bounded = table
        .anchors
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
        keyword_text: table.keywords.iter().map(Keyword::display).collect(),
        keywords: table.keywords,
        anchor_keywords: table.anchor_keywords,
        anchor_bounded,
        keyword_rules,
        keyword_role,
        ac,
        cases,
        warnings,
        lexicons: lexicons.names(),
    })
}

/// The role bits of the keywords of each of [`SCOPE_LEXICONS`], in the same order.
const ROLES: [u8; 3] = [
    scope::NEGATION_FORWARD,
    scope::NEGATION_BACKWARD,
    scope::QUOTE_WARNING,
];

/// Lint of each lexicon's own words, reported once at the lexicon rather than in every rule
/// that uses it; then use tracking starts afresh for the rules.
fn lint_lexicons(
    lexicons: &mut Lexicons,
    errors: &mut Vec<Diagnostic>,
    warnings: &mut Vec<Diagnostic>,
) {
    for name in lexicons.names() {
        let mut errs = Vec::new();
        let words = lexicons.expand_lexicon(&name, &mut |location, message| {
            errs.push(Diagnostic {
                location,
                rule: None,
                message,
            })
        });
        errors.extend(errs);
        let mut normalised = Vec::new();
        for w in words {
            match Keyword::parse(&w.text) {
                Ok(k) => normalised.push((k.display(), None)),
                Err(message) => errors.push(Diagnostic {
                    location: w.location,
                    rule: None,
                    message: format!("lexicon @{name}: {message}"),
                }),
            }
        }
        let location = lexicons.location(&name);
        lint_group("words", &normalised, &mut |message| {
            warnings.push(Diagnostic {
                location: location.clone(),
                rule: None,
                message: format!("lexicon @{name}: {message}"),
            })
        });
    }
    lexicons.clear_use();
}

/// A keyword as lint shows it, with the lexicon it came from.
type Shown = (String, Option<String>);

/// What compiling one rule reads and writes.
struct RuleContext<'a> {
    source: &'a RuleSource,
    location: String,
    table: &'a mut Table,
    lexicons: &'a mut Lexicons,
    errors: &'a mut Vec<Diagnostic>,
    warnings: &'a mut Vec<Diagnostic>,
}

fn compile_rule(raw: RawRule, ctx: &mut RuleContext<'_>) -> Option<Rule> {
    let before = ctx.errors.len();
    let location = ctx.location.clone();
    let rule_id = raw.id.clone();
    let errors = &mut *ctx.errors;
    let mut err_at = |location: String, message: String| {
        errors.push(Diagnostic {
            location,
            rule: Some(rule_id.clone()),
            message,
        })
    };
    if !is_screaming_snake(&raw.id) {
        err_at(
            location.clone(),
            format!("id {:?} is not SCREAMING_SNAKE_CASE", raw.id),
        );
    }
    let category = match raw.category.parse::<Category>() {
        Ok(c) => Some(c),
        Err(e) => {
            err_at(location.clone(), e);
            None
        }
    };
    let action = match raw.action.as_deref() {
        None | Some("score") => RuleAction::Score,
        Some("block") => RuleAction::Block,
        Some(other) => {
            err_at(
                location.clone(),
                format!("unknown action {other:?} (expected \"score\" or \"block\")"),
            );
            RuleAction::Score
        }
    };
    let weight = match (raw.weight, action) {
        (Some(w), _) if !w.is_finite() || w.abs() > 100.0 => {
            err_at(
                location.clone(),
                format!("weight {w} is out of range (-100 to 100)"),
            );
            0.0
        }
        (Some(w), _) => w,
        (None, RuleAction::Block) => 0.0,
        (None, RuleAction::Score) => {
            err_at(
                location.clone(),
                "rule has neither a weight nor an action".into(),
            );
            0.0
        }
    };
    if action == RuleAction::Block && category.is_some_and(|c| !c.is_fraud()) {
        err_at(
            location.clone(),
            "a block action needs a fraud category".into(),
        );
    }
    if raw.description.trim().is_empty() {
        err_at(location.clone(), "description is empty".into());
    }
    if raw.all.is_empty() && raw.any.is_empty() {
        err_at(
            location.clone(),
            "rule has no keywords: give `all` groups or an `any` group".into(),
        );
    }
    if raw.all.len() + usize::from(!raw.any.is_empty()) > MAX_GROUPS {
        err_at(
            location.clone(),
            format!("rule has more than {MAX_GROUPS} keyword groups"),
        );
    }

    let mut written: Vec<(String, &[RawKeyword])> = Vec::new();
    for (i, group) in raw.all.iter().enumerate() {
        if group.is_empty() {
            err_at(location.clone(), format!("keyword group all[{i}] is empty"));
        }
        written.push((format!("all[{i}]"), group));
    }
    if !raw.any.is_empty() {
        written.push(("any".into(), &raw.any));
    }
    let (file, content) = (&ctx.source.name, &ctx.source.content);
    let mut compiled: Vec<(String, Vec<Keyword>, Vec<Shown>)> = Vec::new();
    let mut none = None;
    for (kind, group) in written
        .into_iter()
        .chain(std::iter::once(("none".to_string(), &raw.none[..])))
    {
        let words = ctx.lexicons.expand(file, content, group, &mut err_at);
        let mut keywords = Vec::with_capacity(words.len());
        let mut shown = Vec::with_capacity(words.len());
        for w in words {
            match Keyword::parse(&w.text) {
                Ok(k) => {
                    shown.push((k.display(), w.lexicon));
                    keywords.push(k);
                }
                Err(message) => err_at(w.location, format!("`{kind}`: {message}")),
            }
        }
        if kind == "none" {
            none = Some((keywords, shown));
        } else {
            compiled.push((kind, keywords, shown));
        }
    }
    if ctx.errors.len() > before {
        return None;
    }
    let (none, none_shown) = none.unwrap_or_default();

    let mut warn = |message: String| {
        ctx.warnings.push(Diagnostic {
            location: location.clone(),
            rule: Some(raw.id.clone()),
            message,
        })
    };
    let mut groups = Vec::new();
    for (kind, keywords, shown) in &compiled {
        lint_group(kind, shown, &mut warn);
        if keywords.is_empty() {
            continue;
        }
        groups.push(Group {
            keywords: keywords.iter().map(|k| ctx.table.id(k)).collect(),
        });
    }
    lint_group("none", &none_shown, &mut warn);
    for (w, _) in &none_shown {
        if compiled
            .iter()
            .any(|(_, _, shown)| shown.iter().any(|(p, _)| p == w))
        {
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
        none: none.iter().map(|k| ctx.table.id(k)).collect(),
        campaign_min_size: raw.campaign_min_size,
        hit: raw.hit,
        miss: raw.miss,
    })
}

/// Duplicate keywords, and keywords shadowed by a shorter keyword of the same group (the
/// shorter one matches wherever the longer does, so the longer one adds nothing). Two words
/// that came from the same lexicon are that lexicon's business, linted once at its definition.
fn lint_group(kind: &str, words: &[Shown], warn: &mut impl FnMut(String)) {
    for (i, (a, la)) in words.iter().enumerate() {
        for (j, (b, lb)) in words.iter().enumerate() {
            if la.is_some() && la == lb {
                continue;
            }
            if i < j && a == b {
                warn(format!("duplicate keyword {a:?} in `{kind}`"));
            } else if i != j && a != b && shadows(a, b) {
                warn(format!("keyword {b:?} in `{kind}` is shadowed by {a:?}"));
            }
        }
    }
}

/// Whether keyword `short` matches wherever keyword `long` does. Keywords with ASCII
/// alphanumeric ends only match at ASCII word boundaries (see the matcher: letters next to
/// letters or digits next to digits), so `http` does not shadow `https`, while `cvv` does
/// shadow `cvv2`: the occurrence of `short` inside `long` must itself sit on such boundaries.
fn shadows(short: &str, long: &str) -> bool {
    let (s, l) = (short.as_bytes(), long.as_bytes());
    let bound_start = s[0].is_ascii_alphanumeric();
    let bound_end = s[s.len() - 1].is_ascii_alphanumeric();
    long.match_indices(short).any(|(pos, _)| {
        let end = pos + s.len();
        (!bound_start || pos == 0 || !super::matcher::same_word(l[pos - 1], l[pos]))
            && (!bound_end || end == l.len() || !super::matcher::same_word(l[end - 1], l[end]))
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
        assert!(shadows("cvv", "cvv2"));
        assert!(!shadows("qq", "qqq"));
        assert!(!shadows("etc", "fetch"));
        assert!(shadows("etc", "etc卡"));
        assert!(!shadows("密接", "密切接触"));
    }
}
