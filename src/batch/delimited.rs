//! CSV and TSV records (RFC 4180 quoting), read into chunks under the record size cap.
//!
//! The parsing is `csv_core`'s, the incremental state machine underneath the `csv` crate.
//! `csv::Reader` itself is not used: it gathers a whole record into a buffer that grows until
//! the record ends, so an unterminated quote or a record of gigabytes would be held whole.
//! `csv_core` writes into buffers its caller hands it, a few kilobytes at a time, so this reader
//! keeps a record's bytes only while they fit under the cap and drops the rest as they are read.

use std::io::{self, BufRead, BufReader, Read};

use csv_core::{ReadRecordResult, ReaderBuilder, Terminator};

use super::record::{Chunk, Format, Item, Reason, RecordReader};
use crate::span::Span;

/// Which columns of a CSV/TSV file hold the fields smishd reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    pub text: usize,
    pub id: Option<usize>,
    pub sender: Option<usize>,
    pub time: Option<usize>,
}

/// Field bytes the parser writes in one call, before they move into the chunk.
const OUT_STEP: usize = 64 * 1024;
/// Field ends the parser writes in one call.
const ENDS_STEP: usize = 64;
const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";

/// CSV or TSV with RFC 4180 quoting: a field that starts with `"` runs to the next lone `"`
/// (`""` is a quote) and may hold delimiters and line ends; a quote elsewhere is literal.
/// Every record has as many fields as the header. Line numbers are physical lines (the header
/// is line 1); a record's number is the line it starts on.
pub struct DelimitedReader<R> {
    input: BufReader<R>,
    parser: csv_core::Reader,
    streaming: bool,
    cap: usize,
    /// `None` for an empty input (no header).
    columns: Option<Columns>,
    /// The header's field count; 0 while the header is read.
    width: usize,
    /// The current record's field count.
    fields: usize,
    /// The current record's first field ends, relative to its first byte.
    ends: Vec<usize>,
    out_step: Box<[u8]>,
    ends_step: [usize; ENDS_STEP],
    last_len: usize,
}

#[derive(Debug, PartialEq, Eq)]
enum Record {
    Eof,
    Fields,
    Empty,
    TooLong,
    Unterminated,
    /// A field count other than the header's.
    Ragged,
}

impl<R: Read> DelimitedReader<R> {
    pub fn new(
        mut input: BufReader<R>,
        format: Format,
        cap: usize,
        streaming: bool,
    ) -> io::Result<Self> {
        // A byte order mark some editors put at the start of a file is not part of the header.
        // (Split over tiny reads it is not seen here; the header names drop it then.)
        if fill(&mut input)?.starts_with(UTF8_BOM) {
            input.consume(UTF8_BOM.len());
        }
        let parser = ReaderBuilder::new()
            .delimiter(format.delimiter())
            // Only `\n` ends a line; the `\r` of a CRLF line end is taken off the last field.
            .terminator(Terminator::Any(b'\n'))
            .build();
        let mut r = DelimitedReader {
            input,
            parser,
            streaming,
            cap,
            columns: None,
            width: 0,
            fields: 0,
            ends: Vec::new(),
            out_step: vec![0; OUT_STEP].into_boxed_slice(),
            ends_step: [0; ENDS_STEP],
            last_len: 0,
        };
        let mut header = Vec::new();
        let invalid = |msg: &str| io::Error::new(io::ErrorKind::InvalidData, msg.to_string());
        match r.read_record(&mut header)?.1 {
            Record::Eof => return Ok(r),
            Record::Fields => {}
            Record::Empty => return Err(invalid("the header line is empty")),
            Record::TooLong | Record::Ragged => {
                return Err(invalid("the header line is over the size limit"))
            }
            Record::Unterminated => {
                return Err(invalid("the header line has an unterminated quoted field"))
            }
        }
        let names: Vec<String> = (0..r.fields)
            .map(|i| {
                let s = r.field(0, i).unwrap_or_default();
                String::from_utf8_lossy(&header[s.range()])
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
        r.width = names.len();
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

    /// Field `i` of the record just read, as a span of the buffer it was read into at `base`.
    fn field(&self, base: usize, i: usize) -> Option<Span<u32>> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(Span::new(base + start, base + end).narrow())
    }

    /// Reads one record onto the end of `buf`, its field ends into `self.ends`; returns the
    /// line it starts on and what was found. Only a record of fields leaves bytes in `buf`.
    fn read_record(&mut self, buf: &mut Vec<u8>) -> io::Result<(u64, Record)> {
        let base = buf.len();
        let line = self.parser.line();
        // The header may have up to `cap` fields; a record one more than the header's.
        let keep = if self.width == 0 {
            self.cap
        } else {
            self.width + 1
        };
        self.ends.clear();
        self.fields = 0;
        let mut raw = 0usize;
        let mut over = false;
        loop {
            let avail = fill(&mut self.input)?;
            if raw == 0 {
                match avail.first() {
                    None => return Ok((line, Record::Eof)),
                    // The parser would skip a blank line; it is a record to reject.
                    Some(b'\n') => {
                        self.input.consume(1);
                        self.parser.set_line(line + 1);
                        return Ok((line, Record::Empty));
                    }
                    Some(_) => {}
                }
            }
            // At the end of input a line end is fed in: the parser takes it as the end of a
            // last line without one, but inside an open quote as part of the field.
            let at_eof = avail.is_empty();
            let input: &[u8] = if at_eof { b"\n" } else { avail };
            let (res, nin, nout, nend) =
                self.parser
                    .read_record(input, &mut self.out_step, &mut self.ends_step);
            if !at_eof {
                self.input.consume(nin);
                raw += nin;
            }
            if !over {
                // One byte of slack for the `\r` of a CRLF line end.
                if buf.len() - base + nout > self.cap + 1 {
                    over = true;
                    buf.truncate(base);
                } else {
                    buf.extend_from_slice(&self.out_step[..nout]);
                }
            }
            self.fields += nend;
            let room = keep.saturating_sub(self.ends.len()).min(nend);
            self.ends.extend_from_slice(&self.ends_step[..room]);
            match res {
                ReadRecordResult::Record => break,
                ReadRecordResult::InputEmpty if at_eof => {
                    buf.truncate(base);
                    return Ok((line, Record::Unterminated));
                }
                _ => {}
            }
        }
        let found = if over || (self.width == 0 && self.fields > keep) {
            // (Only the header can have more fields than are kept and still be whole.)
            Record::TooLong
        } else if raw <= 2 && buf[base..] == *b"\r" {
            // `\r\n`, or a lone `\r` at the end.
            Record::Empty
        } else if self.width > 0 && self.fields != self.width {
            Record::Ragged
        } else {
            // CRLF: the `\r` ends up at the end of the last field.
            let last = self.fields - 1;
            if self.field(base, last).is_some_and(|s| !s.is_empty()) && buf.last() == Some(&b'\r') {
                buf.pop();
                self.ends[last] -= 1;
            }
            if buf.len() - base > self.cap {
                Record::TooLong
            } else {
                Record::Fields
            }
        };
        if found != Record::Fields {
            buf.truncate(base);
        }
        Ok((line, found))
    }
}

/// The buffered bytes, refilled when used up; empty at the end of input.
fn fill<R: Read>(input: &mut BufReader<R>) -> io::Result<&[u8]> {
    loop {
        match input.fill_buf() {
            // Re-borrowed so the loop can retry after an interruption.
            Ok(_) => return input.fill_buf(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

impl<R: Read + Send> RecordReader for DelimitedReader<R> {
    fn next_chunk(&mut self, max_records: usize, max_bytes: usize) -> io::Result<Option<Chunk>> {
        let Some(cols) = self.columns else {
            return Ok(None);
        };
        let mut chunk = Chunk {
            data: Vec::with_capacity(self.last_len + 4096),
            items: Vec::with_capacity(max_records.min(8192)),
        };
        while chunk.items.len() < max_records && chunk.data.len() < max_bytes {
            let base = chunk.data.len();
            let (line, found) = self.read_record(&mut chunk.data)?;
            let reject = |reason| Item::Reject { line, reason };
            chunk.items.push(match found {
                Record::Eof => break,
                Record::Empty => reject(Reason::EmptyLine),
                Record::TooLong => reject(Reason::TooLong),
                Record::Unterminated => reject(Reason::UnterminatedQuote),
                Record::Ragged => reject(Reason::FieldCount),
                Record::Fields => Item::Fields {
                    line,
                    text: self.field(base, cols.text),
                    id: cols.id.and_then(|i| self.field(base, i)),
                    sender: cols.sender.and_then(|i| self.field(base, i)),
                    time: cols.time.and_then(|i| self.field(base, i)),
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

    use crate::batch::read::tests::{input, records};

    /// Every record of `data` read with a buffer of each size, which must all agree.
    fn read_all(data: &str, format: Format, cap: usize) -> Vec<(u64, String)> {
        let mut seen = None;
        for buffer in [1, 2, 5, 64, 4096] {
            let r =
                DelimitedReader::new(input(data.as_bytes(), buffer), format, cap, false).unwrap();
            let got = records(Box::new(r));
            if let Some(first) = &seen {
                assert_eq!(&got, first, "buffer {buffer}");
            }
            seen = Some(got);
        }
        seen.unwrap()
    }

    /// Why a CSV input whose header is bad cannot be read.
    fn header_error(data: &[u8]) -> String {
        match DelimitedReader::new(input(data, 64), Format::Csv, 100, false) {
            Ok(_) => panic!("the header was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn csv_quoting_line_numbers_and_rejects() {
        let data = "\u{feff}id,Text,sender\r\n\
            1,\"a, b\",x\r\n\
            2,\"say \"\"hi\"\"\",y\n\
            3,\"two\nlines\",z\n\
            \n\
            4,plain \"quote\" inside,w\n\
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
        }
        let want: Vec<(u64, String)> = vec![
            (2, "1|a, b".into()),
            (3, "2|say \"hi\"".into()),
            (4, "3|two\nlines".into()),
            (6, "!empty line".into()),
            (7, "4|plain \"quote\" inside".into()),
            (8, "!wrong number of fields".into()),
            (9, "!unterminated quoted field".into()),
        ];
        assert_eq!(read_all(data, Format::Csv, 1000), want);
    }

    #[test]
    fn ragged_rows_are_rejected_with_their_line() {
        let data = "id,text,sender\n\
            1,short\n\
            2,\"two\nlines\",x,extra\n\
            3,ok,y\n\
            4,\"quoted, comma\",z,\n\
            ,,\n\
            5,\"fine\nagain\",w\r\n";
        assert_eq!(
            read_all(data, Format::Csv, 1000),
            vec![
                (2, "!wrong number of fields".into()),
                (3, "!wrong number of fields".into()),
                (5, "3|ok".into()),
                (6, "!wrong number of fields".into()),
                (7, "|".into()),
                (8, "5|fine\nagain".into()),
            ]
        );
        // Thousands of empty fields keep no more than the header's count.
        let wide = format!("text,id\n{}\nlast,9\n", ",".repeat(100_000));
        let mut r =
            DelimitedReader::new(input(wide.as_bytes(), 4096), Format::Csv, 1000, false).unwrap();
        let c = r.next_chunk(1, 1 << 20).unwrap().unwrap();
        assert_eq!(
            c.items,
            vec![Item::Reject {
                line: 2,
                reason: Reason::FieldCount
            }]
        );
        assert!(r.ends.capacity() < 64, "{}", r.ends.capacity());
        assert_eq!(records(Box::new(r)), vec![(3, "9|last".into())]);
    }

    #[test]
    fn quoted_fields_hold_delimiters_line_ends_and_doubled_quotes() {
        let data = "text,id\n\
            \"a,b\nc\r\nd\",1\n\
            \"\"\"\",2\n\
            \"\",3\n\
            \"x\"\"\"\"y\",4\n\
            \"closed\"tail,5\n";
        assert_eq!(
            read_all(data, Format::Csv, 1000),
            vec![
                (2, "1|a,b\nc\r\nd".into()),
                (5, "2|\"".into()),
                (6, "3|".into()),
                (7, "4|x\"\"y".into()),
                (8, "5|closedtail".into()),
            ]
        );
    }

    #[test]
    fn an_unterminated_quote_runs_to_the_end_and_is_one_reject() {
        let data = "text,id\nok,1\n\"open,2\nmore,3\nlast,4";
        assert_eq!(
            read_all(data, Format::Csv, 1000),
            vec![(2, "1|ok".into()), (3, "!unterminated quoted field".into())]
        );
        // Even when it is also over the cap, and a closing quote is the last byte.
        let long = "x".repeat(100);
        let data = format!("text\n\"{long}\nend");
        assert_eq!(
            read_all(&data, Format::Csv, 10),
            vec![(2, "!unterminated quoted field".into())]
        );
        let data = "text,id\n\"done\",1";
        assert_eq!(read_all(data, Format::Csv, 10), vec![(2, "1|done".into())]);
        let err = header_error(b"id,\"text\n1,x\n");
        assert!(err.contains("unterminated"), "{err}");
    }

    #[test]
    fn an_oversized_record_is_rejected_and_the_next_one_read() {
        let long = "x".repeat(50);
        let data = format!(
            "text\tid\n\"tab\there\"\t1\n\"{long}\n{long}\"\t2\nok\t3\n{long}\t4\n\
            {}\t5\r\n",
            "y".repeat(39)
        );
        assert_eq!(
            read_all(&data, Format::Tsv, 40),
            vec![
                (2, "1|tab\there".into()),
                (3, "!record over the size limit".into()),
                (5, "3|ok".into()),
                (6, "!record over the size limit".into()),
                (7, format!("5|{}", "y".repeat(39))),
            ]
        );
    }

    #[test]
    fn header_without_text_is_an_error_and_empty_input_is_no_records() {
        let err = header_error(b"id,body\n1,x\n");
        assert!(err.contains("no `text` column"), "{err}");
        for data in ["", "\u{feff}text"] {
            assert!(read_all(data, Format::Csv, 100).is_empty(), "{data:?}");
        }
    }
}
