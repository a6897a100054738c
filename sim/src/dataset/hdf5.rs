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

use super::chunks::{filter_block, Chunk, DEFLATE_LEVEL};
use crate::error::{Error, Result};
use crate::observe::survey::LabelCriteria;

/// The `format` attribute of every lensforge dataset.
pub const FORMAT: &str = "lensforge-dataset";
/// The `format_version` attribute written by this code.
pub const FORMAT_VERSION: u32 = 1;

/// File-level attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Attributes {
    /// The survey's name.
    pub survey: String,
    /// The run's seed (0 for a single rendered spec).
    pub seed: u64,
    /// The full configuration used, as text.
    pub config: String,
    /// Index, in its run, of the file's first system (a shard's start; 0 for a whole run).
    pub first_index: u64,
    /// Number of systems in the whole run the file belongs to.
    pub n_total: u64,
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

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::U8(v) => v.len(),
        }
    }

    /// True when the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `other`'s values (the same variant) to this column; false if the variants differ.
    pub fn extend(&mut self, other: &Column) -> bool {
        match (self, other) {
            (Column::F64(a), Column::F64(b)) => a.extend_from_slice(b),
            (Column::I64(a), Column::I64(b)) => a.extend_from_slice(b),
            (Column::U8(a), Column::U8(b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }
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

/// The shape of a dataset: its bands and their stamp sides, its length, its label criteria.
#[derive(Clone, Debug)]
pub struct Layout {
    /// (band name, stamp side in pixels), survey order.
    pub bands: Vec<(String, usize)>,
    /// Number of systems N.
    pub n: usize,
    /// The label criteria (attributes of `/labels/is_lens`).
    pub criteria: LabelCriteria,
    /// The band whose pixels are counted.
    pub detection_band: String,
}

/// Writes a dataset block by block, with memory bounded by the block, under a temporary name
/// (`.name.partial`) that is renamed to the destination only by [`finish`](Self::finish).
///
/// After every block the file is flushed and its `systems_written` attribute updated, so an
/// interrupted run can be [`resume`](Self::resume)d from the last complete block.
pub struct DatasetWriter {
    file: hdf5::File,
    path: PathBuf,
    tmp: PathBuf,
    layout: Layout,
    images: Vec<hdf5::Dataset>,
    labels: hdf5::Dataset,
    written: usize,
}

/// Root attribute counting the systems written so far (equal to N in a finished file).
pub const SYSTEMS_WRITTEN: &str = "systems_written";

/// Writes one filtered chunk, system `index`'s stamp, into an image dataset as it is.
fn write_chunk(dataset: &hdf5::Dataset, index: usize, chunk: &Chunk) -> hdf5::Result<()> {
    let offset: [hdf5_sys::h5::hsize_t; 3] = [index as _, 0, 0];
    // SAFETY: the dataset is open and chunked (1, H, W) with the shuffle and deflate filters
    // (DatasetWriter::create), the offset is a chunk's corner inside it (the caller checked
    // the block against the dataset's length), and the buffer holds the chunk's bytes for the
    // duration of the call. The library's lock is held, as for every call of the hdf5 crate.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5d::H5Dwrite_chunk(
            dataset.id(),
            hdf5_sys::h5p::H5P_DEFAULT,
            chunk.filter_mask,
            offset.as_ptr(),
            chunk.bytes.len(),
            chunk.bytes.as_ptr().cast(),
        )
    });
    if status < 0 {
        return Err(hdf5::Error::from("H5Dwrite_chunk failed"));
    }
    Ok(())
}

impl DatasetWriter {
    /// Starts a new file for `path` (any earlier partial file is replaced).
    pub fn create(path: &Path, attrs: &Attributes, layout: Layout) -> Result<Self> {
        let tmp = temporary_path(path);
        let built = (|| -> hdf5::Result<(hdf5::File, Vec<hdf5::Dataset>, hdf5::Dataset)> {
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
            file.new_attr::<u64>()
                .create("first_index")?
                .write_scalar(&attrs.first_index)?;
            file.new_attr::<u64>()
                .create("n_total")?
                .write_scalar(&attrs.n_total)?;
            file.new_attr::<u64>()
                .create(SYSTEMS_WRITTEN)?
                .write_scalar(&0u64)?;
            let g = file.create_group("images")?;
            let mut images = Vec::new();
            for (band, side) in &layout.bands {
                images.push(
                    g.new_dataset::<f32>()
                        .chunk((1, *side, *side))
                        .shuffle()
                        .deflate(DEFLATE_LEVEL)
                        .shape((layout.n, *side, *side))
                        .create(band.as_str())?,
                );
            }
            file.create_group("catalog")?;
            let lg = file.create_group("labels")?;
            let d = lg.new_dataset::<u8>().shape(layout.n).create("is_lens")?;
            write_str_attr(&d, "detection_band", &layout.detection_band)?;
            d.new_attr::<u32>()
                .create("min_n_pix")?
                .write_scalar(&layout.criteria.min_n_pix)?;
            d.new_attr::<u32>()
                .create("min_groups")?
                .write_scalar(&layout.criteria.min_groups)?;
            d.new_attr::<f64>()
                .create("min_mag_eff")?
                .write_scalar(&layout.criteria.min_mag_eff)?;
            write_str_attr(
                &d,
                "definition",
                "n_source_groups >= min_groups and n_pix_source > min_n_pix (detection band) and mag_eff_<band> > min_mag_eff in every band",
            )?;
            file.flush()?;
            Ok((file, images, d))
        })();
        match built {
            Ok((file, images, labels)) => Ok(Self {
                file,
                path: path.into(),
                tmp,
                layout,
                images,
                labels,
                written: 0,
            }),
            Err(source) => {
                let _ = std::fs::remove_file(&tmp);
                Err(Error::Hdf5 {
                    path: path.into(),
                    source,
                })
            }
        }
    }

    /// Reopens the partial file of an interrupted run for `path`, if there is one that holds
    /// the same attributes and layout; `Ok(None)` when there is none (or it cannot be read, as
    /// after a crash in the middle of a write), in which case the run starts afresh.
    pub fn resume(path: &Path, attrs: &Attributes, layout: Layout) -> Result<Option<Self>> {
        let tmp = temporary_path(path);
        if !tmp.is_file() {
            return Ok(None);
        }
        let opened = (|| -> hdf5::Result<Option<Self>> {
            let file = hdf5::File::open_rw(&tmp)?;
            let same = read_str_attr(&file, "config")? == attrs.config
                && read_str_attr(&file, "survey")? == attrs.survey
                && file.attr("seed")?.read_scalar::<u64>()? == attrs.seed
                && file.attr("first_index")?.read_scalar::<u64>()? == attrs.first_index
                && file.attr("n_total")?.read_scalar::<u64>()? == attrs.n_total;
            if !same {
                return Ok(None);
            }
            let written = file.attr(SYSTEMS_WRITTEN)?.read_scalar::<u64>()? as usize;
            let mut images = Vec::new();
            for (band, side) in &layout.bands {
                let d = file.dataset(&format!("images/{band}"))?;
                if d.shape() != [layout.n, *side, *side] {
                    return Ok(None);
                }
                images.push(d);
            }
            let labels = file.dataset("labels/is_lens")?;
            Ok(Some(Self {
                file,
                path: path.into(),
                tmp: tmp.clone(),
                layout,
                images,
                labels,
                written,
            }))
        })();
        Ok(opened.ok().flatten())
    }

    /// Systems written so far.
    pub fn written(&self) -> usize {
        self.written
    }

    /// The error for a block that does not fit the file.
    fn bad_block(&self, reason: String) -> Error {
        Error::InvalidSpec {
            file: self.path.clone(),
            field: "(dataset block)".into(),
            reason,
        }
    }

    /// Appends a block of systems: one (k, H, W) array per band, catalogue columns of length
    /// k (the same names and types in every block), and k labels. The images are compressed on
    /// the current rayon pool ([`filter_block`]) before they are written.
    pub fn append(
        &mut self,
        images: &[Array3<f32>],
        catalog: &[(String, Column)],
        is_lens: &[u8],
    ) -> Result<()> {
        let k = is_lens.len();
        if images.len() != self.images.len() || images.iter().any(|im| im.dim().0 != k) {
            return Err(self.bad_block(format!(
                "a block of {k} systems needs {} image stacks of that length",
                self.images.len()
            )));
        }
        for (im, (band, side)) in images.iter().zip(&self.layout.bands) {
            if im.dim() != (k, *side, *side) {
                return Err(self.bad_block(format!(
                    "band {band}'s images are {:?}, not {k} × {side} × {side}",
                    im.dim()
                )));
            }
        }
        self.append_filtered(&filter_block(images), catalog, is_lens)
    }

    /// Appends a block whose images are already filtered ([`filter_block`], `[band][system]`,
    /// each chunk one system's stamp), with catalogue columns of length k and k labels. This is
    /// all the writer thread of `sim generate` does: the chunks are copied into the file as
    /// they are (`H5Dwrite_chunk`).
    pub fn append_filtered(
        &mut self,
        chunks: &[Vec<Chunk>],
        catalog: &[(String, Column)],
        is_lens: &[u8],
    ) -> Result<()> {
        let k = is_lens.len();
        let (a, b) = (self.written, self.written + k);
        if b > self.layout.n {
            return Err(self.bad_block(format!(
                "{b} systems exceed the dataset's length {}",
                self.layout.n
            )));
        }
        if chunks.len() != self.images.len()
            || chunks.iter().any(|c| c.len() != k)
            || catalog.iter().any(|(_, c)| c.len() != k)
        {
            return Err(self.bad_block(format!(
                "a block of {k} systems needs {} image stacks and columns of that length",
                self.images.len()
            )));
        }
        let n = self.layout.n;
        let result = (|| -> hdf5::Result<()> {
            for ((d, band), (name, _)) in self.images.iter().zip(chunks).zip(&self.layout.bands) {
                for (i, chunk) in band.iter().enumerate() {
                    write_chunk(d, a + i, chunk).map_err(|e| {
                        hdf5::Error::from(format!("images/{name}, system {}: {e}", a + i))
                    })?;
                }
            }
            let g = self.file.group("catalog")?;
            for (name, col) in catalog {
                let exists = g.link_exists(name);
                macro_rules! put {
                    ($t:ty, $v:expr) => {{
                        let d = if exists {
                            g.dataset(name)?
                        } else {
                            g.new_dataset::<$t>().shape(n).create(name.as_str())?
                        };
                        d.write_slice($v.as_slice(), a..b)?;
                    }};
                }
                match col {
                    Column::F64(v) => put!(f64, v),
                    Column::I64(v) => put!(i64, v),
                    Column::U8(v) => put!(u8, v),
                }
            }
            self.labels.write_slice(is_lens, a..b)?;
            self.file.attr(SYSTEMS_WRITTEN)?.write_scalar(&(b as u64))?;
            self.file.flush()
        })();
        result.map_err(|source| Error::Hdf5 {
            path: self.path.clone(),
            source,
        })?;
        self.written = b;
        Ok(())
    }

    /// Closes the file and renames it to its destination; an error if fewer than N systems
    /// were written (the partial file is then kept for a resume).
    pub fn finish(self) -> Result<()> {
        if self.written != self.layout.n {
            return Err(Error::InvalidSpec {
                file: self.path.clone(),
                field: "(dataset)".into(),
                reason: format!(
                    "only {} of {} systems were written",
                    self.written, self.layout.n
                ),
            });
        }
        let (path, tmp) = (self.path.clone(), self.tmp.clone());
        drop(self.images);
        drop(self.labels);
        self.file.close().map_err(|source| Error::Hdf5 {
            path: path.clone(),
            source,
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| Error::Io { path, source })
    }
}

/// Writes a complete dataset of N systems at once: `images` are (band name, N×H×W array) in
/// survey order, `catalog` (column name, column of length N), `labels` the detectability
/// label. Written to `path` atomically.
pub fn write_dataset(
    path: &Path,
    attrs: &Attributes,
    images: &[(String, Array3<f32>)],
    catalog: &[(String, Column)],
    labels: &LabelColumn,
) -> Result<()> {
    let layout = Layout {
        bands: images.iter().map(|(b, a)| (b.clone(), a.dim().1)).collect(),
        n: labels.is_lens.len(),
        criteria: labels.criteria.clone(),
        detection_band: labels.detection_band.to_string(),
    };
    let mut w = DatasetWriter::create(path, attrs, layout)?;
    let stacks: Vec<Array3<f32>> = images.iter().map(|(_, a)| a.clone()).collect();
    let written = w.append(&stacks, catalog, &labels.is_lens);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&w.tmp);
        return Err(e);
    }
    w.finish()
}

/// `dir/.name.partial`: where a file is written before it is complete.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Reads a string attribute.
pub fn read_str_attr(loc: &hdf5::Location, name: &str) -> hdf5::Result<String> {
    Ok(loc.attr(name)?.read_scalar::<VarLenUnicode>()?.to_string())
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

#[cfg(test)]
mod tests {
    use super::*;
    use hdf5::filters::Filter;

    /// Images written as pre-filtered chunks read back bit for bit through HDF5's own filter
    /// pipeline (so any HDF5 reader sees them), including a chunk of random bits whose deflate
    /// was skipped; and the datasets declare the pipeline the chunks were made for.
    #[test]
    fn filtered_chunks_read_back_through_hdf5() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("set.h5");
        let layout = Layout {
            bands: vec![("VIS".into(), 6), ("Y".into(), 3)],
            n: 5,
            criteria: LabelCriteria::default(),
            detection_band: "VIS".into(),
        };
        let attrs = Attributes {
            survey: "test".into(),
            seed: 7,
            config: "".into(),
            first_index: 0,
            n_total: 5,
        };
        let mut state = 0x2545f4914f6cdd1du64;
        let mut random = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f32::from_bits((state as u32) & 0x7f7f_ffff) // finite, any exponent
        };
        let vis = Array3::from_shape_fn((5, 6, 6), |(k, i, j)| {
            if k == 3 {
                random()
            } else {
                (k * 36 + i * 6 + j) as f32 * 0.5 - 3.0
            }
        });
        let y = Array3::from_shape_fn((5, 3, 3), |(k, i, j)| (k + i * j) as f32 * 1e-3);
        assert_eq!(
            filter_block(std::slice::from_ref(&vis))[0][3].filter_mask,
            super::super::chunks::DEFLATE_SKIPPED
        );
        let mut w = DatasetWriter::create(&out, &attrs, layout).unwrap();
        let col = |k: std::ops::Range<i64>| vec![("id".to_string(), Column::I64(k.collect()))];
        let part =
            |a: &Array3<f32>, r: std::ops::Range<usize>| a.slice(ndarray::s![r, .., ..]).to_owned();
        w.append(&[part(&vis, 0..2), part(&y, 0..2)], &col(0..2), &[0, 1])
            .unwrap();
        w.append(&[part(&vis, 2..5), part(&y, 2..5)], &col(2..5), &[1, 0, 0])
            .unwrap();
        // A block of the wrong stamp size is refused, naming the band.
        let e = w
            .append(&[part(&y, 0..1), part(&y, 0..1)], &col(0..1), &[0])
            .unwrap_err();
        assert!(e.to_string().contains("band VIS"), "{e}");
        w.finish().unwrap();

        let f = hdf5::File::open(&out).unwrap();
        let bits = |a: &Array3<f32>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for (name, want) in [("VIS", &vis), ("Y", &y)] {
            let d = f.dataset(&format!("images/{name}")).unwrap();
            assert_eq!(
                d.filters(),
                vec![Filter::Shuffle, Filter::Deflate(DEFLATE_LEVEL)]
            );
            let got: Array3<f32> = d.read().unwrap();
            assert_eq!(bits(&got), bits(want), "{name}");
        }
        let ids: Vec<i64> = f.dataset("catalog/id").unwrap().read_raw().unwrap();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    }
}
