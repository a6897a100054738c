//! `train run`: train the lens finder with k-fold cross-validation and report its metrics.

use super::{announce_device, parse_enum};
use format::progress::Progress;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use train::config::TrainConfig;
use train::device::{run_on, OnBackend};
use train::fit::kfold::{run as run_folds, Event};
use train::ops::TrainAutodiff;

/// `train run`'s arguments: a configuration and overrides of any of its fields.
#[derive(clap::Args)]
pub struct Args {
    /// Configuration file [default: the embedded configs/train/default.toml].
    #[arg(long)]
    config: Option<PathBuf>,
    /// The run folder (models, checkpoints, report.json, plots).
    #[arg(long, default_value = "runs/train")]
    out: PathBuf,
    /// Continue the run in --out from its last finished epoch.
    #[arg(long)]
    resume: bool,
    /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    device: String,
    /// data.file: the HDF5 dataset.
    #[arg(long)]
    data: Option<PathBuf>,
    /// data.label: relabel by a rule such as "n_pix_source>20 and mag_eff_VIS>1.6".
    #[arg(long)]
    label: Option<String>,
    /// data.test_fraction.
    #[arg(long)]
    test_fraction: Option<f64>,
    /// model.architecture: efficientnet, jacobs or vit.
    #[arg(long)]
    architecture: Option<String>,
    /// data.vis_band: the VIS branch's band.
    #[arg(long)]
    vis_band: Option<String>,
    /// data.nir_bands: the multi-band image's bands, comma-separated (e.g. g,r,i for DES).
    #[arg(long, value_delimiter = ',')]
    nir_bands: Option<Vec<String>>,
    /// data.vis_size: resize VIS stamps to this many pixels a side (bilinear; 0 = as stored).
    #[arg(long)]
    vis_size: Option<usize>,
    /// data.nir_size: resize NIR stamps to this many pixels a side (bilinear; 0 = as stored).
    #[arg(long)]
    nir_size: Option<usize>,
    /// data.bad_cutouts: FITS cutouts that cannot be used are refused (naming the first) or
    /// skipped (saying which).
    #[arg(long, value_enum)]
    bad_cutouts: Option<train::data::stamps::BadCutouts>,
    /// model.variant: b0, b1 or b2.
    #[arg(long)]
    variant: Option<String>,
    /// model.branches: both, vis or nir.
    #[arg(long)]
    branches: Option<String>,
    /// model.vis_channels: repeated or zeros.
    #[arg(long)]
    vis_channels: Option<String>,
    /// model.width (compound scaling; 0 = the variant's).
    #[arg(long)]
    width: Option<f64>,
    /// model.depth (compound scaling; 0 = the variant's).
    #[arg(long)]
    depth: Option<f64>,
    /// model.bn_momentum (Burn's convention).
    #[arg(long)]
    bn_momentum: Option<f64>,
    /// model.init: start every branch from these EfficientNet weights (timm's naming;
    /// .safetensors, .pt or .pth).
    #[arg(long)]
    init: Option<PathBuf>,
    /// preprocess.clipping: sglc2, alternative or none.
    #[arg(long)]
    clipping: Option<String>,
    /// augment.enabled = false.
    #[arg(long)]
    no_augment: bool,
    /// fit.epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// fit.batch.
    #[arg(long)]
    batch: Option<usize>,
    /// fit.learning_rate.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// fit.folds (k).
    #[arg(long)]
    folds: Option<usize>,
    /// fit.folds_to_train (0 = all k).
    #[arg(long)]
    folds_to_train: Option<usize>,
    /// fit.seed.
    #[arg(long)]
    seed: Option<u64>,
}

impl Args {
    /// The configuration: the file (or the default) with the command line's overrides.
    fn resolve(&self) -> anyhow::Result<TrainConfig> {
        let mut c = match &self.config {
            Some(p) => TrainConfig::from_file(p)?,
            None => TrainConfig::default_config(),
        };
        if let Some(v) = &self.data {
            c.data.file = v.clone();
        }
        if let Some(v) = &self.label {
            c.data.label = v.clone();
        }
        if let Some(v) = self.test_fraction {
            c.data.test_fraction = v;
        }
        if let Some(v) = &self.architecture {
            c.model.architecture = parse_enum("architecture", v)?;
        }
        if let Some(v) = &self.vis_band {
            c.data.vis_band = v.clone();
        }
        if let Some(v) = &self.nir_bands {
            c.data.nir_bands = v.clone();
        }
        if let Some(v) = self.vis_size {
            c.data.vis_size = v;
        }
        if let Some(v) = self.nir_size {
            c.data.nir_size = v;
        }
        if let Some(v) = self.bad_cutouts {
            c.data.bad_cutouts = v;
        }
        if let Some(v) = &self.variant {
            c.model.variant = parse_enum("variant", v)?;
        }
        if let Some(v) = &self.branches {
            c.model.branches = parse_enum("branches", v)?;
        }
        if let Some(v) = &self.vis_channels {
            c.model.vis_channels = parse_enum("vis-channels", v)?;
        }
        if let Some(v) = self.width {
            c.model.width = v;
        }
        if let Some(v) = self.depth {
            c.model.depth = v;
        }
        if let Some(v) = self.bn_momentum {
            c.model.bn_momentum = v;
        }
        if let Some(v) = &self.init {
            c.model.init = v.clone();
        }
        if let Some(v) = &self.clipping {
            c.preprocess.clipping = parse_enum("clipping", v)?;
        }
        if self.no_augment {
            c.augment.enabled = false;
        }
        if let Some(v) = self.epochs {
            c.fit.epochs = v;
        }
        if let Some(v) = self.batch {
            c.fit.batch = v;
        }
        if let Some(v) = self.learning_rate {
            c.fit.learning_rate = v;
        }
        if let Some(v) = self.folds {
            c.fit.folds = v;
        }
        if let Some(v) = self.folds_to_train {
            c.fit.folds_to_train = v;
        }
        if let Some(v) = self.seed {
            c.fit.seed = v;
        }
        c.validate(std::path::Path::new(
            "(configuration with command-line overrides)",
        ))?;
        Ok(c)
    }
}

/// Trains as `args` says, printing a progress bar and one line per epoch.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let config = args.resolve()?;
    let choice = announce_device(&args.device)?;
    let start = std::time::Instant::now();
    let bar = Progress::new(0, "batches");
    let stop = format::progress::stop_on_ctrl_c(
        "stopping at the end of this epoch",
        "rerun the same command with --resume to go on from the last finished epoch",
    )
    .map_err(|e| anyhow::anyhow!("cannot install the Ctrl-C handler: {e}"))?;
    // Lines go through the progress display so that they print whether or not a bar is drawn.
    let say = |line: String| bar.println(&line);
    let mut on_event = |e: Event| {
        match e {
        Event::Batch(fold, epoch, done, total) => {
            bar.set_prefix(&format!("fold {fold} epoch {epoch}: "));
            bar.set_total(total as u64);
            bar.set_position(done as u64);
        }
        Event::Epoch(fold, log, best) => say(format!(
            "fold {fold} epoch {:>3}: train loss {:.5}  validation loss {:.5}{}",
            log.epoch,
            log.train_loss,
            log.val_loss,
            if best { "  (best)" } else { "" }
        )),
        Event::Fold(r) => say(match &r.test {
            Some(t) => format!(
                "fold {} done: best epoch {} (validation loss {:.5}); test ROC AUC {:.4}, PR AUC {:.4}, F_β {:.4}",
                r.fold, r.best_epoch, r.best_val_loss, t.roc_auc, t.pr_auc, t.f_beta.f_beta
            ),
            None => format!(
                "fold {} done: best epoch {} (validation loss {:.5}); the test set lacks a class",
                r.fold, r.best_epoch, r.best_val_loss
            ),
        }),
        }
        // A Ctrl-C stops the run at the end of the epoch, which --resume continues from.
        !stop.load(Ordering::Relaxed)
    };
    struct Job<'a> {
        config: &'a TrainConfig,
        args: &'a Args,
        on_event: &'a mut dyn FnMut(Event) -> bool,
    }
    impl OnBackend for Job<'_> {
        type Output = Result<train::fit::kfold::RunReport, train::fit::kfold::RunError>;
        fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
            run_folds::<B>(
                self.config,
                &self.args.out,
                self.args.resume,
                device,
                self.on_event,
            )
        }
    }
    let job = Job {
        config: &config,
        args,
        on_event: &mut on_event,
    };
    let report = run_on(choice, job)?;
    bar.finish();
    train::fit::plots::write_plots(&report, &args.out)?;
    let pm = |m: Option<train::fit::kfold::MeanStd>| {
        m.map_or("n/a".to_string(), |m| {
            format!("{:.4} ± {:.4}", m.mean, m.std)
        })
    };
    println!(
        "trained {} folds on {} systems ({} lenses) in {:.1} s; test set of {}: ROC AUC {}, PR AUC {}, F_β {} (β² = {}); report in {}",
        report.folds.len(),
        report.systems,
        report.lenses,
        start.elapsed().as_secs_f64(),
        report.test_indices.len(),
        pm(report.roc_auc),
        pm(report.pr_auc),
        pm(report.f_beta),
        config.fit.beta2,
        args.out.join("report.json").display()
    );
    Ok(())
}
