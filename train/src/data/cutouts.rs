//! A list of cutouts as a data source: a CSV with an `id` column, one column per band holding
//! the path of that band's FITS stamp (relative to the list's folder, or absolute), optionally
//! `ra` and `dec` (degrees, both or neither) and `is_lens` (1/0 or true/false). Every other
//! column is a band, named as the network's bands are (`--vis-band`, `--nir-bands`). This is
//! how a survey's own cutouts are pointed at a trained finder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use format::stamps::read_stamp;
use ndarray::Array3;

use super::folder::read_stamps;
use super::DataError;
use crate::combine::tables::{label, number, repeated_column, repeated_message};

/// An open list of cutouts.
#[derive(Debug)]
pub struct Cutouts {
    list: PathBuf,
    ids: Vec<String>,
    bands: Vec<String>,
    /// Per band, every object's stamp.
    paths: Vec<Vec<PathBuf>>,
    labels: Option<Vec<bool>>,
    positions: Option<Vec<[f64; 2]>>,
    /// Per band: the first object's stamp shape and pixel scale.
    first: Vec<([usize; 2], Option<f64>)>,
}

fn bad(list: &Path, message: String) -> DataError {
    DataError::Format {
        file: list.to_path_buf(),
        message,
    }
}

impl Cutouts {
    /// Reads the list `list`, refusing (with its line) a row with no ID, a repeated ID, an
    /// empty path or one that is not a file, a position that is not a number, or a label that
    /// is not one.
    pub fn open(list: &Path) -> Result<Self, DataError> {
        let table_err = |e: crate::combine::tables::TableError| bad(list, e.to_string());
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
                "no column `id`: a list of cutouts has `id`, one path column per band, and \
                 optionally `ra`, `dec` and `is_lens`"
                    .into(),
            )
        })?;
        let (ra_at, dec_at, lens_at) = (at("ra"), at("dec"), at("is_lens"));
        if ra_at.is_some() != dec_at.is_some() {
            return Err(bad(list, "`ra` without `dec` or `dec` without `ra`".into()));
        }
        let special = [Some(id_at), ra_at, dec_at, lens_at];
        let band_at: Vec<usize> = (0..header.len())
            .filter(|k| !special.contains(&Some(*k)))
            .collect();
        if band_at.is_empty() {
            return Err(bad(
                list,
                "no band columns (one path column per band)".into(),
            ));
        }
        let bands: Vec<String> = band_at.iter().map(|&k| header[k].to_string()).collect();
        let folder = list.parent().unwrap_or(Path::new("."));
        let mut ids = Vec::new();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut paths = vec![Vec::new(); bands.len()];
        let (mut labels, mut positions) = (Vec::new(), Vec::new());
        for record in reader.records() {
            let record = record.map_err(|e| bad(list, e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |k: usize| record.get(k).unwrap_or("");
            let id = field(id_at).to_string();
            if id.is_empty() {
                return Err(bad(list, format!("line {line}: no ID")));
            }
            if let Some(first) = seen.insert(id.clone(), line) {
                return Err(bad(
                    list,
                    format!("line {line}: ID `{id}` again (first on line {first})"),
                ));
            }
            for (b, &k) in band_at.iter().enumerate() {
                let text = field(k);
                if text.is_empty() {
                    return Err(bad(
                        list,
                        format!(
                            "line {line}: object `{id}` has no stamp in band {}",
                            bands[b]
                        ),
                    ));
                }
                let path = folder.join(text);
                if !path.is_file() {
                    return Err(bad(
                        &path,
                        format!(
                            "no such stamp (line {line} of {}, band {})",
                            list.display(),
                            bands[b]
                        ),
                    ));
                }
                paths[b].push(path);
            }
            if let (Some(r), Some(d)) = (ra_at, dec_at) {
                let ra = number(list, line, "ra", field(r)).map_err(table_err)?;
                let dec = number(list, line, "dec", field(d)).map_err(table_err)?;
                positions.push([ra, dec]);
            }
            if let Some(l) = lens_at {
                labels.push(label(list, line, "is_lens", field(l)).map_err(table_err)?);
            }
            ids.push(id);
        }
        if ids.is_empty() {
            return Err(bad(list, "no cutouts listed".into()));
        }
        let first = paths
            .iter()
            .map(|p| {
                let s = read_stamp(&p[0])?;
                Ok((s.shape, s.pixel_scale))
            })
            .collect::<Result<_, DataError>>()?;
        Ok(Self {
            list: list.to_path_buf(),
            ids,
            bands,
            paths,
            labels: lens_at.map(|_| labels),
            positions: ra_at.map(|_| positions),
            first,
        })
    }

    /// The list.
    pub fn path(&self) -> &Path {
        &self.list
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the list holds no object (an opened one always holds some).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The bands, in the list's column order.
    pub fn bands(&self) -> &[String] {
        &self.bands
    }

    /// The objects' IDs, in the list's order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The labels, when the list has `is_lens`.
    pub fn labels(&self) -> Option<&[bool]> {
        self.labels.as_deref()
    }

    /// (RA, Dec) in degrees, when the list has them.
    pub fn positions(&self) -> Option<&[[f64; 2]]> {
        self.positions.as_deref()
    }

    fn band_index(&self, band: &str) -> Result<usize, DataError> {
        self.bands.iter().position(|b| b == band).ok_or_else(|| {
            bad(
                &self.list,
                format!(
                    "band `{band}` is not in the list (it has {})",
                    self.bands.join(", ")
                ),
            )
        })
    }

    /// The stamps of `band` for the objects `indices`, (len, H, W), read in parallel.
    pub fn read_images(&self, band: &str, indices: &[usize]) -> Result<Array3<f32>, DataError> {
        let b = self.band_index(band)?;
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(bad(
                &self.list,
                format!("object {i} requested, the list holds {}", self.len()),
            ));
        }
        let paths: Vec<&Path> = indices
            .iter()
            .map(|&i| self.paths[b][i].as_path())
            .collect();
        read_stamps(self.first[b].0, &self.paths[b][0], &paths)
    }

    /// The pixel scale of `band`, arcsec, from its first stamp's header.
    pub fn pixel_scale(&self, band: &str) -> Option<f64> {
        self.first[self.band_index(band).ok()?].1
    }
}
