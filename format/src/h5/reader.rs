//! Reading HDF5 files through `hdf5-pure` (files of this writer, of libhdf5 and of h5py alike),
//! with a fast path for image datasets stored one stamp per chunk through shuffle and deflate:
//! their chunks are located once, then read with positioned reads and decoded on the calling
//! threads (rayon), which a batch of a training run spreads over the cores.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::filters::unfilter_image;
pub use hdf5_pure::AttrValue;

/// A numeric attribute's value as f64, whatever its stored type (float or integer, scalar or
/// of one element); `None` for any other attribute.
pub fn attr_number(value: &AttrValue) -> Option<f64> {
    value
        .as_f64()
        .or_else(|| value.as_i64().map(|v| v as f64))
        .or_else(|| value.as_u64().map(|v| v as f64))
}

/// Why a file could not be read: the file, and what failed, with the object's path inside it.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// What failed.
    pub message: String,
}

/// An HDF5 file open for reading; its metadata and chunks are read as they are needed.
#[derive(Debug)]
pub struct H5File {
    path: PathBuf,
    file: hdf5_pure::File,
    raw: File,
}

impl H5File {
    /// Opens `path`.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let err = |message: String| ReadError {
            path: path.into(),
            message,
        };
        let raw = File::open(path).map_err(|e| err(e.to_string()))?;
        let file = hdf5_pure::File::open_streaming(path)
            .map_err(|e| err(format!("not a readable HDF5 file: {e}")))?;
        Ok(Self {
            path: path.into(),
            file,
            raw,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The error for `object` in this file.
    pub fn error(&self, object: &str, what: impl std::fmt::Display) -> ReadError {
        ReadError {
            path: self.path.clone(),
            message: format!("{object}: {what}"),
        }
    }

    /// The `hdf5-pure` file, for what this wrapper does not offer.
    pub fn inner(&self) -> &hdf5_pure::File {
        &self.file
    }

    /// The dataset at `path` ("group/name").
    pub fn dataset(&self, path: &str) -> Result<hdf5_pure::Dataset, ReadError> {
        self.file
            .dataset(path)
            .map_err(|e| self.error(&format!("/{path}"), e))
    }

    /// The attributes of the group at `path` ("" or "/" for the root).
    pub fn group_attrs(&self, path: &str) -> Result<HashMap<String, AttrValue>, ReadError> {
        let group = if path.trim_matches('/').is_empty() {
            Ok(self.file.root())
        } else {
            self.file.group(path)
        };
        group
            .and_then(|g| g.attrs())
            .map_err(|e| self.error(&format!("/{}", path.trim_matches('/')), e))
    }

    /// The names of the datasets in the group at `path`, in the file's order.
    pub fn dataset_names(&self, path: &str) -> Result<Vec<String>, ReadError> {
        self.file
            .group(path)
            .and_then(|g| g.datasets())
            .map_err(|e| self.error(&format!("/{path}"), e))
    }

    /// The image dataset at `path`, (N, H, W) float32, ready for reading stamps.
    pub fn images(&self, path: &str) -> Result<Images, ReadError> {
        Images::open(self, path)
    }
}

/// Where one stamp's chunk lies.
#[derive(Clone, Copy, Debug)]
struct ChunkAt {
    address: u64,
    size: u64,
    filter_mask: u32,
}

/// An image dataset (N, H, W) of float32, read a stamp at a time.
#[derive(Debug)]
pub struct Images {
    path: PathBuf,
    name: String,
    shape: [usize; 3],
    /// One per stamp where every stamp is one chunk through shuffle and deflate (or either, or
    /// none); `None` for a stamp never written (its pixels are zero, the default fill value).
    chunks: Option<Vec<Option<ChunkAt>>>,
    /// The filter pipeline's identifiers, in order.
    filters: Vec<u16>,
    dataset: hdf5_pure::Dataset,
    raw: File,
}

impl Images {
    fn open(file: &H5File, path: &str) -> Result<Self, ReadError> {
        let err = |what: String| file.error(&format!("/{path}"), what);
        let dataset = file.dataset(path)?;
        let shape = dataset.shape().map_err(|e| err(e.to_string()))?;
        let dtype = dataset.dtype().map_err(|e| err(e.to_string()))?;
        if shape.len() != 3 || dtype != hdf5_pure::DType::F32 {
            return Err(err(format!(
                "holds {dtype} of shape {shape:?}: expected float32 (N, H, W)"
            )));
        }
        let shape = [shape[0] as usize, shape[1] as usize, shape[2] as usize];
        // The fast path: chunks of one stamp, little-endian float32, through shuffle (2) and
        // deflate (1) in that order or a part of that pipeline.
        let filters = dataset.filters();
        let one_stamp = dataset.chunk_shape().map_err(|e| err(e.to_string()))?
            == Some(vec![1, shape[1] as u64, shape[2] as u64]);
        let pipeline_known = matches!(filters.as_slice(), [] | [1] | [2] | [2, 1]);
        let little_endian = matches!(
            dataset.datatype(),
            Ok(hdf5_pure::Datatype::FloatingPoint {
                byte_order: hdf5_pure::DatatypeByteOrder::LittleEndian,
                ..
            })
        );
        let chunks = if one_stamp && pipeline_known && little_endian {
            let mut table = vec![None; shape[0]];
            for c in dataset.chunks().map_err(|e| err(e.to_string()))? {
                let k = c.offset.first().copied().unwrap_or(u64::MAX) as usize;
                if k >= shape[0] {
                    return Err(err(format!("a chunk at system {k} of {}", shape[0])));
                }
                // The mask's bits count the pipeline's filters; map them to shuffle (bit 0)
                // and deflate (bit 1) of the full pipeline.
                let applied = |i: usize| c.filter_mask & (1 << i) == 0;
                let (shuffled, deflated) = match filters.as_slice() {
                    [2, 1] => (applied(0), applied(1)),
                    [2] => (applied(0), false),
                    [1] => (false, applied(0)),
                    _ => (false, false),
                };
                table[k] = Some(ChunkAt {
                    address: c.address,
                    size: c.storage_size,
                    filter_mask: u32::from(!shuffled) | (u32::from(!deflated) << 1),
                });
            }
            Some(table)
        } else {
            None
        };
        Ok(Self {
            path: file.path.clone(),
            name: format!("/{path}"),
            shape,
            chunks,
            filters,
            dataset,
            raw: file.raw.try_clone().map_err(|e| err(e.to_string()))?,
        })
    }

    /// (N, H, W).
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    fn error(&self, what: impl std::fmt::Display) -> ReadError {
        ReadError {
            path: self.path.clone(),
            message: format!("{}: {what}", self.name),
        }
    }

    /// Reads stamp `k` into `out` (H·W pixels, row-major).
    pub fn read_into(&self, k: usize, out: &mut [f32]) -> Result<(), ReadError> {
        let [n, h, w] = self.shape;
        if k >= n || out.len() != h * w {
            return Err(self.error(format!(
                "stamp {k} of {n} into {} pixels (a stamp has {})",
                out.len(),
                h * w
            )));
        }
        match &self.chunks {
            Some(table) => match table[k] {
                None => out.fill(0.0),
                Some(c) => {
                    let mut bytes = vec![0u8; c.size as usize];
                    self.raw
                        .read_exact_at(&mut bytes, c.address)
                        .map_err(|e| self.error(format!("stamp {k}: {e}")))?;
                    unfilter_image(&bytes, c.filter_mask, out)
                        .map_err(|e| self.error(format!("stamp {k}: {e}")))?;
                }
            },
            None => {
                let v = self
                    .dataset
                    .read_f32_rows(k as u64, 1)
                    .map_err(|e| self.error(format!("stamp {k}: {e}")))?;
                if v.len() != out.len() {
                    return Err(self.error(format!("stamp {k} read as {} pixels", v.len())));
                }
                out.copy_from_slice(&v);
            }
        }
        Ok(())
    }

    /// Reads the stamps `indices` into `out` (one H·W block per index, in order), decoding them
    /// on the current rayon pool when the chunks allow it.
    pub fn read_many(&self, indices: &[usize], out: &mut [f32]) -> Result<(), ReadError> {
        let px = self.shape[1] * self.shape[2];
        if out.len() != indices.len() * px {
            return Err(self.error(format!(
                "{} stamps into {} pixels",
                indices.len(),
                out.len()
            )));
        }
        if self.chunks.is_some() {
            out.par_chunks_mut(px.max(1))
                .zip(indices.par_iter())
                .try_for_each(|(o, &k)| self.read_into(k, o))
        } else {
            out.chunks_mut(px.max(1))
                .zip(indices)
                .try_for_each(|(o, &k)| self.read_into(k, o))
        }
    }

    /// Whether every stamp is one chunk through shuffle then deflate (what lensforge writes),
    /// so that [`raw_chunk`](Self::raw_chunk) serves.
    fn stored_as_lensforge_writes(&self) -> bool {
        self.chunks.is_some() && self.filters == [2, 1]
    }

    /// The bytes stored for stamp `k` and their filter mask, for copying a chunk as it is into a
    /// dataset of the same pipeline: only where every stamp is one chunk through shuffle then
    /// deflate (what lensforge writes); `None` for a stamp never written.
    pub fn raw_chunk(&self, k: usize) -> Result<Option<(Vec<u8>, u32)>, ReadError> {
        let table = match &self.chunks {
            Some(table) if self.stored_as_lensforge_writes() => table,
            _ => {
                return Err(self.error(format!(
                    "its chunks are not one stamp each through shuffle and deflate (filters {:?})",
                    self.filters
                )))
            }
        };
        let Some(c) = table.get(k).copied().flatten() else {
            return Ok(None);
        };
        let mut bytes = vec![0u8; c.size as usize];
        self.raw
            .read_exact_at(&mut bytes, c.address)
            .map_err(|e| self.error(format!("stamp {k}: {e}")))?;
        Ok(Some((bytes, c.filter_mask)))
    }

    /// Reads the stamps [a, b) into a vector of (b − a)·H·W pixels.
    pub fn read_range(&self, a: usize, b: usize) -> Result<Vec<f32>, ReadError> {
        let indices: Vec<usize> = (a..b).collect();
        let mut out = vec![0f32; indices.len() * self.shape[1] * self.shape[2]];
        self.read_many(&indices, &mut out)?;
        Ok(out)
    }
}
