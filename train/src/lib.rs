//! lensforge's trainer: the lens finder's training, metrics and reports.
//!
//! [`metrics`] (ROC AUC, PR AUC, F_β maximised over the threshold; `train metrics`), [`data`]
//! (reading datasets and relabelling them), [`split`] (test set and k folds), [`preprocess`]
//! (percentile clipping), [`augment`] (rotation, mirroring, zoom), [`batches`] (a dataset's
//! systems as the network's tensors), [`model`] (EfficientNet B0–B2 in Burn, checked against
//! Keras's parameter counts, and the one- or two-branch lens finder), [`fit`] (Rectified Adam,
//! the epoch loop, the k-fold run of `train run` and `train finetune`'s move to another survey), [`config`] (its configuration),
//! [`report`] (its plots), [`sweep`] (`train sweep-npix`, detection limits by N_pix), [`explain`] (`train explain`, LIME on
//! [`superpixels`]), [`bench`] (`train bench`), [`challenge`] (`train score`, the
//! challenges' figures for a submission to a blind set), [`tables`] (several finders' score
//! tables joined by ID), [`compare`] (`train compare`, their agreement), [`ensemble`]
//! (`train ensemble`, six ways of combining them) and [`isotonic`] (isotonic regression).

#![warn(missing_docs)]

pub mod augment;
pub mod batches;
pub mod bench;
pub mod challenge;
pub mod compare;
pub mod config;
pub mod data;
pub mod device;
pub mod ensemble;
pub mod explain;
pub mod fit;
pub mod isotonic;
pub mod metrics;
pub mod model;
pub mod ops;
pub mod preprocess;
pub mod report;
pub mod scores;
pub mod split;
pub mod superpixels;
pub mod sweep;
pub mod tables;
