//! Detector and sky noise of a stacked exposure, in e⁻/s per pixel.
//!
//! A band is observed in `n_exposures` exposures of `exposure_time` seconds. Per pixel the stack
//! collects Poisson counts of (source + sky + dark)·T, with T the total time, plus Gaussian read
//! noise of `read_noise` e⁻ in each exposure. The image is then sky- and dark-subtracted and
//! divided by T: noise is symmetric about the noise-free image and negative pixels are real.
//! The background σ (no source) is sqrt((sky + dark)·T + n·read²)/T.
//!
//! Pixel p's noise is drawn from its own counter-based stream ([`super::philox`], keyed by the
//! run's seed, the system, the band and p): its read noise from the first word, its Poisson
//! count (exact in law) from the next. So any thread count, shard, block or device gives the
//! same noise.

use ndarray::Array2;

use super::philox::{normal_quantile, poisson, PixelStream};
use super::philox_x4::{poisson_x4, read_normals_x4, Quad};

/// Whose noise an image gets: the run's seed, the system's index in the run and the band's in
/// the survey.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoiseKey {
    /// The run's seed.
    pub seed: u64,
    /// The system's index in its run.
    pub system: u64,
    /// The band's index in the survey.
    pub band: u32,
}

/// One band's images of a block of systems, with what their noise is drawn from: what a
/// device that draws noise ([`crate::raytrace::BatchRenderer::add_noise`]) is handed.
#[derive(Debug)]
pub struct NoiseBlock<'a> {
    /// The images, one of `pixels` values (row-major) for each of `systems`, where their
    /// systems keep them: noise-free on the way in, e⁻/s per pixel.
    pub images: Vec<&'a mut [f32]>,
    /// Pixels an image.
    pub pixels: usize,
    /// The systems' indices in their run.
    pub systems: &'a [u64],
    /// The run's seed.
    pub seed: u64,
    /// The band's index in the survey.
    pub band: u32,
    /// The band's noise.
    pub model: &'a NoiseModel,
}

impl NoiseKey {
    /// The stream of pixel `pixel` (row-major index) of this image.
    pub fn pixel(&self, pixel: usize) -> PixelStream {
        PixelStream::new(self.seed, self.system, self.band, pixel as u32)
    }
}

/// The noise of one band's stacked image.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseModel {
    /// Total exposure time T = n × t, s.
    pub total_time: f64,
    /// Number of exposures (read-outs).
    pub n_exposures: u32,
    /// Sky per pixel, e⁻/s.
    pub sky: f64,
    /// Read noise per exposure, e⁻ rms.
    pub read_noise: f64,
    /// Dark current, e⁻/s per pixel.
    pub dark_current: f64,
}

impl NoiseModel {
    /// σ of a pixel with no source, e⁻/s.
    pub fn background_sigma(&self) -> f64 {
        let t = self.total_time;
        let var = (self.sky + self.dark_current) * t
            + self.n_exposures as f64 * self.read_noise * self.read_noise;
        var.sqrt() / t
    }

    /// Adds the noise realisation `key` to a noise-free image (e⁻/s per pixel) in place.
    pub fn add_noise(&self, image: &mut Array2<f32>, key: NoiseKey) {
        let t = self.total_time;
        let background = (self.sky + self.dark_current) * t;
        let read_sigma = self.read_noise * (self.n_exposures as f64).sqrt();
        let mean = |v: f32| (v as f64).max(0.0) * t + background;
        let noisy = |counts: f64, read: f64| ((counts + read - background) / t) as f32;
        each_pixel(
            image,
            key,
            |v, quad| {
                let z = read_normals_x4(quad);
                let counts = poisson_x4(v.map(mean), quad, 1);
                std::array::from_fn(|l| noisy(counts[l], read_sigma * z[l]))
            },
            |v, stream| {
                let read = read_sigma * normal_quantile(stream.uniform());
                noisy(poisson(mean(v), stream), read)
            },
        );
    }

    /// Replaces a source's noise-free flux (e⁻/s per pixel) by its photon noise alone, in
    /// place: each pixel becomes a Poisson draw of its flux × T electrons (negative flux as 0),
    /// over T. This is the noise of flux added to an image that already holds its background's
    /// (a real cutout's): the sum of independent Poisson counts is Poisson in the total.
    pub fn add_source_photon_noise(&self, image: &mut Array2<f32>, key: NoiseKey) {
        let t = self.total_time;
        let mean = |v: f32| (v as f64).max(0.0) * t;
        each_pixel(
            image,
            key,
            |v, quad| poisson_x4(v.map(mean), quad, 0).map(|c| (c / t) as f32),
            |v, stream| (poisson(mean(v), stream) / t) as f32,
        );
    }
}

/// Replaces every pixel p of `image` by what its value becomes with the stream of p under
/// `key`: by `four` (four pixels in a row and their streams' first round) along a contiguous
/// image, by `one` (a pixel and its stream) elsewhere. The two must agree; the tests hold them
/// to it.
fn each_pixel(
    image: &mut Array2<f32>,
    key: NoiseKey,
    four: impl Fn([f32; 4], &Quad) -> [f32; 4],
    one: impl Fn(f32, &mut PixelStream) -> f32,
) {
    let Some(values) = image.as_slice_mut() else {
        for (p, v) in image.iter_mut().enumerate() {
            *v = one(*v, &mut key.pixel(p));
        }
        return;
    };
    for (q, pixels) in values.chunks_exact_mut(4).enumerate() {
        let quad = Quad::new(key.seed, key.system, key.band, 4 * q as u32);
        let v = [pixels[0], pixels[1], pixels[2], pixels[3]];
        pixels.copy_from_slice(&four(v, &quad));
    }
    let first = values.len() - values.len() % 4;
    for (p, v) in values.iter_mut().enumerate().skip(first) {
        *v = one(*v, &mut key.pixel(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u64, system: u64, band: u32) -> NoiseKey {
        NoiseKey { seed, system, band }
    }

    fn model() -> NoiseModel {
        NoiseModel {
            total_time: 2264.0,
            n_exposures: 4,
            sky: 0.23,
            read_noise: 4.2,
            dark_current: 0.001,
        }
    }

    /// Four pixels at a time (a contiguous image) draws, bit for bit, what pixel by pixel (the
    /// same values in a column-major array, which is not) draws: the background's PTRS, a
    /// source's, inversion below a mean of 10 for the photon noise of faint pixels, negative and
    /// zero values, and a row length that leaves a remainder of three.
    #[test]
    fn four_pixels_at_a_time_draw_what_one_at_a_time_draws() {
        use ndarray::ShapeBuilder;
        let m = model();
        let (h, w) = (37, 51);
        let value = |i: usize, j: usize| match (i * w + j) % 7 {
            0 => 0.0,
            1 => -0.05,
            2 => 1e-4 * j as f32,
            3 => 3.0,
            _ => 0.01 * ((i + 2 * j) % 13) as f32,
        };
        let contiguous = Array2::from_shape_fn((h, w), |(i, j)| value(i, j));
        let strided = Array2::from_shape_fn((h, w).f(), |(i, j)| value(i, j));
        assert!(strided.as_slice().is_none());
        type Draw = fn(&NoiseModel, &mut Array2<f32>, NoiseKey);
        let draws: [(&str, Draw); 2] = [
            ("add_noise", NoiseModel::add_noise),
            ("photon", NoiseModel::add_source_photon_noise),
        ];
        for (what, draw) in draws {
            let (mut a, mut b) = (contiguous.clone(), strided.clone());
            draw(&m, &mut a, key(9, 4, 1));
            draw(&m, &mut b, key(9, 4, 1));
            for (x, y) in a.iter().zip(b.iter()) {
                assert_eq!(x.to_bits(), y.to_bits(), "{what}");
            }
            assert_ne!(a, contiguous, "{what}");
        }
    }

    #[test]
    fn blank_sky_scatter_is_the_background_sigma() {
        // The standard deviation of a blank-sky image equals the computed σ (to the 1 %
        // sampling error of 40 000 pixels, 3σ), and its mean is zero once the sky is subtracted.
        let m = model();
        let mut img = Array2::<f32>::zeros((200, 200));
        m.add_noise(&mut img, key(7, 0, 0));
        let n = img.len() as f64;
        let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
        let sd = (img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
        let sigma = m.background_sigma();
        assert!((sd - sigma).abs() / sigma < 0.011, "{sd} vs {sigma}");
        assert!(mean.abs() < 3.0 * sigma / n.sqrt(), "mean {mean}");
    }

    #[test]
    fn noise_is_reproducible_and_independent_across_bands_and_systems() {
        let m = model();
        let draw = |seed, system, band| {
            let mut img = Array2::<f32>::zeros((100, 100));
            m.add_noise(&mut img, key(seed, system, band));
            img
        };
        assert_eq!(draw(3, 5, 1), draw(3, 5, 1));
        // Independent streams: the correlation of two bands' noise is consistent with zero
        // (|r| < 4/sqrt(N)).
        let corr = |a: &Array2<f32>, b: &Array2<f32>| {
            let n = a.len() as f64;
            let (ma, mb) = (a.sum() as f64 / n, b.sum() as f64 / n);
            let cov: f64 = a
                .iter()
                .zip(b.iter())
                .map(|(&x, &y)| (x as f64 - ma) * (y as f64 - mb))
                .sum();
            let va: f64 = a.iter().map(|&x| (x as f64 - ma).powi(2)).sum();
            let vb: f64 = b.iter().map(|&y| (y as f64 - mb).powi(2)).sum();
            cov / (va * vb).sqrt()
        };
        for (other, what) in [
            (draw(3, 5, 2), "band"),
            (draw(3, 6, 1), "system"),
            (draw(4, 5, 1), "seed"),
        ] {
            let r = corr(&draw(3, 5, 1), &other);
            assert!(r.abs() < 0.04, "{what}: r = {r}");
        }
    }

    #[test]
    fn a_source_adds_its_own_poisson_noise() {
        // Variance per pixel (e⁻/s)² = (S + sky + dark)/T + n·read²/T² for a flat source S, and
        // the mean is S: for a bright source (11,320 counts a pixel) and a faint one (4.5
        // counts on 521 of sky), each 40 000 pixels. The faint source's mean, 0.002 e⁻/s, is
        // 37 standard errors from zero, so losing it fails the test.
        let m = model();
        for s in [5.0f32, 0.002] {
            let mut img = Array2::<f32>::from_elem((200, 200), s);
            m.add_noise(&mut img, key(1, 2, 3));
            let n = img.len() as f64;
            let mean = img.iter().map(|&v| v as f64).sum::<f64>() / n;
            let var = img.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
            let want = (s as f64 + m.sky + m.dark_current) / m.total_time
                + m.n_exposures as f64 * m.read_noise.powi(2) / m.total_time.powi(2);
            assert!((var - want).abs() / want < 0.03, "S = {s}: {var} vs {want}");
            assert!(
                (mean - s as f64).abs() < 4.0 * (want / n).sqrt(),
                "S = {s}: mean {mean}"
            );
        }
    }

    #[test]
    fn an_added_source_gets_its_photon_noise_alone() {
        // Poisson statistics of S·T electrons a pixel: mean S and variance S/T (e⁻/s)², with no
        // sky or read noise, for 40 000 pixels of a bright (11,320 e⁻) and a faint (4.5 e⁻)
        // flat source; a pixel of no flux stays 0. The variance's sampling error is
        // sqrt(2/N) = 0.7 % (4σ bound 3 %); a faint pixel's counts are integers, so its values
        // are multiples of 1/T.
        let m = model();
        for s in [5.0f32, 0.002] {
            let mut img = Array2::<f32>::from_elem((200, 200), s);
            img[[0, 0]] = 0.0;
            m.add_source_photon_noise(&mut img, key(1, 2, 3));
            assert_eq!(img[[0, 0]], 0.0);
            let n = img.len() as f64 - 1.0;
            let values = img.iter().skip(1).map(|&v| v as f64);
            let mean = values.clone().sum::<f64>() / n;
            let var = values.map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            let want = s as f64 / m.total_time;
            assert!((var - want).abs() / want < 0.03, "S = {s}: {var} vs {want}");
            assert!(
                (mean - s as f64).abs() < 4.0 * (want / n).sqrt(),
                "S = {s}: mean {mean}"
            );
            if s < 0.01 {
                let counts = img[[5, 5]] as f64 * m.total_time;
                assert!((counts - counts.round()).abs() < 1e-3, "{counts}");
            }
        }
    }
}
