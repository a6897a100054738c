//! Starting from ImageNet-pretrained EfficientNet weights (`train run --init FILE`): a
//! PyTorch (`.pt`, `.pth`) or safetensors file in timm's naming (`conv_stem`, `bn1`,
//! `blocks.<stage>.<i>.conv_dw`, …, `conv_head`, `bn2`, as timm's `tf_efficientnet_b0..b2`
//! and `efficientnet_b0..b2` name them) is loaded into every EfficientNet branch of the lens
//! finder; the classifier of the file is ignored and the lens finder's dense layer keeps its
//! fresh initialisation. burn-store does the reading (its PyTorch-to-Burn adapter renames
//! BatchNorm's weight/bias to gamma/beta); the key map below does the naming.

use std::path::{Path, PathBuf};

use burn_store::{
    KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};

use super::efficientnet::block_layout;
use super::two_branch::LensFinder;
use crate::ops::TrainOps;

/// Why weights could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct InitError {
    /// The weights file.
    pub file: PathBuf,
    /// What went wrong.
    pub message: String,
}

/// What was loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct InitReport {
    /// Tensors loaded, over all branches.
    pub applied: usize,
    /// Tensors of the file no branch uses (the classifier, BatchNorm's batch counters).
    pub unused: Vec<String>,
}

/// (regex over the file's keys, replacement) turning timm's names into the Burn paths of the
/// branch `branch` (`vis` or `nir`) of a network of compound depth `depth`.
pub fn timm_key_map(branch: &str, depth: f64) -> Vec<(String, String)> {
    let mut map = vec![
        (r"^conv_stem\.(.+)$".into(), format!("{branch}.stem.$1")),
        (r"^bn1\.(.+)$".into(), format!("{branch}.stem_bn.$1")),
        (r"^conv_head\.(.+)$".into(), format!("{branch}.top.$1")),
        (r"^bn2\.(.+)$".into(), format!("{branch}.top_bn.$1")),
    ];
    for (k, (stage, i, expand)) in block_layout(depth).into_iter().enumerate() {
        // A block without expansion (timm's DepthwiseSeparableConv) names its layers otherwise.
        let names: &[(&str, &str)] = if expand == 1 {
            &[
                ("conv_dw", "depthwise"),
                ("bn1", "depthwise_bn"),
                ("conv_pw", "project"),
                ("bn2", "project_bn"),
            ]
        } else {
            &[
                ("conv_pw", "expand"),
                ("bn1", "expand_bn"),
                ("conv_dw", "depthwise"),
                ("bn2", "depthwise_bn"),
                ("conv_pwl", "project"),
                ("bn3", "project_bn"),
            ]
        };
        for (from, to) in names.iter().chain(&[
            ("se\\.conv_reduce", "se_reduce"),
            ("se\\.conv_expand", "se_expand"),
        ]) {
            map.push((
                format!(r"^blocks\.{stage}\.{i}\.{from}\.(.+)$"),
                format!("{branch}.blocks.{k}.{to}.$1"),
            ));
        }
    }
    map
}

/// Loads the EfficientNet weights of `file` into every branch of `model` (built at compound
/// depth `depth`); every branch tensor must be found in the file with its shape.
pub fn load_pretrained<B: TrainOps>(
    model: &mut LensFinder<B>,
    file: &Path,
    depth: f64,
) -> Result<InitReport, InitError> {
    let err = |message: String| InitError {
        file: file.into(),
        message,
    };
    if !file.is_file() {
        return Err(err("no such file".into()));
    }
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut applied = 0;
    let mut unused: Option<Vec<String>> = None;
    for branch in model.branch_names() {
        let remapper = KeyRemapper::from_patterns(timm_key_map(branch, depth))
            .map_err(|e| err(format!("key map: {e}")))?;
        let result = match ext.as_str() {
            "safetensors" => {
                let mut store = SafetensorsStore::from_file(file)
                    .with_from_adapter(PyTorchToBurnAdapter)
                    .remap(remapper)
                    .allow_partial(true);
                model
                    .load_from(&mut store)
                    .map_err(|e| err(e.to_string()))?
            }
            "pt" | "pth" | "bin" => {
                let mut store = PytorchStore::from_file(file)
                    .remap(remapper)
                    .allow_partial(true);
                model
                    .load_from(&mut store)
                    .map_err(|e| err(e.to_string()))?
            }
            _ => {
                return Err(err(format!(
                    "unknown weights extension `.{ext}`: use .safetensors, .pt or .pth"
                )))
            }
        };
        if !result.errors.is_empty() {
            return Err(err(format!("{:?}", result.errors)));
        }
        let prefix = format!("{branch}.");
        let missing: Vec<&String> = result
            .missing
            .iter()
            .map(|(p, _)| p)
            .filter(|p| p.starts_with(&prefix))
            .collect();
        if !missing.is_empty() {
            return Err(err(format!(
                "{} tensors of the {branch} branch are not in the file (the first: {}); is it an EfficientNet of this size in timm's naming?",
                missing.len(),
                missing[0]
            )));
        }
        applied += result.applied.len();
        // Unused by every branch: what no branch's key map took.
        let this: Vec<String> = result
            .unused
            .into_iter()
            .filter(|k| !k.starts_with("vis.") && !k.starts_with("nir."))
            .collect();
        unused = Some(match unused {
            None => this,
            Some(prev) => prev.into_iter().filter(|k| this.contains(k)).collect(),
        });
    }
    Ok(InitReport {
        applied,
        unused: unused.unwrap_or_default(),
    })
}
