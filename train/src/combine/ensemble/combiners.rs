//! The ensembles' combiners (`mean`, `median`, `linear`, `tree`, `forest`, `bayes`; see
//! [`super`]): fitted on the training part, then applied to any objects' scores.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use smartcore::ensemble::random_forest_regressor::{
    RandomForestRegressor, RandomForestRegressorParameters,
};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::linear::linear_regression::{LinearRegression, LinearRegressionParameters};
use smartcore::tree::decision_tree_regressor::{
    DecisionTreeRegressor, DecisionTreeRegressorParameters,
};

use crate::combine::isotonic::Isotonic;
use crate::data::split::stratified_kfold;

use super::{EnsembleError, Method, PROBABILITY_FLOOR};

/// The independent Bayesian combination of calibrated probabilities `q` with prior `p`:
/// logit P = logit p + Σᵢ (logit qᵢ − logit p), each qᵢ (and p) first kept within
/// [ε, 1 − ε] ([`PROBABILITY_FLOOR`]).
pub fn bayes_combine(prior: f64, q: &[f64]) -> f64 {
    let logit = |v: f64| {
        let v = v.clamp(PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR);
        (v / (1.0 - v)).ln()
    };
    let lp = logit(prior);
    let l = lp + q.iter().map(|&qi| logit(qi) - lp).sum::<f64>();
    1.0 / (1.0 + (-l).exp())
}

/// Decision-tree hyper-parameters searched.
const TREE_DEPTHS: [Option<u16>; 6] = [Some(2), Some(3), Some(4), Some(6), Some(8), None];
/// Leaf sizes searched, for trees and forests.
const LEAF_SIZES: [usize; 3] = [1, 5, 20];
/// Forest sizes searched.
const FOREST_TREES: [usize; 2] = [50, 200];
/// Forest depths searched.
const FOREST_DEPTHS: [Option<u16>; 3] = [Some(3), Some(6), None];

/// Tree or forest hyper-parameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TreeParams {
    /// Trees (1 for a single tree).
    pub trees: usize,
    /// Maximum depth (None: grown until pure or the leaf size stops it).
    pub max_depth: Option<u16>,
    /// Smallest number of objects in a leaf.
    pub min_leaf: usize,
}

/// A fitted combination.
pub enum Combiner {
    /// Mean of the raw scores.
    Mean,
    /// Median of the raw scores.
    Median,
    /// (a·s + b − lo) / (hi − lo), clipped to [0, 1].
    Linear {
        /// Coefficients, one per finder.
        coef: Vec<f64>,
        /// Intercept.
        intercept: f64,
        /// Lowest training output.
        lo: f64,
        /// Highest training output.
        hi: f64,
    },
    /// A decision tree's leaf probability.
    Tree(Box<DecisionTreeRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>>),
    /// A random forest's mean leaf probability.
    Forest(Box<RandomForestRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>>),
    /// Calibrations and the prior lens fraction.
    Bayes {
        /// One isotonic calibration per finder.
        calibrations: Vec<Isotonic>,
        /// Lens fraction of the training part.
        prior: f64,
    },
}

fn matrix(rows: &[Vec<f64>]) -> Result<DenseMatrix<f64>, String> {
    DenseMatrix::from_2d_vec(&rows.to_vec()).map_err(|e| e.to_string())
}

pub(crate) fn balanced_weights(labels: &[bool]) -> Vec<f64> {
    let n = labels.len() as f64;
    let lenses = labels.iter().filter(|&&l| l).count() as f64;
    labels
        .iter()
        .map(|&l| n / (2.0 * if l { lenses } else { n - lenses }))
        .collect()
}

fn fit_trees(
    rows: &[Vec<f64>],
    labels: &[bool],
    p: TreeParams,
    seed: u64,
) -> Result<Combiner, String> {
    let x = matrix(rows)?;
    let y: Vec<f64> = labels.iter().map(|&l| f64::from(u8::from(l))).collect();
    let w = balanced_weights(labels);
    if p.trees == 1 {
        let params = DecisionTreeRegressorParameters {
            max_depth: p.max_depth,
            min_samples_leaf: p.min_leaf,
            min_samples_split: 2,
            seed: Some(seed),
        };
        DecisionTreeRegressor::fit_with_weights(&x, &y, &w, params)
            .map(|t| Combiner::Tree(Box::new(t)))
            .map_err(|e| e.to_string())
    } else {
        let params = RandomForestRegressorParameters {
            max_depth: p.max_depth,
            min_samples_leaf: p.min_leaf,
            min_samples_split: 2,
            n_trees: p.trees,
            m: None,
            keep_samples: false,
            seed,
        };
        RandomForestRegressor::fit_with_weights(&x, &y, &w, params)
            .map(|f| Combiner::Forest(Box::new(f)))
            .map_err(|e| e.to_string())
    }
}

/// F1 of calling a lens every object scored ≥ 0.5.
fn f1_at_half(labels: &[bool], scores: &[f64]) -> f64 {
    let (mut tp, mut fp, mut fneg) = (0.0, 0.0, 0.0);
    for (&l, &s) in labels.iter().zip(scores) {
        match (l, s >= 0.5) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (true, false) => fneg += 1.0,
            _ => {}
        }
    }
    if tp == 0.0 {
        0.0
    } else {
        2.0 * tp / (2.0 * tp + fp + fneg)
    }
}

/// The grid point with the best mean F1 over stratified folds (the first of equals), its F1.
fn grid_search(
    rows: &[Vec<f64>],
    labels: &[bool],
    grid: &[TreeParams],
    folds: usize,
    seed: u64,
) -> Result<(TreeParams, f64), EnsembleError> {
    let splits = stratified_kfold(labels, folds, 0.0, seed)?;
    let pick = |idx: &[usize]| -> (Vec<Vec<f64>>, Vec<bool>) {
        (
            idx.iter().map(|&i| rows[i].clone()).collect(),
            idx.iter().map(|&i| labels[i]).collect(),
        )
    };
    // Each fold's (training, validation) data, built once for the whole grid.
    let parts: Vec<_> = (0..folds)
        .map(|k| (pick(&splits.training(k)), pick(&splits.folds[k])))
        .collect();
    let scored: Vec<Result<f64, String>> = grid
        .par_iter()
        .map(|&p| {
            let mut total = 0.0;
            for ((tr_x, tr_y), (va_x, va_y)) in &parts {
                let model = fit_trees(tr_x, tr_y, p, seed)?;
                total += f1_at_half(va_y, &model.score(va_x));
            }
            Ok(total / folds as f64)
        })
        .collect();
    let mut best: Option<(TreeParams, f64)> = None;
    for (p, f) in grid.iter().zip(scored) {
        let f = f.map_err(|message| EnsembleError::Fit {
            method: if p.trees == 1 { "tree" } else { "forest" },
            message,
        })?;
        if best.is_none_or(|b| f > b.1) {
            best = Some((*p, f));
        }
    }
    Ok(best.expect("the grids are not empty"))
}

/// What was chosen while fitting, for the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitNotes {
    /// Hyper-parameters chosen by the grid search (tree, forest).
    pub params: Option<TreeParams>,
    /// Their cross-validated F1.
    pub cv_f1: Option<f64>,
    /// Linear regression's coefficients then intercept, or the Bayesian prior.
    pub coefficients: Option<Vec<f64>>,
}

/// Fits `method` to finder scores `rows` (one row per object) with `labels`, and `grades`
/// where the truth has them (used by `linear` only).
pub fn fit(
    method: Method,
    rows: &[Vec<f64>],
    labels: &[bool],
    grades: Option<&[f64]>,
    seed: u64,
) -> Result<(Combiner, FitNotes), EnsembleError> {
    let mut notes = FitNotes {
        params: None,
        cv_f1: None,
        coefficients: None,
    };
    let fit_err = |message: String| EnsembleError::Fit {
        method: method.name(),
        message,
    };
    let combiner = match method {
        Method::Mean => Combiner::Mean,
        Method::Median => Combiner::Median,
        Method::Linear => {
            let x = matrix(rows).map_err(fit_err)?;
            let y: Vec<f64> = match grades {
                Some(g) => g.to_vec(),
                None => labels.iter().map(|&l| f64::from(u8::from(l))).collect(),
            };
            let m = LinearRegression::fit(&x, &y, LinearRegressionParameters::default())
                .map_err(|e| fit_err(e.to_string()))?;
            let out = m.predict(&x).map_err(|e| fit_err(e.to_string()))?;
            let lo = out.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = out.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let coef: Vec<f64> = (0..rows[0].len())
                .map(|j| *smartcore::linalg::basic::arrays::Array::get(m.coefficients(), (j, 0)))
                .collect();
            let intercept = *m.intercept();
            notes.coefficients = Some(coef.iter().copied().chain([intercept]).collect());
            Combiner::Linear {
                coef,
                intercept,
                lo,
                hi,
            }
        }
        Method::Tree | Method::Forest => {
            let grid: Vec<TreeParams> = if method == Method::Tree {
                TREE_DEPTHS
                    .iter()
                    .flat_map(|&d| {
                        LEAF_SIZES.iter().map(move |&l| TreeParams {
                            trees: 1,
                            max_depth: d,
                            min_leaf: l,
                        })
                    })
                    .collect()
            } else {
                FOREST_TREES
                    .iter()
                    .flat_map(|&t| {
                        FOREST_DEPTHS.iter().flat_map(move |&d| {
                            LEAF_SIZES.iter().map(move |&l| TreeParams {
                                trees: t,
                                max_depth: d,
                                min_leaf: l,
                            })
                        })
                    })
                    .collect()
            };
            let (best, f1) = grid_search(rows, labels, &grid, 5, seed)?;
            notes.params = Some(best);
            notes.cv_f1 = Some(f1);
            fit_trees(rows, labels, best, seed).map_err(fit_err)?
        }
        Method::Bayes => {
            let y: Vec<f64> = labels.iter().map(|&l| f64::from(u8::from(l))).collect();
            let calibrations = (0..rows[0].len())
                .map(|f| {
                    let s: Vec<f64> = rows.iter().map(|r| r[f]).collect();
                    Isotonic::fit(&s, &y, None).map_err(|source| EnsembleError::Calibration {
                        finder: f.to_string(),
                        source,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let prior = y.iter().sum::<f64>() / y.len() as f64;
            notes.coefficients = Some(vec![prior]);
            Combiner::Bayes {
                calibrations,
                prior,
            }
        }
    };
    Ok((combiner, notes))
}

impl Combiner {
    /// The combined score of each row of finder scores.
    pub fn score(&self, rows: &[Vec<f64>]) -> Vec<f64> {
        match self {
            Combiner::Mean => rows
                .iter()
                .map(|r| r.iter().sum::<f64>() / r.len() as f64)
                .collect(),
            Combiner::Median => rows
                .iter()
                .map(|r| {
                    let mut v = r.clone();
                    v.sort_by(f64::total_cmp);
                    let n = v.len();
                    if n % 2 == 1 {
                        v[n / 2]
                    } else {
                        0.5 * (v[n / 2 - 1] + v[n / 2])
                    }
                })
                .collect(),
            Combiner::Linear {
                coef,
                intercept,
                lo,
                hi,
            } => rows
                .iter()
                .map(|r| {
                    let out = intercept + r.iter().zip(coef).map(|(s, a)| s * a).sum::<f64>();
                    if hi > lo {
                        ((out - lo) / (hi - lo)).clamp(0.0, 1.0)
                    } else {
                        0.5
                    }
                })
                .collect(),
            Combiner::Tree(t) => tree_scores(rows, |x| t.predict(x)),
            Combiner::Forest(f) => tree_scores(rows, |x| f.predict(x)),
            Combiner::Bayes {
                calibrations,
                prior,
            } => rows
                .iter()
                .map(|r| {
                    let q: Vec<f64> = r
                        .iter()
                        .zip(calibrations)
                        .map(|(&s, c)| c.predict(s))
                        .collect();
                    bayes_combine(*prior, &q)
                })
                .collect(),
        }
    }
}

fn tree_scores(
    rows: &[Vec<f64>],
    predict: impl Fn(&DenseMatrix<f64>) -> Result<Vec<f64>, smartcore::error::Failed>,
) -> Vec<f64> {
    if rows.is_empty() {
        return Vec::new();
    }
    // A fitted smartcore tree predicts any matrix of the training width.
    let x = matrix(rows).expect("rows of finder scores form a matrix");
    predict(&x).expect("a fitted tree predicts rows of its training width")
}
