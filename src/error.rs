//! The library's error type: a kind that callers match on, a message that names the offending
//! value, and the underlying error, when there is one, as its [`source`](std::error::Error::source).
//! Messages are lower-case and have no trailing period, and do not repeat their source:
//! print the whole chain with [`Error::report`] (or anyhow's `{:#}`).

use std::fmt;
use std::path::PathBuf;

/// What went wrong, for callers that act on it (the rules CLI prints rule errors as findings;
/// the server keeps its engine on any error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A file could not be read.
    Io,
    /// A rule file is malformed or a rule is invalid.
    Rules,
    /// A domain list, suffix list or other data file is malformed.
    Data,
    /// A model file is malformed or does not fit this build.
    Model,
    /// A configuration value is invalid.
    Config,
}

type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Source>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source`, which is kept (not flattened into the message).
    pub fn with_source(
        kind: ErrorKind,
        message: impl Into<String>,
        source: impl Into<Source>,
    ) -> Self {
        Error {
            kind,
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A file at `path` could not be read: the message names the path, the source is `err`.
    pub fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::with_source(ErrorKind::Io, path.into().display().to_string(), err)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// This error's own message, without its source.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message and every source after it, `: `-separated, for a log line or a terminal.
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// An error and its chain of sources on one line (see [`Error::report`]).
pub struct Report<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn an_io_error_keeps_its_source() {
        let cause = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let e = Error::io("rules/x.toml", cause);
        assert_eq!(e.kind(), ErrorKind::Io);
        assert_eq!(e.to_string(), "rules/x.toml");
        let source = e.source().expect("the io error is kept");
        let io = source.downcast_ref::<std::io::Error>().expect("as itself");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(e.report().to_string(), "rules/x.toml: no such file");
        // anyhow prints the same chain.
        assert_eq!(
            format!("{:#}", anyhow::Error::from(e)),
            "rules/x.toml: no such file"
        );
    }

    #[test]
    fn an_error_without_source_reports_its_message() {
        let e = Error::new(
            ErrorKind::Rules,
            "rule X in a.toml:3: keyword group is empty",
        );
        assert!(e.source().is_none());
        assert_eq!(e.report().to_string(), e.message());
    }
}
