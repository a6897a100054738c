//! `sim inject`: the population's lensed sources painted into a survey's own galaxy cutouts,
//! the recipe by which the DES, HSC and KiDS searches built their training sets, written as a
//! dataset in our format.
//!
//! System k is painted into cutout ⌊k / per_cutout⌋ and depends only on (seed, k), so shards,
//! thread counts and a resumed run give the same bytes, as in `sim generate`:
//! - **Lens.** The cutout's central galaxy is the deflector: the population's mass model
//!   (truncated isothermal galaxy, NFW halo, external shear) is placed at the stamp's centre.
//!   θ_E is drawn from the population: the velocity dispersion from its velocity-dispersion
//!   function (Choi et al. 2007) and the SIS θ_E at the drawn redshifts, not from the cutout's
//!   flux, since a cutout seldom carries a measured σ_v and a relation to flux would tie the
//!   set to one survey's photometry. (Where σ_v is measured, as for SDSS galaxies, the
//!   HOLISMOKES sets of Cañameras et al. 2020, A&A 644, A163, took it from the spectrum.) The
//!   population's lens light and neighbours are not drawn into the image: the cutout holds the
//!   real ones.
//! - **Source.** The population's source, ray-traced at the survey's supersampling and
//!   convolved with the band's PSF (the survey's, or the cutout's own where the list names one
//!   in a `psf_<band>` column), then with its own photon noise (Poisson in
//!   the electrons of the survey's exposure time; the cutout already holds its background's
//!   noise), is converted to the cutout's units by the zero points (the header's `MAGZERO` or
//!   another of [`format::stamps::ZERO_POINT_CARDS`], or `--zero-point BAND=ZP`) and added to
//!   the real pixels. A system the population draws without a source is the untouched cutout,
//!   a non-lens; with `unlensed`, it is the cutout with the source that draw would have had
//!   added through no mass (a galaxy blended with a background galaxy, still a non-lens).
//! - **Labels.** The II SGLC criteria, computed on the noise-free injected source against each
//!   cutout's measured background σ ([`background::background_sigma`]).
//! - **Grids.** Each band's grid is its cutouts' most common size and pixel scale (the
//!   survey's pixel scale where the stamps record none); a stamp on another grid is resampled
//!   onto it as `train` reads it, and a bad cutout is refused or skipped, named by its path.

pub mod background;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use format::checked::{BadCutouts, OpenOptions, Stamps};
use format::cutouts::Cutouts;
use format::dataset::{columns, DatasetError};
use ndarray::Array2;
use rayon::prelude::*;

use crate::dataset::chunks::filter_image;
use crate::dataset::hdf5::Column;
use crate::error::{Error, Result};
use crate::generate::{
    check_sizes, open_hdf5, stream, truth_columns, GenerateOptions, Summary, SystemRecord,
};
use crate::mass::{shear::ShearParams, MassSpec};
use crate::observe::convolve::Convolver;
use crate::observe::noise::NoiseKey;
use crate::observe::{ObservedBand, Observer, Survey};
use crate::population::{Population, PopulationConfig, Sampled};
use crate::raytrace::effective_magnification;
use crate::render::{catalog, label_observed, RenderOptions, Rendered, IMAGE_COUNT_STEP};
use crate::run_config::{Injection, RunConfig, RunSettings};
use background::background_sigma;

/// What to paint and into what.
#[derive(Clone, Debug)]
pub struct InjectRequest {
    /// The survey whose PSFs, zero points, exposure times and label criteria are used; its
    /// bands' grids are replaced by the cutouts'.
    pub survey: Survey,
    /// The population of lenses and sources.
    pub population: PopulationConfig,
    /// Systems made from each cutout (≥ 1), each with its own lens and source.
    pub per_cutout: u64,
    /// Sub-pixels per pixel side, PSF and photon noise of the added flux, and the seed of the
    /// population's draws and the noise.
    pub render: RenderOptions,
    /// Zero points given for bands whose headers have none (or to override them).
    pub zero_points: BTreeMap<String, f64>,
    /// Give the systems the population draws without a source the source it would have drawn,
    /// unlensed: non-lenses whose galaxy has a blended background galaxy, not just the cutout.
    pub unlensed: bool,
}

/// The most systems one cutout may give: 10⁴, so that a mistyped count is refused.
pub const MAX_PER_CUTOUT: u64 = 10_000;

fn contract(e: DatasetError) -> Error {
    Error::Parse {
        file: e.file,
        message: e.message,
    }
}

/// Lists and checks the cutouts at `path` (a CSV list or a folder, format::cutouts) in the
/// bands of `survey`: every stamp is read once, each band's grid set, and bad cutouts refused
/// or skipped as `bad_cutouts` says (the skipped ones in [`Stamps::skipped`]).
pub fn open_cutouts(path: &Path, survey: &Survey, bad_cutouts: BadCutouts) -> Result<Stamps> {
    let listing = if path.is_dir() {
        Cutouts::open_folder(path)
    } else {
        Cutouts::open_list(path)
    }
    .map_err(contract)?;
    let options = OpenOptions {
        bands: survey.bands.iter().map(|b| b.name.clone()).collect(),
        bad_cutouts,
        need_positions: false,
        grids: Vec::new(),
    };
    Stamps::open(listing, &options).map_err(contract)
}

/// `survey` with each band's stamp size and pixel scale those of the cutouts' grid (the
/// survey's pixel scale kept where the stamps record none), and the bands whose scale was kept.
pub fn survey_on_cutouts(survey: &Survey, stamps: &Stamps) -> (Survey, Vec<String>) {
    let mut on = survey.clone();
    let mut kept = Vec::new();
    for band in &mut on.bands {
        if let Some(grid) = stamps.grid(&band.name) {
            band.size = grid.side;
            match grid.pixel_scale {
                Some(s) => band.pixel_scale = s,
                None => kept.push(band.name.clone()),
            }
        }
    }
    (on, kept)
}

/// What every system of an injection run is made with.
struct Context<'a> {
    stamps: &'a Stamps,
    survey: &'a Survey,
    population: &'a Population,
    /// The population drawing a source for every system, with `--unlensed`.
    sourced: Option<&'a Population>,
    observer: &'a Observer,
    render: &'a RenderOptions,
    per_cutout: u64,
    /// Per band, the zero point given (else each stamp's header's).
    zero_points: Vec<Option<f64>>,
    /// Per cutout, (RA, Dec) in degrees, where known.
    positions: Option<&'a [[f64; 2]]>,
    /// Bytes of the string columns: the IDs, and per band the stamps' paths and, where the
    /// list names PSF images in the band, theirs.
    id_width: u32,
    path_widths: Vec<u32>,
    psf_widths: Vec<Option<u32>>,
}

/// Paints the population's systems into the checked cutouts `stamps` (from [`open_cutouts`];
/// `request.survey` already on their grids, [`survey_on_cutouts`]) and writes the shard
/// `opts.shard` of the run to `out` (HDF5, resumable with `opts.resume`), calling `progress`
/// with the systems in the file after every block. `cutouts` is the list or folder as given,
/// recorded in the file's configuration.
pub fn inject(
    request: &InjectRequest,
    stamps: &Stamps,
    cutouts: &Path,
    out: &Path,
    opts: &GenerateOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let cli = |field: &str, reason: String| Error::InvalidSpec {
        file: "(command line)".into(),
        field: field.into(),
        reason,
    };
    request.render.validate()?;
    crate::dataset::refuse_folder(out, "--out")?;
    if opts.format != crate::generate::OutputFormat::Hdf5 {
        return Err(cli("--format", "injection writes HDF5 only".into()));
    }
    if !(1..=MAX_PER_CUTOUT).contains(&request.per_cutout) {
        return Err(cli(
            "--per-cutout",
            format!(
                "{} is outside the allowed range [1, {MAX_PER_CUTOUT}]",
                request.per_cutout
            ),
        ));
    }
    let survey = &request.survey;
    for (band, zp) in &request.zero_points {
        if !survey.bands.iter().any(|b| &b.name == band) {
            return Err(cli(
                "--zero-point",
                format!("band `{band}` is not one of the survey's"),
            ));
        }
        if !(zp.is_finite() && (0.0..=50.0).contains(zp)) {
            return Err(cli(
                "--zero-point",
                format!("{band}={zp}: a zero point lies in [0, 50] AB mag"),
            ));
        }
    }
    let total = stamps.len() as u64 * request.per_cutout;
    let (start, end) = check_sizes(total, survey, opts)?;
    let config = RunConfig {
        generate: RunSettings {
            n: total,
            seed: request.render.seed,
            supersample: request.render.supersample,
            caustic_step: request.render.caustic_step,
            psf: request.render.psf,
            noise: request.render.noise,
        },
        survey: survey.clone(),
        population: request.population.clone(),
        inject: Some(Injection {
            cutouts: cutouts.display().to_string(),
            n_cutouts: stamps.len() as u64,
            per_cutout: request.per_cutout,
            zero_points: request.zero_points.clone(),
            skip_bad_cutouts: !stamps.skipped().is_empty(),
            unlensed: request.unlensed,
        }),
    };
    let population = Population::new(config.population.clone(), survey)?
        .with_caustic_step(request.render.caustic_step);
    // The same draws with a source always: the population's uniform deviate that decides
    // whether there is a source is drawn either way, so every other draw is the same.
    let sourced = request.unlensed.then(|| {
        let mut always = population.clone();
        always.config.no_source_fraction = 0.0;
        always
    });
    let observer = Observer::new(survey)?;
    let width = |s: &str| s.len().max(1) as u32;
    let path_widths = survey
        .bands
        .iter()
        .map(|b| {
            (0..stamps.len())
                .filter_map(|i| stamps.stamp_ref(&b.name, i))
                .map(|r| width(&r.to_string()))
                .max()
                .unwrap_or(1)
        })
        .collect();
    let psf_widths = survey
        .bands
        .iter()
        .map(|b| {
            stamps.has_psfs(&b.name).then(|| {
                (0..stamps.len())
                    .filter_map(|i| stamps.psf(&b.name, i))
                    .map(|p| width(&p.display().to_string()))
                    .max()
                    .unwrap_or(1)
            })
        })
        .collect();
    let ctx = Context {
        stamps,
        survey,
        population: &population,
        sourced: sourced.as_ref(),
        observer: &observer,
        render: &request.render,
        per_cutout: request.per_cutout,
        zero_points: survey
            .bands
            .iter()
            .map(|b| request.zero_points.get(&b.name).copied())
            .collect(),
        positions: stamps.positions(),
        id_width: stamps.ids().iter().map(|i| width(i)).max().unwrap_or(1),
        path_widths,
        psf_widths,
    };
    let attrs = config.attributes(start)?;
    let n = (end - start) as usize;
    let (writer, restarted) = open_hdf5(out, &attrs, config.layout(n), opts.resume)?;
    let mut summary = stream(writer, out, (start, end), opts, progress, &|range| {
        range.into_par_iter().map(|k| paint(&ctx, k)).collect()
    })?;
    summary.restarted = restarted;
    Ok(summary)
}

/// System `k`: the population's draw `k` painted into its cutout, observed, labelled and
/// catalogued, its stamps compressed into the file's chunks.
fn paint(ctx: &Context, k: u64) -> Result<SystemRecord> {
    let c = (k / ctx.per_cutout) as usize;
    let survey = ctx.survey;
    let render = ctx.render;
    let Sampled {
        mut spec,
        truth,
        mut curves,
    } = ctx.population.sample(render.seed, k);
    spec.lens.light.clear();
    let unlensed = match ctx.sourced {
        Some(sourced) if spec.source.light.is_empty() => {
            // The source this draw would have had, seen through no mass (a shear of 0).
            spec.source = sourced.sample(render.seed, k).spec.source;
            spec.lens.mass = vec![MassSpec::Shear(ShearParams {
                gamma: 0.0,
                phi: 0.0,
            })];
            curves = None;
            true
        }
        _ => false,
    };
    let id = &ctx.stamps.ids()[c];
    let origin = format!(
        "population `{}`, system {k} (cutout `{id}`)",
        ctx.population.config.name
    );
    let system = spec.build(survey, Path::new(&origin))?;
    let ideal = crate::raytrace::render(&system, &survey.band_grids(), render.supersample);
    let mag_eff = effective_magnification(&system, &ideal);
    let mut observed = Vec::with_capacity(survey.bands.len());
    let mut zero_points = Vec::with_capacity(survey.bands.len());
    for (b, band) in survey.bands.iter().enumerate() {
        let stamp = ctx.stamps.read_on_grid(&band.name, c).map_err(contract)?;
        let at = || {
            ctx.stamps
                .stamp_ref(&band.name, c)
                .map_or_else(|| PathBuf::from(id), |r| PathBuf::from(r.to_string()))
        };
        let zero_point = match (ctx.zero_points[b], &stamp.zero_point) {
            (Some(z), _) => z,
            (None, Ok(z)) => *z,
            (None, Err(why)) => {
                return Err(Error::InvalidSpec {
                    file: at(),
                    field: "zero point".into(),
                    reason: format!(
                        "{why}: give --zero-point {}=<AB mag of one pixel unit>",
                        band.name
                    ),
                })
            }
        };
        let sigma = background_sigma(&stamp.pixels).ok_or_else(|| Error::InvalidSpec {
            file: at(),
            field: format!("band {}", band.name),
            reason: "its background noise cannot be measured (fewer than 10 finite pixels, or \
                     half of them one value)"
                .into(),
        })?;
        let source = match (render.psf, ctx.stamps.psf(&band.name, c)) {
            (false, _) => ideal[b].source.clone(),
            (true, None) => ctx.observer.convolve(b, &ideal[b].source),
            (true, Some(path)) => {
                let psf = format::stamps::read_psf(path).map_err(contract)?;
                let kernel = Array2::from_shape_vec((psf.side, psf.side), psf.kernel)
                    .expect("a square kernel");
                Convolver::new(&kernel, band.size, band.size).convolve(&ideal[b].source)
            }
        };
        let mut added = source.clone();
        if render.noise {
            ctx.observer.noise(b).add_source_photon_noise(
                &mut added,
                NoiseKey {
                    seed: render.seed,
                    system: k,
                    band: b as u32,
                },
            );
        }
        // e⁻/s to the cutout's units: the same magnitude under both zero points.
        let to_cutout = 10f64.powf(0.4 * (zero_point - band.zero_point)) as f32;
        if let Some(bad) = added.iter().position(|v| !(v * to_cutout).is_finite()) {
            return Err(Error::InvalidSpec {
                file: origin.into(),
                field: format!("band {}", band.name),
                reason: format!(
                    "pixel {bad} of the added source is not finite in the cutout's units \
                     (zero point {zero_point}): lower the source magnitudes or check the zero point"
                ),
            });
        }
        let n = band.size;
        let real = Array2::from_shape_vec((n, n), stamp.pixels).expect("a stamp on the grid");
        observed.push(ObservedBand {
            band: band.name.clone(),
            image: &real + &(added * to_cutout),
            source: source * to_cutout,
            lens: real,
            sigma,
        });
        zero_points.push(zero_point);
    }
    let labels = label_observed(&observed, &mag_eff, survey);
    let n_images = spec.source.light.first().map_or(0, |l| {
        crate::caustics::count_images(
            &system.lens,
            l.center(),
            survey.max_half_width(),
            IMAGE_COUNT_STEP,
        )
    });
    let rendered = Rendered {
        observed,
        labels,
        curves,
        n_images,
    };
    let mut cols = catalog(&spec, &system, &rendered, survey, k as i64, 0);
    cols.extend(truth_columns(&truth));
    // The lens light is the real galaxy's: what the catalogue would say of a simulated one
    // (its magnitudes and size, the neighbours, pixels above the noise) is left out.
    let simulated_lens: Vec<String> = [
        columns::N_PIX_LENS,
        columns::LENS_R_EFF,
        columns::N_NEIGHBOURS,
        columns::N_GAL_3,
        columns::N_GAL_5,
        columns::N_GAL_10,
    ]
    .map(String::from)
    .into_iter()
    .chain(survey.bands.iter().flat_map(|b| {
        [columns::band::LENS_MAG, columns::band::LENS_FLUX]
            .map(|stem| columns::of_band(stem, &b.name))
    }))
    .collect();
    cols.retain(|(name, _)| !simulated_lens.contains(name));
    let f = |name: &str, v: f64| (name.to_string(), Column::F64(vec![v]));
    let text = |name: String, width: u32, v: String| {
        (
            name,
            Column::Str {
                width,
                values: vec![v],
            },
        )
    };
    let [ra, dec] = ctx.positions.map_or([f64::NAN; 2], |p| p[c]);
    cols.extend([
        text(columns::CUTOUT_ID.into(), ctx.id_width, id.clone()),
        (
            columns::UNLENSED.to_string(),
            Column::U8(vec![u8::from(unlensed)]),
        ),
        f(columns::RA, ra),
        f(columns::DEC, dec),
    ]);
    for (b, band) in survey.bands.iter().enumerate() {
        let path = ctx
            .stamps
            .stamp_ref(&band.name, c)
            .map_or_else(String::new, |r| r.to_string());
        let of = |stem: &str| columns::of_band(stem, &band.name);
        cols.push(text(
            of(columns::band::CUTOUT_PATH),
            ctx.path_widths[b],
            path,
        ));
        cols.push(f(&of(columns::band::ZERO_POINT), zero_points[b]));
        if let Some(width) = ctx.psf_widths[b] {
            let psf = ctx.stamps.psf(&band.name, c);
            let path = psf.map_or_else(String::new, |p| p.display().to_string());
            cols.push(text(of(columns::band::CUTOUT_PSF), width, path));
        }
    }
    let chunks = rendered
        .observed
        .iter()
        .map(|o| filter_image(o.image.view()))
        .collect();
    Ok(SystemRecord {
        images: Vec::new(),
        chunks,
        catalog: cols,
        is_lens: u8::from(rendered.labels.is_lens),
    })
}
