//! Objects held as FITS stamps ([`crate::cutouts::Cutouts`]), however they were listed: a
//! challenge folder, a list or a folder of cutouts. Every stamp the network
//! reads is checked when the source is opened, so that a bad one is named (with its path)
//! before any work, and then refused or skipped as [`BadCutouts`] says; each band's stamps are
//! brought onto one grid ([`Grid`]) as they are read.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::cutouts::{BadCutout, Cutouts};
use crate::dataset::DatasetError;
use crate::resample::{fits_grid, resample};
use crate::stamps::{Stamp, StampRef};

/// What to do with a cutout that cannot be used (a band missing, unreadable, no finite pixel,
/// a shape or pixel scale that cannot be brought onto the band's grid, no WCS where RA/Dec are
/// asked for).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum BadCutouts {
    /// Refuse the source, naming the first bad cutout's file and how many are bad.
    #[default]
    Refuse,
    /// Leave the bad cutouts out, saying how many and which.
    Skip,
}

/// The grid a band's images are read onto: `side` × `side` pixels of `pixel_scale` arcsec, the
/// pixel scale unknown (`None`) for a dataset that records none.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    /// Pixels a side.
    pub side: usize,
    /// Arcsec per pixel.
    pub pixel_scale: Option<f64>,
}

/// How a source of stamps is opened.
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// The bands to check and read (all of the source's when empty).
    pub bands: Vec<String>,
    /// Refuse or skip bad cutouts.
    pub bad_cutouts: BadCutouts,
    /// Each cutout must give its (RA, Dec): from the list, or else from its WCS.
    pub need_positions: bool,
    /// The grids to bring bands onto (a trained network's); a band not named here gets its
    /// stamps' most common shape and pixel scale.
    pub grids: Vec<(String, Grid)>,
}

/// Objects as FITS stamps, checked: their IDs, bands, stamps, labels, positions, each band's
/// grid, and the cutouts left out.
#[derive(Debug)]
pub struct Stamps {
    cutouts: Cutouts,
    /// The bands read, with their grids.
    grids: Vec<(String, Grid)>,
    positions: Option<Vec<[f64; 2]>>,
    skipped: Vec<BadCutout>,
}

fn bad(file: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

/// A stamp's [rows, columns] and pixel scale (arcsec), as its header gives them.
type Geometry = ([usize; 2], Option<f64>);

/// What one object's stamps say, read once when the source is opened.
struct Seen {
    /// Per band read.
    stamps: Vec<Geometry>,
    /// The first band's WCS centre, or why there is none.
    centre: Result<[f64; 2], String>,
    /// Per band read, the object's own PSF image (its path and pixel scale) where listed.
    psfs: Vec<Option<(String, Option<f64>)>>,
}

impl Stamps {
    /// Checks every stamp of `cutouts` in the bands `options` names (in parallel), sets each
    /// band's grid, and refuses or skips the bad cutouts.
    pub fn open(mut cutouts: Cutouts, options: &OpenOptions) -> Result<Self, DatasetError> {
        let origin = cutouts.origin.clone();
        let bands: Vec<String> = if options.bands.is_empty() {
            cutouts.bands.clone()
        } else {
            options.bands.clone()
        };
        let band_at: Vec<usize> = bands
            .iter()
            .map(|b| {
                cutouts.bands.iter().position(|c| c == b).ok_or_else(|| {
                    bad(
                        &origin,
                        format!(
                            "band `{b}` is not here (there are {})",
                            cutouts.bands.join(", ")
                        ),
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        let seen: Vec<Result<Seen, BadCutout>> = (0..cutouts.ids.len())
            .into_par_iter()
            .map(|i| look(&cutouts, &band_at, i))
            .collect();
        let grids: Vec<(String, Grid)> = bands
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let given = options.grids.iter().find(|(g, _)| g == b).map(|g| g.1);
                let grid = match given {
                    Some(g) => g,
                    None => most_common_grid(&origin, b, &seen, k)?,
                };
                Ok((b.clone(), grid))
            })
            .collect::<Result<_, DatasetError>>()?;
        let list_positions = cutouts.positions.is_some();
        let mut bad_ones = std::mem::take(&mut cutouts.strays);
        let mut keep = Vec::new();
        let need_wcs = options.need_positions && !list_positions;
        for (i, s) in seen.iter().enumerate() {
            match s
                .as_ref()
                .map_err(Clone::clone)
                .and_then(|s| judge(&cutouts, &band_at, &grids, s, i, need_wcs))
            {
                Ok(()) => keep.push(i),
                Err(b) => bad_ones.push(b),
            }
        }
        if let Some(first) = bad_ones.first() {
            if options.bad_cutouts == BadCutouts::Refuse || keep.is_empty() {
                let more = match bad_ones.len() - 1 {
                    0 => String::new(),
                    n => format!("; {n} more bad cutouts"),
                };
                let advice = if keep.is_empty() {
                    " (no cutout is usable)"
                } else {
                    "; --bad-cutouts skip leaves them out"
                };
                return Err(bad(
                    Path::new(&first.at),
                    format!("{}{more}{advice}", with_object(first)),
                ));
            }
        }
        // Positions: the list's, else every kept cutout's WCS centre when all have one.
        let centres: Option<Vec<[f64; 2]>> = keep
            .iter()
            .map(|&i| seen[i].as_ref().ok()?.centre.as_ref().ok().copied())
            .collect();
        cutouts.retain(&keep);
        let positions = cutouts.positions.clone().or(centres);
        Ok(Self {
            cutouts,
            grids,
            positions,
            skipped: bad_ones,
        })
    }

    /// The folder or list.
    pub fn path(&self) -> &Path {
        &self.cutouts.origin
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.cutouts.ids.len()
    }

    /// Whether there is no object (an opened source always has some).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bands read, in the order asked for.
    pub fn bands(&self) -> Vec<String> {
        self.grids.iter().map(|(b, _)| b.clone()).collect()
    }

    /// The objects' IDs, in the listing's order.
    pub fn ids(&self) -> &[String] {
        &self.cutouts.ids
    }

    /// The labels, or why there are none (a blind set, a list without `is_lens`).
    pub fn labels(&self) -> Result<&[bool], &str> {
        self.cutouts.labels.as_deref().map_err(String::as_str)
    }

    /// (RA, Dec) in degrees: the list's, or each cutout's WCS centre where every one has a WCS.
    pub fn positions(&self) -> Option<&[[f64; 2]]> {
        self.positions.as_deref()
    }

    /// The cutouts left out (with `--bad-cutouts skip`), with what is wrong with each.
    pub fn skipped(&self) -> &[BadCutout] {
        &self.skipped
    }

    /// What to tell the user of the cutouts left out: how many of how many, and the first 20
    /// with what is wrong with each (None when none was).
    pub fn skipped_report(&self) -> Option<String> {
        let skipped = &self.skipped;
        if skipped.is_empty() {
            return None;
        }
        let mut text = format!(
            "{}: skipped {} bad cutouts of {} (--bad-cutouts skip):",
            self.path().display(),
            skipped.len(),
            skipped.len() + self.len()
        );
        for b in skipped.iter().take(20) {
            text.push_str(&format!("\n  {}: {}", b.at, with_object(b)));
        }
        if skipped.len() > 20 {
            text.push_str(&format!("\n  … and {} more", skipped.len() - 20));
        }
        Some(text)
    }

    fn band_index(&self, band: &str) -> Result<usize, DatasetError> {
        self.grids
            .iter()
            .position(|(b, _)| b == band)
            .ok_or_else(|| {
                bad(
                    self.path(),
                    format!(
                        "band `{band}` is not read here (the bands are {})",
                        self.bands().join(", ")
                    ),
                )
            })
    }

    /// The grid `band`'s stamps are read onto.
    pub fn grid(&self, band: &str) -> Option<Grid> {
        Some(self.grids[self.band_index(band).ok()?].1)
    }

    /// The stamps of `band` for the objects `indices` on the band's grid, read in parallel:
    /// `indices.len()` × side × side values, row-major.
    pub fn read_images(&self, band: &str, indices: &[usize]) -> Result<Vec<f32>, DatasetError> {
        let n = self.grids[self.band_index(band)?].1.side;
        let mut out = vec![0f32; indices.len() * n * n];
        out.par_chunks_mut(n * n)
            .zip(indices.par_iter())
            .try_for_each(|(o, &i)| {
                o.copy_from_slice(&self.read_on_grid(band, i)?.pixels);
                Ok::<(), DatasetError>(())
            })?;
        Ok(out)
    }

    /// Object `i`'s stamp in `band`, brought onto the band's grid (its `shape` and
    /// `pixel_scale` then the grid's; the rest of its header as read).
    pub fn read_on_grid(&self, band: &str, i: usize) -> Result<Stamp, DatasetError> {
        let k = self.band_index(band)?;
        let grid = self.grids[k].1;
        let source = self
            .cutouts
            .bands
            .iter()
            .position(|b| b == band)
            .unwrap_or(k);
        if i >= self.len() {
            return Err(bad(
                self.path(),
                format!("object {i} requested, there are {}", self.len()),
            ));
        }
        let at = self.cutouts.stamps[source][i]
            .as_ref()
            .map_err(|b| bad(Path::new(&b.at), b.reason.clone()))?;
        let mut s = at.read()?;
        let how = fits_grid(s.shape, s.pixel_scale, &grid)
            .map_err(|reason| bad(&at.path, format!("{at}: {reason}")))?;
        if let Some(r) = how {
            let n = grid.side;
            let mut o = vec![0f32; n * n];
            resample(&s.pixels, s.shape, n, r.ratio, &mut o);
            o.iter_mut().for_each(|v| *v *= r.gain);
            s.pixels = o;
            s.shape = [n, n];
            s.pixel_scale = grid.pixel_scale.or(s.pixel_scale);
        }
        Ok(s)
    }

    /// Object `i`'s own PSF image in `band`, where the list names one (checked when opened:
    /// square, odd, finite, on the band's grid).
    pub fn psf(&self, band: &str, i: usize) -> Option<&Path> {
        self.cutouts.psf(band, i)
    }

    /// Whether the listing names a PSF image for any object in `band`.
    pub fn has_psfs(&self, band: &str) -> bool {
        self.cutouts.psfs.iter().any(|(b, _)| b == band)
    }

    /// Where object `i`'s stamp in `band` is (its file, and extension in a multi-extension
    /// file).
    pub fn stamp_ref(&self, band: &str, i: usize) -> Option<&StampRef> {
        let k = self.cutouts.bands.iter().position(|b| b == band)?;
        self.cutouts.stamps[k].get(i)?.as_ref().ok()
    }
}

/// What is wrong with a cutout, naming its object where the reason does not.
pub fn with_object(b: &BadCutout) -> String {
    let id = &b.id;
    if b.reason.contains(&format!("`{id}`")) || b.reason.contains(&format!("object {id} ")) {
        b.reason.clone()
    } else {
        format!("{} (object `{id}`)", b.reason)
    }
}

/// A stamp's name for messages: its file (and extension), or where its absence was noted.
fn stamp_name(stamp: &Result<StampRef, BadCutout>) -> String {
    match stamp {
        Ok(s) => s.to_string(),
        Err(b) => b.at.clone(),
    }
}

/// Reads object `i`'s stamps in the bands `band_at` (indices into the listing's bands).
fn look(cutouts: &Cutouts, band_at: &[usize], i: usize) -> Result<Seen, BadCutout> {
    let mut stamps = Vec::new();
    let mut psfs = Vec::new();
    let mut centre = Err(String::new());
    // A missing stamp first: what is absent says more than what is unreadable.
    if let Some(Err(why)) = band_at
        .iter()
        .map(|&b| &cutouts.stamps[b][i])
        .find(|s| s.is_err())
    {
        return Err(why.clone());
    }
    for (k, &b) in band_at.iter().enumerate() {
        let at = cutouts.stamps[b][i].as_ref().map_err(Clone::clone)?;
        let fault = |reason: String| BadCutout {
            id: cutouts.ids[i].clone(),
            at: at.to_string(),
            reason,
        };
        let s = at.read().map_err(|e| fault(e.message))?;
        if !s.pixels.iter().any(|v| v.is_finite()) {
            return Err(fault(format!(
                "band {}: no finite pixel (all NaN or infinite)",
                cutouts.bands[b]
            )));
        }
        if k == 0 {
            centre = s
                .centre()
                .map_err(|why| format!("{at} has no usable WCS: {why}"));
        }
        stamps.push((s.shape, s.pixel_scale));
        let band = &cutouts.bands[b];
        psfs.push(match cutouts.psf(band, i) {
            None => None,
            Some(path) => {
                let psf_fault = |reason: String| BadCutout {
                    id: cutouts.ids[i].clone(),
                    at: path.display().to_string(),
                    reason: format!("the PSF of band {band}: {reason}"),
                };
                let psf = crate::stamps::read_psf(path).map_err(|e| psf_fault(e.message))?;
                if psf.side > s.shape[0].min(s.shape[1]) {
                    return Err(psf_fault(format!(
                        "{} pixels a side, more than its stamp's {}×{}",
                        psf.side, s.shape[0], s.shape[1]
                    )));
                }
                Some((path.display().to_string(), psf.pixel_scale))
            }
        });
    }
    Ok(Seen {
        stamps,
        centre,
        psfs,
    })
}

/// Whether object `i`, whose stamps `seen` were read, can be used: each band's stamp brought
/// onto its grid, and with `need_wcs` the first band's stamp giving the object's position.
fn judge(
    cutouts: &Cutouts,
    band_at: &[usize],
    grids: &[(String, Grid)],
    seen: &Seen,
    i: usize,
    need_wcs: bool,
) -> Result<(), BadCutout> {
    let fault = |k: usize, reason: String| BadCutout {
        id: cutouts.ids[i].clone(),
        at: stamp_name(&cutouts.stamps[band_at[k]][i]),
        reason,
    };
    for (k, (band, grid)) in grids.iter().enumerate() {
        let (shape, scale) = seen.stamps[k];
        fits_grid(shape, scale, grid).map_err(|why| fault(k, format!("band {band}: {why}")))?;
        if let (Some((path, Some(p))), Some(g)) = (&seen.psfs[k], grid.pixel_scale) {
            if (p - g).abs() > 1e-6 * g {
                return Err(BadCutout {
                    id: cutouts.ids[i].clone(),
                    at: path.clone(),
                    reason: format!(
                        "the PSF of band {band} is sampled at {p}\"/pixel, the band's grid at {g}\""
                    ),
                });
            }
        }
    }
    match &seen.centre {
        Err(why) if need_wcs => Err(fault(0, format!("RA and Dec are asked for, and {why}"))),
        _ => Ok(()),
    }
}

/// The most common (shape, pixel scale) of band `k` among the readable objects, the first seen
/// on a tie; refused when it is not square.
fn most_common_grid(
    origin: &Path,
    band: &str,
    seen: &[Result<Seen, BadCutout>],
    k: usize,
) -> Result<Grid, DatasetError> {
    let mut counts: Vec<(Geometry, usize)> = Vec::new();
    for s in seen.iter().flatten() {
        let key = s.stamps[k];
        match counts.iter_mut().find(|(c, _)| *c == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    let best = counts.iter().map(|c| c.1).max().unwrap_or(0);
    let Some((([h, w], scale), _)) = counts.into_iter().find(|c| c.1 == best) else {
        // No readable object: the bad ones are reported by the caller.
        return Ok(Grid {
            side: 1,
            pixel_scale: None,
        });
    };
    if h != w {
        return Err(bad(
            origin,
            format!("band {band}: most stamps are {h}×{w}: the network reads square stamps"),
        ));
    }
    Ok(Grid {
        side: h,
        pixel_scale: scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixtures() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cutouts/survey")
    }

    /// The fixtures' VIS stamps (40² at 0.1") read onto a grid of 20² at 0.2" are their 2 × 2
    /// block sums, which is what the fixtures' coarse/ stamps hold (make-cutouts.py): bilinear
    /// at half-pixel centres halfway between four pixels is their mean, and the area gain is 4.
    #[test]
    fn stamps_of_another_pixel_scale_are_brought_onto_the_grid_with_their_flux() {
        let options = |grid| OpenOptions {
            bands: vec!["VIS".into()],
            grids: vec![("VIS".into(), grid)],
            ..OpenOptions::default()
        };
        let fine = Cutouts::open_folder(&fixtures().join("per-band")).unwrap();
        let coarse = Cutouts::open_folder(&fixtures().join("coarse")).unwrap();
        let grid = Grid {
            side: 20,
            pixel_scale: Some(0.2),
        };
        let fine = Stamps::open(fine, &options(grid)).unwrap();
        let coarse = Stamps::open(coarse, &options(grid)).unwrap();
        let all = [0, 1, 2, 3];
        let a = fine.read_images("VIS", &all).unwrap();
        let b = coarse.read_images("VIS", &all).unwrap();
        assert_eq!(a.len(), 4 * 20 * 20);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
        // A grid with a pixel scale refuses a stamp without one, naming it.
        let bad = Cutouts::open_list(&fixtures().join("bad-list.csv")).unwrap();
        let e = Stamps::open(
            bad,
            &OpenOptions {
                bands: vec!["J".into()],
                ..OpenOptions::default()
            },
        )
        .unwrap_err();
        // Only J is read, so the object that lacks H is not a bad one here.
        let text = e.to_string();
        assert!(
            text.contains("b2-shape_J.fits") && text.contains("pixel scale cannot be read"),
            "{text}"
        );
        assert!(
            !text.contains("more bad cutouts"),
            "the only bad J stamp: {text}"
        );
    }
}
