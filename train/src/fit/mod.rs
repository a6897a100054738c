//! Training: the optimiser, the loop over epochs, the k-fold run (`train run`) and the move to
//! another survey (`train finetune`), and their figures ([`plots`]).

pub mod epochs;
pub mod finetune;
pub mod kfold;
pub mod plots;
pub mod radam;
