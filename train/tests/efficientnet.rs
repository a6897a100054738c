//! The EfficientNets against Keras.
//!
//! Expected values: tests/fixtures/efficientnet_params.json, made by
//! tests/fixtures/make_efficientnet_params.py with TensorFlow/Keras's
//! `keras.applications.EfficientNetB0/B1/B2(include_top=False, weights=None)`.

use burn::module::Module;
use burn::tensor::Tensor;
use train::device::Cpu;
use train::model::efficientnet::{EfficientNet, Variant};

type B = Cpu;

#[test]
fn parameter_counts_match_keras() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/efficientnet_params.json")).unwrap();
    let device = Default::default();
    for m in fixture["models"].as_array().unwrap() {
        let variant = match m["variant"].as_str().unwrap() {
            "b0" => Variant::B0,
            "b1" => Variant::B1,
            _ => Variant::B2,
        };
        let channels = m["channels"].as_u64().unwrap() as usize;
        let net = EfficientNet::<B>::new(variant, channels, 0.2, &device);
        // Burn counts every tensor of the module, BatchNorm running statistics included, as
        // Keras's total does; Keras's total also holds its input Normalization layer's
        // statistics (a mean and a variance per channel and a count), which lensforge replaces
        // by its own preprocessing.
        let keras_normalization = 2 * channels as u64 + 1;
        assert_eq!(
            net.num_params() as u64,
            m["total"].as_u64().unwrap() - keras_normalization,
            "{variant:?}, {channels} channel(s)"
        );
        assert_eq!(net.features() as u64, m["features"].as_u64().unwrap());
    }
}

#[test]
fn native_resolutions_pass_through_without_resizing() {
    // VIS 200×200 and NIR 66×66 give one feature vector per image.
    let device = Default::default();
    let net = EfficientNet::<B>::new(Variant::B0, 3, 0.2, &device);
    for size in [66, 200] {
        let x = Tensor::<B, 4>::zeros([2, 3, size, size], &device);
        assert_eq!(net.forward(x, false).dims(), [2, 1280]);
    }
}
