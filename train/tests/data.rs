//! Reading a small dataset written here in the format of DESIGN.md.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use ndarray::Array3;
use train::data::{Dataset, LabelRule};

fn write(path: &Path, version: u32) {
    let f = hdf5::File::create(path).unwrap();
    let s = |v: &str| v.parse::<VarLenUnicode>().unwrap();
    f.new_attr::<VarLenUnicode>()
        .create("format")
        .unwrap()
        .write_scalar(&s("lensforge-dataset"))
        .unwrap();
    f.new_attr::<u32>()
        .create("format_version")
        .unwrap()
        .write_scalar(&version)
        .unwrap();
    let img = f.create_group("images").unwrap();
    let vis = Array3::from_shape_fn((6, 4, 4), |(n, i, j)| (n * 100 + i * 4 + j) as f32);
    img.new_dataset_builder()
        .chunk((1, 4, 4))
        .with_data(&vis)
        .create("VIS")
        .unwrap();
    img.new_dataset_builder()
        .with_data(&Array3::<f32>::zeros((6, 2, 2)))
        .create("H")
        .unwrap();
    let cat = f.create_group("catalog").unwrap();
    cat.new_dataset_builder()
        .with_data(&[5i64, 30, 25, 40, 100, 21])
        .create("n_pix_source")
        .unwrap();
    cat.new_dataset_builder()
        .with_data(&[2.0f64, 1.5, 3.0, 1.7, 9.0, 1.61])
        .create("mag_eff_VIS")
        .unwrap();
    let lab = f.create_group("labels").unwrap();
    lab.new_dataset_builder()
        .with_data(&[0u8, 0, 1, 1, 1, 1])
        .create("is_lens")
        .unwrap();
}

#[test]
fn batches_columns_and_labels_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.h5");
    write(&path, 1);
    let d = Dataset::open(&path).unwrap();
    assert_eq!((d.len(), d.bands().len()), (6, 2));
    let batch = d.read_images("VIS", &[4, 1]).unwrap();
    assert_eq!(batch.dim(), (2, 4, 4));
    assert_eq!(batch[[0, 2, 3]], 411.0);
    assert_eq!(batch[[1, 0, 0]], 100.0);
    assert_eq!(d.column("n_pix_source").unwrap()[3], 40.0);
    assert_eq!(
        d.labels(None).unwrap(),
        vec![false, false, true, true, true, true]
    );
    // Relabelled with the II SGLC thresholds on the stored columns.
    let rule: LabelRule = "n_pix_source>20 and mag_eff_VIS>1.6".parse().unwrap();
    assert_eq!(
        d.labels(Some(&rule)).unwrap(),
        vec![false, false, true, true, true, true]
    );
    let strict: LabelRule = "n_pix_source>30".parse().unwrap();
    assert_eq!(
        d.labels(Some(&strict)).unwrap(),
        vec![false, false, false, true, true, false]
    );
    let missing: LabelRule = "n_pix>30".parse().unwrap();
    assert!(d
        .labels(Some(&missing))
        .unwrap_err()
        .to_string()
        .contains("n_pix"));
    assert!(d.read_images("VIS", &[6]).is_err());
}

#[test]
fn a_file_of_another_format_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.h5");
    write(&path, 2);
    let e = Dataset::open(&path).unwrap_err().to_string();
    assert!(e.contains("v2.h5") && e.contains("format_version 2"), "{e}");
}
