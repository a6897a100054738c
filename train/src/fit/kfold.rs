//! `train run`: k-fold cross-validation of the lens finder on a dataset, as the II SGLC's
//! winners trained theirs. An independent test set is kept out of every fold; model i trains
//! on the other folds, is validated on fold i after every epoch, and keeps the epoch with the
//! lowest validation loss; each fold's model is then scored on the test set.
//!
//! Everything lives in a run folder: `config.toml`, per fold `fold<i>/` with the clipping
//! bounds (`scalings.json`), the best model (`model.mpk`), an every-epoch checkpoint (model,
//! optimiser, log) while it trains, and `result.json` when done; `report.json` at the end. A
//! killed run started again with `resume` continues from the last finished epoch: the backend's
//! random numbers, the shuffles and the augmentation are all drawn from (seed, fold, epoch), so
//! the resumed run computes what the uninterrupted one would have.

use std::path::{Path, PathBuf};

use burn::module::{AutodiffModule, Module};
use burn::optim::Optimizer;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Recorder};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::epochs::{batch_loss, batch_scores, train_step, Batch, EpochLog};
use super::radam::RAdamConfig;
use crate::config::TrainConfig;
use crate::data::batches::{stream, BatchReader, Scalings};
use crate::data::split::stratified_kfold;
use crate::data::stamps::{Grid, OpenOptions};
use crate::data::{Dataset, LabelRule};
use crate::evaluate::metrics::{evaluate, Report};
use crate::model::two_branch::{Architecture, Branches, LensFinder};
use crate::ops::{TrainAutodiff, TrainOps};

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading the dataset failed.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The split is impossible (too few systems for the folds).
    #[error("{file}: {source}")]
    Split {
        /// The dataset.
        file: PathBuf,
        /// Why.
        source: crate::data::split::SplitError,
    },
    /// Pretrained weights that do not load.
    #[error(transparent)]
    Init(#[from] crate::model::pretrained::InitError),
    /// The run's configuration does not read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The caller asked to stop (after the checkpoint of that epoch was written).
    #[error("stopped after epoch {epoch} of fold {fold}: continue with --resume")]
    Stopped {
        /// The fold.
        fold: usize,
        /// The last finished epoch.
        epoch: usize,
    },
    /// The run folder: exists with another configuration, or cannot be written.
    #[error("{path}: {message}")]
    Folder {
        /// The file or folder.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One fold's outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FoldResult {
    /// The fold, from 0.
    pub fold: usize,
    /// The epoch (from 1) whose model was kept.
    pub best_epoch: usize,
    /// Its validation loss.
    pub best_val_loss: f64,
    /// Every epoch's losses.
    pub log: Vec<EpochLog>,
    /// The kept model's metrics on the test set (absent if the test set lacks a class).
    pub test: Option<Report>,
    /// Its lens probabilities on the test set, in the order of `RunReport::test_indices`.
    pub test_scores: Vec<f64>,
}

/// Mean and standard deviation over folds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeanStd {
    /// Mean.
    pub mean: f64,
    /// Standard deviation (population, over the folds that have the metric).
    pub std: f64,
}

impl MeanStd {
    /// Mean and population standard deviation of `v` (None when empty).
    pub fn of(v: &[f64]) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        Some(Self {
            mean,
            std: var.sqrt(),
        })
    }
}

/// The whole run's report (`report.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunReport {
    /// The configuration used.
    pub config: TrainConfig,
    /// Systems in the dataset and lenses among them.
    pub systems: usize,
    /// Lenses in the dataset.
    pub lenses: usize,
    /// The test set's dataset indices.
    pub test_indices: Vec<usize>,
    /// Their labels.
    pub test_labels: Vec<bool>,
    /// Per fold.
    pub folds: Vec<FoldResult>,
    /// Mean ± std over folds of the test ROC AUC.
    pub roc_auc: Option<MeanStd>,
    /// Of the test PR AUC.
    pub pr_auc: Option<MeanStd>,
    /// Of the test F_β.
    pub f_beta: Option<MeanStd>,
    /// The folds' mean score on each test system (empty without folds).
    pub ensemble_scores: Vec<f64>,
    /// Those scores judged as one finder.
    pub ensemble: Option<Report>,
    /// The grid of each band the network read (its side and pixel scale), so that stamps of
    /// another size or pixel scale are brought onto it when scored; empty in runs made before
    /// it was recorded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grids: Vec<(String, Grid)>,
}

/// What the run tells its caller as it goes; the caller answers `false` to an `Epoch` event to
/// stop the run there (its checkpoint is already written, so `resume` continues it).
pub enum Event<'a> {
    /// A training batch finished: (fold, epoch, batches done, batches in the epoch).
    Batch(usize, usize, usize, usize),
    /// An epoch finished: (fold, its log, whether it is the best so far).
    Epoch(usize, &'a EpochLog, bool),
    /// A fold finished (or was found finished when resuming).
    Fold(&'a FoldResult),
}

/// The state saved after every epoch (`fold<i>/checkpoint.json`).
#[derive(Serialize, Deserialize)]
struct Checkpoint {
    epoch: usize,
    log: Vec<EpochLog>,
    best_epoch: usize,
    best_val_loss: f64,
}

fn recorder() -> NamedMpkFileRecorder<FullPrecisionSettings> {
    NamedMpkFileRecorder::new()
}

pub(crate) fn folder_err(path: &Path, message: impl std::fmt::Display) -> RunError {
    RunError::Folder {
        path: path.into(),
        message: message.to_string(),
    }
}

pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<(), RunError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| folder_err(path, e))?;
    format::atomic::write_bytes(path, text.as_bytes()).map_err(|e| folder_err(path, e))
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| folder_err(path, e))?;
    serde_json::from_str(&text).map_err(|e| folder_err(path, e))
}

/// A stream seed for (fold, epoch): the backend's random numbers (dropout, drop-connect, the
/// initial weights at epoch 0) depend only on these.
pub(crate) fn mix(seed: u64, fold: usize, epoch: usize) -> u64 {
    // SplitMix64 of the three, so nearby folds and epochs get unrelated seeds.
    let mut z = seed ^ ((fold as u64) << 40) ^ (epoch as u64);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Prepares the run folder `out` for `config`: creates it, or checks that an earlier run there
/// had the same configuration when resuming.
fn prepare_folder(config: &TrainConfig, out: &Path, resume: bool) -> Result<(), RunError> {
    let saved = out.join("config.toml");
    let text = toml::to_string(config).map_err(|e| folder_err(&saved, e))?;
    if saved.exists() {
        if !resume {
            return Err(folder_err(
                out,
                "holds an earlier run: pass --resume to continue it, or choose another --out",
            ));
        }
        let old = std::fs::read_to_string(&saved).map_err(|e| folder_err(&saved, e))?;
        if old != text {
            return Err(folder_err(
                &saved,
                "the earlier run there had another configuration: cannot resume it with this one",
            ));
        }
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| folder_err(out, e))?;
    format::atomic::write_bytes(&saved, text.as_bytes()).map_err(|e| folder_err(&saved, e))
}

/// Runs (or resumes) the k-fold training of `config` into the folder `out` on `device`.
pub fn run<B: TrainAutodiff>(
    config: &TrainConfig,
    out: &Path,
    resume: bool,
    device: &B::Device,
    on_event: &mut dyn FnMut(Event) -> bool,
) -> Result<RunReport, RunError> {
    let (data, labels) = open_labelled(config)?;
    let init = &config.model.init;
    if !init.as_os_str().is_empty() && !init.is_file() {
        return Err(crate::model::pretrained::InitError {
            file: init.clone(),
            message: "no such weights file (model.init / --init)".into(),
        }
        .into());
    }
    let fit = &config.fit;
    let splits = stratified_kfold(&labels, fit.folds, config.data.test_fraction, fit.seed)
        .map_err(|source| RunError::Split {
            file: config.data.file.clone(),
            source,
        })?;
    let reader = BatchReader::new(&data, config, &labels);
    // Every fold's clipping bounds before anything is written: a band that cannot give them
    // (no finite pixel in the sample) stops the run with nothing left behind.
    let all_scalings = (0..config.trained_folds())
        .map(|fold| reader.fit_scalings(&splits.training(fold), mix(fit.seed, fold, 0)))
        .collect::<Result<Vec<_>, _>>()?;
    prepare_folder(config, out, resume)?;
    let test_labels: Vec<bool> = splits.test.iter().map(|&i| labels[i]).collect();

    let mut folds = Vec::new();
    for (fold, scalings) in all_scalings.iter().enumerate() {
        let dir = out.join(format!("fold{fold}"));
        let result_path = dir.join("result.json");
        if resume && result_path.exists() {
            let r: FoldResult = read_json(&result_path)?;
            on_event(Event::Fold(&r));
            folds.push(r);
            continue;
        }
        std::fs::create_dir_all(&dir).map_err(|e| folder_err(&dir, e))?;
        let training = splits.training(fold);
        let validation = &splits.folds[fold];
        write_json(&dir.join("scalings.json"), scalings)?;
        let r = train_fold::<B>(
            config,
            None,
            &reader,
            scalings,
            fold,
            &training,
            validation,
            &splits.test,
            &test_labels,
            &dir,
            resume,
            device,
            on_event,
        )?;
        write_json(&result_path, &r)?;
        remove_checkpoints(&dir);
        on_event(Event::Fold(&r));
        folds.push(r);
    }

    let metric = |f: fn(&Report) -> f64| -> Option<MeanStd> {
        MeanStd::of(
            &folds
                .iter()
                .filter_map(|r| r.test.as_ref().map(f))
                .collect::<Vec<_>>(),
        )
    };
    let ensemble_scores: Vec<f64> = if folds.is_empty() {
        Vec::new()
    } else {
        (0..splits.test.len())
            .map(|k| folds.iter().map(|r| r.test_scores[k]).sum::<f64>() / folds.len() as f64)
            .collect()
    };
    let ensemble = evaluate(&test_labels, &ensemble_scores, fit.beta2).ok();
    let report = RunReport {
        config: config.clone(),
        systems: labels.len(),
        lenses: labels.iter().filter(|&&l| l).count(),
        test_indices: splits.test.clone(),
        test_labels,
        roc_auc: metric(|r| r.roc_auc),
        pr_auc: metric(|r| r.pr_auc),
        f_beta: metric(|r| r.f_beta.f_beta),
        folds,
        ensemble_scores,
        ensemble,
        grids: network_bands(config)
            .into_iter()
            .filter_map(|b| Some((b.clone(), data.grid(&b)?)))
            .collect(),
    };
    write_json(&out.join("report.json"), &report)?;
    Ok(report)
}

impl RunReport {
    /// The report of the finished run in `run_dir` (its `report.json`).
    pub fn read(run_dir: &Path) -> Result<Self, RunError> {
        let path = run_dir.join("report.json");
        if !path.is_file() {
            return Err(folder_err(
                &path,
                "missing: is this a finished `train run` folder?",
            ));
        }
        read_json(&path)
    }
}

/// Removes the every-epoch checkpoint of a finished model's folder (its result is written).
pub(crate) fn remove_checkpoints(dir: &Path) {
    for f in [
        "checkpoint.json",
        "checkpoint-model.mpk",
        "checkpoint-optim.mpk",
    ] {
        // Absent files are fine: the checkpoint is only a way to resume.
        let _ = std::fs::remove_file(dir.join(f));
    }
}

/// A freshly initialised network of `config`'s architecture.
fn fresh_model<B: TrainOps>(config: &TrainConfig, device: &B::Device) -> LensFinder<B> {
    let m = &config.model;
    let bands = config.data.nir_bands.len();
    match m.architecture {
        Architecture::Jacobs => LensFinder::<B>::jacobs(bands, device),
        Architecture::Vit => LensFinder::<B>::vit(bands, m.vit, device),
        Architecture::EfficientNet => {
            let (width, depth) = config.scaling();
            LensFinder::<B>::scaled(
                width,
                depth,
                m.bn_momentum,
                m.branches,
                m.vis_channels,
                bands,
                device,
            )
        }
    }
}

/// The kept model of fold `fold` of the run in `run_dir`, made with `config` (the run's
/// `config.toml`), and the band scalings learnt for it.
pub fn load_fold<B: TrainOps>(
    config: &TrainConfig,
    run_dir: &Path,
    fold: usize,
    device: &B::Device,
) -> Result<(LensFinder<B>, Scalings), RunError> {
    let dir = run_dir.join(format!("fold{fold}"));
    let model = fresh_model::<B>(config, device)
        .load_file(dir.join("model"), &recorder(), device)
        .map_err(|e| folder_err(&dir.join("model.mpk"), e))?;
    let scalings: Scalings = read_json(&dir.join("scalings.json"))?;
    Ok((model, scalings))
}

/// The dataset of `config` and its labels (by the configured rule, if any), refused when it
/// lacks a band the network reads.
pub fn open_labelled(config: &TrainConfig) -> Result<(Dataset, Vec<bool>), RunError> {
    let data = open_for(config)?;
    let labels = labels_of(&data, config)?;
    Ok((data, labels))
}

/// The labels of `data` by `config`'s rule (the stored ones when it has none).
pub(crate) fn labels_of(data: &Dataset, config: &TrainConfig) -> Result<Vec<bool>, RunError> {
    let rule: Option<LabelRule> = if config.data.label.trim().is_empty() {
        None
    } else {
        Some(config.data.label.parse()?)
    };
    Ok(data.labels(rule.as_ref())?)
}

/// The dataset of `config`, refused when it lacks a band the network reads.
pub(crate) fn open_for(config: &TrainConfig) -> Result<Dataset, RunError> {
    open_with(config, OpenOptions::default())
}

/// The bands the network of `config` reads, VIS first.
pub(crate) fn network_bands(config: &TrainConfig) -> Vec<String> {
    let vis = (config.model.branches != Branches::Nir).then_some(&config.data.vis_band);
    vis.into_iter()
        .chain(&config.data.nir_bands)
        .cloned()
        .collect()
}

/// The dataset of `config` opened with `options` (their bands and bad-cutout policy set from
/// `config`), refused when it lacks a band the network reads.
pub(crate) fn open_with(config: &TrainConfig, options: OpenOptions) -> Result<Dataset, RunError> {
    let bands = network_bands(config);
    let options = OpenOptions {
        bands: bands.clone(),
        bad_cutouts: config.data.bad_cutouts,
        ..options
    };
    let data = Dataset::open_with(&config.data.file, &options)?;
    for b in &bands {
        if !data.bands().contains(b) {
            return Err(crate::data::DataError::Format {
                file: config.data.file.clone(),
                message: format!(
                    "band `{b}` is not in the dataset (it has {})",
                    data.bands().join(", ")
                ),
            }
            .into());
        }
    }
    Ok(data)
}

/// Calls `each` with the batches of `indices` in order, `size` at a time, without augmentation,
/// each read when it is needed (memory holds one batch, whatever the fold's size).
pub(crate) fn for_each_batch<B: burn::tensor::backend::Backend>(
    reader: &BatchReader,
    scalings: &Scalings,
    indices: &[usize],
    size: usize,
    device: &B::Device,
    mut each: impl FnMut(Batch<B>),
) -> Result<(), RunError> {
    for chunk in indices.chunks(size) {
        each(reader.batch::<B>(chunk, scalings, None, device)?);
    }
    Ok(())
}

/// Trains one model of `config` on `training` into `dir` (its kept model, checkpoints), from
/// `start` when given (fine-tuning), else freshly initialised (or from `model.init`); the
/// epoch of lowest loss on `validation` is kept and scored on `test`. `fold` names the random
/// streams (initial weights, shuffles, augmentation, dropout).
#[allow(clippy::too_many_arguments)]
pub(crate) fn train_fold<B: TrainAutodiff>(
    config: &TrainConfig,
    start: Option<LensFinder<B>>,
    reader: &BatchReader,
    scalings: &Scalings,
    fold: usize,
    training: &[usize],
    validation: &[usize],
    test: &[usize],
    test_labels: &[bool],
    dir: &Path,
    resume: bool,
    device: &B::Device,
    on_event: &mut dyn FnMut(Event) -> bool,
) -> Result<FoldResult, RunError> {
    let fit = &config.fit;
    let m = &config.model;
    let (_, depth) = config.scaling();
    B::seed(device, mix(fit.seed, fold, 0));
    let mut model = match start {
        Some(model) => model,
        None => {
            let mut model = fresh_model::<B>(config, device);
            if !m.init.as_os_str().is_empty() {
                crate::model::pretrained::load_pretrained(&mut model, &m.init, depth)?;
            }
            model
        }
    };
    let mut optim = RAdamConfig::new().init::<B, LensFinder<B>>();
    let mut state = Checkpoint {
        epoch: 0,
        log: Vec::new(),
        best_epoch: 0,
        best_val_loss: f64::INFINITY,
    };
    let ck = dir.join("checkpoint.json");
    if resume && ck.exists() {
        state = read_json(&ck)?;
        model = model
            .load_file(dir.join("checkpoint-model"), &recorder(), device)
            .map_err(|e| folder_err(&dir.join("checkpoint-model.mpk"), e))?;
        let record = Recorder::<B>::load(&recorder(), dir.join("checkpoint-optim"), device)
            .map_err(|e| folder_err(&dir.join("checkpoint-optim.mpk"), e))?;
        optim = optim.load_record(record);
    }
    for epoch in state.epoch + 1..=fit.epochs {
        B::seed(device, mix(fit.seed, fold, epoch));
        let mut order = training.to_vec();
        order.shuffle(&mut stream(fit.seed, 0x5F00 + fold as u64, epoch as u64));
        let n_batches = order.len().div_ceil(fit.batch);
        let mut train_loss = 0.0;
        for (k, chunk) in order.chunks(fit.batch).enumerate() {
            let augment = config
                .augment
                .enabled
                .then_some((mix(fit.seed, fold, epoch), epoch as u64));
            let b = reader.batch::<B>(chunk, scalings, augment, device)?;
            let (next, loss) = train_step(model, &mut optim, b, fit.learning_rate);
            model = next;
            train_loss += loss;
            on_event(Event::Batch(fold, epoch, k + 1, n_batches));
        }
        let inference = model.valid();
        let mut val_sum = 0.0;
        for_each_batch(reader, scalings, validation, fit.batch, device, |b| {
            val_sum += batch_loss(&inference, &b);
        })?;
        let val_loss = val_sum / validation.len().div_ceil(fit.batch).max(1) as f64;
        let entry = EpochLog {
            epoch,
            train_loss: train_loss / n_batches.max(1) as f64,
            val_loss,
        };
        let best = val_loss < state.best_val_loss || state.best_epoch == 0;
        if best {
            state.best_val_loss = val_loss;
            state.best_epoch = epoch;
            inference
                .save_file(dir.join("model"), &recorder())
                .map_err(|e| folder_err(&dir.join("model.mpk"), e))?;
        }
        state.epoch = epoch;
        state.log.push(entry);
        // The checkpoint: model and optimiser first, the JSON that points at them last.
        model
            .clone()
            .save_file(dir.join("checkpoint-model"), &recorder())
            .map_err(|e| folder_err(&dir.join("checkpoint-model.mpk"), e))?;
        Recorder::<B>::record(&recorder(), optim.to_record(), dir.join("checkpoint-optim"))
            .map_err(|e| folder_err(&dir.join("checkpoint-optim.mpk"), e))?;
        write_json(&ck, &state)?;
        if !on_event(Event::Epoch(fold, &entry, best)) {
            return Err(RunError::Stopped { fold, epoch });
        }
    }
    // The kept model, scored on the test set.
    let best = fresh_model::<B::InnerBackend>(config, device)
        .load_file(dir.join("model"), &recorder(), device)
        .map_err(|e| folder_err(&dir.join("model.mpk"), e))?;
    let mut test_scores = Vec::with_capacity(test.len());
    for_each_batch(reader, scalings, test, fit.batch, device, |b| {
        test_scores.extend(batch_scores(&best, &b));
    })?;
    Ok(FoldResult {
        fold,
        best_epoch: state.best_epoch,
        best_val_loss: state.best_val_loss,
        log: state.log,
        test: evaluate(test_labels, &test_scores, fit.beta2).ok(),
        test_scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_seeds_differ_by_fold_and_epoch() {
        let s: Vec<u64> = (0..3)
            .flat_map(|f| (0..3).map(move |e| mix(7, f, e)))
            .collect();
        let mut u = s.clone();
        u.sort_unstable();
        u.dedup();
        assert_eq!(u.len(), s.len());
        assert_eq!(mix(7, 1, 2), mix(7, 1, 2));
    }

    #[test]
    fn mean_and_std() {
        let m = MeanStd::of(&[1.0, 3.0]).unwrap();
        assert_eq!((m.mean, m.std), (2.0, 1.0));
        assert!(MeanStd::of(&[]).is_none());
    }
}
