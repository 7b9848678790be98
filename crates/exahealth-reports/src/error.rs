//! The crate's one error type.

use std::path::{Path, PathBuf};

/// Everything that can go wrong, with what to do about it in the message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("unknown use case {0:?}: expected colon, cervix, lung or celiac")]
    UnknownUseCase(String),
    #[error("unknown language {0:?}: expected en, it or nl")]
    UnknownLang(String),
    #[error("lexicon {source_name}: {message}")]
    Lexicon {
        source_name: String,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("evaluate: {0}")]
    Evaluate(String),
    /// A file asks for more memory than the process budget allows
    /// (`exahealth_base::budget`).
    #[error(transparent)]
    Budget(#[from] exahealth_base::BudgetError),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn lexicon(source: impl std::fmt::Display, message: impl std::fmt::Display) -> Self {
        Error::Lexicon {
            source_name: source.to_string(),
            message: message.to_string(),
        }
    }

    pub(crate) fn input(path: &Path, message: impl std::fmt::Display) -> Self {
        Error::Input {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}
