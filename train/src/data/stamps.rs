//! Objects held as FITS stamps, one file per band, however they were listed: a challenge folder
//! ([`super::folder`]) or a list of cutouts ([`super::cutouts`]). Both become this one source.

use std::path::{Path, PathBuf};

use format::stamps::read_stamp;
use ndarray::Array3;
use rayon::prelude::*;

use super::DataError;

/// Objects as FITS stamps: their IDs, bands, the file of every (band, object), and what the
/// listing says besides.
#[derive(Debug)]
pub struct Stamps {
    /// The folder or list they come from.
    origin: PathBuf,
    ids: Vec<String>,
    bands: Vec<String>,
    /// Per band, every object's stamp.
    paths: Vec<Vec<PathBuf>>,
    /// The labels, or why there are none.
    labels: Result<Vec<bool>, String>,
    positions: Option<Vec<[f64; 2]>>,
    /// Per band: the first object's stamp shape and pixel scale.
    first: Vec<([usize; 2], Option<f64>)>,
}

pub(super) fn bad(file: &Path, message: impl Into<String>) -> DataError {
    DataError::Format {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

impl Stamps {
    /// Objects `ids` of `origin` with their stamps `paths[band][object]` (at least one object),
    /// labels (or why there are none) and positions; reads the first object's stamps for the
    /// bands' shapes and pixel scales.
    pub(super) fn new(
        origin: &Path,
        ids: Vec<String>,
        bands: Vec<String>,
        paths: Vec<Vec<PathBuf>>,
        labels: Result<Vec<bool>, String>,
        positions: Option<Vec<[f64; 2]>>,
    ) -> Result<Self, DataError> {
        let first = paths
            .iter()
            .map(|p| {
                let s = read_stamp(&p[0])?;
                Ok((s.shape, s.pixel_scale))
            })
            .collect::<Result<_, DataError>>()?;
        Ok(Self {
            origin: origin.to_path_buf(),
            ids,
            bands,
            paths,
            labels,
            positions,
            first,
        })
    }

    /// The folder or list.
    pub fn path(&self) -> &Path {
        &self.origin
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there is no object (an opened source always has some).
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The bands, in the listing's order.
    pub fn bands(&self) -> &[String] {
        &self.bands
    }

    /// The objects' IDs, in the listing's order.
    pub fn ids(&self) -> &[String] {
        &self.ids
    }

    /// The labels, or why there are none (a blind set, a list without `is_lens`).
    pub fn labels(&self) -> Result<&[bool], &str> {
        self.labels.as_deref().map_err(String::as_str)
    }

    /// (RA, Dec) in degrees, where the listing gives them.
    pub fn positions(&self) -> Option<&[[f64; 2]]> {
        self.positions.as_deref()
    }

    fn band_index(&self, band: &str) -> Result<usize, DataError> {
        self.bands.iter().position(|b| b == band).ok_or_else(|| {
            bad(
                &self.origin,
                format!(
                    "band `{band}` is not here (there are {})",
                    self.bands.join(", ")
                ),
            )
        })
    }

    /// The pixel scale of `band`, arcsec, from its first stamp's header.
    pub fn pixel_scale(&self, band: &str) -> Option<f64> {
        self.first[self.band_index(band).ok()?].1
    }

    /// The stamps of `band` for the objects `indices`, (len, H, W), read in parallel: every one
    /// of the band's first stamp's shape, which must be square; one that is not is refused with
    /// its path.
    pub fn read_images(&self, band: &str, indices: &[usize]) -> Result<Array3<f32>, DataError> {
        let b = self.band_index(band)?;
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(bad(
                &self.origin,
                format!("object {i} requested, there are {}", self.len()),
            ));
        }
        let [h, w] = self.first[b].0;
        if h != w {
            return Err(bad(
                &self.paths[b][0],
                format!("a {h}×{w} stamp: the network reads square stamps"),
            ));
        }
        let mut out = vec![0f32; indices.len() * h * w];
        out.par_chunks_mut(h * w)
            .zip(indices.par_iter())
            .try_for_each(|(o, &i)| {
                let path = &self.paths[b][i];
                let s = read_stamp(path)?;
                if s.shape != [h, w] {
                    return Err(bad(
                        path,
                        format!(
                            "a {}×{} stamp, where the band's others are {h}×{w}",
                            s.shape[0], s.shape[1]
                        ),
                    ));
                }
                o.copy_from_slice(&s.pixels);
                Ok(())
            })?;
        Ok(Array3::from_shape_vec((indices.len(), h, w), out).expect("one stamp per object"))
    }
}
