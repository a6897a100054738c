//! What `sim` writes, `train` reads: a rendered system opened as a training dataset.

use std::path::Path;

use sim::observe::Survey;
use sim::render::{render_spec, RenderOptions};
use sim::spec::SystemSpec;
use train::data::{Dataset, LabelRule};

#[test]
fn a_rendered_system_reads_back_as_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one.h5");
    let survey = Survey::load("euclid").unwrap();
    let r = render_spec(
        &SystemSpec::example(),
        Path::new("example"),
        &survey,
        &RenderOptions::default(),
        &out,
        None,
        None,
    )
    .unwrap();
    let d = Dataset::open(&out).unwrap();
    assert_eq!(d.len(), 1);
    assert_eq!(d.bands().len(), 4);
    let vis = d.read_images("VIS", &[0]).unwrap();
    assert_eq!(vis.dim(), (1, 200, 200));
    assert_eq!(vis.slice(ndarray::s![0, .., ..]), r.observed[0].image);
    // The stored label equals the II SGLC rule re-applied to the stored catalogue.
    let rule: LabelRule = "n_source_groups>=1 and n_pix_source>20 and mag_eff_VIS>1.6 and mag_eff_Y>1.6 and mag_eff_J>1.6 and mag_eff_H>1.6"
        .parse()
        .unwrap();
    assert_eq!(d.labels(None).unwrap(), d.labels(Some(&rule)).unwrap());
    assert_eq!(d.labels(None).unwrap(), vec![r.labels.is_lens]);

    // Ray-traced through the batch-renderer interface (`sim render --device`'s path, here
    // with the CPU behind it), the file holds the same images, catalogue and label.
    let batched = dir.path().join("batched.h5");
    let renderer = sim::raytrace::CpuBatchRenderer;
    let rb = render_spec(
        &SystemSpec::example(),
        Path::new("example"),
        &survey,
        &RenderOptions::default(),
        &batched,
        None,
        Some(&renderer),
    )
    .unwrap();
    let db = Dataset::open(&batched).unwrap();
    for band in ["VIS", "Y", "J", "H"] {
        assert_eq!(
            d.read_images(band, &[0]).unwrap(),
            db.read_images(band, &[0]).unwrap(),
            "{band}"
        );
    }
    for column in [
        "n_pix_source",
        "mag_eff_VIS",
        "mag_eff_H",
        "lensed_source_flux_VIS",
    ] {
        assert_eq!(d.column(column).unwrap(), db.column(column).unwrap());
    }
    assert_eq!(db.labels(None).unwrap(), vec![rb.labels.is_lens]);

    // A renderer that fails, or returns too few bands, stops the render with its reason,
    // and leaves no file.
    #[derive(Debug)]
    struct Faulty {
        fails: bool,
    }
    impl sim::raytrace::BatchRenderer for Faulty {
        fn describe(&self) -> String {
            "a renderer that loses a band".into()
        }
        fn render_batch(
            &self,
            systems: &[&sim::raytrace::System],
            bands: &[sim::raytrace::BandGrid],
            supersample: usize,
        ) -> Result<Vec<Vec<sim::raytrace::BandImage>>, String> {
            if self.fails {
                return Err("out of memory".into());
            }
            let mut images = sim::raytrace::render(systems[0], bands, supersample);
            images.pop();
            Ok(vec![images])
        }
    }
    for (fails, why) in [
        (true, "GPU: out of memory"),
        (false, "did not return one image per band"),
    ] {
        let failed = dir.path().join("failed.h5");
        let e = render_spec(
            &SystemSpec::example(),
            Path::new("example"),
            &survey,
            &RenderOptions::default(),
            &failed,
            None,
            Some(&Faulty { fails }),
        )
        .unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
        assert!(!failed.exists());
    }
}
