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
    /// The target survey's HDF5 dataset (e.g. `sim generate --survey kids`).
    #[arg(long)]
    data: PathBuf,
    #[command(flatten)]
    settings: train::fit::finetune::FinetuneSettings,
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
    use train::fit::finetune::{finetune, Stage};
    let settings = &args.settings;
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
        settings,
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
