//! A campaign's template: the masked text its copies share.
//!
//! The first copy's masked text is the starting template; each of the next few copies is
//! aligned with it (longest common subsequence of characters) and whatever the two do not
//! share becomes one gap (`…`). A name, an amount or a code that differs from copy to copy
//! therefore disappears from the template even when masking did not recognise it, which is
//! why a report shows a template only once at least two copies have been merged.

use super::mask::GAP;

/// Characters of a masked text that take part in the alignment; the rest is cut off (a gap).
pub const MAX_CHARS: usize = 300;

/// Copies merged into a template; later copies leave it as it is.
pub const MERGES: u32 = 8;

/// The common part of `template` and `other`, with a gap wherever either has characters the
/// other does not.
pub fn merge(template: &[char], other: &[char]) -> Vec<char> {
    let mut out = Vec::new();
    merge_into(template, other, &mut Vec::new(), &mut out);
    out
}

/// [`merge`] into `out` (cleared first), with `lcs` as the working table: no allocation once
/// the buffers have grown.
pub fn merge_into(template: &[char], other: &[char], lcs: &mut Vec<u16>, out: &mut Vec<char>) {
    out.clear();
    let a = &template[..template.len().min(MAX_CHARS)];
    let b = &other[..other.len().min(MAX_CHARS)];
    // A common prefix is copied as it is: the walk below takes equal characters first, so it
    // would align the prefix with itself, and the table of the rest does not depend on it.
    let p = a
        .iter()
        .zip(b)
        .take_while(|(x, y)| x == y && **x != GAP)
        .count();
    out.extend_from_slice(&a[..p]);
    let (a, b) = (&a[p..], &b[p..]);
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: the LCS length of a[i..] and b[j..].
    let w = m + 1;
    lcs.clear();
    lcs.resize((n + 1) * w, 0);
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if a[i] == b[j] && a[i] != GAP {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut gap = false;
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] && a[i] != GAP {
            out.push(a[i]);
            i += 1;
            j += 1;
            gap = false;
            continue;
        }
        if !gap {
            out.push(GAP);
            gap = true;
        }
        if i < n && (j == m || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
            i += 1;
        } else {
            j += 1;
        }
    }
    if (template.len() > MAX_CHARS || other.len() > MAX_CHARS) && out.last() != Some(&GAP) {
        out.push(GAP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::mask::display;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn differing_fill_becomes_one_gap() {
        let t = merge(
            &chars("dear anna, your code is ready"),
            &chars("dear bob, your code is ready"),
        );
        let shown = display(&t);
        assert!(!shown.contains("anna") && !shown.contains("bob"), "{shown}");
        assert!(shown.contains("your code is ready"), "{shown}");
        let t2 = merge(&t, &chars("dear carl, your code is ready"));
        assert!(!display(&t2).contains("carl"));
        assert!(display(&t2).ends_with("your code is ready"));
    }

    #[test]
    fn identical_copies_keep_everything_and_empty_sides_are_gaps() {
        let a = chars("同一个模板");
        assert_eq!(merge(&a, &a), a);
        assert_eq!(display(&merge(&a, &[])), "…");
        assert_eq!(display(&merge(&[], &[])), "");
    }

    #[test]
    fn long_texts_are_cut() {
        let a: Vec<char> = std::iter::repeat_n('a', MAX_CHARS + 50).collect();
        let t = merge(&a, &a);
        assert_eq!(t.len(), MAX_CHARS + 1);
        assert_eq!(*t.last().unwrap(), GAP);
    }
}
