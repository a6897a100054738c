//! End-to-end tests of `train metrics`, `train compare` and `train ensemble`.

use std::process::Command;

fn train(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_train"))
        .args(args)
        .output()
        .expect("train runs")
}

#[test]
fn metrics_of_a_csv_as_json_and_as_a_table() {
    // Four systems ranked perfectly: AUCs are 1 and the best F_β has precision and recall 1
    // at the lower lens score.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("s.csv");
    std::fs::write(
        &csv,
        "ID,is_lens,score\n1,1,0.9\n2,0,0.2\n3,true,0.7\n4,false,0.4\n",
    )
    .unwrap();
    let o = train(&["metrics", "--scores", csv.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["roc_auc"], 1.0);
    assert_eq!(r["pr_auc"], 1.0);
    assert_eq!(r["threshold"], 0.7);
    assert_eq!(r["n_lenses"], 2);
    let o = train(&["metrics", "--scores", csv.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("ROC AUC              1.000000"));
}

#[test]
fn bad_scores_files_are_named_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "ID,is_lens,score\n1,1,0.9\n2,maybe,0.2\n").unwrap();
    let o = train(&["metrics", "--scores", csv.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("bad.csv")
            // `maybe` is on the file's third line (the header is line 1), as an editor shows it.
            && err.contains("line 3")
            && err.contains("is_lens"),
        "{err}"
    );
    let o = train(&[
        "metrics",
        "--scores",
        csv.to_str().unwrap(),
        "--score-column",
        "prob",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no column `prob`") && err.contains("ID, is_lens, score"),
        "{err}"
    );
    std::fs::write(&csv, "is_lens,score\n1,0.9\n1,0.2\n").unwrap();
    let o = train(&["metrics", "--scores", csv.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("both classes"));
}

/// Two finders' tables on 200 objects, 120 of them labelled (every third a lens, scored
/// higher by both with some overlap), written into `dir`.
fn two_finders(dir: &std::path::Path) -> [String; 3] {
    let (mut a, mut b, mut t) = (
        String::from("id,score\n"),
        String::from("id,score\n"),
        String::from("id,is_lens,grade\n"),
    );
    for i in 0..200 {
        let lens = i % 3 == 0;
        let base = if lens { 0.5 } else { 0.0 };
        a += &format!("o{i},{}\n", base + ((i * 37) % 100) as f64 / 160.0);
        b += &format!("o{i},{}\n", base + ((i * 53) % 100) as f64 / 140.0);
        if i < 120 {
            t += &format!("o{i},{},{}\n", u8::from(lens), if lens { 1.5 } else { 0.2 });
        }
    }
    let p = |n: &str, text: &str| {
        let p = dir.join(n);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    [p("a.csv", &a), p("b.csv", &b), p("t.csv", &t)]
}

#[test]
fn compare_and_ensemble_write_their_reports() {
    let dir = tempfile::tempdir().unwrap();
    let [a, b, t] = two_finders(dir.path());
    let out = dir.path().join("cmp");
    let o = train(&[
        "compare",
        "--finder",
        &format!("A={a}"),
        "--finder",
        &format!("B={b}"),
        "--truth",
        &t,
        "--grade-column",
        "grade",
        "--k",
        "10",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(r["objects"], 200);
    assert_eq!(r["labelled"], 120);
    assert_eq!(r["lenses"], 40);
    assert!(out.join("ranks-A-B.png").is_file());
    let out = dir.path().join("ens");
    let o = train(&[
        "ensemble",
        "--finder",
        &format!("A={a}"),
        "--finder",
        &format!("B={b}"),
        "--truth",
        &t,
        "--bootstraps",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ensemble.json")).unwrap()).unwrap();
    assert_eq!(r["unlabelled"], 80);
    assert_eq!(r["results"].as_array().unwrap().len(), 2 + 6);
    let scores = std::fs::read_to_string(out.join("ensemble-scores.csv")).unwrap();
    assert_eq!(scores.lines().count(), 201);
    assert!(scores.starts_with("id,part,is_lens,A,B,mean,median,linear,tree,forest,bayes\n"));
    assert!(out.join("ensemble.png").is_file());
    // Nothing temporary left behind.
    for f in std::fs::read_dir(&out).unwrap() {
        let name = f.unwrap().file_name();
        assert!(!name.to_string_lossy().starts_with('.'), "{name:?}");
    }
}

#[test]
fn misaligned_tables_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let [a, _, t] = two_finders(dir.path());
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "id,score\no0,0.3\no1,0.2\no1,0.4\n").unwrap();
    let out = dir.path().join("ens");
    let o = train(&[
        "ensemble",
        "--finder",
        &format!("A={a}"),
        "--finder",
        &format!("B={}", bad.display()),
        "--truth",
        &t,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.csv, line 4: ID `o1` again"), "{err}");
    assert!(!out.exists());
}
