//! Content digests that make versions name their content: the rule set's `VERSION` text plus
//! `+` and 8 hex digits over every file the rule set is built from (`2026.11.30-1+3fa9c2d1`).
//!
//! The digest covers every file under the rule directory, recursively, whatever its kind (rule
//! files, lexicons, domain lists, the suffix list), except `VERSION` itself, documentation
//! (`*.md`) and hidden files (editor and deploy-tool temporaries). Each file contributes its
//! path relative to the directory, its length and its bytes, in path order, so renaming,
//! moving or editing any of them changes the digest; re-stamping VERSION alone does not.
//!
//! std only: build.rs includes this file (and fnv.rs beside it, as `crate::fnv`) to stamp the
//! compiled-in rule set the same way, so the compiled-in rules and `--rules rules/` from the
//! same checkout give the same string.

use std::fs;
use std::io;
use std::path::Path;

use crate::fnv::{feed64 as feed, OFFSET64 as OFFSET};

/// The 8 hex digits shown in versions: the 64-bit hash folded to 32 bits.
fn short(h: u64) -> String {
    format!("{:08x}", (h ^ (h >> 32)) as u32)
}

/// The digest of one text (a model file).
pub fn of_text(text: &str) -> String {
    short(feed(OFFSET, text.as_bytes()))
}

/// The digest of a rule directory's content.
pub fn of_dir(dir: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    collect(dir, "", &mut files)?;
    files.sort();
    let mut h = OFFSET;
    for rel in &files {
        let bytes = fs::read(dir.join(rel))?;
        h = feed(h, rel.as_bytes());
        h = feed(h, &[0]);
        h = feed(h, &(bytes.len() as u64).to_le_bytes());
        h = feed(h, &bytes);
    }
    Ok(short(h))
}

/// Files under `dir` (relative paths with `/`), skipping what [`of_dir`] leaves out.
fn collect(dir: &Path, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let rel = format!("{prefix}{name}");
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            collect(&path, &format!("{rel}/"), out)?;
        } else if rel != "VERSION" && !name.ends_with(".md") {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small rule directory: VERSION, a rule file and a domain list.
    fn sample() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        fs::write(p.join("VERSION"), "v1").unwrap();
        fs::write(p.join("a.toml"), "weight = 1.0").unwrap();
        fs::create_dir(p.join("domains")).unwrap();
        fs::write(p.join("domains").join("malicious.txt"), "bad.top\n").unwrap();
        dir
    }

    #[test]
    fn any_content_change_changes_the_digest_and_version_alone_does_not() {
        let dir = sample();
        let p = dir.path();
        let first = of_dir(p).unwrap();
        assert_eq!(first.len(), 8);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));

        // Not content: VERSION, documentation, hidden temporaries.
        fs::write(p.join("VERSION"), "v2").unwrap();
        fs::write(p.join("CHANGELOG.md"), "notes").unwrap();
        fs::write(p.join(".a.toml.swp"), "x").unwrap();
        assert_eq!(of_dir(p).unwrap(), first);

        // Content, whatever its kind or place.
        let changes: [(&str, &str); 4] = [
            ("a.toml", "weight = 1.5"),
            ("domains/malicious.txt", "bad.top\nworse.top\n"),
            ("lexicons.lex", "@pay = 付款"),
            ("public_suffix_list.dat", "top\n"),
        ];
        let mut seen = vec![first];
        for (file, content) in changes {
            fs::write(p.join(file), content).unwrap();
            let d = of_dir(p).unwrap();
            assert!(!seen.contains(&d), "{file}: digest did not change");
            seen.push(d);
        }
        // A rename is a change too.
        fs::rename(p.join("lexicons.lex"), p.join("other.lex")).unwrap();
        assert!(!seen.contains(&of_dir(p).unwrap()));
    }

    #[test]
    fn digests_are_pinned() {
        // Versions in deployed configs and reports name these strings: FNV-1a 64 folded to 32
        // bits, the values computed independently.
        assert_eq!(of_text("rules"), "4f431caa");
        assert_eq!(of_dir(sample().path()).unwrap(), "aefa2355");
    }

    #[test]
    fn text_digest_is_stable() {
        // FNV-1a 64 of the empty input is the offset basis, folded.
        assert_eq!(
            of_text(""),
            format!("{:08x}", (OFFSET ^ (OFFSET >> 32)) as u32)
        );
        assert_ne!(of_text("a"), of_text("b"));
    }
}
