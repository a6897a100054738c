//! `train score`: a submission to a blind challenge-style set judged against its truth, and
//! malformed submissions refused with the line that breaks the rules.

use std::path::Path;
use std::process::Command;

use train::evaluate::challenge::{read_submission, read_truth, score};

/// A II SGLC truth catalogue of 14 objects, IDs 200000…200013, written as `sim generate
/// --format sglc --blind` writes it (comment lines, unnamed index, the 27 columns). Objects
/// 0–5 are lenses by the loaders' line; 6–9 fail one criterion each (n_source_im, mag_eff,
/// n_pix_source, no source); 10–13 are plain non-lenses.
fn write_sglc2_truth(path: &Path) {
    let mut t = String::from("# a hand-made truth\n# second comment line\n");
    t.push_str(",ID,x_crit,y_crit,source_ID,z_source,z_lens,mag_source,ein_area,n_crit,r_source,crit_area,n_pix_source,source_flux,n_pix_lens,lens_flux,n_source_im,mag_eff,sb_contrast,color_diff,n_gal_3,n_gal_5,n_gal_10,halo_mass,star_mass,mag_lens,n_sources\n");
    // (ein_area, n_pix_source, source_flux, n_source_im, mag_eff)
    let objects: [(f64, u32, f64, u32, f64); 14] = [
        (0.5, 30, 2.0, 1, 3.0),
        (1.0, 60, 4.0, 2, 5.0),
        (2.0, 90, 8.0, 1, 2.0),
        (3.0, 120, 16.0, 4, 9.0),
        (4.0, 150, 32.0, 1, 1.7),
        (5.0, 300, 64.0, 2, 20.0),
        (1.0, 60, 4.0, 0, 5.0),
        (1.0, 60, 4.0, 1, 1.6),
        (1.0, 20, 4.0, 1, 5.0),
        (0.0, 0, 0.0, 0, f64::NAN),
        (0.3, 0, 0.0, 0, 1.2),
        (0.2, 5, 0.1, 1, 1.1),
        (0.0, 0, 0.0, 0, f64::NAN),
        (0.7, 10, 1.0, 1, 2.5),
    ];
    for (k, (area, npix, flux, nim, mu)) in objects.iter().enumerate() {
        let id = 200000 + k;
        let mu = if mu.is_nan() {
            "NaN".to_string()
        } else {
            mu.to_string()
        };
        t.push_str(&format!(
            "{k},{id},0,0,{id},2,0.5,25,{area},1,0.2,0.01,{npix},{flux},900,40,{nim},{mu},0.5,-1,0,1,3,1e13,1e11,21,1\n"
        ));
    }
    std::fs::write(path, t).unwrap();
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_challenge_figures_of_a_hand_made_submission() {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.csv");
    write_sglc2_truth(&truth_path);
    let truth = read_truth(&truth_path).unwrap();
    let lenses: Vec<bool> = (0..14).map(|k| k < 6).collect();
    assert_eq!(truth.is_lens, lenses, "the loaders' label line");
    assert!((truth.theta_e[3] - (3.0 / std::f64::consts::PI).sqrt()).abs() < 1e-15);

    // Scores: lenses 0.99 0.95 0.7 0.6 0.3 0.91; non-lenses 0.92 0.8 0.5 0.4 0.2 0.1 0.05
    // 0.65. Hand count: the top non-lens is 0.92, above it 0.99 and 0.95: TPR₀ = 2/6. With
    // eight non-lenses, fewer than ten false positives always: TPR₁₀ = 1.
    // ROC AUC = pairs (lens > non-lens) / 48: 0.99→8, 0.95→8, 0.91→7, 0.7→6, 0.6→5,
    // 0.3→3 = 37/48.
    let scores = [
        0.99, 0.95, 0.7, 0.6, 0.3, 0.91, 0.92, 0.8, 0.5, 0.4, 0.2, 0.1, 0.05, 0.65,
    ];
    let mut sub = String::from("ID,score\n");
    // Any order, blank lines allowed.
    for k in (0..14).rev() {
        sub.push_str(&format!("{},{}\n\n", 200000 + k, scores[k]));
    }
    let sub_path = dir.path().join("sub.csv");
    write(&sub_path, &sub);
    let read = read_submission(&sub_path, &truth).unwrap();
    assert_eq!(read, scores);
    let r = score(&truth, &read, 3).unwrap();
    assert_eq!((r.overall.n_lenses, r.overall.n_non_lenses), (6, 8));
    assert!((r.overall.roc_auc - 37.0 / 48.0).abs() < 1e-12);
    assert!((r.overall.tpr0 - 2.0 / 6.0).abs() < 1e-12);
    assert_eq!(r.overall.tpr10, 1.0);
    // F_β with β² = 0.001 is nearly the precision: the best threshold is 0.95 (precision 1,
    // recall 1/3): (1.001 · 1/3)/(0.001 + 1/3).
    let want = 1.001 * (1.0 / 3.0) / (0.001 + 1.0 / 3.0);
    assert!((r.overall.f_beta - want).abs() < 1e-12);
    assert_eq!(r.overall.f_beta_threshold, 0.95);

    // Binned: three bins of two lenses each (quantiles of the six lenses), every non-lens in
    // each. By n_pix_source: {30, 60}, {90, 120}, {150, 300}.
    let by_npix = &r.binned[1];
    assert_eq!(by_npix.quantity, "n_pix_source");
    assert_eq!(by_npix.bins.len(), 3);
    let counts: Vec<(usize, usize)> = by_npix
        .bins
        .iter()
        .map(|b| (b.figures.n_lenses, b.figures.n_non_lenses))
        .collect();
    assert_eq!(counts, [(2, 8), (2, 8), (2, 8)]);
    // Bin {150, 300}: lenses 0.3 and 0.91: pairs 3 + 7 = 10 of 16.
    assert!((by_npix.bins[2].figures.roc_auc - 10.0 / 16.0).abs() < 1e-12);
}

#[test]
fn the_first_challenge_catalogue_is_read_by_its_is_lens_column() {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("classifications.csv");
    write(
        &truth_path,
        "ID,is_lens,Einstein_area,numb_pix_lensed_image,flux_lensed_image_in_sigma\n\
         100000,1,0.8,118,768.0\n100001,0,0.7,3,70.7\n100002,1,0.3,25,10.5\n",
    );
    let truth = read_truth(&truth_path).unwrap();
    assert_eq!(truth.is_lens, [true, false, true]);
    assert_eq!(truth.flux_unit, "sigma");
    assert_eq!(truth.source_flux, [768.0, 70.7, 10.5]);
}

#[test]
fn malformed_submissions_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.csv");
    write_sglc2_truth(&truth_path);
    let truth = read_truth(&truth_path).unwrap();
    let all = |skip: usize| -> String {
        (0..14)
            .filter(|&k| k != skip)
            .map(|k| format!("{},0.5\n", 200000 + k))
            .collect()
    };
    let cases: [(String, &str); 7] = [
        (
            all(99).replace("200003,0.5", "200003,1.5"),
            "line 4: score 1.5 of ID 200003 is outside [0, 1]",
        ),
        (
            all(99).replace("200003,0.5", "200003,-0.1"),
            "line 4: score -0.1 of ID 200003 is outside [0, 1]",
        ),
        (
            all(99).replace("200005,0.5", "200005,high"),
            "line 6: `high` is not a number",
        ),
        (
            all(99).replace("200005,0.5", "lens5,0.5"),
            "line 6: `lens5` is not an object ID",
        ),
        (
            all(99) + "200002,0.7\n",
            "line 15: ID 200002 is scored again (first on line 3)",
        ),
        (
            all(99).replace("200001,0.5", "200001,0.5,0.2"),
            "line 2: `200001,0.5,0.2` has 3 fields",
        ),
        (
            all(99).replace("200009,0.5", "999999,0.5"),
            "line 10: ID 999999 is not an object of the set",
        ),
    ];
    for (k, (text, want)) in cases.iter().enumerate() {
        let p = dir.path().join(format!("bad{k}.csv"));
        write(&p, text);
        let e = read_submission(&p, &truth).unwrap_err().to_string();
        assert!(e.contains(want), "case {k}: `{e}` lacks `{want}`");
        assert!(e.contains(&format!("bad{k}.csv")), "{e}");
    }
    let p = dir.path().join("missing.csv");
    write(&p, &all(7));
    let e = read_submission(&p, &truth).unwrap_err().to_string();
    // The truth's line of ID 200007: two comments and the header come first.
    assert!(
        e.contains("1 objects of the truth have no score, the first ID 200007 (truth line 11)"),
        "{e}"
    );
}

#[test]
fn train_score_prints_tables_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.csv");
    write_sglc2_truth(&truth_path);
    let sub: String = (0..14)
        .map(|k| format!("{},{}\n", 200000 + k, if k < 6 { 0.9 } else { 0.1 }))
        .collect();
    let sub_path = dir.path().join("sub.csv");
    write(&sub_path, &sub);
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_train"))
            .args(["score", "--truth"])
            .arg(&truth_path)
            .arg("--submission")
            .arg(&sub_path)
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&["--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // A perfect separation: every figure is 1.
    for key in ["roc_auc", "tpr0", "tpr10", "f_beta"] {
        assert_eq!(v["overall"][key], 1.0, "{key}");
    }
    assert_eq!(v["binned"].as_array().unwrap().len(), 3);
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("by theta_e (arcsec)") && text.contains("TPR10"),
        "{text}"
    );
    // A bad submission: non-zero exit, the message on stderr.
    write(&sub_path, "200000,0.5\n");
    let out = run(&[]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("have no score"));
}

#[test]
fn a_table_with_a_repeated_column_is_refused_naming_it() {
    // Issue #19: `train metrics` once read the first of two `score` columns without a word.
    let dir = tempfile::tempdir().unwrap();
    let scores = dir.path().join("s.csv");
    write(&scores, "id,label,score,score\n1,1,0.9,0.1\n2,0,0.2,0.8\n");
    let e = train::evaluate::scores::read_scores(&scores, "label", "score")
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.csv") && e.contains("`score` twice"), "{e}");
    let truth = dir.path().join("t.csv");
    write(&truth, "ID,ID,is_lens\n1,1,1\n");
    let e = read_truth(&truth).unwrap_err().to_string();
    assert!(e.contains("t.csv") && e.contains("`ID` twice"), "{e}");
}
