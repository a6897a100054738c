//! `train run`'s configuration: `configs/train/default.toml` (embedded), a user's file, and
//! command-line overrides, checked before anything runs. Fields are documented in the default
//! file.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::preprocess::Clipping;
use crate::model::efficientnet::Variant;
use crate::model::two_branch::{Architecture, Branches, VisChannels};
use crate::model::vit::VitShape;

/// The embedded default configuration.
pub const DEFAULT: &str = include_str!("../../configs/train/default.toml");

/// A configuration that does not parse or holds a value out of range.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {field}: {reason}")]
pub struct ConfigError {
    /// The file (or `(command line)`).
    pub file: PathBuf,
    /// The field, e.g. `fit.epochs`.
    pub field: String,
    /// What is wrong and what is allowed.
    pub reason: String,
}

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    pub file: PathBuf,
    pub label: String,
    pub vis_band: String,
    pub nir_bands: Vec<String>,
    pub test_fraction: f64,
    pub percentile_sample: usize,
    #[serde(default)]
    pub vis_size: usize,
    #[serde(default)]
    pub nir_size: usize,
    #[serde(default)]
    pub bad_cutouts: crate::data::stamps::BadCutouts,
}

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    #[serde(default)]
    pub architecture: Architecture,
    pub variant: Variant,
    pub branches: Branches,
    pub vis_channels: VisChannels,
    pub width: f64,
    pub depth: f64,
    pub bn_momentum: f64,
    #[serde(default)]
    pub init: PathBuf,
    #[serde(default)]
    pub vit: VitShape,
}

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessConfig {
    pub clipping: Clipping,
}

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AugmentConfig {
    pub enabled: bool,
}

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch: usize,
    pub learning_rate: f64,
    pub folds: usize,
    pub folds_to_train: usize,
    pub seed: u64,
    pub beta2: f64,
}

/// A whole training configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// What to read.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// Per-band clipping.
    pub preprocess: PreprocessConfig,
    /// Augmentation.
    pub augment: AugmentConfig,
    /// The optimisation and cross-validation.
    pub fit: FitConfig,
}

/// A command-line override of one configuration field.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The flag that gave it, without its dashes (`epochs`).
    pub flag: &'static str,
    /// The field's path in the configuration file (`fit.epochs`).
    pub field: &'static str,
    /// The value, as the file would hold it.
    pub value: serde_json::Value,
}

impl Override {
    /// The override of `field` by `--flag`, where the flag was given (`value` Some).
    pub fn of<T: Serialize>(
        flag: &'static str,
        field: &'static str,
        value: Option<T>,
    ) -> Option<Self> {
        let value = serde_json::to_value(value?).expect("a flag's value serialises");
        Some(Self { flag, field, value })
    }
}

/// The defaults of a settings type whose fields are its command's arguments: what they give
/// when none is passed (each argument's `default_value`, or its `skip` value for one the
/// command line does not set), so that every default is written once, beside its flag.
pub fn argument_defaults<T: clap::Args + clap::FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("defaults").no_binary_name(true));
    let matches = command
        .try_get_matches_from(std::iter::empty::<&str>())
        .expect("every argument of a settings type has a default");
    T::from_arg_matches(&matches).expect("every argument of a settings type has a default")
}

/// Largest stamp side a run may resize to, pixels: 5× Euclid's VIS stamp (200), more than any
/// lens finder's input (EfficientNet-B7 takes 600).
pub const MAX_STAMP_SIDE: usize = 1024;
/// Most epochs of a run (the seed study trains 50).
pub const MAX_EPOCHS: usize = 10_000;
/// Largest batch, systems.
pub const MAX_BATCH: usize = 4096;

impl TrainConfig {
    /// The embedded default.
    pub fn default_config() -> Self {
        // Tested to parse below, so this cannot fail at run time.
        Self::from_toml(DEFAULT, Path::new("configs/train/default.toml")).expect("default parses")
    }

    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.into(),
            field: "(file)".into(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and checks TOML text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let c: Self = toml::from_str(text).map_err(|e| ConfigError {
            file: path.into(),
            field: "(syntax)".into(),
            reason: e.to_string().trim_end().to_string(),
        })?;
        c.validate(path)?;
        Ok(c)
    }

    /// This configuration with `overrides` set in turn, each read back as the file's value
    /// would be (its kind, and a choice by its name: an error names the flag and its value),
    /// then every range checked as a file's is (`origin` names the result in errors). The
    /// command line's one way into a configuration.
    pub fn with_overrides(
        &self,
        overrides: &[Override],
        origin: &Path,
    ) -> Result<Self, ConfigError> {
        let mut value = serde_json::to_value(self).expect("a configuration serialises");
        for o in overrides {
            // JSON has no NaN or infinity: a float that is neither serialises as null.
            if o.value.is_null() {
                return Err(ConfigError {
                    file: "(command line)".into(),
                    field: format!("--{}", o.flag),
                    reason: "not a finite number".into(),
                });
            }
            let (section, key) = o.field.split_once('.').expect("a section's field");
            value[section][key] = o.value.clone();
            // Read back after each, so that a bad value is named by its own flag.
            serde_json::from_value::<Self>(value.clone()).map_err(|e| ConfigError {
                file: "(command line)".into(),
                field: format!("--{}", o.flag),
                reason: format!("{}: {e}", o.value),
            })?;
        }
        let c: Self = serde_json::from_value(value).expect("read back above");
        c.validate(origin)?;
        Ok(c)
    }

    /// Checks every value's range; the error names the field.
    pub fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let bad = |field: &str, reason: String| ConfigError {
            file: path.into(),
            field: field.into(),
            reason,
        };
        let d = &self.data;
        if !(0.0..1.0).contains(&d.test_fraction) {
            return Err(bad(
                "data.test_fraction",
                format!("{} is outside [0, 1)", d.test_fraction),
            ));
        }
        if d.percentile_sample == 0 {
            return Err(bad("data.percentile_sample", "0 must be ≥ 1".into()));
        }
        for (field, v) in [("data.vis_size", d.vis_size), ("data.nir_size", d.nir_size)] {
            if v == 1 || v > MAX_STAMP_SIDE {
                return Err(bad(
                    field,
                    format!("{v}: 0 (as stored) or in [2, {MAX_STAMP_SIDE}] pixels"),
                ));
            }
        }
        let m = &self.model;
        if m.architecture != Architecture::EfficientNet {
            if m.branches != Branches::Nir {
                return Err(bad(
                    "model.branches",
                    format!(
                        "`{:?}` reads one multi-band image: set model.branches = \"nir\" and \
                         data.nir_bands to its bands",
                        m.architecture
                    )
                    .to_lowercase(),
                ));
            }
            if d.nir_bands.is_empty() {
                return Err(bad("data.nir_bands", "at least one band is needed".into()));
            }
            if !m.init.as_os_str().is_empty() {
                return Err(bad(
                    "model.init",
                    "pretrained weights are for EfficientNet branches only".into(),
                ));
            }
            if let Some(problem) = m.vit.problem() {
                return Err(bad("model.vit", problem));
            }
        } else if m.branches != Branches::Vis {
            // The NIR branch's stem takes as many channels as bands: 3 for H, J, Y, 1 for the
            // seed's Y + VIS. Pretrained stems (ImageNet's RGB) take 3.
            if d.nir_bands.is_empty() {
                return Err(bad("data.nir_bands", "at least one band is needed".into()));
            }
            if d.nir_bands.len() != 3 && !m.init.as_os_str().is_empty() {
                return Err(bad(
                    "model.init",
                    format!(
                        "pretrained weights take 3 input channels, not the NIR branch's {}",
                        d.nir_bands.len()
                    ),
                ));
            }
        }
        for (f, v) in [("model.width", m.width), ("model.depth", m.depth)] {
            if !(v == 0.0 || (v > 0.0 && v <= 4.0)) {
                return Err(bad(f, format!("{v}: 0 (the variant's) or in (0, 4]")));
            }
        }
        if !(m.bn_momentum > 0.0 && m.bn_momentum <= 1.0) {
            return Err(bad(
                "model.bn_momentum",
                format!("{} is outside (0, 1]", m.bn_momentum),
            ));
        }
        let f = &self.fit;
        if !(1..=MAX_EPOCHS).contains(&f.epochs) {
            return Err(bad(
                "fit.epochs",
                format!("{} is outside [1, {MAX_EPOCHS}]", f.epochs),
            ));
        }
        if !(1..=MAX_BATCH).contains(&f.batch) {
            return Err(bad(
                "fit.batch",
                format!("{} is outside [1, {MAX_BATCH}] systems", f.batch),
            ));
        }
        if !(f.learning_rate > 0.0 && f.learning_rate < 1.0) {
            return Err(bad(
                "fit.learning_rate",
                format!("{} is outside (0, 1)", f.learning_rate),
            ));
        }
        if f.folds < 2 {
            return Err(bad("fit.folds", format!("{} must be ≥ 2", f.folds)));
        }
        if f.folds_to_train > f.folds {
            return Err(bad(
                "fit.folds_to_train",
                format!("{} exceeds fit.folds = {}", f.folds_to_train, f.folds),
            ));
        }
        if !(f.beta2 > 0.0 && f.beta2.is_finite()) {
            return Err(bad("fit.beta2", format!("{} must be > 0", f.beta2)));
        }
        Ok(())
    }

    /// Folds that are trained: `folds_to_train`, or all when 0.
    pub fn trained_folds(&self) -> usize {
        if self.fit.folds_to_train == 0 {
            self.fit.folds
        } else {
            self.fit.folds_to_train
        }
    }

    /// The (width, depth) compound scaling of the branches.
    pub fn scaling(&self) -> (f64, f64) {
        let (w, d) = self.model.variant.coefficients();
        (
            if self.model.width > 0.0 {
                self.model.width
            } else {
                w
            },
            if self.model.depth > 0.0 {
                self.model.depth
            } else {
                d
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_scales_the_branches_as_efficientnet_b2_and_overrides_win() {
        // EfficientNet-B2's compound coefficients are width 1.1 and depth 1.2 (Tan & Le 2019,
        // the reference implementation's `efficientnet_params`); a configured width or depth
        // replaces the variant's, and folds_to_train = 0 trains every fold.
        let mut c = TrainConfig::default_config();
        assert_eq!(c.scaling(), (1.1, 1.2));
        assert_eq!(c.trained_folds(), c.fit.folds);
        c.model.width = 0.25;
        c.fit.folds_to_train = 2;
        assert_eq!((c.scaling(), c.trained_folds()), ((0.25, 1.2), 2));
    }

    /// Each override lands in its field, read as the file's value (a choice by its name, a
    /// path, a list), and the first bad one is named by its flag; an override to a value out of
    /// range is refused as the file's would be.
    #[test]
    fn overrides_set_their_fields_and_bad_ones_name_their_flag() {
        let base = TrainConfig::default_config();
        let c = base
            .with_overrides(
                &[
                    Override::of("epochs", "fit.epochs", Some(3usize)),
                    Override::of("variant", "model.variant", Some("b0")),
                    Override::of("nir-bands", "data.nir_bands", Some(vec!["Y"])),
                    Override::of("data", "data.file", Some(PathBuf::from("x.h5"))),
                    Override::of("seed", "fit.seed", Some(u64::MAX)),
                    Override::of("no-augment", "augment.enabled", Some(false)),
                    Override::of("width", "model.width", None::<f64>),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>(),
                Path::new("(t)"),
            )
            .unwrap();
        let mut want = base.clone();
        want.fit.epochs = 3;
        want.model.variant = crate::model::efficientnet::Variant::B0;
        want.data.nir_bands = vec!["Y".into()];
        want.data.file = "x.h5".into();
        want.fit.seed = u64::MAX;
        want.augment.enabled = false;
        assert_eq!(c, want);
        let e = base
            .with_overrides(
                &[Override::of("variant", "model.variant", Some("b9")).unwrap()],
                Path::new("(t)"),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("--variant") && e.contains("b9"), "{e}");
        let e = base
            .with_overrides(
                &[Override::of("epochs", "fit.epochs", Some(0usize)).unwrap()],
                Path::new("(t)"),
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("(t)") && e.contains("fit.epochs"), "{e}");
        for v in [f64::NAN, f64::INFINITY] {
            let e = base
                .with_overrides(
                    &[Override::of("learning-rate", "fit.learning_rate", Some(v)).unwrap()],
                    Path::new("(t)"),
                )
                .unwrap_err()
                .to_string();
            assert!(e.contains("--learning-rate") && e.contains("finite"), "{e}");
        }
    }

    /// Each settings type's defaults come from its arguments, and are the ones the README
    /// documents: F_β with β² = 0.001 (the II SGLC's), N_pix bins of 10 from 10 to 150,
    /// fine-tuning from Euclid to KiDS (r into VIS; u, g, i into NIR, the seed study's move) at
    /// N_img = 20 … 500 in 5 groups, LIME with 1000 samples on about 50 SLIC superpixels; and
    /// what the command line does not set keeps its value (LIME's kernel width, SLIC's rounds).
    #[test]
    fn settings_default_to_their_arguments_defaults() {
        use crate::combine::{compare::CompareSettings, ensemble::EnsembleSettings};
        let sweep = crate::evaluate::sweep::SweepSettings::default();
        assert_eq!((sweep.first, sweep.last, sweep.step), (10, 150, 10));
        assert_eq!(sweep.beta2, 0.001);
        let f = crate::fit::finetune::FinetuneSettings::default();
        assert_eq!(
            (f.vis_band.as_str(), f.nir_bands.join(",")),
            ("r", "u,g,i".into())
        );
        assert_eq!(
            (f.n_img, f.groups, f.epochs),
            (vec![20, 40, 100, 200, 500], 5, None)
        );
        let lime = crate::explain::LimeSettings::default();
        assert_eq!((lime.samples, lime.slic.n_segments), (1000, 50));
        assert_eq!((lime.kernel_width, lime.slic.iterations), (0.25, 10));
        assert_eq!(CompareSettings::default().k, 100);
        assert_eq!(EnsembleSettings::default().completeness, 0.9);
    }

    #[test]
    fn bad_values_name_their_field() {
        let e = TrainConfig::from_toml(
            &DEFAULT.replace("epochs = 50", "epochs = 0"),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("t.toml") && e.contains("fit.epochs"), "{e}");
        let e = TrainConfig::from_toml(&DEFAULT.replace("\"b2\"", "\"b9\""), Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("b9"), "{e}");
        // One NIR band is the seed's Y + VIS; no band is an error, and so are pretrained
        // (3-channel) weights on a one-band branch.
        let y_vis = DEFAULT.replace("nir_bands = [\"H\", \"J\", \"Y\"]", "nir_bands = [\"Y\"]");
        assert!(TrainConfig::from_toml(&y_vis, Path::new("t.toml")).is_ok());
        let e = TrainConfig::from_toml(
            &DEFAULT.replace("nir_bands = [\"H\", \"J\", \"Y\"]", "nir_bands = []"),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("data.nir_bands"), "{e}");
        let e = TrainConfig::from_toml(
            &y_vis.replace("init = \"\"", "init = \"b2.safetensors\""),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("model.init") && e.contains("not the NIR branch's 1"),
            "{e}"
        );
        let jacobs = DEFAULT.replace(
            "architecture = \"efficientnet\"",
            "architecture = \"jacobs\"",
        );
        let e = TrainConfig::from_toml(&jacobs, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("model.branches"), "{e}");
        let des = jacobs
            .replace("branches = \"both\"", "branches = \"nir\"")
            .replace(
                "nir_bands = [\"H\", \"J\", \"Y\"]",
                "nir_bands = [\"g\", \"r\", \"i\", \"z\"]",
            );
        assert!(TrainConfig::from_toml(&des, Path::new("t.toml")).is_ok());
        let e = TrainConfig::from_toml(
            &des.replace("architecture = \"jacobs\"", "architecture = \"vit\"")
                .replace("patch = 16", "patch = 15"),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("model.vit") && e.contains("patch 15"), "{e}");
        let e = TrainConfig::from_toml(
            &DEFAULT.replace("nir_size = 0", "nir_size = 1"),
            Path::new("t.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("data.nir_size"), "{e}");
    }
}
