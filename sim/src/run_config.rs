//! The recorded configuration of a `sim generate` run (the file's `config` attribute): what
//! decides its systems. Read back by `sim info`, `sim merge` and the dataset readers, written
//! by `sim generate`, so it sits below both (it imports neither).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::observe::Survey;
use crate::population::PopulationConfig;

/// Everything that decides a run's systems: stored, as TOML, in the file's `config` attribute
/// (the same for every shard of a run, so that `sim merge` can check it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The run's settings.
    pub generate: RunSettings,
    /// The survey.
    pub survey: Survey,
    /// The population.
    pub population: PopulationConfig,
    /// The real cutouts the population's sources were painted into (`sim inject`); none for
    /// a `sim generate` run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inject: Option<Injection>,
}

/// What a `sim inject` run paints into besides the population: a survey's own cutouts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Injection {
    /// The list or folder of cutouts, as given.
    pub cutouts: String,
    /// Cutouts used (the listing's, less any skipped as bad).
    pub n_cutouts: u64,
    /// Systems made from each cutout: system k is painted into cutout ⌊k / per_cutout⌋.
    pub per_cutout: u64,
    /// Zero points given on the command line (band → AB magnitude of one pixel unit); the
    /// other bands' come from each stamp's header.
    pub zero_points: std::collections::BTreeMap<String, f64>,
    /// Bad cutouts were skipped (else the run would have been refused).
    pub skip_bad_cutouts: bool,
    /// Systems drawn without a source get the source the population would have drawn,
    /// unlensed (non-lenses with a blended background galaxy).
    #[serde(default)]
    pub unlensed: bool,
}

/// A run's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// Systems in the whole run.
    pub n: u64,
    /// Seed of the population and the noise.
    pub seed: u64,
    /// Sub-pixels per pixel side.
    pub supersample: usize,
    /// Grid step of the critical curves, arcsec.
    pub caustic_step: f64,
    /// PSF convolution on.
    pub psf: bool,
    /// Noise on.
    pub noise: bool,
}

impl RunSettings {
    /// `n` systems of `seed` with `sim generate`'s defaults: supersampling 2, the default
    /// critical-curve step, PSF and noise on.
    pub fn new(n: u64, seed: u64) -> Self {
        Self {
            n,
            seed,
            supersample: 2,
            caustic_step: crate::caustics::CausticGrid::DEFAULT_STEP,
            psf: true,
            noise: true,
        }
    }
}

impl RunConfig {
    /// Parses the `config` attribute of a generated file.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Parse {
            file: file.into(),
            message: format!("its `config` attribute is not a `sim generate` configuration: {e}"),
        })
    }
}
