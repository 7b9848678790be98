//! The crate's one error type.

use std::path::{Path, PathBuf};

/// A lower-level error kept as the [`source`](std::error::Error::source) of
/// an [`Error`] (a CSV, JSON, TOML or spreadsheet parser's error).
pub(crate) type Cause = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong, with what to do about it in the message.
///
/// A message never repeats its cause: the cause is the error's
/// [`source`](std::error::Error::source), so print the chain (`{e:#}`
/// through `anyhow`, or walk `source()`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A use case name other than `colon`, `cervix`, `lung` or `celiac`.
    #[error("unknown use case {0:?}: expected colon, cervix, lung or celiac")]
    UnknownUseCase(String),
    /// A language code other than `en`, `it` or `nl`.
    #[error("unknown language {0:?}: expected en, it or nl")]
    UnknownLang(String),
    /// A lexicon (a TOML file or the built-in one) is invalid.
    #[error("lexicon {source_name}: {message}")]
    Lexicon {
        /// The lexicon's file or name.
        source_name: String,
        /// What is wrong, and where in the lexicon.
        message: String,
        /// The parser's error, where one caused this.
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// Reading, writing or creating `path` failed; `source` says why.
    #[error("cannot {action} {}", path.display())]
    Io {
        /// What was being done: `read`, `write` or `create` (a folder).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why the system refused.
        #[source]
        source: std::io::Error,
    },
    /// An input or output file's content is not what it should be.
    #[error("{}: {message}", path.display())]
    Input {
        /// The file (for outputs encoded in memory, its intended name).
        path: PathBuf,
        /// What is wrong, and where in the file.
        message: String,
        /// The parser's error, where one caused this.
        #[source]
        cause: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// Predicted and gold labels cannot be compared (no rows, no shared
    /// ids or labels).
    #[error("evaluate: {0}")]
    Evaluate(String),
    /// Input asks for more memory than the process budget allows
    /// (`exahealth_base::budget`); from a file, see [`Error::FileBudget`].
    #[error(transparent)]
    Budget(#[from] exahealth_base::BudgetError),
    /// A file asks for more memory than the process budget allows; the
    /// file may be genuine but too large, and `source` says what and how
    /// much.
    #[error("cannot read {}", path.display())]
    FileBudget {
        /// The file.
        path: PathBuf,
        /// What asked for how much, and the budget.
        #[source]
        source: exahealth_base::BudgetError,
    },
}

impl Error {
    /// An I/O failure reading `path`.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::io_doing("read", path, source)
    }

    /// An I/O failure doing `action` (see [`Error::Io`]) on `path`.
    pub(crate) fn io_doing(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn lexicon(source: impl std::fmt::Display, message: impl std::fmt::Display) -> Self {
        Error::Lexicon {
            source_name: source.to_string(),
            message: message.to_string(),
            cause: None,
        }
    }

    /// A lexicon error caused by a parser's (or builder's) error.
    pub(crate) fn lexicon_from(
        source: impl std::fmt::Display,
        message: impl std::fmt::Display,
        cause: impl Into<Cause>,
    ) -> Self {
        Error::Lexicon {
            source_name: source.to_string(),
            message: message.to_string(),
            cause: Some(cause.into()),
        }
    }

    pub(crate) fn input(path: &Path, message: impl std::fmt::Display) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            message: message.to_string(),
            cause: None,
        }
    }

    /// An input error caused by a parser's error: `message` says where.
    pub(crate) fn input_from(
        path: &Path,
        message: impl std::fmt::Display,
        cause: impl Into<Cause>,
    ) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            message: message.to_string(),
            cause: Some(cause.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::path::Path;

    #[test]
    fn an_io_error_names_the_file_once_and_keeps_its_cause_as_source() {
        let path = std::env::temp_dir().join("exahealth-no-such-reports.csv");
        let e = crate::read_reports(&path).unwrap_err();
        assert_eq!(e.to_string(), format!("cannot read {}", path.display()));
        assert!(e.source().is_some());
    }

    #[test]
    fn a_parser_error_is_the_source_not_part_of_the_message() {
        let e = crate::input::parse_json("{", Path::new("r.json")).unwrap_err();
        assert_eq!(e.to_string(), "r.json: JSON");
        assert!(e.source().is_some_and(|s| !s.to_string().is_empty()));
    }
}
