//! A Vision Transformer lens finder (Dosovitskiy et al. 2021; the DES study's ViT-B/16):
//! images resized bilinearly to `image` pixels, cut into `patch` × `patch` patches embedded
//! by one strided convolution, a learnt class token and learnt position embeddings, `layers`
//! pre-norm transformer encoder layers of `width` channels, `heads` heads and a 4 × `width`
//! GELU MLP, and a final layer norm; the class token's `width` values are the features the
//! lens finder's dense layer turns into a logit. ViT-B/16 (224, 16, 768, 12 layers, 12 heads)
//! is the default; smaller widths train on a CPU.

use burn::module::{Module, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::transformer::{
    TransformerEncoder, TransformerEncoderConfig, TransformerEncoderInput,
};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig};
use burn::tensor::backend::Backend;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

/// The transformer's shape (`[model.vit]` in the training configuration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitShape {
    /// Side the stamps are resized to, pixels (a multiple of `patch`).
    pub image: usize,
    /// Patch side, pixels.
    pub patch: usize,
    /// Channels of every token.
    pub width: usize,
    /// Encoder layers.
    pub layers: usize,
    /// Attention heads (dividing `width`).
    pub heads: usize,
}

impl Default for VitShape {
    /// ViT-B/16.
    fn default() -> Self {
        Self {
            image: 224,
            patch: 16,
            width: 768,
            layers: 12,
            heads: 12,
        }
    }
}

impl VitShape {
    /// What is wrong with the shape, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.patch == 0 || self.image == 0 || !self.image.is_multiple_of(self.patch) {
            return Some(format!(
                "image {} must be a positive multiple of patch {}",
                self.image, self.patch
            ));
        }
        if self.heads == 0 || self.width == 0 || !self.width.is_multiple_of(self.heads) {
            return Some(format!(
                "width {} must be a positive multiple of heads {}",
                self.width, self.heads
            ));
        }
        (self.layers == 0).then(|| "layers must be at least 1".into())
    }
}

/// The transformer up to the class token's features.
#[derive(Module, Debug)]
pub struct VisionTransformer<B: Backend> {
    embed: Conv2d<B>,
    class_token: Param<Tensor<B, 3>>,
    position: Param<Tensor<B, 3>>,
    encoder: TransformerEncoder<B>,
    norm: LayerNorm<B>,
    image: usize,
}

impl<B: Backend> VisionTransformer<B> {
    /// A freshly initialised transformer for images of `bands` channels (`shape` checked by
    /// [`VitShape::problem`]). Tokens and positions start as N(0, 0.02²), as timm's do.
    pub fn new(bands: usize, shape: VitShape, device: &B::Device) -> Self {
        let grid = shape.image / shape.patch;
        let small = Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        };
        Self {
            embed: Conv2dConfig::new([bands, shape.width], [shape.patch, shape.patch])
                .with_stride([shape.patch, shape.patch])
                .init(device),
            class_token: small.init([1, 1, shape.width], device),
            position: small.init([1, grid * grid + 1, shape.width], device),
            encoder: TransformerEncoderConfig::new(
                shape.width,
                4 * shape.width,
                shape.heads,
                shape.layers,
            )
            .with_dropout(0.0)
            .with_norm_first(true)
            .with_layer_norm_eps(1e-6)
            .init(device),
            norm: LayerNormConfig::new(shape.width)
                .with_epsilon(1e-6)
                .init(device),
            image: shape.image,
        }
    }

    /// Features per image.
    pub fn features(&self) -> usize {
        self.class_token.dims()[2]
    }

    /// Class-token features [batch, width] of images [batch, bands, H, W].
    pub fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let [batch, _, h, w] = x.dims();
        let x = if (h, w) == (self.image, self.image) {
            x
        } else {
            let options =
                InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false);
            interpolate(x, [self.image, self.image], options)
        };
        // [batch, width, g, g] → [batch, g², width]
        let tokens = self.embed.forward(x).flatten::<3>(2, 3).swap_dims(1, 2);
        let width = self.features();
        let class = self.class_token.val().expand([batch, 1, width]);
        let x = Tensor::cat(vec![class, tokens], 1) + self.position.val();
        let x = self
            .norm
            .forward(self.encoder.forward(TransformerEncoderInput::new(x)));
        x.slice([0..batch, 0..1, 0..width]).reshape([batch, width])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;

    #[test]
    fn vit_b16_has_timms_parameter_count() {
        // timm's vit_base_patch16_224 without its classifier (num_classes=0) has 85,798,656
        // parameters: patch embedding 768·3·16² + 768, class token 768, positions 197·768,
        // 12 layers of (2 layer norms 4·768, attention 4·(768² + 768), MLP 2·768·3072 + 3072 +
        // 768) and a final layer norm 2·768.
        let device = Default::default();
        let vit = VisionTransformer::<Cpu>::new(3, VitShape::default(), &device);
        let layer = 4 * 768 + 4 * (768 * 768 + 768) + 2 * 768 * 3072 + 3072 + 768;
        let want = 768 * 3 * 256 + 768 + 768 + 197 * 768 + 12 * layer + 2 * 768;
        assert_eq!(want, 85_798_656);
        assert_eq!(vit.num_params(), want);
    }

    #[test]
    fn any_stamp_gives_width_features() {
        let device = Default::default();
        let shape = VitShape {
            image: 32,
            patch: 8,
            width: 24,
            layers: 2,
            heads: 3,
        };
        let vit = VisionTransformer::<Cpu>::new(3, shape, &device);
        for side in [32, 45, 100] {
            assert_eq!(
                vit.forward(Tensor::zeros([2, 3, side, side], &device))
                    .dims(),
                [2, 24]
            );
        }
        assert!(VitShape { patch: 5, ..shape }.problem().is_some());
        assert!(VitShape { heads: 5, ..shape }.problem().is_some());
        assert!(shape.problem().is_none());
    }
}
