//! Per-band preprocessing: clip each band between two percentiles of its pixel distribution
//! over the training split, then scale to [0, 1]. The bounds are learnt once and stored with
//! the model.
//!
//! A pixel that is not finite (NaN or ±inf: a masked or saturated pixel of a real cutout, or a
//! fault) is missing data: it takes no part in learning the bounds, and the network sees it as
//! the sky-subtracted background, 0 e⁻/s, scaled like any other pixel.
//!
//! Percentiles use linear interpolation between order statistics (numpy's default): the p-th
//! percentile of n sorted values sits at rank p/100·(n − 1).

use serde::{Deserialize, Serialize};

/// How a band is clipped before scaling to [0, 1].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clipping {
    /// No clipping: the training pixels' minimum and maximum.
    None,
    /// The II SGLC winners' clipping: lower bound −(99.9th percentile of the inverted image),
    /// upper bound the 98th percentile.
    Sglc2,
    /// The alternative: the 0.1th and 99th percentiles.
    Alternative,
}

/// The learnt bounds of one band.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BandScaling {
    /// Values at or below map to 0.
    pub lo: f32,
    /// Values at or above map to 1.
    pub hi: f32,
}

/// The p-th percentile (0–100) of `values` by linear interpolation; `values` is reordered.
/// `None` for an empty slice or a NaN.
pub fn percentile(values: &mut [f32], p: f64) -> Option<f32> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        return None;
    }
    let rank = p.clamp(0.0, 100.0) / 100.0 * (values.len() - 1) as f64;
    let below = rank.floor() as usize;
    let frac = rank - below as f64;
    let (_, &mut a, upper) = values.select_nth_unstable_by(below, f32::total_cmp);
    let b = if frac > 0.0 {
        upper.iter().copied().fold(f32::INFINITY, f32::min)
    } else {
        a
    };
    Some((a as f64 + frac * (b as f64 - a as f64)) as f32)
}

impl BandScaling {
    /// Learns the bounds of one band from its finite training pixels (reordered in place);
    /// `None` when none is finite.
    pub fn fit(clipping: Clipping, pixels: &mut [f32]) -> Option<Self> {
        // The finite pixels first, in their order; the rest is left out.
        let mut finite = 0;
        for i in 0..pixels.len() {
            if pixels[i].is_finite() {
                pixels.swap(finite, i);
                finite += 1;
            }
        }
        let pixels = &mut pixels[..finite];
        let (lo, hi) = match clipping {
            Clipping::None => {
                let lo = pixels.iter().copied().fold(f32::INFINITY, f32::min);
                let hi = pixels.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                (lo, hi)
            }
            Clipping::Sglc2 => {
                let hi = percentile(pixels, 98.0)?;
                pixels.iter_mut().for_each(|v| *v = -*v);
                let inverted = percentile(pixels, 99.9)?;
                pixels.iter_mut().for_each(|v| *v = -*v);
                (-inverted, hi)
            }
            Clipping::Alternative => (percentile(pixels, 0.1)?, percentile(pixels, 99.0)?),
        };
        (lo.is_finite() && hi.is_finite()).then_some(Self { lo, hi })
    }

    /// Clips to [lo, hi] and scales to [0, 1] in place (all zero if hi = lo); a pixel that is
    /// not finite is taken as the background, 0 e⁻/s.
    pub fn apply(&self, pixels: &mut [f32]) {
        let span = self.hi - self.lo;
        for v in pixels {
            if !v.is_finite() {
                *v = 0.0;
            }
            *v = if span > 0.0 {
                ((*v - self.lo) / span).clamp(0.0, 1.0)
            } else {
                0.0
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([0, 1, …, 100], p) = p; of [1, 2, 3, 4], 10 → 1.3, 50 → 2.5.
        let mut ramp: Vec<f32> = (0..=100).rev().map(|k| k as f32).collect();
        for p in [0.0, 0.1, 37.5, 98.0, 99.9, 100.0] {
            assert!(
                (percentile(&mut ramp, p).unwrap() as f64 - p).abs() < 1e-4,
                "p = {p}"
            );
        }
        let mut four = vec![4.0, 1.0, 3.0, 2.0];
        assert!((percentile(&mut four, 10.0).unwrap() - 1.3).abs() < 1e-6);
        assert!((percentile(&mut four, 50.0).unwrap() - 2.5).abs() < 1e-6);
        assert_eq!(percentile(&mut [], 50.0), None);
    }

    #[test]
    fn clippings_bound_and_scale() {
        let mut px: Vec<f32> = (0..=1000).map(|k| k as f32 - 100.0).collect(); // −100 … 900
        let s = BandScaling::fit(Clipping::Sglc2, &mut px).unwrap();
        // lower −P99.9(−x) = P0.1(x) = −100 + 1 = −99; upper P98 = −100 + 980 = 880
        assert!(
            (s.lo + 99.0).abs() < 1e-3 && (s.hi - 880.0).abs() < 1e-3,
            "{s:?}"
        );
        let a = BandScaling::fit(Clipping::Alternative, &mut px).unwrap();
        assert!(
            (a.lo + 99.0).abs() < 1e-3 && (a.hi - 890.0).abs() < 1e-3,
            "{a:?}"
        );
        let n = BandScaling::fit(Clipping::None, &mut px).unwrap();
        assert_eq!((n.lo, n.hi), (-100.0, 900.0));
        let mut img = vec![-500.0, -99.0, 390.5, 880.0, 5000.0];
        s.apply(&mut img);
        assert_eq!(img, vec![0.0, 0.0, 0.5, 1.0, 1.0]);
    }

    #[test]
    fn non_finite_pixels_are_missing_data() {
        // Issue #19: NaN and ±inf pixels take no part in the bounds (the same as without
        // them), and the network sees them as the background, 0 e⁻/s.
        let clean: Vec<f32> = (0..=1000).map(|k| k as f32 - 100.0).collect();
        let mut dirty = clean.clone();
        dirty.splice(500..500, [f32::NAN, f32::INFINITY, f32::NEG_INFINITY]);
        for clipping in [Clipping::Sglc2, Clipping::Alternative, Clipping::None] {
            let want = BandScaling::fit(clipping, &mut clean.clone()).unwrap();
            assert_eq!(BandScaling::fit(clipping, &mut dirty.clone()), Some(want));
        }
        let s = BandScaling::fit(Clipping::Sglc2, &mut dirty).unwrap();
        let mut img = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0];
        s.apply(&mut img);
        let zero = (0.0 - s.lo) / (s.hi - s.lo);
        assert_eq!(img, vec![zero; 4]);
        // A band with no finite pixel at all has no bounds.
        assert_eq!(
            BandScaling::fit(Clipping::Sglc2, &mut [f32::NAN, f32::INFINITY]),
            None
        );
    }
}
