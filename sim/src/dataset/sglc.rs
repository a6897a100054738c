//! Challenge-style datasets: the layouts of the Strong Gravitational Lensing Challenges, so that
//! loaders written for them read lensforge data unchanged.
//!
//! - **II SGLC** (Euclid: VIS, Y, J, H): `Public/EUC_<band>/imageEUC_<band>-<ID>.fits` and the
//!   catalogue `image_catalog2.0train.csv`: 28 `#` comment lines, a header row and one row per
//!   object with the challenge's 27 columns (an unnamed index first). Its loaders label with
//!   `(n_source_im > 0) & (mag_eff > 1.6) & (n_pix_source > 20)`, which the columns are filled
//!   to reproduce.
//! - **I SGLC** ground-based (KiDS: u, g, r, i): `Public/Band1/imageSDSS_R-<ID>.fits` (Band2 I,
//!   Band3 G, Band4 U) and `classifications.csv` with `ID, is_lens, Einstein_area,
//!   numb_pix_lensed_image, flux_lensed_image_in_sigma` (no comment lines: its loaders parse
//!   every row after the header as numbers).
//!
//! A blind set has the images only; its catalogue (the truth) goes to a separate file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use format::dataset::columns::{self, band, of_band as of};
use ndarray::{Array3, Axis};

use crate::dataset::fits::{write_stamp, StampHeader};
use crate::dataset::hdf5::Column;
use crate::error::{Error, Result};
use crate::observe::Survey;

/// Which challenge's layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// The second challenge (Euclid-like, 2019–2020): VIS, Y, J, H.
    Second,
    /// The first challenge's ground-based set (KiDS-like, 2016–2017): u, g, r, i.
    First,
}

pub use format::challenge::{SGLC1_COLUMNS, SGLC2_COLUMNS};

/// Where each band's stamps go, and what the catalogue is called.
#[derive(Clone, Debug, PartialEq)]
pub struct SglcLayout {
    /// The challenge.
    pub challenge: Challenge,
    /// Per survey band (survey order): its folder under `Public/` and its file-name prefix.
    pub bands: Vec<(String, String)>,
}

impl SglcLayout {
    /// The layout for `survey`'s bands: VIS, Y, J, H → II SGLC; u, g, r, i → I SGLC.
    pub fn for_survey(survey: &Survey) -> Result<Self> {
        let names: Vec<&str> = survey.bands.iter().map(|b| b.name.as_str()).collect();
        let has = |set: &[&str]| names.len() == set.len() && set.iter().all(|n| names.contains(n));
        if has(&["VIS", "Y", "J", "H"]) {
            let bands = names
                .iter()
                .map(|n| (format!("EUC_{n}"), format!("imageEUC_{n}-")))
                .collect();
            return Ok(Self {
                challenge: Challenge::Second,
                bands,
            });
        }
        if has(&["u", "g", "r", "i"]) {
            // The I SGLC numbered its bands R, I, G, U.
            let bands = names
                .iter()
                .map(|n| {
                    let k = ["r", "i", "g", "u"]
                        .iter()
                        .position(|b| b == n)
                        .unwrap_or(0);
                    (
                        format!("Band{}", k + 1),
                        format!("imageSDSS_{}-", n.to_uppercase()),
                    )
                })
                .collect();
            return Ok(Self {
                challenge: Challenge::First,
                bands,
            });
        }
        Err(Error::InvalidSpec {
            file: format!("survey `{}`", survey.name).into(),
            field: "bands".into(),
            reason: format!(
                "the challenge layouts need the bands VIS, Y, J, H (II SGLC, e.g. --survey euclid) \
                 or u, g, r, i (I SGLC, e.g. --survey kids); this survey has {}",
                names.join(", ")
            ),
        })
    }

    /// The catalogue's file name.
    pub fn catalog_name(&self) -> &'static str {
        match self.challenge {
            Challenge::Second => "image_catalog2.0train.csv",
            Challenge::First => "classifications.csv",
        }
    }

    /// Path of band `b`'s stamp of object `id`, relative to the dataset folder.
    pub fn image_path(&self, b: usize, id: u64) -> PathBuf {
        let (dir, prefix) = &self.bands[b];
        Path::new("Public")
            .join(dir)
            .join(format!("{prefix}{id}.fits"))
    }

    /// The catalogue's header row.
    pub fn header(&self) -> Vec<&'static str> {
        match self.challenge {
            Challenge::Second => std::iter::once("")
                .chain(SGLC2_COLUMNS.iter().map(|c| c.0))
                .collect(),
            Challenge::First => SGLC1_COLUMNS.iter().map(|c| c.0).collect(),
        }
    }

    /// The comment block before the header (II SGLC: 28 lines, as the challenge's file had, so
    /// that loaders reading with `skiprows=28` work too; I SGLC: none).
    pub fn comment_block(&self, survey: &Survey) -> Vec<String> {
        match self.challenge {
            Challenge::First => Vec::new(),
            Challenge::Second => {
                let mut lines = vec![
                    format!(
                        "# lensforge {} simulation of survey `{}` in the II SGLC layout. Label: {}.",
                        env!("CARGO_PKG_VERSION"),
                        survey.name,
                        survey.labels.challenge_rule()
                    ),
                    "# Columns: an unnamed row index, then:".to_string(),
                ];
                lines.extend(
                    SGLC2_COLUMNS
                        .iter()
                        .map(|(name, what)| format!("# {name}: {what}")),
                );
                lines
            }
        }
    }

    /// Catalogue rows of the systems in `catalog` (columns of equal length, as `sim generate`
    /// builds them), the first being row `first_row` of the file and object `first_id`.
    pub fn rows(
        &self,
        survey: &Survey,
        catalog: &[(String, Column)],
        is_lens: &[u8],
        first_row: u64,
        first_id: u64,
    ) -> Result<Vec<Vec<String>>> {
        let find = |name: &str| -> Result<&Column> {
            catalog
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, c)| c)
                .ok_or_else(|| Error::InvalidSpec {
                    file: "(catalogue)".into(),
                    field: name.into(),
                    reason: "this column is missing: the challenge layouts need a `sim generate` catalogue".into(),
                })
        };
        let det = &survey.bands[survey.detection_band()].name;
        let first = &survey.bands[0].name;
        let last = &survey.bands[survey.bands.len() - 1].name;
        let col = |name: String| find(&name);
        let theta_e = find(columns::THETA_E)?;
        let n_pix = find(columns::N_PIX_SOURCE)?;
        let lensed_flux = col(of(band::LENSED_SOURCE_FLUX, det))?;
        let mut rows = Vec::with_capacity(is_lens.len());
        for (k, &label) in is_lens.iter().enumerate() {
            let id = first_id + first_row + k as u64;
            let area = std::f64::consts::PI * theta_e.f64_at(k).powi(2);
            let row = match self.challenge {
                Challenge::First => vec![
                    id.to_string(),
                    label.to_string(),
                    num(area),
                    int(n_pix.f64_at(k)),
                    num(lensed_flux.f64_at(k) / col(of(band::BG_SIGMA, det))?.f64_at(k)),
                ],
                Challenge::Second => {
                    let has_source = find(columns::HAS_SOURCE)?.f64_at(k) > 0.0;
                    let if_source = |v: f64| if has_source { v } else { f64::NAN };
                    let mag_eff = survey
                        .bands
                        .iter()
                        .map(|b| col(columns::mag_eff(&b.name)).map(|c| c.f64_at(k)))
                        .collect::<Result<Vec<f64>>>()?
                        .into_iter()
                        .fold(f64::INFINITY, |m, v| {
                            if v.is_nan() || m.is_nan() {
                                f64::NAN
                            } else {
                                m.min(v)
                            }
                        });
                    let colour = |stem: &str| -> Result<f64> {
                        Ok(col(of(stem, first))?.f64_at(k) - col(of(stem, last))?.f64_at(k))
                    };
                    let f = |name: &str| -> Result<String> { Ok(num(find(name)?.f64_at(k))) };
                    let i = |name: &str| -> Result<String> { Ok(int(find(name)?.f64_at(k))) };
                    vec![
                        (first_row + k as u64).to_string(),
                        id.to_string(),
                        f(columns::CRITICAL_X)?,
                        f(columns::CRITICAL_Y)?,
                        if has_source {
                            id.to_string()
                        } else {
                            "-1".into()
                        },
                        f(columns::Z_SOURCE)?,
                        f(columns::Z_LENS)?,
                        num(if_source(col(of(band::SOURCE_MAG, det))?.f64_at(k))),
                        num(area),
                        u8::from(theta_e.f64_at(k) > 0.0).to_string(),
                        num(if_source(find(columns::SOURCE_R_EFF)?.f64_at(k))),
                        f(columns::CAUSTIC_AREA)?,
                        i(columns::N_PIX_SOURCE)?,
                        num(lensed_flux.f64_at(k)),
                        i(columns::N_PIX_LENS)?,
                        num(col(of(band::LENS_FLUX, det))?.f64_at(k)),
                        i(columns::N_SOURCE_GROUPS)?,
                        num(if_source(mag_eff)),
                        f(columns::SB_CONTRAST)?,
                        num(if_source(
                            colour(band::SOURCE_MAG)? - colour(band::LENS_MAG)?,
                        )),
                        i(columns::N_GAL_3)?,
                        i(columns::N_GAL_5)?,
                        i(columns::N_GAL_10)?,
                        f(columns::HALO_MASS)?,
                        f(columns::STELLAR_MASS)?,
                        num(col(of(band::LENS_MAG, det))?.f64_at(k)),
                        u8::from(has_source).to_string(),
                    ]
                }
            };
            rows.push(row);
        }
        Ok(rows)
    }
}

/// A float as the catalogue writes it: Rust's shortest round-trip form; NaN as `NaN` and
/// infinities as `inf`/`-inf`, which pandas reads as such.
fn num(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v}")
    }
}

fn int(v: f64) -> String {
    format!("{}", v as i64)
}

impl Column {
    /// Value `k` as a float (integers and bytes converted; a string is NaN).
    pub fn f64_at(&self, k: usize) -> f64 {
        match self {
            Column::F64(v) => v[k],
            Column::I64(v) => v[k] as f64,
            Column::U8(v) => v[k] as f64,
            Column::Str { .. } => f64::NAN,
        }
    }
}

/// How to write a challenge-style set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SglcOptions {
    /// ID of the run's first system (system k is `first_id + k`).
    pub first_id: u64,
    /// Images only: the catalogue goes to `truth` instead of the dataset folder.
    pub blind: bool,
    /// Where a blind set's catalogue goes (default: `<out>.truth.csv` beside the folder).
    pub truth: Option<PathBuf>,
}

impl SglcOptions {
    /// The truth file of a blind set written to `out`.
    pub fn truth_path(&self, out: &Path) -> PathBuf {
        self.truth.clone().unwrap_or_else(|| {
            let mut name = out.file_name().unwrap_or_default().to_os_string();
            name.push(".truth.csv");
            out.with_file_name(name)
        })
    }
}

/// A hidden name beside `path` for its unfinished version.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".partial");
    path.with_file_name(name)
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.into(),
        source,
    }
}

/// Writes a challenge-style set block by block into a hidden folder, renamed to its final name
/// (and the truth file to its own) only when every system is written.
pub struct SglcWriter {
    layout: SglcLayout,
    survey: Survey,
    out: PathBuf,
    partial: PathBuf,
    catalog_path: PathBuf,
    catalog_partial: PathBuf,
    catalog: Option<csv::Writer<BufWriter<File>>>,
    finished: bool,
    config_path: PathBuf,
    config: String,
    first_id: u64,
    written: u64,
}

impl SglcWriter {
    /// Starts the set `out` (a folder that must not exist yet) for `survey`, recording the run's
    /// configuration `config` (TOML) beside the catalogue.
    pub fn create(out: &Path, survey: &Survey, config: &str, opts: &SglcOptions) -> Result<Self> {
        let layout = SglcLayout::for_survey(survey)?;
        if out.exists() {
            return Err(Error::InvalidSpec {
                file: out.into(),
                field: "--out".into(),
                reason: "already exists: a challenge-style set is written into a new folder".into(),
            });
        }
        let partial = partial_path(out);
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(io(&partial))?;
        }
        for (dir, _) in &layout.bands {
            let d = partial.join("Public").join(dir);
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let (catalog_path, catalog_partial, config_path) = if opts.blind {
            let truth = opts.truth_path(out);
            if truth.starts_with(out) {
                return Err(Error::InvalidSpec {
                    file: truth,
                    field: "--truth".into(),
                    reason: "a blind set's truth must lie outside its folder".into(),
                });
            }
            if truth.exists() {
                return Err(Error::InvalidSpec {
                    file: truth,
                    field: "--truth".into(),
                    reason: "already exists: choose another truth file".into(),
                });
            }
            (
                truth.clone(),
                partial_path(&truth),
                truth.with_extension("toml"),
            )
        } else {
            let c = partial.join(layout.catalog_name());
            (
                out.join(layout.catalog_name()),
                c,
                partial.join("lensforge-config.toml"),
            )
        };
        let readme = partial.join("README.txt");
        std::fs::write(&readme, readme_text(&layout, survey, opts.blind)).map_err(io(&readme))?;
        let mut file =
            BufWriter::new(File::create(&catalog_partial).map_err(io(&catalog_partial))?);
        for line in layout.comment_block(survey) {
            writeln!(file, "{line}").map_err(io(&catalog_partial))?;
        }
        let mut catalog = csv::Writer::from_writer(file);
        catalog
            .write_record(layout.header())
            .map_err(|e| csv_error(&catalog_partial, e))?;
        Ok(Self {
            layout,
            survey: survey.clone(),
            out: out.into(),
            partial,
            catalog_path,
            catalog_partial,
            catalog: Some(catalog),
            finished: false,
            config_path,
            config: config.to_string(),
            first_id: opts.first_id,
            written: 0,
        })
    }

    /// Systems written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Writes the next systems: their images (one (n, H, W) array per band, survey order),
    /// catalogue columns and labels.
    pub fn append(
        &mut self,
        images: &[Array3<f32>],
        catalog: &[(String, Column)],
        is_lens: &[u8],
    ) -> Result<()> {
        for k in 0..is_lens.len() {
            let id = self.first_id + self.written + k as u64;
            for (b, band) in self.survey.bands.iter().enumerate() {
                let path = self.partial.join(self.layout.image_path(b, id));
                let header = StampHeader {
                    id,
                    survey: self.survey.name.clone(),
                    band: band.name.clone(),
                    pixel_scale: band.pixel_scale,
                    zero_point: band.zero_point,
                };
                write_stamp(&path, images[b].index_axis(Axis(0), k), &header)?;
            }
        }
        let rows = self
            .layout
            .rows(&self.survey, catalog, is_lens, self.written, self.first_id)?;
        let catalog = self.catalog.as_mut().expect("open until finished");
        for row in rows {
            catalog
                .write_record(&row)
                .map_err(|e| csv_error(&self.catalog_partial, e))?;
        }
        catalog.flush().map_err(io(&self.catalog_partial))?;
        self.written += is_lens.len() as u64;
        Ok(())
    }

    /// Completes the set: the catalogue and the folder take their final names.
    pub fn finish(mut self) -> Result<()> {
        let file = self
            .catalog
            .take()
            .expect("open until finished")
            .into_inner()
            .map_err(|e| io(&self.catalog_partial)(e.into_error()))?;
        file.into_inner()
            .map_err(|e| io(&self.catalog_partial)(e.into_error()))?
            .sync_all()
            .map_err(io(&self.catalog_partial))?;
        std::fs::write(&self.config_path, &self.config).map_err(io(&self.config_path))?;
        if self.catalog_partial.starts_with(&self.partial) {
            std::fs::rename(&self.partial, &self.out).map_err(io(&self.out))?;
        } else {
            std::fs::rename(&self.catalog_partial, &self.catalog_path)
                .map_err(io(&self.catalog_path))?;
            std::fs::rename(&self.partial, &self.out).map_err(io(&self.out))?;
        }
        self.finished = true;
        Ok(())
    }
}

impl Drop for SglcWriter {
    /// A run that stopped on an error leaves nothing behind.
    fn drop(&mut self) {
        if !self.finished {
            let _ = std::fs::remove_dir_all(&self.partial);
            let _ = std::fs::remove_file(&self.catalog_partial);
        }
    }
}

fn csv_error(path: &Path, e: csv::Error) -> Error {
    Error::Io {
        path: path.into(),
        source: std::io::Error::other(e.to_string()),
    }
}

fn readme_text(layout: &SglcLayout, survey: &Survey, blind: bool) -> String {
    let mut t = format!(
        "Simulated by lensforge {} (survey `{}`) in the {} layout.\n\n",
        env!("CARGO_PKG_VERSION"),
        survey.name,
        match layout.challenge {
            Challenge::Second => "II SGLC",
            Challenge::First => "I SGLC ground-based",
        }
    );
    t.push_str("Images: one FITS file per band per object, float32 primary HDU, sky-subtracted e-/s per pixel, TAN WCS centred on the stamp, PIXSCALE in arcsec/pixel, MAGZERO the AB zero point.\n");
    for (b, band) in survey.bands.iter().enumerate() {
        t.push_str(&format!(
            "  {}: {}  ({}x{} at {}\"/px)\n",
            band.name,
            layout
                .image_path(b, 0)
                .parent()
                .unwrap_or(Path::new(""))
                .display(),
            band.size,
            band.size,
            band.pixel_scale
        ));
    }
    if blind {
        t.push_str("\nA blind set: the catalogue is kept apart. Submit a CSV of two columns, ID and score (the probability of a lens, in [0, 1]), one row per object.\n");
    } else {
        t.push_str(&format!(
            "\nCatalogue: {} (read with pandas.read_csv(path, comment='#'{})).\n",
            layout.catalog_name(),
            if layout.challenge == Challenge::Second {
                ", index_col=0"
            } else {
                ""
            }
        ));
        let columns: &[(&str, &str)] = match layout.challenge {
            Challenge::Second => &SGLC2_COLUMNS,
            Challenge::First => &SGLC1_COLUMNS,
        };
        for (name, what) in columns {
            t.push_str(&format!("  {name}: {what}\n"));
        }
    }
    t
}
