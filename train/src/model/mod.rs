//! The networks: EfficientNet B0–B2 and the two-branch lens finder built from them.

pub mod efficientnet;
pub mod two_branch;
