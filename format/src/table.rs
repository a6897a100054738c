//! What every CSV reader of lensforge agrees on: a header naming one column twice is refused,
//! and labels are written 1/0 or true/false.

/// The first column name that a CSV header holds twice, if any: a table with two columns of one
/// name is refused by every reader rather than read from the first.
pub fn repeated_column(header: &csv::StringRecord) -> Option<String> {
    let names: Vec<&str> = header.iter().collect();
    names
        .iter()
        .enumerate()
        .find(|(i, n)| names[..*i].contains(n))
        .map(|(_, n)| n.to_string())
}

/// The error message for a header that holds `column` twice.
pub fn repeated_message(column: &str) -> String {
    format!("the header holds column `{column}` twice: which one is meant cannot be told")
}

/// A label's text read as one: `1`, `1.0` or `true` (any case) is a lens, `0`, `0.0` or `false`
/// is not; anything else is no label.
pub fn parse_label(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" => Some(true),
        "0" | "0.0" | "false" => Some(false),
        _ => None,
    }
}

/// A finite number's text read as one.
pub fn parse_finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}
