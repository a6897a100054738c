//! Score tables of several lens finders on the same objects, joined by ID, with an optional
//! truth table (a label and, where experts graded the objects, a graded score).
//!
//! Every finder's CSV must list the same IDs once each (in any order); the truth may cover only
//! some of them, which are then the labelled objects, the rest being unlabelled. Anything that
//! does not line up is refused with the file and line at fault. Lines are counted in the file
//! as a text editor shows them (the header is line 1 when nothing precedes it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Why score tables cannot be used together.
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    /// The file cannot be read or is not CSV.
    #[error("{file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// What went wrong.
        message: String,
    },
    /// A column that is not in the header.
    #[error("{file}: no column `{column}` (the header has: {header})")]
    MissingColumn {
        /// The file.
        file: String,
        /// The missing column.
        column: String,
        /// The columns that exist.
        header: String,
    },
    /// A value that is not what its column holds.
    #[error("{file}, line {line}, column `{column}`: `{value}` is not {expected}")]
    BadValue {
        /// The file.
        file: String,
        /// Line in the file.
        line: u64,
        /// The column.
        column: String,
        /// The text found.
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An ID listed twice in one file.
    #[error("{file}, line {line}: ID `{id}` again (first on line {first})")]
    Duplicate {
        /// The file.
        file: String,
        /// Where it is repeated.
        line: u64,
        /// The ID.
        id: String,
        /// Where it first appears.
        first: u64,
    },
    /// An ID in one file that another lacks.
    #[error("{file}, line {line}: ID `{id}` is not in {other}")]
    Unmatched {
        /// The file that has it.
        file: String,
        /// Its line there.
        line: u64,
        /// The ID.
        id: String,
        /// The file that lacks it.
        other: String,
    },
    /// A table with no rows.
    #[error("{file}: no rows")]
    Empty {
        /// The file.
        file: String,
    },
    /// A finder named twice, or a finder argument not of the form NAME=PATH.
    #[error("finder `{0}`: {1}")]
    Finder(String, String),
}

/// Where one finder's scores are: its name, file and columns.
#[derive(Clone, Debug, PartialEq)]
pub struct FinderFile {
    /// The finder's name in reports.
    pub name: String,
    /// Its CSV file.
    pub path: PathBuf,
    /// Column of object IDs.
    pub id_column: String,
    /// Column of scores (higher = more lens-like).
    pub score_column: String,
}

impl FinderFile {
    /// Parses `NAME=PATH` (the command line's form), with the columns given.
    pub fn parse(arg: &str, id_column: &str, score_column: &str) -> Result<Self, TableError> {
        match arg.split_once('=') {
            Some((name, path)) if !name.is_empty() && !path.is_empty() => Ok(Self {
                name: name.to_string(),
                path: path.into(),
                id_column: id_column.to_string(),
                score_column: score_column.to_string(),
            }),
            _ => Err(TableError::Finder(
                arg.to_string(),
                "expected NAME=PATH (for example cnn=scores/cnn.csv)".into(),
            )),
        }
    }
}

/// Where the truth is: its file and columns.
#[derive(Clone, Debug, PartialEq)]
pub struct TruthFile {
    /// Its CSV file.
    pub path: PathBuf,
    /// Column of object IDs.
    pub id_column: String,
    /// Column of labels (1/0, true/false).
    pub label_column: String,
    /// Column of graded expert scores, if the truth has one.
    pub grade_column: Option<String>,
}

/// Several finders' scores on the same objects, and the truth where there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Joined {
    /// Finder names, in the order given.
    pub finders: Vec<String>,
    /// Object IDs, in the first finder's order.
    pub ids: Vec<String>,
    /// `scores[f][i]`: finder f's score of object i.
    pub scores: Vec<Vec<f64>>,
    /// Each object's label (None: unlabelled).
    pub labels: Vec<Option<bool>>,
    /// Each labelled object's graded score, when the truth has a grade column.
    pub grades: Option<Vec<Option<f64>>>,
}

impl Joined {
    /// Indices of the labelled objects.
    pub fn labelled(&self) -> Vec<usize> {
        (0..self.ids.len())
            .filter(|&i| self.labels[i].is_some())
            .collect()
    }

    /// Indices of the unlabelled objects.
    pub fn unlabelled(&self) -> Vec<usize> {
        (0..self.ids.len())
            .filter(|&i| self.labels[i].is_none())
            .collect()
    }

    /// Finder scores of object `i`, one per finder.
    pub fn row(&self, i: usize) -> Vec<f64> {
        self.scores.iter().map(|s| s[i]).collect()
    }
}

/// One CSV's rows: (ID, line, the requested columns' texts).
type Rows = Vec<(String, u64, Vec<String>)>;

pub(crate) use format::table::{repeated_column, repeated_message};

/// The texts of `columns` in every row of `path`, with each row's line: the one CSV reading of
/// score tables, truth tables and `train metrics`'s input (trimmed fields, `#` comments, a
/// header whose names are unique and hold every column asked for).
pub(crate) fn read_columns(
    path: &Path,
    columns: &[&str],
) -> Result<Vec<(u64, Vec<String>)>, TableError> {
    let file = path.display().to_string();
    let read_err = |e: csv::Error| TableError::Read {
        file: file.clone(),
        message: e.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(read_err)?;
    let header = reader.headers().map_err(read_err)?.clone();
    if let Some(c) = repeated_column(&header) {
        return Err(TableError::Read {
            file: file.clone(),
            message: repeated_message(&c),
        });
    }
    let find = |column: &str| {
        header
            .iter()
            .position(|h| h == column)
            .ok_or_else(|| TableError::MissingColumn {
                file: file.clone(),
                column: column.to_string(),
                header: header.iter().collect::<Vec<_>>().join(", "),
            })
    };
    let at: Vec<usize> = columns.iter().map(|c| find(c)).collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(read_err)?;
        let line = record.position().map_or(0, |p| p.line());
        let values = at
            .iter()
            .map(|&k| record.get(k).unwrap_or("").to_string())
            .collect();
        rows.push((line, values));
    }
    Ok(rows)
}

/// Reads `columns` (besides `id_column`) from every row of `path`, refusing duplicate IDs.
fn read_rows(path: &Path, id_column: &str, columns: &[&str]) -> Result<Rows, TableError> {
    let file = path.display().to_string();
    let all: Vec<&str> = std::iter::once(id_column)
        .chain(columns.iter().copied())
        .collect();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut rows = Vec::new();
    for (line, mut values) in read_columns(path, &all)? {
        let id = values.remove(0);
        if id.is_empty() {
            return Err(TableError::BadValue {
                file: file.clone(),
                line,
                column: id_column.to_string(),
                value: id,
                expected: "an ID",
            });
        }
        if let Some(&first) = first_line.get(&id) {
            return Err(TableError::Duplicate {
                file: file.clone(),
                line,
                id,
                first,
            });
        }
        first_line.insert(id.clone(), line);
        rows.push((id, line, values));
    }
    if rows.is_empty() {
        return Err(TableError::Empty { file });
    }
    Ok(rows)
}

pub(crate) fn number(file: &Path, line: u64, column: &str, text: &str) -> Result<f64, TableError> {
    format::table::parse_finite(text).ok_or_else(|| TableError::BadValue {
        file: file.display().to_string(),
        line,
        column: column.to_string(),
        value: text.to_string(),
        expected: "a finite number",
    })
}

pub(crate) fn label(file: &Path, line: u64, column: &str, text: &str) -> Result<bool, TableError> {
    format::table::parse_label(text).ok_or_else(|| TableError::BadValue {
        file: file.display().to_string(),
        line,
        column: column.to_string(),
        value: text.to_string(),
        expected: "a label (1/0 or true/false)",
    })
}

/// Reads every finder's table and the truth, and joins them by ID.
pub fn join(finders: &[FinderFile], truth: Option<&TruthFile>) -> Result<Joined, TableError> {
    let Some(first) = finders.first() else {
        return Err(TableError::Finder(
            String::new(),
            "no finder given: name at least one as NAME=PATH".into(),
        ));
    };
    for (k, f) in finders.iter().enumerate() {
        if finders[..k].iter().any(|g| g.name == f.name) {
            return Err(TableError::Finder(f.name.clone(), "named twice".into()));
        }
    }
    let mut ids: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut scores = Vec::with_capacity(finders.len());
    for (k, f) in finders.iter().enumerate() {
        let rows = read_rows(&f.path, &f.id_column, &[&f.score_column])?;
        if k == 0 {
            for (id, _, _) in &rows {
                index.insert(id.clone(), ids.len());
                ids.push(id.clone());
            }
        }
        let mut s = vec![f64::NAN; ids.len()];
        for (id, line, values) in &rows {
            let Some(&i) = index.get(id) else {
                return Err(TableError::Unmatched {
                    file: f.path.display().to_string(),
                    line: *line,
                    id: id.clone(),
                    other: first.path.display().to_string(),
                });
            };
            s[i] = number(&f.path, *line, &f.score_column, &values[0])?;
        }
        if rows.len() < ids.len() {
            // An ID of the first file that this one lacks: name it with its line there.
            let have: std::collections::HashSet<&str> = rows.iter().map(|r| r.0.as_str()).collect();
            let first_rows = read_rows(&first.path, &first.id_column, &[])?;
            let (id, line, _) = first_rows
                .into_iter()
                .find(|r| !have.contains(r.0.as_str()))
                .expect("fewer rows than IDs, all of them known: one is missing");
            return Err(TableError::Unmatched {
                file: first.path.display().to_string(),
                line,
                id,
                other: f.path.display().to_string(),
            });
        }
        scores.push(s);
    }
    let mut labels = vec![None; ids.len()];
    let mut grades = None;
    if let Some(t) = truth {
        let mut columns = vec![t.label_column.as_str()];
        if let Some(g) = &t.grade_column {
            columns.push(g);
        }
        let rows = read_rows(&t.path, &t.id_column, &columns)?;
        let mut g = vec![None; ids.len()];
        for (id, line, values) in &rows {
            let Some(&i) = index.get(id) else {
                return Err(TableError::Unmatched {
                    file: t.path.display().to_string(),
                    line: *line,
                    id: id.clone(),
                    other: first.path.display().to_string(),
                });
            };
            labels[i] = Some(label(&t.path, *line, &t.label_column, &values[0])?);
            if let Some(column) = &t.grade_column {
                g[i] = Some(number(&t.path, *line, column, &values[1])?);
            }
        }
        if t.grade_column.is_some() {
            grades = Some(g);
        }
    }
    Ok(Joined {
        finders: finders.iter().map(|f| f.name.clone()).collect(),
        ids,
        scores,
        labels,
        grades,
    })
}
