//! The `train` subcommands, one module each (its arguments and the function that runs it),
//! and what several share.

pub mod bench;
pub mod compare;
pub mod ensemble;
pub mod explain;
pub mod finetune;
pub mod metrics;
pub mod predict;
pub mod run;
pub mod score;
pub mod sweep_npix;

use std::path::PathBuf;
use train::device::{Choice, Request};

/// Several finders' score tables and the truth (`train compare`, `train ensemble`).
#[derive(clap::Args)]
pub struct TableArgs {
    /// A finder's scores as NAME=PATH (a CSV with an ID and a score column); repeat per finder.
    #[arg(long = "finder", required = true)]
    finders: Vec<String>,
    /// The truth: a CSV with the ID, a label column and optionally a graded score; objects it
    /// lacks are unlabelled.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// ID column, in every table.
    #[arg(long, default_value = "id")]
    id_column: String,
    /// Score column of the finders' tables.
    #[arg(long, default_value = "score")]
    score_column: String,
    /// Label column of the truth (1/0 or true/false).
    #[arg(long, default_value = "is_lens")]
    label_column: String,
    /// Graded expert score column of the truth (its classes: A ≥ 1.8, B ≥ 1.2, C ≥ 0.8, Z).
    #[arg(long)]
    grade_column: Option<String>,
}

impl TableArgs {
    pub fn join(&self) -> anyhow::Result<train::combine::tables::Joined> {
        let finders = self
            .finders
            .iter()
            .map(|f| {
                train::combine::tables::FinderFile::parse(f, &self.id_column, &self.score_column)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let truth = self
            .truth
            .as_ref()
            .map(|path| train::combine::tables::TruthFile {
                path: path.clone(),
                id_column: self.id_column.clone(),
                label_column: self.label_column.clone(),
                grade_column: self.grade_column.clone(),
            });
        Ok(train::combine::tables::join(&finders, truth.as_ref())?)
    }
}

/// Parses an enum field's value as the configuration file spells it.
pub fn parse_enum<T: serde::de::DeserializeOwned>(flag: &str, value: &str) -> anyhow::Result<T> {
    serde_json::from_value(serde_json::Value::String(value.to_string()))
        .map_err(|e| anyhow::anyhow!("--{flag} {value}: {e}"))
}

/// Parses `--device`, resolves it on this machine and prints the line that says which backend
/// runs.
pub fn announce_device(device: &str) -> anyhow::Result<Choice> {
    let request: Request = device.parse().map_err(|e: String| anyhow::anyhow!(e))?;
    let (choice, line) = train::device::resolve(request).map_err(|e| anyhow::anyhow!(e))?;
    println!("{line}");
    Ok(choice)
}

/// Prints report `r` as one JSON object when `json`, else as its `table` followed by `then`.
pub fn print_report<T: serde::Serialize>(
    json: bool,
    r: &T,
    table: impl FnOnce(&T) -> String,
    then: &str,
) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(r)?);
    } else {
        print!("{}", table(r));
        if !then.is_empty() {
            println!("{then}");
        }
    }
    Ok(())
}
