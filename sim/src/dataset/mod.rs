//! Datasets on disk: the HDF5 layout of DESIGN.md, written, read back, merged and described;
//! and the challenge layouts (FITS stamps and a CSV catalogue).

pub mod chunks;
pub mod fits;
pub mod hdf5;
pub mod info;
pub mod merge;
pub mod read;
pub mod sglc;
