//! Several lens finders on the same objects: [`tables`] (their score tables joined by ID),
//! [`compare`] (`train compare`, how far they agree), [`ensemble`] (`train ensemble`, six ways
//! of combining them) and [`isotonic`] (isotonic regression, to calibrate a finder's scores).

pub mod compare;
pub mod ensemble;
pub mod isotonic;
pub mod tables;
