//! Writing datasets in the HDF5 layout of DESIGN.md (format version 1).
//!
//! ```text
//! /                attrs: format, format_version, survey, seed, generator, config
//! /images/<band>   float32 (N, H, W), one system per chunk, shuffle + gzip
//! /catalog/<col>   1-D columns of length N
//! /labels/is_lens  uint8 (N), attrs: the thresholds and the detection band
//! ```
//! A file is written under a temporary name beside its destination and renamed only when it
//! is complete, so an interrupted run never leaves a file that looks finished.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use ndarray::{Array3, ArrayView2};

use crate::error::{Error, Result};
use crate::observe::survey::LabelCriteria;

/// The `format` attribute of every lensforge dataset.
pub const FORMAT: &str = "lensforge-dataset";
/// The `format_version` attribute written by this code.
pub const FORMAT_VERSION: u32 = 1;

/// File-level attributes.
#[derive(Clone, Debug)]
pub struct Attributes {
    /// The survey's name.
    pub survey: String,
    /// The run's seed (0 for a single rendered spec).
    pub seed: u64,
    /// The full configuration used, as text.
    pub config: String,
}

/// One catalogue column.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// 64-bit floats.
    F64(Vec<f64>),
    /// 64-bit signed integers.
    I64(Vec<i64>),
    /// Bytes (booleans as 0/1).
    U8(Vec<u8>),
}

/// The `/labels/is_lens` dataset and the criteria that made it (stored as its attributes).
#[derive(Clone, Debug)]
pub struct LabelColumn<'a> {
    /// 1 for a detectable lens, 0 otherwise, length N.
    pub is_lens: Vec<u8>,
    /// The criteria.
    pub criteria: &'a LabelCriteria,
    /// The band whose pixels were counted.
    pub detection_band: &'a str,
}

/// Writes a complete dataset of N systems: `images` are (band name, N×H×W array) in survey
/// order, `catalog` (column name, column of length N), `labels` the detectability label.
/// Written to `path` atomically.
pub fn write_dataset(
    path: &Path,
    attrs: &Attributes,
    images: &[(String, Array3<f32>)],
    catalog: &[(String, Column)],
    labels: Option<&LabelColumn>,
) -> Result<()> {
    let tmp = temporary_path(path);
    let h5err = |source| Error::Hdf5 {
        path: path.into(),
        source,
    };
    let result = (|| -> hdf5::Result<()> {
        let file = hdf5::File::create(&tmp)?;
        write_str_attr(&file, "format", FORMAT)?;
        file.new_attr::<u32>()
            .create("format_version")?
            .write_scalar(&FORMAT_VERSION)?;
        write_str_attr(&file, "survey", &attrs.survey)?;
        file.new_attr::<u64>()
            .create("seed")?
            .write_scalar(&attrs.seed)?;
        write_str_attr(&file, "generator", &crate::generator())?;
        write_str_attr(&file, "config", &attrs.config)?;
        let g = file.create_group("images")?;
        for (band, arr) in images {
            let (_, h, w) = arr.dim();
            g.new_dataset_builder()
                .chunk((1, h, w))
                .shuffle()
                .deflate(4)
                .with_data(arr)
                .create(band.as_str())?;
        }
        let c = file.create_group("catalog")?;
        for (name, col) in catalog {
            match col {
                Column::F64(v) => c
                    .new_dataset_builder()
                    .with_data(v.as_slice())
                    .create(name.as_str())?,
                Column::I64(v) => c
                    .new_dataset_builder()
                    .with_data(v.as_slice())
                    .create(name.as_str())?,
                Column::U8(v) => c
                    .new_dataset_builder()
                    .with_data(v.as_slice())
                    .create(name.as_str())?,
            };
        }
        if let Some(l) = labels {
            let g = file.create_group("labels")?;
            let d = g
                .new_dataset_builder()
                .with_data(l.is_lens.as_slice())
                .create("is_lens")?;
            write_str_attr(&d, "detection_band", l.detection_band)?;
            d.new_attr::<u32>()
                .create("min_n_pix")?
                .write_scalar(&l.criteria.min_n_pix)?;
            d.new_attr::<u32>()
                .create("min_groups")?
                .write_scalar(&l.criteria.min_groups)?;
            d.new_attr::<f64>()
                .create("min_mag_eff")?
                .write_scalar(&l.criteria.min_mag_eff)?;
            write_str_attr(
                &d,
                "definition",
                "n_source_groups >= min_groups and n_pix_source > min_n_pix (detection band) and mag_eff_<band> > min_mag_eff in every band",
            )?;
        }
        file.close()
    })();
    match result {
        Ok(()) => std::fs::rename(&tmp, path).map_err(|source| Error::Io {
            path: path.into(),
            source,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(h5err(e))
        }
    }
}

/// `dir/.name.partial`: where a file is written before it is complete.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

fn write_str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("attribute {name}: {e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

/// Stacks one system's image into an (1, H, W) array.
pub fn single(image: ArrayView2<f32>) -> Array3<f32> {
    image.to_owned().insert_axis(ndarray::Axis(0))
}
