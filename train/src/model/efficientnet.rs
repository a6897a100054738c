//! EfficientNet B0, B1 and B2 (Tan & Le 2019), as Keras builds them (`keras.applications`),
//! which the II SGLC winners used: MBConv blocks with squeeze-and-excitation, TensorFlow
//! 'same' padding (asymmetric for stride 2, which Burn's `PaddingConfig2d::Same` matches),
//! swish activations, BatchNorm with ε = 1e-3 and Keras momentum 0.99 (0.01 in Burn's
//! convention), per-sample drop-connect on the residual branches, and compound scaling of
//! widths (multiples of 8) and depths. The network ends at the global-average-pooled features
//! of the 1×1 "top" convolution; the classifier head belongs to the model that uses it.

use burn::module::Module;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::tensor::activation::{sigmoid, silu};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use serde::{Deserialize, Serialize};

use crate::model::batch_norm::BatchNorm;
use crate::model::depthwise::DepthwiseConv;
use crate::model::pointwise::Pointwise;
use crate::model::stem::StemConv;
use crate::ops::{Activation, TrainOps};

/// Keras's BatchNorm ε.
const BN_EPSILON: f64 = 1e-3;
/// Keras's BatchNorm momentum 0.99, as Burn's (1 − 0.99).
pub const KERAS_BN_MOMENTUM: f64 = 0.01;

/// Which member of the family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// Width 1.0, depth 1.0 (224 px native).
    B0,
    /// Width 1.0, depth 1.1 (240 px native).
    B1,
    /// Width 1.1, depth 1.2 (260 px native).
    B2,
}

impl Variant {
    /// (width, depth) coefficients, Tan & Le (2019) Table/§3.3 as Keras uses them.
    pub fn coefficients(self) -> (f64, f64) {
        match self {
            Variant::B0 => (1.0, 1.0),
            Variant::B1 => (1.0, 1.1),
            Variant::B2 => (1.1, 1.2),
        }
    }
}

/// One stage of the B0 baseline: kernel, repeats, filters in and out, expansion, stride.
#[derive(Clone, Copy, Debug)]
struct Stage {
    kernel: usize,
    repeats: usize,
    filters_in: usize,
    filters_out: usize,
    expand: usize,
    stride: usize,
}

/// The B0 baseline (Tan & Le 2019, Table 1); squeeze-and-excitation ratio 0.25 throughout.
const B0_STAGES: [Stage; 7] = [
    Stage {
        kernel: 3,
        repeats: 1,
        filters_in: 32,
        filters_out: 16,
        expand: 1,
        stride: 1,
    },
    Stage {
        kernel: 3,
        repeats: 2,
        filters_in: 16,
        filters_out: 24,
        expand: 6,
        stride: 2,
    },
    Stage {
        kernel: 5,
        repeats: 2,
        filters_in: 24,
        filters_out: 40,
        expand: 6,
        stride: 2,
    },
    Stage {
        kernel: 3,
        repeats: 3,
        filters_in: 40,
        filters_out: 80,
        expand: 6,
        stride: 2,
    },
    Stage {
        kernel: 5,
        repeats: 3,
        filters_in: 80,
        filters_out: 112,
        expand: 6,
        stride: 1,
    },
    Stage {
        kernel: 5,
        repeats: 4,
        filters_in: 112,
        filters_out: 192,
        expand: 6,
        stride: 2,
    },
    Stage {
        kernel: 3,
        repeats: 1,
        filters_in: 192,
        filters_out: 320,
        expand: 6,
        stride: 1,
    },
];
/// Squeeze-and-excitation ratio of the block's input filters.
const SE_RATIO: f64 = 0.25;

/// The blocks of a network of compound depth `depth`, in order: (stage from 0, index in the
/// stage from 0, expansion ratio), as timm and Keras number them.
pub fn block_layout(depth: f64) -> Vec<(usize, usize, usize)> {
    B0_STAGES
        .iter()
        .enumerate()
        .flat_map(|(s, st)| (0..round_repeats(st.repeats, depth)).map(move |i| (s, i, st.expand)))
        .collect()
}

/// Filters scaled by `width`, rounded to a multiple of 8 and never more than 10 % below.
pub fn round_filters(filters: usize, width: f64) -> usize {
    let f = filters as f64 * width;
    let mut rounded = (((f + 4.0) as usize) / 8 * 8).max(8);
    if (rounded as f64) < 0.9 * f {
        rounded += 8;
    }
    rounded
}

/// Repeats scaled by `depth`, rounded up.
pub fn round_repeats(repeats: usize, depth: f64) -> usize {
    (depth * repeats as f64).ceil() as usize
}

fn bn<B: Backend>(c: usize, momentum: f64, device: &B::Device) -> BatchNorm<B> {
    BatchNorm::new(c, BN_EPSILON, momentum, device)
}

/// An inverted-residual (MBConv) block with squeeze-and-excitation.
#[derive(Module, Debug)]
pub struct MbConv<B: Backend> {
    expand: Option<Pointwise<B>>,
    expand_bn: Option<BatchNorm<B>>,
    depthwise: DepthwiseConv<B>,
    depthwise_bn: BatchNorm<B>,
    se_reduce: Pointwise<B>,
    se_expand: Pointwise<B>,
    project: Pointwise<B>,
    project_bn: BatchNorm<B>,
    pool: AdaptiveAvgPool2d,
    residual: bool,
    drop_rate: f64,
}

impl<B: TrainOps> MbConv<B> {
    /// A block of stage `s` scaled to `cin` → `cout` filters at `stride`.
    fn new(
        s: Stage,
        cin: usize,
        cout: usize,
        stride: usize,
        drop_rate: f64,
        bn_momentum: f64,
        device: &B::Device,
    ) -> Self {
        let (kernel, expand) = (s.kernel, s.expand);
        let cexp = cin * expand;
        let cse = ((cin as f64 * SE_RATIO) as usize).max(1);
        Self {
            expand: (expand != 1).then(|| Pointwise::new(cin, cexp, false, device)),
            expand_bn: (expand != 1).then(|| bn(cexp, bn_momentum, device)),
            depthwise: DepthwiseConv::new(cexp, kernel, stride, device),
            depthwise_bn: bn(cexp, bn_momentum, device),
            se_reduce: Pointwise::new(cexp, cse, true, device),
            se_expand: Pointwise::new(cse, cexp, true, device),
            project: Pointwise::new(cexp, cout, false, device),
            project_bn: bn(cout, bn_momentum, device),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            residual: stride == 1 && cin == cout,
            drop_rate,
        }
    }

    /// The block on [batch, channels, height, width]; `training` turns drop-connect on.
    pub fn forward(&self, x: Tensor<B, 4>, training: bool) -> Tensor<B, 4> {
        let mut h = x.clone();
        if let (Some(c), Some(n)) = (&self.expand, &self.expand_bn) {
            h = n.forward(c.forward(h), Activation::Silu);
        }
        h = self
            .depthwise_bn
            .forward(self.depthwise.forward(h), Activation::Silu);
        let s = self.pool.forward(h.clone());
        let s = sigmoid(self.se_expand.forward(silu(self.se_reduce.forward(s))));
        h = h * s;
        h = self
            .project_bn
            .forward(self.project.forward(h), Activation::Identity);
        if !self.residual {
            return h;
        }
        if training && self.drop_rate > 0.0 {
            // Per-sample drop-connect: keep each sample's branch with probability 1 − p, scaled.
            let keep = 1.0 - self.drop_rate;
            let [n, _, _, _] = h.dims();
            let mask =
                Tensor::<B, 4>::random([n, 1, 1, 1], Distribution::Bernoulli(keep), &h.device());
            h = h * mask / keep;
        }
        h + x
    }
}

/// The EfficientNet feature extractor (stem, MBConv stages, top convolution, global pooling).
#[derive(Module, Debug)]
pub struct EfficientNet<B: Backend> {
    stem: StemConv<B>,
    stem_bn: BatchNorm<B>,
    blocks: Vec<MbConv<B>>,
    top: Pointwise<B>,
    top_bn: BatchNorm<B>,
    pool: AdaptiveAvgPool2d,
    features: usize,
}

impl<B: TrainOps> EfficientNet<B> {
    /// A freshly initialised network for `in_channels` input channels; drop-connect rises
    /// linearly over the blocks to `drop_connect_rate` (Keras: 0.2).
    pub fn new(
        variant: Variant,
        in_channels: usize,
        drop_connect_rate: f64,
        device: &B::Device,
    ) -> Self {
        let (width, depth) = variant.coefficients();
        Self::scaled(
            width,
            depth,
            in_channels,
            drop_connect_rate,
            KERAS_BN_MOMENTUM,
            device,
        )
    }

    /// The same architecture at any compound scaling (width, depth; B0 is (1, 1)) and BatchNorm
    /// momentum in Burn's convention (Keras's is [`KERAS_BN_MOMENTUM`]). Small scalings and a
    /// faster momentum make the quick networks that tests train on a CPU.
    pub fn scaled(
        width: f64,
        depth: f64,
        in_channels: usize,
        drop_connect_rate: f64,
        bn_momentum: f64,
        device: &B::Device,
    ) -> Self {
        let stem_out = round_filters(32, width);
        let total: usize = B0_STAGES
            .iter()
            .map(|s| round_repeats(s.repeats, depth))
            .sum();
        let mut blocks = Vec::with_capacity(total);
        for s in B0_STAGES {
            let (fin, fout) = (
                round_filters(s.filters_in, width),
                round_filters(s.filters_out, width),
            );
            for r in 0..round_repeats(s.repeats, depth) {
                let rate = drop_connect_rate * blocks.len() as f64 / total as f64;
                let (cin, stride) = if r == 0 { (fin, s.stride) } else { (fout, 1) };
                blocks.push(MbConv::new(s, cin, fout, stride, rate, bn_momentum, device));
            }
        }
        let top_in = round_filters(320, width);
        let features = round_filters(1280, width);
        Self {
            stem: StemConv::new(in_channels, stem_out, device),
            stem_bn: bn(stem_out, bn_momentum, device),
            blocks,
            top: Pointwise::new(top_in, features, false, device),
            top_bn: bn(features, bn_momentum, device),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            features,
        }
    }

    /// Length of the pooled feature vector.
    pub fn features(&self) -> usize {
        self.features
    }

    /// Pooled features [batch, features] of images [batch, channels, height, width].
    pub fn forward(&self, x: Tensor<B, 4>, training: bool) -> Tensor<B, 2> {
        let mut h = self.stem_bn.forward(self.stem.forward(x), Activation::Silu);
        for b in &self.blocks {
            h = b.forward(h, training);
        }
        h = self.top_bn.forward(self.top.forward(h), Activation::Silu);
        let [n, c, _, _] = h.dims();
        self.pool.forward(h).reshape([n, c])
    }

    /// Its parts in order, each a step of [`EfficientNet::forward`] on the one before's output:
    /// the stem (convolution, BatchNorm, SiLU), every MBConv block, and the top (pointwise
    /// convolution, BatchNorm, SiLU, pooling, as [batch, features, 1, 1]).
    pub fn parts(&self) -> usize {
        self.blocks.len() + 2
    }

    /// Part `i`'s name ([`EfficientNet::parts`]).
    pub fn part_name(&self, i: usize) -> String {
        match i {
            0 => "stem".into(),
            i if i <= self.blocks.len() => format!("block {}", i - 1),
            _ => "top".into(),
        }
    }

    /// Part `i` ([`EfficientNet::parts`]) on its input.
    pub fn forward_part(&self, i: usize, x: Tensor<B, 4>, training: bool) -> Tensor<B, 4> {
        match i {
            0 => self.stem_bn.forward(self.stem.forward(x), Activation::Silu),
            i if i <= self.blocks.len() => self.blocks[i - 1].forward(x, training),
            _ => self
                .pool
                .forward(self.top_bn.forward(self.top.forward(x), Activation::Silu)),
        }
    }

    /// The same forward pass, keeping every stage's output: the stem's convolution, the stem
    /// (after BatchNorm and SiLU), each block, the top, and the pooled features (as
    /// [batch, features, 1, 1]), with their names. For comparing backends stage by stage.
    pub fn forward_stages(&self, x: Tensor<B, 4>, training: bool) -> Vec<(String, Tensor<B, 4>)> {
        let mut out = Vec::new();
        let conv = self.stem.forward(x);
        out.push(("stem conv".to_string(), conv.clone()));
        let mut h = self.stem_bn.forward(conv, Activation::Silu);
        out.push(("stem".to_string(), h.clone()));
        for (i, b) in self.blocks.iter().enumerate() {
            h = b.forward(h, training);
            out.push((format!("block {i}"), h.clone()));
        }
        h = self.top_bn.forward(self.top.forward(h), Activation::Silu);
        out.push(("top".to_string(), h.clone()));
        out.push(("pooled".to_string(), self.pool.forward(h)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_repeats_round_as_keras_does() {
        // B2: width 1.1 → 32 → 32 (35.2 rounds down to 32, within 10 %), 1280 → 1408, 320 → 352.
        assert_eq!(round_filters(32, 1.1), 32);
        assert_eq!(round_filters(1280, 1.1), 1408);
        assert_eq!(round_filters(320, 1.1), 352);
        assert_eq!(round_filters(16, 1.0), 16);
        // B2 depth 1.2: 1 → 2, 2 → 3, 3 → 4, 4 → 5 repeats.
        assert_eq!([1, 2, 3, 4].map(|r| round_repeats(r, 1.2)), [2, 3, 4, 5]);
    }
}
