//! The `train` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use train::metrics::evaluate;
use train::scores::read_scores;

/// lensforge's trainer and judge of lens finders.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
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
    }
    Ok(())
}
