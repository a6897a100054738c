//! The `train` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::{Parser, Subcommand};

use format::progress::Progress;
use train::config::TrainConfig;
use train::device::{run_on, Choice, OnBackend, Request};
use train::fit::kfold::{run as run_folds, Event};
use train::metrics::evaluate;
use train::ops::TrainAutodiff;
use train::scores::read_scores;

/// lensforge's trainer and judge of lens finders.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// How float32 matrix products may run on a GPU: `tf32` (TensorFloat-32 factors on the
    /// tensor cores, as PyTorch computes convolutions by default) or `strict` (f32 throughout).
    /// The CPU computes in f32 either way.
    #[arg(long, global = true, default_value = "tf32")]
    precision: String,
}

#[derive(Subcommand)]
enum Command {
    /// Train the lens finder with k-fold cross-validation on a dataset and report its metrics
    /// on an independent test set (a run folder with models, report.json and plots).
    Run(Box<RunArgs>),
    /// Time training steps (forward, backward, Rectified Adam) of the lens finder on random
    /// images of the native sizes: images/s on this machine.
    Bench {
        /// EfficientNet size b0, b1 or b2, or `jacobs` or `vit` (ViT-B/16) on the NIR-sized
        /// three-band image.
        #[arg(long, default_value = "b2")]
        variant: String,
        /// both, vis or nir.
        #[arg(long, default_value = "both")]
        branches: String,
        /// Systems per step.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// Timed steps (after one warm-up step).
        #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
        steps: usize,
        /// VIS stamp side, pixels (NIR: about a third, as Euclid's 200 and 66).
        #[arg(long, default_value_t = 200)]
        vis_size: usize,
        /// NIR stamp side, pixels.
        #[arg(long, default_value_t = 66)]
        nir_size: usize,
        /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// Judge any lens finder's scores: ROC AUC, PR AUC, and F_β maximised over the threshold
    /// with its precision, recall and false-alarm rate.
    Metrics {
        /// CSV file with a header row, one row per system.
        #[arg(long)]
        scores: PathBuf,
        /// Column holding the truth (1/0 or true/false).
        #[arg(long, default_value = "is_lens")]
        label_column: String,
        /// Column holding the lens finder's score (higher = more lens-like).
        #[arg(long, default_value = "score")]
        score_column: String,
        /// β² of F_β (0.001: precision weighed as in the II SGLC).
        #[arg(long, default_value_t = 0.001)]
        beta2: f64,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The detection limit by lensed-source pixels (the seed study's Fig. 11): every fold's
    /// model of a finished run judged on balanced test sets of lenses with N ≤ n_pix_source <
    /// N + step against systems with n_pix_source < N; writes sweep-npix.json and .png there.
    SweepNpix {
        /// The finished `train run` folder.
        #[arg(long)]
        run: PathBuf,
        /// First lower bound N.
        #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
        first: u32,
        /// Last lower bound N.
        #[arg(long, default_value_t = 150, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
        last: u32,
        /// Bin width in pixels.
        #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=1_000_000))]
        step: u32,
        /// Fewest lenses a bin needs for figures.
        #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        min_lenses: usize,
        /// Seed of the draw of the non-lenses.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// β² of F_β.
        #[arg(long, default_value_t = 0.001)]
        beta2: f64,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move a finished run's network to another survey with few images (the seed study's
    /// Fig. 12): for each N_img, fine-tuned and from-scratch networks trained on the same N_img
    /// images (and as many for validation), judged on k stratified test groups; writes
    /// finetune.json and finetune.png.
    Finetune(Box<FinetuneArgs>),
    /// What the network looks at: LIME on SLIC superpixels for systems of a finished run, a PNG
    /// per system (two superpixels for a lens green, two for a non-lens yellow, score and
    /// truth in the caption) and explain.json.
    Explain {
        /// The finished `train run` folder.
        #[arg(long)]
        run: PathBuf,
        /// Whose model: the fold.
        #[arg(long, default_value_t = 0)]
        fold: usize,
        /// Dataset indices to explain, comma-separated [default: lenses and non-lenses of the
        /// test split, --per-class of each].
        #[arg(long, value_delimiter = ',')]
        systems: Vec<usize>,
        /// Lenses, and non-lenses, from the test split when --systems is not given.
        #[arg(long, default_value_t = 3, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
        per_class: usize,
        /// Perturbed copies scored per system.
        #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(10..=1_000_000))]
        samples: usize,
        /// Superpixels asked of SLIC.
        #[arg(long, default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=10_000))]
        segments: usize,
        /// SLIC's compactness m (intensities scaled to [0, 1]).
        #[arg(long, default_value_t = 0.1)]
        compactness: f64,
        /// Gaussian smoothing before SLIC, pixels.
        #[arg(long, default_value_t = 2.0)]
        sigma: f64,
        /// Seed of the perturbations.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Output folder [default: <run>/explain].
        #[arg(long)]
        out: Option<PathBuf>,
        /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// Score a submission to a blind challenge-style set (`sim generate --format sglc
    /// --blind`): ROC AUC, TPR₀, TPR₁₀ and F_β (β² = 0.001), overall and binned by Einstein
    /// radius, lensed-source pixels and lensed-source flux.
    Score {
        /// The set's truth catalogue (the blind run's `--truth` file).
        #[arg(long)]
        truth: PathBuf,
        /// The submission: CSV of two columns, ID and score in [0, 1], one row per object.
        #[arg(long)]
        submission: PathBuf,
        /// Bins per quantity (quantiles of the lenses).
        #[arg(long, default_value_t = 5, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100))]
        bins: usize,
        /// Print one JSON object instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Scores every system of a dataset with a finished run's fold models (their mean lens
    /// probability) and writes a score table (id, score, is_lens) for `train compare`,
    /// `train ensemble` or `train metrics`.
    Predict {
        /// The finished `train run` folder.
        #[arg(long)]
        run: PathBuf,
        /// The dataset to score [default: the run's own].
        #[arg(long)]
        data: Option<PathBuf>,
        /// The CSV to write.
        #[arg(long)]
        out: PathBuf,
        /// Systems per batch.
        #[arg(long, default_value_t = 64)]
        batch: usize,
        /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
        #[arg(long, default_value = "auto")]
        device: String,
    },
    /// How far several lens finders agree on the same objects (score tables joined by ID):
    /// dense normalised ranks, top-k and bottom-k Jaccard similarity per pair and with the
    /// truth, 2-D rank histograms, completeness at a rank threshold per finder and for their
    /// union; writes compare.json and ranks-<a>-<b>.png into --out.
    Compare {
        #[command(flatten)]
        tables: TableArgs,
        /// Size of the top-k and bottom-k sets.
        #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000_000))]
        k: usize,
        /// Normalised rank at or above which an object counts as found.
        #[arg(long, default_value_t = 0.8)]
        rank_threshold: f64,
        /// Bins per axis of the rank histograms.
        #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
        bins: usize,
        /// Output folder.
        #[arg(long, default_value = "compare")]
        out: PathBuf,
        /// Print the report as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Combines several lens finders' scores: mean, median, linear regression, decision tree,
    /// random forest and the Bayesian combination of isotonic calibrations, fitted on part of
    /// the labelled objects and judged on the rest (max F1 with a bootstrap spread, precision
    /// at a completeness and the unlabelled objects above its threshold); writes
    /// ensemble.json, ensemble.png and ensemble-scores.csv into --out.
    Ensemble {
        #[command(flatten)]
        tables: TableArgs,
        /// Fraction of the labelled objects (of each class) held out for judging.
        #[arg(long, default_value_t = 0.2)]
        test_fraction: f64,
        /// Seed of the split, the cross-validation folds, the forests and the bootstrap.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Bootstrap resamples of the test part.
        #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
        bootstraps: usize,
        /// Completeness at which precision is reported and the threshold carried to the
        /// unlabelled objects.
        #[arg(long, default_value_t = 0.9)]
        completeness: f64,
        /// Output folder.
        #[arg(long, default_value = "ensemble")]
        out: PathBuf,
        /// Print the report as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
}

/// Several finders' score tables and the truth (`train compare`, `train ensemble`).
#[derive(clap::Args)]
struct TableArgs {
    /// A finder's scores as NAME=PATH (a CSV with an ID and a score column); repeat per finder.
    #[arg(long = "finder", required = true)]
    finders: Vec<String>,
    /// The truth: a CSV with the ID, a label column and optionally a graded score; objects it
    /// lacks are unlabelled.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// ID column, in every table.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Score column of the finders' tables.
    #[arg(long, default_value = "score")]
    score_column: String,
    /// Label column of the truth (1/0 or true/false).
    #[arg(long, default_value = "is_lens")]
    label_column: String,
    /// Graded expert score column of the truth (its classes: A ≥ 1.8, B ≥ 1.2, C ≥ 0.8, Z).
    #[arg(long)]
    grade_column: Option<String>,
}

impl TableArgs {
    fn join(&self) -> anyhow::Result<train::tables::Joined> {
        let finders = self
            .finders
            .iter()
            .map(|f| train::tables::FinderFile::parse(f, &self.id_column, &self.score_column))
            .collect::<Result<Vec<_>, _>>()?;
        let truth = self.truth.as_ref().map(|path| train::tables::TruthFile {
            path: path.clone(),
            id_column: self.id_column.clone(),
            label_column: self.label_column.clone(),
            grade_column: self.grade_column.clone(),
        });
        Ok(train::tables::join(&finders, truth.as_ref())?)
    }
}

/// `train run`'s arguments: a configuration and overrides of any of its fields.
#[derive(clap::Args)]
struct RunArgs {
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

/// `train finetune`'s arguments.
#[derive(clap::Args)]
struct FinetuneArgs {
    /// The finished `train run` folder whose network is moved.
    #[arg(long)]
    run: PathBuf,
    /// Its fold whose model is fine-tuned.
    #[arg(long, default_value_t = 0)]
    fold: usize,
    /// The target survey's HDF5 dataset (e.g. `sim generate --survey kids`).
    #[arg(long)]
    data: PathBuf,
    /// The target band fed to the VIS branch.
    #[arg(long, default_value = "r")]
    vis_band: String,
    /// The target bands fed to the NIR branch, comma-separated, in channel order.
    #[arg(long, value_delimiter = ',', default_value = "u,g,i")]
    nir_bands: Vec<String>,
    /// Relabel the target dataset by a rule such as "n_pix_source>20 and mag_eff_r>1.6"
    /// [default: its stored labels].
    #[arg(long, default_value = "")]
    label: String,
    /// Training-set sizes N_img, comma-separated (each with as many validation systems).
    #[arg(long, value_delimiter = ',', default_value = "20,40,100,200,500",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000_000))]
    n_img: Vec<usize>,
    /// Stratified test groups k.
    #[arg(long, default_value_t = 5,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=1000))]
    groups: usize,
    /// Epochs of every training [default: the source run's].
    #[arg(long)]
    epochs: Option<usize>,
    /// Systems per batch [default: the source run's].
    #[arg(long)]
    batch: Option<usize>,
    /// Rectified Adam's learning rate [default: the source run's].
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Seed of the groups, draws and training streams.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// VIS stamp side to resize to, pixels [default: the source run's].
    #[arg(long)]
    vis_size: Option<usize>,
    /// NIR stamp side to resize to, pixels [default: the source run's].
    #[arg(long)]
    nir_size: Option<usize>,
    /// Output folder [default: <run>/finetune].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the study in --out where it stopped.
    #[arg(long)]
    resume: bool,
    /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    device: String,
}

/// Runs `train finetune`, one line per finished training.
fn train_finetune(args: &FinetuneArgs) -> anyhow::Result<()> {
    use train::fit::finetune::{finetune, FinetuneSettings, Stage};
    let settings = FinetuneSettings {
        fold: args.fold,
        vis_band: args.vis_band.clone(),
        nir_bands: args.nir_bands.clone(),
        label: args.label.clone(),
        n_img: args.n_img.clone(),
        groups: args.groups,
        epochs: args.epochs,
        batch: args.batch,
        learning_rate: args.learning_rate,
        seed: args.seed,
        vis_size: args.vis_size,
        nir_size: args.nir_size,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.run.join("finetune"));
    let choice = announce_device(&args.device)?;
    let start = std::time::Instant::now();
    let mut on_event = |stage: Stage, e: Event| {
        if let Event::Fold(r) = e {
            let test = r
                .test
                .as_ref()
                .map_or("the test group lacks a class".into(), |t| {
                    format!("test ROC AUC {:.4}, PR AUC {:.4}", t.roc_auc, t.pr_auc)
                });
            println!(
                "group {} N_img {} {}: best epoch {}; {test}",
                stage.group,
                stage.n_img,
                stage.start.name(),
                r.best_epoch
            );
        }
        true
    };
    struct Job<'a> {
        args: &'a FinetuneArgs,
        settings: &'a train::fit::finetune::FinetuneSettings,
        out: &'a std::path::Path,
        on_event: &'a mut dyn FnMut(Stage, Event) -> bool,
    }
    impl OnBackend for Job<'_> {
        type Output = Result<train::fit::finetune::FinetuneReport, train::fit::kfold::RunError>;
        fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
            let a = self.args;
            finetune::<B>(
                &a.run,
                &a.data,
                self.settings,
                self.out,
                a.resume,
                device,
                self.on_event,
            )
        }
    }
    let job = Job {
        args,
        settings: &settings,
        out: &out,
        on_event: &mut on_event,
    };
    let report = run_on(choice, job)?;
    train::report::plot_finetune(&report, &out.join("finetune.png"))?;
    print!("{}", train::fit::finetune::table(&report));
    println!(
        "{} systems ({} lenses) in {} test groups, in {:.1} s; report and figure in {}",
        report.systems,
        report.lenses,
        report.test_groups.len(),
        start.elapsed().as_secs_f64(),
        out.join("finetune.{json,png}").display()
    );
    Ok(())
}

/// Parses an enum field's value as the configuration file spells it.
fn parse_enum<T: serde::de::DeserializeOwned>(flag: &str, value: &str) -> anyhow::Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|e| anyhow::anyhow!("--{flag} {value}: {e}"))
}

impl RunArgs {
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

/// Parses `--device`, resolves it on this machine and prints the line that says which backend
/// runs.
fn announce_device(device: &str) -> anyhow::Result<Choice> {
    let request: Request = device.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let (choice, line) = train::device::resolve(request).map_err(|e| anyhow::anyhow!(e))?;
    println!("{line}");
    Ok(choice)
}

/// Trains as `args` says, printing a progress bar and one line per epoch.
fn train_run(args: &RunArgs) -> anyhow::Result<()> {
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
        args: &'a RunArgs,
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
    train::report::write_plots(&report, &args.out)?;
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

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e)
            if matches!(
                e.downcast_ref(),
                Some(train::fit::kfold::RunError::Stopped { .. })
            ) =>
        {
            eprintln!("{e}");
            ExitCode::from(format::progress::EXIT_INTERRUPTED)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let precision: train::device::Precision = cli
        .precision
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--precision: {e}"))?;
    precision.apply();
    match cli.command {
        Command::Run(args) => train_run(&args)?,
        Command::Finetune(args) => train_finetune(&args)?,
        Command::Bench {
            variant,
            branches,
            batch,
            steps,
            vis_size,
            nir_size,
            device,
        } => {
            let choice = announce_device(&device)?;
            use train::config::{MAX_BATCH, MAX_STAMP_SIDE};
            let sides = 32..=MAX_STAMP_SIDE;
            if !(1..=MAX_BATCH).contains(&batch)
                || steps == 0
                || !sides.contains(&vis_size)
                || !sides.contains(&nir_size)
            {
                anyhow::bail!(
                    "--batch must be in [1, {MAX_BATCH}], --steps ≥ 1, --vis-size and --nir-size \
                     in [32, {MAX_STAMP_SIDE}] pixels"
                );
            }
            let variant: train::bench::BenchNet =
                variant.parse().map_err(|e: String| anyhow::anyhow!(e))?;
            let branches: train::model::two_branch::Branches = parse_enum("branches", &branches)?;
            let sizes = (vis_size, nir_size);
            use train::model::two_branch::Branches;
            struct Job(
                train::bench::BenchNet,
                Branches,
                usize,
                usize,
                (usize, usize),
            );
            impl OnBackend for Job {
                type Output = Result<train::bench::StepTiming, String>;
                fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
                    let Job(net, branches, batch, steps, sizes) = self;
                    train::bench::training_steps::<B>(net, branches, batch, steps, sizes, device)
                }
            }
            let on = match choice {
                Choice::Cpu => "the CPU (Burn Flex)",
                Choice::Cuda => "CUDA GPU 0 (Burn CUDA)",
            };
            let job = Job(variant, branches, batch, steps, sizes);
            let r = run_on(choice, job).map_err(|e| anyhow::anyhow!(e))?;
            let what = match variant {
                train::bench::BenchNet::EfficientNet(v) => {
                    format!("{v:?} {branches:?}, VIS {vis_size}² + NIR 3×{nir_size}²")
                }
                net => format!("{net:?} on 3×{nir_size}²"),
            };
            println!(
                "{what} on {on}{}, batch {batch}: {:.3} s per step, {:.2} images/s (mean of {steps} steps after a warm-up)",
                match choice {
                    Choice::Cuda => format!(", {:?} products", train::device::Precision::current()),
                    Choice::Cpu => String::new(),
                },
                r.seconds_per_step,
                r.images_per_second
            );
        }
        Command::Metrics {
            scores,
            label_column,
            score_column,
            beta2,
            json,
        } => {
            if !(beta2 > 0.0 && beta2.is_finite()) {
                anyhow::bail!("--beta2 {beta2}: must be > 0");
            }
            let (labels, values) = read_scores(&scores, &label_column, &score_column)?;
            let r = evaluate(&labels, &values, beta2)
                .map_err(|e| anyhow::anyhow!("{}: {e}", scores.display()))?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                println!(
                    "{} systems, {} lenses ({})",
                    r.n,
                    r.n_lenses,
                    scores.display()
                );
                println!("ROC AUC              {:.6}", r.roc_auc);
                println!("PR AUC               {:.6}", r.pr_auc);
                println!("F_beta (beta2={})  {:.6}", r.f_beta.beta2, r.f_beta.f_beta);
                println!("  at threshold       {}", r.f_beta.threshold);
                println!("  precision          {:.6}", r.f_beta.precision);
                println!("  recall             {:.6}", r.f_beta.recall);
                println!("  false-alarm rate   {:.6}", r.f_beta.false_positive_rate);
            }
        }
        Command::SweepNpix {
            run,
            first,
            last,
            step,
            min_lenses,
            seed,
            beta2,
            json,
        } => {
            let settings = train::sweep::SweepSettings {
                first,
                last,
                step,
                min_lenses,
                seed,
                beta2,
            };
            let r = train::sweep::sweep_run(&run, &settings)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print!("{}", train::sweep::table(&r));
                println!(
                    "{} folds; report and figure in {}",
                    r.folds,
                    run.join("sweep-npix.{json,png}").display()
                );
            }
        }
        Command::Explain {
            run,
            fold,
            systems,
            per_class,
            samples,
            segments,
            compactness,
            sigma,
            seed,
            out,
            device,
        } => {
            if samples < 10 || segments < 2 || compactness <= 0.0 || compactness.is_nan() {
                anyhow::bail!("--samples must be ≥ 10, --segments ≥ 2 and --compactness > 0");
            }
            let settings = train::explain::LimeSettings {
                samples,
                slic: train::superpixels::SlicSettings {
                    n_segments: segments,
                    compactness,
                    iterations: 10,
                    sigma: sigma.max(0.0),
                },
                seed,
                ..Default::default()
            };
            let selection = if systems.is_empty() {
                train::explain::Selection::PerClass(per_class)
            } else {
                train::explain::Selection::Systems(systems)
            };
            let out = out.unwrap_or_else(|| run.join("explain"));
            let choice = announce_device(&device)?;
            struct Job<'a>(
                &'a std::path::Path,
                usize,
                &'a train::explain::Selection,
                &'a train::explain::LimeSettings,
                &'a std::path::Path,
            );
            impl OnBackend for Job<'_> {
                type Output =
                    Result<Vec<train::explain::ExplainedSystem>, train::explain::ExplainError>;
                fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
                    let Job(run, fold, selection, settings, out) = self;
                    train::explain::explain_run::<B::InnerBackend>(
                        run, fold, selection, settings, out, device,
                    )
                }
            }
            let done = run_on(choice, Job(&run, fold, &selection, &settings, &out))?;
            for e in &done {
                println!(
                    "system {:>6} ({}): score {:.3}; for a lens superpixels {:?}, for a non-lens {:?} → {}",
                    e.index,
                    if e.is_lens { "lens" } else { "non-lens" },
                    e.explanation.score,
                    e.explanation.lens_segments,
                    e.explanation.non_lens_segments,
                    out.join(&e.png).display()
                );
            }
        }
        Command::Score {
            truth,
            submission,
            bins,
            json,
        } => {
            if bins == 0 {
                anyhow::bail!("--bins 0: at least one bin is needed");
            }
            let t = train::challenge::read_truth(&truth)?;
            let scores = train::challenge::read_submission(&submission, &t)?;
            let r = train::challenge::score(&t, &scores, bins)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print!("{}", train::challenge::table(&r));
            }
        }
        Command::Predict {
            run,
            data,
            out,
            batch,
            device,
        } => {
            let choice = announce_device(&device)?;
            struct Job<'a>(&'a std::path::Path, Option<&'a std::path::Path>, usize);
            impl OnBackend for Job<'_> {
                type Output = Result<train::fit::kfold::Prediction, train::fit::kfold::RunError>;
                fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
                    let Job(run, data, batch) = self;
                    train::fit::kfold::predict::<B::InnerBackend>(run, data, batch, device)
                }
            }
            let p = run_on(choice, Job(&run, data.as_deref(), batch))?;
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["id", "score", "is_lens"])?;
            for ((id, s), l) in p.ids.iter().zip(&p.scores).zip(&p.labels) {
                w.write_record([id.as_str(), &s.to_string(), if *l { "1" } else { "0" }])?;
            }
            let text = String::from_utf8(w.into_inner()?)?;
            train::report::write_text(&out, &text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
            println!(
                "{} systems scored by the mean of the run's folds into {}",
                p.ids.len(),
                out.display()
            );
        }
        Command::Compare {
            tables,
            k,
            rank_threshold,
            bins,
            out,
            json,
        } => {
            let joined = tables.join()?;
            let settings = train::compare::CompareSettings {
                k,
                rank_threshold,
                bins,
            };
            let r = train::compare::compare_to_folder(&joined, &settings, &out)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print!("{}", train::compare::table(&r));
                println!("report and rank histograms in {}", out.display());
            }
        }
        Command::Ensemble {
            tables,
            test_fraction,
            seed,
            bootstraps,
            completeness,
            out,
            json,
        } => {
            if tables.truth.is_none() {
                anyhow::bail!("--truth is needed: the ensembles are fitted to labels");
            }
            let joined = tables.join()?;
            let settings = train::ensemble::EnsembleSettings {
                test_fraction,
                seed,
                bootstraps,
                completeness,
            };
            let r = train::ensemble::run_to_folder(&joined, &settings, &out)?;
            if json {
                println!("{}", serde_json::to_string(&r)?);
            } else {
                print!("{}", train::ensemble::table(&r));
                println!("report, bar chart and scores in {}", out.display());
            }
        }
    }
    Ok(())
}
