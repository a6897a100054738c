//! `sim merge`: shards of one run joined into one file, equal to what the whole run writes.

use std::path::{Path, PathBuf};

use super::hdf5::DatasetWriter;
use super::read::DatasetFile;
use crate::error::{Error, Result};
use crate::run_config::RunConfig;

/// Joins `inputs` (shards of one run, in any order) into `out`. They must hold the same
/// configuration, survey and seed, and their index ranges must tile [0, N) without gap or
/// overlap; the error names the file that breaks a rule. Returns the number of systems.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<u64> {
    if inputs.is_empty() {
        return Err(Error::InvalidSpec {
            file: out.into(),
            field: "inputs".into(),
            reason: "no shard files given".into(),
        });
    }
    super::refuse_folder(out, "--out")?;
    // The output replaces its file only when complete, but an input read while it is replaced
    // would be lost: refuse to merge onto an input.
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if let Some(p) = inputs.iter().find(|p| same(p, out)) {
        return Err(Error::InvalidSpec {
            file: p.clone(),
            field: "--out".into(),
            reason: "is also an input: write the merged file under another name".into(),
        });
    }
    let mut files = inputs
        .iter()
        .map(|p| DatasetFile::open(p).map(|f| (p.clone(), f)))
        .collect::<Result<Vec<_>>>()?;
    let bad = |file: &Path, reason: String| Error::InvalidSpec {
        file: file.into(),
        field: "(shard)".into(),
        reason,
    };
    let (p0, f0) = &files[0];
    let config = RunConfig::from_toml(&f0.attrs.config, p0)?;
    // An empty shard (a run of fewer systems than shards) holds no catalogue column: the
    // columns are compared between the shards that hold systems.
    let (pc, fc) = files.iter().find(|(_, f)| f.n > 0).unwrap_or(&files[0]);
    for (p, f) in &files[1..] {
        if f.attrs.config != f0.attrs.config
            || f.attrs.seed != f0.attrs.seed
            || f.attrs.survey != f0.attrs.survey
            || f.attrs.n_total != f0.attrs.n_total
        {
            return Err(bad(
                p,
                format!(
                    "comes from a different run than {} (configuration, seed or size differ)",
                    p0.display()
                ),
            ));
        }
        if f.bands != f0.bands {
            return Err(bad(p, format!("holds other bands than {}", p0.display())));
        }
        if f.n > 0 && f.columns != fc.columns {
            return Err(bad(
                p,
                format!("holds other catalogue columns than {}", pc.display()),
            ));
        }
    }
    let n_total = f0.attrs.n_total;
    files.sort_by_key(|(_, f)| f.attrs.first_index);
    let mut next = 0u64;
    for (p, f) in &files {
        let first = f.attrs.first_index;
        if first != next {
            let what = if first > next { "a gap" } else { "an overlap" };
            return Err(bad(
                p,
                format!("starts at system {first} but the shards before it end at {next}: {what}"),
            ));
        }
        next = first + f.n as u64;
    }
    if next != n_total {
        return Err(bad(
            &files.last().expect("non-empty").0,
            format!("the shards end at system {next} but the run has {n_total}"),
        ));
    }
    let attrs = config.attributes(0)?;
    let mut writer = DatasetWriter::create(out, &attrs, config.layout(n_total as usize))?;
    let copied = files
        .iter()
        .try_for_each(|(_, f)| writer.copy_from(f, 0, f.n));
    match copied {
        Ok(()) => {
            writer.finish()?;
            Ok(n_total)
        }
        Err(e) => {
            let _ = std::fs::remove_file(super::hdf5::temporary_path(out));
            Err(e)
        }
    }
}
