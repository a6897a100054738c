//! Training: the optimiser (and, next, the loop over epochs and folds).

pub mod epochs;
pub mod kfold;
pub mod radam;
