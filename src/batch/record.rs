//! Rescore records: the input formats, what a reader hands over (chunks of [`Item`]s), why a
//! record is rejected ([`Reason`]), and one record in and out: parsing a JSONL line or the
//! CSV/TSV fields a reader cut (into a `Record` to score or a `Rejected` with its reason), and
//! encoding a verdict or a reject as one output line. No threads here: the pipeline calls
//! these from its pool.

use std::borrow::Cow;
use std::io;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::defaults::MAX_TEXT_BYTES;
use crate::engine::TextProblem;
use crate::span::Span;
use crate::verdict::Verdict;

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line: `text` (required), `id` (any JSON value), `sender`.
    Jsonl,
    /// Comma-separated, RFC 4180 quoting, a header naming `text` (and `id`, `sender`); every
    /// record has as many fields as the header.
    Csv,
    /// Tab-separated, same quoting and header as CSV.
    Tsv,
}

impl Format {
    /// The format a file name implies (`.jsonl`, `.csv`, `.tsv`, each optionally `.gz`);
    /// JSONL for anything else, including standard input.
    pub fn from_path(path: &Path) -> Format {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        if name.ends_with(".csv") {
            Format::Csv
        } else if name.ends_with(".tsv") || name.ends_with(".tab") {
            Format::Tsv
        } else {
            Format::Jsonl
        }
    }

    pub(super) fn delimiter(self) -> u8 {
        match self {
            Format::Tsv => b'\t',
            _ => b',',
        }
    }
}

/// Why a record was rejected. The reasons name the problem, never the record's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    EmptyLine,
    TooLong,
    InvalidUtf8,
    NotJson,
    NotObject,
    DuplicateField,
    NoText,
    TextNotString,
    TextEmpty,
    TextTooLong,
    SenderNotString,
    UnterminatedQuote,
    /// A CSV/TSV record with more or fewer fields than the header.
    FieldCount,
    /// The engine failed on this record (a bug; reported rather than ending the run).
    Internal,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::EmptyLine => "empty line",
            Reason::TooLong => "record over the size limit",
            Reason::InvalidUtf8 => "invalid UTF-8",
            Reason::NotJson => "not JSON",
            Reason::NotObject => "not a JSON object",
            Reason::DuplicateField => "duplicate field",
            Reason::NoText => "no text field",
            Reason::TextNotString => "text is not a string",
            Reason::TextEmpty => "text is empty",
            Reason::TextTooLong => "text over the size limit",
            Reason::SenderNotString => "sender is not a string or number",
            Reason::UnterminatedQuote => "unterminated quoted field",
            Reason::FieldCount => "wrong number of fields",
            Reason::Internal => "internal error while scoring",
        }
    }
}

/// One record as the reader found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A JSONL line (without its line end) still to parse.
    Line { line: u64, bytes: Span<u32> },
    /// A CSV/TSV record, split into the columns smishd reads (unquoted, not yet UTF-8 checked).
    Fields {
        line: u64,
        text: Option<Span<u32>>,
        id: Option<Span<u32>>,
        sender: Option<Span<u32>>,
        /// A `time` or `timestamp` column (read by `smishd campaigns`).
        time: Option<Span<u32>>,
    },
    /// Rejected while reading (too long, unterminated quote, wrong number of fields).
    Reject { line: u64, reason: Reason },
}

/// Consecutive records and the bytes their spans point into.
#[derive(Debug, Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub items: Vec<Item>,
}

impl Chunk {
    /// The bytes of a span of the chunk's buffer.
    pub fn get(&self, span: Span<u32>) -> &[u8] {
        &self.data[span.range()]
    }
}

/// A source of chunks of records, in input order.
pub trait RecordReader: Send {
    /// The next chunk of at most `max_records` records, ending early once `max_bytes` of
    /// record bytes are held; `None` at the end of input.
    fn next_chunk(&mut self, max_records: usize, max_bytes: usize) -> io::Result<Option<Chunk>>;
}

/// An echoed id: raw JSON from a JSONL record, or a CSV/TSV cell (echoed as a string).
#[derive(Clone, Copy, Debug)]
pub enum IdRef<'a> {
    Raw(&'a RawValue),
    Str(&'a str),
}

impl Serialize for IdRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            IdRef::Raw(r) => r.serialize(s),
            IdRef::Str(t) => s.serialize_str(t),
        }
    }
}

/// One good record, borrowed from its chunk where it can be.
pub(super) struct Record<'a> {
    pub line: u64,
    pub id: Option<IdRef<'a>>,
    pub text: Cow<'a, str>,
    pub sender: Option<Cow<'a, str>>,
}

/// A bad record: its line, why, and its id when that could be read.
pub(super) struct Rejected<'a> {
    pub line: u64,
    pub reason: Reason,
    pub id: Option<IdRef<'a>>,
}

pub(super) fn reject(line: u64, reason: Reason) -> Rejected<'static> {
    Rejected {
        line,
        reason,
        id: None,
    }
}

/// A JSONL record as parsed: every field kept raw, so the type of `text` can be checked and
/// `id` echoed byte for byte, and unknown fields skipped.
#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow, default, deserialize_with = "some_raw")]
    text: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "some_raw")]
    id: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "some_raw")]
    sender: Option<&'a RawValue>,
}

/// `Some` for every present field, `null` included (plain `Option` would make `null` absent).
fn some_raw<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&'de RawValue>::deserialize(d).map(Some)
}

/// The string a raw JSON value holds, borrowed when it has no escapes; `None` if not a string.
fn json_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let s = raw.get();
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(s).ok().map(Cow::Owned)
}

pub(super) fn parse_jsonl(line: u64, bytes: &[u8]) -> Result<Record<'_>, Rejected<'_>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(reject(line, Reason::EmptyLine));
    }
    let s = std::str::from_utf8(bytes).map_err(|_| reject(line, Reason::InvalidUtf8))?;
    // A derived Deserialize also accepts a struct written as an array; a record is an object.
    if !s.trim_start().starts_with('{') {
        return Err(reject(line, classify(s)));
    }
    let raw: RawRecord = serde_json::from_str(s).map_err(|_| reject(line, classify(s)))?;
    let id = raw.id.map(IdRef::Raw);
    let with_id = |reason| Rejected { line, reason, id };
    let text = raw.text.ok_or_else(|| with_id(Reason::NoText))?;
    let text = json_str(text).ok_or_else(|| with_id(Reason::TextNotString))?;
    let sender = match raw.sender {
        None => None,
        Some(r) if r.get() == "null" => None,
        Some(r) => match json_str(r) {
            Some(s) => Some(s),
            // A sender written as a number (`10086`) is the same sender.
            None if r.get().bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
                Some(Cow::Borrowed(r.get()))
            }
            None => return Err(with_id(Reason::SenderNotString)),
        },
    };
    check_text(&text).map_err(with_id)?;
    Ok(Record {
        line,
        id,
        text,
        sender,
    })
}

/// Why a line that did not parse as a record is bad. Only runs for rejected lines.
fn classify(s: &str) -> Reason {
    match serde_json::from_str::<serde_json::Value>(s) {
        Err(_) => Reason::NotJson,
        Ok(serde_json::Value::Object(_)) => Reason::DuplicateField,
        Ok(_) => Reason::NotObject,
    }
}

/// The checks every face applies before scoring (as `score` does): not blank, not too long.
pub(crate) fn check_text(text: &str) -> Result<(), Reason> {
    crate::engine::check_text(text, MAX_TEXT_BYTES).map_err(|p| match p {
        TextProblem::Blank => Reason::TextEmpty,
        TextProblem::TooLong { .. } => Reason::TextTooLong,
    })
}

pub(super) fn parse_fields<'a>(
    chunk: &'a Chunk,
    line: u64,
    text: Option<Span<u32>>,
    id: Option<Span<u32>>,
    sender: Option<Span<u32>>,
) -> Result<Record<'a>, Rejected<'a>> {
    let utf8 = |span: Span<u32>| {
        std::str::from_utf8(chunk.get(span)).map_err(|_| reject(line, Reason::InvalidUtf8))
    };
    let id = id.map(utf8).transpose()?.map(IdRef::Str);
    let with_id = |reason| Rejected { line, reason, id };
    let text = utf8(text.ok_or_else(|| with_id(Reason::NoText))?)
        .map_err(|_| with_id(Reason::InvalidUtf8))?;
    let sender = sender
        .map(utf8)
        .transpose()
        .map_err(|_| with_id(Reason::InvalidUtf8))?;
    check_text(text).map_err(with_id)?;
    Ok(Record {
        line,
        id,
        text: Cow::Borrowed(text),
        sender: sender.filter(|s| !s.is_empty()).map(Cow::Borrowed),
    })
}

/// Appends one verdict line: the contract's JSON, with `id` first when there is one.
pub(super) fn write_verdict(
    out: &mut Vec<u8>,
    id: Option<IdRef<'_>>,
    v: &Verdict,
    scratch: &mut Vec<u8>,
) {
    match id {
        None => serde_json::to_writer(&mut *out, v).expect("serialising to memory cannot fail"),
        Some(id) => {
            // Splice `"id":...,` in front of the verdict's own fields rather than building a
            // serde_json::Value per record.
            out.extend_from_slice(b"{\"id\":");
            serde_json::to_writer(&mut *out, &id).expect("serialising to memory cannot fail");
            out.push(b',');
            scratch.clear();
            serde_json::to_writer(&mut *scratch, v).expect("serialising to memory cannot fail");
            out.extend_from_slice(&scratch[1..]);
        }
    }
    out.push(b'\n');
}

#[derive(Serialize)]
struct RejectLine<'a> {
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<IdRef<'a>>,
    reason: &'static str,
}

pub(super) fn write_reject(out: &mut Vec<u8>, r: &Rejected<'_>) {
    let line = RejectLine {
        line: r.line,
        id: r.id,
        reason: r.reason.as_str(),
    };
    serde_json::to_writer(&mut *out, &line).expect("serialising to memory cannot fail");
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Engine, Message};

    fn reason(line: &str) -> Option<Reason> {
        parse_jsonl(1, line.as_bytes()).err().map(|r| r.reason)
    }

    #[test]
    fn jsonl_records_and_reasons() {
        let cases: &[(&str, Option<Reason>)] = &[
            (r#"{"text":"hi"}"#, None),
            (r#"{"id":7,"text":"hi","sender":"10086"}"#, None),
            (r#"{"id":null,"text":"hi","sender":10086}"#, None),
            (r#"{"text":"esc\u0041\n","extra":[1,2]}"#, None),
            ("", Some(Reason::EmptyLine)),
            ("  \t", Some(Reason::EmptyLine)),
            ("not json", Some(Reason::NotJson)),
            (r#"{"text":"unterminated"#, Some(Reason::NotJson)),
            (r#"["text"]"#, Some(Reason::NotObject)),
            (r#""text""#, Some(Reason::NotObject)),
            (r#"{"text":"a","text":"b"}"#, Some(Reason::DuplicateField)),
            (r#"{"id":1}"#, Some(Reason::NoText)),
            (r#"{"text":5}"#, Some(Reason::TextNotString)),
            (r#"{"text":null}"#, Some(Reason::TextNotString)),
            (r#"{"text":"  "}"#, Some(Reason::TextEmpty)),
            (
                r#"{"text":"hi","sender":{"a":1}}"#,
                Some(Reason::SenderNotString),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(reason(line), *want, "{line}");
        }
        let long = format!(r#"{{"text":"{}"}}"#, "a".repeat(MAX_TEXT_BYTES + 1));
        assert_eq!(reason(&long), Some(Reason::TextTooLong));
        assert_eq!(
            parse_jsonl(3, b"{\"text\":\"\xff\"}")
                .err()
                .map(|r| r.reason),
            Some(Reason::InvalidUtf8)
        );
    }

    #[test]
    fn escaped_text_is_unescaped_and_plain_text_borrowed() {
        let r = parse_jsonl(1, br#"{"text":"a\"b\u4e2d","id":{"k":[1, 2]}}"#)
            .ok()
            .unwrap();
        assert_eq!(r.text, "a\"b中");
        match r.id {
            Some(IdRef::Raw(raw)) => assert_eq!(raw.get(), r#"{"k":[1, 2]}"#),
            _ => panic!("id not kept raw"),
        }
        let r = parse_jsonl(1, br#"{"text":"plain"}"#).ok().unwrap();
        assert!(matches!(r.text, Cow::Borrowed("plain")));
    }

    #[test]
    fn verdict_line_splices_the_id_first() {
        let engine = Engine::new().unwrap();
        let v = engine.score(&Message::new("hello"));
        let mut out = Vec::new();
        let raw = RawValue::from_string("\"a-1\"".into()).unwrap();
        write_verdict(&mut out, Some(IdRef::Raw(&raw)), &v, &mut Vec::new());
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with(r#"{"id":"a-1","verdict":"#), "{s}");
        let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
        let mut expected = serde_json::to_value(&v).unwrap();
        expected["id"] = "a-1".into();
        assert_eq!(parsed, expected);
    }
}
