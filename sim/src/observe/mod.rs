//! How a survey sees a system: its bands, pixels and (with the observation stage) PSF and noise.

pub mod survey;

pub use survey::{Band, Survey};
pub mod noise;
pub mod psf;
