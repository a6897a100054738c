//! Scoring a submission to a blind challenge-style set (`train score`): the figures of the
//! Strong Gravitational Lensing Challenges (Metcalf et al. 2019), overall and by bins of the
//! Einstein radius, the lensed-source pixel count and the lensed-source flux.
//!
//! - ROC AUC, as [`crate::evaluate::metrics::roc_auc`].
//! - TPR₀: the fraction of lenses scored above every non-lens (the true-positive rate reached
//!   before the first false positive).
//! - TPR₁₀: the fraction of lenses scored above the tenth-highest non-lens (fewer than ten false
//!   positives); every lens when there are fewer than ten non-lenses.
//! - F_β with β² = 0.001, maximised over the threshold ([`crate::evaluate::metrics::best_f_beta`]).
//!
//! In a bin, the lenses are those whose quantity falls in it and the non-lenses are all of
//! them: the figures say how well lenses of that kind are told from the whole background, as
//! the challenges' binned AUCs did.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use format::challenge::{sglc1, sglc2};
use format::labels::LabelCriteria;

use crate::evaluate::metrics::{best_f_beta, roc_auc, MetricsError};

/// The challenges' F_β weight (β² = 0.001: a false positive costs a thousand missed lenses).
pub const CHALLENGE_BETA2: f64 = 0.001;

/// Why a truth catalogue or a submission cannot be scored.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// A file that cannot be read.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A line that is not what it should be.
    #[error("{file}, line {line}: {message}")]
    Line {
        /// The file.
        file: String,
        /// Line number, from 1, counting every line of the file.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// Objects of the truth with no score.
    #[error("{file}: {missing} objects of the truth have no score, the first ID {id} (truth line {truth_line})")]
    Missing {
        /// The submission.
        file: String,
        /// How many are missing.
        missing: usize,
        /// The first missing ID.
        id: u64,
        /// Its line in the truth file.
        truth_line: usize,
    },
    /// Metrics that cannot be computed (one class only).
    #[error("{0}")]
    Metrics(#[from] MetricsError),
}

/// The truth of a blind set: per object its ID, label and the quantities the figures are
/// binned by.
#[derive(Clone, Debug, PartialEq)]
pub struct Truth {
    /// Object IDs, file order.
    pub ids: Vec<u64>,
    /// Line of each object in the truth file (from 1).
    pub lines: Vec<usize>,
    /// true = lens.
    pub is_lens: Vec<bool>,
    /// Einstein radius sqrt(area inside the tangential critical curve / π), arcsec.
    pub theta_e: Vec<f64>,
    /// Lensed-source pixels above 1σ of the background (detection band).
    pub n_pix_source: Vec<f64>,
    /// Lensed-source flux: e⁻/s (II SGLC `source_flux`) or in units of the background σ
    /// (I SGLC `flux_lensed_image_in_sigma`).
    pub source_flux: Vec<f64>,
    /// The unit of `source_flux`.
    pub flux_unit: &'static str,
}

fn read_err(file: &str) -> impl Fn(csv::Error) -> ScoreError + '_ {
    move |e| ScoreError::Read {
        file: file.to_string(),
        message: e.to_string(),
    }
}

/// Reads a challenge-style catalogue written by `sim generate --format sglc`: the II SGLC one
/// (labelled by the contract's one rule, [`LabelCriteria::is_lens`], with the thresholds its
/// first comment line records, else the challenge's: `(n_source_im >= 1) & (mag_eff > 1.6) &
/// (n_pix_source > 20)`) or the I SGLC one (its `is_lens` column).
pub fn read_truth(path: &Path) -> Result<Truth, ScoreError> {
    let file = path.display().to_string();
    let criteria = std::fs::File::open(path)
        .ok()
        .and_then(|f| std::io::BufRead::lines(std::io::BufReader::new(f)).next())
        .and_then(|line| line.ok())
        .and_then(|line| LabelCriteria::from_challenge_line(&line))
        .unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(read_err(&file))?;
    let header = reader.headers().map_err(read_err(&file))?.clone();
    if let Some(c) = crate::combine::tables::repeated_column(&header) {
        return Err(ScoreError::Read {
            file: file.clone(),
            message: crate::combine::tables::repeated_message(&c),
        });
    }
    let find = |name: &str| header.iter().position(|h| h == name);
    let second = find(sglc2::N_SOURCE_IM).is_some();
    let need = |name: &str| {
        find(name).ok_or_else(|| ScoreError::Read {
            file: file.clone(),
            message: format!(
                "no column `{name}`: not a catalogue of `sim generate --format sglc` (II SGLC \
                 image_catalog2.0train.csv or I SGLC classifications.csv)"
            ),
        })
    };
    let (id_c, area_c, npix_c, flux_c) = if second {
        (
            need(sglc2::ID)?,
            need(sglc2::EIN_AREA)?,
            need(sglc2::N_PIX_SOURCE)?,
            need(sglc2::SOURCE_FLUX)?,
        )
    } else {
        (
            need(sglc1::ID)?,
            need(sglc1::EINSTEIN_AREA)?,
            need(sglc1::NUMB_PIX_LENSED_IMAGE)?,
            need(sglc1::FLUX_LENSED_IMAGE_IN_SIGMA)?,
        )
    };
    let label_c = if second {
        [
            need(sglc2::N_SOURCE_IM)?,
            need(sglc2::MAG_EFF)?,
            need(sglc2::N_PIX_SOURCE)?,
        ]
    } else {
        let c = need(sglc1::IS_LENS)?;
        [c, c, c]
    };
    let mut t = Truth {
        ids: Vec::new(),
        lines: Vec::new(),
        is_lens: Vec::new(),
        theta_e: Vec::new(),
        n_pix_source: Vec::new(),
        source_flux: Vec::new(),
        flux_unit: if second { "e-/s" } else { "sigma" },
    };
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(read_err(&file))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        let bad = |message: String| ScoreError::Line {
            file: file.clone(),
            line,
            message,
        };
        let number = |c: usize| -> Result<f64, ScoreError> {
            let text = record.get(c).unwrap_or("");
            text.parse::<f64>().map_err(|_| {
                bad(format!(
                    "`{text}` in column `{}` is not a number",
                    &header[c]
                ))
            })
        };
        let id_text = record.get(id_c).unwrap_or("");
        let id: u64 = id_text
            .parse()
            .map_err(|_| bad(format!("`{id_text}` is not an object ID")))?;
        if let Some(first) = seen.insert(id, line) {
            return Err(bad(format!(
                "ID {id} appears again (first on line {first})"
            )));
        }
        let is_lens = if second {
            let mag_eff = number(label_c[1])?;
            criteria.is_lens(number(label_c[2])?, number(label_c[0])?, &[mag_eff])
        } else {
            number(label_c[0])? > 0.5
        };
        t.ids.push(id);
        t.lines.push(line);
        t.is_lens.push(is_lens);
        t.theta_e
            .push((number(area_c)?.max(0.0) / std::f64::consts::PI).sqrt());
        t.n_pix_source.push(number(npix_c)?);
        t.source_flux.push(number(flux_c)?);
    }
    Ok(t)
}

/// Reads a submission, two comma-separated columns `ID, score` (an optional header line
/// first), or a table whose header names `id` and `score` among its columns (as `train
/// predict` writes, with `is_lens`, `ra`, `dec` beside them), and returns the score of every object of `truth`, in its order. Every object must
/// be scored once, with a score in [0, 1]; the error names the line that breaks the rule.
pub fn read_submission(path: &Path, truth: &Truth) -> Result<Vec<f64>, ScoreError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScoreError::Read {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let index: HashMap<u64, usize> = truth
        .ids
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, k))
        .collect();
    let mut scores = vec![f64::NAN; truth.ids.len()];
    let mut scored_on = vec![0usize; truth.ids.len()];
    let mut first_content = true;
    // (ID column, score column, fields per line).
    let mut columns = (0, 1, 2);
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let content = raw.trim();
        if content.is_empty() {
            continue;
        }
        let bad = |message: String| ScoreError::Line {
            file: file.clone(),
            line,
            message,
        };
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if first_content {
            first_content = false;
            // `train predict`'s table: a header naming `id` and `score` among its columns.
            let at = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            if let (Some(i), Some(s)) = (at("id"), at("score")) {
                columns = (i, s, fields.len());
                continue;
            }
            if fields.len() == 2 && fields[1].parse::<f64>().is_err() {
                continue;
            }
        }
        let (id_at, score_at, width) = columns;
        if fields.len() != width {
            return Err(bad(if width == 2 {
                format!(
                    "`{content}` has {} fields; a submission has two, ID and score",
                    fields.len()
                )
            } else {
                format!(
                    "`{content}` has {} fields; the header has {width}",
                    fields.len()
                )
            }));
        }
        let fields = [fields[id_at], fields[score_at]];
        let id: u64 = fields[0]
            .parse()
            .map_err(|_| bad(format!("`{}` is not an object ID", fields[0])))?;
        let score: f64 = fields[1]
            .parse()
            .map_err(|_| bad(format!("`{}` is not a number", fields[1])))?;
        if !(0.0..=1.0).contains(&score) {
            return Err(bad(format!("score {score} of ID {id} is outside [0, 1]")));
        }
        let &k = index
            .get(&id)
            .ok_or_else(|| bad(format!("ID {id} is not an object of the set")))?;
        if scored_on[k] != 0 {
            return Err(bad(format!(
                "ID {id} is scored again (first on line {})",
                scored_on[k]
            )));
        }
        scored_on[k] = line;
        scores[k] = score;
    }
    let missing: Vec<usize> = (0..scores.len()).filter(|&k| scored_on[k] == 0).collect();
    if let Some(&first) = missing.first() {
        return Err(ScoreError::Missing {
            file,
            missing: missing.len(),
            id: truth.ids[first],
            truth_line: truth.lines[first],
        });
    }
    Ok(scores)
}

/// The challenge's figures for one set of lenses against the non-lenses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Figures {
    /// Lenses counted.
    pub n_lenses: usize,
    /// Non-lenses counted.
    pub n_non_lenses: usize,
    /// Area under the ROC curve.
    pub roc_auc: f64,
    /// True-positive rate before the first false positive.
    pub tpr0: f64,
    /// True-positive rate with fewer than ten false positives.
    pub tpr10: f64,
    /// F_β (β² = 0.001) maximised over the threshold.
    pub f_beta: f64,
    /// The threshold where it is reached.
    pub f_beta_threshold: f64,
}

/// The fraction of `lens_scores` strictly above the `k`-th highest of `non_lens_scores`
/// (1-based; every lens when there are fewer than `k`).
pub fn tpr_before_false_positives(lens_scores: &[f64], non_lens_scores: &[f64], k: usize) -> f64 {
    let mut negatives = non_lens_scores.to_vec();
    negatives.sort_by(|a, b| b.total_cmp(a));
    let above = match negatives.get(k - 1) {
        Some(&t) => lens_scores.iter().filter(|&&s| s > t).count(),
        None => lens_scores.len(),
    };
    above as f64 / lens_scores.len().max(1) as f64
}

/// The figures of `scores` against `labels` (true = lens).
pub fn figures(labels: &[bool], scores: &[f64]) -> Result<Figures, ScoreError> {
    let lens: Vec<f64> = (0..labels.len())
        .filter(|&k| labels[k])
        .map(|k| scores[k])
        .collect();
    let non: Vec<f64> = (0..labels.len())
        .filter(|&k| !labels[k])
        .map(|k| scores[k])
        .collect();
    let f = best_f_beta(labels, scores, CHALLENGE_BETA2)?;
    Ok(Figures {
        n_lenses: lens.len(),
        n_non_lenses: non.len(),
        roc_auc: roc_auc(labels, scores)?,
        tpr0: tpr_before_false_positives(&lens, &non, 1),
        tpr10: tpr_before_false_positives(&lens, &non, 10),
        f_beta: f.f_beta,
        f_beta_threshold: f.threshold,
    })
}

/// One bin of a quantity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bin {
    /// Lower edge (inclusive).
    pub low: f64,
    /// Upper edge (exclusive, inclusive for the last bin).
    pub high: f64,
    /// The figures of the lenses in the bin against all non-lenses.
    pub figures: Figures,
}

/// The figures binned by one quantity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Binned {
    /// The quantity.
    pub quantity: String,
    /// Its unit.
    pub unit: String,
    /// The bins, in increasing order.
    pub bins: Vec<Bin>,
}

/// Everything `train score` reports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScoreReport {
    /// All objects.
    pub overall: Figures,
    /// By Einstein radius, lensed-source pixels and lensed-source flux.
    pub binned: Vec<Binned>,
}

/// Edges of `n_bins` bins holding equal numbers of `values` (quantiles, the repeated ones
/// merged), from the least to the greatest value.
pub fn quantile_edges(values: &[f64], n_bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    if v.is_empty() || n_bins == 0 {
        return Vec::new();
    }
    // Bin k starts at the value of rank ⌊k·n/n_bins⌋; the last ends at the greatest value.
    let mut edges: Vec<f64> = (0..n_bins)
        .map(|k| v[k * v.len() / n_bins])
        .chain(std::iter::once(v[v.len() - 1]))
        .collect();
    edges.dedup();
    if edges.len() == 1 {
        edges.push(edges[0]);
    }
    edges
}

/// Scores `scores` (truth order) against `truth`: overall and in `n_bins` bins (quantiles of
/// the lenses) of each quantity.
pub fn score(truth: &Truth, scores: &[f64], n_bins: usize) -> Result<ScoreReport, ScoreError> {
    let labels = &truth.is_lens;
    let overall = figures(labels, scores)?;
    let quantities: [(&str, &str, &Vec<f64>); 3] = [
        ("theta_e", "arcsec", &truth.theta_e),
        ("n_pix_source", "pixels", &truth.n_pix_source),
        ("source_flux", truth.flux_unit, &truth.source_flux),
    ];
    let mut binned = Vec::new();
    for (name, unit, values) in quantities {
        let lens_values: Vec<f64> = (0..labels.len())
            .filter(|&k| labels[k])
            .map(|k| values[k])
            .collect();
        let edges = quantile_edges(&lens_values, n_bins);
        let mut bins = Vec::new();
        for w in 0..edges.len().saturating_sub(1) {
            let (low, high) = (edges[w], edges[w + 1]);
            let last = w + 2 == edges.len();
            let in_bin = |v: f64| v >= low && (v < high || (last && v <= high));
            let keep: Vec<usize> = (0..labels.len())
                .filter(|&k| !labels[k] || in_bin(values[k]))
                .collect();
            let l: Vec<bool> = keep.iter().map(|&k| labels[k]).collect();
            let s: Vec<f64> = keep.iter().map(|&k| scores[k]).collect();
            if l.iter().any(|&x| x) {
                bins.push(Bin {
                    low,
                    high,
                    figures: figures(&l, &s)?,
                });
            }
        }
        binned.push(Binned {
            quantity: name.into(),
            unit: unit.into(),
            bins,
        });
    }
    Ok(ScoreReport { overall, binned })
}

/// The report as text tables: the overall figures, then one table per binned quantity.
pub fn table(r: &ScoreReport) -> String {
    let row = |label: String, f: &Figures| {
        format!(
            "{label:<24} {:>7} {:>9} {:>8.4} {:>7.4} {:>7.4} {:>7.4}\n",
            f.n_lenses, f.n_non_lenses, f.roc_auc, f.tpr0, f.tpr10, f.f_beta
        )
    };
    let head = format!(
        "{:<24} {:>7} {:>9} {:>8} {:>7} {:>7} {:>7}\n",
        "", "lenses", "non-lens", "ROC AUC", "TPR0", "TPR10", "F_beta"
    );
    let mut t = head.clone();
    t.push_str(&row("all".into(), &r.overall));
    t.push_str(&format!(
        "(F_beta with beta^2 = {CHALLENGE_BETA2}, at threshold {})\n",
        r.overall.f_beta_threshold
    ));
    for b in &r.binned {
        t.push_str(&format!(
            "\nby {} ({}): the lenses in each bin against all non-lenses\n",
            b.quantity, b.unit
        ));
        t.push_str(&head);
        for bin in &b.bins {
            t.push_str(&row(
                format!("[{:.4}, {:.4}]", bin.low, bin.high),
                &bin.figures,
            ));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_truth_file_is_labelled_by_the_thresholds_it_records() {
        // Issue #20: the II SGLC truth is labelled by the contract's rule with the thresholds of
        // its first comment line (the criteria the set was made with), else the challenge's.
        let dir = tempfile::tempdir().unwrap();
        let header = "ID,ein_area,n_pix_source,source_flux,n_source_im,mag_eff\n";
        // System 1: 30 source pixels; system 2: 50; both with an image and μ_eff 2.
        let rows = "1,3.1,30,10,2,2.0\n2,3.1,50,10,2,2.0\n";
        let labels = |first_line: &str| {
            let path = dir.path().join("truth.csv");
            std::fs::write(&path, format!("{first_line}{header}{rows}")).unwrap();
            read_truth(&path).unwrap().is_lens
        };
        assert_eq!(
            labels(""),
            [true, true],
            "the challenge's n_pix_source > 20"
        );
        let rule = LabelCriteria {
            min_n_pix: 40,
            ..LabelCriteria::default()
        }
        .challenge_rule();
        assert_eq!(labels(&format!("# Label: {rule}.\n")), [false, true]);
    }

    #[test]
    fn tpr_counts_lenses_above_the_kth_non_lens() {
        // Hand count: non-lenses sorted 0.9, 0.8, 0.1 ×8 … ; lenses 0.95, 0.85, 0.5.
        let non = [0.9, 0.1, 0.8, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05];
        let lens = [0.95, 0.85, 0.5];
        assert_eq!(tpr_before_false_positives(&lens, &non, 1), 1.0 / 3.0);
        // the 10th highest non-lens is 0.1: all three lenses are above it
        assert_eq!(tpr_before_false_positives(&lens, &non, 10), 1.0);
        // a lens tied with the first non-lens does not count
        assert_eq!(tpr_before_false_positives(&[0.9], &non, 1), 0.0);
        // fewer than ten non-lenses: no threshold can make ten false positives
        assert_eq!(tpr_before_false_positives(&[0.0], &[1.0], 10), 1.0);
    }

    #[test]
    fn quantile_edges_split_evenly_and_merge_repeats() {
        let v: Vec<f64> = (0..101).map(f64::from).collect();
        assert_eq!(quantile_edges(&v, 4), vec![0.0, 25.0, 50.0, 75.0, 100.0]);
        assert_eq!(quantile_edges(&[3.0; 10], 5), vec![3.0, 3.0]);
    }
}
