//! SLIC superpixels of a single-band image (Achanta et al. 2012, "SLIC Superpixels Compared to
//! State-of-the-Art Superpixel Methods", IEEE TPAMI 34, 2274), the segmentation `train explain`
//! perturbs.
//!
//! The image is first smoothed with a Gaussian of `sigma` pixels (as scikit-image's `slic`
//! does), so that pixel noise does not shred the segments. Cluster centres start on a regular grid of step S = √(pixels / n_segments), each moved to
//! the lowest-gradient pixel of its 3×3 neighbourhood; then, `iterations` times, every pixel
//! within 2S × 2S of a centre joins the centre nearest in
//! D² = (ΔI)² + (d_xy / S)² · m², with I the intensity (scaled to [0, 1] by the caller) and m
//! the compactness, and each centre moves to the mean of its pixels. A last pass makes every
//! segment one 4-connected region: pieces smaller than S²/4 join the segment of a neighbouring
//! pixel, as the original implementation does. No crate in reach implements SLIC, hence this.

use ndarray::Array2;

/// SLIC's settings (`train explain`'s arguments, but for its rounds).
#[derive(Clone, Copy, Debug, PartialEq, clap::Args)]
pub struct SlicSettings {
    /// Superpixels asked of SLIC (the result has about as many).
    #[arg(long = "segments", value_name = "SEGMENTS", default_value_t = 50, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=10_000))]
    pub n_segments: usize,
    /// SLIC's compactness m: the weight of distance against intensity (intensities scaled to
    /// [0, 1]).
    #[arg(long, default_value_t = 0.1)]
    pub compactness: f64,
    /// Assignment–update rounds.
    #[arg(skip = 10usize)]
    pub iterations: usize,
    /// Gaussian smoothing before segmenting, pixels (0: none).
    #[arg(long, default_value_t = 2.0)]
    pub sigma: f64,
}

impl Default for SlicSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

/// `image` convolved with a normalised Gaussian of `sigma` pixels (separable, truncated at 3σ,
/// edges replicated).
pub fn gaussian_blur(image: &Array2<f32>, sigma: f64) -> Array2<f32> {
    if sigma <= 0.0 {
        return image.clone();
    }
    let r = (3.0 * sigma).ceil() as i64;
    let kernel: Vec<f64> = (-r..=r)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let norm: f64 = kernel.iter().sum();
    let (h, w) = image.dim();
    let pass = |src: &Array2<f32>, along_rows: bool| {
        Array2::from_shape_fn((h, w), |(y, x)| {
            let mut acc = 0.0;
            for (k, &g) in kernel.iter().enumerate() {
                let d = k as i64 - r;
                let (yy, xx) = if along_rows {
                    (y as i64, (x as i64 + d).clamp(0, w as i64 - 1))
                } else {
                    ((y as i64 + d).clamp(0, h as i64 - 1), x as i64)
                };
                acc += g * src[[yy as usize, xx as usize]] as f64;
            }
            (acc / norm) as f32
        })
    };
    pass(&pass(image, true), false)
}

#[derive(Clone, Copy, Debug)]
struct Centre {
    y: f64,
    x: f64,
    i: f64,
}

/// Segment labels 0..K of `image` (rows × columns), every segment one 4-connected region.
pub fn slic(image: &Array2<f32>, settings: &SlicSettings) -> Array2<u32> {
    let smoothed = gaussian_blur(image, settings.sigma);
    let image = &smoothed;
    let (h, w) = image.dim();
    if h == 0 || w == 0 {
        return Array2::zeros((h, w));
    }
    let n = settings.n_segments.max(1);
    let step = ((h * w) as f64 / n as f64).sqrt().max(1.0);
    let value = |y: usize, x: usize| image[[y, x]] as f64;
    let gradient = |y: usize, x: usize| {
        let (y0, y1) = (y.saturating_sub(1), (y + 1).min(h - 1));
        let (x0, x1) = (x.saturating_sub(1), (x + 1).min(w - 1));
        (value(y1, x) - value(y0, x)).powi(2) + (value(y, x1) - value(y, x0)).powi(2)
    };
    // Centres on a grid, each moved to the lowest gradient of its 3×3 neighbourhood.
    let mut centres = Vec::new();
    let mut gy = step / 2.0;
    while gy < h as f64 {
        let mut gx = step / 2.0;
        while gx < w as f64 {
            let (cy, cx) = (gy as usize, gx as usize);
            let mut best = (gradient(cy, cx), cy, cx);
            for y in cy.saturating_sub(1)..=(cy + 1).min(h - 1) {
                for x in cx.saturating_sub(1)..=(cx + 1).min(w - 1) {
                    let g = gradient(y, x);
                    if g < best.0 {
                        best = (g, y, x);
                    }
                }
            }
            centres.push(Centre {
                y: best.1 as f64,
                x: best.2 as f64,
                i: value(best.1, best.2),
            });
            gx += step;
        }
        gy += step;
    }
    let m2 = settings.compactness * settings.compactness;
    let s2 = step * step;
    let mut labels = Array2::<u32>::zeros((h, w));
    let mut distance = Array2::<f64>::from_elem((h, w), f64::INFINITY);
    for _ in 0..settings.iterations.max(1) {
        distance.fill(f64::INFINITY);
        for (k, c) in centres.iter().enumerate() {
            let y0 = (c.y - 2.0 * step).max(0.0) as usize;
            let y1 = ((c.y + 2.0 * step) as usize).min(h - 1);
            let x0 = (c.x - 2.0 * step).max(0.0) as usize;
            let x1 = ((c.x + 2.0 * step) as usize).min(w - 1);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    let di = value(y, x) - c.i;
                    let ds2 = (y as f64 - c.y).powi(2) + (x as f64 - c.x).powi(2);
                    let d = di * di + ds2 / s2 * m2;
                    if d < distance[[y, x]] {
                        distance[[y, x]] = d;
                        labels[[y, x]] = k as u32;
                    }
                }
            }
        }
        let mut sums = vec![(0.0, 0.0, 0.0, 0usize); centres.len()];
        for ((y, x), &l) in labels.indexed_iter() {
            let s = &mut sums[l as usize];
            s.0 += y as f64;
            s.1 += x as f64;
            s.2 += value(y, x);
            s.3 += 1;
        }
        for (c, s) in centres.iter_mut().zip(&sums) {
            if s.3 > 0 {
                let n = s.3 as f64;
                *c = Centre {
                    y: s.0 / n,
                    x: s.1 / n,
                    i: s.2 / n,
                };
            }
        }
    }
    connect(&labels, (s2 / 4.0).max(1.0) as usize)
}

/// Relabels `labels` so that every segment is one 4-connected region of at least `min_size`
/// pixels (smaller pieces join the segment of the neighbour met first), numbered 0..K in
/// raster order.
pub fn connect(labels: &Array2<u32>, min_size: usize) -> Array2<u32> {
    let (h, w) = labels.dim();
    const NONE: u32 = u32::MAX;
    let mut out = Array2::<u32>::from_elem((h, w), NONE);
    let mut next = 0u32;
    let mut region = Vec::new();
    for y0 in 0..h {
        for x0 in 0..w {
            if out[[y0, x0]] != NONE {
                continue;
            }
            // The label of an already-numbered neighbour, for a piece too small to stand alone.
            let mut adjacent = None;
            for (dy, dx) in [(-1i64, 0i64), (0, -1), (1, 0), (0, 1)] {
                let (y, x) = (y0 as i64 + dy, x0 as i64 + dx);
                if y >= 0 && x >= 0 && (y as usize) < h && (x as usize) < w {
                    let l = out[[y as usize, x as usize]];
                    if l != NONE {
                        adjacent = Some(l);
                        break;
                    }
                }
            }
            // Flood the 4-connected piece of this pixel's original label.
            let original = labels[[y0, x0]];
            region.clear();
            region.push((y0, x0));
            out[[y0, x0]] = next;
            let mut k = 0;
            while k < region.len() {
                let (y, x) = region[k];
                k += 1;
                for (dy, dx) in [(-1i64, 0i64), (0, -1), (1, 0), (0, 1)] {
                    let (ny, nx) = (y as i64 + dy, x as i64 + dx);
                    if ny < 0 || nx < 0 || ny as usize >= h || nx as usize >= w {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if out[[ny, nx]] == NONE && labels[[ny, nx]] == original {
                        out[[ny, nx]] = next;
                        region.push((ny, nx));
                    }
                }
            }
            match adjacent {
                Some(l) if region.len() < min_size => {
                    for &(y, x) in &region {
                        out[[y, x]] = l;
                    }
                }
                _ => next += 1,
            }
        }
    }
    out
}

/// The number of segments of `labels` (labels are 0..K).
pub fn count(labels: &Array2<u32>) -> usize {
    labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0)
}

/// The segment under each pixel of a `size` × `size` stamp of pixel scale `scale`, both centred
/// on the same sky point as `labels` (pixel scale `labels_scale`): the NIR stamps take the VIS
/// segmentation this way (DESIGN.md's pixel-centre convention).
pub fn resample(labels: &Array2<u32>, labels_scale: f64, size: usize, scale: f64) -> Array2<u32> {
    let (h, w) = labels.dim();
    let to_index = |k: usize, n: usize| -> usize {
        let arcsec = (k as f64 - (size as f64 - 1.0) / 2.0) * scale;
        let j = (arcsec / labels_scale + (n as f64 - 1.0) / 2.0).round();
        j.clamp(0.0, n as f64 - 1.0) as usize
    };
    Array2::from_shape_fn((size, size), |(i, j)| {
        labels[[to_index(i, h), to_index(j, w)]]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_connected(labels: &Array2<u32>, l: u32) -> bool {
        let pixels: Vec<(usize, usize)> = labels
            .indexed_iter()
            .filter(|(_, &v)| v == l)
            .map(|(p, _)| p)
            .collect();
        let one = Array2::from_shape_fn(labels.dim(), |p| u32::from(labels[p] != l));
        // connect() of a two-valued image numbers the segment's region once if it is connected
        let relabelled = connect(&one, 1);
        let ids: std::collections::BTreeSet<u32> = pixels.iter().map(|&p| relabelled[p]).collect();
        ids.len() == 1
    }

    #[test]
    fn a_bright_square_on_a_dark_field_is_its_own_segments() {
        // A 20×20 square of 1 on 0 in a 60×60 image: no segment straddles its edge, every
        // segment is one connected region, and there are about as many as asked.
        let img = Array2::from_shape_fn((60, 60), |(y, x)| {
            if (20..40).contains(&y) && (20..40).contains(&x) {
                1.0f32
            } else {
                0.0
            }
        });
        let labels = slic(
            &img,
            &SlicSettings {
                n_segments: 36,
                compactness: 0.1,
                iterations: 10,
                sigma: 0.0,
            },
        );
        let k = count(&labels);
        assert!((18..=54).contains(&k), "{k} segments");
        for l in 0..k as u32 {
            let values: std::collections::BTreeSet<u32> = labels
                .indexed_iter()
                .filter(|(_, &v)| v == l)
                .map(|(p, _)| img[p] as u32)
                .collect();
            assert_eq!(values.len(), 1, "segment {l} straddles the square's edge");
            assert!(is_connected(&labels, l), "segment {l} is in pieces");
        }
    }

    #[test]
    fn the_blur_keeps_the_sum_and_spreads_a_point_as_a_gaussian() {
        let mut img = Array2::<f32>::zeros((41, 41));
        img[[20, 20]] = 1.0;
        let b = gaussian_blur(&img, 2.0);
        assert!((b.sum() - 1.0).abs() < 1e-5);
        // The 2-D Gaussian's ratio between 2 pixels off-centre and the centre: exp(−4/8).
        let ratio = b[[20, 22]] / b[[20, 20]];
        assert!((ratio as f64 - (-0.5f64).exp()).abs() < 1e-4, "{ratio}");
    }

    #[test]
    fn small_pieces_join_a_neighbour() {
        // A lone pixel of label 1 inside label 0 disappears with min_size 2.
        let mut labels = Array2::<u32>::zeros((5, 5));
        labels[[2, 2]] = 1;
        assert_eq!(count(&connect(&labels, 1)), 2);
        let joined = connect(&labels, 2);
        assert_eq!(count(&joined), 1);
    }

    #[test]
    fn resampling_keeps_the_sky_position() {
        // A 200-pixel grid at 0.1" split at x = 0: a 66-pixel grid at 0.3" splits there too.
        let labels = Array2::from_shape_fn((200, 200), |(_, j)| u32::from(j >= 100));
        let nir = resample(&labels, 0.1, 66, 0.3);
        for j in 0..66 {
            let x = (j as f64 - 32.5) * 0.3;
            assert_eq!(nir[[10, j]], u32::from(x > 0.0), "column {j} at x = {x}");
        }
    }
}
