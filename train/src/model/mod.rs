//! The networks: EfficientNet B0–B2 and the two-branch lens finder built from them, and the
//! loading of pretrained EfficientNet weights.

pub mod batch_norm;
pub mod depthwise;
pub mod efficientnet;
pub mod im2col;
pub mod jacobs;
pub mod pointwise;
pub mod pretrained;
pub mod stem;
pub mod two_branch;
pub mod vit;
