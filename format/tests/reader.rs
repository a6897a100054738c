//! format::h5::H5File reads what other programs write: h5py in libhdf5's oldest and newest
//! structures (fixtures/make-h5py-fixtures.py), and a dataset that `sim generate` wrote through
//! libhdf5 1.10 (lensforge at 48e5af3, fixtures/tiny-libhdf5.h5). The stamps' fast path (chunks
//! decoded here) is checked against the formula the fixtures were written from and against
//! hdf5-pure's own decoding.

use std::path::PathBuf;

use format::h5::H5File;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Pixel (k, i, j) of a band of side s in the h5py fixtures: (k·1000 + i·s + j)·0.5 − 3.
fn stamps(side: usize, indices: &[usize]) -> Vec<f32> {
    indices
        .iter()
        .flat_map(|&k| (0..side * side).map(move |p| ((k * 1000 + p) as f32) * 0.5 - 3.0))
        .collect()
}

#[test]
fn h5py_files_read_in_every_storage() {
    for name in ["h5py-earliest.h5", "h5py-v112.h5"] {
        let f = H5File::open(&fixture(name)).unwrap();
        let attrs = f.group_attrs("/").unwrap();
        assert_eq!(
            attrs["format"].as_str(),
            Some("lensforge-dataset"),
            "{name}"
        );
        assert_eq!(attrs["format_version"].as_u64(), Some(1));
        assert_eq!(attrs["seed"].as_u64(), Some(7));
        let mut bands = f.dataset_names("images").unwrap();
        bands.sort();
        assert_eq!(bands, ["H", "J", "VIS", "Y"]);
        for (band, side) in [("VIS", 6), ("Y", 3), ("J", 3), ("H", 3)] {
            let im = f.images(&format!("images/{band}")).unwrap();
            assert_eq!(im.shape(), [5, side, side]);
            assert_eq!(im.read_range(0, 5).unwrap(), stamps(side, &[0, 1, 2, 3, 4]));
            let picks = [4, 0, 3, 3];
            let mut out = vec![0f32; 4 * side * side];
            im.read_many(&picks, &mut out).unwrap();
            assert_eq!(out, stamps(side, &picks), "{name} {band}");
        }
        let ids = f.dataset("catalog/id").unwrap().read_i64().unwrap();
        assert_eq!(ids, [0, 1, 2, 3, 4]);
        let labels = f.dataset("labels/is_lens").unwrap();
        assert_eq!(labels.read_u8().unwrap(), [0, 1, 0, 1, 0]);
        assert_eq!(
            labels.attrs().unwrap()["detection_band"].as_str(),
            Some("VIS")
        );
    }
}

#[test]
fn a_libhdf5_dataset_reads_as_hdf5_pure_decodes_it() {
    let f = H5File::open(&fixture("tiny-libhdf5.h5")).unwrap();
    let attrs = f.group_attrs("").unwrap();
    assert_eq!(attrs["survey"].as_str(), Some("euclid"));
    assert_eq!(attrs["systems_written"].as_u64(), Some(5));
    for band in ["VIS", "Y", "J", "H"] {
        let path = format!("images/{band}");
        let im = f.images(&path).unwrap();
        let ours = im.read_range(0, 5).unwrap();
        let theirs = f.dataset(&path).unwrap().read_f32().unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&ours), bits(&theirs), "{band}");
        assert!(ours.iter().any(|&v| v != 0.0));
    }
}

#[test]
fn what_is_not_a_stamp_or_not_there_is_an_error_naming_it() {
    let f = H5File::open(&fixture("h5py-v112.h5")).unwrap();
    let e = f.images("catalog/id").unwrap_err().to_string();
    assert!(
        e.contains("h5py-v112.h5") && e.contains("/catalog/id"),
        "{e}"
    );
    let e = f.images("images/NOPE").unwrap_err().to_string();
    assert!(e.contains("/images/NOPE"), "{e}");
    let im = f.images("images/VIS").unwrap();
    let e = im.read_into(5, &mut [0.0; 36]).unwrap_err().to_string();
    assert!(e.contains("stamp 5 of 5"), "{e}");
    let e = H5File::open(&fixture("make-h5py-fixtures.py"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a readable HDF5 file"), "{e}");
}
