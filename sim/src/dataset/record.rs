//! What a dataset file records besides its images, as both its writer (`dataset::hdf5`) and
//! its reader (`dataset::read`) hold it: the file's attributes and the catalogue's columns.

/// File-level attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Attributes {
    /// The survey's name.
    pub survey: String,
    /// The run's seed (0 for a single rendered spec).
    pub seed: u64,
    /// The full configuration used, as text.
    pub config: String,
    /// Index, in its run, of the file's first system (a shard's start; 0 for a whole run).
    pub first_index: u64,
    /// Number of systems in the whole run the file belongs to.
    pub n_total: u64,
}

/// One catalogue column.
#[derive(Clone, Debug, PartialEq)]
pub enum Column {
    /// 64-bit floats.
    F64(Vec<f64>),
    /// 64-bit signed integers.
    I64(Vec<i64>),
    /// Bytes (booleans as 0/1).
    U8(Vec<u8>),
    /// UTF-8 strings stored in `width` bytes each (HDF5 fixed-length strings, zero-padded):
    /// the width is the column's, the same in every block and shard of a run.
    Str {
        /// Bytes per string, ≥ 1 and ≥ the longest string's length.
        width: u32,
        /// The strings.
        values: Vec<String>,
    },
}

impl Column {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::U8(v) => v.len(),
            Column::Str { values, .. } => values.len(),
        }
    }

    /// True when the column holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `other`'s values (the same variant, and for strings the same width) to this
    /// column; false if they differ.
    pub fn extend(&mut self, other: &Column) -> bool {
        match (self, other) {
            (Column::F64(a), Column::F64(b)) => a.extend_from_slice(b),
            (Column::I64(a), Column::I64(b)) => a.extend_from_slice(b),
            (Column::U8(a), Column::U8(b)) => a.extend_from_slice(b),
            (
                Column::Str {
                    width: wa,
                    values: a,
                },
                Column::Str {
                    width: wb,
                    values: b,
                },
            ) if wa == wb => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }
}
