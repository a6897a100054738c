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

use format::h5::{AttrValue, Dtype, ObjectId, Writer};
use ndarray::{Array3, ArrayView2};

use super::chunks::{filter_block, Chunk, DEFLATE_LEVEL};
pub use super::record::{Attributes, Column};
use crate::error::{Error, Result};
use crate::observe::survey::LabelCriteria;

pub use format::dataset::{FORMAT, FORMAT_VERSION, SYSTEMS_WRITTEN};
use format::labels::{MIN_GROUPS, MIN_MAG_EFF, MIN_N_PIX};

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
/// After every block the file's metadata is written (format::h5::Writer::flush) with its
/// `systems_written` attribute, so an interrupted run can be [`resume`](Self::resume)d from
/// the last complete block.
pub struct DatasetWriter {
    file: Writer,
    path: PathBuf,
    tmp: PathBuf,
    layout: Layout,
    images: Vec<ObjectId>,
    catalog: ObjectId,
    /// The catalogue's columns (name, dataset, type), created with the first block.
    columns: Vec<(String, ObjectId, Dtype)>,
    labels: ObjectId,
    written: usize,
}

/// What [`DatasetWriter::resume`] found.
pub enum Resumed {
    /// The partial file's systems, carried into a writer that goes on from them.
    Continued(Box<DatasetWriter>),
    /// Nothing to continue: why, when there was a partial file that could not be used.
    Afresh(Option<String>),
}

/// The definition stored with the labels.
use format::labels::DEFINITION as LABEL_DEFINITION;

impl DatasetWriter {
    /// Starts a new file for `path` (any earlier partial file is replaced).
    pub fn create(path: &Path, attrs: &Attributes, layout: Layout) -> Result<Self> {
        let tmp = temporary_path(path);
        match Self::create_at(path, &tmp, attrs, layout) {
            Ok(w) => Ok(w),
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(e)
            }
        }
    }

    fn create_at(path: &Path, tmp: &Path, attrs: &Attributes, layout: Layout) -> Result<Self> {
        let io = |source| Error::Io {
            path: path.into(),
            source,
        };
        let mut file = Writer::create(tmp).map_err(io)?;
        let root = file.root();
        let n = layout.n as u64;
        let root_attrs = [
            ("format", AttrValue::Str(FORMAT.into())),
            ("format_version", AttrValue::U32(FORMAT_VERSION)),
            ("survey", AttrValue::Str(attrs.survey.clone())),
            ("seed", AttrValue::U64(attrs.seed)),
            ("generator", AttrValue::Str(crate::generator())),
            ("config", AttrValue::Str(attrs.config.clone())),
            ("first_index", AttrValue::U64(attrs.first_index)),
            ("n_total", AttrValue::U64(attrs.n_total)),
            (SYSTEMS_WRITTEN, AttrValue::U64(0)),
        ];
        for (name, value) in root_attrs {
            file.set_attr(root, name, value).map_err(io)?;
        }
        let g = file.create_group(root, "images").map_err(io)?;
        let mut images = Vec::new();
        for (band, side) in &layout.bands {
            let side = *side as u64;
            images.push(
                file.create_images(g, band, [n, side, side], DEFLATE_LEVEL.into())
                    .map_err(io)?,
            );
        }
        let catalog = file.create_group(root, "catalog").map_err(io)?;
        let lg = file.create_group(root, "labels").map_err(io)?;
        let labels = file
            .create_column(lg, "is_lens", Dtype::U8, n)
            .map_err(io)?;
        let label_attrs = [
            (
                "detection_band",
                AttrValue::Str(layout.detection_band.clone()),
            ),
            (MIN_N_PIX, AttrValue::U32(layout.criteria.min_n_pix)),
            (MIN_GROUPS, AttrValue::U32(layout.criteria.min_groups)),
            (MIN_MAG_EFF, AttrValue::F64(layout.criteria.min_mag_eff)),
            ("definition", AttrValue::Str(LABEL_DEFINITION.into())),
        ];
        for (name, value) in label_attrs {
            file.set_attr(labels, name, value).map_err(io)?;
        }
        file.flush().map_err(io)?;
        Ok(Self {
            file,
            path: path.into(),
            tmp: tmp.into(),
            layout,
            images,
            catalog,
            columns: Vec::new(),
            labels,
            written: 0,
        })
    }

    /// Reopens the partial file of an interrupted run for `path`, if there is one that holds
    /// the same attributes and layout; else the run starts afresh, and [`Resumed::Afresh`] says
    /// why when there was a partial file (another run's, or one a crash left unreadable).
    ///
    /// The systems the partial file holds are carried into a new partial file as they are
    /// stored (chunks copied, not recompressed), which then replaces the old one: a file is
    /// only ever appended to by the writer that made it.
    pub fn resume(path: &Path, attrs: &Attributes, layout: Layout) -> Result<Resumed> {
        let tmp = temporary_path(path);
        if !tmp.is_file() {
            return Ok(Resumed::Afresh(None));
        }
        let afresh = |why: String| {
            Ok(Resumed::Afresh(Some(format!(
                "the partial file {} {why}: started afresh",
                tmp.display()
            ))))
        };
        let old = match super::read::DatasetFile::open_partial(&tmp) {
            Ok(old) => old,
            Err(e) => return afresh(format!("cannot be read ({e})")),
        };
        let same = old.attrs == *attrs
            && old.n == layout.n
            && layout
                .bands
                .iter()
                .all(|(band, side)| old.bands.iter().any(|(b, s)| b == band && s == side));
        let Ok(written) = old.systems_written() else {
            return afresh("records no systems_written".into());
        };
        if !same || written > layout.n {
            return afresh(
                "comes from another run (its configuration, seed, shard or size differ)".into(),
            );
        }
        let mut name = tmp.as_os_str().to_owned();
        name.push(".resume");
        let rebuilt = PathBuf::from(name);
        let mut w = match Self::create_at(path, &rebuilt, attrs, layout) {
            Ok(w) => w,
            Err(e) => {
                let _ = std::fs::remove_file(&rebuilt);
                return Err(e);
            }
        };
        let carried = w.copy_from(&old, 0, written).and_then(|()| {
            std::fs::rename(&rebuilt, &tmp).map_err(|source| Error::Io {
                path: tmp.clone(),
                source,
            })
        });
        if let Err(e) = carried {
            // What cannot be carried (a chunk or column the crash left unreadable) is made
            // again: the run starts afresh.
            let _ = std::fs::remove_file(&rebuilt);
            return afresh(format!("could not be carried over ({e})"));
        }
        w.tmp = tmp;
        Ok(Resumed::Continued(Box::new(w)))
    }

    /// Appends systems [a, b) of `file` (the same bands), a block at a time, as they are stored:
    /// image chunks copied without decoding (the file's pipeline must be this writer's, shuffle
    /// then deflate, as every lensforge file's is), catalogue columns and labels.
    pub fn copy_from(&mut self, file: &super::read::DatasetFile, a: usize, b: usize) -> Result<()> {
        /// Systems copied per block (memory is bounded by one block of every band).
        const BLOCK: usize = 256;
        let mut start = a;
        while start < b {
            let end = (start + BLOCK).min(b);
            let chunks = self
                .layout
                .bands
                .iter()
                .map(|(band, _)| file.raw_chunks(band, start, end))
                .collect::<Result<Vec<_>>>()?;
            let catalog = file
                .columns
                .iter()
                .map(|c| file.column(c, start, end).map(|col| (c.clone(), col)))
                .collect::<Result<Vec<_>>>()?;
            self.append_filtered(&chunks, &catalog, &file.labels(start, end)?)?;
            start = end;
        }
        Ok(())
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
        let n = self.layout.n as u64;
        let io = |source| Error::Io {
            path: self.tmp.clone(),
            source,
        };
        for (d, band) in self.images.iter().zip(chunks) {
            for chunk in band {
                self.file
                    .write_chunk(*d, &chunk.bytes, chunk.filter_mask)
                    .map_err(io)?;
            }
        }
        for (name, col) in catalog {
            let dtype = match col {
                Column::F64(_) => Dtype::F64,
                Column::I64(_) => Dtype::I64,
                Column::U8(_) => Dtype::U8,
                Column::Str { width, values } => {
                    if let Some(long) = values.iter().find(|v| v.len() > *width as usize) {
                        return Err(self.bad_block(format!(
                            "catalogue column {name}: `{long}` is longer than the column's \
                             {width} bytes"
                        )));
                    }
                    Dtype::Str(*width)
                }
            };
            let id = match self.columns.iter().find(|(c, _, _)| c == name) {
                Some((_, id, t)) if *t == dtype => *id,
                Some((_, _, t)) => {
                    return Err(self.bad_block(format!(
                        "catalogue column {name} is {dtype:?} in this block, {t:?} before"
                    )))
                }
                None => {
                    let id = self
                        .file
                        .create_column(self.catalog, name, dtype, n)
                        .map_err(io)?;
                    self.columns.push((name.clone(), id, dtype));
                    id
                }
            };
            let bytes: Vec<u8> = match col {
                Column::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                Column::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
                Column::U8(v) => v.clone(),
                Column::Str { width, values } => values
                    .iter()
                    .flat_map(|v| {
                        let mut b = v.as_bytes().to_vec();
                        b.resize(*width as usize, 0);
                        b
                    })
                    .collect(),
            };
            self.file.write_column(id, a as u64, &bytes).map_err(io)?;
        }
        self.file
            .write_column(self.labels, a as u64, is_lens)
            .map_err(io)?;
        self.file
            .set_attr(self.file.root(), SYSTEMS_WRITTEN, AttrValue::U64(b as u64))
            .map_err(io)?;
        self.file.flush().map_err(io)?;
        self.written = b;
        Ok(())
    }

    /// Closes and deletes the partial file: for a run stopped by an input that would stop a
    /// resumed run again (a value out of range), so that nothing is left behind.
    pub fn discard(self) {
        let tmp = self.tmp.clone();
        drop(self.file);
        let _ = std::fs::remove_file(tmp);
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
        self.file.finish().map_err(|source| Error::Io {
            path: tmp.clone(),
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

/// Stacks one system's image into an (1, H, W) array.
pub fn single(image: ArrayView2<f32>) -> Array3<f32> {
    image.to_owned().insert_axis(ndarray::Axis(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Images written as pre-filtered chunks read back bit for bit through hdf5-pure's own
    /// filter pipeline (an HDF5 reader independent of ours), including a chunk of random bits
    /// whose deflate was skipped; and the datasets declare the pipeline the chunks were made for.
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

        let f = hdf5_pure::File::open(&out).unwrap();
        let bits = |a: &[f32]| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for (name, want) in [("VIS", &vis), ("Y", &y)] {
            let d = f.dataset(&format!("images/{name}")).unwrap();
            // Shuffle (2) then deflate (1), at the declared level.
            assert_eq!(d.filters(), vec![2, 1]);
            let deflate = &d.filter_pipeline()[1];
            assert_eq!(deflate.client_data, vec![u32::from(DEFLATE_LEVEL)]);
            let got = d.read_f32().unwrap();
            assert_eq!(bits(&got), bits(want.as_slice().unwrap()), "{name}");
        }
        let ids = f.dataset("catalog/id").unwrap().read_i64().unwrap();
        assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    }
}
