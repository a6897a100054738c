//! Image chunks filtered off the writer thread: HDF5's shuffle and deflate applied to every
//! stamp of a block on the pool's threads (format::h5::filters says how and why), so that the
//! writer thread only copies finished bytes into the file.

use ndarray::{Array3, ArrayView2, Axis};
use rayon::prelude::*;

pub use format::h5::filters::{Chunk, DEFLATE_LEVEL, DEFLATE_SKIPPED};

/// Shuffles and deflates one image (H × W float32) as the image datasets' filter pipeline does.
pub fn filter_image(image: ArrayView2<f32>) -> Chunk {
    match image.as_slice() {
        Some(pixels) => format::h5::filters::filter_image(pixels),
        None => format::h5::filters::filter_image(&image.iter().copied().collect::<Vec<_>>()),
    }
}

/// The chunks of a block of systems, one (k, H, W) array per band: `[band][system]`, filtered
/// in parallel on the current rayon pool.
pub fn filter_block(images: &[Array3<f32>]) -> Vec<Vec<Chunk>> {
    images
        .iter()
        .map(|stack| {
            let systems: Vec<ArrayView2<f32>> = stack.axis_iter(Axis(0)).collect();
            systems.into_par_iter().map(filter_image).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_filtered_band_by_band_and_system_by_system() {
        let vis = Array3::from_shape_fn((3, 4, 4), |(k, i, j)| (k * 100 + i * 4 + j) as f32);
        let nir = Array3::from_shape_fn((3, 2, 2), |(k, i, j)| (k + i + j) as f32);
        let chunks = filter_block(&[vis.clone(), nir.clone()]);
        assert_eq!(chunks.len(), 2);
        for (stack, band) in [vis.clone(), nir].iter().zip(&chunks) {
            assert_eq!(band.len(), 3);
            for (k, c) in band.iter().enumerate() {
                let pixels: Vec<f32> = stack.index_axis(Axis(0), k).iter().copied().collect();
                assert_eq!(c, &format::h5::filters::filter_image(&pixels));
            }
        }
        // A view that is not contiguous (a transposed stamp) filters its pixels in row order.
        let t = vis.index_axis(Axis(0), 1).reversed_axes();
        let pixels: Vec<f32> = t.iter().copied().collect();
        assert_eq!(filter_image(t), format::h5::filters::filter_image(&pixels));
    }
}
