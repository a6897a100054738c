//! HDF5 in pure Rust: [`writer`] streams lensforge's files; reading goes through `hdf5-pure`.

pub mod checksum;
pub mod filters;
pub mod messages;
pub mod reader;
pub mod writer;

pub use messages::Dtype;
pub use reader::{H5File, Images, ReadError};
pub use writer::{AttrValue, ObjectId, Writer};
