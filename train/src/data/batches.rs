//! Batches for the network, read from a dataset a batch at a time: each band clipped and scaled
//! with bounds learnt on the training split, augmented (training only) with one random
//! transform per system shared by all its bands, stacked into the branches' tensors, and
//! resized to the branches' sizes when the configuration asks for it.

use burn::tensor::backend::Backend;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
use burn::tensor::{Int, Tensor, TensorData};
use ndarray::{s, Array2, Array3};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::data::augment::Transform;
use crate::data::preprocess::{BandScaling, Clipping};
use crate::data::{DataError, Dataset};
use crate::fit::epochs::Batch;
use crate::model::two_branch::Branches;

/// The clipping bounds of every band a network reads, learnt on its training split and stored
/// with the model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scalings {
    /// The clipping that made them.
    pub clipping: Clipping,
    /// (band, bounds) of the VIS branch, if any.
    pub vis: Option<(String, BandScaling)>,
    /// (band, bounds) of the NIR branch's bands, in channel order.
    pub nir: Vec<(String, BandScaling)>,
}

/// A ChaCha8 stream for (seed, a, b): splits, shuffles and augmentation draw from their own.
pub fn stream(seed: u64, a: u64, b: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((a << 32) ^ b);
    rng
}

/// Images [n, c, h, w] resized to `size` × `size` pixels (unchanged when `size` is 0 or already
/// theirs): bilinear interpolation with half-pixel centres, clamped at the edges, as PyTorch's
/// `interpolate(mode="bilinear", align_corners=False, antialias=False)` and TensorFlow 2's
/// `tf.image.resize(method="bilinear")`; shrinking does not low-pass filter first. Burn's
/// `interpolate`, so the same on every backend.
pub fn resize_square<B: Backend>(images: Tensor<B, 4>, size: usize) -> Tensor<B, 4> {
    let [_, _, h, w] = images.dims();
    if size == 0 || (h, w) == (size, size) {
        return images;
    }
    let options = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false);
    interpolate(images, [size, size], options)
}

/// Reads batches of one dataset for one configuration.
pub struct BatchReader<'a> {
    data: &'a Dataset,
    config: &'a TrainConfig,
    labels: &'a [bool],
}

impl<'a> BatchReader<'a> {
    /// A reader of `data` (labelled by `labels`) for `config`.
    pub fn new(data: &'a Dataset, config: &'a TrainConfig, labels: &'a [bool]) -> Self {
        Self {
            data,
            config,
            labels,
        }
    }

    fn uses_vis(&self) -> bool {
        self.config.model.branches != Branches::Nir
    }

    fn uses_nir(&self) -> bool {
        self.config.model.branches != Branches::Vis
    }

    /// Learns each band's bounds from the pixels of up to `data.percentile_sample` systems of
    /// `training` (a sample drawn with `seed`), over the band's full pixel distribution.
    pub fn fit_scalings(&self, training: &[usize], seed: u64) -> Result<Scalings, DataError> {
        let mut sample = training.to_vec();
        sample.shuffle(&mut stream(seed, 0xC11, 0));
        sample.truncate(self.config.data.percentile_sample);
        sample.sort_unstable();
        let clipping = self.config.preprocess.clipping;
        let fit = |band: &str| -> Result<(String, BandScaling), DataError> {
            let mut pixels = self
                .data
                .read_images(band, &sample)?
                .into_raw_vec_and_offset()
                .0;
            let s = BandScaling::fit(clipping, &mut pixels).ok_or_else(|| DataError::Format {
                file: self.config.data.file.clone(),
                message: format!("band {band}: no finite pixels to learn its clipping from"),
            })?;
            Ok((band.to_string(), s))
        };
        let vis = if self.uses_vis() {
            Some(fit(&self.config.data.vis_band)?)
        } else {
            None
        };
        let nir = if self.uses_nir() {
            self.config
                .data
                .nir_bands
                .iter()
                .map(|b| fit(b))
                .collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(Scalings { clipping, vis, nir })
    }

    /// The batch of systems `indices`: scaled with `scalings` and, when `augment` is
    /// `Some((seed, epoch))`, each system transformed at random (its own stream of that seed
    /// and epoch, so a resumed run draws the same transforms).
    pub fn batch<B: Backend>(
        &self,
        indices: &[usize],
        scalings: &Scalings,
        augment: Option<(u64, u64)>,
        device: &B::Device,
    ) -> Result<Batch<B>, DataError> {
        let n = indices.len();
        let transforms: Vec<Transform> = indices
            .iter()
            .map(|&i| match augment {
                Some((seed, epoch)) => Transform::random(&mut stream(seed, epoch + 1, i as u64)),
                None => Transform::IDENTITY,
            })
            .collect();
        let prepare = |band: &str, scaling: &BandScaling| -> Result<Array3<f32>, DataError> {
            let mut images = self.data.read_images(band, indices)?;
            for (k, t) in transforms.iter().enumerate() {
                let mut img: Array2<f32> = images.slice(s![k, .., ..]).to_owned();
                if let Some(v) = img.as_slice_mut() {
                    scaling.apply(v);
                }
                if *t != Transform::IDENTITY {
                    img = t.apply(&img);
                }
                images.slice_mut(s![k, .., ..]).assign(&img);
            }
            Ok(images)
        };
        let vis = match &scalings.vis {
            Some((band, sc)) => {
                let a = prepare(band, sc)?;
                let (_, h, w) = a.dim();
                let data = TensorData::new(a.into_raw_vec_and_offset().0, [n, 1, h, w]);
                let t = Tensor::<B, 4>::from_data(data, device);
                Some(resize_square(t, self.config.data.vis_size))
            }
            None => None,
        };
        let nir = if scalings.nir.is_empty() {
            None
        } else {
            let stacks = scalings
                .nir
                .iter()
                .map(|(b, sc)| prepare(b, sc))
                .collect::<Result<Vec<_>, _>>()?;
            let (_, h, w) = stacks[0].dim();
            // [n, 3, h, w]: system-major, then band.
            let mut v = Vec::with_capacity(n * 3 * h * w);
            for k in 0..n {
                for st in &stacks {
                    v.extend(st.slice(s![k, .., ..]).iter().copied());
                }
            }
            let t = Tensor::<B, 4>::from_data(TensorData::new(v, [n, stacks.len(), h, w]), device);
            Some(resize_square(t, self.config.data.nir_size))
        };
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(self.labels[i])).collect();
        Ok(Batch {
            vis,
            nir,
            labels: Tensor::<B, 2, Int>::from_data(TensorData::new(labels, [n, 1]), device),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::Cpu;

    /// Bilinear interpolation reproduces a linear ramp exactly at every output pixel centre
    /// whose source position lies inside the input; with half-pixel centres the output pixel j
    /// of n sits at input position (j + ½)·m/n − ½ (clamped to [0, m − 1] at the edges), which is
    /// what PyTorch's `align_corners=False` means; `align_corners=True` would put it at
    /// j·(m − 1)/(n − 1).
    #[test]
    fn resizing_follows_half_pixel_centres() {
        let device = Default::default();
        for (m, n) in [(101usize, 200usize), (101, 66), (20, 32)] {
            // f(y, x) = 2x + 3y on an m × m input.
            let v: Vec<f32> = (0..m * m)
                .map(|k| (2 * (k % m) + 3 * (k / m)) as f32)
                .collect();
            let t = Tensor::<Cpu, 4>::from_data(TensorData::new(v, [1, 1, m, m]), &device);
            let out: Vec<f32> = resize_square(t, n).into_data().to_vec().unwrap();
            assert_eq!(out.len(), n * n);
            let at = |j: usize| {
                ((j as f64 + 0.5) * m as f64 / n as f64 - 0.5).clamp(0.0, (m - 1) as f64)
            };
            for y in 0..n {
                for x in 0..n {
                    let expected = 2.0 * at(x) + 3.0 * at(y);
                    let got = f64::from(out[y * n + x]);
                    assert!(
                        (got - expected).abs() < 1e-3,
                        "{m}→{n} ({y}, {x}): {got} vs {expected}"
                    );
                }
            }
        }
        // Size 0, or the same size, leaves the images alone.
        let t =
            Tensor::<Cpu, 4>::from_data(TensorData::new(vec![1.0f32; 8], [2, 1, 2, 2]), &device);
        assert_eq!(resize_square(t.clone(), 0).dims(), [2, 1, 2, 2]);
        assert_eq!(resize_square(t, 2).dims(), [2, 1, 2, 2]);
    }
}
