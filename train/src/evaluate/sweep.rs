//! `train sweep-npix`: the detection limit of a trained lens finder as a function of how many
//! lensed-source pixels a lens shows, as the seed study's Fig. 11.
//!
//! For each lower bound N (10, 20, …, 150 by default) a balanced test set is drawn from the
//! run's independent test split: the lenses with N ≤ n_pix_source < N + step that meet the other
//! two criteria of the dataset's label (source pixel groups ≥ min_groups, mag_eff > min_mag_eff
//! in every band), and as many systems with n_pix_source < N, drawn at random (seeded). Every
//! fold's model is judged on it by the scores it gave the test split (`report.json`), and ROC
//! AUC, PR AUC and F_β are reported as mean ± standard deviation over the folds. A bin with
//! fewer lenses than asked (`min_lenses`) is reported as too small, without figures.

use std::path::{Path, PathBuf};

use format::dataset::columns;
use rand::seq::SliceRandom;
use serde::Serialize;

use crate::data::batches::stream;
use crate::data::{DataError, Dataset};
use crate::evaluate::metrics::evaluate;
use crate::fit::kfold::{MeanStd, RunReport};

/// The sweep's settings (`train sweep-npix`'s arguments).
#[derive(Clone, Debug, PartialEq, Serialize, clap::Args)]
pub struct SweepSettings {
    /// First lower bound N.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
    pub first: u32,
    /// Last lower bound N (inclusive).
    #[arg(long, default_value_t = 150, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(0..=1_000_000))]
    pub last: u32,
    /// Bin width in pixels: lenses with N ≤ n_pix_source < N + step.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<u32>::new().range(1..=1_000_000))]
    pub step: u32,
    /// Fewest lenses a bin needs for figures.
    #[arg(long, default_value_t = 10, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub min_lenses: usize,
    /// Seed of the draw of the non-lenses.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// β² of F_β.
    #[arg(long, default_value_t = 0.001)]
    pub beta2: f64,
}

impl Default for SweepSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

impl SweepSettings {
    /// Checks the settings; the error names the option.
    pub fn validate(&self) -> Result<(), String> {
        if self.step == 0 {
            return Err("--step must be ≥ 1 pixel".into());
        }
        if self.last < self.first {
            return Err(format!(
                "--last {} is below --first {}",
                self.last, self.first
            ));
        }
        if self.min_lenses < 2 {
            return Err("--min-lenses must be ≥ 2".into());
        }
        if !(self.beta2 > 0.0 && self.beta2.is_finite()) {
            return Err(format!("--beta2 {}: must be > 0", self.beta2));
        }
        Ok(())
    }

    /// The lower bounds N of the bins.
    pub fn bounds(&self) -> Vec<u32> {
        (self.first..=self.last)
            .step_by(self.step as usize)
            .collect()
    }
}

/// What the sweep needs of each system of the test split, in split order.
#[derive(Clone, Debug, PartialEq)]
pub struct TestSystems {
    /// Dataset indices.
    pub indices: Vec<usize>,
    /// n_pix_source (detection band).
    pub n_pix: Vec<f64>,
    /// Whether the other two criteria hold (groups and mag_eff in every band).
    pub other_criteria: Vec<bool>,
}

impl TestSystems {
    /// Reads the catalogue of `indices` from `data`, with the label criteria stored in it.
    pub fn read(data: &Dataset, indices: &[usize]) -> Result<Self, DataError> {
        let criteria = data.label_criteria()?;
        let n_pix = data.column(columns::N_PIX_SOURCE)?;
        let groups = data.column(columns::N_SOURCE_GROUPS)?;
        let mag_eff: Vec<Vec<f64>> = data
            .bands()
            .iter()
            .map(|b| data.column(&columns::mag_eff(b)))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            indices: indices.to_vec(),
            n_pix: indices.iter().map(|&i| n_pix[i]).collect(),
            other_criteria: indices
                .iter()
                .map(|&i| {
                    let mag_eff: Vec<f64> = mag_eff.iter().map(|m| m[i]).collect();
                    criteria.all_but_pixels(groups[i], &mag_eff)
                })
                .collect(),
        })
    }
}

/// One bin's balanced test set, as positions in the test split.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BinSet {
    /// Lower bound N.
    pub n: u32,
    /// The lenses: N ≤ n_pix_source < N + step and the other criteria.
    pub lenses: Vec<usize>,
    /// The non-lenses: n_pix_source < N, as many as the lenses where the split has them.
    pub non_lenses: Vec<usize>,
}

/// The balanced test set of the bin starting at `n`.
pub fn bin_set(systems: &TestSystems, n: u32, settings: &SweepSettings) -> BinSet {
    let (lo, hi) = (n as f64, (n + settings.step) as f64);
    let lenses: Vec<usize> = (0..systems.n_pix.len())
        .filter(|&k| systems.other_criteria[k] && systems.n_pix[k] >= lo && systems.n_pix[k] < hi)
        .collect();
    let mut candidates: Vec<usize> = (0..systems.n_pix.len())
        .filter(|&k| systems.n_pix[k] < lo)
        .collect();
    candidates.shuffle(&mut stream(settings.seed, 0x5_7ee9, n as u64));
    candidates.truncate(lenses.len());
    candidates.sort_unstable();
    BinSet {
        n,
        lenses,
        non_lenses: candidates,
    }
}

/// One bin of the sweep.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepBin {
    /// Lower bound N.
    pub n: u32,
    /// Upper bound (exclusive).
    pub n_end: u32,
    /// Lenses in the bin.
    pub lenses: usize,
    /// Non-lenses drawn.
    pub non_lenses: usize,
    /// Why the bin has no figures (too few lenses, or too few non-lenses to balance them).
    pub note: Option<String>,
    /// ROC AUC over the folds.
    pub roc_auc: Option<MeanStd>,
    /// PR AUC over the folds.
    pub pr_auc: Option<MeanStd>,
    /// F_β over the folds.
    pub f_beta: Option<MeanStd>,
}

/// The sweep's report (`sweep-npix.json`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SweepReport {
    /// The run folder.
    pub run: PathBuf,
    /// The dataset.
    pub data: PathBuf,
    /// Folds judged.
    pub folds: usize,
    /// The settings.
    pub settings: SweepSettings,
    /// The bins, increasing N.
    pub bins: Vec<SweepBin>,
}

/// Sweeps `run` (a finished `train run` report) over `systems`, its test split.
pub fn sweep(report: &RunReport, systems: &TestSystems, settings: &SweepSettings) -> Vec<SweepBin> {
    settings
        .bounds()
        .into_iter()
        .map(|n| {
            let set = bin_set(systems, n, settings);
            let mut bin = SweepBin {
                n,
                n_end: n + settings.step,
                lenses: set.lenses.len(),
                non_lenses: set.non_lenses.len(),
                note: None,
                roc_auc: None,
                pr_auc: None,
                f_beta: None,
            };
            if set.lenses.len() < settings.min_lenses {
                bin.note = Some(format!(
                    "too few lenses in the test split ({} < {})",
                    set.lenses.len(),
                    settings.min_lenses
                ));
                return bin;
            }
            if set.non_lenses.len() < set.lenses.len() {
                bin.note = Some(format!(
                    "too few systems with n_pix_source < {n} to balance {} lenses ({})",
                    set.lenses.len(),
                    set.non_lenses.len()
                ));
                return bin;
            }
            let members: Vec<usize> = set.lenses.iter().chain(&set.non_lenses).copied().collect();
            let labels: Vec<bool> = (0..members.len()).map(|k| k < set.lenses.len()).collect();
            let reports: Vec<_> = report
                .folds
                .iter()
                .filter_map(|f| {
                    let scores: Vec<f64> = members.iter().map(|&k| f.test_scores[k]).collect();
                    evaluate(&labels, &scores, settings.beta2).ok()
                })
                .collect();
            let of = |g: fn(&crate::evaluate::metrics::Report) -> f64| {
                MeanStd::of(&reports.iter().map(g).collect::<Vec<_>>())
            };
            bin.roc_auc = of(|r| r.roc_auc);
            bin.pr_auc = of(|r| r.pr_auc);
            bin.f_beta = of(|r| r.f_beta.f_beta);
            bin
        })
        .collect()
}

/// Why a sweep cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The run folder cannot be read.
    #[error(transparent)]
    Folder(#[from] crate::fit::kfold::RunError),
    /// The run folder holds something the sweep cannot use.
    #[error("{path}: {message}")]
    Run {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The dataset cannot be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The settings are wrong.
    #[error("{0}")]
    Settings(String),
    /// The figure cannot be drawn.
    #[error(transparent)]
    Plot(#[from] crate::report::PlotError),
}

/// Runs the sweep on the finished run in `run_dir` (its `report.json` and dataset), writes
/// `sweep-npix.json` and `sweep-npix.png` there, and returns the report.
pub fn sweep_run(run_dir: &Path, settings: &SweepSettings) -> Result<SweepReport, SweepError> {
    settings.validate().map_err(SweepError::Settings)?;
    let path = run_dir.join("report.json");
    let report = RunReport::read(run_dir)?;
    if report.folds.is_empty() {
        return Err(SweepError::Run {
            path,
            message: "no fold was trained".into(),
        });
    }
    let n_test = report.test_indices.len();
    if let Some(f) = report.folds.iter().find(|f| f.test_scores.len() != n_test) {
        return Err(SweepError::Run {
            path,
            message: format!(
                "fold {} scored {} test systems, the split has {n_test}",
                f.fold,
                f.test_scores.len()
            ),
        });
    }
    let data = Dataset::open(&report.config.data.file)?;
    let systems = TestSystems::read(&data, &report.test_indices)?;
    let bins = sweep(&report, &systems, settings);
    let out = SweepReport {
        run: run_dir.into(),
        data: report.config.data.file.clone(),
        folds: report.folds.len(),
        settings: settings.clone(),
        bins,
    };
    let json = run_dir.join("sweep-npix.json");
    format::atomic::write_bytes(
        &json,
        serde_json::to_string_pretty(&out)
            .expect("the report serialises")
            .as_bytes(),
    )
    .map_err(|e| SweepError::Run {
        path: json.clone(),
        message: e.to_string(),
    })?;
    plot_sweep(&out, &run_dir.join("sweep-npix.png"))?;
    Ok(out)
}

/// The sweep as a text table.
pub fn table(r: &SweepReport) -> String {
    let ms = |m: &Option<MeanStd>| {
        m.map_or("       —       ".to_string(), |m| {
            format!("{:.3} ± {:.3}", m.mean, m.std)
        })
    };
    let mut t = format!(
        "{:>9} {:>7} {:>9}  {:<15} {:<15} {:<15}\n",
        "n_pix", "lenses", "non-lens", "ROC AUC", "PR AUC", "F_beta"
    );
    for b in &r.bins {
        t.push_str(&format!(
            "{:>9} {:>7} {:>9}  {:<15} {:<15} {:<15}{}\n",
            format!("{}–{}", b.n, b.n_end - 1),
            b.lenses,
            b.non_lenses,
            ms(&b.roc_auc),
            ms(&b.pr_auc),
            ms(&b.f_beta),
            b.note
                .as_ref()
                .map_or(String::new(), |n| format!("  ({n})"))
        ));
    }
    t
}

/// Draws the N_pix sweep (`train sweep-npix`): ROC AUC, PR AUC and F_β of the folds' models,
/// mean with a ±1 standard-deviation bar, against the bin's lower bound N (the seed study's
/// Fig. 11). Bins without figures are left out.
pub fn plot_sweep(
    report: &crate::evaluate::sweep::SweepReport,
    path: &std::path::Path,
) -> Result<(), crate::report::PlotError> {
    use crate::report::figure;
    use plotters::prelude::*;
    let err = figure(path);
    let x_max = report
        .bins
        .iter()
        .map(|b| b.n as f64)
        .fold(10.0f64, f64::max)
        + report.settings.step as f64;
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let title = format!(
        "Detection limit by lensed-source pixels ({} folds)",
        report.folds
    );
    let labels = (
        "lower bound N of n_pix_source (bins N ≤ n_pix < N + step)",
        "metric (mean ± std over folds)",
    );
    let mut chart = crate::report::axes(&root, &title, labels, (0.0, x_max), (0.0, 1.05))
        .map_err(|e| err(&e))?;
    type Pick = fn(&crate::evaluate::sweep::SweepBin) -> Option<crate::fit::kfold::MeanStd>;
    let metrics: [(&str, Pick); 3] = [
        ("ROC AUC", |b| b.roc_auc),
        ("PR AUC", |b| b.pr_auc),
        ("F_beta", |b| b.f_beta),
    ];
    for (k, (name, pick)) in metrics.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        let pts: Vec<(f64, f64, f64)> = report
            .bins
            .iter()
            .filter_map(|b| pick(b).map(|m| (b.n as f64, m.mean, m.std)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(*name)
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], colour));
        chart
            .draw_series(pts.iter().map(|&(x, m, s)| {
                PathElement::new(vec![(x, (m - s).max(0.0)), (x, (m + s).min(1.05))], colour)
            }))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, m, _)| Circle::new((x, m), 3, colour.filled())),
            )
            .map_err(|e| err(&e))?;
    }
    crate::report::legend(&mut chart).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Positions of `set` that are also in `other`.
    fn overlap(set: &[usize], other: &[usize]) -> Vec<usize> {
        let o: BTreeSet<usize> = other.iter().copied().collect();
        set.iter().copied().filter(|k| o.contains(k)).collect()
    }

    /// A run of two folds whose scores grow with n_pix (the second fold's a little noisier).
    fn report_scoring_by_n_pix(s: &TestSystems) -> RunReport {
        let fold = |k: usize, noise: f64| crate::fit::kfold::FoldResult {
            fold: k,
            best_epoch: 1,
            best_val_loss: 0.5,
            log: Vec::new(),
            test: None,
            test_scores: s
                .n_pix
                .iter()
                .enumerate()
                .map(|(j, &n)| n / 100.0 + noise * ((j * 7919) % 13) as f64)
                .collect(),
        };
        RunReport {
            config: crate::config::TrainConfig::default_config(),
            systems: s.indices.len(),
            lenses: 0,
            test_indices: s.indices.clone(),
            test_labels: vec![false; s.indices.len()],
            folds: vec![fold(0, 0.0), fold(1, 0.01)],
            roc_auc: None,
            pr_auc: None,
            f_beta: None,
            ensemble_scores: Vec::new(),
            ensemble: None,
            grids: Vec::new(),
        }
    }

    fn systems() -> TestSystems {
        // n_pix 0..100; every third system fails the other criteria.
        TestSystems {
            indices: (1000..1100).collect(),
            n_pix: (0..100).map(f64::from).collect(),
            other_criteria: (0..100).map(|k| k % 3 != 0).collect(),
        }
    }

    #[test]
    fn bins_hold_their_lenses_and_as_many_fainter_non_lenses() {
        let s = systems();
        let settings = SweepSettings::default();
        for n in [10u32, 20, 50, 90] {
            let b = bin_set(&s, n, &settings);
            // Membership: the bin's n_pix range and the other criteria.
            for &k in &b.lenses {
                assert!(s.n_pix[k] >= n as f64 && s.n_pix[k] < (n + 10) as f64);
                assert!(s.other_criteria[k]);
            }
            let expected = (n..n + 10).filter(|k| k % 3 != 0).count();
            assert_eq!(b.lenses.len(), expected, "N = {n}");
            // Balance: as many non-lenses, each fainter than N, none a lens of the bin.
            assert_eq!(b.non_lenses.len(), b.lenses.len());
            assert!(b.non_lenses.iter().all(|&k| s.n_pix[k] < n as f64));
            assert!(overlap(&b.non_lenses, &b.lenses).is_empty());
            // The same seed draws the same non-lenses.
            assert_eq!(bin_set(&s, n, &settings), b);
        }
        // N = 0: no system is fainter, so the bin cannot be balanced.
        let r = report_scoring_by_n_pix(&s);
        let bins = sweep(
            &r,
            &s,
            &SweepSettings {
                first: 0,
                last: 0,
                min_lenses: 2,
                ..settings.clone()
            },
        );
        assert!(bins[0].note.as_ref().unwrap().contains("to balance"));
        let b = bin_set(&s, 0, &settings);
        assert!(b.non_lenses.is_empty() && !b.lenses.is_empty());
    }

    #[test]
    fn bins_come_from_the_test_split_alone() {
        // A split as `train run` makes it: no bin member is in a training or validation fold.
        let labels: Vec<bool> = (0..300).map(|k| k % 2 == 0).collect();
        let splits = crate::data::split::stratified_kfold(&labels, 5, 0.3, 7).unwrap();
        let s = TestSystems {
            indices: splits.test.clone(),
            n_pix: splits.test.iter().map(|&i| (i % 120) as f64).collect(),
            other_criteria: vec![true; splits.test.len()],
        };
        let folded: Vec<usize> = splits.folds.concat();
        for n in SweepSettings::default().bounds() {
            let b = bin_set(&s, n, &SweepSettings::default());
            let members: Vec<usize> = b
                .lenses
                .iter()
                .chain(&b.non_lenses)
                .map(|&k| s.indices[k])
                .collect();
            assert!(overlap(&members, &folded).is_empty(), "N = {n}");
        }
    }

    #[test]
    fn a_bin_with_too_few_lenses_says_so() {
        let s = systems();
        let r = report_scoring_by_n_pix(&s);
        let settings = SweepSettings {
            min_lenses: 8,
            ..SweepSettings::default()
        };
        let bins = sweep(&r, &s, &settings);
        // 10–19 holds 7 lenses (those not divisible by 3): below 8.
        assert_eq!(bins[0].lenses, 7);
        assert!(bins[0].note.as_ref().unwrap().contains("too few lenses"));
        assert!(bins[0].roc_auc.is_none());
        // With enough lenses the bin has figures: scores that grow with n_pix separate the
        // bin's lenses from the fainter systems (perfectly in fold 0).
        let enough = sweep(
            &r,
            &s,
            &SweepSettings {
                min_lenses: 5,
                ..SweepSettings::default()
            },
        );
        let full = enough.iter().find(|b| b.n == 50).unwrap();
        assert!(full.note.is_none() && full.roc_auc.unwrap().mean > 0.9);
        // 100–109 and beyond hold none.
        assert!(bins
            .iter()
            .filter(|b| b.n >= 100)
            .all(|b| b.lenses == 0 && b.note.is_some()));
    }
}
