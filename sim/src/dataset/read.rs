//! Reading datasets back: what `sim info`, `sim merge`, `sim preview` and a resumed run need.

use std::path::Path;

use format::dataset::{Dataset, DatasetError, CATALOG, IS_LENS, SYSTEMS_WRITTEN};
use format::h5::{Images, ReadError};
use hdf5_pure::DType;
use ndarray::{Array2, Array3};

use super::chunks::Chunk;
use super::record::{Attributes, Column};
use crate::error::{Error, Result};

/// An open dataset file: the contract's checked [`Dataset`] with what `sim` reads of it.
pub struct DatasetFile {
    data: Dataset,
    /// Its root attributes.
    pub attrs: Attributes,
    /// The program that wrote it (its `generator` attribute; empty if absent).
    pub generator: String,
    /// (band name, stamp side), in the order of the survey that made it (else the file's).
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

/// A broken contract, as the simulator reports it.
fn contract(e: DatasetError) -> Error {
    Error::Parse {
        file: e.file,
        message: e.message,
    }
}

impl DatasetFile {
    /// Opens a finished lensforge dataset; errors name the file and what is missing. A partial
    /// file (fewer systems written than it declares: an interrupted run's) is refused.
    pub fn open(path: &Path) -> Result<Self> {
        Self::with(Dataset::open(path).map_err(contract)?)
    }

    /// Opens a lensforge dataset whether or not it is finished (for resuming one).
    pub fn open_partial(path: &Path) -> Result<Self> {
        Self::with(Dataset::open_partial(path).map_err(contract)?)
    }

    /// The attributes `sim` records beside the contract's, and the bands in survey order.
    fn with(data: Dataset) -> Result<Self> {
        let path = data.path().to_path_buf();
        let bad = |reason: String| Error::Parse {
            file: path.clone(),
            message: reason,
        };
        let str_attr = |name: &str| data.attr_str(name).map(str::to_string);
        let u64_attr = |name: &str| -> Result<u64> {
            data.attr(name)
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
        // Bands in the order the configuration lists them, else the file's order.
        let order: Vec<String> = crate::run_config::RunConfig::from_toml(&attrs.config, &path)
            .map(|c| c.survey.bands.iter().map(|b| b.name.clone()).collect())
            .unwrap_or_default();
        let mut bands = data.bands().to_vec();
        bands.sort_by_key(|(b, _)| order.iter().position(|o| o == b).unwrap_or(usize::MAX));
        Ok(Self {
            attrs,
            generator: str_attr("generator").unwrap_or_default(),
            bands,
            columns: data.columns().to_vec(),
            n: data.len(),
            data,
        })
    }

    fn band(&self, band: &str) -> Result<&Images> {
        self.data.images(band).map_err(contract)
    }

    /// The systems a partial file holds (its `systems_written` attribute; N in a finished file).
    pub fn systems_written(&self) -> Result<usize> {
        self.data.systems_written().ok_or_else(|| Error::Parse {
            file: self.data.path().into(),
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
                None => Err(contract(
                    self.data
                        .error(format!("/images/{band}: system {k} was never written")),
                )),
            })
            .collect()
    }

    /// Catalogue column `name` for systems [a, b), in its stored type.
    pub fn column(&self, name: &str, a: usize, b: usize) -> Result<Column> {
        let path = format!("{CATALOG}/{name}");
        let file = self.data.h5();
        let d = file.dataset(&path).map_err(h5)?;
        let e = |e: hdf5_pure::Error| h5(file.error(&format!("/{path}"), e));
        let (a64, count) = (a as u64, b.saturating_sub(a) as u64);
        match d.dtype().map_err(e)? {
            DType::F64 => d.read_f64_rows(a64, count).map(Column::F64).map_err(e),
            DType::I64 => d.read_i64_rows(a64, count).map(Column::I64).map_err(e),
            DType::U8 => d.read_u8_rows(a64, count).map(Column::U8).map_err(e),
            DType::String => {
                let width = match d.datatype().map_err(e)? {
                    hdf5_pure::Datatype::String { size, .. } => size,
                    other => {
                        return Err(contract(self.data.error(format!(
                            "/{path} holds strings of type {other:?}: expected fixed-length"
                        ))))
                    }
                };
                let values = d.read_string_rows(a64, count).map_err(e)?;
                Ok(Column::Str { width, values })
            }
            other => Err(contract(self.data.error(format!(
                "/{path} has type {other}: expected f64, i64, u8 or a fixed-length string"
            )))),
        }
    }

    /// Catalogue column `name` for systems [a, b) as numbers (integers and bytes converted); an
    /// error naming the column when it holds strings.
    pub fn numbers(&self, name: &str, a: usize, b: usize) -> Result<Vec<f64>> {
        Ok(match self.column(name, a, b)? {
            Column::F64(v) => v,
            Column::I64(v) => v.into_iter().map(|x| x as f64).collect(),
            Column::U8(v) => v.into_iter().map(f64::from).collect(),
            Column::Str { .. } => {
                return Err(contract(self.data.error(format!(
                    "/{CATALOG}/{name} holds strings: expected numbers"
                ))))
            }
        })
    }

    /// Labels of systems [a, b): 0 or 1, anything else is an error naming the system.
    pub fn labels(&self, a: usize, b: usize) -> Result<Vec<u8>> {
        self.data.labels(a, b).map_err(contract)
    }

    /// A string attribute of `/labels/is_lens`.
    pub fn label_attr_str(&self, name: &str) -> Result<String> {
        self.data
            .label_attrs()
            .map_err(contract)?
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                contract(
                    self.data
                        .error(format!("/{IS_LENS} has no string attribute `{name}`")),
                )
            })
    }

    /// A numeric attribute of `/labels/is_lens`, as f64.
    pub fn label_attr(&self, name: &str) -> Result<f64> {
        self.data.label_attr(name).map_err(contract)
    }
}
