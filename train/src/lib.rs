//! lensforge's trainer: the lens finder's training, metrics and reports.
//!
//! So far: [`metrics`], the figures every lens finder is judged by (ROC AUC, PR AUC, F_β
//! maximised over the threshold), behind `train metrics`; [`data`] (reading datasets and
//! relabelling them), [`split`] (test set and k folds),
//! [`preprocess`] (percentile clipping) and [`augment`] (rotation, mirroring, zoom). The
//! two-branch network and its training loop come with Burn in the next steps of issue #6.

#![warn(missing_docs)]

pub mod augment;
pub mod data;
pub mod metrics;
pub mod preprocess;
pub mod scores;
pub mod split;
