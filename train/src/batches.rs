//! Batches for the network, read from a dataset a batch at a time: each band clipped and scaled
//! with bounds learnt on the training split, augmented (training only) with one random
//! transform per system shared by all its bands, and stacked into the branches' tensors.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use ndarray::{s, Array2, Array3};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::augment::Transform;
use crate::config::TrainConfig;
use crate::data::{DataError, Dataset};
use crate::fit::epochs::Batch;
use crate::model::two_branch::Branches;
use crate::preprocess::{BandScaling, Clipping};

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
                Some(Tensor::<B, 4>::from_data(data, device))
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
            Some(Tensor::<B, 4>::from_data(
                TensorData::new(v, [n, stacks.len(), h, w]),
                device,
            ))
        };
        let labels: Vec<i64> = indices.iter().map(|&i| i64::from(self.labels[i])).collect();
        Ok(Batch {
            vis,
            nir,
            labels: Tensor::<B, 2, Int>::from_data(TensorData::new(labels, [n, 1]), device),
        })
    }
}
