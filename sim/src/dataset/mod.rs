//! Datasets on disk: the HDF5 layout of DESIGN.md, written, read back, merged and described.

pub mod hdf5;
pub mod info;
pub mod merge;
pub mod read;
