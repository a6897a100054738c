//! Files of format::h5::Writer read back by hdf5-pure, an independent HDF5 implementation:
//! every attribute, column, image and filter as written, at every flush.

use format::h5::filters::{filter_image, DEFLATE_SKIPPED};
use format::h5::{AttrValue, Dtype, Writer};
use hdf5_pure::AttrValue as Read;

fn image(k: usize, side: usize) -> Vec<f32> {
    (0..side * side)
        .map(|p| (k * 1000 + p) as f32 * 0.5 - 3.0)
        .collect()
}

fn noise(side: usize, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..side * side)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            f32::from_bits((state as u32) & 0x7f7f_ffff)
        })
        .collect()
}

/// A file of `n` systems of two bands, written in blocks of `block` with a flush after each.
fn write(path: &std::path::Path, n: usize, block: usize, flush_at_end: bool) -> Vec<Vec<f32>> {
    let mut w = Writer::create(path).unwrap();
    let root = w.root();
    w.set_attr(root, "format", AttrValue::Str("lensforge-dataset".into()))
        .unwrap();
    w.set_attr(root, "format_version", AttrValue::U32(1))
        .unwrap();
    w.set_attr(root, "seed", AttrValue::U64(u64::MAX - 1))
        .unwrap();
    w.set_attr(
        root,
        "config",
        AttrValue::Str("a = 1\nb = \"é\"\n".repeat(500)),
    )
    .unwrap();
    let images = w.create_group(root, "images").unwrap();
    let vis = w.create_images(images, "VIS", [n as u64, 7, 7], 1).unwrap();
    let y = w.create_images(images, "Y", [n as u64, 3, 3], 1).unwrap();
    let catalog = w.create_group(root, "catalog").unwrap();
    let id = w
        .create_column(catalog, "id", Dtype::I64, n as u64)
        .unwrap();
    let z = w
        .create_column(catalog, "z_lens", Dtype::F64, n as u64)
        .unwrap();
    let labels = w.create_group(root, "labels").unwrap();
    let is_lens = w
        .create_column(labels, "is_lens", Dtype::U8, n as u64)
        .unwrap();
    w.set_attr(is_lens, "min_mag_eff", AttrValue::F64(1.6))
        .unwrap();
    w.set_attr(is_lens, "detection_band", AttrValue::Str("VIS".into()))
        .unwrap();
    let mut vis_images = Vec::new();
    let mut a = 0;
    while a < n {
        let b = (a + block).min(n);
        for k in a..b {
            // Every fifth system is noise, whose deflate is skipped.
            let img = if k % 5 == 3 {
                noise(7, k as u64 + 1)
            } else {
                image(k, 7)
            };
            let c = filter_image(&img);
            w.write_chunk(vis, &c.bytes, c.filter_mask).unwrap();
            vis_images.push(img);
            let c = filter_image(&image(k, 3));
            w.write_chunk(y, &c.bytes, c.filter_mask).unwrap();
        }
        let ids: Vec<u8> = (a as i64..b as i64).flat_map(|v| v.to_le_bytes()).collect();
        w.write_column(id, a as u64, &ids).unwrap();
        let zs: Vec<u8> = (a..b)
            .flat_map(|v| (v as f64 / 8.0).to_le_bytes())
            .collect();
        w.write_column(z, a as u64, &zs).unwrap();
        let ls: Vec<u8> = (a..b).map(|v| (v % 2) as u8).collect();
        w.write_column(is_lens, a as u64, &ls).unwrap();
        w.set_attr(root, "systems_written", AttrValue::U64(b as u64))
            .unwrap();
        if b < n || flush_at_end {
            w.flush().unwrap();
        }
        a = b;
    }
    if flush_at_end {
        w.finish().unwrap();
    }
    vis_images
}

fn check(path: &std::path::Path, n: usize, vis_images: &[Vec<f32>]) {
    let f = hdf5_pure::File::open(path).unwrap();
    let attrs = f.root().attrs().unwrap();
    assert_eq!(
        attrs["format"],
        Read::VarLenString("lensforge-dataset".into())
    );
    assert_eq!(attrs["format_version"].as_u64(), Some(1));
    assert_eq!(attrs["seed"].as_u64(), Some(u64::MAX - 1));
    assert_eq!(
        attrs["config"].as_str(),
        Some("a = 1\nb = \"é\"\n".repeat(500).as_str())
    );
    assert_eq!(attrs["systems_written"].as_u64(), Some(n as u64));

    let vis = f.dataset("images/VIS").unwrap();
    assert_eq!(vis.shape().unwrap(), vec![n as u64, 7, 7]);
    assert_eq!(vis.chunk_shape().unwrap(), Some(vec![1, 7, 7]));
    assert_eq!(vis.filters(), vec![2, 1]);
    let chunks = vis.chunks().unwrap();
    assert_eq!(chunks.len(), n);
    for (k, c) in chunks.iter().enumerate() {
        assert_eq!(c.offset, vec![k as u64, 0, 0]);
        let skipped = if k % 5 == 3 { DEFLATE_SKIPPED } else { 0 };
        assert_eq!(c.filter_mask, skipped, "chunk {k}");
    }
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let all = vis.read_f32().unwrap();
    let want: Vec<f32> = vis_images.concat();
    assert_eq!(bits(&all), bits(&want));
    let y = f.dataset("images/Y").unwrap().read_f32().unwrap();
    assert_eq!(y, (0..n).flat_map(|k| image(k, 3)).collect::<Vec<_>>());

    let ids = f.dataset("catalog/id").unwrap().read_i64().unwrap();
    assert_eq!(ids, (0..n as i64).collect::<Vec<_>>());
    let z = f.dataset("catalog/z_lens").unwrap().read_f64().unwrap();
    assert_eq!(z, (0..n).map(|v| v as f64 / 8.0).collect::<Vec<_>>());
    let labels = f.dataset("labels/is_lens").unwrap();
    assert_eq!(
        labels.read_u8().unwrap(),
        (0..n).map(|v| (v % 2) as u8).collect::<Vec<_>>()
    );
    let la = labels.attrs().unwrap();
    assert_eq!(la["min_mag_eff"].as_f64(), Some(1.6));
    assert_eq!(la["detection_band"].as_str(), Some("VIS"));
}

#[test]
fn a_written_file_reads_back_through_hdf5_pure() {
    let dir = tempfile::tempdir().unwrap();
    // One leaf of the chunk tree, then two levels (65 chunks), then three (4097 chunks).
    for (n, block) in [(10, 3), (65, 64), (200, 17), (4097, 1000)] {
        let path = dir.path().join(format!("set{n}.h5"));
        let images = write(&path, n, block, true);
        check(&path, n, &images);
    }
}

#[test]
fn a_file_between_flushes_reads_as_its_last_flush() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.h5");
    // 130 systems in blocks of 50, no flush after the last: the file is the one of 100.
    let images = write(&path, 130, 50, false);
    let f = hdf5_pure::File::open(&path).unwrap();
    assert_eq!(
        f.root().attrs().unwrap()["systems_written"].as_u64(),
        Some(100)
    );
    let vis = f.dataset("images/VIS").unwrap();
    assert_eq!(vis.shape().unwrap(), vec![130, 7, 7]);
    assert_eq!(vis.chunks().unwrap().len(), 100);
    let first: Vec<f32> = vis.read_f32_rows(0, 100).unwrap();
    assert_eq!(first, images[..100].concat());
}

#[test]
fn an_empty_dataset_is_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.h5");
    write(&path, 0, 1, true);
    let mut w = Writer::create(&path).unwrap();
    let root = w.root();
    let g = w.create_group(root, "images").unwrap();
    w.create_images(g, "VIS", [0, 5, 5], 1).unwrap();
    w.create_column(root, "id", Dtype::I64, 0).unwrap();
    w.finish().unwrap();
    let f = hdf5_pure::File::open(&path).unwrap();
    assert_eq!(
        f.dataset("images/VIS").unwrap().shape().unwrap(),
        vec![0, 5, 5]
    );
    assert!(f.dataset("id").unwrap().read_i64().unwrap().is_empty());
}

#[test]
fn the_writer_refuses_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Writer::create(&dir.path().join("bad.h5")).unwrap();
    let root = w.root();
    let im = w.create_images(root, "VIS", [1, 2, 2], 1).unwrap();
    let col = w.create_column(root, "id", Dtype::I64, 2).unwrap();
    assert!(
        w.create_group(root, "VIS").is_err(),
        "a second link of one name"
    );
    assert!(w.create_group(root, "a/b").is_err(), "a name with a slash");
    assert!(w.create_group(im, "x").is_err(), "a child of a dataset");
    w.write_chunk(im, &[0; 16], DEFLATE_SKIPPED).unwrap();
    assert!(
        w.write_chunk(im, &[0; 16], DEFLATE_SKIPPED).is_err(),
        "a chunk too many"
    );
    assert!(w.write_column(col, 1, &[0; 16]).is_err(), "past the end");
    assert!(
        w.write_column(col, 0, &[0; 7]).is_err(),
        "not whole elements"
    );
    assert!(
        w.write_chunk(col, &[0; 4], 0).is_err(),
        "a chunk into a column"
    );
}
