//! The label rule, written once (issue #20): the detectability criteria of the second Strong
//! Gravitational Lensing Challenge (Metcalf et al. 2019, §3), which `sim` labels every system
//! by, records with `/labels/is_lens`, writes into challenge catalogues, and which `train`
//! applies to catalogues and challenge truth files.

use serde::{Deserialize, Serialize};

/// The attribute names of the criteria stored with `/labels/is_lens`.
pub const MIN_N_PIX: &str = "min_n_pix";
/// See [`MIN_N_PIX`].
pub const MIN_GROUPS: &str = "min_groups";
/// See [`MIN_N_PIX`].
pub const MIN_MAG_EFF: &str = "min_mag_eff";

/// The rule in words, stored with the labels.
pub const DEFINITION: &str = "n_source_groups >= min_groups and n_pix_source > min_n_pix (detection band) and mag_eff_<band> > min_mag_eff in every band";

/// The detectability criteria: a system is a lens when its lensed source makes more than
/// `min_n_pix` pixels above 1σ of the background in the detection band, in at least
/// `min_groups` connected groups, and its effective magnification exceeds `min_mag_eff` in
/// every band.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LabelCriteria {
    /// The band whose pixels are counted; the survey's first band when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_band: Option<String>,
    /// n_pix_source must exceed this (strictly).
    pub min_n_pix: u32,
    /// n_source_groups must be at least this.
    pub min_groups: u32,
    /// μ_eff must exceed this (strictly) in every band.
    pub min_mag_eff: f64,
}

impl Default for LabelCriteria {
    /// The II SGLC's: more than 20 pixels, at least one group, μ_eff > 1.6 in every band.
    fn default() -> Self {
        Self {
            detection_band: None,
            min_n_pix: 20,
            min_groups: 1,
            min_mag_eff: 1.6,
        }
    }
}

impl LabelCriteria {
    /// The label from a system's catalogue quantities: `n_pix` source pixels and `n_groups`
    /// groups in the detection band, and `mag_eff` per band (NaN, a system without a source,
    /// fails).
    pub fn is_lens(&self, n_pix: f64, n_groups: f64, mag_eff: &[f64]) -> bool {
        n_pix > f64::from(self.min_n_pix) && self.all_but_pixels(n_groups, mag_eff)
    }

    /// The rule in the II SGLC catalogue's column names, as `sim generate --format sglc` writes
    /// it into the catalogue's first comment line and [`from_challenge_line`] reads it back:
    /// `(n_source_im >= 1) & (mag_eff > 1.6) & (n_pix_source > 20)`.
    ///
    /// [`from_challenge_line`]: Self::from_challenge_line
    pub fn challenge_rule(&self) -> String {
        format!(
            "(n_source_im >= {}) & (mag_eff > {}) & (n_pix_source > {})",
            self.min_groups, self.min_mag_eff, self.min_n_pix
        )
    }

    /// The criteria of a line holding [`challenge_rule`](Self::challenge_rule)'s text; None
    /// when the line holds no such rule (the challenge's own files, labelled by the default).
    pub fn from_challenge_line(line: &str) -> Option<Self> {
        let after = |key: &str| -> Option<&str> {
            let rest = &line[line.find(key)? + key.len()..];
            Some(rest[..rest.find(')')?].trim())
        };
        Some(Self {
            detection_band: None,
            min_groups: after("(n_source_im >=")?.parse().ok()?,
            min_mag_eff: after("(mag_eff >")?.parse().ok()?,
            min_n_pix: after("(n_pix_source >")?.parse().ok()?,
        })
    }

    /// The criteria other than the pixel count (for detection limits swept by n_pix).
    pub fn all_but_pixels(&self, n_groups: f64, mag_eff: &[f64]) -> bool {
        n_groups >= f64::from(self.min_groups) && mag_eff.iter().all(|&m| m > self.min_mag_eff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_is_the_challenges_with_strict_and_inclusive_bounds_as_published() {
        // Metcalf et al. 2019, §3: n_pix_source > 20, groups ≥ 1, μ_eff > 1.6 in every band.
        let c = LabelCriteria::default();
        assert!(c.is_lens(21.0, 1.0, &[1.61, 2.0]));
        assert!(!c.is_lens(20.0, 1.0, &[1.61, 2.0]), "n_pix must exceed 20");
        assert!(!c.is_lens(21.0, 0.0, &[1.61, 2.0]), "at least one group");
        assert!(!c.is_lens(21.0, 1.0, &[1.6, 2.0]), "μ_eff must exceed 1.6");
        assert!(!c.is_lens(21.0, 1.0, &[2.0, f64::NAN]), "NaN fails");
        assert!(c.all_but_pixels(1.0, &[1.7]) && !c.is_lens(0.0, 1.0, &[1.7]));
    }

    #[test]
    fn the_challenge_rule_reads_back_from_a_catalogue_line() {
        let c = LabelCriteria {
            detection_band: None,
            min_n_pix: 35,
            min_groups: 2,
            min_mag_eff: 1.25,
        };
        let line = format!("# lensforge simulation. Label: {}.", c.challenge_rule());
        assert_eq!(LabelCriteria::from_challenge_line(&line), Some(c));
        assert_eq!(LabelCriteria::from_challenge_line("# ID,x,y"), None);
    }
}
