//! Reading datasets back: what `sim info`, `sim merge`, `sim preview` and a resumed run need.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use format::h5::reader::{attr_number, AttrValue};
use format::h5::{H5File, Images, ReadError};
use hdf5_pure::DType;
use ndarray::{Array2, Array3};

use super::chunks::Chunk;
use super::hdf5::{Attributes, Column, FORMAT, FORMAT_VERSION, SYSTEMS_WRITTEN};
use crate::error::{Error, Result};

/// An open dataset file.
pub struct DatasetFile {
    file: H5File,
    path: PathBuf,
    root: HashMap<String, AttrValue>,
    /// The image datasets by band, in [`bands`](Self::bands) order.
    images: Vec<Images>,
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

fn h5(e: ReadError) -> Error {
    Error::Hdf5 {
        path: e.path,
        message: e.message,
    }
}

impl DatasetFile {
    /// Opens a finished lensforge dataset; errors name the file and what is missing. A partial
    /// file (fewer systems written than it declares: an interrupted run's) is refused.
    pub fn open(path: &Path) -> Result<Self> {
        let f = Self::open_partial(path)?;
        let written = f.systems_written_or_all();
        if written < f.n {
            return Err(Error::Parse {
                file: path.into(),
                message: format!(
                    "holds {written} of its {} systems: the partial file of an interrupted run; \
                     finish it with `sim generate … --resume` (the same command and --out)",
                    f.n
                ),
            });
        }
        Ok(f)
    }

    /// Opens a lensforge dataset whether or not it is finished (for resuming one).
    pub fn open_partial(path: &Path) -> Result<Self> {
        let file = H5File::open(path).map_err(h5)?;
        let bad = |reason: String| Error::Parse {
            file: path.into(),
            message: reason,
        };
        let root = file.group_attrs("/").map_err(h5)?;
        let str_attr = |name: &str| root.get(name).and_then(|v| v.as_str()).map(str::to_string);
        let format = str_attr("format")
            .ok_or_else(|| bad("no `format` attribute: not a lensforge dataset".into()))?;
        if format != FORMAT {
            return Err(bad(format!("format `{format}` is not `{FORMAT}`")));
        }
        match root.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "format_version {v}: this sim reads version {FORMAT_VERSION}"
                )))
            }
            None => return Err(bad("no `format_version` attribute".into())),
        }
        let u64_attr = |name: &str| -> Result<u64> {
            root.get(name)
                .and_then(|v| v.as_u64())
                .ok_or_else(|| bad(format!("no `{name}` attribute")))
        };
        let attrs = Attributes {
            survey: str_attr("survey").ok_or_else(|| bad("no `survey` attribute".into()))?,
            seed: u64_attr("seed")?,
            config: str_attr("config").ok_or_else(|| bad("no `config` attribute".into()))?,
            first_index: u64_attr("first_index")?,
            n_total: u64_attr("n_total")?,
        };
        let labels = file.dataset("labels/is_lens").map_err(h5)?;
        let n = labels
            .shape()
            .map_err(|e| h5(file.error("/labels/is_lens", e)))?
            .first()
            .copied()
            .unwrap_or(0) as usize;
        // Bands in the order the configuration lists them, else the file's order.
        let mut names = file.dataset_names("images").map_err(h5)?;
        let order: Vec<String> = crate::generate::RunConfig::from_toml(&attrs.config, path)
            .map(|c| c.survey.bands.iter().map(|b| b.name.clone()).collect())
            .unwrap_or_default();
        names.sort_by_key(|b| order.iter().position(|o| o == b).unwrap_or(usize::MAX));
        let mut bands = Vec::new();
        let mut images = Vec::new();
        for b in names {
            let im = file.images(&format!("images/{b}")).map_err(h5)?;
            let [count, h, w] = im.shape();
            if count != n || h != w {
                return Err(bad(format!(
                    "/images/{b} has shape {:?}: expected ({n}, H, H)",
                    im.shape()
                )));
            }
            bands.push((b, h));
            images.push(im);
        }
        let mut columns = file.dataset_names("catalog").map_err(h5)?;
        columns.sort();
        for c in &columns {
            let path = format!("catalog/{c}");
            let shape = file
                .dataset(&path)
                .map_err(h5)?
                .shape()
                .map_err(|e| h5(file.error(&format!("/{path}"), e)))?;
            if shape != [n as u64] {
                return Err(bad(format!(
                    "/{path} has shape {shape:?}: expected one value per system ({n})"
                )));
            }
        }
        let generator = str_attr("generator").unwrap_or_default();
        Ok(Self {
            file,
            path: path.into(),
            root,
            images,
            attrs,
            generator,
            bands,
            columns,
            n,
        })
    }

    fn band(&self, band: &str) -> Result<&Images> {
        self.bands
            .iter()
            .position(|(b, _)| b == band)
            .map(|i| &self.images[i])
            .ok_or_else(|| Error::Parse {
                file: self.path.clone(),
                message: format!("no band {band} in /images"),
            })
    }

    /// The systems written: the `systems_written` attribute, or N in a file without one (a
    /// lensforge file always has it; one made by other means may not).
    fn systems_written_or_all(&self) -> usize {
        self.systems_written().unwrap_or(self.n)
    }

    /// The systems a partial file holds (its `systems_written` attribute; N in a finished file).
    pub fn systems_written(&self) -> Result<usize> {
        self.root
            .get(SYSTEMS_WRITTEN)
            .and_then(|v| v.as_u64())
            .map(|v| v as usize)
            .ok_or_else(|| Error::Parse {
                file: self.path.clone(),
                message: format!("no `{SYSTEMS_WRITTEN}` attribute"),
            })
    }

    /// Images of band `band` for systems [a, b), shape (b − a, H, W).
    pub fn images(&self, band: &str, a: usize, b: usize) -> Result<Array3<f32>> {
        let im = self.band(band)?;
        let [_, h, w] = im.shape();
        let pixels = im.read_range(a, b.max(a)).map_err(h5)?;
        Ok(Array3::from_shape_vec((b.max(a) - a, h, w), pixels).expect("read_range's length"))
    }

    /// One system's image in band `band`.
    pub fn image(&self, band: &str, i: usize) -> Result<Array2<f32>> {
        let im = self.band(band)?;
        let [_, h, w] = im.shape();
        let mut out = Array2::zeros((h, w));
        im.read_into(i, out.as_slice_mut().expect("a new array is contiguous"))
            .map_err(h5)?;
        Ok(out)
    }

    /// The stored chunks of band `band` for systems [a, b), as they are in the file (for
    /// copying into a file of the same pipeline); an error naming the file's pipeline where it
    /// is not lensforge's (shuffle then deflate, one stamp a chunk).
    pub fn raw_chunks(&self, band: &str, a: usize, b: usize) -> Result<Vec<Chunk>> {
        let im = self.band(band)?;
        (a..b)
            .map(|k| match im.raw_chunk(k).map_err(h5)? {
                Some((bytes, filter_mask)) => Ok(Chunk { bytes, filter_mask }),
                None => Err(Error::Parse {
                    file: self.path.clone(),
                    message: format!("/images/{band}: system {k} was never written"),
                }),
            })
            .collect()
    }

    /// Catalogue column `name` for systems [a, b), in its stored type.
    pub fn column(&self, name: &str, a: usize, b: usize) -> Result<Column> {
        let path = format!("catalog/{name}");
        let d = self.file.dataset(&path).map_err(h5)?;
        let e = |e: hdf5_pure::Error| h5(self.file.error(&format!("/{path}"), e));
        let (a64, count) = (a as u64, b.saturating_sub(a) as u64);
        match d.dtype().map_err(e)? {
            DType::F64 => d.read_f64_rows(a64, count).map(Column::F64).map_err(e),
            DType::I64 => d.read_i64_rows(a64, count).map(Column::I64).map_err(e),
            DType::U8 => d.read_u8_rows(a64, count).map(Column::U8).map_err(e),
            other => Err(Error::Parse {
                file: self.path.clone(),
                message: format!("/catalog/{name} has type {other}: expected f64, i64 or u8"),
            }),
        }
    }

    /// Labels of systems [a, b): 0 or 1, anything else is an error naming the system.
    pub fn labels(&self, a: usize, b: usize) -> Result<Vec<u8>> {
        let d = self.file.dataset("labels/is_lens").map_err(h5)?;
        let labels = d
            .read_u8_rows(a as u64, b.saturating_sub(a) as u64)
            .map_err(|e| h5(self.file.error("/labels/is_lens", e)))?;
        match labels.iter().position(|&l| l > 1) {
            None => Ok(labels),
            Some(i) => Err(Error::Parse {
                file: self.path.clone(),
                message: format!(
                    "/labels/is_lens holds {} for system {}: labels are 0 or 1",
                    labels[i],
                    a + i
                ),
            }),
        }
    }

    fn label_attrs(&self) -> Result<HashMap<String, AttrValue>> {
        self.file
            .dataset("labels/is_lens")
            .map_err(h5)?
            .attrs()
            .map_err(|e| h5(self.file.error("/labels/is_lens", e)))
    }

    /// A string attribute of `/labels/is_lens`.
    pub fn label_attr_str(&self, name: &str) -> Result<String> {
        self.label_attrs()?
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| Error::Parse {
                file: self.path.clone(),
                message: format!("/labels/is_lens has no string attribute `{name}`"),
            })
    }

    /// A numeric attribute of `/labels/is_lens`, as f64.
    pub fn label_attr(&self, name: &str) -> Result<f64> {
        self.label_attrs()?
            .get(name)
            .and_then(attr_number)
            .ok_or_else(|| Error::Parse {
                file: self.path.clone(),
                message: format!("/labels/is_lens has no numeric attribute `{name}`"),
            })
    }
}
