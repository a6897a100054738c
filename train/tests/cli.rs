//! End-to-end tests of `train metrics`.

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
fn bad_scores_files_are_named_with_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    std::fs::write(&csv, "ID,is_lens,score\n1,1,0.9\n2,maybe,0.2\n").unwrap();
    let o = train(&["metrics", "--scores", csv.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success()
            && err.contains("bad.csv")
            && err.contains("row 2")
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
