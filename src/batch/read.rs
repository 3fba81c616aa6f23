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

use super::delimited::DelimitedReader;
use super::record::{Chunk, Format, Item, Reason, RecordReader};
use crate::defaults::MAX_RECORD_BYTES;
use crate::span::Span;

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
                    bytes: Span::new(start, chunk.data.len()).narrow(),
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// An input over `bytes` with a tiny buffer, so records straddle buffer refills.
    pub(in crate::batch) fn input(bytes: &[u8], buffer: usize) -> Input {
        BufReader::with_capacity(buffer, Box::new(io::Cursor::new(bytes.to_vec())))
    }

    /// Every record of `r` as (line, text or reason), text lossily decoded.
    pub(in crate::batch) fn records(mut r: Box<dyn RecordReader>) -> Vec<(u64, String)> {
        let mut out = Vec::new();
        while let Some(c) = r.next_chunk(3, 1 << 20).unwrap() {
            for item in &c.items {
                out.push(match *item {
                    Item::Line { line, bytes } => {
                        (line, String::from_utf8_lossy(c.get(bytes)).into_owned())
                    }
                    Item::Fields { line, text, id, .. } => {
                        let get = |s: Option<Span<u32>>| {
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
