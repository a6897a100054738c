//! `sim survey`: a survey's bands, background noise and depths.

use sim::observe::{depth, Observer, Survey};

/// `sim survey`'s arguments.
#[derive(clap::Args)]
pub struct Args {
    /// A survey preset (euclid, euclid-sglc2, kids, des, lsst) or a survey TOML file.
    #[arg(long, default_value = "euclid")]
    pub survey: String,
}

/// Runs `sim survey`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let Args { survey } = args;
    let survey = Survey::load(&survey)?;
    let observer = Observer::new(&survey)?;
    println!(
        "survey {}: background-limited depths (AB) of its stacked images",
        survey.name
    );
    println!("band  px\"    T[s]     sky[e/s/px]  σ[e/s/px]   5σ point (PSF-weighted)  10σ in 1.3\" aperture");
    for (b, band) in survey.bands.iter().enumerate() {
        let d = depth(band, observer.kernel(b));
        println!(
            "{:<5} {:<5} {:>7.1}  {:>11.4}  {:>10.5}  {:>23.2}  {:>20.2}",
            band.name,
            band.pixel_scale,
            band.exposure_time * band.n_exposures as f64,
            band.sky_per_pixel(),
            d.sigma,
            d.point_5sigma,
            d.aperture_10sigma
        );
    }
    Ok(())
}
