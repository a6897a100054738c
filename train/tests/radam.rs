//! RAdam against optax's implementation of the published rule.
//!
//! Expected values: tests/fixtures/radam.json, made by tests/fixtures/make_radam.py with optax
//! (optax.radam, threshold 5) in double precision.

use burn::optim::SimpleOptimizer;
use burn::tensor::{Tensor, TensorData};
use train::device::Cpu;
use train::fit::radam::RAdamConfig;

type B = Cpu;

#[test]
fn twelve_steps_match_optax_across_the_rectification_threshold() {
    let f: serde_json::Value = serde_json::from_str(include_str!("fixtures/radam.json")).unwrap();
    let vec = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let opt = RAdamConfig::new()
        .with_beta_1(f["beta_1"].as_f64().unwrap())
        .with_beta_2(f["beta_2"].as_f64().unwrap())
        .with_epsilon(f["epsilon"].as_f64().unwrap())
        .with_threshold(f["threshold"].as_f64().unwrap())
        .build();
    let device = Default::default();
    let mut params =
        Tensor::<B, 1>::from_data(TensorData::from(vec(&f["initial"]).as_slice()), &device);
    let mut state = None;
    let lr = f["lr"].as_f64().unwrap();
    for (t, (g, want)) in f["gradients"]
        .as_array()
        .unwrap()
        .iter()
        .zip(f["params_after_each_step"].as_array().unwrap())
        .enumerate()
    {
        let grad = Tensor::<B, 1>::from_data(TensorData::from(vec(g).as_slice()), &device);
        let (p, s) = SimpleOptimizer::<B>::step(&opt, lr, params, grad, state);
        params = p;
        state = s;
        let got: Vec<f32> = params.to_data().to_vec().unwrap();
        for (a, b) in got.iter().zip(vec(want)) {
            // single precision: 1e-6 of parameters of order one
            assert!(
                (a - b).abs() < 2e-6,
                "step {}: {got:?} vs optax {:?}",
                t + 1,
                vec(want)
            );
        }
    }
}
