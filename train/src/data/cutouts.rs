//! A list of cutouts as a data source: a CSV with an `id` column, one column per band holding
//! the path of that band's FITS stamp (relative to the list's folder, or absolute), optionally
//! `ra` and `dec` (degrees, both or neither) and `is_lens` (1/0 or true/false). Every other
//! column is a band, named as the network's bands are (`--vis-band`, `--nir-bands`). This is
//! how a survey's own cutouts are pointed at a trained finder.

use std::collections::HashMap;
use std::path::Path;

use super::stamps::{bad, Stamps};
use super::DataError;
use crate::combine::tables::{label, number, repeated_column, repeated_message};

/// Reads the list `list`, refusing (with its line) a row with no ID, a repeated ID, an
/// empty path or one that is not a file, a position that is not a number, or a label that
/// is not one.
pub fn open(list: &Path) -> Result<Stamps, DataError> {
    let table_err = |e: crate::combine::tables::TableError| bad(list, e.to_string());
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(list)
        .map_err(|e| bad(list, e.to_string()))?;
    let header = reader
        .headers()
        .map_err(|e| bad(list, e.to_string()))?
        .clone();
    if let Some(c) = repeated_column(&header) {
        return Err(bad(list, repeated_message(&c)));
    }
    let at = |name: &str| header.iter().position(|h| h == name);
    let id_at = at("id").ok_or_else(|| {
        bad(
            list,
            "no column `id`: a list of cutouts has `id`, one path column per band, and \
             optionally `ra`, `dec` and `is_lens`",
        )
    })?;
    let (ra_at, dec_at, lens_at) = (at("ra"), at("dec"), at("is_lens"));
    if ra_at.is_some() != dec_at.is_some() {
        return Err(bad(list, "`ra` without `dec` or `dec` without `ra`"));
    }
    let special = [Some(id_at), ra_at, dec_at, lens_at];
    let band_at: Vec<usize> = (0..header.len())
        .filter(|k| !special.contains(&Some(*k)))
        .collect();
    if band_at.is_empty() {
        return Err(bad(list, "no band columns (one path column per band)"));
    }
    let bands: Vec<String> = band_at.iter().map(|&k| header[k].to_string()).collect();
    let folder = list.parent().unwrap_or(Path::new("."));
    let mut ids = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut paths = vec![Vec::new(); bands.len()];
    let (mut labels, mut positions) = (Vec::new(), Vec::new());
    for record in reader.records() {
        let record = record.map_err(|e| bad(list, e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |k: usize| record.get(k).unwrap_or("");
        let id = field(id_at).to_string();
        if id.is_empty() {
            return Err(bad(list, format!("line {line}: no ID")));
        }
        if let Some(first) = seen.insert(id.clone(), line) {
            return Err(bad(
                list,
                format!("line {line}: ID `{id}` again (first on line {first})"),
            ));
        }
        for (b, &k) in band_at.iter().enumerate() {
            let text = field(k);
            if text.is_empty() {
                return Err(bad(
                    list,
                    format!(
                        "line {line}: object `{id}` has no stamp in band {}",
                        bands[b]
                    ),
                ));
            }
            let path = folder.join(text);
            if !path.is_file() {
                return Err(bad(
                    &path,
                    format!(
                        "no such stamp (line {line} of {}, band {})",
                        list.display(),
                        bands[b]
                    ),
                ));
            }
            paths[b].push(path);
        }
        if let (Some(r), Some(d)) = (ra_at, dec_at) {
            let ra = number(list, line, "ra", field(r)).map_err(table_err)?;
            let dec = number(list, line, "dec", field(d)).map_err(table_err)?;
            positions.push([ra, dec]);
        }
        if let Some(l) = lens_at {
            labels.push(label(list, line, "is_lens", field(l)).map_err(table_err)?);
        }
        ids.push(id);
    }
    if ids.is_empty() {
        return Err(bad(list, "no cutouts listed"));
    }
    Stamps::new(
        list,
        ids,
        bands,
        paths,
        match lens_at {
            Some(_) => Ok(labels),
            None => Err("no `is_lens` column, so no labels".to_string()),
        },
        ra_at.map(|_| positions),
    )
}
