//! A survey's cutouts: objects held as FITS stamps, listed in a CSV or found in a folder, each
//! object either one file per band or one multi-extension file whose extensions are named
//! (`EXTNAME`) after the bands. This is how real images are pointed at a trained finder.
//!
//! - **A list** (CSV, `#` comments): `id`; then either one column per band holding the path of
//!   that band's stamp, or one column `file` holding each object's multi-extension file (its
//!   bands are the first listed file's extension names); optionally `ra` and `dec` (degrees,
//!   both or neither), `is_lens` (1/0 or true/false) and, per band, `psf_<band>`: the path of
//!   the object's own PSF image in that band (for `sim inject`). Paths are relative to the
//!   list's folder, or absolute.
//! - **A folder** (not a challenge folder): its `.fits`, `.fit`, `.fits.gz` and `.fits.fz`
//!   (tile-compressed) files, by name.
//!   When the first holds two or more named image extensions, every file is one object's
//!   multi-extension cutout, `<id>.fits`; otherwise every file is one band of one object,
//!   `<id>_<band>.fits` (the band after the last `_`).
//!
//! An object that lacks a band is listed with what is wrong in place of that band's stamp (the
//! path at fault), for a reader of that band to refuse or skip it; a file in a folder that names
//! no object is kept in [`Cutouts::strays`]. What makes the listing itself unreadable (no
//! `id` column, an ID twice, a position or label that is not one) is refused with its line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::dataset::DatasetError;
use crate::stamps::{extension_names, StampRef};
use crate::table::{parse_finite, parse_label, repeated_column, repeated_message};

/// An object left out of a listing or found bad when read: its ID, the stamp or line at fault
/// and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCutout {
    /// The object's ID.
    pub id: String,
    /// The file (or `file[EXTNAME]`, or the list and its line) at fault.
    pub at: String,
    /// What is wrong.
    pub reason: String,
}

/// Objects as FITS stamps: their IDs, bands, where every (band, object) stamp is, and what the
/// listing says besides.
#[derive(Clone, Debug)]
pub struct Cutouts {
    /// The list or folder they come from.
    pub origin: PathBuf,
    /// The objects' IDs, in the listing's order.
    pub ids: Vec<String>,
    /// The bands.
    pub bands: Vec<String>,
    /// Per band, every object's stamp, or why it has none.
    pub stamps: Vec<Vec<Result<StampRef, BadCutout>>>,
    /// The labels, or why there are none.
    pub labels: Result<Vec<bool>, String>,
    /// (RA, Dec) in degrees, where the list gives them.
    pub positions: Option<Vec<[f64; 2]>>,
    /// Files of a folder that name no object (not `<id>_<band>.fits`).
    pub strays: Vec<BadCutout>,
    /// Per band that a list's `psf_<band>` column names, every object's own PSF image (None
    /// where the cell is empty: the survey's PSF then).
    pub psfs: Vec<(String, Vec<Option<PathBuf>>)>,
}

fn bad(path: &Path, message: impl Into<String>) -> DatasetError {
    DatasetError {
        file: path.to_path_buf(),
        message: message.into(),
    }
}

impl Cutouts {
    /// Reads the CSV list `list`.
    pub fn open_list(list: &Path) -> Result<Self, DatasetError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_path(list)
            .map_err(|e| bad(list, e.to_string()))?;
        let header = reader
            .headers()
            .map_err(|e| bad(list, e.to_string()))?
            .clone();
        if let Some(c) = repeated_column(&header) {
            return Err(bad(list, repeated_message(&c)));
        }
        let at = |name: &str| header.iter().position(|h| h == name);
        let id_at = at("id").ok_or_else(|| {
            bad(
                list,
                "no column `id`: a list of cutouts has `id`, one path column per band (or one \
                 `file` column of multi-extension files), and optionally `ra`, `dec` and \
                 `is_lens`",
            )
        })?;
        let (ra_at, dec_at, lens_at, file_at) = (at("ra"), at("dec"), at("is_lens"), at("file"));
        if ra_at.is_some() != dec_at.is_some() {
            return Err(bad(list, "`ra` without `dec` or `dec` without `ra`"));
        }
        let special = [Some(id_at), ra_at, dec_at, lens_at, file_at];
        let psf_at: Vec<(String, usize)> = (0..header.len())
            .filter_map(|k| Some((header[k].strip_prefix("psf_")?.to_string(), k)))
            .collect();
        let band_at: Vec<usize> = (0..header.len())
            .filter(|k| !special.contains(&Some(*k)) && !psf_at.iter().any(|p| p.1 == *k))
            .collect();
        if file_at.is_some() && !band_at.is_empty() {
            return Err(bad(
                list,
                format!(
                    "both a `file` column and band columns ({}): a list names one \
                     multi-extension file per object, or one file per band",
                    band_at
                        .iter()
                        .map(|&k| &header[k])
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if file_at.is_none() && band_at.is_empty() {
            return Err(bad(
                list,
                "no band columns (one path column per band) and no `file` column",
            ));
        }
        let folder = list.parent().unwrap_or(Path::new("."));
        let mut rows = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| bad(list, e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |k: usize| record.get(k).unwrap_or("").to_string();
            let id = field(id_at);
            if id.is_empty() {
                return Err(bad(list, format!("line {line}: no ID")));
            }
            if let Some(first) = seen.insert(id.clone(), line) {
                return Err(bad(
                    list,
                    format!("line {line}: ID `{id}` again (first on line {first})"),
                ));
            }
            let not = |name: &str, text: &str, expected: &str| {
                bad(
                    list,
                    format!("line {line}, column `{name}`: `{text}` is not {expected}"),
                )
            };
            let number = |k: Option<usize>, name: &str| {
                k.map(|k| {
                    parse_finite(&field(k)).ok_or_else(|| not(name, &field(k), "a finite number"))
                })
                .transpose()
            };
            let position = match (number(ra_at, "ra")?, number(dec_at, "dec")?) {
                (Some(ra), Some(dec)) => Some([ra, dec]),
                _ => None,
            };
            let label = lens_at
                .map(|k| {
                    parse_label(&field(k))
                        .ok_or_else(|| not("is_lens", &field(k), "a label (1/0 or true/false)"))
                })
                .transpose()?;
            let paths: Vec<String> = match file_at {
                Some(k) => vec![field(k)],
                None => band_at.iter().map(|&k| field(k)).collect(),
            };
            let psfs = psf_at.iter().map(|&(_, k)| field(k)).collect();
            rows.push(Row {
                id,
                line,
                paths,
                psfs,
                position,
                label,
            });
        }
        if rows.is_empty() {
            return Err(bad(list, "no cutouts listed"));
        }
        let named = |text: &str| folder.join(text);
        let bands: Vec<String> = match file_at {
            None => band_at.iter().map(|&k| header[k].to_string()).collect(),
            Some(_) => {
                // The bands are the first readable multi-extension file's.
                let first = rows
                    .iter()
                    .map(|r| named(&r.paths[0]))
                    .find(|p| p.is_file())
                    .ok_or_else(|| bad(list, "none of the listed files exists"))?;
                multi_extension_bands(&first)?
            }
        };
        if let Some((band, _)) = psf_at.iter().find(|(b, _)| !bands.contains(b)) {
            return Err(bad(
                list,
                format!(
                    "column `psf_{band}`: there is no band {band} (the bands are {})",
                    bands.join(", ")
                ),
            ));
        }
        let mut out = Self::empty(list, &bands, lens_at.is_some(), ra_at.is_some());
        out.psfs = psf_at
            .iter()
            .map(|(b, _)| (b.clone(), Vec::new()))
            .collect();
        for row in rows {
            let at_line = format!("{}, line {}", list.display(), row.line);
            let stamps: Vec<Result<StampRef, BadCutout>> = match file_at {
                Some(_) => {
                    let path = named(&row.paths[0]);
                    bands
                        .iter()
                        .map(|b| {
                            if row.paths[0].is_empty() || !path.is_file() {
                                Err(missing(&row.id, &path, &at_line, "its file"))
                            } else {
                                Ok(StampRef {
                                    path: path.clone(),
                                    extension: Some(b.clone()),
                                })
                            }
                        })
                        .collect()
                }
                None => row
                    .paths
                    .iter()
                    .zip(&bands)
                    .map(|(text, band)| {
                        let path = named(text);
                        if text.is_empty() {
                            Err(BadCutout {
                                id: row.id.clone(),
                                at: at_line.clone(),
                                reason: format!("no stamp in band {band}"),
                            })
                        } else if !path.is_file() {
                            Err(missing(&row.id, &path, &at_line, &format!("band {band}")))
                        } else {
                            Ok(StampRef::file(path))
                        }
                    })
                    .collect(),
            };
            let mut stamps = stamps;
            for ((band, _), text) in psf_at.iter().zip(&row.psfs) {
                let path = named(text);
                let b = bands.iter().position(|x| x == band).expect("checked above");
                if !text.is_empty() && !path.is_file() && stamps[b].is_ok() {
                    stamps[b] = Err(missing(
                        &row.id,
                        &path,
                        &at_line,
                        &format!("its PSF in band {band}"),
                    ));
                }
            }
            for ((_, psfs), text) in out.psfs.iter_mut().zip(&row.psfs) {
                psfs.push((!text.is_empty()).then(|| named(text)));
            }
            out.push(row.id, stamps, row.label, row.position);
        }
        Ok(out)
    }

    /// Finds the cutouts in the folder `dir`.
    pub fn open_folder(dir: &Path) -> Result<Self, DatasetError> {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| bad(dir, e.to_string()))? {
            let path = entry.map_err(|e| bad(dir, e.to_string()))?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().to_string());
            let stem = name.as_deref().and_then(fits_stem);
            if let (Some(stem), true) = (stem, path.is_file()) {
                files.push((stem.to_string(), path));
            }
        }
        files.sort();
        let Some((_, first)) = files.first() else {
            return Err(bad(
                dir,
                "no FITS files (.fits, .fit, .fits.gz, .fits.fz) here, and not a challenge folder",
            ));
        };
        let first_bands = extension_names(first).unwrap_or_default();
        if first_bands.len() >= 2 {
            let mut out = Self::empty(dir, &first_bands, false, false);
            for (id, path) in files {
                let stamps = first_bands
                    .iter()
                    .map(|b| {
                        Ok(StampRef {
                            path: path.clone(),
                            extension: Some(b.clone()),
                        })
                    })
                    .collect();
                out.push(id, stamps, None, None);
            }
            return Ok(out);
        }
        // One file per band: <id>_<band>.
        let mut by_id: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
        let mut unnamed = Vec::new();
        for (stem, path) in files {
            match stem.rsplit_once('_') {
                Some((id, band)) if !id.is_empty() && !band.is_empty() => {
                    by_id
                        .entry(id.to_string())
                        .or_default()
                        .insert(band.to_string(), path);
                }
                _ => unnamed.push(BadCutout {
                    id: stem,
                    at: path.display().to_string(),
                    reason: "not named <id>_<band>.fits (nor a multi-extension cutout)".into(),
                }),
            }
        }
        if by_id.is_empty() {
            let first = &unnamed[0];
            return Err(bad(
                Path::new(&first.at),
                format!(
                    "{}; no file of {} names an object",
                    first.reason,
                    dir.display()
                ),
            ));
        }
        let mut bands: Vec<String> = Vec::new();
        for b in by_id.values().flat_map(|m| m.keys()) {
            if !bands.contains(b) {
                bands.push(b.clone());
            }
        }
        bands.sort();
        let mut out = Self::empty(dir, &bands, false, false);
        out.strays = unnamed;
        for (id, per_band) in by_id {
            let stamps = bands
                .iter()
                .map(|b| match per_band.get(b) {
                    Some(path) => Ok(StampRef::file(path.clone())),
                    None => Err(missing(
                        &id,
                        &dir.join(format!("{id}_{b}.fits")),
                        &dir.display().to_string(),
                        &format!("band {b}"),
                    )),
                })
                .collect();
            out.push(id, stamps, None, None);
        }
        Ok(out)
    }

    fn empty(origin: &Path, bands: &[String], labelled: bool, positioned: bool) -> Self {
        Self {
            origin: origin.to_path_buf(),
            ids: Vec::new(),
            bands: bands.to_vec(),
            stamps: vec![Vec::new(); bands.len()],
            labels: if labelled {
                Ok(Vec::new())
            } else {
                Err("no `is_lens` column in a list of cutouts, so no labels".into())
            },
            positions: positioned.then(Vec::new),
            strays: Vec::new(),
            psfs: Vec::new(),
        }
    }

    fn push(
        &mut self,
        id: String,
        stamps: Vec<Result<StampRef, BadCutout>>,
        label: Option<bool>,
        position: Option<[f64; 2]>,
    ) {
        self.ids.push(id);
        for (band, s) in self.stamps.iter_mut().zip(stamps) {
            band.push(s);
        }
        if let (Ok(labels), Some(l)) = (&mut self.labels, label) {
            labels.push(l);
        }
        if let (Some(positions), Some(p)) = (&mut self.positions, position) {
            positions.push(p);
        }
    }

    /// Keeps only the objects `keep` (indices, ascending).
    pub fn retain(&mut self, keep: &[usize]) {
        self.ids = keep.iter().map(|&i| self.ids[i].clone()).collect();
        for band in &mut self.stamps {
            *band = keep.iter().map(|&i| band[i].clone()).collect();
        }
        if let Ok(labels) = &mut self.labels {
            *labels = keep.iter().map(|&i| labels[i]).collect();
        }
        if let Some(positions) = &mut self.positions {
            *positions = keep.iter().map(|&i| positions[i]).collect();
        }
        for (_, psfs) in &mut self.psfs {
            *psfs = keep.iter().map(|&i| psfs[i].clone()).collect();
        }
    }

    /// Object `i`'s own PSF image in `band`, where the list names one.
    pub fn psf(&self, band: &str, i: usize) -> Option<&Path> {
        let (_, psfs) = self.psfs.iter().find(|(b, _)| b == band)?;
        psfs.get(i)?.as_deref()
    }
}

struct Row {
    id: String,
    line: u64,
    paths: Vec<String>,
    psfs: Vec<String>,
    position: Option<[f64; 2]>,
    label: Option<bool>,
}

fn missing(id: &str, path: &Path, listed: &str, what: &str) -> BadCutout {
    BadCutout {
        id: id.to_string(),
        at: path.display().to_string(),
        reason: format!("no such file: {what} of object `{id}` (listed in {listed})"),
    }
}

/// The bands of a multi-extension cutout, refused when it has fewer than two named images.
fn multi_extension_bands(path: &Path) -> Result<Vec<String>, DatasetError> {
    let names = extension_names(path)?;
    if names.is_empty() {
        return Err(bad(
            path,
            "a `file` column names multi-extension files, but this one has no image extension \
             with an EXTNAME",
        ));
    }
    Ok(names)
}

/// The name of a FITS file without its extension (`.fits`, `.fit`, `.fits.gz`, any case).
fn fits_stem(name: &str) -> Option<&str> {
    let lower = name.to_ascii_lowercase();
    [".fits.gz", ".fits.fz", ".fits", ".fit"]
        .iter()
        .find(|ext| lower.ends_with(*ext))
        .map(|ext| &name[..name.len() - ext.len()])
        .filter(|s| !s.is_empty())
}
