//! The run's figures: ROC and precision–recall curves of every fold's model on the test set
//! (and of their mean score), and the training and validation loss per epoch, as PNG files
//! drawn with plotters and the embedded DejaVu Sans font (no system fonts needed).

use std::path::{Path, PathBuf};

use plotters::prelude::*;

use crate::evaluate::metrics::{pr_curve, roc_curve};
use crate::fit::kfold::RunReport;

/// DejaVu Sans (Bitstream Vera licence, `assets/DejaVuSans-LICENSE.txt`), embedded so that the
/// plots need no fonts on the machine.
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// A figure that could not be drawn.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlotError {
    /// The PNG file.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// Writes `text` to `path` through a temporary file beside it, renamed when complete, so that
/// a failure leaves no half-written file.
pub fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    format::atomic::write_bytes(path, text.as_bytes())
}

/// A curve from (labels, scores).
type Curve = fn(&[bool], &[f64]) -> Result<Vec<(f64, f64)>, crate::evaluate::metrics::MetricsError>;
/// A named line of (x, y) points.
type Series = (String, Vec<(f64, f64)>);

/// Draws `roc.png`, `pr.png` and `loss.png` of `report` into `dir`.
pub fn write_plots(report: &RunReport, dir: &Path) -> Result<(), PlotError> {
    // Registering the same font twice is harmless; a failure only means plotters lacks text.
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let labels = &report.test_labels;
    let mut curves: Vec<(String, Vec<f64>)> = report
        .folds
        .iter()
        .map(|f| (format!("fold {}", f.fold), f.test_scores.clone()))
        .collect();
    if report.folds.len() > 1 {
        curves.push(("mean of folds".into(), report.ensemble_scores.clone()));
    }
    let series = |f: Curve| -> Vec<Series> {
        curves
            .iter()
            // A test set with one class has no curve: its series stays empty.
            .map(|(name, s)| (name.clone(), f(labels, s).unwrap_or_default()))
            .collect()
    };
    plot(
        &dir.join("roc.png"),
        "ROC on the test set",
        "false-positive rate",
        "true-positive rate",
        (0.0, 1.0),
        (0.0, 1.0),
        &series(roc_curve),
    )?;
    plot(
        &dir.join("pr.png"),
        "Precision-recall on the test set",
        "recall",
        "precision",
        (0.0, 1.0),
        (0.0, 1.0),
        &series(pr_curve),
    )?;
    let mut loss = Vec::new();
    for f in &report.folds {
        let pts = |v: fn(&crate::fit::epochs::EpochLog) -> f64| {
            f.log
                .iter()
                .map(|e| (e.epoch as f64, v(e)))
                .collect::<Vec<(f64, f64)>>()
        };
        loss.push((format!("fold {} training", f.fold), pts(|e| e.train_loss)));
        loss.push((format!("fold {} validation", f.fold), pts(|e| e.val_loss)));
    }
    let max_epoch = report
        .folds
        .iter()
        .flat_map(|f| f.log.iter().map(|e| e.epoch))
        .max()
        .unwrap_or(1) as f64;
    let max_loss = loss
        .iter()
        .flat_map(|(_, p)| p.iter().map(|q: &(f64, f64)| q.1))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .max(1e-3);
    plot(
        &dir.join("loss.png"),
        "Binary cross-entropy per epoch",
        "epoch",
        "loss",
        (1.0, max_epoch.max(2.0)),
        (0.0, 1.05 * max_loss),
        &loss,
    )
}

fn plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: (f64, f64),
    y: (f64, f64),
    series: &[Series],
) -> Result<(), PlotError> {
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    draw_lines(&root, title, (x_label, y_label), x, y, series, None).map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws `series` as lines in `area` (the k-th in the palette's k-th colour; with `dashed`, a
/// last line in grey, dashed, named by its first element), with a legend at the lower right.
fn draw_lines(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    (x_label, y_label): (&str, &str),
    x: (f64, f64),
    y: (f64, f64),
    series: &[Series],
    dashed: Option<&Series>,
) -> Result<(), String> {
    let e = |e: &dyn std::fmt::Display| e.to_string();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x.0..x.1, y.0..y.1)
        .map_err(|x| e(&x))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|x| e(&x))?;
    for (k, (name, pts)) in series.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], colour));
    }
    if let Some((name, pts)) = dashed {
        let grey = RGBColor(110, 110, 110);
        chart
            .draw_series(DashedLineSeries::new(
                pts.iter().copied(),
                6,
                4,
                grey.stroke_width(2),
            ))
            .map_err(|x| e(&x))?
            .label(name.as_str())
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], grey));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|x| e(&x))?;
    Ok(())
}

/// Draws the fine-tuning study (`train finetune`, the seed study's Fig. 12): side by side, the
/// ROC curves of the fine-tuned networks and of the networks trained from scratch, one per
/// N_img (every test group's scores pooled), each named with its ROC AUC (mean ± std over the
/// groups); the untrained source network's curve dashed grey on the left.
pub fn plot_finetune(
    r: &crate::fit::finetune::FinetuneReport,
    path: &Path,
) -> Result<(), PlotError> {
    use crate::fit::finetune::Summary;
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
    let labels: Vec<bool> = r.test_labels.concat();
    let curve = |scores: Vec<f64>| roc_curve(&labels, &scores).unwrap_or_default();
    let auc = |s: &Summary| {
        s.roc_auc
            .map_or("n/a".into(), |m| format!("{:.3} ± {:.3}", m.mean, m.std))
    };
    type Pick = fn(&crate::fit::finetune::GroupOutcome) -> &[f64];
    let side = |summary: fn(&crate::fit::finetune::SizeOutcome) -> &Summary, scores: Pick| {
        r.sizes
            .iter()
            .map(|s| {
                let pooled: Vec<f64> = s.groups.iter().flat_map(|g| scores(g).to_vec()).collect();
                (
                    format!("N_img = {}: AUC {}", s.n_img, auc(summary(s))),
                    curve(pooled),
                )
            })
            .collect::<Vec<Series>>()
    };
    let finetuned = side(|s| &s.finetuned, |g| &g.finetuned.test_scores);
    let scratch = side(|s| &s.scratch, |g| &g.scratch.test_scores);
    // The untrained source network, with the clipping learnt at the largest N_img.
    let source = r.sizes.last().map(|s| {
        let pooled: Vec<f64> = s
            .groups
            .iter()
            .flat_map(|g| g.source_scores.clone())
            .collect();
        (
            format!("untrained source: AUC {}", auc(&s.source)),
            curve(pooled),
        )
    });
    let root = BitMapBackend::new(path, (1400, 650)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(700);
    let axes = ("false-positive rate", "true-positive rate");
    let band_names = r.config.data.nir_bands.join(", ");
    draw_lines(
        &left,
        &format!(
            "Fine-tuned ({} → VIS; {band_names} → NIR)",
            r.config.data.vis_band
        ),
        axes,
        (0.0, 1.0),
        (0.0, 1.0),
        &finetuned,
        source.as_ref(),
    )
    .map_err(|e| err(&e))?;
    draw_lines(
        &right,
        "Trained from scratch on the same images",
        axes,
        (0.0, 1.0),
        (0.0, 1.0),
        &scratch,
        None,
    )
    .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws the N_pix sweep (`train sweep-npix`): ROC AUC, PR AUC and F_β of the folds' models,
/// mean with a ±1 standard-deviation bar, against the bin's lower bound N (the seed study's
/// Fig. 11). Bins without figures are left out.
pub fn plot_sweep(
    report: &crate::evaluate::sweep::SweepReport,
    path: &Path,
) -> Result<(), PlotError> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
    let x_max = report
        .bins
        .iter()
        .map(|b| b.n as f64)
        .fold(10.0f64, f64::max)
        + report.settings.step as f64;
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Detection limit by lensed-source pixels ({} folds)",
                report.folds
            ),
            ("sans-serif", 24),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..x_max, 0.0..1.05)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("lower bound N of n_pix_source (bins N ≤ n_pix < N + step)")
        .y_desc("metric (mean ± std over folds)")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    type Pick = fn(&crate::evaluate::sweep::SweepBin) -> Option<crate::fit::kfold::MeanStd>;
    let metrics: [(&str, Pick); 3] = [
        ("ROC AUC", |b| b.roc_auc),
        ("PR AUC", |b| b.pr_auc),
        ("F_beta", |b| b.f_beta),
    ];
    for (k, (name, pick)) in metrics.iter().enumerate() {
        let colour = Palette99::pick(k).to_rgba();
        let pts: Vec<(f64, f64, f64)> = report
            .bins
            .iter()
            .filter_map(|b| pick(b).map(|m| (b.n as f64, m.mean, m.std)))
            .collect();
        chart
            .draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                colour.stroke_width(2),
            ))
            .map_err(|e| err(&e))?
            .label(*name)
            .legend(move |(a, b)| PathElement::new(vec![(a, b), (a + 20, b)], colour));
        chart
            .draw_series(pts.iter().map(|&(x, m, s)| {
                PathElement::new(vec![(x, (m - s).max(0.0)), (x, (m + s).min(1.05))], colour)
            }))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(
                pts.iter()
                    .map(|&(x, m, _)| Circle::new((x, m), 3, colour.filled())),
            )
            .map_err(|e| err(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws one LIME explanation (`train explain`): the stamp in grey (2× enlarged), the two
/// superpixels that speak most for a lens tinted green and the two for a non-lens yellow,
/// every superpixel's border faint, and `caption` above.
pub fn plot_explanation(
    path: &Path,
    image: &ndarray::Array2<f32>,
    explanation: &crate::explain::Explanation,
    caption: &str,
) -> Result<(), PlotError> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
    const ZOOM: u32 = 2;
    const TOP: u32 = 60;
    let (h, w) = image.dim();
    let root =
        BitMapBackend::new(path, (w as u32 * ZOOM, h as u32 * ZOOM + TOP)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (lo, hi) = image
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let span = (hi - lo).max(1e-12);
    let seg = &explanation.segments;
    let tint = |s: u32| -> Option<(f64, f64, f64)> {
        if explanation.lens_segments.contains(&s) {
            Some((0.0, 1.0, 0.0))
        } else if explanation.non_lens_segments.contains(&s) {
            Some((1.0, 1.0, 0.0))
        } else {
            None
        }
    };
    for ((i, j), &v) in image.indexed_iter() {
        // Row i ↔ y increasing upwards, as on the sky.
        let g = ((v - lo) / span) as f64;
        let s = seg[[i, j]];
        let border = (j + 1 < w && seg[[i, j + 1]] != s) || (i + 1 < h && seg[[i + 1, j]] != s);
        let (r, gr, b) = match tint(s) {
            Some((tr, tg, tb)) => (0.5 * g + 0.5 * tr, 0.5 * g + 0.5 * tg, 0.5 * g + 0.5 * tb),
            None => (g, g, g),
        };
        let (r, gr, b) = if border {
            (0.6 * r + 0.4, 0.6 * gr + 0.4 * 0.3, 0.6 * b + 0.4 * 0.3)
        } else {
            (r, gr, b)
        };
        let colour = RGBColor((255.0 * r) as u8, (255.0 * gr) as u8, (255.0 * b) as u8);
        let x0 = j as i32 * ZOOM as i32;
        let y0 = TOP as i32 + (h - 1 - i) as i32 * ZOOM as i32;
        root.draw(&Rectangle::new(
            [(x0, y0), (x0 + ZOOM as i32, y0 + ZOOM as i32)],
            colour.filled(),
        ))
        .map_err(|e| err(&e))?;
    }
    root.draw(&Text::new(caption.to_string(), (8, 8), ("sans-serif", 18)))
        .map_err(|e| err(&e))?;
    root.draw(&Text::new(
        "green: for a lens   yellow: for a non-lens".to_string(),
        (8, 32),
        ("sans-serif", 14),
    ))
    .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}

/// Draws a 2-D histogram of two finders' dense normalised ranks (`train compare`): one cell per
/// bin pair, white for none and darker blue for more objects (on a log scale), the count
/// written in each non-empty cell.
pub fn plot_rank_histogram(
    h: &crate::combine::compare::RankHistogram,
    path: &Path,
) -> Result<(), PlotError> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
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

/// Draws `train ensemble`'s bar chart (the DES study's Fig. 13): each finder's and each
/// ensemble's maximum F1 on the test part, the bootstrap mean as the bar and ± its standard
/// deviation as the whisker; finders grey, ensembles blue, the best finder's level dashed.
pub fn plot_ensemble(
    r: &crate::combine::ensemble::EnsembleReport,
    path: &Path,
) -> Result<(), PlotError> {
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    let err = |e: &dyn std::fmt::Display| PlotError {
        path: path.into(),
        message: e.to_string(),
    };
    let n = r.results.len();
    let lo = r
        .results
        .iter()
        .map(|j| j.max_f1_bootstrap.mean - 2.0 * j.max_f1_bootstrap.std)
        .fold(1.0f64, f64::min)
        .clamp(0.0, 0.95);
    let lo = (lo * 20.0).floor() / 20.0;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Maximum F1 on the test part ({} objects, {} lenses)",
                r.test.0, r.test.1
            ),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..n as f64, lo..1.0)
        .map_err(|e| err(&e))?;
    let names: Vec<String> = r.results.iter().map(|j| j.name.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| {
            let k = x.floor() as usize;
            if (x - k as f64 - 0.5).abs() < 0.01 && k < names.len() {
                names[k].clone()
            } else {
                String::new()
            }
        })
        .y_desc("max F1 (bootstrap mean ± std)")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(|e| err(&e))?;
    for (k, j) in r.results.iter().enumerate() {
        let colour = if j.kind == "finder" {
            RGBColor(150, 150, 150)
        } else {
            RGBColor(40, 90, 170)
        };
        let (x0, x1) = (k as f64 + 0.15, k as f64 + 0.85);
        let m = j.max_f1_bootstrap;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, lo), (x1, m.mean)],
                colour.filled(),
            )))
            .map_err(|e| err(&e))?;
        let xc = k as f64 + 0.5;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![
                    (xc, (m.mean - m.std).max(lo)),
                    (xc, (m.mean + m.std).min(1.0)),
                ],
                BLACK.stroke_width(2),
            )))
            .map_err(|e| err(&e))?;
    }
    let best = r.best_finder_max_f1;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(0.0, best), (n as f64, best)],
            6,
            4,
            RGBColor(200, 60, 40).stroke_width(2),
        ))
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))
}
