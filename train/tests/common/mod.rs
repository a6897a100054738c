//! Helpers shared by the training tests.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// One system on an n×n grid of `scale` arcsec: a Gaussian galaxy, a 1" ring if `lens`, noise.
pub fn stamp(rng: &mut ChaCha8Rng, n: usize, scale: f64, lens: bool) -> Vec<f32> {
    let c = (n as f64 - 1.0) / 2.0;
    let phase: f64 = rng.random_range(0.0..std::f64::consts::TAU);
    (0..n * n)
        .map(|k| {
            let (x, y) = (((k % n) as f64 - c) * scale, ((k / n) as f64 - c) * scale);
            let r = x.hypot(y);
            let mut v = (-(r * r) / (2.0 * 0.3f64.powi(2))).exp();
            if lens {
                // an arc over most of the ring, brightest at a random angle
                let arc = 0.6 + 0.4 * (y.atan2(x) - phase).cos();
                v += arc * (-((r - 1.0) / 0.12).powi(2) / 2.0).exp();
            }
            (v + 0.1 * (rng.random::<f64>() - 0.5)) as f32
        })
        .collect()
}

/// Writes a dataset in DESIGN.md's HDF5 layout with only what training reads: `n` systems
/// (every second a lens), one image per (band, side, pixel scale) in `bands` drawn by
/// [`stamp`], and `/labels/is_lens`.
#[allow(dead_code)]
pub fn write_dataset(path: &std::path::Path, n: usize, bands: &[(&str, usize, f64)], seed: u64) {
    write_dataset_holding(path, n, bands, seed, None);
}

/// The same, marked as an interrupted run's partial file holding `written` of its `n` systems
/// when given (the `systems_written` attribute `sim generate` keeps while it writes).
#[allow(dead_code)]
pub fn write_dataset_holding(
    path: &std::path::Path,
    n: usize,
    bands: &[(&str, usize, f64)],
    seed: u64,
    written: Option<u64>,
) {
    use format::h5::{AttrValue, Dtype, Writer};
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
    let mut images: Vec<Vec<f32>> = vec![Vec::new(); bands.len()];
    for &l in &labels {
        for (img, &(_, side, scale)) in images.iter_mut().zip(bands) {
            img.extend(stamp(&mut rng, side, scale, l == 1));
        }
    }
    let mut f = Writer::create(path).unwrap();
    let root = f.root();
    format::dataset::mark(&mut f).unwrap();
    if let Some(w) = written {
        f.set_attr(root, "systems_written", AttrValue::U64(w))
            .unwrap();
    }
    let g = f.create_group(root, "images").unwrap();
    for (img, &(name, side, _)) in images.into_iter().zip(bands) {
        let d = f
            .create_images(g, name, [n as u64, side as u64, side as u64], 1)
            .unwrap();
        for stamp in img.chunks(side * side) {
            let c = format::h5::filters::filter_image(stamp);
            f.write_chunk(d, &c.bytes, c.filter_mask).unwrap();
        }
    }
    let lg = f.create_group(root, "labels").unwrap();
    let is_lens = f.create_column(lg, "is_lens", Dtype::U8, n as u64).unwrap();
    f.write_column(is_lens, 0, &labels).unwrap();
    f.finish().unwrap();
}
