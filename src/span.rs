//! The one byte-range type: where a keyword match, a hit, a link or a CSV field sits in a text
//! or a buffer.

use std::ops::Range;

use serde::Serialize;

/// A half-open byte range `start..end`. Positions in a message are `Span` (`usize`);
/// `Span<u32>` is for where many are held at once and four bytes an end are enough (keyword
/// matches, the fields of a rescore chunk). In JSON it is the two fields `start` and `end`
/// (flattened into the object that holds it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span<I = usize> {
    pub start: I,
    pub end: I,
}

impl<I> Span<I> {
    pub const fn new(start: I, end: I) -> Self {
        Span { start, end }
    }
}

impl Span {
    pub fn range(self) -> Range<usize> {
        self.start..self.end
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The same range held in four-byte ends. The caller knows it fits (positions in a
    /// message under the size limit, offsets in a chunk).
    pub fn narrow(self) -> Span<u32> {
        Span::new(self.start as u32, self.end as u32)
    }
}

impl Span<u32> {
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end <= self.start
    }

    pub fn widen(self) -> Span {
        Span::new(self.start as usize, self.end as usize)
    }
}

impl From<Span<u32>> for Span {
    fn from(s: Span<u32>) -> Span {
        s.widen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_lengths_and_widths() {
        let s = Span::new(3usize, 7);
        assert_eq!(s.range(), 3..7);
        assert_eq!(s.len(), 4);
        assert!(!s.is_empty() && Span::new(2usize, 2).is_empty());
        assert_eq!(s.narrow(), Span::new(3u32, 7));
        assert_eq!(s.narrow().range(), 3..7);
        assert_eq!(Span::from(s.narrow()), s);
        assert_eq!(&"0123456789"[s.range()], "3456");
    }

    #[test]
    fn serialises_as_start_and_end() {
        #[derive(Serialize)]
        struct Holder {
            rule: &'static str,
            #[serde(flatten)]
            span: Span,
            text: &'static str,
        }
        let h = Holder {
            rule: "r",
            span: Span::new(1, 5),
            text: "abcd",
        };
        assert_eq!(
            serde_json::to_string(&h).unwrap(),
            r#"{"rule":"r","start":1,"end":5,"text":"abcd"}"#
        );
    }
}
