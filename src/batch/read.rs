//! Reading rescore input: opening it (gzip by name or magic bytes), splitting it into records
//! under a size cap, and cutting the records into chunks.
//!
//! The reader only finds where records are; it never parses JSON or checks UTF-8 (the scoring
//! pool does that in parallel). A record longer than [`MAX_RECORD_BYTES`] is rejected while it
//! is read: bytes past the cap are discarded, never held, so one line of several gigabytes costs
//! no more memory than one of half a megabyte.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;

use crate::defaults::MAX_RECORD_BYTES;

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object a line: `text` (required), `id` (any JSON value), `sender`.
    Jsonl,
    /// Comma-separated, RFC 4180 quoting, a header naming `text` (and `id`, `sender`).
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

    fn delimiter(self) -> u8 {
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
            Reason::Internal => "internal error while scoring",
        }
    }
}

/// A byte range in a chunk's buffer.
pub type Span = (u32, u32);

/// One record as the reader found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A JSONL line (without its line end) still to parse.
    Line { line: u64, bytes: Span },
    /// A CSV/TSV record, split into the columns smishd reads (unquoted, not yet UTF-8 checked).
    Fields {
        line: u64,
        text: Option<Span>,
        id: Option<Span>,
        sender: Option<Span>,
        /// A `time` or `timestamp` column (read by `smishd campaigns`).
        time: Option<Span>,
    },
    /// Rejected while reading (too long, unterminated quote).
    Reject { line: u64, reason: Reason },
}

/// Consecutive records and the bytes their spans point into.
#[derive(Debug, Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub items: Vec<Item>,
}

impl Chunk {
    pub fn get(&self, span: Span) -> &[u8] {
        &self.data[span.0 as usize..span.1 as usize]
    }
}

/// A source of chunks of records, in input order.
pub trait RecordReader: Send {
    /// The next chunk of at most `max_records` records, ending early once `max_bytes` of
    /// record bytes are held; `None` at the end of input.
    fn next_chunk(&mut self, max_records: usize, max_bytes: usize) -> io::Result<Option<Chunk>>;
}

/// Counts the bytes read from the raw input (before decompression), for the progress bar.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

const READ_BUFFER: usize = 256 * 1024;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// An opened input: buffered, decompressed when it was gzip.
pub type Input = BufReader<Box<dyn Read + Send>>;

/// Opens the input (`None`: standard input), decompressing gzip when the name ends in `.gz` or
/// the first bytes are the gzip magic. `consumed` counts raw bytes read.
pub fn open(path: Option<&Path>, consumed: Arc<AtomicU64>) -> io::Result<Input> {
    let (raw, named_gz): (Box<dyn Read + Send>, bool) = match path {
        None => (Box::new(io::stdin()), false),
        Some(p) => (
            Box::new(File::open(p)?),
            p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")),
        ),
    };
    let mut raw = Counting {
        inner: raw,
        count: consumed,
    };
    // Peek at the first two bytes by hand: a pipe may hand them over one at a time.
    let mut head = [0u8; 2];
    let mut n = 0;
    while n < head.len() {
        match raw.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let magic = n == 2 && head == GZIP_MAGIC;
    if named_gz && n > 0 && !magic {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the name ends in .gz but the content is not gzip",
        ));
    }
    let src = io::Cursor::new(head[..n].to_vec()).chain(raw);
    let src: Box<dyn Read + Send> = if magic {
        // MultiGzDecoder: `cat a.gz b.gz` and bgzip output are several members in a row.
        Box::new(MultiGzDecoder::new(src))
    } else {
        Box::new(src)
    };
    Ok(BufReader::with_capacity(READ_BUFFER, src))
}

/// Opens a reader of `format` records over `input`. A CSV/TSV header without a `text` column
/// is an error (the run cannot be done); an empty input is zero records in every format.
///
/// `streaming` (for a pipe): a chunk also ends when the records already received are used up,
/// instead of waiting for a full chunk, so each record's verdict comes out as soon as it can
/// and smishd works line by line behind a pipe.
pub fn reader(input: Input, format: Format, streaming: bool) -> io::Result<Box<dyn RecordReader>> {
    Ok(match format {
        Format::Jsonl => Box::new(JsonlReader::new(input, MAX_RECORD_BYTES, streaming)),
        Format::Csv | Format::Tsv => Box::new(DelimitedReader::new(
            input,
            format,
            MAX_RECORD_BYTES,
            streaming,
        )?),
    })
}

/// What one capped line read found.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Eof,
    Fits,
    TooLong,
}

/// Appends the next line, without its `\n` or `\r\n`, to `buf`, unless it is longer than `cap`:
/// then the line is consumed and discarded and `buf` is left as it was.
fn read_capped(r: &mut dyn BufRead, buf: &mut Vec<u8>, cap: usize) -> io::Result<Line> {
    let start = buf.len();
    let mut seen = 0usize;
    let mut any = false;
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            if !any {
                return Ok(Line::Eof);
            }
            break;
        }
        any = true;
        let (take, used, end) = match memchr::memchr(b'\n', avail) {
            Some(i) => (i, i + 1, true),
            None => (avail.len(), avail.len(), false),
        };
        // One byte of slack for the `\r` of a CRLF line end.
        if seen + take <= cap + 1 {
            buf.extend_from_slice(&avail[..take]);
        } else if seen <= cap + 1 {
            buf.truncate(start);
        }
        seen += take;
        r.consume(used);
        if end {
            break;
        }
    }
    if seen > cap + 1 {
        return Ok(Line::TooLong);
    }
    if buf.len() > start && buf.last() == Some(&b'\r') {
        buf.pop();
    }
    if buf.len() - start > cap {
        buf.truncate(start);
        return Ok(Line::TooLong);
    }
    Ok(Line::Fits)
}

/// JSONL: one record a line. Line numbers count every line, blank ones included.
pub struct JsonlReader {
    input: Input,
    line: u64,
    cap: usize,
    streaming: bool,
    last_len: usize,
}

impl JsonlReader {
    pub fn new(input: Input, cap: usize, streaming: bool) -> JsonlReader {
        JsonlReader {
            input,
            line: 0,
            cap,
            streaming,
            last_len: 0,
        }
    }
}

impl RecordReader for JsonlReader {
    fn next_chunk(&mut self, max_records: usize, max_bytes: usize) -> io::Result<Option<Chunk>> {
        let mut chunk = Chunk {
            data: Vec::with_capacity(self.last_len + 4096),
            items: Vec::with_capacity(max_records.min(8192)),
        };
        while chunk.items.len() < max_records && chunk.data.len() < max_bytes {
            let start = chunk.data.len();
            let found = read_capped(&mut self.input, &mut chunk.data, self.cap)?;
            if found == Line::Eof {
                break;
            }
            self.line += 1;
            // A byte order mark some editors put at the start of a file is not part of it.
            let start = if self.line == 1 && chunk.data[start..].starts_with(UTF8_BOM) {
                start + UTF8_BOM.len()
            } else {
                start
            };
            chunk.items.push(match found {
                Line::Fits => Item::Line {
                    line: self.line,
                    bytes: (start as u32, chunk.data.len() as u32),
                },
                _ => Item::Reject {
                    line: self.line,
                    reason: Reason::TooLong,
                },
            });
            if self.streaming && self.input.buffer().is_empty() {
                break;
            }
        }
        self.last_len = chunk.data.len();
        Ok((!chunk.items.is_empty()).then_some(chunk))
    }
}

/// Which columns of a CSV/TSV file hold the fields smishd reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub text: usize,
    pub id: Option<usize>,
    pub sender: Option<usize>,
    pub time: Option<usize>,
}

/// CSV or TSV with RFC 4180 quoting: a field that starts with `"` runs to the next lone `"`
/// (`""` is a quote) and may hold delimiters and line ends; a quote elsewhere is literal.
/// Line numbers are physical lines (the header is line 1); a record's number is the line it
/// starts on.
pub struct DelimitedReader {
    input: Input,
    streaming: bool,
    delim: u8,
    /// Physical lines consumed so far.
    line: u64,
    cap: usize,
    /// `None` for an empty input (no header).
    columns: Option<Columns>,
    fields: Vec<Span>,
    last_len: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Record {
    Eof,
    Fields,
    Empty,
    TooLong,
    Unterminated,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl DelimitedReader {
    pub fn new(input: Input, format: Format, cap: usize, streaming: bool) -> io::Result<Self> {
        let mut r = DelimitedReader {
            input,
            streaming,
            delim: format.delimiter(),
            line: 0,
            cap,
            columns: None,
            fields: Vec::new(),
            last_len: 0,
        };
        let mut header = Vec::new();
        let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidData, msg.to_string());
        match r.read_record(&mut header)? {
            Record::Eof => return Ok(r),
            Record::Fields => {}
            Record::Empty => return Err(invalid("the header line is empty")),
            Record::TooLong => return Err(invalid("the header line is over the size limit")),
            Record::Unterminated => {
                return Err(invalid("the header line has an unterminated quoted field"))
            }
        }
        let names: Vec<String> = r
            .fields
            .iter()
            .map(|&(a, b)| {
                String::from_utf8_lossy(&header[a as usize..b as usize])
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let find = |name: &str| names.iter().position(|n| n == name);
        let text = find("text").ok_or_else(|| {
            invalid(&format!(
                "the header names no `text` column (columns: {})",
                names.join(", ")
            ))
        })?;
        r.columns = Some(Columns {
            text,
            id: find("id"),
            sender: find("sender"),
            time: find("time").or_else(|| find("timestamp")),
        });
        Ok(r)
    }

    pub fn columns(&self) -> Option<Columns> {
        self.columns
    }

    /// Reads one record into `buf`, its fields' spans into `self.fields`.
    fn read_record(&mut self, buf: &mut Vec<u8>) -> io::Result<Record> {
        let base = buf.len();
        let cap = self.cap;
        let delim = self.delim;
        self.fields.clear();
        let mut field_start = base;
        let mut state = State::StartField;
        let mut over = false;
        let mut raw_len = 0usize;
        let mut last_raw = 0u8;
        // Appends bytes to the current field unless the record is over the cap.
        let push = |buf: &mut Vec<u8>, bytes: &[u8], over: &mut bool| {
            if !*over {
                if buf.len() - base + bytes.len() > cap {
                    *over = true;
                } else {
                    buf.extend_from_slice(bytes);
                }
            }
        };
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if raw_len == 0 {
                    return Ok(Record::Eof);
                }
                // The last line has no line end.
                self.line += 1;
                if state == State::Quoted {
                    buf.truncate(base);
                    return Ok(Record::Unterminated);
                }
                return Ok(self.end_record(buf, base, field_start, over, raw_len, last_raw));
            }
            let mut i = 0;
            let mut ended = false;
            while i < avail.len() {
                match state {
                    State::Quoted => {
                        let run =
                            memchr::memchr2(b'"', b'\n', &avail[i..]).unwrap_or(avail.len() - i);
                        push(buf, &avail[i..i + run], &mut over);
                        i += run;
                        if i < avail.len() {
                            if avail[i] == b'"' {
                                state = State::QuoteInQuoted;
                            } else {
                                // A line end inside quotes is part of the field.
                                self.line += 1;
                                push(buf, b"\n", &mut over);
                            }
                            i += 1;
                        }
                    }
                    State::StartField | State::Unquoted | State::QuoteInQuoted => {
                        let b = avail[i];
                        i += 1;
                        if b == b'\n' {
                            self.line += 1;
                            ended = true;
                            break;
                        }
                        raw_len += 1;
                        last_raw = b;
                        if b == delim {
                            self.fields.push((field_start as u32, buf.len() as u32));
                            field_start = buf.len();
                            state = State::StartField;
                        } else if b == b'"' && state == State::StartField {
                            state = State::Quoted;
                        } else if b == b'"' && state == State::QuoteInQuoted {
                            push(buf, b"\"", &mut over);
                            state = State::Quoted;
                        } else {
                            // Lenient: a quote inside an unquoted field, or text after a
                            // closing quote, is kept as it is.
                            push(buf, &[b], &mut over);
                            state = State::Unquoted;
                            if b != b'"' {
                                // Copy the rest of an unquoted field in one go.
                                let run = memchr::memchr2(delim, b'\n', &avail[i..])
                                    .unwrap_or(avail.len() - i);
                                if run > 0 {
                                    push(buf, &avail[i..i + run], &mut over);
                                    raw_len += run;
                                    last_raw = avail[i + run - 1];
                                    i += run;
                                }
                            }
                        }
                    }
                }
            }
            self.input.consume(i);
            if ended {
                return Ok(self.end_record(buf, base, field_start, over, raw_len, last_raw));
            }
        }
    }

    fn end_record(
        &mut self,
        buf: &mut Vec<u8>,
        base: usize,
        field_start: usize,
        over: bool,
        raw_len: usize,
        last_raw: u8,
    ) -> Record {
        if over {
            buf.truncate(base);
            return Record::TooLong;
        }
        if raw_len == 0 || (raw_len == 1 && last_raw == b'\r') {
            buf.truncate(base);
            return Record::Empty;
        }
        // CRLF: the `\r` ends up at the end of the last field.
        if buf.len() > field_start && buf.last() == Some(&b'\r') {
            buf.pop();
        }
        self.fields.push((field_start as u32, buf.len() as u32));
        Record::Fields
    }
}

impl RecordReader for DelimitedReader {
    fn next_chunk(&mut self, max_records: usize, max_bytes: usize) -> io::Result<Option<Chunk>> {
        let Some(cols) = self.columns else {
            return Ok(None);
        };
        let mut chunk = Chunk {
            data: Vec::with_capacity(self.last_len + 4096),
            items: Vec::with_capacity(max_records.min(8192)),
        };
        while chunk.items.len() < max_records && chunk.data.len() < max_bytes {
            let line = self.line + 1;
            let found = self.read_record(&mut chunk.data)?;
            let reject = |reason| Item::Reject { line, reason };
            chunk.items.push(match found {
                Record::Eof => break,
                Record::Empty => reject(Reason::EmptyLine),
                Record::TooLong => reject(Reason::TooLong),
                Record::Unterminated => reject(Reason::UnterminatedQuote),
                Record::Fields => Item::Fields {
                    line,
                    text: self.fields.get(cols.text).copied(),
                    id: cols.id.and_then(|i| self.fields.get(i).copied()),
                    sender: cols.sender.and_then(|i| self.fields.get(i).copied()),
                    time: cols.time.and_then(|i| self.fields.get(i).copied()),
                },
            });
            if self.streaming && self.input.buffer().is_empty() {
                break;
            }
        }
        self.last_len = chunk.data.len();
        Ok((!chunk.items.is_empty()).then_some(chunk))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An input over `bytes` with a tiny buffer, so records straddle buffer refills.
    fn input(bytes: &[u8], buffer: usize) -> Input {
        BufReader::with_capacity(buffer, Box::new(io::Cursor::new(bytes.to_vec())))
    }

    /// Every record of `r` as (line, text or reason), text lossily decoded.
    fn records(mut r: Box<dyn RecordReader>) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk(3, 1 << 20).unwrap() {
            for item in &c.items {
                out.push(match *item {
                    Item::Line { line, bytes } => {
                        (line, String::from_utf8_lossy(c.get(bytes)).into_owned())
                    }
                    Item::Fields { line, text, id, .. } => {
                        let get = |s: Option<Span>| {
                            s.map_or("-".into(), |s| {
                                String::from_utf8_lossy(c.get(s)).into_owned()
                            })
                        };
                        (line, format!("{}|{}", get(id), get(text)))
                    }
                    Item::Reject { line, reason } => (line, format!("!{}", reason.as_str())),
                });
            }
        }
        out
    }

    #[test]
    fn jsonl_lines_are_capped_and_crlf_stripped() {
        let data = b"one\r\n\ntwo\n0123456789abcdef\r\nthree\r\n\r\nlast";
        for buffer in [1, 2, 3, 7, 64] {
            let r = Box::new(JsonlReader::new(input(data, buffer), 10, false));
            let got = records(r);
            let want: Vec<(u64, String)> = vec![
                (1, "one".into()),
                (2, "".into()),
                (3, "two".into()),
                (4, "!record over the size limit".into()),
                (5, "three".into()),
                (6, "".into()),
                (7, "last".into()),
            ];
            assert_eq!(got, want, "buffer {buffer}");
        }
        // A byte order mark is dropped from the first line only.
        let r = Box::new(JsonlReader::new(
            input(b"\xef\xbb\xbfa\n\xef\xbb\xbfb", 2),
            10,
            false,
        ));
        assert_eq!(records(r), vec![(1, "a".into()), (2, "\u{feff}b".into())]);
        // Exactly at the cap, with and without CR.
        let r = Box::new(JsonlReader::new(
            input(b"0123456789\r\n0123456789\n", 4),
            10,
            false,
        ));
        assert_eq!(
            records(r),
            vec![(1, "0123456789".into()), (2, "0123456789".into())]
        );
    }

    #[test]
    fn csv_quoting_line_numbers_and_rejects() {
        let data = "\u{feff}id,Text,sender\r\n\
            1,\"a, b\",x\r\n\
            2,\"say \"\"hi\"\"\",y\n\
            3,\"two\nlines\",z\n\
            \n\
            4,plain \"quote\" inside\n\
            5\n\
            6,\"unterminated";
        for buffer in [1, 5, 4096] {
            let r = DelimitedReader::new(input(data.as_bytes(), buffer), Format::Csv, 1000, false)
                .unwrap();
            assert_eq!(
                r.columns(),
                Some(Columns {
                    text: 1,
                    id: Some(0),
                    sender: Some(2),
                    time: None,
                })
            );
            let got = records(Box::new(r));
            let want: Vec<(u64, String)> = vec![
                (2, "1|a, b".into()),
                (3, "2|say \"hi\"".into()),
                (4, "3|two\nlines".into()),
                (6, "!empty line".into()),
                (7, "4|plain \"quote\" inside".into()),
                (8, "5|-".into()),
                (9, "!unterminated quoted field".into()),
            ];
            assert_eq!(got, want, "buffer {buffer}");
        }
    }

    #[test]
    fn tsv_and_an_over_long_quoted_record() {
        let long = "x".repeat(50);
        let data = format!("text\tid\n\"tab\there\"\t1\n\"{long}\n{long}\"\t2\nok\t3\n");
        let r = DelimitedReader::new(input(data.as_bytes(), 8), Format::Tsv, 40, false).unwrap();
        assert_eq!(
            records(Box::new(r)),
            vec![
                (2, "1|tab\there".into()),
                (3, "!record over the size limit".into()),
                (5, "3|ok".into()),
            ]
        );
    }

    #[test]
    fn header_without_text_is_an_error_and_empty_input_is_no_records() {
        let err = DelimitedReader::new(input(b"id,body\n1,x\n", 64), Format::Csv, 100, false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("no `text` column"), "{err}");
        let r = DelimitedReader::new(input(b"", 64), Format::Csv, 100, false).unwrap();
        assert!(records(Box::new(r)).is_empty());
    }

    #[test]
    fn format_from_extension() {
        for (name, f) in [
            ("a.jsonl", Format::Jsonl),
            ("a.JSONL.gz", Format::Jsonl),
            ("a.csv", Format::Csv),
            ("dir.csv/a.csv.gz", Format::Csv),
            ("a.tsv.gz", Format::Tsv),
            ("a.log", Format::Jsonl),
            ("a", Format::Jsonl),
        ] {
            assert_eq!(Format::from_path(Path::new(name)), f, "{name}");
        }
    }

    #[test]
    fn gzip_is_found_by_magic_and_a_fake_gz_name_is_refused() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(b"{\"text\":\"a\"}\n").unwrap();
        let gz = gz.finish().unwrap();
        let hidden = dir.path().join("plain-name.jsonl");
        std::fs::write(&hidden, &gz).unwrap();
        let mut s = String::new();
        open(Some(&hidden), Arc::default())
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "{\"text\":\"a\"}\n");
        let fake = dir.path().join("fake.jsonl.gz");
        std::fs::write(&fake, b"{\"text\":\"a\"}\n").unwrap();
        assert!(open(Some(&fake), Arc::default()).is_err());
    }
}
