//! CSV and TSV records (RFC 4180 quoting), read into chunks under the record size cap.

use std::io::{self, BufRead, BufReader, Read};

use super::record::{Chunk, Format, Item, Reason, RecordReader, Span};

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
pub struct DelimitedReader<R> {
    input: BufReader<R>,
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

impl<R: Read> DelimitedReader<R> {
    pub fn new(
        input: BufReader<R>,
        format: Format,
        cap: usize,
        streaming: bool,
    ) -> io::Result<Self> {
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

    use crate::batch::read::tests::{input, records};

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
}
