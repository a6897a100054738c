//! Classification metrics of a lens finder's scores: ROC AUC, PR AUC (average precision) and
//! F_β maximised over the threshold, with the precision, recall and false-alarm rate there.
//!
//! Definitions follow scikit-learn (tested to 1e-9 against it): thresholds are the distinct
//! scores, a system is called a lens when its score is ≥ the threshold, tied scores move
//! together, the ROC AUC is the trapezoidal area under (FPR, TPR) from (0, 0), and the average
//! precision is Σ_k (R_k − R_{k−1}) P_k over thresholds in decreasing order.

use serde::{Deserialize, Serialize};

/// Why metrics cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricsError {
    /// Labels and scores differ in length.
    #[error("{labels} labels but {scores} scores")]
    LengthMismatch {
        /// Number of labels.
        labels: usize,
        /// Number of scores.
        scores: usize,
    },
    /// A score that is NaN or infinite.
    #[error("score {index} is {value}: scores must be finite")]
    NonFiniteScore {
        /// Position of the score.
        index: usize,
        /// Its value.
        value: f64,
    },
    /// Only lenses or only non-lenses: ROC and PR curves are undefined.
    #[error("{positives} lenses and {negatives} non-lenses: both classes are needed")]
    OneClass {
        /// Number of lenses.
        positives: usize,
        /// Number of non-lenses.
        negatives: usize,
    },
}

/// Cumulative counts at one threshold.
#[derive(Clone, Copy, Debug)]
struct Step {
    threshold: f64,
    /// Lenses with score ≥ threshold.
    tp: usize,
    /// Non-lenses with score ≥ threshold.
    fp: usize,
}

/// The thresholds in decreasing order with their cumulative counts, and the class totals.
fn steps(labels: &[bool], scores: &[f64]) -> Result<(Vec<Step>, usize, usize), MetricsError> {
    if labels.len() != scores.len() {
        return Err(MetricsError::LengthMismatch {
            labels: labels.len(),
            scores: scores.len(),
        });
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(MetricsError::NonFiniteScore { index, value });
    }
    let positives = labels.iter().filter(|&&l| l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricsError::OneClass {
            positives,
            negatives,
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut out: Vec<Step> = Vec::new();
    let (mut tp, mut fp) = (0, 0);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // Close a step where the next score differs (ties move together).
        if order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]) {
            out.push(Step {
                threshold: scores[i],
                tp,
                fp,
            });
        }
    }
    Ok((out, positives, negatives))
}

/// Points (false-positive rate, true-positive rate) of the ROC curve, from (0, 0) to (1, 1),
/// one per distinct score (tied scores move together, diagonally).
pub fn roc_curve(labels: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64)>, MetricsError> {
    let (steps, p, n) = steps(labels, scores)?;
    Ok(std::iter::once((0.0, 0.0))
        .chain(
            steps
                .iter()
                .map(|s| (s.fp as f64 / n as f64, s.tp as f64 / p as f64)),
        )
        .collect())
}

/// Points (recall, precision) of the precision–recall curve, one per distinct score.
pub fn pr_curve(labels: &[bool], scores: &[f64]) -> Result<Vec<(f64, f64)>, MetricsError> {
    let (steps, p, _) = steps(labels, scores)?;
    Ok(steps
        .iter()
        .map(|s| (s.tp as f64 / p as f64, s.tp as f64 / (s.tp + s.fp) as f64))
        .collect())
}

/// Area under the ROC curve.
pub fn roc_auc(labels: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    let (steps, p, n) = steps(labels, scores)?;
    let (mut area, mut x0, mut y0) = (0.0, 0.0, 0.0);
    for s in &steps {
        let (x, y) = (s.fp as f64 / n as f64, s.tp as f64 / p as f64);
        area += (x - x0) * (y + y0) / 2.0;
        (x0, y0) = (x, y);
    }
    Ok(area)
}

/// Area under the precision–recall curve as average precision.
pub fn average_precision(labels: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    let (steps, p, _) = steps(labels, scores)?;
    let (mut ap, mut r0) = (0.0, 0.0);
    for s in &steps {
        let r = s.tp as f64 / p as f64;
        let precision = s.tp as f64 / (s.tp + s.fp) as f64;
        ap += (r - r0) * precision;
        r0 = r;
    }
    Ok(ap)
}

/// The best F_β over thresholds and where it is reached.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FBeta {
    /// β² (0.001 weighs precision heavily, as the II SGLC did).
    pub beta2: f64,
    /// max over thresholds of (1 + β²)·P·R / (β²·P + R).
    pub f_beta: f64,
    /// The lowest threshold reaching it.
    pub threshold: f64,
    /// Precision there.
    pub precision: f64,
    /// Recall (true-positive rate) there.
    pub recall: f64,
    /// False-alarm rate (false-positive rate) there.
    pub false_positive_rate: f64,
}

/// F_β maximised over the threshold (ties broken towards the lowest threshold).
pub fn best_f_beta(labels: &[bool], scores: &[f64], beta2: f64) -> Result<FBeta, MetricsError> {
    let curve = f_beta_curve(labels, scores, beta2)?;
    // Increasing thresholds, strict improvement: the lowest threshold wins a tie.
    let best = curve
        .iter()
        .fold(None::<&CurvePoint>, |b, c| match b {
            Some(b) if c.f_beta <= b.f_beta => Some(b),
            _ => Some(c),
        })
        .expect("the curve is not empty when both classes are present");
    Ok(FBeta {
        beta2,
        f_beta: best.f_beta,
        threshold: best.threshold,
        precision: best.precision,
        recall: best.recall,
        false_positive_rate: best.false_positive_rate,
    })
}

/// One threshold of the precision–recall curve and its F_β.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// Systems scored ≥ this are called lenses.
    pub threshold: f64,
    /// Precision there.
    pub precision: f64,
    /// Recall there.
    pub recall: f64,
    /// False-alarm rate there.
    pub false_positive_rate: f64,
    /// F_β there (0 where precision and recall are both 0).
    pub f_beta: f64,
}

/// The precision–recall curve with F_β at every distinct score, in increasing threshold order
/// (scikit-learn 1.9's `precision_recall_curve` without its closing (P = 1, R = 0) point).
pub fn f_beta_curve(
    labels: &[bool],
    scores: &[f64],
    beta2: f64,
) -> Result<Vec<CurvePoint>, MetricsError> {
    let (steps, p, n) = steps(labels, scores)?;
    Ok(steps
        .iter()
        .rev()
        .map(|s| {
            let precision = s.tp as f64 / (s.tp + s.fp) as f64;
            let recall = s.tp as f64 / p as f64;
            let f_beta = if precision + recall > 0.0 {
                (1.0 + beta2) * precision * recall / (beta2 * precision + recall)
            } else {
                0.0
            };
            CurvePoint {
                threshold: s.threshold,
                precision,
                recall,
                false_positive_rate: s.fp as f64 / n as f64,
                f_beta,
            }
        })
        .collect())
}

/// Every metric of one set of scores.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Systems scored.
    pub n: usize,
    /// Of which lenses.
    pub n_lenses: usize,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// Area under the precision–recall curve (average precision).
    pub pr_auc: f64,
    /// The best F_β and where it is reached.
    #[serde(flatten)]
    pub f_beta: FBeta,
}

/// All metrics of `scores` against `labels` (true = lens).
pub fn evaluate(labels: &[bool], scores: &[f64], beta2: f64) -> Result<Report, MetricsError> {
    Ok(Report {
        n: labels.len(),
        n_lenses: labels.iter().filter(|&&l| l).count(),
        roc_auc: roc_auc(labels, scores)?,
        pr_auc: average_precision(labels, scores)?,
        f_beta: best_f_beta(labels, scores, beta2)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_of_a_perfect_and_a_tied_ranking() {
        let labels = [true, true, false, false];
        // Perfect: the ROC climbs to (0, 1) first; precision is 1 until every lens is found.
        let roc = roc_curve(&labels, &[0.9, 0.8, 0.2, 0.1]).unwrap();
        assert_eq!(
            roc,
            vec![(0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.5, 1.0), (1.0, 1.0)]
        );
        let pr = pr_curve(&labels, &[0.9, 0.8, 0.2, 0.1]).unwrap();
        assert_eq!(pr[1], (1.0, 1.0));
        // All tied: one diagonal step.
        assert_eq!(
            roc_curve(&labels, &[0.5; 4]).unwrap(),
            vec![(0.0, 0.0), (1.0, 1.0)]
        );
        assert!(roc_curve(&[true, true], &[0.1, 0.2]).is_err());
    }

    #[test]
    fn perfect_and_reversed_rankings() {
        let labels = [true, true, false, false];
        assert_eq!(roc_auc(&labels, &[0.9, 0.8, 0.2, 0.1]).unwrap(), 1.0);
        assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.8, 0.9]).unwrap(), 0.0);
        // All scores tied: the ROC is the diagonal, AUC ½; AP is the lens fraction.
        assert_eq!(roc_auc(&labels, &[0.5; 4]).unwrap(), 0.5);
        assert_eq!(average_precision(&labels, &[0.5; 4]).unwrap(), 0.5);
    }

    #[test]
    fn bad_input_is_named() {
        assert!(matches!(
            roc_auc(&[true], &[0.1, 0.2]),
            Err(MetricsError::LengthMismatch { .. })
        ));
        assert!(matches!(
            roc_auc(&[true, false], &[0.1, f64::NAN]),
            Err(MetricsError::NonFiniteScore { index: 1, .. })
        ));
        assert!(matches!(
            roc_auc(&[true, true], &[0.1, 0.2]),
            Err(MetricsError::OneClass {
                positives: 2,
                negatives: 0
            })
        ));
    }
}
