//! How far several lens finders agree (`train compare`), as the DES study compared its three
//! networks: scores turned into dense normalised ranks, top-k and bottom-k Jaccard similarity
//! between every pair of finders and between each finder and the truth, 2-D rank histograms,
//! and completeness at a rank threshold per finder and for their union, overall and per
//! confidence class of a graded truth.
//!
//! Conventions (tested against scipy and pandas on fixtures):
//! - dense rank: tied scores share a rank, ranks run 1, 2, … without gaps from the lowest score,
//!   and are divided by the highest, so the best-scored objects have rank 1 (scipy's
//!   `rankdata(method="dense") / max`); ranks are taken over every object in the tables;
//! - top-k set: the objects scored at least as high as the k-th highest, ties at the boundary
//!   all kept (pandas' `nlargest(k, keep="all")`); bottom-k likewise from below;
//! - the truth ranks objects by their graded score when it has one, else by their label, over
//!   the labelled objects; a finder is compared with it on those objects only.

use serde::{Deserialize, Serialize};

use crate::combine::tables::Joined;

/// Dense normalised ranks of `scores`: 1 for the highest, 1/(distinct scores) for the lowest.
pub fn dense_ranks(scores: &[f64]) -> Vec<f64> {
    let mut distinct: Vec<f64> = scores.to_vec();
    distinct.sort_by(f64::total_cmp);
    distinct.dedup();
    let top = distinct.len() as f64;
    scores
        .iter()
        .map(|s| (distinct.partition_point(|d| d < s) + 1) as f64 / top)
        .collect()
}

/// Indices of the objects valued at least as high as the k-th highest (all of them when k is
/// at least their number), in increasing index order.
pub fn top_set(values: &[f64], k: usize) -> Vec<usize> {
    boundary_set(values, k, |a, b| b.total_cmp(a))
}

/// Indices of the objects valued at most as high as the k-th lowest, in increasing order.
pub fn bottom_set(values: &[f64], k: usize) -> Vec<usize> {
    boundary_set(values, k, f64::total_cmp)
}

fn boundary_set(
    values: &[f64],
    k: usize,
    order: impl Fn(&f64, &f64) -> std::cmp::Ordering,
) -> Vec<usize> {
    if k == 0 || values.is_empty() {
        return Vec::new();
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(&order);
    let edge = sorted[k.min(sorted.len()) - 1];
    (0..values.len())
        .filter(|&i| order(&values[i], &edge) != std::cmp::Ordering::Greater)
        .collect()
}

/// |A ∩ B| / |A ∪ B| of two sets of indices given in increasing order (1 when both are empty).
pub fn jaccard(a: &[usize], b: &[usize]) -> f64 {
    let (mut i, mut j, mut both) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                both += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - both;
    if union == 0 {
        1.0
    } else {
        both as f64 / union as f64
    }
}

/// The study's confidence classes of a graded score: A ≥ 1.8 > B ≥ 1.2 > C ≥ 0.8 > Z.
pub const CLASS_EDGES: [(char, f64); 3] = [('A', 1.8), ('B', 1.2), ('C', 0.8)];

/// The confidence class of a graded score (`edges` from the highest class down; 'Z' below).
pub fn confidence_class(grade: f64, edges: &[(char, f64)]) -> char {
    edges
        .iter()
        .find(|(_, lo)| grade >= *lo)
        .map_or('Z', |(c, _)| *c)
}

/// What `train compare` is asked for (its arguments).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct CompareSettings {
    /// Size of the top-k and bottom-k sets.
    #[arg(long, default_value_t = 100, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000_000))]
    pub k: usize,
    /// Normalised rank at or above which an object counts as found.
    #[arg(long, default_value_t = 0.8)]
    pub rank_threshold: f64,
    /// Bins per axis of the 2-D rank histograms.
    #[arg(long, default_value_t = 20, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub bins: usize,
}

impl Default for CompareSettings {
    fn default() -> Self {
        crate::config::argument_defaults()
    }
}

/// Agreement of two rankings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Agreement {
    /// First finder.
    pub a: String,
    /// Second finder, or `truth`.
    pub b: String,
    /// Objects compared.
    pub objects: usize,
    /// Jaccard similarity of the two top-k sets.
    pub top_jaccard: f64,
    /// Of the two bottom-k sets.
    pub bottom_jaccard: f64,
    /// Sizes of the top sets (more than k where ties straddle the boundary).
    pub top_sizes: (usize, usize),
    /// Sizes of the bottom sets.
    pub bottom_sizes: (usize, usize),
}

/// Completeness of one finder (or of the union of all) on one group of objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// The group: `lenses`, or a confidence class `A`, `B`, `C`, `Z`.
    pub group: String,
    /// Objects in it.
    pub n: usize,
    /// Of which ranked at or above the threshold.
    pub found: usize,
    /// found / n (None for an empty group).
    pub completeness: Option<f64>,
}

/// One finder's (or the union's) completeness in every group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinderCompleteness {
    /// The finder, or `union` (found by any finder).
    pub finder: String,
    /// Per group.
    pub groups: Vec<Completeness>,
}

/// A 2-D histogram of two finders' ranks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankHistogram {
    /// Finder on the x axis.
    pub a: String,
    /// Finder on the y axis.
    pub b: String,
    /// `counts[iy][ix]`: objects with a's rank in bin ix and b's in bin iy (bins of width
    /// 1/bins over (0, 1], the last closed).
    pub counts: Vec<Vec<usize>>,
}

/// `train compare`'s report (`compare.json`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CompareReport {
    /// What was asked.
    pub settings: CompareSettings,
    /// Finders compared.
    pub finders: Vec<String>,
    /// Objects in the tables.
    pub objects: usize,
    /// Labelled objects, and lenses among them.
    pub labelled: usize,
    /// Lenses among the labelled.
    pub lenses: usize,
    /// Every pair of finders, then each finder against the truth.
    pub agreement: Vec<Agreement>,
    /// Per finder, then the union (empty without a truth).
    pub completeness: Vec<FinderCompleteness>,
    /// Every pair of finders.
    pub histograms: Vec<RankHistogram>,
}

/// Why a comparison is impossible.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    /// A setting out of its range.
    #[error("{0}")]
    Settings(String),
    /// An output file could not be written.
    #[error("{path}: {message}")]
    Output {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        message: String,
    },
}

fn agreement(a: &str, b: &str, x: &[f64], y: &[f64], k: usize) -> Agreement {
    let (tx, ty) = (top_set(x, k), top_set(y, k));
    let (bx, by) = (bottom_set(x, k), bottom_set(y, k));
    Agreement {
        a: a.into(),
        b: b.into(),
        objects: x.len(),
        top_jaccard: jaccard(&tx, &ty),
        bottom_jaccard: jaccard(&bx, &by),
        top_sizes: (tx.len(), ty.len()),
        bottom_sizes: (bx.len(), by.len()),
    }
}

fn histogram(a: &str, b: &str, x: &[f64], y: &[f64], bins: usize) -> RankHistogram {
    let bin = |r: f64| (((r * bins as f64).ceil() as usize).max(1) - 1).min(bins - 1);
    let mut counts = vec![vec![0; bins]; bins];
    for (rx, ry) in x.iter().zip(y) {
        counts[bin(*ry)][bin(*rx)] += 1;
    }
    RankHistogram {
        a: a.into(),
        b: b.into(),
        counts,
    }
}

/// Compares the finders of `joined`.
pub fn compare(joined: &Joined, settings: &CompareSettings) -> Result<CompareReport, CompareError> {
    if settings.k == 0 {
        return Err(CompareError::Settings("--k 0: must be at least 1".into()));
    }
    if settings.bins == 0 {
        return Err(CompareError::Settings(
            "--bins 0: must be at least 1".into(),
        ));
    }
    if !(settings.rank_threshold > 0.0 && settings.rank_threshold <= 1.0) {
        return Err(CompareError::Settings(format!(
            "--rank-threshold {}: must be in (0, 1]",
            settings.rank_threshold
        )));
    }
    let ranks: Vec<Vec<f64>> = joined.scores.iter().map(|s| dense_ranks(s)).collect();
    let names = &joined.finders;
    let mut agreements = Vec::new();
    let mut histograms = Vec::new();
    for a in 0..names.len() {
        for b in a + 1..names.len() {
            agreements.push(agreement(
                &names[a], &names[b], &ranks[a], &ranks[b], settings.k,
            ));
            histograms.push(histogram(
                &names[a],
                &names[b],
                &ranks[a],
                &ranks[b],
                settings.bins,
            ));
        }
    }
    let labelled = joined.labelled();
    let lenses: Vec<usize> = labelled
        .iter()
        .copied()
        .filter(|&i| joined.labels[i] == Some(true))
        .collect();
    let mut completeness = Vec::new();
    if !labelled.is_empty() {
        let truth: Vec<f64> = labelled
            .iter()
            .map(|&i| match &joined.grades {
                Some(g) => g[i].expect("every labelled object has a grade"),
                None => f64::from(u8::from(joined.labels[i] == Some(true))),
            })
            .collect();
        for (a, r) in names.iter().zip(&ranks) {
            let sub: Vec<f64> = labelled.iter().map(|&i| r[i]).collect();
            agreements.push(agreement(a, "truth", &sub, &truth, settings.k));
        }
        let mut groups: Vec<(String, Vec<usize>)> = vec![("lenses".into(), lenses.clone())];
        if let Some(g) = &joined.grades {
            for class in ['A', 'B', 'C', 'Z'] {
                let members = labelled
                    .iter()
                    .copied()
                    .filter(|&i| confidence_class(g[i].unwrap_or(0.0), &CLASS_EDGES) == class)
                    .collect();
                groups.push((class.to_string(), members));
            }
        }
        let found_by = |i: usize, f: Option<usize>| match f {
            Some(f) => ranks[f][i] >= settings.rank_threshold,
            None => ranks.iter().any(|r| r[i] >= settings.rank_threshold),
        };
        let finders = (0..names.len()).map(Some).chain(std::iter::once(None));
        for f in finders {
            completeness.push(FinderCompleteness {
                finder: f.map_or("union".to_string(), |f| names[f].clone()),
                groups: groups
                    .iter()
                    .map(|(group, members)| {
                        let found = members.iter().filter(|&&i| found_by(i, f)).count();
                        Completeness {
                            group: group.clone(),
                            n: members.len(),
                            found,
                            completeness: (!members.is_empty())
                                .then(|| found as f64 / members.len() as f64),
                        }
                    })
                    .collect(),
            });
        }
    }
    Ok(CompareReport {
        settings: settings.clone(),
        finders: names.clone(),
        objects: joined.ids.len(),
        labelled: labelled.len(),
        lenses: lenses.len(),
        agreement: agreements,
        completeness,
        histograms,
    })
}

/// A finder's name made safe for a file name (letters, digits, `-`, `_`; others become `_`).
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Compares the finders of `joined` and writes `compare.json` and one rank histogram per pair
/// (`ranks-<a>-<b>.png`) into the folder `out` (made if missing). Each file is written under a
/// temporary name and renamed when complete.
pub fn compare_to_folder(
    joined: &Joined,
    settings: &CompareSettings,
    out: &std::path::Path,
) -> Result<CompareReport, CompareError> {
    let report = compare(joined, settings)?;
    let output = |path: &std::path::Path, e: &dyn std::fmt::Display| CompareError::Output {
        path: path.into(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(out).map_err(|e| output(out, &e))?;
    for h in &report.histograms {
        let name = format!("ranks-{}-{}.png", file_stem(&h.a), file_stem(&h.b));
        format::atomic::write_via(
            &out.join(&name),
            |tmp| plot_rank_histogram(h, tmp).map_err(|e| output(tmp, &e)),
            |png, e| output(png, &e),
        )?;
    }
    let json = out.join("compare.json");
    crate::report::write_text(
        &json,
        &serde_json::to_string_pretty(&report).expect("the report serialises"),
    )
    .map_err(|e| output(&json, &e))?;
    Ok(report)
}

/// The report as a text table.
pub fn table(r: &CompareReport) -> String {
    let mut s = format!(
        "{} finders, {} objects ({} labelled, {} lenses); k = {}, rank threshold {}\n\n",
        r.finders.len(),
        r.objects,
        r.labelled,
        r.lenses,
        r.settings.k,
        r.settings.rank_threshold
    );
    s += &format!(
        "{:<14} {:<14} {:>8} {:>12} {:>15}\n",
        "finder", "with", "objects", "top-k Jacc.", "bottom-k Jacc."
    );
    for a in &r.agreement {
        s += &format!(
            "{:<14} {:<14} {:>8} {:>12.3} {:>15.3}\n",
            a.a, a.b, a.objects, a.top_jaccard, a.bottom_jaccard
        );
    }
    if !r.completeness.is_empty() {
        s += "\ncompleteness (rank ≥ threshold)\n";
        s += &format!("{:<14}", "finder");
        for g in &r.completeness[0].groups {
            s += &format!(" {:>14}", format!("{} (n={})", g.group, g.n));
        }
        s += "\n";
        for f in &r.completeness {
            s += &format!("{:<14}", f.finder);
            for g in &f.groups {
                s += &match g.completeness {
                    Some(c) => format!(" {c:>14.3}"),
                    None => format!(" {:>14}", "–"),
                };
            }
            s += "\n";
        }
    }
    s
}

/// Draws a 2-D histogram of two finders' dense normalised ranks (`train compare`): one cell per
/// bin pair, white for none and darker blue for more objects (on a log scale), the count
/// written in each non-empty cell.
pub fn plot_rank_histogram(
    h: &crate::combine::compare::RankHistogram,
    path: &std::path::Path,
) -> Result<(), crate::report::PlotError> {
    use crate::report::figure;
    use plotters::prelude::*;
    let err = figure(path);
    let bins = h.counts.len().max(1);
    let most = h.counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let root = BitMapBackend::new(path, (700, 700)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Dense normalised ranks: {} against {}", h.b, h.a),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(format!("rank by {}", h.a))
        .y_desc(format!("rank by {}", h.b))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    let w = 1.0 / bins as f64;
    let cells = h
        .counts
        .iter()
        .enumerate()
        .flat_map(|(iy, row)| row.iter().enumerate().map(move |(ix, &c)| (ix, iy, c)));
    let show_counts = bins <= 25;
    for (ix, iy, c) in cells {
        if c == 0 {
            continue;
        }
        // Log scale from 1 to the fullest cell: pale for one object, dark for the most.
        let f = (c as f64).ln_1p() / most.ln_1p();
        let shade = |full: f64| (255.0 - f * (255.0 - full)).round() as u8;
        let colour = RGBColor(shade(20.0), shade(60.0), shade(140.0));
        let (x0, y0) = (ix as f64 * w, iy as f64 * w);
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, y0), (x0 + w, y0 + w)],
                colour.filled(),
            )))
            .map_err(|e| err(&e))?;
        if show_counts {
            let text_colour = if f > 0.6 { WHITE } else { BLACK };
            chart
                .draw_series(std::iter::once(Text::new(
                    c.to_string(),
                    (x0 + 0.15 * w, y0 + 0.65 * w),
                    ("sans-serif", 11).into_font().color(&text_colour),
                )))
                .map_err(|e| err(&e))?;
        }
    }
    root.present().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ranks_share_ties_without_gaps() {
        // Distinct values 1 < 2 < 5: ranks 1, 2, 3 of 3.
        assert_eq!(
            dense_ranks(&[5.0, 1.0, 2.0, 5.0]),
            vec![1.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]
        );
    }

    #[test]
    fn boundary_ties_are_kept() {
        let v = [0.9, 0.5, 0.5, 0.1, 0.7];
        assert_eq!(top_set(&v, 2), vec![0, 4]);
        // The 3rd highest is 0.5, tied: both 0.5s come in.
        assert_eq!(top_set(&v, 3), vec![0, 1, 2, 4]);
        assert_eq!(bottom_set(&v, 2), vec![1, 2, 3]);
        assert_eq!(top_set(&v, 10), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[2]), 0.0);
    }

    #[test]
    fn classes_from_grades() {
        assert_eq!(confidence_class(2.0, &CLASS_EDGES), 'A');
        assert_eq!(confidence_class(1.8, &CLASS_EDGES), 'A');
        assert_eq!(confidence_class(1.5, &CLASS_EDGES), 'B');
        assert_eq!(confidence_class(0.8, &CLASS_EDGES), 'C');
        assert_eq!(confidence_class(0.2, &CLASS_EDGES), 'Z');
    }

    #[test]
    fn histogram_counts_every_object_once() {
        let h = histogram("a", "b", &[1.0, 0.5, 0.01], &[0.05, 1.0, 0.5], 2);
        // Bins (0, 0.5], (0.5, 1]: (x 1.0, y 0.05) → [0][1]; (0.5, 1.0) → [1][0]; (0.01, 0.5) → [0][0].
        assert_eq!(h.counts, vec![vec![1, 1], vec![1, 0]]);
    }
}
