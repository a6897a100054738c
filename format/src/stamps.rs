//! Image stamps in FITS files, read back, and the challenge folders that hold them: the layouts
//! of the Strong Gravitational Lensing Challenges (`sim generate --format sglc` writes them, and
//! the challenges published them), so that `train` scores a folder of stamps as it scores a
//! dataset.
//!
//! - **II SGLC** (VIS, Y, J, H): `Public/EUC_<band>/imageEUC_<band>-<ID>.fits`, the catalogue
//!   `image_catalog2.0train.csv` beside `Public/` when there is one.
//! - **I SGLC** (r, i, g, u): `Public/Band1/imageSDSS_R-<ID>.fits` (Band2 I, Band3 G, Band4 U),
//!   the catalogue `classifications.csv`.
//!
//! The folder given may be the one holding `Public/` or `Public/` itself. An object is a stamp
//! in every band; one missing in some band is refused with its path.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::dataset::DatasetError;

/// One stamp: a single image (the primary HDU's, or the first image extension's when the
/// primary holds none).
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    /// Pixel values, row-major (rows along FITS's NAXIS2, columns along NAXIS1), with BSCALE and
    /// BZERO applied.
    pub pixels: Vec<f32>,
    /// [rows, columns].
    pub shape: [usize; 2],
    /// Arcsec per pixel, from `PIXSCALE`, else the WCS's `CDELT2` or `CD2_2`/`CD2_1` (degrees);
    /// `None` when the header has none of them.
    pub pixel_scale: Option<f64>,
}

fn bad(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError {
        file: path.to_path_buf(),
        message: message.into(),
    }
}

/// The header value of `key` as a number, if present and numeric.
fn number(cards: &[fitsio_pure::header::Card], key: &str) -> Option<f64> {
    use fitsio_pure::value::Value;
    match cards
        .iter()
        .find(|c| c.keyword_str() == key)?
        .value
        .as_ref()?
    {
        Value::Float(v) => Some(*v),
        Value::Integer(v) => Some(*v as f64),
        _ => None,
    }
}

/// Reads the stamp in `path`.
pub fn read_stamp(path: &Path) -> Result<Stamp, DatasetError> {
    let bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    let fits = fitsio_pure::hdu::parse_fits(&bytes)
        .map_err(|e| bad(path, format!("not a FITS file ({e:?})")))?;
    let hdu = fits
        .iter()
        .find(|h| fitsio_pure::image::image_dimensions(h).is_ok_and(|d| !d.is_empty()))
        .ok_or_else(|| bad(path, "no image in any HDU"))?;
    let dims =
        fitsio_pure::image::image_dimensions(hdu).map_err(|e| bad(path, format!("{e:?}")))?;
    if dims.len() != 2 {
        return Err(bad(
            path,
            format!("the image has {} axes: a stamp has 2", dims.len()),
        ));
    }
    let pixels = fitsio_pure::image::read_image_physical_f32(&bytes, hdu)
        .map_err(|e| bad(path, format!("its image cannot be read ({e:?})")))?;
    let degrees = number(&hdu.cards, "CDELT2").or_else(|| {
        let (c21, c22) = (number(&hdu.cards, "CD2_1")?, number(&hdu.cards, "CD2_2")?);
        Some(c21.hypot(c22))
    });
    let pixel_scale = number(&hdu.cards, "PIXSCALE")
        .or(degrees.map(|d| d.abs() * 3600.0))
        .filter(|s| s.is_finite() && *s > 0.0);
    Ok(Stamp {
        pixels,
        shape: [dims[1], dims[0]],
        pixel_scale,
    })
}

/// Which challenge's layout a folder has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The second challenge's (VIS, Y, J, H).
    Second,
    /// The first challenge's ground-based set (r, i, g, u).
    First,
}

impl Layout {
    /// Per band, in the layout's order: (band name, folder under `Public/`, file-name prefix).
    pub fn bands(self) -> Vec<(String, String, String)> {
        match self {
            Layout::Second => ["VIS", "Y", "J", "H"]
                .iter()
                .map(|b| (b.to_string(), format!("EUC_{b}"), format!("imageEUC_{b}-")))
                .collect(),
            Layout::First => ["r", "i", "g", "u"]
                .iter()
                .enumerate()
                .map(|(k, b)| {
                    let upper = b.to_uppercase();
                    (
                        b.to_string(),
                        format!("Band{}", k + 1),
                        format!("imageSDSS_{upper}-"),
                    )
                })
                .collect(),
        }
    }

    /// The catalogue's file name, beside `Public/`.
    pub fn catalogue_name(self) -> &'static str {
        match self {
            Layout::Second => "image_catalog2.0train.csv",
            Layout::First => "classifications.csv",
        }
    }
}

/// A challenge folder: its layout, its objects' IDs and where their stamps are.
#[derive(Clone, Debug)]
pub struct ChallengeFolder {
    /// The folder holding `Public/`.
    pub root: PathBuf,
    /// The layout.
    pub layout: Layout,
    /// (band, its folder), in the layout's order.
    pub bands: Vec<(String, PathBuf)>,
    /// The objects' IDs, ascending.
    pub ids: Vec<u64>,
    /// The catalogue, when the folder has one (a blind set has none).
    pub catalogue: Option<PathBuf>,
}

impl ChallengeFolder {
    /// Whether `path` looks like a challenge folder (it or its `Public/` holds `EUC_VIS` or
    /// `Band1`), so that a caller can tell it from a dataset file.
    pub fn is_one(path: &Path) -> bool {
        [path.to_path_buf(), path.join("Public")]
            .iter()
            .any(|p| p.join("EUC_VIS").is_dir() || p.join("Band1").is_dir())
    }

    /// Opens the folder `path`: finds its layout and every band's stamps, and refuses an object
    /// that lacks a stamp in some band, naming the file that is missing.
    pub fn open(path: &Path) -> Result<Self, DatasetError> {
        let (root, public) = if path.join("Public").is_dir() {
            (path.to_path_buf(), path.join("Public"))
        } else if path.file_name().is_some_and(|n| n == "Public") {
            let root = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            (root, path.to_path_buf())
        } else {
            (path.to_path_buf(), path.to_path_buf())
        };
        let layout = if public.join("EUC_VIS").is_dir() {
            Layout::Second
        } else if public.join("Band1").is_dir() {
            Layout::First
        } else {
            return Err(bad(
                path,
                "not a challenge folder: neither Public/EUC_VIS (II SGLC) nor Public/Band1 \
                 (I SGLC) is there",
            ));
        };
        let mut bands = Vec::new();
        let mut per_band: Vec<BTreeSet<u64>> = Vec::new();
        for (band, dir, prefix) in layout.bands() {
            let dir = public.join(dir);
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| bad(&dir, format!("band {band}'s folder: {e}")))?;
            let mut ids = BTreeSet::new();
            for entry in entries {
                let name = entry.map_err(|e| bad(&dir, e.to_string()))?.file_name();
                let name = name.to_string_lossy();
                let id = name
                    .strip_prefix(prefix.as_str())
                    .and_then(|s| s.strip_suffix(".fits"))
                    .and_then(|s| s.parse::<u64>().ok());
                if let Some(id) = id {
                    ids.insert(id);
                }
            }
            bands.push((band, dir));
            per_band.push(ids);
        }
        let all: BTreeSet<u64> = per_band.iter().flatten().copied().collect();
        for (k, ids) in per_band.iter().enumerate() {
            if let Some(&id) = all.difference(ids).next() {
                let (_, dir, prefix) = &layout.bands()[k];
                return Err(bad(
                    &public.join(dir).join(format!("{prefix}{id}.fits")),
                    format!(
                        "missing: object {id} has stamps in other bands but none in {}",
                        bands[k].0
                    ),
                ));
            }
        }
        if all.is_empty() {
            return Err(bad(&public, "no stamps in the challenge folder"));
        }
        let catalogue = Some(root.join(layout.catalogue_name())).filter(|c| c.is_file());
        Ok(Self {
            root,
            layout,
            bands,
            ids: all.into_iter().collect(),
            catalogue,
        })
    }

    /// The stamp file of object `id` in band `band` (index into [`Self::bands`]).
    pub fn stamp_path(&self, band: usize, id: u64) -> PathBuf {
        let prefix = &self.layout.bands()[band].2;
        self.bands[band].1.join(format!("{prefix}{id}.fits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_with_a_missing_stamp_is_refused_naming_it() {
        // Two objects in VIS, Y and H, one of them absent from J: the J file is named.
        let dir = tempfile::tempdir().unwrap();
        for (band, ids) in [("VIS", [7, 9]), ("Y", [7, 9]), ("J", [7, 7]), ("H", [9, 7])] {
            let d = dir.path().join("Public").join(format!("EUC_{band}"));
            std::fs::create_dir_all(&d).unwrap();
            for id in ids {
                std::fs::write(d.join(format!("imageEUC_{band}-{id}.fits")), b"").unwrap();
            }
        }
        let e = ChallengeFolder::open(dir.path()).unwrap_err();
        assert!(e.file.ends_with("Public/EUC_J/imageEUC_J-9.fits"), "{e:?}");
        assert!(e.message.contains("object 9"), "{e:?}");
        // Not a challenge folder at all.
        let e = ChallengeFolder::open(&dir.path().join("Public/EUC_J")).unwrap_err();
        assert!(e.message.contains("not a challenge folder"), "{e:?}");
    }
}
