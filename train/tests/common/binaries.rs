//! The `sim` binary beside `train`'s, for the tests that run both (as `cargo test --workspace`
//! builds them); where it is absent the test says it was skipped.

use std::path::{Path, PathBuf};

/// The folder of the binaries, if `sim` is there too.
pub fn with_sim() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_BIN_EXE_train"))
        .parent()?
        .to_path_buf();
    if !dir.join("sim").is_file() {
        eprintln!("skipped: no sim binary beside train (run `cargo test --workspace`)");
        return None;
    }
    Some(dir)
}
