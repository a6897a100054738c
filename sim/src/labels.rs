//! Detectability labels, as the II SGLC defined them (Metcalf et al. 2019, §3).
//!
//! Everything is measured on the noise-free, PSF-convolved image of the lensed source alone,
//! at each band's own resolution: `n_pix_source` counts its pixels above 1σ of that band's
//! background noise, `n_source_groups` the connected groups they form (8-connectivity: pixels
//! touching at a corner join, so a thin arc running diagonally stays one group), and the
//! effective magnification is the lensed over the unlensed source flux.

use ndarray::Array2;

use crate::observe::survey::LabelCriteria;

/// Number of pixels brighter than `threshold` (strictly).
pub fn pixels_above(image: &Array2<f32>, threshold: f64) -> u32 {
    image.iter().filter(|&&v| v as f64 > threshold).count() as u32
}

/// Number of 8-connected groups of pixels brighter than `threshold` (strictly).
pub fn connected_groups(image: &Array2<f32>, threshold: f64) -> u32 {
    let (h, w) = image.dim();
    let mut seen = vec![false; h * w];
    let mut stack = Vec::new();
    let mut groups = 0;
    for start in 0..h * w {
        if seen[start] || image[[start / w, start % w]] as f64 <= threshold {
            continue;
        }
        groups += 1;
        seen[start] = true;
        stack.push(start);
        while let Some(p) = stack.pop() {
            let (i, j) = ((p / w) as isize, (p % w) as isize);
            for di in -1..=1 {
                for dj in -1..=1 {
                    let (ni, nj) = (i + di, j + dj);
                    if ni < 0 || nj < 0 || ni >= h as isize || nj >= w as isize {
                        continue;
                    }
                    let q = ni as usize * w + nj as usize;
                    if !seen[q] && image[[ni as usize, nj as usize]] as f64 > threshold {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
    }
    groups
}

/// The labels of one system.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    /// Pixels of the lensed source above 1σ of the background, per band.
    pub n_pix_source: Vec<u32>,
    /// Connected groups of those pixels, per band.
    pub n_source_groups: Vec<u32>,
    /// Effective magnification per band.
    pub mag_eff: Vec<f64>,
    /// The band whose pixels decide the label.
    pub detection_band: usize,
    /// Detectable under the criteria.
    pub is_lens: bool,
}

impl Labels {
    /// Labels from each band's noise-free lensed-source image (PSF-convolved), background σ
    /// (same units, per pixel) and effective magnification.
    pub fn measure(
        sources: &[&Array2<f32>],
        sigmas: &[f64],
        mag_eff: &[f64],
        criteria: &LabelCriteria,
        detection_band: usize,
    ) -> Self {
        let n_pix_source: Vec<u32> = sources
            .iter()
            .zip(sigmas)
            .map(|(s, &sig)| pixels_above(s, sig))
            .collect();
        let n_source_groups: Vec<u32> = sources
            .iter()
            .zip(sigmas)
            .map(|(s, &sig)| connected_groups(s, sig))
            .collect();
        let mag_eff = mag_eff.to_vec();
        let is_lens = is_lens(
            n_pix_source[detection_band],
            n_source_groups[detection_band],
            &mag_eff,
            criteria,
        );
        Self {
            n_pix_source,
            n_source_groups,
            mag_eff,
            detection_band,
            is_lens,
        }
    }
}

/// The label from the catalogue quantities, by the contract's one rule
/// ([`LabelCriteria::is_lens`]).
pub fn is_lens(n_pix: u32, n_groups: u32, mag_eff: &[f64], c: &LabelCriteria) -> bool {
    c.is_lens(f64::from(n_pix), f64::from(n_groups), mag_eff)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(rows: &[&str]) -> Array2<f32> {
        // '#' is 2.0, '+' is 1.0 (exactly at threshold: not above), '.' is 0.
        Array2::from_shape_fn((rows.len(), rows[0].len()), |(i, j)| {
            match rows[i].as_bytes()[j] {
                b'#' => 2.0,
                b'+' => 1.0,
                _ => 0.0,
            }
        })
    }

    #[test]
    fn counts_and_groups_on_hand_made_images() {
        let img = image(&[
            "##....#", //
            "#.....#", //
            "...#...", //
            "....#..", //
            "+.....+", //
            "..##...",
        ]);
        // Pixels strictly above 1: 3 (top-left) + 2 (right) + 2 (diagonal pair) + 2 (bottom).
        assert_eq!(pixels_above(&img, 1.0), 9);
        // Groups: top-left L, right column pair, diagonal pair (8-connected), bottom pair;
        // the '+' pixels sit at the threshold and do not count.
        assert_eq!(connected_groups(&img, 1.0), 4);
        // A ring is one group; nothing above threshold is none.
        let ring = image(&[".###.", "#...#", "#...#", ".###."]);
        assert_eq!(connected_groups(&ring, 1.0), 1);
        assert_eq!(connected_groups(&ring, 5.0), 0);
    }

    #[test]
    fn the_label_needs_all_three_criteria() {
        let c = LabelCriteria::default();
        assert!(is_lens(21, 1, &[2.0, 1.7], &c));
        assert!(!is_lens(20, 1, &[2.0, 1.7], &c)); // n_pix must exceed 20
        assert!(!is_lens(50, 0, &[2.0, 1.7], &c));
        assert!(!is_lens(50, 2, &[2.0, 1.6], &c)); // μ_eff must exceed 1.6 in every band
        assert!(!is_lens(50, 2, &[f64::NAN, 2.0], &c));
    }
}
