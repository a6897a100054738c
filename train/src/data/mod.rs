//! Reading a lensforge dataset (DESIGN.md, HDF5 format version 1) a batch at a time, and its
//! labels: the stored `/labels/is_lens`, or a rule over catalogue columns such as
//! `n_pix_source>20 and mag_eff_VIS>1.6` to relabel without regenerating; and what turns its
//! systems into the network's input: [`split`] (test set and k folds), [`preprocess`]
//! (percentile clipping), [`augment`] (rotation, mirroring, zoom) and [`batches`] (a dataset's
//! systems as tensors).

pub mod augment;
pub mod batches;
pub mod folder;
pub mod preprocess;
pub mod split;
/// Cutouts as FITS stamps, checked when opened (the contract's reader, in `format`).
pub use format::checked as stamps;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use format::dataset::DatasetError;
use ndarray::Array3;

/// Why a dataset cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be read as HDF5, or an object in it not as it should.
    #[error("{file}: {message}")]
    Hdf5 {
        /// The file.
        file: PathBuf,
        /// What went wrong, with the dataset's path inside the file.
        message: String,
    },
    /// The file is HDF5 but not a lensforge dataset of a version this code reads.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: PathBuf,
        /// What is missing or wrong.
        message: String,
    },
    /// A label rule that does not parse or names a column the catalogue lacks.
    #[error("label rule `{rule}`: {message}")]
    Rule {
        /// The rule as given.
        rule: String,
        /// What is wrong.
        message: String,
    },
}

/// An open dataset: the contract's checked [`format::dataset::Dataset`], or a challenge folder
/// of FITS stamps or a list of cutouts ([`stamps::Stamps`]), read a batch at a time.
#[derive(Debug)]
pub struct Dataset {
    source: Source,
    bands: Vec<String>,
}

#[derive(Debug)]
enum Source {
    File(format::dataset::Dataset),
    Stamps(stamps::Stamps),
}

impl From<DatasetError> for DataError {
    fn from(e: DatasetError) -> Self {
        DataError::Format {
            file: e.file,
            message: e.message,
        }
    }
}

impl Dataset {
    /// Opens `path`: a challenge folder (II or I SGLC layout, as `sim generate --format sglc`
    /// writes it), a list (`.csv`) or folder of cutouts ([`format::cutouts`]), or a dataset file
    /// (a finished one: a partial file is refused), checking the contract: format attributes,
    /// square stamps, and one image, label and catalogue value per system. Stamps are checked
    /// as [`stamps::OpenOptions::default`] says: every band, bad cutouts refused.
    pub fn open(path: &Path) -> Result<Self, DataError> {
        Self::open_with(path, &stamps::OpenOptions::default())
    }

    /// Opens `path` as [`Self::open`] does, checking and reading stamps as `options` says (a
    /// dataset file ignores them).
    pub fn open_with(path: &Path, options: &stamps::OpenOptions) -> Result<Self, DataError> {
        let listing = if path.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            Some(format::cutouts::Cutouts::open_list(path)?)
        } else if path.is_dir() && format::stamps::ChallengeFolder::is_one(path) {
            Some(folder::open(path)?)
        } else if path.is_dir() {
            Some(format::cutouts::Cutouts::open_folder(path)?)
        } else {
            None
        };
        if let Some(listing) = listing {
            let s = stamps::Stamps::open(listing, options)?;
            if let Some(report) = s.skipped_report() {
                eprintln!("{report}");
            }
            return Ok(Self::stamps(s));
        }
        let data = format::dataset::Dataset::open(path)?;
        let bands = data.bands().iter().map(|(b, _)| b.clone()).collect();
        Ok(Self {
            source: Source::File(data),
            bands,
        })
    }

    fn stamps(s: stamps::Stamps) -> Self {
        Self {
            bands: s.bands(),
            source: Source::Stamps(s),
        }
    }

    /// Number of systems.
    pub fn len(&self) -> usize {
        match &self.source {
            Source::File(d) => d.len(),
            Source::Stamps(s) => s.len(),
        }
    }

    /// Whether the dataset holds no system.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bands, by name.
    pub fn bands(&self) -> &[String] {
        &self.bands
    }

    /// Whether the systems have labels (a blind challenge folder has none).
    pub fn is_labelled(&self) -> bool {
        match &self.source {
            Source::File(_) => true,
            Source::Stamps(s) => s.labels().is_ok(),
        }
    }

    fn path(&self) -> &Path {
        match &self.source {
            Source::File(d) => d.path(),
            Source::Stamps(s) => s.path(),
        }
    }

    fn h5(&self, message: String) -> DataError {
        DataError::Hdf5 {
            file: self.path().into(),
            message,
        }
    }

    /// The images of `band` for the systems `indices`, (len, H, W), e⁻/s per pixel (a folder's
    /// stamps in their own units), decoded on the current rayon pool.
    pub fn read_images(&self, band: &str, indices: &[usize]) -> Result<Array3<f32>, DataError> {
        let data = match &self.source {
            Source::File(d) => d,
            Source::Stamps(s) => {
                let n = s.grid(band).map_or(0, |g| g.side);
                let pixels = s.read_images(band, indices)?;
                return Ok(Array3::from_shape_vec((indices.len(), n, n), pixels)
                    .expect("one stamp of the band's grid per object"));
            }
        };
        let im = data
            .images(band)
            .map_err(|_| self.h5(format!("/images/{band}: no such band")))?;
        let [_, h, w] = im.shape();
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(self.h5(format!(
                "system {i} requested, the dataset holds {}",
                self.len()
            )));
        }
        let mut out = vec![0f32; indices.len() * h * w];
        im.read_many(indices, &mut out)
            .map_err(|e| self.h5(e.message))?;
        Ok(Array3::from_shape_vec((indices.len(), h, w), out).expect("read_many's length"))
    }

    /// A catalogue column as f64, whatever its stored numeric type; one value per system. A
    /// challenge folder has the `id` column only (its objects' IDs, from the file names).
    pub fn column(&self, name: &str) -> Result<Vec<f64>, DataError> {
        match &self.source {
            Source::File(d) => d.column_f64(name).map_err(|e| self.h5(e.message)),
            // A folder's IDs are numbers (its file names'); a list's may be any text.
            Source::Stamps(s) if name == format::dataset::columns::ID => s
                .ids()
                .iter()
                .map(|id| id.parse::<f64>())
                .collect::<Result<_, _>>()
                .map_err(|_| DataError::Format {
                    file: self.path().into(),
                    message: "the objects' IDs are not all numbers".into(),
                }),
            Source::Stamps(_) => Err(DataError::Format {
                file: self.path().into(),
                message: format!(
                    "a challenge folder or a list of cutouts gives its objects' IDs and labels, \
                     not the column `{name}`"
                ),
            }),
        }
    }

    /// The systems' IDs as text: the catalogue's `id` column (a folder's: from its file names),
    /// or the index where a dataset has none (one assembled by hand).
    pub fn ids(&self) -> Vec<String> {
        match &self.source {
            Source::Stamps(s) => s.ids().to_vec(),
            Source::File(_) => match self.column(format::dataset::columns::ID) {
                Ok(id) => id.into_iter().map(|v| format!("{v}")).collect(),
                Err(_) => (0..self.len()).map(|i| i.to_string()).collect(),
            },
        }
    }

    /// Each system's (RA, Dec) in degrees, where the source gives them (a list of cutouts with
    /// `ra` and `dec`, or stamps that all carry a WCS).
    pub fn positions(&self) -> Option<Vec<[f64; 2]>> {
        match &self.source {
            Source::Stamps(s) => s.positions().map(<[[f64; 2]]>::to_vec),
            _ => None,
        }
    }

    /// The cutouts left out of a source of stamps (`--bad-cutouts skip`), with what is wrong.
    pub fn skipped(&self) -> &[format::cutouts::BadCutout] {
        match &self.source {
            Source::Stamps(s) => s.skipped(),
            Source::File(_) => &[],
        }
    }

    /// The grid `band`'s images are read on: the stored side and the pixel scale (see
    /// [`Self::pixel_scale`]); a source of stamps brings every stamp onto it.
    pub fn grid(&self, band: &str) -> Option<stamps::Grid> {
        match &self.source {
            Source::Stamps(s) => s.grid(band),
            Source::File(d) => {
                let [_, side, _] = d.images(band).ok()?.shape();
                Some(stamps::Grid {
                    side,
                    pixel_scale: self.pixel_scale(band),
                })
            }
        }
    }

    /// The pixel scale of `band` in arcsec, from the survey recorded in the file's `config`
    /// attribute (`sim generate` and `sim render` record it), or from a folder's stamp
    /// headers; `None` where it is not there.
    pub fn pixel_scale(&self, band: &str) -> Option<f64> {
        let data = match &self.source {
            Source::File(d) => d,
            Source::Stamps(s) => return s.grid(band)?.pixel_scale,
        };
        let text = data.attr_str("config")?;
        let config: toml::Value = toml::from_str(text).ok()?;
        config
            .get("survey")?
            .get("bands")?
            .as_array()?
            .iter()
            .find(|b| b.get("name").and_then(|n| n.as_str()) == Some(band))?
            .get("pixel_scale")?
            .as_float()
    }

    /// The label criteria stored with `/labels/is_lens` (a dataset file's).
    pub fn label_criteria(&self) -> Result<format::labels::LabelCriteria, DataError> {
        use format::labels::{LabelCriteria, MIN_GROUPS, MIN_MAG_EFF, MIN_N_PIX};
        let data = match &self.source {
            Source::File(d) => d,
            Source::Stamps(_) => {
                return Err(DataError::Format {
                    file: self.path().into(),
                    message: "a challenge folder records no label criteria or per-band \
                              catalogue columns: use the HDF5 dataset of the same systems"
                        .into(),
                })
            }
        };
        let number = |name| data.label_attr(name).map_err(|e| self.h5(e.message));
        Ok(LabelCriteria {
            detection_band: None,
            min_n_pix: number(MIN_N_PIX)? as u32,
            min_groups: number(MIN_GROUPS)? as u32,
            min_mag_eff: number(MIN_MAG_EFF)?,
        })
    }

    /// The labels: `/labels/is_lens` (a folder's: its catalogue's, by the challenge's rule),
    /// or `rule` evaluated on the catalogue.
    pub fn labels(&self, rule: Option<&LabelRule>) -> Result<Vec<bool>, DataError> {
        match (rule, &self.source) {
            (None, Source::File(d)) => Ok(d
                .labels(0, self.len())?
                .into_iter()
                .map(|v| v == 1)
                .collect()),
            (None, Source::Stamps(s)) => {
                s.labels()
                    .map(<[bool]>::to_vec)
                    .map_err(|why| DataError::Format {
                        file: s.path().into(),
                        message: why.into(),
                    })
            }
            (Some(rule), _) => {
                let mut out = vec![true; self.len()];
                for c in &rule.clauses {
                    let col = self.column(&c.column).map_err(|e| DataError::Rule {
                        rule: rule.text.clone(),
                        message: e.to_string(),
                    })?;
                    for (o, v) in out.iter_mut().zip(col) {
                        *o &= c.op.holds(v, c.value);
                    }
                }
                Ok(out)
            }
        }
    }
}

/// A comparison operator of a label rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// >
    Gt,
    /// >=
    Ge,
    /// <
    Lt,
    /// <=
    Le,
    /// ==
    Eq,
    /// !=
    Ne,
}

impl Op {
    fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Op::Gt => a > b,
            Op::Ge => a >= b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Eq => a == b,
            Op::Ne => a != b,
        }
    }
}

/// One comparison: `column op value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    /// Catalogue column.
    pub column: String,
    /// Operator.
    pub op: Op,
    /// Threshold.
    pub value: f64,
}

/// A conjunction of comparisons over catalogue columns, e.g.
/// `n_source_groups>0 and n_pix_source>20 and mag_eff_VIS>1.6` (`and`, `&` or `,` join).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelRule {
    text: String,
    /// The comparisons, all of which must hold.
    pub clauses: Vec<Clause>,
}

impl FromStr for LabelRule {
    type Err = DataError;
    fn from_str(text: &str) -> Result<Self, DataError> {
        let bad = |message: String| DataError::Rule {
            rule: text.to_string(),
            message,
        };
        let normalized = text
            .replace(" and ", "&")
            .replace(" AND ", "&")
            .replace(',', "&");
        let mut clauses = Vec::new();
        for part in normalized.split('&').map(str::trim) {
            if part.is_empty() {
                return Err(bad("an empty comparison".into()));
            }
            let ops = [
                (">=", Op::Ge),
                ("<=", Op::Le),
                ("==", Op::Eq),
                ("!=", Op::Ne),
                (">", Op::Gt),
                ("<", Op::Lt),
            ];
            let (pos, sym, op) = ops
                .iter()
                .filter_map(|&(sym, op)| part.find(sym).map(|p| (p, sym, op)))
                .min_by_key(|&(p, sym, _)| (p, std::cmp::Reverse(sym.len())))
                .ok_or_else(|| bad(format!("`{part}` has no comparison (>, >=, <, <=, ==, !=)")))?;
            let column = part[..pos].trim();
            let value = part[pos + sym.len()..].trim();
            if column.is_empty() || !column.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(bad(format!("`{column}` is not a column name")));
            }
            let value: f64 = value
                .parse()
                .map_err(|_| bad(format!("`{value}` is not a number")))?;
            clauses.push(Clause {
                column: column.to_string(),
                op,
                value,
            });
        }
        Ok(Self {
            text: text.to_string(),
            clauses,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules_parse_into_clauses() {
        let r: LabelRule = "n_source_groups>0 and n_pix_source>=20 & mag_eff_VIS > 1.6"
            .parse()
            .unwrap();
        assert_eq!(r.clauses.len(), 3);
        assert_eq!(
            r.clauses[1],
            Clause {
                column: "n_pix_source".into(),
                op: Op::Ge,
                value: 20.0
            }
        );
        assert_eq!(r.clauses[2].op, Op::Gt);
        assert!("n_pix_source 20".parse::<LabelRule>().is_err());
        assert!("n_pix_source > twenty".parse::<LabelRule>().is_err());
        assert!("> 3".parse::<LabelRule>().is_err());
    }
}
