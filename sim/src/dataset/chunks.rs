//! Image chunks filtered off the writer thread. The image datasets are stored one system per
//! chunk through HDF5's shuffle and deflate filters; left to HDF5, that compression runs on the
//! one thread that writes, and caps a run at about 240 Euclid systems/s whatever the number of
//! cores. Here the same two filters are applied on the pool's threads ([`filter_block`]), and the
//! writer hands the finished bytes to `H5Dwrite_chunk`, which only copies them into the file.
//!
//! The bytes are what HDF5's own filters store, so any HDF5 reader decompresses them:
//! - shuffle (HDF5's `H5Z_FILTER_SHUFFLE`): the first byte of every little-endian float32 of
//!   the chunk, then every second byte, and so on;
//! - deflate (`H5Z_FILTER_DEFLATE`): a zlib stream (RFC 1950) of the shuffled bytes, written by
//!   zlib-rs with zlib's run-length strategy (`Z_RLE`, see [`filter_image`]).
//!
//! Deflate is an optional filter in HDF5: where it would not make the chunk smaller, the chunk
//! is stored shuffled only and its filter mask says that deflate was skipped, as HDF5 itself
//! does when the filter fails.

use ndarray::{Array3, ArrayView2, Axis};
use rayon::prelude::*;

/// The deflate level the image datasets declare (HDF5's `H5Pset_deflate` level, 0–9; readers
/// ignore it). With the run-length strategy zlib takes the same path at every level from 1.
pub const DEFLATE_LEVEL: u8 = 1;

/// The filter-mask bit of a chunk whose deflate filter (the pipeline's second) was skipped.
pub const DEFLATE_SKIPPED: u32 = 1 << 1;

/// One system's image in one band as stored in the file: the filtered bytes and HDF5's filter
/// mask for them (bit i set: filter i of the pipeline was not applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The bytes of the chunk after the filters.
    pub bytes: Vec<u8>,
    /// HDF5's filter mask: 0 when both filters were applied.
    pub filter_mask: u32,
}

/// Shuffles and deflates one image (H × W float32) as the image datasets' filter pipeline does.
///
/// Deflate looks for runs only (zlib's `Z_RLE`: matches at distance 1, then Huffman codes
/// fitted to each block). After the shuffle a stamp is byte planes of long runs (exponents) and
/// near-random bytes (low mantissas) that hold few repeated strings. At level 1 zlib-rs's
/// default strategy is the "quick" one, whose fixed Huffman codes barely shrink such bytes: on
/// 32 sglc2 Euclid systems the stamps deflate to 86.3 % of their bytes with runs only against
/// 95.8 % by default, in 1.47 against 2.03 ms a system on one core (`cargo bench --bench
/// generate -- write_one_core`). Without noise, runs only also beat the default (78.5 % against
/// 79.1 % on 40 systems) where Huffman coding alone would not (85.3 %).
pub fn filter_image(image: ArrayView2<f32>) -> Chunk {
    let n = image.len();
    let mut shuffled = vec![0u8; 4 * n];
    for (i, v) in image.iter().enumerate() {
        for (j, b) in v.to_le_bytes().into_iter().enumerate() {
            shuffled[j * n + i] = b;
        }
    }
    let config = zlib_rs::DeflateConfig {
        level: DEFLATE_LEVEL.into(),
        strategy: zlib_rs::Strategy::Rle,
        ..Default::default()
    };
    let mut deflated = vec![0u8; zlib_rs::compress_bound(shuffled.len())];
    let (stream, rc) = zlib_rs::compress_slice(&mut deflated, &shuffled, config);
    let len = stream.len();
    // compress_bound leaves room for any input, so only a smaller stream needs checking.
    if rc == zlib_rs::ReturnCode::Ok && len < shuffled.len() {
        deflated.truncate(len);
        Chunk {
            bytes: deflated,
            filter_mask: 0,
        }
    } else {
        Chunk {
            bytes: shuffled,
            filter_mask: DEFLATE_SKIPPED,
        }
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
    use std::io::Read;

    /// Undoes the two filters: the facts the file's readers rely on.
    fn unfilter(c: &Chunk, n: usize) -> Vec<f32> {
        let shuffled = if c.filter_mask & DEFLATE_SKIPPED == 0 {
            let mut out = Vec::new();
            flate2::read::ZlibDecoder::new(c.bytes.as_slice())
                .read_to_end(&mut out)
                .unwrap();
            out
        } else {
            c.bytes.clone()
        };
        assert_eq!(shuffled.len(), 4 * n);
        (0..n)
            .map(|i| f32::from_le_bytes([0, 1, 2, 3].map(|j| shuffled[j * n + i])))
            .collect()
    }

    #[test]
    fn the_filters_round_trip() {
        // A smooth image compresses: both filters applied.
        let smooth = ndarray::Array2::from_shape_fn((7, 9), |(i, j)| (i * 9 + j) as f32 * 0.25);
        let c = filter_image(smooth.view());
        assert_eq!(c.filter_mask, 0);
        assert!(c.bytes.len() < 4 * 63);
        assert_eq!(unfilter(&c, 63), smooth.iter().copied().collect::<Vec<_>>());
        // The zlib header of RFC 1950: deflate (CM = 8), and a check that divides by 31.
        assert_eq!(c.bytes[0] & 0x0f, 8);
        assert_eq!(u16::from_be_bytes([c.bytes[0], c.bytes[1]]) % 31, 0);

        // Random bits do not: deflate is skipped, and the mask says so.
        let mut state = 0x9e3779b97f4a7c15u64;
        let noise = ndarray::Array2::from_shape_fn((3, 5), |_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f32::from_bits(state as u32)
        });
        let c = filter_image(noise.view());
        assert_eq!(c.filter_mask, DEFLATE_SKIPPED);
        let back = unfilter(&c, 15);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(noise.as_slice().unwrap()));
    }

    #[test]
    fn a_block_is_filtered_band_by_band_and_system_by_system() {
        let vis = Array3::from_shape_fn((3, 4, 4), |(k, i, j)| (k * 100 + i * 4 + j) as f32);
        let nir = Array3::from_shape_fn((3, 2, 2), |(k, i, j)| (k + i + j) as f32);
        let chunks = filter_block(&[vis.clone(), nir.clone()]);
        assert_eq!(chunks.len(), 2);
        for (stack, band) in [vis, nir].iter().zip(&chunks) {
            assert_eq!(band.len(), 3);
            for (k, c) in band.iter().enumerate() {
                assert_eq!(c, &filter_image(stack.index_axis(Axis(0), k)));
            }
        }
    }
}
