//! One image stamp as a FITS file: a float32 primary HDU with a TAN WCS centred on the stamp,
//! written with `fitsio-pure` (pure Rust; astropy reads its files).

use std::path::Path;

use fitsio_pure::header::Card;
use fitsio_pure::image_writer::ImageWriter;
use fitsio_pure::value::Value;
use ndarray::ArrayView2;

use crate::error::{Error, Result};

/// What a stamp's header says about it besides its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct StampHeader {
    /// Object identifier (`OBJECT`).
    pub id: u64,
    /// Survey name (`TELESCOP`).
    pub survey: String,
    /// Band name (`FILTER`).
    pub band: String,
    /// Pixel scale, arcsec per pixel (`PIXSCALE`, and the WCS's `CDELT1/2` in degrees).
    pub pixel_scale: f64,
    /// AB zero point: magnitude of 1 e⁻/s (`MAGZERO`).
    pub zero_point: f64,
}

/// Right ascension and declination of every stamp's centre, degrees: the stamps are
/// simulated, so the sky position is a convention (the WCS only carries the pixel scale and
/// orientation).
pub const STAMP_CENTRE_DEG: [f64; 2] = [0.0, 0.0];

fn card(keyword: &str, value: Value, comment: &str) -> Card {
    let mut c = Card::new(keyword, value).expect("keywords here are valid FITS keywords");
    c.comment = Some(comment.to_string());
    c
}

/// The header cards after the mandatory ones, for a stamp of `size` × `size` pixels.
///
/// The WCS follows the image convention of DESIGN.md: FITS pixel (p1, p2) (1-based) is array
/// element [p2 − 1, p1 − 1], its centre at x = (p1 − (N+1)/2)·s, y = (p2 − (N+1)/2)·s; x grows to
/// the west (RA decreases, `CDELT1` < 0) and y to the north, as on a sky image.
pub fn stamp_cards(header: &StampHeader, size: usize) -> Vec<Card> {
    let s_deg = header.pixel_scale / 3600.0;
    let centre = (size as f64 + 1.0) / 2.0;
    vec![
        card(
            "OBJECT",
            Value::String(header.id.to_string()),
            "object identifier",
        ),
        card(
            "ORIGIN",
            Value::String("lensforge".into()),
            "simulated by lensforge sim",
        ),
        card(
            "TELESCOP",
            Value::String(header.survey.clone()),
            "survey preset",
        ),
        card("FILTER", Value::String(header.band.clone()), "band"),
        card(
            "BUNIT",
            Value::String("electron/s".into()),
            "sky-subtracted e-/s per pixel",
        ),
        card(
            "PIXSCALE",
            Value::Float(header.pixel_scale),
            "[arcsec/pixel] pixel scale",
        ),
        card(
            "MAGZERO",
            Value::Float(header.zero_point),
            "AB magnitude of 1 e-/s",
        ),
        card("WCSAXES", Value::Integer(2), "number of WCS axes"),
        card("CTYPE1", Value::String("RA---TAN".into()), "gnomonic"),
        card("CTYPE2", Value::String("DEC--TAN".into()), "gnomonic"),
        card("CRPIX1", Value::Float(centre), "stamp centre"),
        card("CRPIX2", Value::Float(centre), "stamp centre"),
        card(
            "CRVAL1",
            Value::Float(STAMP_CENTRE_DEG[0]),
            "[deg] conventional",
        ),
        card(
            "CRVAL2",
            Value::Float(STAMP_CENTRE_DEG[1]),
            "[deg] conventional",
        ),
        card("CDELT1", Value::Float(-s_deg), "[deg] x grows to the west"),
        card("CDELT2", Value::Float(s_deg), "[deg] y grows to the north"),
        card("CUNIT1", Value::String("deg".into()), "unit of CDELT1"),
        card("CUNIT2", Value::String("deg".into()), "unit of CDELT2"),
        card("RADESYS", Value::String("ICRS".into()), "reference frame"),
    ]
}

/// The bytes of a FITS file holding `image` (rows of increasing y) as its primary HDU.
pub fn stamp_bytes(image: ArrayView2<f32>, header: &StampHeader) -> Result<Vec<u8>> {
    let (rows, cols) = image.dim();
    let bad = |e: fitsio_pure::Error| Error::Fits {
        path: format!("(stamp of object {})", header.id).into(),
        message: format!("{e:?}"),
    };
    let mut out = Vec::with_capacity((rows * cols * 4).div_ceil(2880) * 2880 + 2 * 2880);
    let cards = stamp_cards(header, cols);
    let mut writer = ImageWriter::primary(&mut out, -32, &[cols, rows], &cards).map_err(bad)?;
    match image.as_slice() {
        Some(s) => writer.write_samples(s).map_err(bad)?,
        None => {
            let owned: Vec<f32> = image.iter().copied().collect();
            writer.write_samples(&owned).map_err(bad)?
        }
    }
    writer.finish().map_err(bad)?;
    Ok(out)
}

/// Writes `image` as the FITS file `path`.
pub fn write_stamp(path: &Path, image: ArrayView2<f32>, header: &StampHeader) -> Result<()> {
    let bytes = stamp_bytes(image, header).map_err(|e| match e {
        Error::Fits { message, .. } => Error::Fits {
            path: path.into(),
            message,
        },
        other => other,
    })?;
    std::fs::write(path, bytes).map_err(|source| Error::Io {
        path: path.into(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fitsio_pure::hdu::parse_fits;
    use fitsio_pure::header::Card;
    use ndarray::Array2;

    fn header() -> StampHeader {
        StampHeader {
            id: 100042,
            survey: "euclid".into(),
            band: "VIS".into(),
            pixel_scale: 0.1,
            zero_point: 24.6,
        }
    }

    fn value<'a>(cards: &'a [Card], key: &str) -> &'a Value {
        cards
            .iter()
            .find(|c| c.keyword_str() == key)
            .and_then(|c| c.value.as_ref())
            .unwrap_or_else(|| panic!("no {key}"))
    }

    #[test]
    fn stamp_follows_the_fits_standard_and_reads_back() {
        // FITS 4.0 (Pence et al. 2010): the file is whole 2880-byte blocks; the header ends
        // with END; BITPIX −32 data are big-endian IEEE floats, NAXIS1 varying fastest.
        let image = Array2::from_shape_fn((5, 7), |(i, j)| (10 * i + j) as f32 - 3.5);
        let bytes = stamp_bytes(image.view(), &header()).unwrap();
        assert_eq!(bytes.len() % 2880, 0);
        let text = String::from_utf8_lossy(&bytes[..2880]);
        assert!(text.starts_with("SIMPLE  =                    T"));
        assert!(text.contains("END     "));
        assert!(text.is_ascii());

        let fits = parse_fits(&bytes).unwrap();
        let hdu = &fits.hdus[0];
        let cards = &hdu.cards;
        assert_eq!(value(cards, "BITPIX"), &Value::Integer(-32));
        assert_eq!(value(cards, "NAXIS1"), &Value::Integer(7));
        assert_eq!(value(cards, "NAXIS2"), &Value::Integer(5));
        assert_eq!(value(cards, "PIXSCALE"), &Value::Float(0.1));
        assert_eq!(value(cards, "CTYPE1"), &Value::String("RA---TAN".into()));
        assert_eq!(value(cards, "CRPIX1"), &Value::Float(4.0));
        assert_eq!(value(cards, "CRPIX2"), &Value::Float(4.0));
        assert_eq!(value(cards, "CDELT2"), &Value::Float(0.1 / 3600.0));
        assert_eq!(value(cards, "OBJECT"), &Value::String("100042".into()));

        // The data: first sample is element [0, 0], the second [0, 1] (big-endian f32).
        let start = hdu.data_start;
        let sample = |k: usize| {
            f32::from_be_bytes(bytes[start + 4 * k..start + 4 * k + 4].try_into().unwrap())
        };
        for (k, v) in image.iter().enumerate() {
            assert_eq!(sample(k), *v);
        }
        // Padding after the data is zeros up to the block boundary.
        assert!(bytes[start + 4 * 35..].iter().all(|&b| b == 0));
    }
}
