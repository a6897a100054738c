//! Dataset I/O: the HDF5 training-set format of DESIGN.md.

pub mod hdf5;
