//! `--init`: EfficientNet weights in timm's naming load into every branch of the lens finder.
//! The file and the values to find come from `fixtures/make_init.py` (numpy + safetensors): a
//! network of compound scaling (0.25, 0.3) with random values, a classifier and BatchNorm batch
//! counters that must be left unused.

use std::path::Path;

use burn_store::ModuleSnapshot;
use serde_json::Value;
use train::device::Cpu;
use train::model::pretrained::load_pretrained;
use train::model::two_branch::{Branches, LensFinder, VisChannels};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn values(model: &LensFinder<Cpu>, path: &str, n: usize) -> Vec<f32> {
    let snap = model
        .collect(None, None, false)
        .into_iter()
        .find(|s| s.full_path() == path)
        .unwrap_or_else(|| panic!("no parameter {path}"));
    let v: Vec<f32> = snap.to_data().unwrap().to_vec().unwrap();
    v[..n].to_vec()
}

fn expected(probe: &Value, key: &str) -> Vec<f32> {
    probe[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn timm_weights_load_into_both_branches() {
    let probe: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("init_small.json")).unwrap())
            .unwrap();
    let device = Default::default();
    let mut model = LensFinder::<Cpu>::scaled(
        0.25,
        0.3,
        0.01,
        Branches::Both,
        VisChannels::Repeated,
        3,
        &device,
    );
    let r = load_pretrained(&mut model, &fixture("init_small.safetensors"), 0.3).unwrap();
    // Every tensor but the classifier's two and the batch counters, once per branch.
    let n = probe["n_tensors"].as_u64().unwrap() as usize;
    let counters = probe["n_counters"].as_u64().unwrap() as usize;
    assert_eq!(r.applied, 2 * (n - 2 - counters));
    assert!(
        r.unused.iter().any(|k| k == "classifier.weight"),
        "{:?}",
        r.unused
    );
    for branch in ["vis", "nir"] {
        for (path, key, len) in [
            ("stem.weight", "conv_stem.weight[:5]", 5),
            ("top_bn.running_var", "bn2.running_var[:5]", 5),
            ("top_bn.gamma", "bn2.weight[:5]", 5),
            (
                "blocks.1.project.weight",
                "blocks.1.0.conv_pwl.weight[:5]",
                5,
            ),
            (
                "blocks.0.se_reduce.bias",
                "blocks.0.0.se.conv_reduce.bias",
                2,
            ),
        ] {
            assert_eq!(
                values(&model, &format!("{branch}.{path}"), len),
                expected(&probe, key),
                "{branch}.{path}"
            );
        }
    }

    // A network of another width does not fit the file: refused, naming the file.
    let mut wider = LensFinder::<Cpu>::scaled(
        0.5,
        0.3,
        0.01,
        Branches::Vis,
        VisChannels::Repeated,
        3,
        &device,
    );
    let e = load_pretrained(&mut wider, &fixture("init_small.safetensors"), 0.3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("init_small.safetensors"), "{e}");
    let e = load_pretrained(&mut wider, Path::new("nonesuch.pt"), 0.3)
        .unwrap_err()
        .to_string();
    assert!(e.contains("nonesuch.pt"), "{e}");
}
