//! `train metrics`: ROC AUC, PR AUC and F_β of any lens finder's scores.

use std::path::PathBuf;
use train::evaluate::metrics::evaluate;
use train::evaluate::scores::read_scores;

/// `train metrics`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// CSV file with a header row, one row per system.
    #[arg(long)]
    pub scores: PathBuf,
    /// Column holding the truth (1/0 or true/false).
    #[arg(long, default_value = "is_lens")]
    pub label_column: String,
    /// Column holding the lens finder's score (higher = more lens-like).
    #[arg(long, default_value = "score")]
    pub score_column: String,
    /// β² of F_β (0.001: precision weighed as in the II SGLC).
    #[arg(long, default_value_t = 0.001)]
    pub beta2: f64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `train metrics`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        scores,
        label_column,
        score_column,
        beta2,
        json,
    } = args;
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
    Ok(())
}
