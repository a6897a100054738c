//! The lens finders built from EfficientNets (the seed paper's Fig. 5): one branch on the VIS
//! image, one on the near-infrared H, J, Y images, or both with their pooled features
//! concatenated before a dropout (0.3) and the final fully connected layer, which gives one
//! logit per system. The same frame holds the DES study's other finders on one multi-band
//! image (the `nir` input): a Jacobs-style CNN ([`super::jacobs`]) or a Vision Transformer
//! ([`super::vit`]), whose features feed the same dropout and dense layer.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::backend::Backend;

use crate::ops::{matmul, TrainOps};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::efficientnet::{EfficientNet, Variant, KERAS_BN_MOMENTUM};
use super::jacobs::JacobsCnn;
use super::vit::{VisionTransformer, VitShape};

/// Dropout before the final dense layer: the seed paper's choice for every size (Keras's own
/// EfficientNet top dropout is 0.2 for B0 and B1, 0.3 for B2).
pub const TOP_DROPOUT: f64 = 0.3;

/// How the one-band VIS image fills an EfficientNet's three input channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisChannels {
    /// The VIS image in all three channels.
    Repeated,
    /// The VIS image in the first channel, zeros in the others.
    Zeros,
}

/// Which branches the network has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Branches {
    /// VIS only.
    Vis,
    /// Near-infrared (H, J, Y) only.
    Nir,
    /// Both, features concatenated.
    Both,
}

/// The network that extracts a lens finder's features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Architecture {
    /// One or two EfficientNet branches.
    #[default]
    EfficientNet,
    /// A Jacobs-style CNN on the multi-band image.
    Jacobs,
    /// A Vision Transformer on the multi-band image.
    Vit,
}

/// A lens finder: one or two EfficientNet branches, or a Jacobs CNN, or a Vision Transformer,
/// and a dense layer.
#[derive(Module, Debug)]
pub struct LensFinder<B: Backend> {
    vis: Option<EfficientNet<B>>,
    nir: Option<EfficientNet<B>>,
    jacobs: Option<JacobsCnn<B>>,
    vit: Option<VisionTransformer<B>>,
    dropout: Dropout,
    head: Linear<B>,
    repeat_vis: bool,
}

impl<B: TrainOps> LensFinder<B> {
    /// A freshly initialised network of EfficientNet `variant` branches.
    pub fn new(
        variant: Variant,
        branches: Branches,
        vis_channels: VisChannels,
        device: &B::Device,
    ) -> Self {
        let (width, depth) = variant.coefficients();
        Self::scaled(
            width,
            depth,
            KERAS_BN_MOMENTUM,
            branches,
            vis_channels,
            3,
            device,
        )
    }

    /// The same with branches at any compound scaling (width, depth) and BatchNorm momentum
    /// (Burn's convention), see [`EfficientNet::scaled`], and a NIR branch on `nir_bands`
    /// channels (3 for H, J, Y; 1 for the seed's Y + VIS).
    pub fn scaled(
        width: f64,
        depth: f64,
        bn_momentum: f64,
        branches: Branches,
        vis_channels: VisChannels,
        nir_bands: usize,
        device: &B::Device,
    ) -> Self {
        let branch = |bands| EfficientNet::scaled(width, depth, bands, 0.2, bn_momentum, device);
        let vis = (branches != Branches::Nir).then(|| branch(3));
        let nir = (branches != Branches::Vis).then(|| branch(nir_bands));
        let features = vis.as_ref().map_or(0, EfficientNet::features)
            + nir.as_ref().map_or(0, EfficientNet::features);
        Self {
            vis,
            nir,
            jacobs: None,
            vit: None,
            dropout: DropoutConfig::new(TOP_DROPOUT).init(),
            head: LinearConfig::new(features, 1).init(device),
            repeat_vis: vis_channels == VisChannels::Repeated,
        }
    }

    /// A Jacobs-style CNN on images of `bands` channels, and the dense layer.
    pub fn jacobs(bands: usize, device: &B::Device) -> Self {
        let net = JacobsCnn::new(bands, device);
        Self::single(net.features(), Some(net), None, device)
    }

    /// A Vision Transformer of `shape` on images of `bands` channels, and the dense layer.
    pub fn vit(bands: usize, shape: VitShape, device: &B::Device) -> Self {
        let net = VisionTransformer::new(bands, shape, device);
        Self::single(net.features(), None, Some(net), device)
    }

    fn single(
        features: usize,
        jacobs: Option<JacobsCnn<B>>,
        vit: Option<VisionTransformer<B>>,
        device: &B::Device,
    ) -> Self {
        Self {
            vis: None,
            nir: None,
            jacobs,
            vit,
            dropout: DropoutConfig::new(TOP_DROPOUT).init(),
            head: LinearConfig::new(features, 1).init(device),
            repeat_vis: false,
        }
    }

    /// The VIS branch's EfficientNet, if the network has one.
    pub fn vis_branch(&self) -> Option<&EfficientNet<B>> {
        self.vis.as_ref()
    }

    /// The near-infrared branch's EfficientNet, if the network has one.
    pub fn nir_branch(&self) -> Option<&EfficientNet<B>> {
        self.nir.as_ref()
    }

    /// The dense layer that turns the branches' pooled features into the logit.
    pub fn head(&self) -> &Linear<B> {
        &self.head
    }

    /// The names of the branches the network has (`vis`, `nir`), as its parameter paths begin.
    pub fn branch_names(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.vis.is_some() {
            v.push("vis");
        }
        if self.nir.is_some() {
            v.push("nir");
        }
        v
    }

    /// Logits [batch, 1] from VIS images [batch, 1, H, W] and NIR images [batch, 3, h, w]
    /// (either may be absent when its branch is; a Jacobs CNN or a transformer reads the NIR
    /// input, whatever its bands); `training` turns dropout and drop-connect on.
    pub fn forward(
        &self,
        vis: Option<Tensor<B, 4>>,
        nir: Option<Tensor<B, 4>>,
        training: bool,
    ) -> Tensor<B, 2> {
        let mut features = Vec::new();
        if let (Some(net), Some(x)) = (&self.vis, vis) {
            let x = if self.repeat_vis {
                Tensor::cat(vec![x.clone(), x.clone(), x], 1)
            } else {
                Tensor::cat(vec![x.clone(), x.zeros_like(), x.zeros_like()], 1)
            };
            features.push(net.forward(x, training));
        }
        if let (Some(net), Some(x)) = (&self.nir, nir.clone()) {
            features.push(net.forward(x, training));
        }
        if let (Some(net), Some(x)) = (&self.jacobs, nir.clone()) {
            features.push(net.forward(x, training));
        }
        if let (Some(net), Some(x)) = (&self.vit, nir) {
            features.push(net.forward(x));
        }
        let f = Tensor::cat(features, 1);
        let f = if training { self.dropout.forward(f) } else { f };
        // The dense layer as Burn's `Linear` computes it, through the precision-aware product.
        let [n, _] = f.dims();
        let bias = self.head.bias.as_ref().map(|b| b.val().reshape([1, 1]));
        let y = matmul(f, self.head.weight.val());
        match bias {
            Some(b) => y + b,
            None => y,
        }
        .reshape([n, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;

    #[test]
    fn two_branches_join_before_one_dense_layer() {
        let device = Default::default();
        let both =
            LensFinder::<Cpu>::new(Variant::B0, Branches::Both, VisChannels::Repeated, &device);
        let one = EfficientNet::<Cpu>::new(Variant::B0, 3, 0.2, &device);
        // Two B0 feature extractors and a 2560 → 1 dense layer.
        assert_eq!(both.num_params(), 2 * one.num_params() + 2 * 1280 + 1);
        let out = both.forward(
            Some(Tensor::zeros([2, 1, 200, 200], &device)),
            Some(Tensor::zeros([2, 3, 66, 66], &device)),
            false,
        );
        assert_eq!(out.dims(), [2, 1]);
        let vis = LensFinder::<Cpu>::new(Variant::B0, Branches::Vis, VisChannels::Zeros, &device);
        assert_eq!(vis.num_params(), one.num_params() + 1280 + 1);
        assert_eq!(
            vis.forward(Some(Tensor::zeros([1, 1, 200, 200], &device)), None, false)
                .dims(),
            [1, 1]
        );
    }

    #[test]
    fn a_one_band_nir_branch_has_a_one_channel_stem() {
        // The seed's Y + VIS: the NIR branch reads Y alone. Its stem's kernel is 3×3 over one
        // channel instead of three (stem width 32 for B0: 32·3·3·(3 − 1) fewer parameters), and
        // the network scores a one-band NIR image.
        let device = Default::default();
        let (w, d) = Variant::B0.coefficients();
        let make = |bands| {
            LensFinder::<Cpu>::scaled(
                w,
                d,
                0.01,
                Branches::Both,
                VisChannels::Zeros,
                bands,
                &device,
            )
        };
        assert_eq!(make(3).num_params() - make(1).num_params(), 32 * 3 * 3 * 2);
        let out = make(1).forward(
            Some(Tensor::zeros([2, 1, 64, 64], &device)),
            Some(Tensor::zeros([2, 1, 24, 24], &device)),
            false,
        );
        assert_eq!(out.dims(), [2, 1]);
    }
}
