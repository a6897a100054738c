//! The figures of `train run` (ROC and precision–recall curves of every fold's model on the test
//! set and of their mean score, the training and validation loss per epoch) and of `train
//! finetune`, beside the report types they draw ([`super::kfold::RunReport`],
//! [`super::finetune::FinetuneReport`]).

use std::path::Path;

use plotters::prelude::*;

use crate::evaluate::metrics::{pr_curve, roc_curve};
use crate::fit::kfold::RunReport;
use crate::report::{draw_lines, figure, plot, PlotError, Series};

/// A curve from (labels, scores).
type Curve = fn(&[bool], &[f64]) -> Result<Vec<(f64, f64)>, crate::evaluate::metrics::MetricsError>;

/// Draws `roc.png`, `pr.png` and `loss.png` of `report` into `dir`.
pub fn write_plots(report: &RunReport, dir: &Path) -> Result<(), PlotError> {
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

/// Draws the fine-tuning study (`train finetune`, the seed study's Fig. 12): side by side, the
/// ROC curves of the fine-tuned networks and of the networks trained from scratch, one per
/// N_img (every test group's scores pooled), each named with its ROC AUC (mean ± std over the
/// groups); the untrained source network's curve dashed grey on the left.
pub fn plot_finetune(
    r: &crate::fit::finetune::FinetuneReport,
    path: &Path,
) -> Result<(), PlotError> {
    use crate::fit::finetune::Summary;
    let err = figure(path);
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
