//! Deterministic data splits: an independent test set kept out of every fold, and k folds of
//! what remains, each the validation set of one model.
//!
//! The order comes from a ChaCha8 stream seeded with the run's seed, so the same seed gives
//! the same split on any machine; with labels, both classes are spread evenly (stratified).

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Why a split is impossible.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SplitError {
    /// Fewer than two folds asked for, or more folds than systems.
    #[error(
        "{k} folds of {n} systems: need 2 ≤ k ≤ the number of systems left after the test split"
    )]
    Folds {
        /// Folds asked for.
        k: usize,
        /// Systems available.
        n: usize,
    },
    /// A test fraction outside [0, 1).
    #[error("test fraction {0}: must be in [0, 1)")]
    TestFraction(f64),
    /// Labels of one class only: nothing to tell apart.
    #[error(
        "{lenses} lenses and {others} non-lenses: a lens finder needs both classes (check the \
         dataset or the label rule)"
    )]
    OneClass {
        /// Systems labelled lenses.
        lenses: usize,
        /// Systems labelled non-lenses.
        others: usize,
    },
}

/// The indices of an independent test set and of k folds.
#[derive(Clone, Debug, PartialEq)]
pub struct Splits {
    /// Kept out of all training and validation.
    pub test: Vec<usize>,
    /// Fold i is the validation set of model i; the other folds train it.
    pub folds: Vec<Vec<usize>>,
}

impl Splits {
    /// Training indices of model `i`: every fold but fold `i`.
    pub fn training(&self, i: usize) -> Vec<usize> {
        self.folds
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .flat_map(|(_, f)| f.iter().copied())
            .collect()
    }
}

/// Splits systems `0..labels.len()` into a test set (`test_fraction` of each class) and `k`
/// folds (each class dealt round-robin after a seeded shuffle).
pub fn stratified_kfold(
    labels: &[bool],
    k: usize,
    test_fraction: f64,
    seed: u64,
) -> Result<Splits, SplitError> {
    if !(0.0..1.0).contains(&test_fraction) {
        return Err(SplitError::TestFraction(test_fraction));
    }
    let lenses = labels.iter().filter(|&&l| l).count();
    if lenses == 0 || lenses == labels.len() {
        return Err(SplitError::OneClass {
            lenses,
            others: labels.len() - lenses,
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut test = Vec::new();
    let mut rest: Vec<Vec<usize>> = Vec::new();
    for class in [true, false] {
        let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        idx.shuffle(&mut rng);
        let n_test = (idx.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&idx[..n_test]);
        rest.push(idx[n_test..].to_vec());
    }
    let remaining: usize = rest.iter().map(Vec::len).sum();
    if k < 2 || k > remaining {
        return Err(SplitError::Folds { k, n: remaining });
    }
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for class in rest {
        for i in class {
            folds[next % k].push(i);
            next += 1;
        }
    }
    test.sort_unstable();
    folds.iter_mut().for_each(|f| f.sort_unstable());
    Ok(Splits { test, folds })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<bool> {
        (0..n).map(|i| (i * 7919) % 10 < 4).collect()
    }

    #[test]
    fn folds_and_test_partition_the_systems() {
        let l = labels(1003);
        let s = stratified_kfold(&l, 10, 0.1, 42).unwrap();
        let mut all: Vec<usize> = s
            .test
            .iter()
            .chain(s.folds.iter().flatten())
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..1003).collect::<Vec<_>>(),
            "every system exactly once"
        );
        // Balanced: fold sizes differ by at most one, and each fold's lens fraction is that of the set.
        let sizes: Vec<usize> = s.folds.iter().map(Vec::len).collect();
        assert!(
            sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1,
            "{sizes:?}"
        );
        let frac = |ix: &[usize]| ix.iter().filter(|&&i| l[i]).count() as f64 / ix.len() as f64;
        for f in &s.folds {
            assert!((frac(f) - 0.4).abs() < 0.02, "{}", frac(f));
        }
        assert!((s.test.len() as f64 - 100.3).abs() < 1.5);
        // training(i) is everything but fold i and the test set
        let t = s.training(3);
        assert_eq!(t.len() + s.folds[3].len() + s.test.len(), 1003);
        assert!(t
            .iter()
            .all(|i| !s.folds[3].contains(i) && !s.test.contains(i)));
    }

    #[test]
    fn the_seed_fixes_the_split() {
        let l = labels(500);
        assert_eq!(
            stratified_kfold(&l, 5, 0.2, 7).unwrap(),
            stratified_kfold(&l, 5, 0.2, 7).unwrap()
        );
        assert_ne!(
            stratified_kfold(&l, 5, 0.2, 7).unwrap(),
            stratified_kfold(&l, 5, 0.2, 8).unwrap()
        );
    }

    #[test]
    fn impossible_splits_are_refused() {
        assert_eq!(
            stratified_kfold(&labels(10), 1, 0.1, 0).unwrap_err(),
            SplitError::Folds { k: 1, n: 9 }
        );
        assert!(stratified_kfold(&labels(10), 2, 1.0, 0).is_err());
        // Issue #19: one class only is refused before anything is trained, with the counts.
        assert_eq!(
            stratified_kfold(&[true; 7], 2, 0.0, 0).unwrap_err(),
            SplitError::OneClass {
                lenses: 7,
                others: 0
            }
        );
        let e = stratified_kfold(&[false; 5], 2, 0.2, 0).unwrap_err();
        assert!(e.to_string().contains("0 lenses and 5 non-lenses"), "{e}");
    }
}
