//! `train finetune`: move a finished run's network to another survey with few images.

use super::announce_device;
use std::path::PathBuf;
use train::device::{run_on, OnBackend};
use train::fit::kfold::Event;
use train::ops::TrainAutodiff;

/// `train finetune`'s arguments.
#[derive(clap::Args)]
pub struct Args {
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
pub fn run(args: &Args) -> anyhow::Result<()> {
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
        args: &'a Args,
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
    train::fit::plots::plot_finetune(&report, &out.join("finetune.png"))?;
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
