//! `train predict`: a score table for every system of a dataset from a finished run.

use super::announce_device;
use std::path::PathBuf;
use train::data::stamps::BadCutouts;
use train::device::{run_on, OnBackend};
use train::evaluate::predict::Target;
use train::ops::TrainAutodiff;

/// `train predict`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// The finished `train run` folder.
    #[arg(long)]
    pub run: PathBuf,
    /// The dataset to score [default: the run's own].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The CSV to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Systems per batch.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// `auto` (CUDA when built with it and a GPU answers, else the CPU), `cpu` or `cuda`.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// FITS cutouts that cannot be used: `refuse` (stop, naming the first) or `skip` (leave
    /// them out, saying which) [default: the run's data.bad_cutouts].
    #[arg(long, value_enum)]
    pub bad_cutouts: Option<BadCutouts>,
    /// Every cutout must give its RA and Dec (from the list's `ra`, `dec`, else its WCS); one
    /// that does not is a bad cutout. Without it they are written where every cutout gives them.
    #[arg(long)]
    pub radec: bool,
}

/// Runs `train predict`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args {
        run,
        data,
        out,
        batch,
        device,
        bad_cutouts,
        radec,
    } = args;
    let choice = announce_device(&device)?;
    struct Job<'a>(&'a std::path::Path, Target<'a>, usize);
    impl OnBackend for Job<'_> {
        type Output = Result<train::evaluate::predict::Prediction, train::fit::kfold::RunError>;
        fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output {
            let Job(run, target, batch) = self;
            train::evaluate::predict::predict::<B::InnerBackend>(run, &target, batch, device)
        }
    }
    let target = Target {
        data: data.as_deref(),
        bad_cutouts,
        need_positions: radec,
    };
    let p = run_on(choice, Job(&run, target, batch))?;
    let mut w = csv::Writer::from_writer(Vec::new());
    // `id,score`, then `is_lens` where the systems are labelled (a blind set's table is a
    // challenge submission without it) and `ra,dec` where their source gives positions.
    let mut header = vec!["id", "score"];
    if p.labels.is_some() {
        header.push("is_lens");
    }
    if p.positions.is_some() {
        header.extend(["ra", "dec"]);
    }
    w.write_record(&header)?;
    for (k, (id, s)) in p.ids.iter().zip(&p.scores).enumerate() {
        let mut row = vec![id.clone(), s.to_string()];
        if let Some(labels) = &p.labels {
            row.push(if labels[k] { "1" } else { "0" }.into());
        }
        if let Some(positions) = &p.positions {
            row.extend(positions[k].iter().map(f64::to_string));
        }
        w.write_record(&row)?;
    }
    let text = String::from_utf8(w.into_inner()?)?;
    train::report::write_text(&out, &text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    println!(
        "{} systems scored by the mean of the run's folds into {}",
        p.ids.len(),
        out.display()
    );
    Ok(())
}
