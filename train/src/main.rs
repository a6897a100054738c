//! The `train` command line: parses arguments and calls the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

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
    Run(Box<cli::run::Args>),
    /// Time training steps (forward, backward, Rectified Adam) of the lens finder on random
    /// images of the native sizes: images/s on this machine.
    Bench(cli::bench::Args),
    /// Judge any lens finder's scores: ROC AUC, PR AUC, and F_β maximised over the threshold
    /// with its precision, recall and false-alarm rate.
    Metrics(cli::metrics::Args),
    /// The detection limit by lensed-source pixels (the seed study's Fig. 11): every fold's
    /// model of a finished run judged on balanced test sets of lenses with N ≤ n_pix_source <
    /// N + step against systems with n_pix_source < N; writes sweep-npix.json and .png there.
    SweepNpix(cli::sweep_npix::Args),
    /// Move a finished run's network to another survey with few images (the seed study's
    /// Fig. 12): for each N_img, fine-tuned and from-scratch networks trained on the same N_img
    /// images (and as many for validation), judged on k stratified test groups; writes
    /// finetune.json and finetune.png.
    Finetune(Box<cli::finetune::Args>),
    /// What the network looks at: LIME on SLIC superpixels for systems of a finished run, a PNG
    /// per system (two superpixels for a lens green, two for a non-lens yellow, score and
    /// truth in the caption) and explain.json.
    Explain(cli::explain::Args),
    /// Score a submission to a blind challenge-style set (`sim generate --format sglc
    /// --blind`): ROC AUC, TPR₀, TPR₁₀ and F_β (β² = 0.001), overall and binned by Einstein
    /// radius, lensed-source pixels and lensed-source flux.
    Score(cli::score::Args),
    /// Scores every system of a dataset with a finished run's fold models (their mean lens
    /// probability) and writes a score table (id, score, is_lens) for `train compare`,
    /// `train ensemble` or `train metrics`.
    Predict(cli::predict::Args),
    /// How far several lens finders agree on the same objects (score tables joined by ID):
    /// dense normalised ranks, top-k and bottom-k Jaccard similarity per pair and with the
    /// truth, 2-D rank histograms, completeness at a rank threshold per finder and for their
    /// union; writes compare.json and ranks-<a>-<b>.png into --out.
    Compare(cli::compare::Args),
    /// Combines several lens finders' scores: mean, median, linear regression, decision tree,
    /// random forest and the Bayesian combination of isotonic calibrations, fitted on part of
    /// the labelled objects and judged on the rest (max F1 with a bootstrap spread, precision
    /// at a completeness and the unlabelled objects above its threshold); writes
    /// ensemble.json, ensemble.png and ensemble-scores.csv into --out.
    Ensemble(cli::ensemble::Args),
}

fn main() -> ExitCode {
    match run(format::command_line::parse()) {
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
        Command::Run(args) => cli::run::run(&args)?,
        Command::Bench(args) => cli::bench::run(args)?,
        Command::Metrics(args) => cli::metrics::run(args)?,
        Command::SweepNpix(args) => cli::sweep_npix::run(args)?,
        Command::Finetune(args) => cli::finetune::run(&args)?,
        Command::Explain(args) => cli::explain::run(args)?,
        Command::Score(args) => cli::score::run(args)?,
        Command::Predict(args) => cli::predict::run(args)?,
        Command::Compare(args) => cli::compare::run(args)?,
        Command::Ensemble(args) => cli::ensemble::run(args)?,
    }
    Ok(())
}
