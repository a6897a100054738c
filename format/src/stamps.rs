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
//! in every band; one missing in some band is set aside with its path, for the reader to
//! refuse or skip.
//!
//! A stamp is one image of a FITS file, plain or gzipped ([`StampRef`]): the file's first
//! image, or in a multi-extension file the extension named after the band.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use fitsio_pure::hdu::{FitsData, Hdu};

use crate::cutouts::BadCutout;
use crate::dataset::DatasetError;
use crate::wcs::{number, text, Wcs};

/// One stamp: a single image with what its header says of its pixels and sky position.
#[derive(Clone, Debug, PartialEq)]
pub struct Stamp {
    /// Pixel values, row-major (rows along FITS's NAXIS2, columns along NAXIS1), with BSCALE and
    /// BZERO applied.
    pub pixels: Vec<f32>,
    /// [rows, columns].
    pub shape: [usize; 2],
    /// Arcsec per pixel, from `PIXSCALE`, else the WCS, else `CDELT2` or `CD2_2`/`CD2_1`
    /// (degrees); `None` when the header has none of them.
    pub pixel_scale: Option<f64>,
    /// The celestial WCS, or why there is none.
    pub wcs: Result<Wcs, String>,
    /// The AB magnitude of one pixel unit (mag = zero point − 2.5 log₁₀ value), from the first
    /// of the cards [`ZERO_POINT_CARDS`] the header has; or why there is none (no such card, or
    /// the first one's value is not a finite number).
    pub zero_point: Result<f64, String>,
}

/// The header cards read as a stamp's photometric zero point, in this order: `MAGZERO` (as
/// DES coadds write it), `MAGZPT`, `PHOTZP` (ESO), `ZEROPT` or `ZP`.
pub const ZERO_POINT_CARDS: [&str; 5] = ["MAGZERO", "MAGZPT", "PHOTZP", "ZEROPT", "ZP"];

impl Stamp {
    /// (RA, Dec) of the stamp's centre in degrees, from its WCS.
    pub fn centre(&self) -> Result<[f64; 2], &str> {
        self.wcs
            .as_ref()
            .map(|w| w.centre(self.shape))
            .map_err(String::as_str)
    }
}

/// Where one stamp is: a FITS file (plain or gzipped), and in a multi-extension file the
/// extension named (`EXTNAME`) after its band; without one, the file's first image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StampRef {
    /// The file.
    pub path: PathBuf,
    /// The extension's `EXTNAME`, in a multi-extension file.
    pub extension: Option<String>,
}

impl fmt::Display for StampRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.extension {
            Some(e) => write!(f, "{}[{e}]", self.path.display()),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

impl StampRef {
    /// The first image of `path`.
    pub fn file(path: PathBuf) -> Self {
        Self {
            path,
            extension: None,
        }
    }

    /// Reads the stamp.
    pub fn read(&self) -> Result<Stamp, DatasetError> {
        let (bytes, fits) = parse(&self.path)?;
        let path = &self.path;
        let hdu = match &self.extension {
            None => fits
                .iter()
                .find(|h| is_image(h))
                .ok_or_else(|| bad(path, "no image in any HDU"))?,
            Some(name) => fits
                .iter()
                .find(|h| extname(h) == Some(name.as_str()))
                .ok_or_else(|| {
                    bad(
                        path,
                        format!(
                            "no extension named {name} (it has: {})",
                            extension_names_of(&fits).join(", ")
                        ),
                    )
                })?,
        };
        stamp_of(&bytes, hdu).map_err(|m| {
            bad(
                path,
                self.extension
                    .as_ref()
                    .map_or(m.clone(), |e| format!("extension {e}: {m}")),
            )
        })
    }
}

fn bad(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError {
        file: path.to_path_buf(),
        message: message.into(),
    }
}

/// The file's bytes (gunzipped when gzipped) and its HDUs.
fn parse(path: &Path) -> Result<(Vec<u8>, FitsData), DatasetError> {
    let mut bytes = std::fs::read(path).map_err(|e| bad(path, e.to_string()))?;
    if fitsio_pure::gzip::is_gzip(&bytes) {
        bytes = fitsio_pure::gzip::decompress(&bytes)
            .map_err(|e| bad(path, format!("gzipped, but not readable ({e:?})")))?;
    }
    let fits = fitsio_pure::hdu::parse_fits(&bytes)
        .map_err(|e| bad(path, format!("not a FITS file ({e:?})")))?;
    Ok((bytes, fits))
}

fn is_image(hdu: &Hdu) -> bool {
    fitsio_pure::image::image_dimensions(hdu).is_ok_and(|d| !d.is_empty())
}

fn extname(hdu: &Hdu) -> Option<&str> {
    text(&hdu.cards, "EXTNAME")
}

fn extension_names_of(fits: &FitsData) -> Vec<String> {
    fits.iter()
        .filter(|h| is_image(h))
        .filter_map(|h| extname(h).map(str::to_string))
        .collect()
}

/// The `EXTNAME`s of the image extensions of `path`, in file order: the bands of a
/// multi-extension cutout.
pub fn extension_names(path: &Path) -> Result<Vec<String>, DatasetError> {
    Ok(extension_names_of(&parse(path)?.1))
}

fn stamp_of(bytes: &[u8], hdu: &Hdu) -> Result<Stamp, String> {
    let dims = fitsio_pure::image::image_dimensions(hdu).map_err(|e| format!("{e:?}"))?;
    // Axes past the second of length 1 (NAXIS3 = 1, as some pipelines write a single image)
    // hold one plane: the stamp.
    if dims.len() < 2 || dims[2..].iter().any(|&n| n != 1) {
        let shape: Vec<String> = dims.iter().map(|n| n.to_string()).collect();
        return Err(format!(
            "the image has {} axes ({}, NAXIS1 first): a stamp has 2, or more of length 1",
            dims.len(),
            shape.join(" × ")
        ));
    }
    let pixels = fitsio_pure::image::read_image_physical_f32(bytes, hdu)
        .map_err(|e| format!("its image cannot be read ({e:?})"))?;
    let wcs = Wcs::from_header(&hdu.cards);
    let degrees = number(&hdu.cards, "CDELT2").or_else(|| {
        let (c21, c22) = (number(&hdu.cards, "CD2_1")?, number(&hdu.cards, "CD2_2")?);
        Some(c21.hypot(c22))
    });
    let pixel_scale = number(&hdu.cards, "PIXSCALE")
        .or(wcs.as_ref().ok().map(Wcs::pixel_scale))
        .or(degrees.map(|d| d.abs() * 3600.0))
        .filter(|s| s.is_finite() && *s > 0.0);
    let zero_point = zero_point(&hdu.cards);
    Ok(Stamp {
        pixels,
        shape: [dims[1], dims[0]],
        pixel_scale,
        wcs,
        zero_point,
    })
}

/// The zero point from the first of [`ZERO_POINT_CARDS`] in `cards`, or why there is none.
fn zero_point(cards: &[fitsio_pure::header::Card]) -> Result<f64, String> {
    let Some(card) = ZERO_POINT_CARDS
        .iter()
        .find(|&&k| cards.iter().any(|c| c.keyword_str() == k))
    else {
        return Err(format!(
            "its header has none of {}",
            ZERO_POINT_CARDS.join(", ")
        ));
    };
    number(cards, card)
        .filter(|z| z.is_finite())
        .ok_or_else(|| format!("its header's {card} is not a finite number"))
}

/// A point-spread function given as an image: a kernel of odd side, unit sum.
#[derive(Clone, Debug, PartialEq)]
pub struct PsfImage {
    /// The kernel, row-major, side × side, summing to 1.
    pub kernel: Vec<f64>,
    /// Pixels a side (odd).
    pub side: usize,
    /// Arcsec per pixel, where the header gives it.
    pub pixel_scale: Option<f64>,
}

/// Reads the PSF image `path` (its first image): square, of odd side, finite, and of positive
/// sum, normalised to unit sum; an error naming the file says which it is not.
pub fn read_psf(path: &Path) -> Result<PsfImage, DatasetError> {
    let s = read_stamp(path)?;
    let [h, w] = s.shape;
    if h != w || h % 2 == 0 {
        return Err(bad(
            path,
            format!("a PSF image is square with an odd side (its centre a pixel): this is {h}×{w}"),
        ));
    }
    if s.pixels.iter().any(|v| !v.is_finite()) {
        return Err(bad(path, "a PSF image with a pixel that is not finite"));
    }
    let total: f64 = s.pixels.iter().map(|&v| v as f64).sum();
    if total <= 0.0 {
        return Err(bad(
            path,
            format!("a PSF image of sum {total}: it must be positive"),
        ));
    }
    Ok(PsfImage {
        kernel: s.pixels.iter().map(|&v| v as f64 / total).collect(),
        side: h,
        pixel_scale: s.pixel_scale,
    })
}

/// Reads the stamp in `path` (its first image).
pub fn read_stamp(path: &Path) -> Result<Stamp, DatasetError> {
    StampRef::file(path.to_path_buf()).read()
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
    /// The IDs of the objects with a stamp in some band, ascending.
    pub ids: Vec<u64>,
    /// The objects that lack a stamp in some band, with the file that is missing, per band
    /// (in the layout's order): `missing[band]` holds (ID, what is wrong).
    pub missing: Vec<Vec<(u64, BadCutout)>>,
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

    /// Opens the folder `path`: finds its layout and every band's stamps; an object that lacks a
    /// stamp in some band is noted in [`Self::missing`] with the file that is missing.
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
        if all.is_empty() {
            return Err(bad(&public, "no stamps in the challenge folder"));
        }
        let mut missing = vec![Vec::new(); bands.len()];
        for &id in &all {
            for (k, ids) in per_band.iter().enumerate() {
                if !ids.contains(&id) {
                    let (_, dir, prefix) = &layout.bands()[k];
                    missing[k].push((
                        id,
                        BadCutout {
                            id: id.to_string(),
                            at: public
                                .join(dir)
                                .join(format!("{prefix}{id}.fits"))
                                .display()
                                .to_string(),
                            reason: format!(
                                "missing: object {id} has stamps in other bands but none in {}",
                                bands[k].0
                            ),
                        },
                    ));
                }
            }
        }
        let ids = all.into_iter().collect();
        let catalogue = Some(root.join(layout.catalogue_name())).filter(|c| c.is_file());
        Ok(Self {
            root,
            layout,
            bands,
            ids,
            catalogue,
            missing,
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
    fn a_folder_object_missing_a_stamp_is_noted_naming_it() {
        // Two objects in VIS, Y and H, one of them absent from J: the J file is named.
        let dir = tempfile::tempdir().unwrap();
        for (band, ids) in [("VIS", [7, 9]), ("Y", [7, 9]), ("J", [7, 7]), ("H", [9, 7])] {
            let d = dir.path().join("Public").join(format!("EUC_{band}"));
            std::fs::create_dir_all(&d).unwrap();
            for id in ids {
                std::fs::write(d.join(format!("imageEUC_{band}-{id}.fits")), b"").unwrap();
            }
        }
        let folder = ChallengeFolder::open(dir.path()).unwrap();
        assert_eq!(folder.ids, [7, 9]);
        assert!(folder.missing[0].is_empty() && folder.missing[3].is_empty());
        assert_eq!(folder.missing[2].len(), 1);
        let (id, b) = &folder.missing[2][0];
        assert_eq!(*id, 9);
        assert!(b.at.ends_with("Public/EUC_J/imageEUC_J-9.fits"), "{b:?}");
        assert!(b.reason.contains("object 9"), "{b:?}");
        // Not a challenge folder at all.
        let e = ChallengeFolder::open(&dir.path().join("Public/EUC_J")).unwrap_err();
        assert!(e.message.contains("not a challenge folder"), "{e:?}");
    }

    /// The first zero-point card present decides: its number, or an error naming it when it is
    /// not a finite number (a string), and without any card, an error listing them all.
    #[test]
    fn the_zero_point_is_the_first_card_s_or_says_why_not() {
        let card = |text: &str| {
            let mut bytes = [b' '; 80];
            bytes[..text.len()].copy_from_slice(text.as_bytes());
            fitsio_pure::header::parse_card(&bytes).unwrap()
        };
        let cards = [
            card("MAGZPT  =                 30.1"),
            card("ZP      =                 25.0"),
        ];
        assert_eq!(zero_point(&cards), Ok(30.1));
        let cards = [
            card("MAGZERO = 'abc'"),
            card("ZP      =                 25.0"),
        ];
        let e = zero_point(&cards).unwrap_err();
        assert!(
            e.contains("MAGZERO") && e.contains("not a finite number"),
            "{e}"
        );
        let e = zero_point(&[card("EXPTIME =                 90.0")]).unwrap_err();
        assert!(
            e.contains("none of MAGZERO, MAGZPT, PHOTZP, ZEROPT, ZP"),
            "{e}"
        );
    }
}
