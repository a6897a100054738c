//! A FITS image's celestial WCS, as cutouts carry it: the gnomonic (`TAN`) projection of
//! Calabretta & Greisen (2002, A&A 395, 1077), from `CRVAL`, `CRPIX` and the linear part given
//! as `CD`, as `PC` × `CDELT`, or as `CDELT` with `CROTA2`. Enough to say where a cutout's
//! centre is on the sky and how large its pixels are. A `-SIP` distortion is not applied: at a
//! cutout's centre, next to `CRPIX`, it is a small fraction of a pixel.

use fitsio_pure::header::Card;
use fitsio_pure::value::Value;

/// A TAN WCS: pixel (1-based FITS coordinates) to (RA, Dec) in degrees.
#[derive(Clone, Debug, PartialEq)]
pub struct Wcs {
    /// (RA, Dec) of the reference point, degrees (`CRVAL1`, `CRVAL2`).
    pub reference: [f64; 2],
    /// The reference pixel, 1-based (`CRPIX1`, `CRPIX2`).
    pub reference_pixel: [f64; 2],
    /// The linear map from pixel offsets to intermediate world coordinates, degrees per pixel,
    /// row-major (`CD1_1`, `CD1_2`, `CD2_1`, `CD2_2`).
    pub cd: [[f64; 2]; 2],
}

/// The header value of `key` as a number, if present and numeric.
pub fn number(cards: &[Card], key: &str) -> Option<f64> {
    match cards
        .iter()
        .find(|c| c.keyword_str() == key)?
        .value
        .as_ref()?
    {
        Value::Float(v) => Some(*v),
        Value::Integer(v) => Some(*v as f64),
        _ => None,
    }
}

/// The header value of `key` as text, if present and a string.
pub fn text<'a>(cards: &'a [Card], key: &str) -> Option<&'a str> {
    match cards
        .iter()
        .find(|c| c.keyword_str() == key)?
        .value
        .as_ref()?
    {
        Value::String(s) => Some(s.trim()),
        _ => None,
    }
}

impl Wcs {
    /// The WCS of a header, or why there is none usable: the axes must be `RA---TAN` and
    /// `DEC--TAN` (optionally `-SIP`), with `CRVAL`, `CRPIX` and a linear part, and `LONPOLE`,
    /// when given, 180° (the TAN default).
    pub fn from_header(cards: &[Card]) -> Result<Self, String> {
        let (t1, t2) = (text(cards, "CTYPE1"), text(cards, "CTYPE2"));
        let (Some(t1), Some(t2)) = (t1, t2) else {
            return Err("no celestial WCS (CTYPE1 and CTYPE2 are not both there)".into());
        };
        let tan = |t: &str, axis: &str| {
            t.strip_suffix("-SIP").unwrap_or(t) == format!("{axis}-TAN").as_str()
        };
        if !tan(t1, "RA--") || !tan(t2, "DEC-") {
            return Err(format!(
                "CTYPE1/2 = {t1}/{t2}: only the gnomonic RA---TAN/DEC--TAN projection is read"
            ));
        }
        if let Some(lonpole) = number(cards, "LONPOLE").filter(|&l| l != 180.0) {
            return Err(format!(
                "LONPOLE = {lonpole}: only 180 (TAN's default) is read"
            ));
        }
        let need = |key: &str| number(cards, key).ok_or_else(|| format!("no {key}"));
        let reference = [need("CRVAL1")?, need("CRVAL2")?];
        let reference_pixel = [need("CRPIX1")?, need("CRPIX2")?];
        let cd_key = |i, j| number(cards, &format!("CD{i}_{j}"));
        let cd = if (1..=2).any(|i| (1..=2).any(|j| cd_key(i, j).is_some())) {
            [
                [cd_key(1, 1).unwrap_or(0.0), cd_key(1, 2).unwrap_or(0.0)],
                [cd_key(2, 1).unwrap_or(0.0), cd_key(2, 2).unwrap_or(0.0)],
            ]
        } else {
            let cdelt = [need("CDELT1")?, need("CDELT2")?];
            let pc = |i: usize, j: usize| {
                number(cards, &format!("PC{i}_{j}")).unwrap_or(if i == j { 1.0 } else { 0.0 })
            };
            let has_pc =
                (1..=2).any(|i| (1..=2).any(|j| number(cards, &format!("PC{i}_{j}")).is_some()));
            match number(cards, "CROTA2").filter(|_| !has_pc) {
                // The AIPS convention (Calabretta & Greisen 2002, eq. 189).
                Some(rho) => {
                    let (s, c) = rho.to_radians().sin_cos();
                    [[cdelt[0] * c, -cdelt[1] * s], [cdelt[0] * s, cdelt[1] * c]]
                }
                None => [
                    [cdelt[0] * pc(1, 1), cdelt[0] * pc(1, 2)],
                    [cdelt[1] * pc(2, 1), cdelt[1] * pc(2, 2)],
                ],
            }
        };
        let det = cd[0][0] * cd[1][1] - cd[0][1] * cd[1][0];
        let finite = reference
            .iter()
            .chain(&reference_pixel)
            .all(|v| v.is_finite());
        if !finite || !det.is_finite() || det == 0.0 {
            return Err("a WCS whose reference or linear part is not finite or singular".into());
        }
        if !(-90.0..=90.0).contains(&reference[1]) {
            return Err(format!("CRVAL2 = {}: not a declination", reference[1]));
        }
        Ok(Self {
            reference,
            reference_pixel,
            cd,
        })
    }

    /// (RA in [0, 360), Dec) in degrees of the 1-based pixel position `pixel` (x along NAXIS1,
    /// y along NAXIS2): the inverse gnomonic projection about `CRVAL` with the native pole at
    /// `LONPOLE` = 180°.
    pub fn pixel_to_world(&self, pixel: [f64; 2]) -> [f64; 2] {
        let d = [
            pixel[0] - self.reference_pixel[0],
            pixel[1] - self.reference_pixel[1],
        ];
        let x = (self.cd[0][0] * d[0] + self.cd[0][1] * d[1]).to_radians();
        let y = (self.cd[1][0] * d[0] + self.cd[1][1] * d[1]).to_radians();
        let (sin_d0, cos_d0) = self.reference[1].to_radians().sin_cos();
        let denominator = cos_d0 - y * sin_d0;
        let ra = self.reference[0] + x.atan2(denominator).to_degrees();
        let dec = (sin_d0 + y * cos_d0).atan2(x.hypot(denominator));
        [ra.rem_euclid(360.0), dec.to_degrees()]
    }

    /// (RA, Dec) in degrees of the centre of an image of `shape` = [rows, columns].
    pub fn centre(&self, shape: [usize; 2]) -> [f64; 2] {
        self.pixel_to_world([(shape[1] as f64 + 1.0) / 2.0, (shape[0] as f64 + 1.0) / 2.0])
    }

    /// The pixel scale, arcsec: the square root of the linear part's area per pixel.
    pub fn pixel_scale(&self) -> f64 {
        let det = self.cd[0][0] * self.cd[1][1] - self.cd[0][1] * self.cd[1][0];
        det.abs().sqrt() * 3600.0
    }
}
