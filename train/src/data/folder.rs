//! A challenge folder of FITS stamps ([`format::stamps::ChallengeFolder`]) as a data source:
//! the objects' IDs come from the file names, the labels from the folder's catalogue by the
//! challenge's rule (the rule `sim` labels by; `train score` reads the same catalogue), and a
//! blind set without a catalogue has no labels.

use std::collections::HashMap;
use std::path::Path;

use format::stamps::ChallengeFolder;

use super::stamps::{bad, Stamps};
use super::DataError;

/// Opens the challenge folder `path`, reading its catalogue's labels when it has one.
pub fn open(path: &Path) -> Result<Stamps, DataError> {
    let folder = ChallengeFolder::open(path)?;
    let labels = match &folder.catalogue {
        None => Err(format!(
            "a blind set: no {} beside Public/, so no labels",
            folder.layout.catalogue_name()
        )),
        Some(catalogue) => {
            let truth = crate::evaluate::challenge::read_truth(catalogue)
                .map_err(|e| bad(catalogue, e.to_string()))?;
            let by_id: HashMap<u64, bool> = truth.ids.iter().copied().zip(truth.is_lens).collect();
            let labels = folder
                .ids
                .iter()
                .map(|id| {
                    by_id.get(id).copied().ok_or_else(|| {
                        bad(catalogue, format!("object {id} has stamps but no row here"))
                    })
                })
                .collect::<Result<_, _>>()?;
            Ok(labels)
        }
    };
    let paths = (0..folder.bands.len())
        .map(|b| {
            folder
                .ids
                .iter()
                .map(|&id| folder.stamp_path(b, id))
                .collect()
        })
        .collect();
    Stamps::new(
        &folder.root,
        folder.ids.iter().map(u64::to_string).collect(),
        folder.bands.iter().map(|(b, _)| b.clone()).collect(),
        paths,
        labels,
        None,
    )
}
