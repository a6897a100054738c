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
    /// A name that is neither a file nor an embedded preset.
    #[error("unknown {kind} `{name}` (not a file either): the embedded presets are {known}")]
    UnknownPreset {
        /// What was asked for: `survey`, `population`.
        kind: &'static str,
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
    /// An HDF5 file that cannot be read as it should, with the path of the file.
    #[error("{path}: HDF5: {message}")]
    Hdf5 {
        /// The HDF5 file.
        path: PathBuf,
        /// What went wrong, with the object's path inside the file.
        message: String,
    },
    /// A FITS file that cannot be written or read.
    #[error("{path}: FITS: {message}")]
    Fits {
        /// The FITS file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A PNG encoding error.
    #[error("{path}: PNG: {source}")]
    Png {
        /// The PNG file.
        path: PathBuf,
        /// The underlying error.
        source: png::EncodingError,
    },
    /// A run stopped by the user (Ctrl-C) between blocks.
    #[error("interrupted after {done} of {total} systems: {}", match partial {
        Some(p) => format!("{} keeps them; rerun the same command with --resume to go on from there", p.display()),
        None => "nothing was kept (a challenge-style set is written whole)".to_string(),
    })]
    Interrupted {
        /// Systems written when the run stopped.
        done: u64,
        /// Systems the run (or shard) holds in all.
        total: u64,
        /// The partial file a `--resume` continues from (None: nothing kept).
        partial: Option<PathBuf>,
    },
    /// The GPU renderer failed (or is not there).
    #[error("GPU: {0}")]
    Gpu(String),
}

/// The simulator's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The TOML text of `name_or_path`: the file if one exists at that path, else the embedded
/// preset of that name from `presets` (name, text), with the path that names it in errors
/// (`configs/<dir>/<name>.toml` for a preset). `kind` names the thing in the error.
pub fn read_preset(
    name_or_path: &str,
    presets: &[(&str, &str)],
    dir: &str,
    kind: &'static str,
) -> Result<(String, PathBuf)> {
    let path = std::path::Path::new(name_or_path);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        })?;
        return Ok((text, path.into()));
    }
    let (_, text) = presets
        .iter()
        .find(|(n, _)| *n == name_or_path)
        .ok_or_else(|| Error::UnknownPreset {
            kind,
            name: name_or_path.to_string(),
            known: presets.iter().map(|p| p.0).collect::<Vec<_>>().join(", "),
        })?;
    Ok((
        text.to_string(),
        PathBuf::from(format!("configs/{dir}/{name_or_path}.toml")),
    ))
}
