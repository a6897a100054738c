//! The image chunks' filters, both ways. The image datasets are stored one system per chunk
//! through HDF5's shuffle and deflate filters. Left to an HDF5 library, compression runs on the
//! one thread that writes and caps a run at about 240 Euclid systems/s whatever the number of
//! cores; here [`filter_image`] runs on the pool's threads and the writer only copies the bytes
//! into the file. [`unfilter_image`] undoes them for the readers, on as many threads.
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

/// The deflate level the image datasets declare (HDF5's `H5Pset_deflate` level, 0–9; readers
/// ignore it). With the run-length strategy zlib takes the same path at every level from 1.
pub const DEFLATE_LEVEL: u8 = 1;

/// The filter-mask bit of a chunk whose deflate filter (the pipeline's second) was skipped.
pub const DEFLATE_SKIPPED: u32 = 1 << 1;

/// The filter-mask bit of a chunk whose shuffle filter (the pipeline's first) was skipped.
pub const SHUFFLE_SKIPPED: u32 = 1;

/// One system's image in one band as stored in the file: the filtered bytes and HDF5's filter
/// mask for them (bit i set: filter i of the pipeline was not applied).
#[derive(Clone, Debug, PartialEq)]
pub struct Chunk {
    /// The bytes of the chunk after the filters.
    pub bytes: Vec<u8>,
    /// HDF5's filter mask: 0 when both filters were applied.
    pub filter_mask: u32,
}

/// Shuffles and deflates one image (its float32 pixels in row-major order) as the image
/// datasets' filter pipeline does.
///
/// Deflate looks for runs only (zlib's `Z_RLE`: matches at distance 1, then Huffman codes
/// fitted to each block). After the shuffle a stamp is byte planes of long runs (exponents) and
/// near-random bytes (low mantissas) that hold few repeated strings. At level 1 zlib-rs's
/// default strategy is the "quick" one, whose fixed Huffman codes barely shrink such bytes: on
/// 32 sglc2 Euclid systems the stamps deflate to 86.3 % of their bytes with runs only against
/// 95.8 % by default, in 1.47 against 2.03 ms a system on one core (`cargo bench --bench
/// generate -- write_one_core`). Without noise, runs only also beat the default (78.5 % against
/// 79.1 % on 40 systems) where Huffman coding alone would not (85.3 %).
pub fn filter_image(pixels: &[f32]) -> Chunk {
    let shuffled = shuffle(pixels);
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

/// HDF5's shuffle of float32 values: byte j of value i goes to j·n + i.
pub fn shuffle(pixels: &[f32]) -> Vec<u8> {
    let n = pixels.len();
    let mut shuffled = vec![0u8; 4 * n];
    for (i, v) in pixels.iter().enumerate() {
        for (j, b) in v.to_le_bytes().into_iter().enumerate() {
            shuffled[j * n + i] = b;
        }
    }
    shuffled
}

/// Why a chunk could not be decoded.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum UnfilterError {
    /// The zlib stream is corrupt or does not hold the chunk's bytes.
    #[error("the chunk's deflate stream is corrupt or of the wrong length")]
    Inflate,
    /// The decoded bytes are not `pixels` float32 values.
    #[error("the chunk decodes to {got} bytes, not the {want} of its pixels")]
    Length {
        /// Bytes decoded.
        got: usize,
        /// Bytes the chunk should hold.
        want: usize,
    },
}

/// Undoes [`filter_image`] (and any chunk of the same pipeline, with either filter skipped as
/// `filter_mask` says) into `out`, the chunk's `out.len()` float32 pixels.
pub fn unfilter_image(
    bytes: &[u8],
    filter_mask: u32,
    out: &mut [f32],
) -> Result<(), UnfilterError> {
    let want = 4 * out.len();
    let inflated;
    let shuffled: &[u8] = if filter_mask & DEFLATE_SKIPPED == 0 {
        let mut buf = vec![0u8; want];
        let (got, rc) =
            zlib_rs::decompress_slice(&mut buf, bytes, zlib_rs::InflateConfig::default());
        if rc != zlib_rs::ReturnCode::Ok {
            return Err(UnfilterError::Inflate);
        }
        let got = got.len();
        buf.truncate(got);
        inflated = buf;
        &inflated
    } else {
        bytes
    };
    if shuffled.len() != want {
        return Err(UnfilterError::Length {
            got: shuffled.len(),
            want,
        });
    }
    let n = out.len();
    if filter_mask & SHUFFLE_SKIPPED == 0 {
        for (i, v) in out.iter_mut().enumerate() {
            *v = f32::from_le_bytes([0, 1, 2, 3].map(|j| shuffled[j * n + i]));
        }
    } else {
        for (v, b) in out.iter_mut().zip(shuffled.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    #[test]
    fn the_filters_round_trip() {
        // A smooth image compresses: both filters applied.
        let smooth: Vec<f32> = (0..63).map(|k| k as f32 * 0.25).collect();
        let c = filter_image(&smooth);
        assert_eq!(c.filter_mask, 0);
        assert!(c.bytes.len() < 4 * 63);
        let mut back = vec![0f32; 63];
        unfilter_image(&c.bytes, c.filter_mask, &mut back).unwrap();
        assert_eq!(bits(&back), bits(&smooth));
        // The zlib header of RFC 1950: deflate (CM = 8), and a check that divides by 31.
        assert_eq!(c.bytes[0] & 0x0f, 8);
        assert_eq!(u16::from_be_bytes([c.bytes[0], c.bytes[1]]) % 31, 0);

        // Random bits do not: deflate is skipped, and the mask says so.
        let mut state = 0x9e3779b97f4a7c15u64;
        let noise: Vec<f32> = (0..15)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                f32::from_bits(state as u32)
            })
            .collect();
        let c = filter_image(&noise);
        assert_eq!(c.filter_mask, DEFLATE_SKIPPED);
        let mut back = vec![0f32; 15];
        unfilter_image(&c.bytes, c.filter_mask, &mut back).unwrap();
        assert_eq!(bits(&back), bits(&noise));
    }

    #[test]
    fn a_damaged_or_short_chunk_is_an_error() {
        let c = filter_image(&[1.0; 32]);
        let mut out = vec![0f32; 32];
        assert_eq!(
            unfilter_image(&c.bytes[..c.bytes.len() / 2], 0, &mut out),
            Err(UnfilterError::Inflate)
        );
        let mut longer = vec![0f32; 33];
        assert!(unfilter_image(&c.bytes, 0, &mut longer).is_err());
        assert_eq!(
            unfilter_image(&[0; 8], DEFLATE_SKIPPED, &mut out),
            Err(UnfilterError::Length { got: 8, want: 128 })
        );
    }

    #[test]
    fn an_unshuffled_chunk_reads_as_plain_floats() {
        let v = [1.5f32, -2.0, 3.25];
        let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        let mut out = [0f32; 3];
        unfilter_image(&raw, SHUFFLE_SKIPPED | DEFLATE_SKIPPED, &mut out).unwrap();
        assert_eq!(out, v);
    }
}
