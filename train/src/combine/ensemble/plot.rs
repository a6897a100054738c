//! `train ensemble`'s figure, beside [`super::EnsembleReport`].

/// Draws `train ensemble`'s bar chart (the DES study's Fig. 13): each finder's and each
/// ensemble's maximum F1 on the test part, the bootstrap mean as the bar and ± its standard
/// deviation as the whisker; finders grey, ensembles blue, the best finder's level dashed.
pub fn plot_ensemble(
    r: &super::EnsembleReport,
    path: &std::path::Path,
) -> Result<(), crate::report::PlotError> {
    use crate::report::figure;
    use plotters::prelude::*;
    let err = figure(path);
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
