//! `train finetune`: moves a trained lens finder to another survey with few labelled images, as
//! the seed study moved its Euclid network to KiDS-like data (its Fig. 12).
//!
//! The target survey's bands take the source network's places (KiDS r in the VIS branch; u, g, i
//! in the near-infrared one) and its stamps are resized to the sizes the source network was
//! trained on (bilinear, half-pixel centres: [`crate::data::batches::resize_square`]). The target
//! dataset is cut into k stratified test groups. For test group g and each N_img, N_img training
//! and N_img validation systems are drawn from the other groups, each with the dataset's lens
//! fraction (at least one of each class) and nested (the draw for a smaller N_img is the start
//! of the larger one's). On them, and with clipping bounds learnt on those training images:
//! - **finetuned**: the source run's fold model, every weight left free, trained as `train run`
//!   trains (Rectified Adam, augmentation, the epoch of lowest validation loss kept);
//! - **scratch**: the same network freshly initialised, trained the same way on the same images
//!   with the same random streams;
//! - **source**: the source model as it is (no training), for reference.
//!
//! Each is scored on test group g; ROC AUC, PR AUC and F_β are reported per N_img as mean ±
//! standard deviation over the groups, and the groups' test scores pooled give one ROC curve per
//! N_img (`fit::plots::plot_finetune`).

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use serde::{Deserialize, Serialize};

use super::epochs::batch_scores;
use super::kfold::{
    folder_err, for_each_batch, load_fold, open_labelled, read_json, remove_checkpoints,
    train_fold, write_json, Event, FoldResult, MeanStd, RunError, RunReport,
};
use crate::config::TrainConfig;
use crate::data::batches::{BatchReader, Scalings};
use crate::data::split::stratified_kfold;
use crate::data::Dataset;
use crate::evaluate::metrics::{evaluate, Report};
use crate::model::two_branch::Branches;
use crate::ops::TrainAutodiff;

/// What `train finetune` is asked to do (its arguments); `None` takes the source run's value.
/// The defaults are the seed study's Euclid → KiDS move: r into VIS, u, g, i into the NIR
/// branch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct FinetuneSettings {
    /// The source run's fold whose model is fine-tuned.
    #[arg(long, default_value_t = 0)]
    pub fold: usize,
    /// The target band fed to the VIS branch (ignored by a network without one).
    #[arg(long, default_value = "r")]
    pub vis_band: String,
    /// The target bands fed to the NIR branch, comma-separated, in channel order (as many as
    /// the source network reads there).
    #[arg(long, value_delimiter = ',', default_value = "u,g,i")]
    pub nir_bands: Vec<String>,
    /// Relabel the target dataset by a rule such as "n_pix_source>20 and mag_eff_r>1.6"
    /// [default: its stored labels].
    #[arg(long, default_value = "", hide_default_value = true)]
    pub label: String,
    /// Training-set sizes N_img, comma-separated (each with as many validation systems).
    #[arg(long, value_delimiter = ',', default_value = "20,40,100,200,500",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    pub n_img: Vec<usize>,
    /// Stratified test groups k (disjoint, covering the dataset).
    #[arg(long, default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=1000))]
    pub groups: usize,
    /// Epochs of every training [default: the source run's].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Systems per batch [default: the source run's].
    #[arg(long)]
    pub batch: Option<usize>,
    /// Rectified Adam's learning rate [default: the source run's].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Seed of the groups, the draws and the training streams.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// VIS stamp side to resize the target stamps to, pixels [default: the source run's].
    #[arg(long)]
    pub vis_size: Option<usize>,
    /// NIR stamp side to resize the target stamps to, pixels [default: the source run's].
    #[arg(long)]
    pub nir_size: Option<usize>,
}

impl Default for FinetuneSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

/// The training and validation systems of one test group and one N_img (dataset indices).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    /// N_img training systems.
    pub training: Vec<usize>,
    /// N_img validation systems.
    pub validation: Vec<usize>,
}

/// Lenses among `n` systems drawn with lens fraction `fraction`: the nearest count, but at least
/// one of each class.
pub fn lenses_in(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).clamp(1, n.saturating_sub(1).max(1))
}

/// The nested, stratified draws from `pool` (dataset indices outside one test group) for every
/// size in `n_img`: each class of the pool shuffled with `seed` and `group`, dealt alternately
/// to a training and a validation list, and the first `lenses_in(N, fraction)` lenses and
/// `N − lenses_in(N, fraction)` non-lenses of each list taken. The error says which size the
/// pool cannot supply.
pub fn draw(
    labels: &[bool],
    pool: &[usize],
    n_img: &[usize],
    fraction: f64,
    seed: u64,
    group: usize,
) -> Result<Vec<Draw>, String> {
    use rand::seq::SliceRandom;
    let mut lists = [[Vec::new(), Vec::new()], [Vec::new(), Vec::new()]];
    for (c, class) in [true, false].into_iter().enumerate() {
        let mut idx: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&i| labels[i] == class)
            .collect();
        idx.sort_unstable();
        idx.shuffle(&mut crate::data::batches::stream(
            seed,
            0xF17E + c as u64,
            group as u64,
        ));
        for (k, i) in idx.into_iter().enumerate() {
            lists[k % 2][c].push(i);
        }
    }
    let (pool_lenses, pool_others) = (
        lists[0][0].len() + lists[1][0].len(),
        lists[0][1].len() + lists[1][1].len(),
    );
    n_img
        .iter()
        .map(|&n| {
            let lenses = lenses_in(n, fraction);
            let others = n - lenses;
            let enough = lists
                .iter()
                .all(|l| l[0].len() >= lenses && l[1].len() >= others);
            if n < 2 || !enough {
                return Err(format!(
                    "N_img = {n} needs {lenses} lenses and {others} non-lenses for training and \
                     as many for validation (N_img ≥ 2), but the systems outside test group \
                     {group} are {pool_lenses} lenses and {pool_others} non-lenses: use fewer \
                     test groups or smaller N_img"
                ));
            }
            let take = |l: &[Vec<usize>; 2]| -> Vec<usize> {
                let mut v = [&l[0][..lenses], &l[1][..others]].concat();
                v.sort_unstable();
                v
            };
            Ok(Draw {
                training: take(&lists[0]),
                validation: take(&lists[1]),
            })
        })
        .collect()
}

/// Which network a training started from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Start {
    /// The source run's model.
    Finetuned,
    /// A fresh initialisation.
    Scratch,
}

impl Start {
    /// The folder and report name.
    pub fn name(self) -> &'static str {
        match self {
            Start::Finetuned => "finetuned",
            Start::Scratch => "scratch",
        }
    }
}

/// Where in the study a training is: for the caller's progress lines.
#[derive(Clone, Copy, Debug)]
pub struct Stage {
    /// The test group.
    pub group: usize,
    /// N_img.
    pub n_img: usize,
    /// The starting network.
    pub start: Start,
}

/// One test group at one N_img.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GroupOutcome {
    /// The test group.
    pub group: usize,
    /// Its training and validation systems.
    pub draw: Draw,
    /// The source model, untrained, scored on the test group (in its order).
    pub source_scores: Vec<f64>,
    /// Its metrics there (absent if the group lacks a class).
    pub source: Option<Report>,
    /// The fine-tuned model (`fold` is the group).
    pub finetuned: FoldResult,
    /// The model trained from scratch.
    pub scratch: FoldResult,
}

/// Metrics over the test groups of one network at one N_img.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// ROC AUC, mean ± std over the groups.
    pub roc_auc: Option<MeanStd>,
    /// PR AUC.
    pub pr_auc: Option<MeanStd>,
    /// F_β (maximised over the threshold).
    pub f_beta: Option<MeanStd>,
    /// The groups' test scores pooled, judged as one set (covers the whole dataset).
    pub pooled: Option<Report>,
}

/// Every group at one N_img, and the summaries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SizeOutcome {
    /// Training (and validation) systems.
    pub n_img: usize,
    /// Per test group.
    pub groups: Vec<GroupOutcome>,
    /// The untrained source model.
    pub source: Summary,
    /// Fine-tuned.
    pub finetuned: Summary,
    /// From scratch.
    pub scratch: Summary,
}

/// `finetune.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FinetuneReport {
    /// The source run folder.
    pub source_run: PathBuf,
    /// Its fold whose model was fine-tuned.
    pub source_fold: usize,
    /// The settings asked for.
    pub settings: FinetuneSettings,
    /// The target configuration every training used (dataset, bands, sizes, fit).
    pub config: TrainConfig,
    /// Systems in the target dataset.
    pub systems: usize,
    /// Lenses among them.
    pub lenses: usize,
    /// The test groups' dataset indices.
    pub test_groups: Vec<Vec<usize>>,
    /// Their labels.
    pub test_labels: Vec<Vec<bool>>,
    /// Per N_img, in the order asked.
    pub sizes: Vec<SizeOutcome>,
}

/// What the folder of a fine-tuning study records to be resumed (`settings.json`).
#[derive(Serialize, Deserialize, PartialEq)]
struct Saved {
    source_run: PathBuf,
    settings: FinetuneSettings,
    config: TrainConfig,
}

/// The side of `band`'s stamps in `data`, pixels.
fn stamp_side(data: &Dataset, band: &str) -> Result<usize, RunError> {
    Ok(data.read_images(band, &[0])?.dim().1)
}

/// The source run's configuration and the target configuration derived from it: the target
/// dataset and bands, stamps resized to the source's sizes, the fit settings, no `init`.
pub fn configurations(
    run_dir: &Path,
    data: &Path,
    s: &FinetuneSettings,
) -> Result<(TrainConfig, TrainConfig), RunError> {
    let source = TrainConfig::from_file(&run_dir.join("config.toml"))?;
    let report = RunReport::read(run_dir)?;
    if !report.folds.iter().any(|f| f.fold == s.fold) {
        return Err(folder_err(
            run_dir,
            format!(
                "--fold {}: the run trained folds {:?}",
                s.fold,
                report.folds.iter().map(|f| f.fold).collect::<Vec<_>>()
            ),
        ));
    }
    let uses_vis = source.model.branches != Branches::Nir;
    let uses_nir = source.model.branches != Branches::Vis;
    if uses_nir && s.nir_bands.len() != source.data.nir_bands.len() {
        return Err(folder_err(
            run_dir,
            format!(
                "--nir-bands {}: the source network reads {} bands there ({})",
                s.nir_bands.join(","),
                source.data.nir_bands.len(),
                source.data.nir_bands.join(",")
            ),
        ));
    }
    if s.n_img.is_empty() || s.groups < 2 {
        return Err(folder_err(
            run_dir,
            "--n-img needs at least one size and --groups at least 2",
        ));
    }
    // The source's stamp sides: as it resized them, else as its dataset stores them.
    let side = |configured: usize, asked: Option<usize>, band: &str| -> Result<usize, RunError> {
        if let Some(v) = asked {
            return Ok(v);
        }
        if configured > 0 {
            return Ok(configured);
        }
        let d = Dataset::open(&source.data.file).map_err(|e| {
            folder_err(
                &source.data.file,
                format!(
                    "the source run's dataset is needed for its stamp sizes ({e}): give \
                     --vis-size and --nir-size"
                ),
            )
        })?;
        stamp_side(&d, band)
    };
    let mut target = source.clone();
    target.data.file = data.to_path_buf();
    target.data.label = s.label.clone();
    target.data.vis_band = s.vis_band.clone();
    target.data.nir_bands = s.nir_bands.clone();
    target.data.vis_size = if uses_vis {
        side(source.data.vis_size, s.vis_size, &source.data.vis_band)?
    } else {
        0
    };
    target.data.nir_size = if uses_nir {
        side(source.data.nir_size, s.nir_size, &source.data.nir_bands[0])?
    } else {
        0
    };
    target.model.init = PathBuf::new();
    target.fit.epochs = s.epochs.unwrap_or(source.fit.epochs);
    target.fit.batch = s.batch.unwrap_or(source.fit.batch);
    target.fit.learning_rate = s.learning_rate.unwrap_or(source.fit.learning_rate);
    target.fit.seed = s.seed;
    target.validate(Path::new("(train finetune's target configuration)"))?;
    Ok((source, target))
}

fn summary(
    outcomes: &[(Option<Report>, &[f64])],
    test_labels: &[Vec<bool>],
    beta2: f64,
) -> Summary {
    let metric = |f: fn(&Report) -> f64| {
        MeanStd::of(
            &outcomes
                .iter()
                .filter_map(|(r, _)| r.as_ref().map(f))
                .collect::<Vec<_>>(),
        )
    };
    let labels: Vec<bool> = test_labels.concat();
    let scores: Vec<f64> = outcomes
        .iter()
        .flat_map(|(_, s)| s.iter().copied())
        .collect();
    Summary {
        roc_auc: metric(|r| r.roc_auc),
        pr_auc: metric(|r| r.pr_auc),
        f_beta: metric(|r| r.f_beta.f_beta),
        pooled: evaluate(&labels, &scores, beta2).ok(),
    }
}

/// Runs (or, with `resume`, continues) the fine-tuning study of fold `settings.fold` of the
/// finished run `run_dir` on the target dataset `data`, into the folder `out`
/// (`g<group>/n<N_img>/{scalings.json, source.json, finetuned/, scratch/}`, `settings.json`,
/// `finetune.json`). Everything is checked, including every draw, before anything is written.
pub fn finetune<B: TrainAutodiff>(
    run_dir: &Path,
    data: &Path,
    settings: &FinetuneSettings,
    out: &Path,
    resume: bool,
    device: &B::Device,
    on_event: &mut dyn FnMut(Stage, Event) -> bool,
) -> Result<FinetuneReport, RunError> {
    let (source, config) = configurations(run_dir, data, settings)?;
    let (dataset, labels) = open_labelled(&config)?;
    let beta2 = config.fit.beta2;
    let lenses = labels.iter().filter(|&&l| l).count();
    let fraction = lenses as f64 / labels.len().max(1) as f64;
    let split = stratified_kfold(&labels, settings.groups, 0.0, settings.seed).map_err(|e| {
        RunError::Split {
            file: data.to_path_buf(),
            source: e,
        }
    })?;
    let test_groups = split.folds.clone();
    let draws: Vec<Vec<Draw>> = (0..settings.groups)
        .map(|g| {
            draw(
                &labels,
                &split.training(g),
                &settings.n_img,
                fraction,
                settings.seed,
                g,
            )
            .map_err(|m| folder_err(data, m))
        })
        .collect::<Result<_, _>>()?;

    // The folder: new, or the same study resumed.
    let saved = Saved {
        source_run: run_dir.to_path_buf(),
        settings: settings.clone(),
        config: config.clone(),
    };
    let saved_path = out.join("settings.json");
    if saved_path.exists() {
        if !resume {
            return Err(folder_err(
                out,
                "holds an earlier fine-tuning study: pass --resume to continue it, or choose \
                 another --out",
            ));
        }
        let old: Saved = read_json(&saved_path)?;
        if old != saved {
            return Err(folder_err(
                &saved_path,
                "the earlier study there had other settings: cannot resume it with these",
            ));
        }
    } else {
        std::fs::create_dir_all(out).map_err(|e| folder_err(out, e))?;
        write_json(&saved_path, &saved)?;
    }

    let reader = BatchReader::new(&dataset, &config, &labels);
    let (source_model, _) = load_fold::<B>(&source, run_dir, settings.fold, device)?;
    let test_labels: Vec<Vec<bool>> = test_groups
        .iter()
        .map(|g| g.iter().map(|&i| labels[i]).collect())
        .collect();
    let mut sizes = Vec::new();
    for (k, &n_img) in settings.n_img.iter().enumerate() {
        let mut groups = Vec::new();
        for g in 0..settings.groups {
            let dir = out.join(format!("g{g}")).join(format!("n{n_img}"));
            std::fs::create_dir_all(&dir).map_err(|e| folder_err(&dir, e))?;
            let d = &draws[g][k];
            let test = &test_groups[g];
            let scalings_path = dir.join("scalings.json");
            let scalings: Scalings = if scalings_path.exists() {
                read_json(&scalings_path)?
            } else {
                let sc =
                    reader.fit_scalings(&d.training, super::kfold::mix(settings.seed, g, 0))?;
                write_json(&scalings_path, &sc)?;
                sc
            };
            let source_path = dir.join("source.json");
            let source_scores: Vec<f64> = if source_path.exists() {
                read_json(&source_path)?
            } else {
                let inference = source_model.valid();
                let mut v = Vec::with_capacity(test.len());
                for_each_batch(&reader, &scalings, test, config.fit.batch, device, |b| {
                    v.extend(batch_scores(&inference, &b));
                })?;
                write_json(&source_path, &v)?;
                v
            };
            let mut trained = Vec::new();
            for start in [Start::Finetuned, Start::Scratch] {
                let sub = dir.join(start.name());
                let result_path = sub.join("result.json");
                if resume && result_path.exists() {
                    trained.push(read_json::<FoldResult>(&result_path)?);
                    continue;
                }
                std::fs::create_dir_all(&sub).map_err(|e| folder_err(&sub, e))?;
                let stage = Stage {
                    group: g,
                    n_img,
                    start,
                };
                let initial = (start == Start::Finetuned).then(|| source_model.clone());
                let r = train_fold::<B>(
                    &config,
                    initial,
                    &reader,
                    &scalings,
                    g,
                    &d.training,
                    &d.validation,
                    test,
                    &test_labels[g],
                    &sub,
                    resume,
                    device,
                    &mut |e| on_event(stage, e),
                )?;
                write_json(&result_path, &r)?;
                remove_checkpoints(&sub);
                on_event(stage, Event::Fold(&r));
                trained.push(r);
            }
            let scratch = trained.pop().expect("two trainings");
            let finetuned = trained.pop().expect("two trainings");
            groups.push(GroupOutcome {
                group: g,
                draw: d.clone(),
                source: evaluate(&test_labels[g], &source_scores, beta2).ok(),
                source_scores,
                finetuned,
                scratch,
            });
        }
        let of = |pick: fn(&GroupOutcome) -> (Option<Report>, &[f64])| {
            let v: Vec<(Option<Report>, &[f64])> = groups.iter().map(pick).collect();
            summary(&v, &test_labels, beta2)
        };
        sizes.push(SizeOutcome {
            n_img,
            source: of(|o| (o.source, &o.source_scores)),
            finetuned: of(|o| (o.finetuned.test, &o.finetuned.test_scores)),
            scratch: of(|o| (o.scratch.test, &o.scratch.test_scores)),
            groups,
        });
    }
    let report = FinetuneReport {
        source_run: run_dir.to_path_buf(),
        source_fold: settings.fold,
        settings: settings.clone(),
        config,
        systems: labels.len(),
        lenses,
        test_groups,
        test_labels,
        sizes,
    };
    write_json(&out.join("finetune.json"), &report)?;
    Ok(report)
}

/// The study as a table: per N_img, the untrained source network's ROC AUC and the fine-tuned
/// and from-scratch networks' ROC AUC, PR AUC and F_β, each mean ± std over the test groups.
pub fn table(r: &FinetuneReport) -> String {
    let pm =
        |m: Option<MeanStd>| m.map_or("n/a".into(), |m| format!("{:.3} ± {:.3}", m.mean, m.std));
    let mut t = format!(
        "{:>6} | {:>13} | {:>13} {:>13} {:>13} | {:>13} {:>13} {:>13}\n",
        "N_img",
        "source AUC",
        "tuned ROC AUC",
        "tuned PR AUC",
        "tuned F_β",
        "scratch ROC",
        "scratch PR",
        "scratch F_β"
    );
    for s in &r.sizes {
        t += &format!(
            "{:>6} | {:>13} | {:>13} {:>13} {:>13} | {:>13} {:>13} {:>13}\n",
            s.n_img,
            pm(s.source.roc_auc),
            pm(s.finetuned.roc_auc),
            pm(s.finetuned.pr_auc),
            pm(s.finetuned.f_beta),
            pm(s.scratch.roc_auc),
            pm(s.scratch.pr_auc),
            pm(s.scratch.f_beta),
        );
    }
    t
}

#[cfg(test)]
mod tests;
