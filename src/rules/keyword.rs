//! One keyword as the matcher sees it: a normalised phrase, optionally with one number slot.
//!
//! A rule author writes `<num>` where any number may stand: `"<num>小时出"` fires on `2小时出`,
//! `24h出`, `两个小时出`, `一个半小时出` and `二十五小时出` alike, because the normaliser has
//! already written every number before a unit in ASCII digits and every unit in one form
//! (see [`crate::normalize`]). `"每份<num>"` puts the number after the phrase. A number is a
//! run of ASCII digits with at most one inner `.` (`1.5`); in a match, the span covers it.
//!
//! The automaton looks for the literal part (the "anchor": the text after `<num>`, or before
//! it when nothing follows); the number and the text before it are checked around each
//! occurrence of the anchor.

use crate::normalize::normalize;

/// The placeholder for a number in a keyword as written.
pub const NUM: &str = "<num>";

/// A compiled keyword.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Keyword {
    /// The literal text the automaton looks for (normalised, never empty).
    pub anchor: String,
    pub slot: NumSlot,
}

/// Where a keyword's number sits relative to its anchor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum NumSlot {
    /// A plain phrase.
    None,
    /// A number right before the anchor, and this text (possibly empty) right before it.
    Before(String),
    /// A number right after the anchor.
    After,
}

impl Keyword {
    /// Parses and normalises a keyword as written (a lexicon reference is resolved before).
    pub fn parse(written: &str) -> Result<Keyword, String> {
        let mut parts = written.split(NUM);
        let first = parts.next().unwrap_or("");
        let Some(second) = parts.next() else {
            let n = normalize(written);
            if n.is_empty() {
                return Err(format!("keyword {written:?} is empty after normalisation"));
            }
            return Ok(Keyword {
                anchor: n.as_str().to_string(),
                slot: NumSlot::None,
            });
        };
        if parts.next().is_some() {
            return Err(format!("keyword {written:?} has more than one {NUM}"));
        }
        let before = normalize(first).as_str().to_string();
        // The text after the number is normalised as it will be in a message: after a number
        // (so that `<num>h` reads `<num>小时`, as `24h` does).
        let after = {
            let n = normalize(&format!("0{second}"));
            match n.as_str().strip_prefix('0') {
                Some(rest) => rest.to_string(),
                None => n.as_str().to_string(),
            }
        };
        match (before.is_empty(), after.is_empty()) {
            (_, false) => Ok(Keyword {
                anchor: after,
                slot: NumSlot::Before(before),
            }),
            (false, true) => Ok(Keyword {
                anchor: before,
                slot: NumSlot::After,
            }),
            (true, true) => Err(format!(
                "keyword {written:?} needs text beside {NUM} (a unit such as {NUM}小时)"
            )),
        }
    }

    /// The keyword in its normalised form, `<num>` included, for messages and listings.
    pub fn display(&self) -> String {
        match &self.slot {
            NumSlot::None => self.anchor.clone(),
            NumSlot::Before(before) => format!("{before}{NUM}{}", self.anchor),
            NumSlot::After => format!("{}{NUM}", self.anchor),
        }
    }

    /// Given an occurrence `start..end` of the anchor in normalised `text`, the span of the
    /// whole keyword, or `None` when the number (or the text before it) is not there.
    #[inline]
    pub fn extend(&self, text: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
        match &self.slot {
            NumSlot::None => Some((start, end)),
            NumSlot::Before(before) => {
                let num_start = number_before(text, start)?;
                let b = before.as_bytes();
                if text[..num_start].ends_with(b) {
                    Some((num_start - b.len(), end))
                } else {
                    None
                }
            }
            NumSlot::After => number_after(text, end).map(|e| (start, e)),
        }
    }
}

/// Start of the number that ends at `end`, if one does: ASCII digits with at most one inner `.`.
#[inline]
fn number_before(text: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    let mut dot = false;
    while i > 0 {
        let b = text[i - 1];
        if b.is_ascii_digit() {
            i -= 1;
        } else if b == b'.' && !dot && i < end && i >= 2 && text[i - 2].is_ascii_digit() {
            dot = true;
            i -= 1;
        } else {
            break;
        }
    }
    (i < end).then_some(i)
}

/// End of the number that starts at `start`, if one does.
#[inline]
fn number_after(text: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    let mut dot = false;
    while i < text.len() {
        let b = text[i];
        if b.is_ascii_digit() {
            i += 1;
        } else if b == b'.'
            && !dot
            && i > start
            && text.get(i + 1).is_some_and(|c| c.is_ascii_digit())
        {
            dot = true;
            i += 1;
        } else {
            break;
        }
    }
    (i > start).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let k = Keyword::parse("<num>小时出").unwrap();
        assert_eq!(k.anchor, "小时出");
        assert_eq!(k.slot, NumSlot::Before(String::new()));
        assert_eq!(k.display(), "<num>小时出");
        let k = Keyword::parse("每份<num>").unwrap();
        assert_eq!((k.anchor.as_str(), &k.slot), ("每份", &NumSlot::After));
        let k = Keyword::parse("加急<num>h").unwrap();
        assert_eq!(k.display(), "加急<num>小时");
        assert_eq!(k.slot, NumSlot::Before("加急".into()));
        let k = Keyword::parse("健康碼").unwrap();
        assert_eq!((k.anchor.as_str(), &k.slot), ("健康码", &NumSlot::None));
        assert!(Keyword::parse("<num>").is_err());
        assert!(Keyword::parse("<num>元<num>").is_err());
        assert!(Keyword::parse(" ").is_err());
    }

    #[test]
    fn numbers_around_anchors() {
        let t = b"ab12.5xy.3z";
        assert_eq!(number_before(t, 6), Some(2));
        assert_eq!(number_before(t, 2), None);
        assert_eq!(number_before(b".5x", 2), Some(1));
        assert_eq!(number_after(t, 2), Some(6));
        assert_eq!(number_after(t, 8), None);
        assert_eq!(number_after(b"1.", 0), Some(1));
    }
}
