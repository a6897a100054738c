//! Issue #21: FITS cutouts read back. The WCS of each fixture (made by
//! tests/fixtures/make-cutouts.py with astropy) gives astropy's (RA, Dec) at the image centre
//! and corner and astropy's pixel scale; a SIN WCS is not taken for TAN. The same stamps listed
//! four ways (a folder of per-band files, a folder of multi-extension files, a CSV of per-band
//! paths, a CSV of multi-extension files) are the same objects with the same pixels; an object
//! missing a band is set aside naming the missing file; a gzipped stamp reads as the plain one,
//! and so do a tile-compressed one (as astropy decodes it) and one with NAXIS3 = 1.

use std::path::{Path, PathBuf};

use format::cutouts::Cutouts;
use format::stamps::read_stamp;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cutouts")
}

#[test]
fn tan_wcs_gives_astropys_positions_and_pixel_scale() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("wcs-expected.json")).unwrap(),
    )
    .unwrap();
    let cases = expected.as_object().unwrap();
    assert_eq!(cases.len(), 4);
    let pair = |v: &serde_json::Value| [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()];
    for (name, want) in cases {
        let s = read_stamp(&fixtures().join(format!("wcs/{name}.fits"))).unwrap();
        assert_eq!(s.shape, [8, 9], "{name}");
        let wcs = s.wcs.as_ref().unwrap();
        for (got, want) in [
            (s.centre().unwrap(), pair(&want["centre"])),
            (wcs.pixel_to_world([1.0, 1.0]), pair(&want["corner"])),
        ] {
            // Angular separation, small-angle: 1e-9 degrees is 4 µas.
            let dra =
                ((got[0] - want[0] + 180.0).rem_euclid(360.0) - 180.0) * want[1].to_radians().cos();
            let sep = dra.hypot(got[1] - want[1]);
            assert!(sep < 1e-9, "{name}: {got:?} vs astropy's {want:?}");
        }
        let scale = want["pixel_scale"].as_f64().unwrap();
        assert!((wcs.pixel_scale() - scale).abs() < 1e-9 * scale, "{name}");
        assert!(
            (s.pixel_scale.unwrap() - scale).abs() < 1e-9 * scale,
            "{name}"
        );
    }
    let sin = read_stamp(&fixtures().join("wcs/sin.fits")).unwrap();
    let why = sin.wcs.unwrap_err();
    assert!(why.contains("RA---SIN"), "{why}");
}

/// The pixels of every (band, object) stamp of a listing, in its band order given by `bands`.
fn pixels(c: &Cutouts, bands: &[&str]) -> Vec<Vec<Vec<f32>>> {
    bands
        .iter()
        .map(|b| {
            let k = c.bands.iter().position(|x| x == b).unwrap();
            c.stamps[k]
                .iter()
                .map(|s| s.as_ref().unwrap().read().unwrap().pixels)
                .collect()
        })
        .collect()
}

#[test]
fn four_listings_of_the_same_cutouts_agree() {
    let survey = fixtures().join("survey");
    let per_band = Cutouts::open_folder(&survey.join("per-band")).unwrap();
    let mef = Cutouts::open_folder(&survey.join("mef")).unwrap();
    let list = Cutouts::open_list(&survey.join("list.csv")).unwrap();
    let mef_list = Cutouts::open_list(&survey.join("mef-list.csv")).unwrap();
    let ids = ["g101", "g102", "g103", "g104"];
    let order = ["VIS", "Y", "J", "H"];
    assert_eq!(per_band.bands, ["H", "J", "VIS", "Y"]);
    for c in [&mef, &list, &mef_list] {
        assert_eq!(c.bands, order, "{}", c.origin.display());
    }
    let want = pixels(&per_band, &order);
    assert_eq!(want[0][0].len(), 40 * 40);
    assert_eq!(want[1][0].len(), 14 * 14);
    for c in [&per_band, &mef, &list, &mef_list] {
        assert_eq!(c.ids, ids, "{}", c.origin.display());
        assert!(c.strays.is_empty(), "{:?}", c.strays);
        assert_eq!(pixels(c, &order), want, "{}", c.origin.display());
    }
    // Labels and positions as the lists give them; a folder has neither.
    assert_eq!(list.labels.as_deref().unwrap(), [true, false, true, false]);
    assert_eq!(
        mef_list.labels.as_deref().unwrap(),
        [true, false, true, false]
    );
    assert!(per_band.labels.is_err() && mef.labels.is_err());
    assert_eq!(list.positions.as_ref().unwrap()[2], [150.0, 2.3]);
    assert!(mef_list.positions.is_none());
    // The stamps' own WCS puts each at the list's position (the fixtures are centred there).
    for (k, at) in list.stamps[0].iter().enumerate() {
        let c = at.as_ref().unwrap().read().unwrap().centre().unwrap();
        let p = list.positions.as_ref().unwrap()[k];
        assert!(
            (c[0] - p[0]).abs() < 1e-9 && (c[1] - p[1]).abs() < 1e-9,
            "{c:?} {p:?}"
        );
    }
    // A multi-extension stamp names its extension.
    assert!(mef.stamps[2][0]
        .as_ref()
        .unwrap()
        .to_string()
        .ends_with("g101.fits[J]"));
}

#[test]
fn an_object_missing_a_band_is_listed_naming_the_missing_file() {
    for c in [
        Cutouts::open_folder(&fixtures().join("survey/bad")).unwrap(),
        Cutouts::open_list(&fixtures().join("survey/bad-list.csv")).unwrap(),
    ] {
        assert_eq!(c.ids.len(), 9);
        let k = c.ids.iter().position(|i| i == "b4-missing").unwrap();
        let h = c.bands.iter().position(|b| b == "H").unwrap();
        let why = c.stamps[h][k].as_ref().unwrap_err();
        assert!(why.at.ends_with("bad/b4-missing_H.fits"), "{why:?}");
        assert!(why.reason.contains("band H"), "{why:?}");
        // Every other stamp is there; the file that is not FITS is named when read.
        let missing = c.stamps.iter().flatten().filter(|s| s.is_err()).count();
        assert_eq!(missing, 1);
        let k = c.ids.iter().position(|i| i == "b3-garbage").unwrap();
        let y = c.bands.iter().position(|b| b == "Y").unwrap();
        let e = c.stamps[y][k].as_ref().unwrap().read().unwrap_err();
        assert!(e.file.ends_with("bad/b3-garbage_Y.fits") && e.message.contains("not a FITS"));
    }
}

#[test]
fn a_gzipped_stamp_reads_as_the_plain_one() {
    let plain = fixtures().join("survey/per-band/g103_J.fits");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("g103_J.fits.gz");
    let bytes = std::fs::read(&plain).unwrap();
    std::fs::write(&gz, fitsio_pure::gzip::compress(&bytes, 6)).unwrap();
    assert_eq!(read_stamp(&gz).unwrap(), read_stamp(&plain).unwrap());
}

#[test]
fn a_folder_of_tile_compressed_stamps_reads_as_astropy_decodes_it() {
    // fixtures/make-fz-cutouts.py: RICE-compressed copies of two objects (their floats
    // quantised, so not the originals) and astropy's decoding of each, plain. Same objects,
    // bands, pixels (bit for bit), pixel scales and positions.
    let survey = fixtures().join("survey");
    let fz = Cutouts::open_folder(&survey.join("fz")).unwrap();
    let decoded = Cutouts::open_folder(&survey.join("fz-decoded")).unwrap();
    assert_eq!(fz.ids, ["g101", "g102"]);
    assert_eq!(fz.bands, ["H", "J", "VIS", "Y"]);
    assert!(fz.strays.is_empty(), "{:?}", fz.strays);
    let order = ["VIS", "Y", "J", "H"];
    assert_eq!(pixels(&fz, &order), pixels(&decoded, &order));
    let originals = Cutouts::open_folder(&survey.join("per-band")).unwrap();
    assert_ne!(pixels(&fz, &order)[0][0], pixels(&originals, &order)[0][0]);
    for (a, b) in fz
        .stamps
        .iter()
        .flatten()
        .zip(decoded.stamps.iter().flatten())
    {
        let (a, b) = (
            a.as_ref().unwrap().read().unwrap(),
            b.as_ref().unwrap().read().unwrap(),
        );
        assert_eq!(a.pixel_scale, b.pixel_scale);
        assert_eq!(a.centre().unwrap(), b.centre().unwrap());
    }
}

/// `plain` (a FITS file of one 2-D image of `plane_bytes` bytes) with a third axis of `planes`
/// (NAXIS3) after its second, the image repeated once a plane: a header edit, card by card.
fn with_third_axis(plain: &[u8], plane_bytes: usize, planes: usize) -> Vec<u8> {
    let cards: Vec<&[u8]> = plain.chunks(80).collect();
    let end = cards.iter().position(|c| c.starts_with(b"END ")).unwrap();
    let mut header: Vec<Vec<u8>> = Vec::new();
    for card in &cards[..end] {
        if card.starts_with(b"NAXIS   ") {
            header.push(format!("{:<80}", "NAXIS   =                    3").into_bytes());
        } else {
            header.push(card.to_vec());
        }
        if card.starts_with(b"NAXIS2  ") {
            let naxis3 = format!("NAXIS3  = {planes:>20}");
            header.push(format!("{naxis3:<80}").into_bytes());
        }
    }
    header.push(format!("{:<80}", "END").into_bytes());
    let mut out: Vec<u8> = header.concat();
    out.resize(out.len().div_ceil(2880) * 2880, b' ');
    let data_start = (end + 1).div_ceil(36) * 2880;
    let image = &plain[data_start..data_start + plane_bytes];
    for _ in 0..planes {
        out.extend_from_slice(image);
    }
    out.resize(out.len().div_ceil(2880) * 2880, 0);
    out
}

#[test]
fn a_third_axis_of_one_plane_is_read_and_of_more_refused_with_its_shape() {
    // NAXIS3 = 1, as some pipelines write one image: the same stamp as the plain file. Three
    // planes (a cube of bands, say) are not a stamp: refused, the shape named.
    let plain = fixtures().join("survey/per-band/g103_J.fits");
    let bytes = std::fs::read(&plain).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one_J.fits");
    // 14 × 14 float32 pixels (BITPIX = −32).
    let plane = 14 * 14 * 4;
    std::fs::write(&one, with_third_axis(&bytes, plane, 1)).unwrap();
    assert_eq!(read_stamp(&one).unwrap(), read_stamp(&plain).unwrap());
    let three = dir.path().join("three_J.fits");
    std::fs::write(&three, with_third_axis(&bytes, plane, 3)).unwrap();
    let e = read_stamp(&three).unwrap_err();
    assert!(e.file.ends_with("three_J.fits"), "{e}");
    assert!(e.message.contains("14 × 14 × 3"), "{e}");
}

#[test]
fn malformed_lists_are_refused_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let survey = fixtures().join("survey");
    let stamp = survey.join("per-band/g101_VIS.fits");
    let s = stamp.display();
    for (text, says) in [
        ("VIS\nx\n".to_string(), "no column `id`"),
        (format!("id,VIS\na,{s}\na,{s}\n"), "line 3: ID `a` again"),
        (format!("id,VIS,ra\na,{s},1\n"), "`ra` without `dec`"),
        (
            format!("id,VIS,ra,dec\na,{s},1,north\n"),
            "line 2, column `dec`",
        ),
        (format!("id,VIS,is_lens\na,{s},maybe\n"), "column `is_lens`"),
        (
            format!("id,VIS,file\na,{s},{s}\n"),
            "both a `file` column and band",
        ),
        ("id,VIS,VIS\n".to_string(), "twice"),
        ("id,VIS\n".to_string(), "no cutouts listed"),
        (
            format!("id,VIS,psf_K\na,{s},{s}\n"),
            "column `psf_K`: there is no band K",
        ),
    ] {
        let list = dir.path().join("list.csv");
        std::fs::write(&list, &text).unwrap();
        let e = Cutouts::open_list(&list).unwrap_err();
        assert!(e.message.contains(says), "{text:?}: {e:?}");
        assert_eq!(e.file, list);
    }
}

/// A `psf_<band>` column names each object's own PSF image in that band (an empty cell: none);
/// a PSF that is not there makes the object's stamp in that band a bad cutout naming the file.
#[test]
fn a_list_names_each_object_s_own_psf() {
    let dir = tempfile::tempdir().unwrap();
    let survey = fixtures().join("survey");
    let (vis, j) = (
        survey.join("per-band/g101_VIS.fits"),
        survey.join("per-band/g101_J.fits"),
    );
    let list = dir.path().join("list.csv");
    let text = format!(
        "id,VIS,psf_VIS\na,{},{}\nb,{},\nc,{},nowhere.fits\n",
        vis.display(),
        j.display(),
        vis.display(),
        vis.display()
    );
    std::fs::write(&list, text).unwrap();
    let c = Cutouts::open_list(&list).unwrap();
    assert_eq!(c.bands, vec!["VIS"]);
    assert_eq!(c.psf("VIS", 0), Some(j.as_path()));
    assert_eq!(c.psf("VIS", 1), None);
    assert!(c.stamps[0][1].is_ok());
    let bad = c.stamps[0][2].as_ref().unwrap_err();
    assert!(
        bad.reason.contains("nowhere.fits") || bad.at.contains("nowhere.fits"),
        "{bad:?}"
    );
    assert!(bad.reason.contains("PSF"), "{bad:?}");
}
