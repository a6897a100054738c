//! lensforge's trainer: the lens finder's training, metrics and reports, grouped by job:
//! [`data`] (reading datasets, relabelling, splitting, clipping, augmenting, batching), [`model`]
//! (EfficientNet B0–B2, the Jacobs CNN and the ViT in Burn, and the one- or two-branch lens
//! finder), [`ops`] (its own backend operations: depthwise convolution, BatchNorm, RAdam's step,
//! on the CPU and in CubeCL), [`fit`] (Rectified Adam, the epoch loop, the k-fold run of
//! `train run` and `train finetune`'s move to another survey), [`evaluate`] (metrics, the
//! detection-limit sweep, the challenges' scoring), [`combine`] (several finders compared and
//! combined), [`explain`] (LIME), [`report`] (the plots), [`config`] (the run's configuration),
//! [`device`] (the backend each job runs on) and [`bench`] (`train bench`).

#![warn(missing_docs)]

pub mod bench;
pub mod combine;
pub mod config;
pub mod data;
pub mod device;
pub mod evaluate;
pub mod explain;
pub mod fit;
pub mod model;
pub mod ops;
pub mod report;
