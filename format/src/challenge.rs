//! The challenge catalogues' columns (issue #20: one table that `sim` writes and `train`
//! reads): the II SGLC's `image_catalog2.0train.csv` and the I SGLC's `classifications.csv`, as
//! `sim generate --format sglc` writes them, with the names `train score` reads by.

/// The II SGLC catalogue's named columns (after the unnamed index), in order, with what each
/// holds here. The comment block of the file is these lines.
pub const SGLC2_COLUMNS: [(&str, &str); 26] = [
    ("ID", "object identifier; its images are Public/EUC_<band>/imageEUC_<band>-<ID>.fits"),
    ("x_crit", "x of the tangential critical curve's centre (mean of its vertices), arcsec from the stamp centre (x to the west = +columns); NaN without one"),
    ("y_crit", "y of that centre, arcsec (y to the north = +rows); NaN without one"),
    ("source_ID", "identifier of the background source: every system has its own, so equal to ID; -1 without a source"),
    ("z_source", "source redshift"),
    ("z_lens", "lens redshift"),
    ("mag_source", "AB magnitude of the unlensed source in the detection band (VIS); NaN without a source"),
    ("ein_area", "area inside the tangential critical curve, arcsec^2 (pi theta_E^2); 0 where the lens is not supercritical"),
    ("n_crit", "number of tangential critical curves found in the stamp (0 or 1)"),
    ("r_source", "half-light radius of the unlensed source, arcsec; NaN without a source"),
    ("crit_area", "area inside the tangential caustic in the source plane, arcsec^2 (the strong-lensing cross-section); 0 without one"),
    ("n_pix_source", "pixels of the lensed source (noise-free, PSF-convolved) above 1 sigma of the background noise, detection band (VIS)"),
    ("source_flux", "flux of the lensed source inside the detection-band stamp, e-/s"),
    ("n_pix_lens", "pixels of the lens-plane light (lens galaxy and neighbours, noise-free, PSF-convolved) above 1 sigma, detection band"),
    ("lens_flux", "flux of the lens galaxy (bulge and disc, no neighbours) in the detection band, e-/s"),
    ("n_source_im", "8-connected groups of lensed-source pixels above 1 sigma, detection band: the source's detected images"),
    ("mag_eff", "effective magnification, the least over the bands of (lensed source flux in the stamp)/(unlensed source flux); NaN without a source"),
    ("sb_contrast", "lensed-source flux over lens-plane flux in the pixels where the source is above 1 sigma, detection band; NaN where none is"),
    ("color_diff", "source colour minus lens-galaxy colour, (m_first - m_last)_source - (m_first - m_last)_lens over the survey's first and last bands (VIS - H), mag"),
    ("n_gal_3", "neighbouring galaxies centred within 3 arcsec of the lens"),
    ("n_gal_5", "neighbouring galaxies centred within 5 arcsec of the lens"),
    ("n_gal_10", "neighbouring galaxies centred within 10 arcsec of the lens"),
    ("halo_mass", "M200 of the lens halo (galaxy included), solar masses"),
    ("star_mass", "stellar mass of the lens galaxy, solar masses"),
    ("mag_lens", "AB magnitude of the lens galaxy in the detection band"),
    ("n_sources", "background sources in the system (0 or 1)"),
];

/// The I SGLC catalogue's columns, in order, with what each holds here.
pub const SGLC1_COLUMNS: [(&str, &str); 5] = [
    ("ID", "object identifier; its images are Public/Band<k>/imageSDSS_<B>-<ID>.fits (Band1 R, Band2 I, Band3 G, Band4 U)"),
    ("is_lens", "1 when the lensed source is detectable under the survey's label criteria, else 0"),
    ("Einstein_area", "area inside the tangential critical curve, arcsec^2 (pi theta_E^2); 0 where the lens is not supercritical"),
    ("numb_pix_lensed_image", "pixels of the lensed source (noise-free, PSF-convolved) above 1 sigma of the background, detection band (r)"),
    ("flux_lensed_image_in_sigma", "flux of the lensed source in the detection-band stamp over the background noise sigma per pixel"),
];

/// The II SGLC columns `train score` reads.
pub mod sglc2 {
    /// Object identifier.
    pub const ID: &str = "ID";
    /// Area inside the tangential critical curve, arcsec².
    pub const EIN_AREA: &str = "ein_area";
    /// Lensed-source pixels above 1σ, detection band.
    pub const N_PIX_SOURCE: &str = "n_pix_source";
    /// Lensed-source flux in the detection-band stamp, e⁻/s.
    pub const SOURCE_FLUX: &str = "source_flux";
    /// Groups of lensed-source pixels above 1σ: the source's detected images.
    pub const N_SOURCE_IM: &str = "n_source_im";
    /// Effective magnification, the least over the bands.
    pub const MAG_EFF: &str = "mag_eff";
}

/// The I SGLC columns `train score` reads.
pub mod sglc1 {
    /// Object identifier.
    pub const ID: &str = "ID";
    /// 1 for a lens, else 0.
    pub const IS_LENS: &str = "is_lens";
    /// Area inside the tangential critical curve, arcsec².
    pub const EINSTEIN_AREA: &str = "Einstein_area";
    /// Lensed-source pixels above 1σ, detection band.
    pub const NUMB_PIX_LENSED_IMAGE: &str = "numb_pix_lensed_image";
    /// Lensed-source flux over the background σ per pixel.
    pub const FLUX_LENSED_IMAGE_IN_SIGMA: &str = "flux_lensed_image_in_sigma";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_read_is_a_column_written() {
        let has = |table: &[(&str, &str)], name: &str| table.iter().any(|(n, _)| *n == name);
        for name in [
            sglc2::ID,
            sglc2::EIN_AREA,
            sglc2::N_PIX_SOURCE,
            sglc2::SOURCE_FLUX,
            sglc2::N_SOURCE_IM,
            sglc2::MAG_EFF,
        ] {
            assert!(has(&SGLC2_COLUMNS, name), "{name}");
        }
        for name in [
            sglc1::ID,
            sglc1::IS_LENS,
            sglc1::EINSTEIN_AREA,
            sglc1::NUMB_PIX_LENSED_IMAGE,
            sglc1::FLUX_LENSED_IMAGE_IN_SIGMA,
        ] {
            assert!(has(&SGLC1_COLUMNS, name), "{name}");
        }
    }
}
