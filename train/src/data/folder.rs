//! A challenge folder of FITS stamps ([`format::stamps::ChallengeFolder`]) as a data source:
//! the objects' IDs come from the file names, the labels from the folder's catalogue by the
//! challenge's rule (the rule `sim` labels by; `train score` reads the same catalogue), and a
//! blind set without a catalogue has no labels.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use format::stamps::{read_stamp, ChallengeFolder};
use ndarray::Array3;
use rayon::prelude::*;

use super::DataError;

/// An open challenge folder.
#[derive(Debug)]
pub struct Folder {
    folder: ChallengeFolder,
    /// Per band: the stamps' shape and pixel scale, from the first object's stamp.
    first: Vec<([usize; 2], Option<f64>)>,
}

fn format_error(file: &Path, message: impl Into<String>) -> DataError {
    DataError::Format {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

impl Folder {
    /// Opens the folder `path` and reads the first object's stamps for the bands' shapes.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        let folder = ChallengeFolder::open(path)?;
        let first = (0..folder.bands.len())
            .map(|b| {
                let s = read_stamp(&folder.stamp_path(b, folder.ids[0]))?;
                Ok((s.shape, s.pixel_scale))
            })
            .collect::<Result<_, DataError>>()?;
        Ok(Self { folder, first })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.folder.root
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.folder.ids.len()
    }

    /// Whether the folder holds no object (an opened one always holds some).
    pub fn is_empty(&self) -> bool {
        self.folder.ids.is_empty()
    }

    /// The bands, by name, in the layout's order.
    pub fn bands(&self) -> Vec<String> {
        self.folder.bands.iter().map(|(b, _)| b.clone()).collect()
    }

    /// The objects' IDs, ascending.
    pub fn ids(&self) -> &[u64] {
        &self.folder.ids
    }

    fn band_index(&self, band: &str) -> Result<usize, DataError> {
        self.folder
            .bands
            .iter()
            .position(|(b, _)| b == band)
            .ok_or_else(|| {
                format_error(
                    &self.folder.root,
                    format!(
                        "band `{band}` is not in the folder (it has {})",
                        self.bands().join(", ")
                    ),
                )
            })
    }

    /// The stamps of `band` for the objects `indices`, (len, H, W), read in parallel.
    pub fn read_images(&self, band: &str, indices: &[usize]) -> Result<Array3<f32>, DataError> {
        let b = self.band_index(band)?;
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(format_error(
                &self.folder.root,
                format!("object {i} requested, the folder holds {}", self.len()),
            ));
        }
        let paths: Vec<PathBuf> = indices
            .iter()
            .map(|&i| self.folder.stamp_path(b, self.folder.ids[i]))
            .collect();
        let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let first = self.folder.stamp_path(b, self.folder.ids[0]);
        read_stamps(self.first[b].0, &first, &paths)
    }

    /// The pixel scale of `band`, arcsec, from its first stamp's header.
    pub fn pixel_scale(&self, band: &str) -> Option<f64> {
        self.first[self.band_index(band).ok()?].1
    }

    /// The catalogue, if the folder has one.
    pub fn catalogue(&self) -> Option<&PathBuf> {
        self.folder.catalogue.as_ref()
    }

    /// The labels from the catalogue, by the challenge's rule (with the thresholds its first
    /// line records), in the folder's object order; a blind set (no catalogue) is refused.
    pub fn labels(&self) -> Result<Vec<bool>, DataError> {
        let Some(catalogue) = self.catalogue() else {
            return Err(format_error(
                &self.folder.root,
                format!(
                    "a blind set: no {} beside Public/, so no labels",
                    self.folder.layout.catalogue_name()
                ),
            ));
        };
        let truth = crate::evaluate::challenge::read_truth(catalogue)
            .map_err(|e| format_error(catalogue, e.to_string()))?;
        let by_id: HashMap<u64, bool> = truth.ids.iter().copied().zip(truth.is_lens).collect();
        self.folder
            .ids
            .iter()
            .map(|id| {
                by_id.get(id).copied().ok_or_else(|| {
                    format_error(catalogue, format!("object {id} has stamps but no row here"))
                })
            })
            .collect()
    }
}

/// The stamps in `paths`, (len, H, W), read in parallel: every one of `shape` (the band's first
/// stamp's, in `first`), which must be square; one that is not is refused with its path.
pub(super) fn read_stamps(
    shape: [usize; 2],
    first: &Path,
    paths: &[&Path],
) -> Result<Array3<f32>, DataError> {
    let [h, w] = shape;
    if h != w {
        return Err(format_error(
            first,
            format!("a {h}×{w} stamp: the network reads square stamps"),
        ));
    }
    let mut out = vec![0f32; paths.len() * h * w];
    out.par_chunks_mut(h * w)
        .zip(paths.par_iter())
        .try_for_each(|(o, path)| {
            let s = read_stamp(path)?;
            if s.shape != [h, w] {
                return Err(format_error(
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
    Ok(Array3::from_shape_vec((paths.len(), h, w), out).expect("one stamp per object"))
}
