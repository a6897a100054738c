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

/// The network's parts, applied one after another, are its forward pass (the stem, every
/// block, the top and pooling: the pooled features, to rounding); and `train bench --by-part`
/// times exactly those parts of each branch, each on the input the one before it gives (the
/// stride-2 stem halves a side, TensorFlow's "same" padding rounding up).
#[test]
fn the_parts_make_the_forward_pass_and_the_bench_times_each() {
    use burn::tensor::Distribution;
    use train::model::two_branch::Branches;
    let device = Default::default();
    let net = EfficientNet::<B>::new(Variant::B0, 3, 0.2, &device);
    let x = Tensor::<B, 4>::random([2, 3, 33, 33], Distribution::Default, &device);
    let whole = net.forward(x.clone(), false);
    let mut h = x;
    for i in 0..net.parts() {
        h = net.forward_part(i, h, false);
    }
    let by_parts = h.reshape([2, net.features()]);
    let diff: f32 = (whole - by_parts).abs().max().into_scalar();
    assert!(diff < 1e-5, "parts differ from the whole by {diff}");
    assert_eq!(
        (
            net.parts(),
            net.part_name(0),
            net.part_name(1),
            net.part_name(17)
        ),
        (18, "stem".into(), "block 0".into(), "top".into())
    );

    let parts = train::bench::efficientnet_parts::<burn::backend::Autodiff<B>>(
        Variant::B0,
        Branches::Both,
        2,
        1,
        (33, 20),
        &device,
    )
    .unwrap();
    assert_eq!(parts.len(), 2 * 18);
    let (vis, nir) = parts.split_at(18);
    assert!(vis.iter().all(|p| p.branch == "VIS") && nir.iter().all(|p| p.branch == "NIR"));
    assert_eq!(
        (vis[0].input, vis[1].input),
        ([2, 1, 33, 33], [2, 32, 17, 17])
    );
    assert_eq!(
        (nir[0].input, nir[1].input),
        ([2, 3, 20, 20], [2, 32, 10, 10])
    );
    assert_eq!((vis[17].part.as_str(), vis[17].input[1]), ("top", 320));
    assert!(parts.iter().all(|p| p.seconds > 0.0));
    let table = train::bench::parts_table(&parts, 1.0);
    assert_eq!(table.lines().count(), 1 + 36 + 1, "{table}");
    // The whole step, and phase by phase only where asked.
    let net = train::bench::BenchNet::EfficientNet(Variant::B0);
    for phases in [false, true] {
        let step = train::bench::training_steps::<burn::backend::Autodiff<B>>(
            net,
            Branches::Both,
            2,
            1,
            (33, 20),
            phases,
            &device,
        )
        .unwrap();
        assert!(step.seconds_per_step > 0.0);
        assert_eq!(step.phases.is_some(), phases);
        assert!(step.phases.is_none_or(|p| p.iter().all(|&s| s > 0.0)));
    }
}
