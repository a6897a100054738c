//! The simulator's error type.

use std::path::PathBuf;

/// Everything that can go wrong in the simulator library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A system spec (or another input file) that parsed but holds a value outside its range.
    #[error("{file}: {field}: {reason}")]
    InvalidSpec {
        /// The file the value came from.
        file: PathBuf,
        /// The field's path inside the file, e.g. `lens.mass[0].q`.
        field: String,
        /// What is wrong and what is allowed.
        reason: String,
    },
    /// A file that could not be parsed at all (syntax, unknown field, unknown `type`).
    #[error("{file}: {message}")]
    Parse {
        /// The file being parsed.
        file: PathBuf,
        /// The parser's message, with its line and column where it gives them.
        message: String,
    },
    /// A survey name that has no embedded preset.
    #[error("unknown survey `{name}`: the embedded presets are {known}")]
    UnknownSurvey {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// An I/O error, with the path it happened on.
    #[error("{path}: {source}")]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An HDF5 error, with the path of the file.
    #[error("{path}: HDF5: {source}")]
    Hdf5 {
        /// The HDF5 file.
        path: PathBuf,
        /// The underlying error.
        source: hdf5::Error,
    },
    /// A PNG encoding error.
    #[error("{path}: PNG: {source}")]
    Png {
        /// The PNG file.
        path: PathBuf,
        /// The underlying error.
        source: png::EncodingError,
    },
}

/// The simulator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
