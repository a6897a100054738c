//! lensforge's trainer: the lens finder's training, metrics and reports.
//!
//! So far: [`metrics`], the figures every lens finder is judged by (ROC AUC, PR AUC, F_β
//! maximised over the threshold), behind `train metrics`; [`data`] (reading datasets and
//! relabelling them), [`split`] (test set and k folds),
//! [`preprocess`] (percentile clipping), [`augment`] (rotation, mirroring, zoom) and
//! [`model`] (EfficientNet B0–B2 in Burn, checked against Keras's parameter counts, and the
//! one- or two-branch lens finder), and [`fit`] (Rectified Adam, checked against optax). The
//! training loop comes next (issue #6).

#![warn(missing_docs)]

pub mod augment;
pub mod batches;
pub mod config;
pub mod data;
pub mod fit;
pub mod metrics;
pub mod model;
pub mod preprocess;
pub mod report;
pub mod scores;
pub mod split;
