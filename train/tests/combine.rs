//! Comparing and combining finders (`train compare`, `train ensemble`) against scipy, pandas
//! and scikit-learn, and the checks of their inputs.
//!
//! Expected values: tests/fixtures/combine.json, made by tests/fixtures/make_combine.py with
//! scipy 1.17.1, pandas 3.1.1 and scikit-learn 1.9.1 (rankdata dense, nlargest/nsmallest with
//! keep="all", IsotonicRegression(out_of_bounds="clip"), precision_recall_curve).

use std::io::Write;
use std::path::Path;

use train::combine::compare::{
    bottom_set, compare, dense_ranks, jaccard, top_set, CompareSettings,
};
use train::combine::ensemble::{bayes_combine, fit, run, EnsembleSettings, Method};
use train::combine::isotonic::Isotonic;
use train::combine::tables::{join, FinderFile, TableError, TruthFile};
use train::evaluate::metrics::f_beta_curve;

fn fixture() -> serde_json::Value {
    serde_json::from_str(include_str!("fixtures/combine.json")).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol, "{what}[{i}]: {g} against {w}");
    }
}

#[test]
fn dense_ranks_agree_with_scipy() {
    let f = fixture();
    for name in ["a", "b", "c"] {
        let s = floats(&f["scores"][name]);
        close(
            &dense_ranks(&s),
            &floats(&f["dense_ranks"][name]),
            1e-12,
            name,
        );
    }
}

#[test]
fn top_and_bottom_sets_and_jaccard_agree_with_pandas() {
    let f = fixture();
    for case in f["sets"].as_array().unwrap() {
        let s = floats(&f["scores"][case["finder"].as_str().unwrap()]);
        let k = case["k"].as_u64().unwrap() as usize;
        let want = |key: &str| -> Vec<usize> { serde_json::from_value(case[key].clone()).unwrap() };
        assert_eq!(top_set(&s, k), want("top"), "{case}");
        assert_eq!(bottom_set(&s, k), want("bottom"), "{case}");
        // Ranks keep the order, so the sets of ranks are the sets of scores.
        assert_eq!(top_set(&dense_ranks(&s), k), want("top"));
    }
    for case in f["jaccard"].as_array().unwrap() {
        let a = floats(&f["scores"][case["a"].as_str().unwrap()]);
        let b = floats(&f["scores"][case["b"].as_str().unwrap()]);
        let k = case["k"].as_u64().unwrap() as usize;
        let top = jaccard(&top_set(&a, k), &top_set(&b, k));
        let bottom = jaccard(&bottom_set(&a, k), &bottom_set(&b, k));
        assert!(
            (top - case["top"].as_f64().unwrap()).abs() < 1e-12,
            "{case}"
        );
        assert!(
            (bottom - case["bottom"].as_f64().unwrap()).abs() < 1e-12,
            "{case}"
        );
    }
}

#[test]
fn isotonic_regression_agrees_with_scikit_learn() {
    let f = fixture();
    let labels: Vec<f64> = floats(&f["labels"]);
    for case in f["isotonic"].as_array().unwrap() {
        let x = floats(&f["scores"][case["finder"].as_str().unwrap()]);
        let w: Option<Vec<f64>> = serde_json::from_value(case["weights"].clone()).unwrap();
        let m = Isotonic::fit(&x, &labels, w.as_deref()).unwrap();
        let at = |xs: &[f64]| xs.iter().map(|&v| m.predict(v)).collect::<Vec<_>>();
        close(&at(&x), &floats(&case["at_training"]), 1e-12, "training");
        close(
            &at(&floats(&case["new_x"])),
            &floats(&case["at_new"]),
            1e-12,
            "new scores",
        );
    }
}

#[test]
fn f1_curves_agree_with_scikit_learn() {
    let f = fixture();
    let labels: Vec<bool> = floats(&f["labels"]).iter().map(|&v| v == 1.0).collect();
    for name in ["a", "b", "c"] {
        let want = &f["f1_curves"][name];
        let curve = f_beta_curve(&labels, &floats(&f["scores"][name]), 1.0).unwrap();
        let col = |g: fn(&train::evaluate::metrics::CurvePoint) -> f64| {
            curve.iter().map(g).collect::<Vec<_>>()
        };
        close(
            &col(|p| p.threshold),
            &floats(&want["thresholds"]),
            0.0,
            "thresholds",
        );
        close(
            &col(|p| p.precision),
            &floats(&want["precision"]),
            1e-12,
            "P",
        );
        close(&col(|p| p.recall), &floats(&want["recall"]), 1e-12, "R");
        close(&col(|p| p.f_beta), &floats(&want["f1"]), 1e-12, "F1");
        let max = col(|p| p.f_beta).into_iter().fold(0.0, f64::max);
        assert!((max - want["max_f1"].as_f64().unwrap()).abs() < 1e-12);
    }
}

#[test]
fn bayes_with_one_finder_returns_its_calibrated_probability() {
    let f = fixture();
    let labels: Vec<bool> = floats(&f["labels"]).iter().map(|&v| v == 1.0).collect();
    let s = floats(&f["scores"]["a"]);
    let rows: Vec<Vec<f64>> = s.iter().map(|&v| vec![v]).collect();
    let (combiner, _) = fit(Method::Bayes, &rows, &labels, None, 0).unwrap();
    // The calibration alone, as scikit-learn fits it (the fixture's unweighted case for "a").
    let iso = &f["isotonic"][0];
    assert_eq!(iso["finder"], "a");
    let calibrated = floats(&iso["at_training"]);
    let floor = train::combine::ensemble::PROBABILITY_FLOOR;
    for (p, q) in combiner.score(&rows).iter().zip(&calibrated) {
        assert!(
            (p - q.clamp(floor, 1.0 - floor)).abs() < 1e-12,
            "{p} against {q}"
        );
    }
}

#[test]
fn bayes_is_monotone_in_every_input() {
    // Raising any one calibrated probability never lowers the combination.
    let grid = [0.0, 0.001, 0.05, 0.3, 0.5, 0.77, 0.999, 1.0];
    for prior in [0.01, 0.2, 0.5] {
        for &a in &grid {
            for &b in &grid {
                for w in grid.windows(2) {
                    for pos in 0..3 {
                        let mut lo = [a, b, a];
                        let mut hi = lo;
                        lo[pos] = w[0];
                        hi[pos] = w[1];
                        assert!(bayes_combine(prior, &hi) >= bayes_combine(prior, &lo));
                    }
                }
            }
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    p
}

fn finder(name: &str, path: &Path) -> FinderFile {
    FinderFile::parse(&format!("{name}={}", path.display()), "id", "score").unwrap()
}

#[test]
fn tables_that_do_not_line_up_are_refused_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", "id,score\n1,0.5\n2,0.1\n3,0.9\n");
    let msg = |files: &[FinderFile], truth: Option<&TruthFile>| -> String {
        join(files, truth).unwrap_err().to_string()
    };
    // An ID missing from b: named with its line in a (line 3: header is line 1).
    let b = write(dir.path(), "b.csv", "id,score\n3,0.2\n1,0.4\n");
    let m = msg(&[finder("a", &a), finder("b", &b)], None);
    assert!(
        m.contains("a.csv, line 3: ID `2` is not in") && m.contains("b.csv"),
        "{m}"
    );
    // An ID in b that a lacks.
    let b = write(
        dir.path(),
        "b2.csv",
        "id,score\n1,0.2\n2,0.4\n3,0.1\n7,0.3\n",
    );
    let m = msg(&[finder("a", &a), finder("b", &b)], None);
    assert!(m.contains("b2.csv, line 5: ID `7` is not in"), "{m}");
    // A duplicate.
    let b = write(dir.path(), "b3.csv", "id,score\n1,0.2\n2,0.4\n1,0.1\n");
    let m = msg(&[finder("a", &a), finder("b", &b)], None);
    assert!(
        m.contains("b3.csv, line 4: ID `1` again (first on line 2)"),
        "{m}"
    );
    // A score that is not a number, after a comment line.
    let b = write(
        dir.path(),
        "b4.csv",
        "# scores of b\nid,score\n1,0.2\n2,high\n3,0.1\n",
    );
    let m = msg(&[finder("a", &a), finder("b", &b)], None);
    assert!(
        m.contains("b4.csv, line 4, column `score`: `high` is not a finite number"),
        "{m}"
    );
    // A missing column, a bad label, and a truth ID that no finder scored.
    let b = write(dir.path(), "b5.csv", "id,prob\n1,0.2\n");
    let m = msg(&[finder("a", &a), finder("b", &b)], None);
    assert!(m.contains("no column `score`"), "{m}");
    let truth = |text: &str, name: &str| TruthFile {
        path: write(dir.path(), name, text),
        id_column: "id".into(),
        label_column: "is_lens".into(),
        grade_column: None,
    };
    let t = truth("id,is_lens\n1,1\n2,maybe\n", "t1.csv");
    let m = msg(&[finder("a", &a)], Some(&t));
    assert!(m.contains("t1.csv, line 3, column `is_lens`"), "{m}");
    let t = truth("id,is_lens\n1,1\n9,0\n", "t2.csv");
    let m = msg(&[finder("a", &a)], Some(&t));
    assert!(m.contains("t2.csv, line 3: ID `9` is not in"), "{m}");
    // The same finder twice, and a malformed argument.
    let m = msg(&[finder("a", &a), finder("a", &a)], None);
    assert!(m.contains("named twice"), "{m}");
    assert!(matches!(
        FinderFile::parse("a.csv", "id", "score"),
        Err(TableError::Finder(..))
    ));
}

#[test]
fn joined_tables_follow_ids_not_row_order() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.csv", "id,score\nx,0.5\ny,0.1\nz,0.9\n");
    let b = write(dir.path(), "b.csv", "id,score\nz,0.3\nx,0.7\ny,0.2\n");
    let t = TruthFile {
        path: write(dir.path(), "t.csv", "id,is_lens,grade\ny,0,0.1\nz,1,1.9\n"),
        id_column: "id".into(),
        label_column: "is_lens".into(),
        grade_column: Some("grade".into()),
    };
    let j = join(&[finder("a", &a), finder("b", &b)], Some(&t)).unwrap();
    assert_eq!(j.ids, ["x", "y", "z"]);
    assert_eq!(j.scores[1], [0.7, 0.2, 0.3]);
    assert_eq!(j.labels, [None, Some(false), Some(true)]);
    assert_eq!(j.grades, Some(vec![None, Some(0.1), Some(1.9)]));
    assert_eq!(j.unlabelled(), [0]);
}

/// Three finders of a known quality on 600 labelled and 400 unlabelled objects: each sees the
/// truth through its own noise.
fn synthetic(dir: &Path) -> (Vec<FinderFile>, TruthFile) {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let n = 1000;
    let lens: Vec<bool> = (0..n).map(|_| rng.random::<f64>() < 0.3).collect();
    let mut files = Vec::new();
    for (f, noise) in [("cnn", 0.8), ("vit", 1.0), ("effnet", 1.2)].iter() {
        let mut text = String::from("id,score\n");
        for (i, &l) in lens.iter().enumerate() {
            let z = f64::from(u8::from(l)) * 2.0 - 1.0 + noise * (rng.random::<f64>() - 0.5) * 3.0;
            text += &format!("obj{i},{:.4}\n", 1.0 / (1.0 + (-2.0 * z).exp()));
        }
        files.push(finder(f, &write(dir, &format!("{f}.csv"), &text)));
    }
    let mut truth = String::from("id,is_lens\n");
    for (i, &l) in lens.iter().enumerate().take(600) {
        truth += &format!("obj{i},{}\n", u8::from(l));
    }
    let t = TruthFile {
        path: write(dir, "truth.csv", &truth),
        id_column: "id".into(),
        label_column: "is_lens".into(),
        grade_column: None,
    };
    (files, t)
}

#[test]
fn ensembles_are_judged_on_the_held_out_part_only() {
    let dir = tempfile::tempdir().unwrap();
    let (files, truth) = synthetic(dir.path());
    let j = join(&files, Some(&truth)).unwrap();
    let settings = EnsembleSettings {
        bootstraps: 50,
        ..Default::default()
    };
    let (report, scores) = run(&j, &settings).unwrap();
    // 20 % of each class held out; the 400 without truth are unlabelled.
    assert_eq!(report.test.0 + report.train.0, 600);
    assert_eq!(report.unlabelled, 400);
    assert_eq!(
        scores.part.iter().filter(|p| **p == "test").count(),
        report.test.0
    );
    assert_eq!(report.results.len(), 3 + 6);
    for r in &report.results {
        assert!((0.0..=1.0).contains(&r.max_f1) && r.roc_auc > 0.5, "{r:?}");
        assert!(r.completeness >= settings.completeness);
        assert!(r.unlabelled_above <= 400);
    }
    // The mean ensemble's scores are the finders' means, for every object.
    let mean = &scores.scores[0];
    assert_eq!(mean.len(), j.ids.len());
    for (i, got) in mean.iter().enumerate() {
        let m = j.row(i).iter().sum::<f64>() / 3.0;
        assert!((got - m).abs() < 1e-12);
    }
    // Same seed, same report (the grid searches run on several threads).
    let (again, _) = run(&j, &settings).unwrap();
    assert_eq!(report, again);
}

#[test]
fn compare_counts_completeness_per_finder_and_union() {
    let dir = tempfile::tempdir().unwrap();
    let (files, truth) = synthetic(dir.path());
    let j = join(&files, Some(&truth)).unwrap();
    let r = compare(&j, &CompareSettings::default()).unwrap();
    assert_eq!(
        r.agreement.len(),
        3 + 3,
        "three pairs, three finders with the truth"
    );
    assert_eq!(r.histograms.len(), 3);
    for h in &r.histograms {
        assert_eq!(h.counts.iter().flatten().sum::<usize>(), 1000);
    }
    let lenses = |f: &str| {
        r.completeness
            .iter()
            .find(|c| c.finder == f)
            .unwrap()
            .groups[0]
            .clone()
    };
    // The union finds every lens any finder finds, and no more than all of them.
    let union = lenses("union");
    for f in ["cnn", "vit", "effnet"] {
        assert!(union.found >= lenses(f).found);
    }
    assert_eq!(union.n, r.lenses);
    // Counted by hand from the ranks.
    let ranks: Vec<Vec<f64>> = j.scores.iter().map(|s| dense_ranks(s)).collect();
    let by_hand = (0..j.ids.len())
        .filter(|&i| j.labels[i] == Some(true) && ranks.iter().any(|r| r[i] >= 0.8))
        .count();
    assert_eq!(union.found, by_hand);
}
