//! `train predict`'s scoring: every system of a dataset or challenge folder scored by the mean
//! lens probability of a finished run's fold models.

use std::path::Path;

use crate::config::TrainConfig;
use crate::data::batches::BatchReader;
use crate::data::stamps::{BadCutouts, OpenOptions};
use crate::fit::epochs::batch_scores;
use crate::fit::kfold::{for_each_batch, labels_of, load_fold, open_with, RunError, RunReport};

/// What `train predict` scores, and how it reads FITS cutouts.
#[derive(Clone, Debug, Default)]
pub struct Target<'a> {
    /// The dataset, challenge folder, list or folder of cutouts (the run's own when None).
    pub data: Option<&'a Path>,
    /// Refuse or skip bad cutouts (the run's setting when None).
    pub bad_cutouts: Option<BadCutouts>,
    /// Every cutout must give its RA and Dec (from the list, or its WCS).
    pub need_positions: bool,
}
use crate::ops::TrainOps;

/// Every system of a dataset scored by a finished run's models.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The catalogue's `id` of each system (its index where the dataset has no catalogue).
    pub ids: Vec<String>,
    /// The dataset's labels (by the run's rule when it relabelled); `None` for a blind
    /// challenge folder, which has none.
    pub labels: Option<Vec<bool>>,
    /// Each system's (RA, Dec) in degrees, where its source gives them (a list of cutouts with
    /// `ra`, `dec`, or stamps that all carry a WCS).
    pub positions: Option<Vec<[f64; 2]>>,
    /// The mean over the run's fold models of each system's lens probability.
    pub scores: Vec<f64>,
}

/// Scores every system of `target` with the mean lens probability of the fold models of the
/// finished run in `run_dir`, `batch` systems at a time, each fold model with its own band
/// scalings. The data must hold the run's bands; FITS stamps of another size or pixel scale are
/// brought onto the grid the run's network read (recorded in its report).
pub fn predict<B: TrainOps>(
    run_dir: &Path,
    target: &Target,
    batch: usize,
    device: &B::Device,
) -> Result<Prediction, RunError> {
    let max = crate::config::MAX_BATCH;
    if !(1..=max).contains(&batch) {
        return Err(RunError::Config(crate::config::ConfigError {
            file: "(command line)".into(),
            field: "--batch".into(),
            reason: format!("{batch} is outside [1, {max}] systems"),
        }));
    }
    let mut config = TrainConfig::from_file(&run_dir.join("config.toml"))?;
    if let Some(f) = target.data {
        config.data.file = f.to_path_buf();
    }
    if let Some(b) = target.bad_cutouts {
        config.data.bad_cutouts = b;
    }
    let report = RunReport::read(run_dir)?;
    let options = OpenOptions {
        need_positions: target.need_positions,
        grids: report.grids.clone(),
        ..OpenOptions::default()
    };
    let data = open_with(&config, options)?;
    let labels = match (data.is_labelled(), config.data.label.trim().is_empty()) {
        (false, true) => None,
        _ => Some(labels_of(&data, &config)?),
    };
    let ids = data.ids();
    // The reader's label tensors are not used in scoring: a blind set's stand-ins are false.
    let unused = vec![false; data.len()];
    let reader = BatchReader::new(&data, &config, labels.as_deref().unwrap_or(&unused));
    let all: Vec<usize> = (0..data.len()).collect();
    let mut sum = vec![0.0; data.len()];
    for fold in &report.folds {
        let (model, scalings) = load_fold::<B>(&config, run_dir, fold.fold, device)?;
        let mut at = 0;
        for_each_batch(&reader, &scalings, &all, batch, device, |b| {
            for s in batch_scores(&model, &b) {
                sum[at] += s;
                at += 1;
            }
        })?;
    }
    let folds = report.folds.len().max(1) as f64;
    Ok(Prediction {
        ids,
        labels,
        positions: data.positions(),
        scores: sum.into_iter().map(|s| s / folds).collect(),
    })
}
