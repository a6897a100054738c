//! Where a run's time goes, stage by stage (`sim generate --timing`, `sim bench-host`).

use std::sync::atomic::{AtomicU64, Ordering};

/// Where a run's time goes (`sim bench-host`): seconds of each stage, summed over the threads
/// that run it, in nanoseconds. Sampling, rendering, observing and cataloguing run on the pool,
/// system by system; stacking a block runs on the main thread; compressing on the pool; writing
/// on the writer thread; `waiting` is the main thread blocked on a writer that has not taken
/// the previous block.
#[derive(Debug, Default)]
pub struct StageTimes {
    /// Sampling a system from the population, its critical curves and its build.
    pub draw: AtomicU64,
    /// Ray shooting (the CPU's, or the batch renderer's with its image counts).
    pub render: AtomicU64,
    /// PSF, noise, labels and (on the CPU) image counting.
    pub observe: AtomicU64,
    /// The catalogue row and the finite-pixel check.
    pub catalog: AtomicU64,
    /// Stacking a block's stamps and columns (main thread).
    pub stack: AtomicU64,
    /// Shuffle + deflate of each system's stamps into the file's chunks (pool).
    pub compress: AtomicU64,
    /// Appending a block to the file (writer thread).
    pub write: AtomicU64,
    /// The main thread waiting for the writer to take a block.
    pub waiting: AtomicU64,
}

impl StageTimes {
    /// Each stage's name and seconds.
    pub fn seconds(&self) -> Vec<(&'static str, f64)> {
        let s = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 * 1e-9;
        vec![
            ("draw (sampling, critical curves, build)", s(&self.draw)),
            ("render (ray shooting, image counts)", s(&self.render)),
            ("observe (PSF, noise, labels)", s(&self.observe)),
            ("catalogue", s(&self.catalog)),
            ("stack (main thread)", s(&self.stack)),
            ("compress (shuffle + deflate)", s(&self.compress)),
            ("write (writer thread)", s(&self.write)),
            ("waiting for the writer (main thread)", s(&self.waiting)),
        ]
    }
}

/// `f()`, its duration added to the stage `slot` picks when timing.
pub(super) fn timed<T>(
    timing: Option<&StageTimes>,
    slot: fn(&StageTimes) -> &AtomicU64,
    f: impl FnOnce() -> T,
) -> T {
    let Some(t) = timing else { return f() };
    let start = std::time::Instant::now();
    let out = f();
    slot(t).fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    out
}
