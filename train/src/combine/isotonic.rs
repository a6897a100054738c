//! Isotonic regression: the non-decreasing step function closest (weighted least squares) to
//! the targets, as scikit-learn's `IsotonicRegression(out_of_bounds="clip")` fits and
//! evaluates it (tested against it on fixtures). It calibrates a finder's raw scores into
//! probabilities for the Bayesian ensemble.
//!
//! Written here rather than taken from linfa-linear 0.8's `IsotonicRegression`: that one
//! interpolates between the largest scores of consecutive blocks, so it does not return the
//! fitted value at a training score, it keeps tied scores apart instead of pooling them, and
//! it panics on input of the wrong shape; smartcore 0.7 has none. The fit is the pool-adjacent-
//! violators algorithm (Barlow et al. 1972; Best & Chakravarti 1990), twenty lines.

/// Why an isotonic fit is impossible.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IsotonicError {
    /// No points.
    #[error("isotonic regression of no points")]
    Empty,
    /// Inputs of different lengths.
    #[error("{x} scores, {y} targets and {w} weights: they must be as many")]
    Lengths {
        /// Scores.
        x: usize,
        /// Targets.
        y: usize,
        /// Weights.
        w: usize,
    },
    /// A score, target or weight that is not finite, or a weight ≤ 0.
    #[error("point {index}: {what}")]
    BadValue {
        /// Position of the point.
        index: usize,
        /// What is wrong with it.
        what: String,
    },
}

/// A fitted isotonic regression: distinct scores in increasing order and the fitted value at
/// each, interpolated linearly between them and held constant beyond the ends.
#[derive(Clone, Debug, PartialEq)]
pub struct Isotonic {
    /// Distinct training scores, increasing.
    x: Vec<f64>,
    /// The fitted non-decreasing values there.
    y: Vec<f64>,
}

impl Isotonic {
    /// Fits targets `y` at scores `x` (optional positive `weights`, 1 each when absent). Tied
    /// scores are pooled first into one point carrying their weighted mean and summed weight.
    pub fn fit(x: &[f64], y: &[f64], weights: Option<&[f64]>) -> Result<Self, IsotonicError> {
        let w_len = weights.map_or(x.len(), |w| w.len());
        if x.len() != y.len() || w_len != x.len() {
            return Err(IsotonicError::Lengths {
                x: x.len(),
                y: y.len(),
                w: w_len,
            });
        }
        if x.is_empty() {
            return Err(IsotonicError::Empty);
        }
        let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
        for i in 0..x.len() {
            let bad = |what: String| Err(IsotonicError::BadValue { index: i, what });
            if !x[i].is_finite() {
                return bad(format!("score {} is not finite", x[i]));
            }
            if !y[i].is_finite() {
                return bad(format!("target {} is not finite", y[i]));
            }
            if !(weight(i).is_finite() && weight(i) > 0.0) {
                return bad(format!("weight {} is not a positive number", weight(i)));
            }
        }
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
        // Pool tied scores: (score, weighted mean target, summed weight).
        let mut points: Vec<(f64, f64, f64)> = Vec::new();
        for &i in &order {
            match points.last_mut() {
                Some(p) if p.0 == x[i] => {
                    let w = p.2 + weight(i);
                    p.1 = (p.1 * p.2 + y[i] * weight(i)) / w;
                    p.2 = w;
                }
                _ => points.push((x[i], y[i], weight(i))),
            }
        }
        // Pool adjacent violators: blocks of (mean, weight, points), merged while decreasing.
        let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
        for &(_, yi, wi) in &points {
            blocks.push((yi, wi, 1));
            while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
                let (m2, w2, n2) = blocks.pop().expect("two blocks");
                let last = blocks.last_mut().expect("one block");
                let w = last.1 + w2;
                last.0 = (last.0 * last.1 + m2 * w2) / w;
                last.1 = w;
                last.2 += n2;
            }
        }
        let y_fit = blocks
            .iter()
            .flat_map(|&(m, _, n)| std::iter::repeat_n(m, n))
            .collect();
        Ok(Self {
            x: points.iter().map(|p| p.0).collect(),
            y: y_fit,
        })
    }

    /// The fitted function at score `s`: linear between the training scores, the end values
    /// beyond them (scikit-learn's `out_of_bounds="clip"`).
    pub fn predict(&self, s: f64) -> f64 {
        let n = self.x.len();
        if s <= self.x[0] {
            return self.y[0];
        }
        if s >= self.x[n - 1] {
            return self.y[n - 1];
        }
        // First knot above s; s lies in [x[j-1], x[j]).
        let j = self.x.partition_point(|&v| v <= s);
        let (x0, x1, y0, y1) = (self.x[j - 1], self.x[j], self.y[j - 1], self.y[j]);
        y0 + (s - x0) / (x1 - x0) * (y1 - y0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_targets_are_their_own_fit() {
        // A non-decreasing sequence already minimises the squared distance: nothing pools.
        let x = [3.0, 1.0, 2.0, 4.0];
        let y = [0.5, 0.1, 0.2, 0.9];
        let m = Isotonic::fit(&x, &y, None).unwrap();
        for (xi, yi) in x.iter().zip(&y) {
            assert_eq!(m.predict(*xi), *yi);
        }
        // Halfway between scores 1 and 2: halfway between 0.1 and 0.2.
        assert!((m.predict(1.5) - 0.15).abs() < 1e-15);
        assert_eq!(m.predict(-5.0), 0.1);
        assert_eq!(m.predict(9.0), 0.9);
    }

    #[test]
    fn a_violation_pools_to_the_weighted_mean() {
        // y = 1 then 0: one block at the weighted mean (3·1 + 1·0)/4.
        let m = Isotonic::fit(&[0.0, 1.0], &[1.0, 0.0], Some(&[3.0, 1.0])).unwrap();
        assert_eq!(m.predict(0.0), 0.75);
        assert_eq!(m.predict(1.0), 0.75);
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(Isotonic::fit(&[], &[], None), Err(IsotonicError::Empty));
        assert!(matches!(
            Isotonic::fit(&[1.0], &[1.0, 2.0], None),
            Err(IsotonicError::Lengths { .. })
        ));
        assert!(matches!(
            Isotonic::fit(&[1.0, f64::NAN], &[1.0, 2.0], None),
            Err(IsotonicError::BadValue { index: 1, .. })
        ));
        assert!(matches!(
            Isotonic::fit(&[1.0, 2.0], &[1.0, 2.0], Some(&[1.0, 0.0])),
            Err(IsotonicError::BadValue { index: 1, .. })
        ));
    }
}
