//! `sim info` and `sim preview`: what a dataset holds, in words and in pictures.

use std::fmt;
use std::path::Path;

use format::dataset::columns;

use super::read::DatasetFile;
use crate::error::Result;
use crate::preview::{mosaic, write_png};
use crate::run_config::RunConfig;

/// A dataset's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// The survey's name.
    pub survey: String,
    /// The population's name (`-` for a file not made by `sim generate`).
    pub population: String,
    /// The generator that wrote the file.
    pub generator: String,
    /// The run's seed.
    pub seed: u64,
    /// Systems in the file.
    pub n: usize,
    /// Index of the first system in its run, and the run's size.
    pub first_index: u64,
    /// Systems in the whole run.
    pub n_total: u64,
    /// (band, stamp side in pixels).
    pub bands: Vec<(String, usize)>,
    /// Labelled lenses.
    pub lenses: usize,
    /// Systems with a background source.
    pub with_source: usize,
    /// Median n_pix_source of the lenses (NaN without lenses).
    pub median_n_pix_lenses: f64,
    /// Median Einstein radius of the lenses, arcsec (NaN without lenses).
    pub median_theta_e_lenses: f64,
    /// The label's definition and thresholds, in words.
    pub criteria: String,
    /// Number of catalogue columns.
    pub n_columns: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| !x.is_nan());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Reads the summary of the dataset at `path`.
pub fn describe(path: &Path) -> Result<Info> {
    let f = DatasetFile::open(path)?;
    let labels = f.labels(0, f.n)?;
    let lens_values = |name: &str| -> Result<Vec<f64>> {
        if !f.columns.iter().any(|c| c == name) {
            return Ok(Vec::new());
        }
        let v = f.numbers(name, 0, f.n)?;
        Ok(v.into_iter()
            .zip(&labels)
            .filter(|(_, &l)| l == 1)
            .map(|(x, _)| x)
            .collect())
    };
    let with_source = if f.columns.iter().any(|c| c == columns::HAS_SOURCE) {
        f.numbers(columns::HAS_SOURCE, 0, f.n)?
            .iter()
            .filter(|&&x| x > 0.0)
            .count()
    } else {
        0
    };
    let population = RunConfig::from_toml(&f.attrs.config, path)
        .map(|c| c.population.name)
        .unwrap_or_else(|_| "-".into());
    let criteria = format!(
        "n_source_groups ≥ {} and n_pix_source > {} in {}, mag_eff > {} in every band",
        f.label_attr(format::labels::MIN_GROUPS)?,
        f.label_attr(format::labels::MIN_N_PIX)?,
        f.label_attr_str("detection_band")?,
        f.label_attr(format::labels::MIN_MAG_EFF)?
    );
    Ok(Info {
        survey: f.attrs.survey.clone(),
        population,
        generator: f.generator.clone(),
        seed: f.attrs.seed,
        n: f.n,
        first_index: f.attrs.first_index,
        n_total: f.attrs.n_total,
        bands: f.bands.clone(),
        lenses: labels.iter().filter(|&&l| l == 1).count(),
        with_source,
        median_n_pix_lenses: median(lens_values(columns::N_PIX_SOURCE)?),
        median_theta_e_lenses: median(lens_values(columns::THETA_E)?),
        criteria,
        n_columns: f.columns.len(),
    })
}

impl fmt::Display for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frac = |k: usize| 100.0 * k as f64 / self.n.max(1) as f64;
        writeln!(
            f,
            "survey {}, population {}, seed {} ({})",
            self.survey, self.population, self.seed, self.generator
        )?;
        writeln!(
            f,
            "systems {} (indices {}..{} of a run of {})",
            self.n,
            self.first_index,
            self.first_index + self.n as u64,
            self.n_total
        )?;
        let bands: Vec<String> = self
            .bands
            .iter()
            .map(|(b, s)| format!("{b} {s}×{s}"))
            .collect();
        writeln!(f, "bands {}", bands.join(", "))?;
        writeln!(
            f,
            "lenses {} ({:.1} %), with a source {} ({:.1} %)",
            self.lenses,
            frac(self.lenses),
            self.with_source,
            frac(self.with_source)
        )?;
        writeln!(
            f,
            "lenses' median n_pix_source {:.0}, median θ_E {:.2}\"",
            self.median_n_pix_lenses, self.median_theta_e_lenses
        )?;
        writeln!(f, "label: {}", self.criteria)?;
        write!(f, "catalogue: {} columns", self.n_columns)
    }
}

/// Draws up to `per_class` lenses and `per_class` non-lenses of the dataset at `path` (the
/// first of each, by index) in band `band` (the detection band when `None`) as a mosaic PNG:
/// lenses on the top rows framed in green, non-lenses below framed in red. `crop` > 0 shows
/// only the central crop × crop pixels (where the arcs are). Returns the indices drawn,
/// lenses first.
pub fn preview(
    path: &Path,
    out: &Path,
    band: Option<&str>,
    per_class: usize,
    crop: usize,
) -> Result<Vec<usize>> {
    super::refuse_folder(out, "--out")?;
    if per_class == 0 {
        return Err(crate::Error::InvalidSpec {
            file: out.into(),
            field: "--per-class".into(),
            reason: "0 systems a class would draw an empty picture: give ≥ 1".into(),
        });
    }
    let f = DatasetFile::open(path)?;
    let band = match band {
        Some(b) => {
            if !f.bands.iter().any(|(n, _)| n == b) {
                return Err(crate::Error::InvalidSpec {
                    file: path.into(),
                    field: "--band".into(),
                    reason: format!(
                        "`{b}` is not a band of this dataset ({})",
                        f.bands
                            .iter()
                            .map(|x| x.0.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            b.to_string()
        }
        None => f.label_attr_str("detection_band")?,
    };
    let labels = f.labels(0, f.n)?;
    let pick = |want: u8| -> Vec<usize> {
        (0..f.n)
            .filter(|&i| labels[i] == want)
            .take(per_class)
            .collect()
    };
    let (lenses, others) = (pick(1), pick(0));
    let columns = per_class.clamp(1, 8);
    let mut chosen = Vec::new();
    let mut tiles = Vec::new();
    for (group, is_lens) in [(&lenses, true), (&others, false)] {
        for &i in group.iter() {
            let img = f.image(&band, i)?;
            let side = img.dim().0;
            let img = if crop > 0 && crop < side {
                let a = (side - crop) / 2;
                img.slice(ndarray::s![a..a + crop, a..a + crop]).to_owned()
            } else {
                img
            };
            tiles.push(Some((img, Some(is_lens))));
            chosen.push(i);
        }
        // Start the non-lenses on a fresh row.
        while tiles.len() % columns != 0 && is_lens {
            tiles.push(None);
        }
    }
    let refs: Vec<crate::preview::Tile> = tiles
        .iter()
        .map(|t| t.as_ref().map(|(a, l)| (a, *l)))
        .collect();
    let (rgb, w, h) = mosaic(&refs, columns);
    write_png(out, &rgb, w, h)?;
    Ok(chosen)
}
