//! Models saved before lensforge computed depthwise convolutions and BatchNorm with its own
//! operations (`train::ops`) still load, and still compute what they computed then.
//!
//! Expected values: tests/fixtures/compat_model.mpk and compat_model.json, written by the
//! ignored test `make_compat_fixture` below at commit f8d1909 (Burn's `Conv2d` with groups and
//! Burn's `BatchNorm` inside every MBConv block). The network is a small two-branch lens finder
//! (width 0.1, depth 0.25) whose BatchNorm running statistics were moved away from their initial
//! values by three training-mode passes (momentum 0.9, on images close to those evaluated), so
//! that evaluation exercises them.

#[path = "common/op_checks.rs"]
mod op_checks;
use burn::backend::Autodiff;
use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder};
use burn::tensor::Tensor;
use train::device::Cpu;
use train::model::two_branch::{Branches, LensFinder, VisChannels};

type Ad = Autodiff<Cpu>;

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Deterministic, RNG-free images [batch, channels, size, size]: the shared ones, unshifted.
fn images<B: burn::tensor::backend::Backend>(
    batch: usize,
    channels: usize,
    size: usize,
    device: &B::Device,
) -> Tensor<B, 4> {
    op_checks::images(batch, channels, size, 0.0, device)
}

fn small<B: train::ops::TrainOps>(device: &B::Device) -> LensFinder<B> {
    LensFinder::<B>::scaled(
        0.1,
        0.25,
        0.9,
        Branches::Both,
        VisChannels::Repeated,
        3,
        device,
    )
}

/// (eval logits on the CPU backend, batch-statistics logits on the autodiff backend, the sum of
/// the autodiff logits' gradient squared over every parameter).
fn outputs(net_path: &std::path::Path) -> (Vec<f32>, Vec<f32>, f64) {
    let device = Default::default();
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let net = small::<Cpu>(&device)
        .load_file(net_path, &recorder, &device)
        .unwrap();
    let eval: Vec<f32> = net
        .forward(
            Some(images(3, 1, 48, &device)),
            Some(images(3, 3, 24, &device)),
            false,
        )
        .into_data()
        .to_vec()
        .unwrap();
    let net = small::<Ad>(&device)
        .load_file(net_path, &recorder, &device)
        .unwrap();
    let logits = net.forward(
        Some(images(3, 1, 48, &device)),
        Some(images(3, 3, 24, &device)),
        false,
    );
    let batch: Vec<f32> = logits.clone().into_data().to_vec().unwrap();
    let grads = logits.sum().backward();
    let mut norm = 0.0f64;
    struct Norm<'a> {
        grads: &'a <Ad as burn::tensor::backend::AutodiffBackend>::Gradients,
        sum: &'a mut f64,
    }
    impl burn::module::ModuleVisitor<Ad> for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<Ad, D>>) {
            if let Some(g) = param.val().grad(self.grads) {
                let v: Vec<f32> = g.into_data().to_vec().unwrap();
                *self.sum += v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>();
            }
        }
    }
    net.visit(&mut Norm {
        grads: &grads,
        sum: &mut norm,
    });
    (eval, batch, norm)
}

#[test]
#[ignore = "writes the fixture; run once, at the commit named in the module's doc"]
fn make_compat_fixture() {
    let device = Default::default();
    <Ad as burn::tensor::backend::Backend>::seed(&device, 7);
    let mut net = small::<Ad>(&device);
    // Three training-mode passes move the running statistics.
    for k in 0..3 {
        let _ = net.forward(
            Some(images(3, 1, 48, &device).mul_scalar(1.0 + 0.1 * k as f32)),
            Some(images(3, 3, 24, &device).add_scalar(0.1 * k as f32)),
            false,
        );
    }
    net = net.no_grad();
    let recorder = NamedMpkFileRecorder::<FullPrecisionSettings>::new();
    let path = fixture("compat_model.mpk");
    net.save_file(&path, &recorder).unwrap();
    let (eval, batch, grad_norm) = outputs(&path);
    let json = serde_json::json!({
        "made_by": "train/tests/model_compat.rs make_compat_fixture at commit f8d1909",
        "eval_logits": eval,
        "batch_stat_logits": batch,
        "grad_sum_of_squares": grad_norm,
    });
    std::fs::write(
        fixture("compat_model.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .unwrap();
}

#[test]
fn models_saved_before_the_own_ops_load_and_compute_the_same() {
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("compat_model.json")).unwrap())
            .unwrap();
    let (eval, batch, grad_norm) = outputs(&fixture("compat_model.mpk"));
    let close = |got: &[f32], key: &str| {
        let want: Vec<f64> = want[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{key}");
        for (g, w) in got.iter().zip(&want) {
            // f32 arithmetic summed in another order: 1e-4 of the logit (plus 1e-5 absolute).
            assert!(
                (*g as f64 - w).abs() <= 1e-4 * w.abs() + 1e-5,
                "{key}: {g} now, {w} at f8d1909"
            );
        }
    };
    close(&eval, "eval_logits");
    close(&batch, "batch_stat_logits");
    let w = want["grad_sum_of_squares"].as_f64().unwrap();
    assert!(
        (grad_norm - w).abs() <= 1e-3 * w,
        "sum of squared gradients {grad_norm} now, {w} at f8d1909"
    );
}
