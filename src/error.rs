//! The library's error type: a kind that callers match on, and a message that names the
//! offending value. Messages are lower-case and have no trailing period.

use std::fmt;
use std::path::PathBuf;

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
    /// A caller passed something that cannot be scored (too long, empty where not allowed).
    Input,
}

#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        let path = path.into();
        Error::new(ErrorKind::Io, format!("{}: {err}", path.display()))
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
