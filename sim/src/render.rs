//! `sim render`: one system spec rendered as ideal images in every band of a survey, with its
//! derived quantities, written as a one-system dataset.

use std::path::Path;

use ndarray::Array2;
use serde::Serialize;

use crate::caustics::{critical_curves, CausticGrid, CriticalCurves};
use crate::dataset::hdf5::{single, write_dataset, Attributes, Column};
use crate::error::{Error, Result};
use crate::light::flux_to_mag;
use crate::observe::Survey;
use crate::raytrace::{effective_magnification, render, BandImage, System};
use crate::spec::SystemSpec;

/// How to render.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RenderOptions {
    /// Sub-pixels per pixel side (GLAMER used 2).
    pub supersample: usize,
    /// Grid step for the critical curves, arcsec.
    pub caustic_step: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            supersample: 2,
            caustic_step: CausticGrid::DEFAULT_STEP,
        }
    }
}

impl RenderOptions {
    /// Checks the options; errors name the option and its range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidSpec {
            file: "(command line)".into(),
            field: field.into(),
            reason,
        };
        if !(1..=16).contains(&self.supersample) {
            return Err(bad(
                "--supersample",
                format!("{} is outside the allowed range [1, 16]", self.supersample),
            ));
        }
        if !(self.caustic_step > 0.0 && self.caustic_step <= 0.5) {
            return Err(bad(
                "caustic_step",
                format!(
                    "{} is outside the allowed range (0, 0.5] arcsec",
                    self.caustic_step
                ),
            ));
        }
        Ok(())
    }
}

/// One rendered system and what is derived from it.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Ideal images per band, survey order.
    pub images: Vec<BandImage>,
    /// Effective magnification per band (lensed source flux in the stamp / unlensed flux).
    pub mag_eff: Vec<f64>,
    /// Tangential critical curve and caustic, if the lens is supercritical in the field.
    pub curves: Option<CriticalCurves>,
}

/// Renders a prepared system and derives its Einstein radius, caustic and magnifications.
pub fn render_system(system: &System, survey: &Survey, opts: &RenderOptions) -> Rendered {
    let images = render(system, survey, opts.supersample);
    let mag_eff = effective_magnification(system, &images);
    let grid = CausticGrid {
        half_width: survey.max_half_width(),
        step: opts.caustic_step,
    };
    let curves = critical_curves(&system.lens, grid);
    Rendered {
        images,
        mag_eff,
        curves,
    }
}

/// The catalogue row of one rendered system (columns of length 1), named as DESIGN.md's
/// dataset format names them.
pub fn catalog(
    spec: &SystemSpec,
    system: &System,
    rendered: &Rendered,
    survey: &Survey,
    id: i64,
) -> Vec<(String, Column)> {
    let f = |name: &str, v: f64| (name.to_string(), Column::F64(vec![v]));
    let curves = rendered.curves.as_ref();
    let src_center = spec
        .source
        .light
        .first()
        .map(|l| l.center())
        .unwrap_or([f64::NAN; 2]);
    let mut cols = vec![
        ("id".to_string(), Column::I64(vec![id])),
        f("z_lens", spec.z_lens),
        f("z_source", spec.z_source),
        f("theta_e", curves.map_or(0.0, |c| c.einstein_radius)),
        f("caustic_radius", curves.map_or(0.0, |c| c.caustic_radius)),
        f(
            "caustic_x",
            curves.map_or(f64::NAN, |c| c.caustic_center[0]),
        ),
        f(
            "caustic_y",
            curves.map_or(f64::NAN, |c| c.caustic_center[1]),
        ),
        (
            "has_source".to_string(),
            Column::U8(vec![u8::from(!system.source_light.is_empty())]),
        ),
        f("source_x", src_center[0]),
        f("source_y", src_center[1]),
    ];
    for (b, band) in survey.bands.iter().enumerate() {
        cols.push(f(&format!("mag_eff_{}", band.name), rendered.mag_eff[b]));
        cols.push(f(
            &format!("lens_mag_{}", band.name),
            flux_to_mag(system.lens_flux(b), band.zero_point),
        ));
        cols.push(f(
            &format!("source_mag_{}", band.name),
            flux_to_mag(system.source_flux(b), band.zero_point),
        ));
    }
    cols
}

/// What `sim render` records as the configuration of its output.
#[derive(Serialize)]
struct RenderConfig<'a> {
    render: &'a RenderOptions,
    survey: &'a Survey,
    spec: &'a SystemSpec,
}

/// Checks and renders `spec` (read from `spec_path`, which names it in errors) for `survey`,
/// writes the one-system dataset to `out` and, if asked, a contact sheet to `png`.
/// Nothing is written if the spec or the options are wrong.
pub fn render_spec(
    spec: &SystemSpec,
    spec_path: &Path,
    survey: &Survey,
    opts: &RenderOptions,
    out: &Path,
    png: Option<&Path>,
) -> Result<Rendered> {
    opts.validate()?;
    let system = spec.build(survey, spec_path)?;
    let rendered = render_system(&system, survey, opts);
    let config = toml::to_string(&RenderConfig {
        render: opts,
        survey,
        spec,
    })
    .map_err(|e| Error::Parse {
        file: spec_path.into(),
        message: format!("cannot record the configuration: {e}"),
    })?;
    let images: Vec<(String, ndarray::Array3<f32>)> = rendered
        .images
        .iter()
        .map(|im| (im.band.clone(), single(im.total().view())))
        .collect();
    let attrs = Attributes {
        survey: survey.name.clone(),
        seed: 0,
        config,
    };
    write_dataset(
        out,
        &attrs,
        &images,
        &catalog(spec, &system, &rendered, survey, 0),
    )?;
    if let Some(p) = png {
        let totals: Vec<Array2<f32>> = rendered.images.iter().map(BandImage::total).collect();
        crate::preview::write_contact_sheet(p, &totals.iter().collect::<Vec<_>>())?;
    }
    Ok(rendered)
}
