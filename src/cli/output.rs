//! Small helpers shared by the subcommands' output.

use std::io::{self, IsTerminal};

/// A closed standard output (`smishd ... | head`) ends the command quietly with status 0.
///
/// serde_json wraps the write error of a value it writes itself (any JSON longer than standard
/// output's buffer) in its own error, whose `source` skips the `io::Error`, so it is asked for
/// the kind directly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let kind = match c.downcast_ref::<serde_json::Error>() {
            Some(json) => json.io_error_kind(),
            None => c.downcast_ref::<io::Error>().map(io::Error::kind),
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    })
}

/// Whether to colour standard output: a terminal, and NO_COLOR unset.
pub fn colour() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub struct Style {
    on: bool,
}

impl Style {
    pub fn new(on: bool) -> Style {
        Style { on }
    }

    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }

    pub fn red(&self, s: &str) -> String {
        self.wrap("1;31", s)
    }

    pub fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
    }

    pub fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }

    pub fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }

    /// Marks a highlighted span: reverse video on a terminal, `[[...]]` elsewhere.
    pub fn mark(&self, s: &str) -> String {
        if self.on {
            format!("\x1b[7;1m{s}\x1b[0m")
        } else {
            format!("[[{s}]]")
        }
    }
}
