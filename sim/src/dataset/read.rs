//! Reading datasets back: what `sim info`, `sim merge` and `sim preview` need.

use std::path::{Path, PathBuf};

use hdf5::types::{FloatSize, IntSize, TypeDescriptor};
use ndarray::{s, Array2, Array3};

use super::hdf5::{read_str_attr, Attributes, Column, FORMAT};
use crate::error::{Error, Result};

/// An open dataset file.
pub struct DatasetFile {
    file: hdf5::File,
    path: PathBuf,
    /// Its root attributes.
    pub attrs: Attributes,
    /// The program that wrote it (its `generator` attribute; empty if absent).
    pub generator: String,
    /// (band name, stamp side), in file order.
    pub bands: Vec<(String, usize)>,
    /// Catalogue column names, sorted.
    pub columns: Vec<String>,
    /// Number of systems.
    pub n: usize,
}

impl DatasetFile {
    /// Opens a lensforge dataset; errors name the file and what is missing.
    pub fn open(path: &Path) -> Result<Self> {
        let h5 = |source| Error::Hdf5 {
            path: path.into(),
            source,
        };
        let file = hdf5::File::open(path).map_err(h5)?;
        let bad = |reason: String| Error::Parse {
            file: path.into(),
            message: reason,
        };
        let format = read_str_attr(&file, "format")
            .map_err(|_| bad("no `format` attribute: not a lensforge dataset".into()))?;
        if format != FORMAT {
            return Err(bad(format!("format `{format}` is not `{FORMAT}`")));
        }
        let u64_attr = |name: &str| -> Result<u64> {
            file.attr(name)
                .and_then(|a| a.read_scalar::<u64>())
                .map_err(|_| bad(format!("no `{name}` attribute")))
        };
        let attrs = Attributes {
            survey: read_str_attr(&file, "survey").map_err(h5)?,
            seed: u64_attr("seed")?,
            config: read_str_attr(&file, "config").map_err(h5)?,
            first_index: u64_attr("first_index")?,
            n_total: u64_attr("n_total")?,
        };
        let labels = file.dataset("labels/is_lens").map_err(h5)?;
        let n = labels.shape().first().copied().unwrap_or(0);
        // Bands in the order the configuration lists them, else HDF5's (alphabetical) order.
        let images = file.group("images").map_err(h5)?;
        let mut names = images.member_names().map_err(h5)?;
        let order: Vec<String> = crate::generate::RunConfig::from_toml(&attrs.config, path)
            .map(|c| c.survey.bands.iter().map(|b| b.name.clone()).collect())
            .unwrap_or_default();
        names.sort_by_key(|b| order.iter().position(|o| o == b).unwrap_or(usize::MAX));
        let mut bands = Vec::new();
        for b in names {
            let shape = images.dataset(&b).map_err(h5)?.shape();
            if shape.len() != 3 || shape[0] != n || shape[1] != shape[2] {
                return Err(bad(format!(
                    "/images/{b} has shape {shape:?}: expected ({n}, H, H)"
                )));
            }
            bands.push((b, shape[1]));
        }
        let mut columns = file
            .group("catalog")
            .and_then(|g| g.member_names())
            .map_err(h5)?;
        columns.sort();
        let generator = read_str_attr(&file, "generator").unwrap_or_default();
        Ok(Self {
            file,
            path: path.into(),
            attrs,
            generator,
            bands,
            columns,
            n,
        })
    }

    fn h5(&self, source: hdf5::Error) -> Error {
        Error::Hdf5 {
            path: self.path.clone(),
            source,
        }
    }

    /// Images of band `band` for systems [a, b), shape (b − a, H, W).
    pub fn images(&self, band: &str, a: usize, b: usize) -> Result<Array3<f32>> {
        self.file
            .dataset(&format!("images/{band}"))
            .and_then(|d| d.read_slice(s![a..b, .., ..]))
            .map_err(|e| self.h5(e))
    }

    /// One system's image in band `band`.
    pub fn image(&self, band: &str, i: usize) -> Result<Array2<f32>> {
        self.file
            .dataset(&format!("images/{band}"))
            .and_then(|d| d.read_slice_2d(s![i, .., ..]))
            .map_err(|e| self.h5(e))
    }

    /// Catalogue column `name` for systems [a, b), in its stored type.
    pub fn column(&self, name: &str, a: usize, b: usize) -> Result<Column> {
        let d = self
            .file
            .dataset(&format!("catalog/{name}"))
            .map_err(|e| self.h5(e))?;
        let t = d
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(|e| self.h5(e))?;
        let r = match t {
            TypeDescriptor::Float(FloatSize::U8) => {
                d.read_slice_1d(a..b).map(|v| Column::F64(v.to_vec()))
            }
            TypeDescriptor::Integer(IntSize::U8) => {
                d.read_slice_1d(a..b).map(|v| Column::I64(v.to_vec()))
            }
            TypeDescriptor::Unsigned(IntSize::U1) => {
                d.read_slice_1d(a..b).map(|v| Column::U8(v.to_vec()))
            }
            other => {
                return Err(Error::Parse {
                    file: self.path.clone(),
                    message: format!("/catalog/{name} has type {other:?}: expected f64, i64 or u8"),
                })
            }
        };
        r.map_err(|e| self.h5(e))
    }

    /// Labels of systems [a, b).
    pub fn labels(&self, a: usize, b: usize) -> Result<Vec<u8>> {
        self.file
            .dataset("labels/is_lens")
            .and_then(|d| d.read_slice_1d(a..b))
            .map(|v| v.to_vec())
            .map_err(|e| self.h5(e))
    }

    /// A string attribute of `/labels/is_lens`.
    pub fn label_attr_str(&self, name: &str) -> Result<String> {
        self.file
            .dataset("labels/is_lens")
            .map_err(|e| self.h5(e))
            .and_then(|d| read_str_attr(&d, name).map_err(|e| self.h5(e)))
    }

    /// A numeric attribute of `/labels/is_lens`, as f64.
    pub fn label_attr(&self, name: &str) -> Result<f64> {
        let d = self
            .file
            .dataset("labels/is_lens")
            .map_err(|e| self.h5(e))?;
        d.attr(name)
            .and_then(|a| a.read_scalar::<f64>())
            .map_err(|e| self.h5(e))
    }
}
