//! Files written whole or not at all (issue #20: the write-then-rename both programs repeated):
//! a file is written under a scratch name beside its destination and renamed when complete; on
//! failure the scratch file is removed, so a failed command leaves nothing half-written.

use std::path::{Path, PathBuf};

/// `dir/.stem.partial.ext`: the scratch name of `path` (the extension is kept, since some
/// writers, plotters for one, choose the format from it).
pub fn scratch_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    let name = match path.extension() {
        Some(ext) => format!(".{stem}.partial.{}", ext.to_string_lossy()),
        None => format!(".{stem}.partial"),
    };
    path.with_file_name(name)
}

/// Writes `path` by `write` into its [`scratch_path`], then renames it; `io_error` turns a failed
/// rename into the caller's error. On any failure the scratch file is removed.
pub fn write_via<E>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
    io_error: impl FnOnce(&Path, std::io::Error) -> E,
) -> Result<(), E> {
    let tmp = scratch_path(path);
    let result =
        write(&tmp).and_then(|()| std::fs::rename(&tmp, path).map_err(|e| io_error(path, e)));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` whole or not at all.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_via(path, |tmp| std::fs::write(tmp, bytes), |_, e| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_whole_and_a_failure_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_bytes(&path, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        let failed: Result<(), String> = write_via(
            &dir.path().join("plot.png"),
            |tmp| {
                std::fs::write(tmp, b"half").unwrap();
                Err("the plot failed".into())
            },
            |_, e| e.to_string(),
        );
        assert_eq!(failed.unwrap_err(), "the plot failed");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["report.json"]);
        assert_eq!(
            scratch_path(Path::new("d/plot.png")),
            Path::new("d/.plot.partial.png")
        );
    }
}
