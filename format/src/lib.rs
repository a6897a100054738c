//! lensforge's dataset format, shared by `sim` and `train` (DESIGN.md, "format/"): the HDF5
//! files written and read in pure Rust, with no system library.

pub mod atomic;
pub mod challenge;
pub mod checked;
pub mod command_line;
pub mod cutouts;
pub mod dataset;
pub mod h5;
pub mod labels;
pub mod progress;
pub mod resample;
pub mod stamps;
pub mod table;
pub mod wcs;
