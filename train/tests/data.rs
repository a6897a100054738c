//! Reading a small dataset written here in the format of DESIGN.md.

use std::path::Path;

use format::h5::filters::filter_image;
use format::h5::{AttrValue, Dtype, Writer};
use train::data::{Dataset, LabelRule};

fn write(path: &Path, version: u32) {
    write_with(path, version, None)
}

/// `written`: a `systems_written` attribute, as `sim generate` records after every block.
fn write_with(path: &Path, version: u32, written: Option<u64>) {
    let mut f = Writer::create(path).unwrap();
    let root = f.root();
    f.set_attr(
        root,
        "format",
        AttrValue::Str(format::dataset::FORMAT.into()),
    )
    .unwrap();
    f.set_attr(root, "format_version", AttrValue::U32(version))
        .unwrap();
    if let Some(w) = written {
        f.set_attr(root, "systems_written", AttrValue::U64(w))
            .unwrap();
    }
    let img = f.create_group(root, "images").unwrap();
    let vis = f.create_images(img, "VIS", [6, 4, 4], 1).unwrap();
    let h = f.create_images(img, "H", [6, 2, 2], 1).unwrap();
    for n in 0..6 {
        let stamp: Vec<f32> = (0..16).map(|p| (n * 100 + p) as f32).collect();
        let c = filter_image(&stamp);
        f.write_chunk(vis, &c.bytes, c.filter_mask).unwrap();
        let c = filter_image(&[0.0; 4]);
        f.write_chunk(h, &c.bytes, c.filter_mask).unwrap();
    }
    let cat = f.create_group(root, "catalog").unwrap();
    let npix = f.create_column(cat, "n_pix_source", Dtype::I64, 6).unwrap();
    let bytes: Vec<u8> = [5i64, 30, 25, 40, 100, 21]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    f.write_column(npix, 0, &bytes).unwrap();
    let mag = f.create_column(cat, "mag_eff_VIS", Dtype::F64, 6).unwrap();
    let bytes: Vec<u8> = [2.0f64, 1.5, 3.0, 1.7, 9.0, 1.61]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    f.write_column(mag, 0, &bytes).unwrap();
    let lab = f.create_group(root, "labels").unwrap();
    let is_lens = f.create_column(lab, "is_lens", Dtype::U8, 6).unwrap();
    f.write_column(is_lens, 0, &[0, 0, 1, 1, 1, 1]).unwrap();
    f.finish().unwrap();
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

#[test]
fn a_partial_file_is_refused_with_what_it_holds() {
    // Issue #19: an interrupted run's file declares 6 systems and holds 3.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("part.h5");
    write_with(&path, 1, Some(3));
    let e = Dataset::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("part.h5") && e.contains("holds 3 of its 6 systems") && e.contains("--resume"),
        "{e}"
    );
    // Complete, it opens.
    write_with(&path, 1, Some(6));
    assert_eq!(Dataset::open(&path).unwrap().len(), 6);
}

#[test]
fn a_band_without_a_finite_pixel_stops_the_run_before_anything_is_written() {
    // Issue #19: a band whose sampled stamps hold no finite pixel cannot give clipping
    // bounds; the run is refused naming the band, and leaves no folder behind.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.h5");
    let mut f = Writer::create(&path).unwrap();
    let root = f.root();
    format::dataset::mark(&mut f).unwrap();
    let img = f.create_group(root, "images").unwrap();
    let bands = ["VIS", "H", "J", "Y"];
    let ids: Vec<_> = bands
        .iter()
        .map(|b| f.create_images(img, b, [12, 4, 4], 1).unwrap())
        .collect();
    for k in 0..12 {
        for (b, id) in bands.iter().zip(&ids) {
            let v = if *b == "H" { f32::NAN } else { k as f32 };
            let c = filter_image(&[v; 16]);
            f.write_chunk(*id, &c.bytes, c.filter_mask).unwrap();
        }
    }
    let lab = f.create_group(root, "labels").unwrap();
    let is_lens = f.create_column(lab, "is_lens", Dtype::U8, 12).unwrap();
    let labels: Vec<u8> = (0..12).map(|k| k % 2).collect();
    f.write_column(is_lens, 0, &labels).unwrap();
    f.finish().unwrap();

    let mut c = train::config::TrainConfig::default_config();
    c.data.file = path;
    c.data.test_fraction = 0.25;
    c.fit.folds = 3;
    let out = dir.path().join("run");
    let device = Default::default();
    let e = train::fit::kfold::run::<burn::backend::Autodiff<train::device::Cpu>>(
        &c,
        &out,
        false,
        &device,
        &mut |_| true,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("band H") && e.contains("no finite pixels"),
        "{e}"
    );
    assert!(!out.exists(), "the refused run left {out:?}");
}
