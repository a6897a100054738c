//! `train explain`: LIME for images (Ribeiro, Singh & Guestrin 2016, "Why should I trust you?"),
//! as the `lime` package's `LimeImageExplainer` does it, on the two-branch lens finder.
//!
//! 1. The VIS stamp (the first NIR band for a NIR-only network), as the network sees it
//!    (clipped and scaled to [0, 1]), is cut into SLIC superpixels ([`crate::explain::superpixels`]);
//!    the NIR stamps take the same segments by sky position. This happens at the stored stamp
//!    size; a run that resizes its stamps (`data.vis_size`, `data.nir_size`) scores every
//!    perturbed copy resized, as it was trained.
//! 2. `samples` perturbed copies are drawn: each superpixel kept with probability ½, and a
//!    hidden one replaced, in every band, by its mean value there (LIME's default for images);
//!    the first copy keeps everything.
//! 3. The network scores every copy; a ridge regression (α = 1, with intercept) of the scores on
//!    the kept/hidden indicators, weighted by √exp(−d²/w²) with d the cosine distance of the
//!    indicators to all-kept and w = 0.25, gives each superpixel a weight.
//! 4. The two superpixels of largest positive weight speak for the lens class (green), the two
//!    of most negative weight for the non-lens class (yellow).

pub mod plot;
pub mod superpixels;

use ndarray::Array2;
use serde::Serialize;

use crate::data::batches::stream;
use crate::explain::superpixels::{count, resample, slic, SlicSettings};

/// LIME's settings (`train explain`'s arguments, but for the weights' kernel and penalty).
#[derive(Clone, Copy, Debug, PartialEq, clap::Args)]
pub struct LimeSettings {
    /// Perturbed copies scored per system.
    #[arg(long, default_value_t = 1000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(10..=1_000_000))]
    pub samples: usize,
    /// The kernel width w of the sample weights.
    #[arg(skip = 0.25)]
    pub kernel_width: f64,
    /// Ridge penalty α.
    #[arg(skip = 1.0)]
    pub ridge_alpha: f64,
    /// The superpixels.
    #[command(flatten)]
    pub slic: SlicSettings,
    /// Seed of the perturbations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

impl Default for LimeSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

/// One system's stamps as the network reads them (scaled to [0, 1]), with their pixel scales.
#[derive(Clone, Debug)]
pub struct Stamps {
    /// The VIS stamp and its pixel scale (arcsec), if the network has a VIS branch.
    pub vis: Option<(Array2<f32>, f64)>,
    /// The NIR stamps (channel order) and their pixel scale, if it has a NIR branch.
    pub nir: Option<(Vec<Array2<f32>>, f64)>,
}

impl Stamps {
    /// The stamp the superpixels are drawn on, and its pixel scale.
    fn reference(&self) -> (&Array2<f32>, f64) {
        match (&self.vis, &self.nir) {
            (Some((v, s)), _) => (v, *s),
            (None, Some((n, s))) => (&n[0], *s),
            (None, None) => panic!("a system has at least one branch's stamps"),
        }
    }
}

/// What LIME says of one system.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The network's score of the unperturbed system.
    pub score: f64,
    /// Superpixel labels on the reference stamp (VIS, else the first NIR band).
    #[serde(skip)]
    pub segments: Array2<u32>,
    /// Number of superpixels.
    pub n_segments: usize,
    /// Weight of each superpixel for the lens class (its coefficient in the local model).
    pub weights: Vec<f64>,
    /// The local model's intercept.
    pub intercept: f64,
    /// The (up to) two superpixels of largest positive weight: evidence for a lens.
    pub lens_segments: Vec<u32>,
    /// The (up to) two of most negative weight: evidence for a non-lens.
    pub non_lens_segments: Vec<u32>,
}

/// Each band's value with the superpixels where `keep` is false replaced by their mean.
fn perturb(
    image: &Array2<f32>,
    segments: &Array2<u32>,
    means: &[f32],
    keep: &[bool],
) -> Array2<f32> {
    let mut out = image.clone();
    for (v, &s) in out.iter_mut().zip(segments.iter()) {
        if !keep[s as usize] {
            *v = means[s as usize];
        }
    }
    out
}

fn segment_means(image: &Array2<f32>, segments: &Array2<u32>, k: usize) -> Vec<f32> {
    let mut sum = vec![0.0f64; k];
    let mut n = vec![0usize; k];
    for (&v, &s) in image.iter().zip(segments.iter()) {
        sum[s as usize] += v as f64;
        n[s as usize] += 1;
    }
    sum.iter()
        .zip(&n)
        .map(|(s, &c)| if c > 0 { (s / c as f64) as f32 } else { 0.0 })
        .collect()
}

/// The weighted ridge regression of `y` on the rows of `x` (weights `w`, penalty `alpha` on the
/// coefficients, not the intercept): (coefficients, intercept), as scikit-learn's
/// `Ridge(alpha).fit(x, y, sample_weight=w)`.
pub fn weighted_ridge(x: &[Vec<f64>], y: &[f64], w: &[f64], alpha: f64) -> (Vec<f64>, f64) {
    let k = x.first().map_or(0, Vec::len);
    let sw: f64 = w.iter().sum();
    let mean_x: Vec<f64> = (0..k)
        .map(|j| x.iter().zip(w).map(|(r, wi)| wi * r[j]).sum::<f64>() / sw)
        .collect();
    let mean_y = y.iter().zip(w).map(|(v, wi)| wi * v).sum::<f64>() / sw;
    let mut a = nalgebra::DMatrix::<f64>::zeros(k, k);
    let mut b = nalgebra::DVector::<f64>::zeros(k);
    for ((r, &yi), &wi) in x.iter().zip(y).zip(w) {
        let c: Vec<f64> = (0..k).map(|j| r[j] - mean_x[j]).collect();
        for p in 0..k {
            b[p] += wi * c[p] * (yi - mean_y);
            for q in 0..k {
                a[(p, q)] += wi * c[p] * c[q];
            }
        }
    }
    for p in 0..k {
        a[(p, p)] += alpha;
    }
    // α > 0 makes the matrix positive definite.
    let beta = a
        .cholesky()
        .map(|ch| ch.solve(&b))
        .unwrap_or_else(|| nalgebra::DVector::zeros(k));
    let coef: Vec<f64> = beta.iter().copied().collect();
    let intercept = mean_y - coef.iter().zip(&mean_x).map(|(c, m)| c * m).sum::<f64>();
    (coef, intercept)
}

/// Explains `stamps` for a network whose scores of a batch of perturbed copies `score` returns
/// (one per copy, in order).
pub fn explain(
    stamps: &Stamps,
    score: &mut dyn FnMut(&[Stamps]) -> Vec<f64>,
    settings: &LimeSettings,
) -> Explanation {
    use rand::RngExt;
    let (reference, ref_scale) = stamps.reference();
    let segments = slic(reference, &settings.slic);
    let k = count(&segments);
    let seg_of = |img: &Array2<f32>, scale: f64| -> Array2<u32> {
        if img.dim() == segments.dim() && scale == ref_scale {
            segments.clone()
        } else {
            resample(&segments, ref_scale, img.dim().0, scale)
        }
    };
    let vis = stamps.vis.as_ref().map(|(img, s)| {
        let seg = seg_of(img, *s);
        let means = segment_means(img, &seg, k);
        (img, *s, seg, means)
    });
    let nir: Option<Vec<_>> = stamps.nir.as_ref().map(|(imgs, s)| {
        imgs.iter()
            .map(|img| {
                let seg = seg_of(img, *s);
                let means = segment_means(img, &seg, k);
                (img, *s, seg, means)
            })
            .collect()
    });
    let mut rng = stream(settings.seed, 0x11_3e, 0);
    let masks: Vec<Vec<bool>> = (0..settings.samples.max(2))
        .map(|i| {
            (0..k)
                .map(|_| i == 0 || rng.random_range(0..2u8) == 1)
                .collect()
        })
        .collect();
    let mut scores = Vec::with_capacity(masks.len());
    const CHUNK: usize = 32;
    for chunk in masks.chunks(CHUNK) {
        let copies: Vec<Stamps> = chunk
            .iter()
            .map(|keep| Stamps {
                vis: vis
                    .as_ref()
                    .map(|(img, s, seg, means)| (perturb(img, seg, means, keep), *s)),
                nir: nir.as_ref().map(|bands| {
                    (
                        bands
                            .iter()
                            .map(|(img, _, seg, means)| perturb(img, seg, means, keep))
                            .collect(),
                        bands[0].1,
                    )
                }),
            })
            .collect();
        scores.extend(score(&copies));
    }
    let x: Vec<Vec<f64>> = masks
        .iter()
        .map(|m| m.iter().map(|&b| f64::from(u8::from(b))).collect())
        .collect();
    // Cosine distance to all-kept: 1 − n_kept/√(n_kept·k) = 1 − √(n_kept/k).
    let weights: Vec<f64> = masks
        .iter()
        .map(|m| {
            let kept = m.iter().filter(|&&b| b).count() as f64;
            let d = 1.0 - (kept / k as f64).sqrt();
            (-(d * d) / settings.kernel_width.powi(2)).exp().sqrt()
        })
        .collect();
    let (coef, intercept) = weighted_ridge(&x, &scores, &weights, settings.ridge_alpha);
    let mut order: Vec<u32> = (0..k as u32).collect();
    order.sort_by(|&a, &b| coef[b as usize].total_cmp(&coef[a as usize]));
    let lens_segments: Vec<u32> = order
        .iter()
        .copied()
        .filter(|&s| coef[s as usize] > 0.0)
        .take(2)
        .collect();
    let non_lens_segments: Vec<u32> = order
        .iter()
        .rev()
        .copied()
        .filter(|&s| coef[s as usize] < 0.0)
        .take(2)
        .collect();
    Explanation {
        score: scores[0],
        segments,
        n_segments: k,
        weights: coef,
        intercept,
        lens_segments,
        non_lens_segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ridge_matches_scikit_learn() {
        // tests/fixtures/ridge.json, made by tests/fixtures/make_ridge.py with scikit-learn's
        // Ridge(alpha=1.0).fit(X, y, sample_weight=w).
        let f: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/ridge.json")).unwrap();
        let rows = |v: &serde_json::Value| -> Vec<Vec<f64>> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_f64().unwrap())
                        .collect()
                })
                .collect()
        };
        let flat = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let (coef, intercept) = weighted_ridge(
            &rows(&f["x"]),
            &flat(&f["y"]),
            &flat(&f["w"]),
            f["alpha"].as_f64().unwrap(),
        );
        for (a, b) in coef.iter().zip(flat(&f["coef"])) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        assert!((intercept - f["intercept"].as_f64().unwrap()).abs() < 1e-9);
    }

    #[test]
    fn a_scorer_that_looks_at_one_region_is_explained_by_it() {
        // A stand-in network: the score is the peak brightness in a 12×12 box at rows 30–41,
        // columns 44–55 of the VIS stamp (a peak, not a mean: hiding a superpixel keeps its
        // mean, so a mean over whole superpixels could not tell). The stamp holds several bright blobs; only the one in
        // the box matters, so the superpixel that covers the box ranks first for the lens class.
        let img = Array2::from_shape_fn((80, 80), |(y, x)| {
            let blob = |cy: f64, cx: f64| {
                (-((y as f64 - cy).powi(2) + (x as f64 - cx).powi(2)) / 30.0).exp()
            };
            (blob(36.0, 50.0) + blob(15.0, 15.0) + blob(65.0, 20.0) + blob(60.0, 65.0)) as f32
        });
        let stamps = Stamps {
            vis: Some((img, 0.1)),
            nir: None,
        };
        let mut scorer = |copies: &[Stamps]| -> Vec<f64> {
            copies
                .iter()
                .map(|c| {
                    let v = &c.vis.as_ref().unwrap().0;
                    v.slice(ndarray::s![30..42, 44..56])
                        .fold(f32::MIN, |m, &x| m.max(x)) as f64
                })
                .collect()
        };
        let settings = LimeSettings {
            samples: 400,
            slic: SlicSettings {
                n_segments: 25,
                compactness: 0.1,
                iterations: 10,
                sigma: 0.0,
            },
            ..LimeSettings::default()
        };
        let e = explain(&stamps, &mut scorer, &settings);
        let top = e.lens_segments[0];
        let in_box = e.segments.slice(ndarray::s![30..42, 44..56]);
        let share = in_box.iter().filter(|&&s| s == top).count() as f64 / in_box.len() as f64;
        assert!(share > 0.3, "the top superpixel covers {share} of the box");
        // Superpixels away from the box do not matter: their weights are near zero.
        let far = e.segments[[5, 75]] as usize;
        assert!(
            e.weights[far].abs() < 0.1 * e.weights[top as usize],
            "{:?}",
            e.weights
        );
        // The unperturbed copy is scored first.
        let peak = stamps
            .vis
            .as_ref()
            .unwrap()
            .0
            .slice(ndarray::s![30..42, 44..56])
            .fold(f32::MIN, |m, &x| m.max(x)) as f64;
        assert_eq!(e.score, peak);
    }
}

/// One explained system, as `explain.json` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct ExplainedSystem {
    /// Index of the system in the dataset.
    pub index: usize,
    /// Its label.
    pub is_lens: bool,
    /// The PNG drawn for it.
    pub png: String,
    /// What LIME found.
    #[serde(flatten)]
    pub explanation: Explanation,
}

/// Why `train explain` cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The run folder or the dataset.
    #[error(transparent)]
    Run(#[from] crate::fit::kfold::RunError),
    /// The dataset.
    #[error(transparent)]
    Data(#[from] crate::data::DataError),
    /// The configuration in the run folder.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The figure.
    #[error(transparent)]
    Plot(#[from] crate::report::PlotError),
    /// Anything else, with the path it concerns.
    #[error("{path}: {message}")]
    Other {
        /// The path.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// What to explain.
#[derive(Clone, Debug, PartialEq)]
pub enum Selection {
    /// These dataset indices.
    Systems(Vec<usize>),
    /// The first `n` lenses and `n` non-lenses of the run's test split.
    PerClass(usize),
}

/// Explains systems with fold `fold`'s model of the finished run in `run_dir`, scored on
/// backend `B`'s `device`, writing a PNG per system and `explain.json` into `out`.
pub fn explain_run<B: crate::ops::TrainOps>(
    run_dir: &std::path::Path,
    fold: usize,
    selection: &Selection,
    settings: &LimeSettings,
    out: &std::path::Path,
    device: &B::Device,
) -> Result<Vec<ExplainedSystem>, ExplainError> {
    use burn::tensor::{Tensor, TensorData};

    let config = crate::config::TrainConfig::from_file(&run_dir.join("config.toml"))?;
    let (data, labels) = crate::fit::kfold::open_labelled(&config)?;
    let systems: Vec<usize> = match selection {
        Selection::Systems(v) => {
            if let Some(&bad) = v.iter().find(|&&i| i >= data.len()) {
                return Err(ExplainError::Other {
                    path: config.data.file.clone(),
                    message: format!("system {bad} asked for; the dataset holds {}", data.len()),
                });
            }
            v.clone()
        }
        Selection::PerClass(n) => {
            let report = crate::fit::kfold::RunReport::read(run_dir)?;
            let labels = &labels;
            let pick = |lens: bool| -> Vec<usize> {
                report
                    .test_indices
                    .iter()
                    .copied()
                    .filter(|&i| labels[i] == lens)
                    .take(*n)
                    .collect()
            };
            [pick(true), pick(false)].concat()
        }
    };
    let (model, scalings) = crate::fit::kfold::load_fold::<B>(&config, run_dir, fold, device)?;
    let scale_of = |band: &str, size: usize| data.pixel_scale(band).unwrap_or(1.0 / size as f64);
    std::fs::create_dir_all(out).map_err(|e| ExplainError::Other {
        path: out.into(),
        message: e.to_string(),
    })?;
    let mut explained = Vec::new();
    for &i in &systems {
        let read = |band: &str,
                    sc: &crate::data::preprocess::BandScaling|
         -> Result<Array2<f32>, ExplainError> {
            let a = data.read_images(band, &[i])?;
            let mut img = a.index_axis(ndarray::Axis(0), 0).to_owned();
            if let Some(v) = img.as_slice_mut() {
                sc.apply(v);
            }
            Ok(img)
        };
        let vis = match &scalings.vis {
            Some((band, sc)) => {
                let img = read(band, sc)?;
                let scale = scale_of(band, img.dim().0);
                Some((img, scale))
            }
            None => None,
        };
        let nir = if scalings.nir.is_empty() {
            None
        } else {
            let imgs = scalings
                .nir
                .iter()
                .map(|(b, sc)| read(b, sc))
                .collect::<Result<Vec<_>, _>>()?;
            let scale = scale_of(&scalings.nir[0].0, imgs[0].dim().0);
            Some((imgs, scale))
        };
        let stamps = Stamps { vis, nir };
        let mut score = |copies: &[Stamps]| -> Vec<f64> {
            let n = copies.len();
            let stack = |planes: Vec<&Array2<f32>>, channels: usize| {
                let (h, w) = planes[0].dim();
                let v: Vec<f32> = planes.iter().flat_map(|p| p.iter().copied()).collect();
                Tensor::<B, 4>::from_data(TensorData::new(v, [n, channels, h, w]), device)
            };
            let vis = copies[0].vis.as_ref().map(|_| {
                let t = stack(
                    copies.iter().map(|c| &c.vis.as_ref().unwrap().0).collect(),
                    1,
                );
                crate::data::batches::resize_square(t, config.data.vis_size)
            });
            let nir = copies[0].nir.as_ref().map(|(bands, _)| {
                let t = stack(
                    copies
                        .iter()
                        .flat_map(|c| c.nir.as_ref().unwrap().0.iter())
                        .collect(),
                    bands.len(),
                );
                crate::data::batches::resize_square(t, config.data.nir_size)
            });
            let p = burn::tensor::activation::sigmoid(model.forward(vis, nir, false));
            let v: Vec<f32> = p.into_data().to_vec().expect("f32 probabilities");
            v.into_iter().map(f64::from).collect()
        };
        let explanation = explain(&stamps, &mut score, settings);
        let png = format!("system-{i}.png");
        let (reference, _) = stamps.reference();
        plot::plot_explanation(
            &out.join(&png),
            reference,
            &explanation,
            &format!(
                "system {i}: score {:.3}, truth {}",
                explanation.score,
                if labels[i] { "lens" } else { "non-lens" }
            ),
        )?;
        explained.push(ExplainedSystem {
            index: i,
            is_lens: labels[i],
            png,
            explanation,
        });
    }
    let json = out.join("explain.json");
    format::atomic::write_bytes(
        &json,
        serde_json::to_string_pretty(&explained)
            .expect("the explanations serialise")
            .as_bytes(),
    )
    .map_err(|e| ExplainError::Other {
        path: json,
        message: e.to_string(),
    })?;
    Ok(explained)
}
