//! Reading links out of folded text (fold.rs): anchors on `://` (links with a scheme) and on
//! dots (links without), reads the host label by label, then port, path, query and fragment.
//!
//! What counts as a link without a scheme: a host whose public suffix is LISTED in the Public
//! Suffix List, with at least one label in front of it; or a dotted-quad IPv4 address. A top
//! level label of digits never counts (`198.00元`, `12.30`, `v1.2.3`), file names fail on
//! their extension (`.pdf`, `.exe`, `.jpg` are not suffixes), and suffixes that are also
//! common file extensions (`.zip`, `.mov`, `.py`, ...) count only after `www.` or a scheme.
//! A capitalised top-level label (`Mr.Li`, `iPhone14.Pro`) is prose unless `www.` opens
//! the host. An address after `@` with no scheme is an e-mail address, not a link. A path
//! stops at the first non-ASCII character: Chinese text glued after a link is far more common
//! in SMS than a Unicode path.
//!
//! Chinese text glued to a link on either side is not part of it: an ASCII label stops at the
//! first CJK character. A label of CJK characters (an IDN such as `例子.中国`) is read only
//! when it starts the host at a word boundary or after a scheme, or follows an ASCII dot; a
//! CJK top-level label is cut to the longest listed suffix, so `例子.中国了解` ends at `中国`.

use crate::chars::is_cjk;
use crate::span::Span;

use super::fold::{starts_with_ci, Folded, IDEOGRAPHIC_DOT};
use super::host::SuffixList;

/// Suffixes that are real TLDs but far more often file extensions: a link ending in one needs
/// a scheme or `www.` (`setup.zip`, `clip.mov`, `main.py`, `README.md`). `.cc`, `.pl` and
/// `.ai` are left out on purpose: as TLDs they are common in these scams, as file names rare
/// in an SMS.
const FILE_EXTENSION_SUFFIXES: &[&str] = &["zip", "mov", "py", "md", "rs", "sh", "ps", "so", "pm"];

/// One link found in a message, before it is judged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Half-open byte span in the original text.
    pub span: Span,
    /// The link with obfuscations undone and a scheme (`http://`) in front, ready for
    /// `url::Url::parse`.
    pub text: String,
    /// Written with a scheme.
    pub scheme: bool,
    /// FULLWIDTH | IDEOGRAPHIC_DOT | DEFANGED | SPACED_DOT.
    pub how: u8,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Cls {
    /// ASCII letter, digit or `-`.
    Ascii,
    /// A non-ASCII letter or digit that is not CJK (Cyrillic, Greek, accented Latin).
    Intl,
    Cjk,
    Dot,
    Other,
}

#[inline]
fn cls(c: char) -> Cls {
    if c.is_ascii_alphanumeric() || c == '-' {
        Cls::Ascii
    } else if c == '.' {
        Cls::Dot
    } else if c.is_ascii() {
        Cls::Other
    } else if is_cjk(c) {
        Cls::Cjk
    } else if c.is_alphanumeric() {
        Cls::Intl
    } else {
        Cls::Other
    }
}

fn prev_char(s: &str, i: usize) -> Option<char> {
    s[..i].chars().next_back()
}

fn next_char(s: &str, i: usize) -> Option<char> {
    s[i..].chars().next()
}

/// Longest label we walk over (DNS allows 63 bytes; this bounds the work on long CJK runs).
const MAX_LABEL_CHARS: usize = 63;

struct Scanner<'a> {
    f: &'a Folded,
    s: &'a str,
    psl: &'a SuffixList,
}

impl Scanner<'_> {
    /// Where the host holding the dot at `dot` starts, walking left.
    fn host_start(&self, dot: usize, floor: usize) -> Option<usize> {
        let s = self.s;
        let first = prev_char(s, dot).map(cls)?;
        let mut j = dot;
        match first {
            Cls::Ascii | Cls::Intl => {
                let mut n = 0;
                while j > floor {
                    let c = prev_char(s, j).unwrap_or_default();
                    match cls(c) {
                        Cls::Ascii | Cls::Intl => {}
                        Cls::Dot => {
                            // Only a dot between two labels joins them.
                            let before = prev_char(s, j - 1).map(cls);
                            if !matches!(before, Some(Cls::Ascii | Cls::Intl)) {
                                break;
                            }
                        }
                        _ => break,
                    }
                    j -= c.len_utf8();
                    n += 1;
                    if n > 4 * MAX_LABEL_CHARS {
                        return None;
                    }
                }
                Some(j)
            }
            Cls::Cjk => {
                // An IDN label joins only through a real dot: `。` after Chinese text ends a
                // sentence.
                if self.f.how_at(dot) & IDEOGRAPHIC_DOT != 0 {
                    return None;
                }
                let mut n = 0;
                while j > floor {
                    let c = prev_char(s, j).unwrap_or_default();
                    if !matches!(cls(c), Cls::Ascii | Cls::Intl | Cls::Cjk) {
                        break;
                    }
                    j -= c.len_utf8();
                    n += 1;
                    if n > MAX_LABEL_CHARS {
                        return None;
                    }
                }
                // The tail of a longer dotted run of Chinese text is not a host either.
                if prev_char(s, j) == Some('.') {
                    return None;
                }
                Some(j)
            }
            _ => None,
        }
    }

    /// Reads a host forward from `hs`: labels joined by dots. Returns the end of the host.
    /// `cjk_start`: a CJK label may open the host.
    fn host_end(&self, hs: usize, cjk_start: bool) -> Option<usize> {
        let s = self.s;
        let mut i = hs;
        let mut labels = 0;
        let mut end = None;
        loop {
            let ls = i;
            let first = next_char(s, i).map(cls);
            let mut cjk_label = false;
            let mut n = 0;
            match first {
                Some(Cls::Ascii | Cls::Intl) => {
                    while let Some(c) = next_char(s, i) {
                        if !matches!(cls(c), Cls::Ascii | Cls::Intl) || n >= MAX_LABEL_CHARS {
                            break;
                        }
                        i += c.len_utf8();
                        n += 1;
                    }
                }
                Some(Cls::Cjk) if labels > 0 || cjk_start => {
                    cjk_label = true;
                    while let Some(c) = next_char(s, i) {
                        if !matches!(cls(c), Cls::Ascii | Cls::Intl | Cls::Cjk)
                            || n >= MAX_LABEL_CHARS
                        {
                            break;
                        }
                        i += c.len_utf8();
                        n += 1;
                    }
                }
                _ => break,
            }
            if cjk_label {
                // A CJK label runs into the sentence after it: keep only the longest prefix
                // that is a listed suffix when it ends the host; inside the host keep it whole.
                let followed_by_label = s[i..].starts_with('.')
                    && next_char(s, i + 1)
                        .is_some_and(|c| cls(c) != Cls::Other && cls(c) != Cls::Dot)
                    && self.f.how_at(i) & IDEOGRAPHIC_DOT == 0;
                if !followed_by_label && labels > 0 {
                    match self.longest_suffix_prefix(&s[ls..i]) {
                        Some(len) => i = ls + len,
                        None => break,
                    }
                }
            }
            labels += 1;
            end = Some(i);
            // Continue over a dot only into another label. An ideographic full stop before
            // a CJK character ends a sentence, not a label.
            if s[i..].starts_with('.') {
                let next = next_char(s, i + 1).map(cls);
                let ok = match next {
                    Some(Cls::Ascii | Cls::Intl) => true,
                    Some(Cls::Cjk) => self.f.how_at(i) & IDEOGRAPHIC_DOT == 0,
                    _ => false,
                };
                if ok {
                    i += 1;
                    continue;
                }
            }
            break;
        }
        end.filter(|&e| e > hs)
    }

    /// Byte length of the longest prefix of `label` that is a listed top-level suffix.
    fn longest_suffix_prefix(&self, label: &str) -> Option<usize> {
        let ends: Vec<usize> = label
            .char_indices()
            .map(|(k, c)| k + c.len_utf8())
            .take(8)
            .collect();
        ends.into_iter()
            .rev()
            .find(|&e| self.psl.is_suffix(&label[..e]))
    }

    /// Port, path, query, fragment after a host ending at `he`. Returns the link's end.
    fn rest_end(&self, he: usize) -> usize {
        let s = self.s;
        let b = s.as_bytes();
        let mut i = he;
        if i < b.len() && b[i] == b':' {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if (1..=5).contains(&digits) {
                i += 1 + digits;
            }
        }
        if i < b.len() && matches!(b[i], b'/' | b'?' | b'#') {
            let mut depth_paren = 0i32;
            let mut depth_bracket = 0i32;
            while i < b.len() {
                let c = b[i];
                let ok = c.is_ascii_graphic()
                    && !matches!(
                        c,
                        b'<' | b'>' | b'"' | b'`' | b'{' | b'}' | b'|' | b'\\' | b'^'
                    );
                if !ok {
                    break;
                }
                match c {
                    b'(' => depth_paren += 1,
                    b')' if depth_paren == 0 => break,
                    b')' => depth_paren -= 1,
                    b'[' => depth_bracket += 1,
                    b']' if depth_bracket == 0 => break,
                    b']' => depth_bracket -= 1,
                    _ => {}
                }
                i += 1;
            }
            // Sentence punctuation after a link is not part of it.
            while i > he && matches!(b[i - 1], b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'') {
                i -= 1;
            }
        }
        i
    }

    /// The scheme ending right before `colon` (`http` in `http://`), if it is one we follow.
    fn scheme_before(&self, colon: usize) -> Option<usize> {
        let b = self.s.as_bytes();
        let mut j = colon;
        while j > 0 && b[j - 1].is_ascii_alphabetic() && colon - j < 8 {
            j -= 1;
        }
        let scheme = &self.s[j..colon];
        let known = ["http", "https", "ftp"]
            .iter()
            .any(|k| scheme.eq_ignore_ascii_case(k));
        // `xhttp://` is not a scheme we know; `点击http://` is fine.
        let glued = j > 0 && b[j - 1].is_ascii_alphanumeric();
        (known && !glued).then_some(j)
    }
}

/// Every link in the folded text, in order, without overlaps.
pub fn scan(f: &Folded, psl: &SuffixList, max: usize, out: &mut Vec<Candidate>) {
    let s = f.as_str();
    let b = s.as_bytes();
    let sc = Scanner { f, s, psl };
    let mut cursor = 0;
    let mut i = 0;
    while i < b.len() && out.len() < max {
        let c = b[i];
        if c == b':' && b[i + 1..].starts_with(b"//") {
            if let Some(ss) = sc.scheme_before(i).filter(|&ss| ss >= cursor) {
                if let Some(cand) = with_scheme(&sc, ss, i + 3) {
                    cursor = cand.1;
                    i = cursor;
                    out.push(cand.0);
                    continue;
                }
            }
            i += 3;
            continue;
        }
        if c == b'.' && i >= cursor {
            match without_scheme(&sc, i, cursor) {
                Attempt::Found(cand, end) => {
                    cursor = end;
                    i = end;
                    out.push(cand);
                    continue;
                }
                Attempt::Skip(end) => {
                    i = end.max(i + 1);
                    continue;
                }
            }
        }
        i += 1;
    }
}

fn make(sc: &Scanner<'_>, s: usize, e: usize, url: String, scheme: bool) -> Candidate {
    Candidate {
        span: sc.f.original_span(Span::new(s, e)),
        text: url,
        scheme,
        how: sc.f.how_over(s, e),
    }
}

/// A link written with a scheme; `after` is just past `://`.
fn with_scheme(sc: &Scanner<'_>, ss: usize, after: usize) -> Option<(Candidate, usize)> {
    let s = sc.s;
    let b = s.as_bytes();
    // Userinfo: everything up to the last `@` before the path, in ASCII.
    let mut hs = after;
    let mut k = after;
    while k < b.len() {
        let c = b[k];
        if !c.is_ascii_graphic() || matches!(c, b'/' | b'?' | b'#' | b'<' | b'>' | b'"') {
            break;
        }
        if c == b'@' {
            hs = k + 1;
        }
        k += 1;
    }
    let he = if b.get(hs) == Some(&b'[') {
        // An IPv6 literal.
        let close = s[hs..].find(']')? + hs + 1;
        if !s[hs + 1..close - 1]
            .bytes()
            .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        {
            return None;
        }
        close
    } else {
        sc.host_end(hs, true)?
    };
    let end = sc.rest_end(he);
    let url = s[ss..end].to_string();
    Some((make(sc, ss, end, url, true), end))
}

enum Attempt {
    Found(Candidate, usize),
    /// Nothing here; resume scanning at this folded offset.
    Skip(usize),
}

/// A link without a scheme, around the dot at `dot`.
fn without_scheme(sc: &Scanner<'_>, dot: usize, floor: usize) -> Attempt {
    let s = sc.s;
    let Some(hs) = sc.host_start(dot, floor) else {
        return Attempt::Skip(dot + 1);
    };
    let cjk_start = next_char(s, hs).is_some_and(|c| cls(c) == Cls::Cjk);
    let Some(he) = sc.host_end(hs, cjk_start) else {
        return Attempt::Skip(dot + 1);
    };
    if he <= dot + 1 {
        return Attempt::Skip(dot + 1);
    }
    let host = &s[hs..he];
    let before = prev_char(s, hs);
    // `name@host` without a scheme is an e-mail address, unless the "name" is a `www.` host:
    // then it is the userinfo trick written without a scheme (`www.gov.cn@evil.top`).
    let mut start = hs;
    if before == Some('@') {
        let at = hs - 1;
        let ls = sc.host_start_any(at, floor);
        if ls < at && starts_with_ci(&s[ls..at], "www.") {
            start = ls;
        } else {
            return Attempt::Skip(he);
        }
    } else if matches!(before, Some('/' | '\\' | '_' | '$' | '%' | '=' | '&')) {
        // Part of a path or of something that is not a link written on its own.
        return Attempt::Skip(he);
    }
    // `www.gov.cn@evil.top`: the userinfo trick written without a scheme; the host is the
    // one after `@`. Any other `name.name@host` is an e-mail address.
    let mut he = he;
    if s[he..].starts_with('@') {
        if start != hs || !starts_with_ci(host, "www.") {
            return Attempt::Skip(he + 1);
        }
        let Some(he2) = sc.host_end(he + 1, false) else {
            return Attempt::Skip(he + 1);
        };
        if !host_counts_without_scheme(sc, &s[he + 1..he2]) {
            return Attempt::Skip(he2);
        }
        he = he2;
    } else if !host_counts_without_scheme(sc, host) {
        // A host that opened with CJK text may hold a real ASCII host further on
        // (`小吃.烧烤yepu.zmeng.cc`): look again from the next dot.
        let resume = if cjk_start { dot + 1 } else { he };
        return Attempt::Skip(resume);
    }
    let end = sc.rest_end(he);
    let url = format!("http://{}", &s[start..end]);
    Attempt::Found(make(sc, start, end, url, false), end)
}

impl Scanner<'_> {
    /// Start of the run of host characters (and dots) ending at `at`.
    fn host_start_any(&self, at: usize, floor: usize) -> usize {
        let mut j = at;
        while j > floor {
            let c = prev_char(self.s, j).unwrap_or_default();
            if !matches!(cls(c), Cls::Ascii | Cls::Intl | Cls::Dot) {
                break;
            }
            j -= c.len_utf8();
        }
        j
    }
}

/// Longest CJK label read without a scheme: Chinese sentences glued to a dot are not labels.
const MAX_CJK_LABEL_CHARS: usize = 8;

/// The test a host written without a scheme must pass (module docs).
fn host_counts_without_scheme(sc: &Scanner<'_>, host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    // CJK labels without a scheme: only under a CJK top-level label (`例子.中国`, not
    // `研究生.MBA`), and short.
    let has_cjk = |l: &str| l.chars().any(is_cjk);
    if labels.iter().any(|l| has_cjk(l)) {
        let tld_cjk = labels.last().is_some_and(|l| has_cjk(l));
        let short = labels
            .iter()
            .all(|l| l.chars().count() <= MAX_CJK_LABEL_CHARS);
        if !tld_cjk || !short {
            return false;
        }
    }
    if labels.iter().all(|l| l.bytes().all(|c| c.is_ascii_digit())) {
        return labels.len() == 4
            && labels
                .iter()
                .all(|l| l.len() <= 3 && l.parse::<u16>().is_ok_and(|n| n <= 255));
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|c| c.is_ascii_digit() || c == b'-') {
        return false;
    }
    if labels
        .iter()
        .any(|l| l.starts_with('-') || l.ends_with('-'))
    {
        return false;
    }
    let lower = host.to_lowercase();
    let ascii = if lower.is_ascii() {
        lower
    } else {
        match idna::domain_to_ascii(&lower) {
            Ok(a) => a,
            Err(_) => return false,
        }
    };
    let split = sc.psl.split(&ascii);
    if split.registrable.is_none() {
        return false;
    }
    // `Mr.Li`, `iPhone14.Pro`: a capitalised word after a dot is prose, not a top-level
    // label (links are written `abc.com`, `ABC.COM`, at worst `Abc.com`).
    let title_case = tld.len() >= 2
        && tld.as_bytes()[0].is_ascii_uppercase()
        && tld.bytes().skip(1).all(|c| c.is_ascii_lowercase());
    if title_case && !starts_with_ci(host, "www.") {
        return false;
    }
    let tld_lower = tld.to_ascii_lowercase();
    if FILE_EXTENSION_SUFFIXES.contains(&tld_lower.as_str()) && !starts_with_ci(host, "www.") {
        return false;
    }
    true
}
