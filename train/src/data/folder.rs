//! A challenge folder of FITS stamps ([`format::stamps::ChallengeFolder`]) as a listing of
//! cutouts: the objects' IDs come from the file names, the labels from the folder's catalogue by
//! the challenge's rule (the rule `sim` labels by; `train score` reads the same catalogue), and a
//! blind set without a catalogue has no labels.

use std::collections::HashMap;
use std::path::Path;

use format::cutouts::Cutouts;
use format::stamps::{ChallengeFolder, StampRef};

use super::DataError;

fn bad(file: &Path, message: impl Into<String>) -> DataError {
    DataError::Format {
        file: file.to_path_buf(),
        message: message.into(),
    }
}

/// Lists the challenge folder `path`, reading its catalogue's labels when it has one.
pub fn open(path: &Path) -> Result<Cutouts, DataError> {
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
    let stamps = (0..folder.bands.len())
        .map(|b| {
            folder
                .ids
                .iter()
                .map(
                    |&id| match folder.missing[b].iter().find(|(m, _)| *m == id) {
                        Some((_, why)) => Err(why.clone()),
                        None => Ok(StampRef::file(folder.stamp_path(b, id))),
                    },
                )
                .collect()
        })
        .collect();
    Ok(Cutouts {
        origin: folder.root.clone(),
        ids: folder.ids.iter().map(u64::to_string).collect(),
        bands: folder.bands.iter().map(|(b, _)| b.clone()).collect(),
        stamps,
        labels,
        positions: None,
        strays: Vec::new(),
        psfs: Vec::new(),
    })
}
