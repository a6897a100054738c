//! Datasets on disk: the HDF5 layout of DESIGN.md, written, read back, merged and described;
//! and the challenge layouts (FITS stamps and a CSV catalogue).

pub mod chunks;
pub mod fits;
pub mod hdf5;
pub mod info;
pub mod merge;
pub mod read;
pub mod record;
pub mod sglc;

use std::path::Path;

/// Refuses an output path that is a folder (`option` names the command-line option), before
/// any work is done: a file is written there only at the end.
pub fn refuse_folder(path: &Path, option: &str) -> crate::Result<()> {
    if path.is_dir() {
        return Err(crate::Error::InvalidSpec {
            file: path.into(),
            field: option.into(),
            reason: "is a folder: give the name of the file to write".into(),
        });
    }
    Ok(())
}
