//! Reading a lens finder's scores from a CSV file: one row per system, a label column
//! (1/0, true/false) and a score column, found by their header names (the CSV reading of
//! [`crate::combine::tables`], its errors naming the file, line and column).

use std::path::Path;

use crate::combine::tables::{label, number, read_columns, TableError};

/// Labels (true = lens) and scores read from `path`.
pub fn read_scores(
    path: &Path,
    label_column: &str,
    score_column: &str,
) -> Result<(Vec<bool>, Vec<f64>), TableError> {
    read_columns(path, &[label_column, score_column])?
        .iter()
        .map(|(line, v)| {
            Ok((
                label(path, *line, label_column, &v[0])?,
                number(path, *line, score_column, &v[1])?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|rows| rows.into_iter().unzip())
}
