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
}
