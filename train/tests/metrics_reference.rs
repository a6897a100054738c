//! The metrics against scikit-learn.
//!
//! Expected values: tests/fixtures/metrics.json, made by tests/fixtures/make_metrics.py with
//! scikit-learn 1.9.1 (roc_auc_score, average_precision_score, brute-force F_β).

use train::evaluate::metrics::evaluate;

#[test]
fn metrics_agree_with_scikit_learn_to_1e_9() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/metrics.json")).unwrap();
    for case in fixture["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let labels: Vec<bool> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64() == Some(1))
            .collect();
        let scores: Vec<f64> = serde_json::from_value(case["scores"].clone()).unwrap();
        let r = evaluate(&labels, &scores, case["beta2"].as_f64().unwrap()).unwrap();
        let f = |k: &str| case[k].as_f64().unwrap();
        for (what, got, want) in [
            ("ROC AUC", r.roc_auc, f("roc_auc")),
            ("average precision", r.pr_auc, f("average_precision")),
            ("F_beta", r.f_beta.f_beta, f("f_beta")),
            ("threshold", r.f_beta.threshold, f("threshold")),
            ("precision", r.f_beta.precision, f("precision")),
            ("recall", r.f_beta.recall, f("recall")),
            (
                "false-positive rate",
                r.f_beta.false_positive_rate,
                f("false_positive_rate"),
            ),
        ] {
            assert!(
                (got - want).abs() < 1e-9,
                "{name}: {what} {got} vs scikit-learn {want}"
            );
        }
    }
}
