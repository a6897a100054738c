//! Combining lens finders (`train ensemble`): the DES study's six ensembles of its networks'
//! scores, fitted on one part of the labelled objects and judged on the other.
//!
//! - `mean`, `median`: of the finders' raw scores;
//! - `linear`: least-squares linear regression of the graded score (the label where the truth
//!   has no grade) on the finders' scores, its output rescaled by the training outputs' range
//!   and clipped to [0, 1];
//! - `tree`, `forest`: a decision tree and a random forest (smartcore), hyper-parameters by grid
//!   search with stratified 5-fold cross-validation maximising F1 at probability 0.5,
//!   class-balanced weights (n / (2 n_class)). Both are smartcore's regression trees grown on
//!   the 0/1 label: for two classes the squared-error criterion is half the Gini impurity, so
//!   they split as Gini classification trees do, and a leaf's (weighted) mean label is the
//!   class-probability estimate that scikit-learn's `predict_proba` gives. smartcore's
//!   classifiers offer no probabilities (its tree's `predict_proba` is one-hot) and no
//!   weights; the forest applies the weights in its bootstrap draws;
//! - `bayes`: each finder's raw score calibrated by isotonic regression on the training part,
//!   then combined assuming independence, logit P = logit p + Σᵢ (logit qᵢ − logit p), with p
//!   the lens fraction of the training part and qᵢ kept within [ε, 1 − ε], ε =
//!   [`PROBABILITY_FLOOR`].
//!
//! Each finder and each ensemble is judged on the test part by its ROC AUC, its maximum F1
//! over the threshold with a bootstrap mean and spread, and its precision at a chosen
//! completeness; the threshold reaching that completeness is carried to the unlabelled
//! objects, whose number above it is the study's Table 1.

mod combiners;
mod plot;

pub use combiners::*;
pub use plot::plot_ensemble;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::combine::isotonic::IsotonicError;
use crate::combine::tables::Joined;
use crate::data::split::{stratified_kfold, SplitError};
use crate::evaluate::metrics::{best_f_beta, roc_auc, MetricsError};
use crate::fit::kfold::MeanStd;

/// How close to 0 or 1 a calibrated probability may come in the Bayesian combination.
pub const PROBABILITY_FLOOR: f64 = 1e-3;

/// The six ways of combining finders.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Mean of the raw scores.
    Mean,
    /// Median of the raw scores.
    Median,
    /// Linear regression, rescaled to [0, 1].
    Linear,
    /// Decision tree.
    Tree,
    /// Random forest.
    Forest,
    /// Isotonic calibration and the independent Bayesian combination.
    Bayes,
}

impl Method {
    /// All six, in the study's order.
    pub const ALL: [Method; 6] = [
        Method::Mean,
        Method::Median,
        Method::Linear,
        Method::Tree,
        Method::Forest,
        Method::Bayes,
    ];

    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Method::Mean => "mean",
            Method::Median => "median",
            Method::Linear => "linear",
            Method::Tree => "tree",
            Method::Forest => "forest",
            Method::Bayes => "bayes",
        }
    }
}

/// Why an ensemble cannot be fitted or judged.
#[derive(Debug, thiserror::Error)]
pub enum EnsembleError {
    /// A setting out of its range.
    #[error("{0}")]
    Settings(String),
    /// The labelled objects cannot be split.
    #[error("splitting the labelled objects: {0}")]
    Split(#[from] SplitError),
    /// Too few labelled objects of a class.
    #[error("{0}")]
    Data(String),
    /// A fit failed.
    #[error("fitting `{method}`: {message}")]
    Fit {
        /// The method.
        method: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A calibration failed.
    #[error("calibrating finder {finder}: {source}")]
    Calibration {
        /// The finder.
        finder: String,
        /// Why.
        source: IsotonicError,
    },
    /// Metrics of the test part failed.
    #[error("judging on the test part: {0}")]
    Metrics(#[from] MetricsError),
    /// An output file could not be written.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        message: String,
    },
}

/// What `train ensemble` is asked for (its arguments).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct EnsembleSettings {
    /// Fraction of the labelled objects (of each class) held out for judging.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the split, the cross-validation folds, the forests and the bootstrap.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Bootstrap resamples of the test part, for the spread of the maximum F1.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000_000))]
    pub bootstraps: usize,
    /// Completeness (recall) at which precision is reported and the threshold carried to the
    /// unlabelled objects.
    #[arg(long, default_value_t = 0.9)]
    pub completeness: f64,
}

impl Default for EnsembleSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

/// One finder or ensemble judged on the test part.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    /// Its name.
    pub name: String,
    /// `finder` or `ensemble`.
    pub kind: String,
    /// ROC AUC on the test part.
    pub roc_auc: f64,
    /// Maximum F1 over the threshold.
    pub max_f1: f64,
    /// Mean and standard deviation of the maximum F1 over bootstrap resamples.
    pub max_f1_bootstrap: MeanStd,
    /// The highest threshold whose completeness reaches the asked one.
    pub threshold_at_completeness: f64,
    /// Completeness reached there.
    pub completeness: f64,
    /// Precision there.
    pub precision_at_completeness: f64,
    /// Unlabelled objects scored at or above that threshold.
    pub unlabelled_above: usize,
    /// What the fit chose (ensembles).
    pub fit: Option<FitNotes>,
}

/// `train ensemble`'s report (`ensemble.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnsembleReport {
    /// What was asked.
    pub settings: EnsembleSettings,
    /// The finders combined.
    pub finders: Vec<String>,
    /// What `linear` was fitted to: `grade` or `label`.
    pub linear_target: String,
    /// Training objects and lenses among them.
    pub train: (usize, usize),
    /// Test objects and lenses among them.
    pub test: (usize, usize),
    /// Unlabelled objects.
    pub unlabelled: usize,
    /// The finders, then the ensembles.
    pub results: Vec<Judged>,
    /// The best single finder's maximum F1 (bootstrap mean).
    pub best_finder_max_f1: f64,
    /// Ensembles whose bootstrap-mean maximum F1 exceeds it.
    pub ensembles_beating_best_finder: Vec<String>,
}

/// Scores of every object by each ensemble, with the split each object was in.
#[derive(Clone, Debug, PartialEq)]
pub struct EnsembleScores {
    /// `train`, `test` or `unlabelled` per object.
    pub part: Vec<&'static str>,
    /// Per ensemble (in [`Method::ALL`]'s order), per object.
    pub scores: Vec<Vec<f64>>,
}

/// Threshold, completeness and precision at the highest threshold reaching `completeness`.
fn at_completeness(labels: &[bool], scores: &[f64], completeness: f64) -> (f64, f64, f64) {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let lenses = labels.iter().filter(|&&l| l).count() as f64;
    let (mut tp, mut called) = (0.0, 0.0);
    for (k, &i) in order.iter().enumerate() {
        called += 1.0;
        if labels[i] {
            tp += 1.0;
        }
        let step_ends = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if step_ends && tp / lenses >= completeness {
            return (scores[i], tp / lenses, tp / called);
        }
    }
    let last = order.last().map_or(0.0, |&i| scores[i]);
    (last, 1.0, lenses / scores.len() as f64)
}

fn judge(
    name: &str,
    kind: &str,
    labels: &[bool],
    scores: &[f64],
    unlabelled: &[f64],
    settings: &EnsembleSettings,
    fit: Option<FitNotes>,
) -> Result<Judged, EnsembleError> {
    let max_f1 = best_f_beta(labels, scores, 1.0)?.f_beta;
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ 0xb007);
    let n = labels.len();
    let mut draws = Vec::with_capacity(settings.bootstraps);
    let (mut l, mut s) = (vec![false; n], vec![0.0; n]);
    for _ in 0..settings.bootstraps {
        for k in 0..n {
            let i = rng.random_range(0..n);
            l[k] = labels[i];
            s[k] = scores[i];
        }
        // A resample with one class has no F1 curve; it is drawn again by the next round.
        if let Ok(f) = best_f_beta(&l, &s, 1.0) {
            draws.push(f.f_beta);
        }
    }
    let (threshold, completeness, precision) =
        at_completeness(labels, scores, settings.completeness);
    Ok(Judged {
        name: name.into(),
        kind: kind.into(),
        roc_auc: roc_auc(labels, scores)?,
        max_f1,
        max_f1_bootstrap: MeanStd::of(&draws).unwrap_or(MeanStd {
            mean: max_f1,
            std: 0.0,
        }),
        threshold_at_completeness: threshold,
        completeness,
        precision_at_completeness: precision,
        unlabelled_above: unlabelled.iter().filter(|&&u| u >= threshold).count(),
        fit,
    })
}

/// Fits the six ensembles of `joined`'s finders on a stratified part of the labelled objects
/// and judges them, and each finder alone, on the rest.
pub fn run(
    joined: &Joined,
    settings: &EnsembleSettings,
) -> Result<(EnsembleReport, EnsembleScores), EnsembleError> {
    if !(settings.test_fraction > 0.0 && settings.test_fraction < 1.0) {
        return Err(EnsembleError::Settings(format!(
            "--test-fraction {}: must be in (0, 1)",
            settings.test_fraction
        )));
    }
    if !(settings.completeness > 0.0 && settings.completeness <= 1.0) {
        return Err(EnsembleError::Settings(format!(
            "--completeness {}: must be in (0, 1]",
            settings.completeness
        )));
    }
    let labelled = joined.labelled();
    let labels: Vec<bool> = labelled
        .iter()
        .map(|&i| joined.labels[i].expect("labelled"))
        .collect();
    let lenses = labels.iter().filter(|&&l| l).count();
    // Five folds in the grid search, each needing both classes: at least 10 of each class
    // among the labelled objects.
    if lenses < 10 || labels.len() - lenses < 10 {
        return Err(EnsembleError::Data(format!(
            "{lenses} lenses and {} non-lenses labelled: the ensembles need at least 10 of each",
            labels.len() - lenses
        )));
    }
    let split = stratified_kfold(&labels, 2, settings.test_fraction, settings.seed)?;
    let test: Vec<usize> = split.test.iter().map(|&k| labelled[k]).collect();
    let mut train: Vec<usize> = split.folds.iter().flatten().map(|&k| labelled[k]).collect();
    train.sort_unstable();
    let rows = |idx: &[usize]| -> Vec<Vec<f64>> { idx.iter().map(|&i| joined.row(i)).collect() };
    let label_of = |idx: &[usize]| -> Vec<bool> {
        idx.iter()
            .map(|&i| joined.labels[i].expect("labelled"))
            .collect()
    };
    let unlabelled = joined.unlabelled();
    let (train_x, train_y) = (rows(&train), label_of(&train));
    let test_y = label_of(&test);
    let all_x = rows(&(0..joined.ids.len()).collect::<Vec<_>>());
    let grades: Option<Vec<f64>> = joined.grades.as_ref().map(|g| {
        train
            .iter()
            .map(|&i| g[i].expect("labelled objects have grades"))
            .collect()
    });

    let mut results = Vec::new();
    for (f, name) in joined.finders.iter().enumerate() {
        let test_s: Vec<f64> = test.iter().map(|&i| joined.scores[f][i]).collect();
        let unl: Vec<f64> = unlabelled.iter().map(|&i| joined.scores[f][i]).collect();
        results.push(judge(
            name, "finder", &test_y, &test_s, &unl, settings, None,
        )?);
    }
    let best_finder_max_f1 = results
        .iter()
        .map(|r| r.max_f1_bootstrap.mean)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut all_scores = Vec::new();
    for method in Method::ALL {
        let (combiner, notes) = fit(method, &train_x, &train_y, grades.as_deref(), settings.seed)?;
        let every = combiner.score(&all_x);
        let test_s: Vec<f64> = test.iter().map(|&i| every[i]).collect();
        let unl: Vec<f64> = unlabelled.iter().map(|&i| every[i]).collect();
        results.push(judge(
            method.name(),
            "ensemble",
            &test_y,
            &test_s,
            &unl,
            settings,
            Some(notes),
        )?);
        all_scores.push(every);
    }
    let mut part = vec!["unlabelled"; joined.ids.len()];
    train.iter().for_each(|&i| part[i] = "train");
    test.iter().for_each(|&i| part[i] = "test");
    let ensembles_beating_best_finder = results
        .iter()
        .filter(|r| r.kind == "ensemble" && r.max_f1_bootstrap.mean > best_finder_max_f1)
        .map(|r| r.name.clone())
        .collect();
    Ok((
        EnsembleReport {
            settings: settings.clone(),
            finders: joined.finders.clone(),
            linear_target: if joined.grades.is_some() {
                "grade"
            } else {
                "label"
            }
            .into(),
            train: (train.len(), train_y.iter().filter(|&&l| l).count()),
            test: (test.len(), test_y.iter().filter(|&&l| l).count()),
            unlabelled: unlabelled.len(),
            results,
            best_finder_max_f1,
            ensembles_beating_best_finder,
        },
        EnsembleScores {
            part,
            scores: all_scores,
        },
    ))
}

/// Runs the ensembles and writes `ensemble.json`, the bar chart `ensemble.png` and every
/// object's scores `ensemble-scores.csv` (ID, part, label, each finder, each ensemble) into the
/// folder `out` (made if missing), each through a temporary file renamed when complete.
pub fn run_to_folder(
    joined: &Joined,
    settings: &EnsembleSettings,
    out: &std::path::Path,
) -> Result<EnsembleReport, EnsembleError> {
    let (report, scores) = run(joined, settings)?;
    let output = |path: &std::path::Path, e: &dyn std::fmt::Display| EnsembleError::Output {
        path: path.into(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(out).map_err(|e| output(out, &e))?;
    let path = out.join("ensemble-scores.csv");
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = ["id", "part", "is_lens"]
        .into_iter()
        .chain(joined.finders.iter().map(String::as_str))
        .chain(Method::ALL.iter().map(|m| m.name()));
    w.write_record(header).map_err(|e| output(&path, &e))?;
    for i in 0..joined.ids.len() {
        let label = joined.labels[i].map_or("", |l| if l { "1" } else { "0" });
        let mut record = vec![joined.ids[i].clone(), scores.part[i].into(), label.into()];
        record.extend(
            joined
                .scores
                .iter()
                .chain(&scores.scores)
                .map(|s| s[i].to_string()),
        );
        w.write_record(&record).map_err(|e| output(&path, &e))?;
    }
    let csv = w.into_inner().map_err(|e| output(&path, &e))?;
    let csv = String::from_utf8(csv).expect("IDs and numbers are UTF-8");
    crate::report::write_text(&path, &csv).map_err(|e| output(&path, &e))?;
    format::atomic::write_via(
        &out.join("ensemble.png"),
        |tmp| plot_ensemble(&report, tmp).map_err(|e| output(tmp, &e)),
        |png, e| output(png, &e),
    )?;
    let json = out.join("ensemble.json");
    crate::report::write_text(
        &json,
        &serde_json::to_string_pretty(&report).expect("the report serialises"),
    )
    .map_err(|e| output(&json, &e))?;
    Ok(report)
}

/// The report as a text table.
pub fn table(r: &EnsembleReport) -> String {
    let mut s = format!(
        "fitted on {} objects ({} lenses), judged on {} ({} lenses); {} unlabelled\n\n",
        r.train.0, r.train.1, r.test.0, r.test.1, r.unlabelled
    );
    s += &format!(
        "{:<12} {:<9} {:>8} {:>8} {:>17} {:>10} {:>10}\n",
        "name",
        "kind",
        "ROC AUC",
        "max F1",
        "max F1 bootstrap",
        format!("P@C={}", r.settings.completeness),
        "unlab. ≥"
    );
    for j in &r.results {
        s += &format!(
            "{:<12} {:<9} {:>8.4} {:>8.4} {:>9.4} ± {:<6.4} {:>10.4} {:>10}\n",
            j.name,
            j.kind,
            j.roc_auc,
            j.max_f1,
            j.max_f1_bootstrap.mean,
            j.max_f1_bootstrap.std,
            j.precision_at_completeness,
            j.unlabelled_above
        );
    }
    s += &format!(
        "\nbest single finder's max F1 (bootstrap mean) {:.4}; ensembles above it: {}\n",
        r.best_finder_max_f1,
        if r.ensembles_beating_best_finder.is_empty() {
            "none".to_string()
        } else {
            r.ensembles_beating_best_finder.join(", ")
        }
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bayes_with_one_finder_is_its_probability() {
        // logit P = logit p + (logit q − logit p) = logit q.
        for q in [0.01, 0.2, 0.5, 0.93] {
            assert!((bayes_combine(0.3, &[q]) - q).abs() < 1e-12);
        }
        // Kept within the floor.
        assert!((bayes_combine(0.3, &[1.0]) - (1.0 - PROBABILITY_FLOOR)).abs() < 1e-12);
    }

    #[test]
    fn bayes_of_uninformative_finders_is_the_prior() {
        // Finders that say only the prior add nothing.
        assert!((bayes_combine(0.1, &[0.1, 0.1, 0.1]) - 0.1).abs() < 1e-12);
        // Two finders that each double the odds from 1:9 give odds 4:9.
        let q = 2.0 / 11.0; // odds 2:9
        assert!((bayes_combine(0.1, &[q, q]) - 4.0 / 13.0).abs() < 1e-12);
    }

    #[test]
    fn completeness_threshold_is_the_highest_reaching_it() {
        // Scores 0.9 (lens), 0.8 (non), 0.7 (lens), 0.6 (lens), 0.1 (non): recall 2/3 at 0.7,
        // 1 at 0.6 with precision 3/4.
        let l = [true, false, true, true, false];
        let s = [0.9, 0.8, 0.7, 0.6, 0.1];
        assert_eq!(at_completeness(&l, &s, 0.6), (0.7, 2.0 / 3.0, 2.0 / 3.0));
        assert_eq!(at_completeness(&l, &s, 0.9), (0.6, 1.0, 0.75));
    }

    #[test]
    fn balanced_weights_give_each_class_half() {
        let l = [true, false, false, false];
        let w = balanced_weights(&l);
        assert_eq!(w[0], 2.0);
        assert!((w[1..].iter().sum::<f64>() - 2.0).abs() < 1e-12);
    }
}
