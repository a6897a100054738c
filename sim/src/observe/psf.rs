//! Point-spread functions: analytic profiles (Gaussian, Moffat, Airy with a central
//! obscuration) or a pixelated kernel from a FITS or .npy file, sampled on a band's pixel grid,
//! normalised to unit sum (applied by `observe::convolve`).
//!
//! Convolution happens on the pixel grid. The ideal image is already the pixel-averaged sky
//! (raytrace), so the kernel is the PSF *sampled* at pixel-centre offsets (not integrated over
//! the pixel, which would blur by the pixel twice), as lenstronomy's pixel kernels are; its sum
//! is normalised to 1 so flux is kept exactly.

use std::path::{Path, PathBuf};

use ndarray::Array2;
use serde::{Deserialize, Serialize};

/// FWHM of a Gaussian in units of its σ: 2·sqrt(2 ln 2).
pub const GAUSSIAN_FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;
/// FWHM of an unobscured Airy pattern in units of λ/D (Born & Wolf §8.5.2).
pub const AIRY_FWHM_PER_LAMBDA_OVER_D: f64 = 1.028_993_969_962_188;

/// A band's PSF as a survey file writes it (`[bands.psf] type = "gaussian"`, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum PsfSpec {
    /// Gaussian of full width at half maximum `fwhm` (arcsec).
    Gaussian {
        /// FWHM, arcsec.
        fwhm: f64,
    },
    /// Moffat profile (1 + r²/α²)^−β with FWHM `fwhm` (arcsec) and index `beta` (> 1).
    Moffat {
        /// FWHM, arcsec.
        fwhm: f64,
        /// Moffat index β (> 1; 2.5–4.8 for ground-based seeing).
        beta: f64,
    },
    /// Diffraction by a circular aperture with a central obscuration: [2J1(v)/v − ε²·2J1(εv)/(εv)]²
    /// with v = π r/(λ/D).
    Airy {
        /// λ/D, arcsec.
        lambda_over_d: f64,
        /// Linear central obscuration ε in [0, 0.99].
        #[serde(default)]
        obscuration: f64,
    },
    /// A kernel sampled at the band's pixel scale, from a FITS (primary HDU) or .npy file.
    Pixelated {
        /// Path of the kernel file (.fits, .fit or .npy); odd sizes, centred on the central pixel.
        file: PathBuf,
    },
}

/// FWHM and λ/D of a PSF, arcsec: from a diffraction-limited 0.001" to 20" (ten times the worst
/// seeing a survey keeps).
pub const PSF_WIDTH_RANGE: (f64, f64) = (1e-3, 20.0);
/// Largest Moffat β: beyond about 10 the profile is a Gaussian already.
pub const MAX_MOFFAT_BETA: f64 = 100.0;
/// Largest central obscuration ε of an Airy PSF (Euclid's is ≈ 0.3).
pub const MAX_OBSCURATION: f64 = 0.99;

impl PsfSpec {
    /// Checks the parameters; on error returns (field, reason with the allowed range).
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let width = |name: &'static str, v: f64| {
            crate::limits::in_range(name, v, PSF_WIDTH_RANGE.0, PSF_WIDTH_RANGE.1, "arcsec")
        };
        match self {
            PsfSpec::Gaussian { fwhm } => width("psf.fwhm", *fwhm),
            PsfSpec::Moffat { fwhm, beta } => {
                width("psf.fwhm", *fwhm)?;
                if !(*beta > 1.0 && *beta <= MAX_MOFFAT_BETA) {
                    return Err((
                        "psf.beta",
                        format!(
                            "{} is outside the allowed range (1, {MAX_MOFFAT_BETA}]",
                            crate::limits::show(*beta)
                        ),
                    ));
                }
                Ok(())
            }
            PsfSpec::Airy {
                lambda_over_d,
                obscuration,
            } => {
                width("psf.lambda_over_d", *lambda_over_d)?;
                crate::limits::in_range("psf.obscuration", *obscuration, 0.0, MAX_OBSCURATION, "")
            }
            PsfSpec::Pixelated { file } => {
                if file.is_file() {
                    Ok(())
                } else {
                    Err((
                        "psf.file",
                        format!("{} does not exist or is not a file", file.display()),
                    ))
                }
            }
        }
    }

    /// The profile's value at radius `r` (arcsec), peak 1; `None` for a pixelated kernel.
    pub fn profile(&self, r: f64) -> Option<f64> {
        match *self {
            PsfSpec::Gaussian { fwhm } => {
                let s = fwhm / GAUSSIAN_FWHM_PER_SIGMA;
                Some((-0.5 * r * r / (s * s)).exp())
            }
            PsfSpec::Moffat { fwhm, beta } => {
                let alpha = moffat_alpha(fwhm, beta);
                Some((1.0 + r * r / (alpha * alpha)).powf(-beta))
            }
            PsfSpec::Airy {
                lambda_over_d,
                obscuration,
            } => {
                let v = std::f64::consts::PI * r / lambda_over_d;
                let e2 = obscuration * obscuration;
                let amp = (jinc(v) - e2 * jinc(obscuration * v)) / (1.0 - e2);
                Some(amp * amp)
            }
            PsfSpec::Pixelated { .. } => None,
        }
    }

    /// Radius (arcsec) beyond which the analytic profile is dropped from the kernel.
    fn extent(&self) -> f64 {
        match *self {
            // 5σ: the Gaussian has fallen to 4e-6 of its peak.
            PsfSpec::Gaussian { fwhm } => 5.0 * fwhm / GAUSSIAN_FWHM_PER_SIGMA,
            // Where the Moffat has fallen to 1e-5 of its peak.
            PsfSpec::Moffat { fwhm, beta } => {
                moffat_alpha(fwhm, beta) * (1e5f64.powf(1.0 / beta) - 1.0).sqrt()
            }
            // 30 λ/D holds ~99 % of an Airy pattern's light (its wings fall as r⁻³).
            PsfSpec::Airy { lambda_over_d, .. } => 30.0 * lambda_over_d,
            PsfSpec::Pixelated { .. } => 0.0,
        }
    }

    /// The kernel on a grid of `pixel_scale` (arcsec), normalised to unit sum, at most
    /// `max_size` pixels on a side (odd). Pixelated kernels are read from their file.
    pub fn kernel(
        &self,
        pixel_scale: f64,
        max_size: usize,
    ) -> Result<Array2<f64>, (&'static str, String)> {
        self.validate()?;
        let mut k = match self {
            PsfSpec::Pixelated { file } => read_kernel(file)?,
            _ => {
                let max_half = (max_size.max(1) - 1) / 2;
                let half =
                    ((self.extent() / pixel_scale).ceil() as usize).clamp(1, max_half.max(1));
                let n = 2 * half + 1;
                let c = half as f64;
                Array2::from_shape_fn((n, n), |(i, j)| {
                    let r = ((i as f64 - c).hypot(j as f64 - c)) * pixel_scale;
                    self.profile(r).unwrap_or(0.0)
                })
            }
        };
        let sum: f64 = k.sum();
        if !(sum > 0.0 && sum.is_finite()) {
            return Err((
                "psf",
                format!("the kernel sums to {sum}: it must have positive, finite flux"),
            ));
        }
        k /= sum;
        Ok(k)
    }
}

/// Moffat α from FWHM and β: FWHM = 2α·sqrt(2^{1/β} − 1).
fn moffat_alpha(fwhm: f64, beta: f64) -> f64 {
    fwhm / (2.0 * (2f64.powf(1.0 / beta) - 1.0).sqrt())
}

/// 2·J1(v)/v, 1 at v = 0 (J1 from the `puruspe` crate).
fn jinc(v: f64) -> f64 {
    if v.abs() < 1e-8 {
        1.0
    } else {
        2.0 * puruspe::Jn(1, v) / v
    }
}

/// Reads a 2-D kernel from FITS (primary HDU, NAXIS1 = columns) or .npy; sides must be odd.
fn read_kernel(path: &Path) -> Result<Array2<f64>, (&'static str, String)> {
    let bad = |msg: String| ("psf.file", format!("{}: {msg}", path.display()));
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let k = match ext.as_str() {
        "npy" => {
            let f = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
            <Array2<f64> as ndarray_npy::ReadNpyExt>::read_npy(f)
                .or_else(|_| {
                    let f = std::fs::File::open(path).map_err(ndarray_npy::ReadNpyError::Io)?;
                    <Array2<f32> as ndarray_npy::ReadNpyExt>::read_npy(f).map(|a| a.mapv(f64::from))
                })
                .map_err(|e| bad(format!("not a 2-D float .npy array ({e})")))?
        }
        "fits" | "fit" => {
            let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            let fits = fitsio_pure::hdu::parse_fits(&bytes)
                .map_err(|e| bad(format!("not a FITS file ({e:?})")))?;
            let hdu = fits.primary();
            let dims =
                fitsio_pure::image::image_dimensions(hdu).map_err(|e| bad(format!("{e:?}")))?;
            if dims.len() != 2 {
                return Err(bad(format!(
                    "the primary HDU has {} axes: a kernel needs 2",
                    dims.len()
                )));
            }
            let mut buf = vec![0f64; dims[0] * dims[1]];
            fitsio_pure::image::read_image_data_into_f64(&bytes, hdu, &mut buf)
                .map_err(|e| bad(format!("{e:?}")))?;
            // FITS stores NAXIS1 (x, columns) fastest: row-major (NAXIS2, NAXIS1).
            Array2::from_shape_vec((dims[1], dims[0]), buf).map_err(|e| bad(e.to_string()))?
        }
        _ => {
            return Err(bad(
                "a pixelated PSF must be a .fits, .fit or .npy file".into()
            ))
        }
    };
    let (h, w) = k.dim();
    if h % 2 == 0 || w % 2 == 0 {
        return Err(bad(format!(
            "the kernel is {h}×{w}: both sides must be odd so that it has a centre"
        )));
    }
    if k.iter().any(|v| !v.is_finite()) {
        return Err(bad("the kernel holds non-finite values".into()));
    }
    Ok(k)
}

/// FWHM of a kernel's central row (arcsec), by linear interpolation of the half-maximum
/// crossings on either side of the peak.
pub fn measured_fwhm(kernel: &Array2<f64>, pixel_scale: f64) -> f64 {
    let (h, w) = kernel.dim();
    let row = kernel.row(h / 2);
    let c = w / 2;
    let half = row[c] / 2.0;
    let crossing = |dir: isize| -> f64 {
        let mut j = c as isize;
        while (0..w as isize).contains(&(j + dir)) && row[(j + dir) as usize] > half {
            j += dir;
        }
        let (a, b) = (
            row[j as usize],
            row.get((j + dir) as usize).copied().unwrap_or(0.0),
        );
        (j - c as isize).abs() as f64 + (a - half) / (a - b)
    };
    (crossing(-1) + crossing(1)) * pixel_scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn analytic_psfs_sum_to_one_and_have_their_fwhm() {
        // The kernel on a fine grid (FWHM/40 per pixel) has the configured FWHM: for the
        // Gaussian and Moffat by construction of σ and α, for the Airy pattern 1.029 λ/D.
        let cases = [
            (PsfSpec::Gaussian { fwhm: 0.16 }, 0.16),
            (
                PsfSpec::Moffat {
                    fwhm: 0.7,
                    beta: 3.5,
                },
                0.7,
            ),
            (
                PsfSpec::Airy {
                    lambda_over_d: 0.1,
                    obscuration: 0.0,
                },
                0.1 * AIRY_FWHM_PER_LAMBDA_OVER_D,
            ),
        ];
        for (psf, fwhm) in cases {
            let fine = fwhm / 40.0;
            let k = psf.kernel(fine, 4001).unwrap();
            assert!((k.sum() - 1.0).abs() < 1e-12);
            let m = measured_fwhm(&k, fine);
            assert!(
                (m - fwhm).abs() / fwhm < 2e-3,
                "{psf:?}: measured {m} vs {fwhm}"
            );
            // and on a survey grid it still sums to 1
            assert!((psf.kernel(0.1, 201).unwrap().sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn pixelated_kernels_read_from_npy_and_fits_alike() {
        // A 5×3 (rows × columns) asymmetric kernel written by ndarray-npy and by fitsio-pure's
        // writer reads back, normalised, identically; a kernel with an even side is refused.
        let raw = Array2::from_shape_fn((5, 3), |(i, j)| 1.0 + i as f64 + 10.0 * j as f64);
        let dir = tempfile::tempdir().unwrap();
        let npy = dir.path().join("k.npy");
        ndarray_npy::WriteNpyExt::write_npy(&raw, std::fs::File::create(&npy).unwrap()).unwrap();
        let fits = dir.path().join("k.fits");
        let file = std::fs::File::create(&fits).unwrap();
        let mut w =
            fitsio_pure::image_writer::ImageWriter::primary(file, -64, &[3, 5], &[]).unwrap();
        w.write_samples(raw.as_slice().unwrap()).unwrap();
        w.finish().unwrap();
        let from_npy = PsfSpec::Pixelated { file: npy }.kernel(0.1, 99).unwrap();
        let from_fits = PsfSpec::Pixelated { file: fits }.kernel(0.1, 99).unwrap();
        let want = &raw / raw.sum();
        for (a, b) in from_npy
            .iter()
            .zip(want.iter())
            .chain(from_fits.iter().zip(want.iter()))
        {
            assert!((a - b).abs() < 1e-15);
        }
        let even = dir.path().join("even.npy");
        ndarray_npy::WriteNpyExt::write_npy(
            &Array2::<f64>::ones((4, 3)),
            std::fs::File::create(&even).unwrap(),
        )
        .unwrap();
        let e = PsfSpec::Pixelated { file: even }
            .kernel(0.1, 99)
            .unwrap_err();
        assert!(e.1.contains("odd"), "{}", e.1);
    }

    #[test]
    fn bad_psf_parameters_name_their_field() {
        assert_eq!(
            PsfSpec::Gaussian { fwhm: 0.0 }.validate().unwrap_err().0,
            "psf.fwhm"
        );
        assert_eq!(
            PsfSpec::Moffat {
                fwhm: 0.5,
                beta: 0.5
            }
            .validate()
            .unwrap_err()
            .0,
            "psf.beta"
        );
        let e = PsfSpec::Pixelated {
            file: "no/such/psf.fits".into(),
        }
        .validate()
        .unwrap_err();
        assert!(e.0 == "psf.file" && e.1.contains("no/such/psf.fits"));
    }
}
