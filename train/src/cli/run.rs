//! `train run`: train the lens finder with k-fold cross-validation and report its metrics.

use super::announce_device;
use format::progress::Progress;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use train::config::{Override, TrainConfig};
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
        let base = match &self.config {
            Some(p) => TrainConfig::from_file(p)?,
            None => TrainConfig::default_config(),
        };
        let overrides: Vec<Override> = [
            Override::of("data", "data.file", self.data.as_ref()),
            Override::of("label", "data.label", self.label.as_ref()),
            Override::of("test-fraction", "data.test_fraction", self.test_fraction),
            Override::of("vis-band", "data.vis_band", self.vis_band.as_ref()),
            Override::of("nir-bands", "data.nir_bands", self.nir_bands.as_ref()),
            Override::of("vis-size", "data.vis_size", self.vis_size),
            Override::of("nir-size", "data.nir_size", self.nir_size),
            Override::of("bad-cutouts", "data.bad_cutouts", self.bad_cutouts),
            Override::of(
                "architecture",
                "model.architecture",
                self.architecture.as_ref(),
            ),
            Override::of("variant", "model.variant", self.variant.as_ref()),
            Override::of("branches", "model.branches", self.branches.as_ref()),
            Override::of(
                "vis-channels",
                "model.vis_channels",
                self.vis_channels.as_ref(),
            ),
            Override::of("width", "model.width", self.width),
            Override::of("depth", "model.depth", self.depth),
            Override::of("bn-momentum", "model.bn_momentum", self.bn_momentum),
            Override::of("init", "model.init", self.init.as_ref()),
            Override::of("clipping", "preprocess.clipping", self.clipping.as_ref()),
            Override::of(
                "no-augment",
                "augment.enabled",
                self.no_augment.then_some(false),
            ),
            Override::of("epochs", "fit.epochs", self.epochs),
            Override::of("batch", "fit.batch", self.batch),
            Override::of("learning-rate", "fit.learning_rate", self.learning_rate),
            Override::of("folds", "fit.folds", self.folds),
            Override::of("folds-to-train", "fit.folds_to_train", self.folds_to_train),
            Override::of("seed", "fit.seed", self.seed),
        ]
        .into_iter()
        .flatten()
        .collect();
        let origin = std::path::Path::new("(configuration with command-line overrides)");
        Ok(base.with_overrides(&overrides, origin)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    /// Every override flag of `train run` sets the configuration field its help names, with
    /// the value given (each differs from the default), and nothing else changes (the
    /// architecture in a second command line, as pretrained weights are EfficientNet's).
    #[test]
    fn every_flag_sets_its_field() {
        use train::data::preprocess::Clipping;
        use train::model::efficientnet::Variant;
        use train::model::two_branch::{Architecture, Branches, VisChannels};
        let flags = concat!(
            "--data d.h5 --label n_pix_source>9 --test-fraction 0.3 --vis-band V",
            " --nir-bands g,r,i --vis-size 100 --nir-size 33 --bad-cutouts skip",
            " --variant b1 --branches nir --vis-channels zeros --width 0.5 --depth",
            " 0.7 --bn-momentum 0.2 --init w.pt --clipping none --no-augment",
            " --epochs 7 --batch 12 --learning-rate 0.01 --folds 4 --folds-to-train",
            " 2 --seed 99",
        );
        let cli = Cli::try_parse_from(["train"].into_iter().chain(flags.split(' '))).unwrap();
        let got = cli.args.resolve().unwrap();
        let mut want = TrainConfig::default_config();
        let (d, m, f) = (&mut want.data, &mut want.model, &mut want.fit);
        d.file = "d.h5".into();
        d.label = "n_pix_source>9".into();
        d.test_fraction = 0.3;
        d.vis_band = "V".into();
        d.nir_bands = vec!["g".into(), "r".into(), "i".into()];
        (d.vis_size, d.nir_size) = (100, 33);
        d.bad_cutouts = train::data::stamps::BadCutouts::Skip;
        m.variant = Variant::B1;
        m.branches = Branches::Nir;
        m.vis_channels = VisChannels::Zeros;
        (m.width, m.depth, m.bn_momentum) = (0.5, 0.7, 0.2);
        m.init = "w.pt".into();
        want.preprocess.clipping = Clipping::None;
        want.augment.enabled = false;
        (f.epochs, f.batch, f.learning_rate) = (7, 12, 0.01);
        (f.folds, f.folds_to_train, f.seed) = (4, 2, 99);
        assert_eq!(got, want);
        let flags = ["--architecture", "jacobs", "--branches", "nir"];
        let cli = Cli::try_parse_from(std::iter::once("train").chain(flags)).unwrap();
        let got = cli.args.resolve().unwrap();
        let mut want = TrainConfig::default_config();
        want.model.architecture = Architecture::Jacobs;
        want.model.branches = Branches::Nir;
        assert_eq!(got, want);
    }
}
