//! Judging a lens finder: [`metrics`] (ROC AUC, PR AUC, F_β; `train metrics`), [`scores`] (a
//! score table read back), [`sweep`] (`train sweep-npix`, the detection limit by lensed-source
//! pixels), [`challenge`] (`train score`, the challenges' figures for a submission) and
//! [`predict`] (`train predict`, a score table from a finished run).

pub mod challenge;
pub mod metrics;
pub mod predict;
pub mod scores;
pub mod sweep;
