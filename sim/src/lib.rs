//! lensforge's simulator: strong-lens physics, rendering, observation and datasets.
//!
//! The modules follow the pipeline's order (DESIGN.md); a module never imports a later stage:
//! `cosmology` → `mass`, `light` → `raytrace`, `caustics` → `observe` → `dataset`.
//! `spec` reads one system and `population` draws many; `render` ties the stages together for
//! `sim render`, `generate` for `sim generate`; `bench` times the deflection for
//! `sim bench-deflect` (on the GPU through `raytrace::cuda`, with the `cuda` feature).

#![warn(missing_docs)]

pub mod bench;
pub mod caustics;
pub mod cosmology;
pub mod dataset;
pub mod error;
pub mod generate;
pub mod geometry;
pub mod gpu_layout;
pub mod inject;
pub mod labels;
pub mod light;
pub mod limits;
pub mod mass;
pub mod observe;
pub mod population;
pub mod preview;
pub mod raytrace;
pub mod render;
pub mod run_config;
pub mod simd;
pub mod spec;

pub use error::{Error, Result};

/// The generator's name and version, as written into every output.
pub fn generator() -> String {
    format!("lensforge-sim {}", env!("CARGO_PKG_VERSION"))
}
