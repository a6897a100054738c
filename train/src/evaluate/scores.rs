//! Reading a lens finder's scores from a CSV file: one row per system, a label column
//! (1/0, true/false) and a score column, found by their header names.

use std::path::Path;

/// Why a scores file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScoresError {
    /// The file cannot be read or is not CSV.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A column named on the command line is not in the header.
    #[error("{file}: no column `{column}` (the header has: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The missing column.
        column: String,
        /// The columns that exist.
        header: String,
    },
    /// A value that is not a label or not a number.
    #[error("{file}: row {row}, column `{column}`: `{value}` is not {expected}")]
    BadValue {
        /// The file.
        file: String,
        /// Data row, counted from 1 after the header.
        row: usize,
        /// The column.
        column: String,
        /// The text found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
}

/// Labels (true = lens) and scores read from `path`.
pub fn read_scores(
    path: &Path,
    label_column: &str,
    score_column: &str,
) -> Result<(Vec<bool>, Vec<f64>), ScoresError> {
    let file = path.display().to_string();
    let read_err = |e: csv::Error| ScoresError::Read {
        file: file.clone(),
        message: e.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(read_err)?;
    let header = reader.headers().map_err(read_err)?.clone();
    if let Some(c) = crate::combine::tables::repeated_column(&header) {
        return Err(ScoresError::Read {
            file: file.clone(),
            message: crate::combine::tables::repeated_message(&c),
        });
    }
    let find = |column: &str| {
        header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| ScoresError::MissingColumn {
                file: file.clone(),
                column: column.to_string(),
                header: header.iter().collect::<Vec<_>>().join(", "),
            })
    };
    let (li, si) = (find(label_column)?, find(score_column)?);
    let (mut labels, mut scores) = (Vec::new(), Vec::new());
    for (k, record) in reader.records().enumerate() {
        let record = record.map_err(read_err)?;
        let bad = |column: &str, value: &str, expected| ScoresError::BadValue {
            file: file.clone(),
            row: k + 1,
            column: column.to_string(),
            value: value.to_string(),
            expected,
        };
        let l = record.get(li).unwrap_or("");
        labels.push(match l.to_ascii_lowercase().as_str() {
            "1" | "1.0" | "true" => true,
            "0" | "0.0" | "false" => false,
            _ => return Err(bad(label_column, l, "a label (1/0 or true/false)")),
        });
        let s = record.get(si).unwrap_or("");
        scores.push(
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(score_column, s, "a finite number"))?,
        );
    }
    Ok((labels, scores))
}
