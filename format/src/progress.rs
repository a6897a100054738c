//! Progress of long work, as both binaries show it (issue #19, item 8): an indicatif bar on a
//! terminal; in a log (stderr redirected, as in a cluster job) a plain line every
//! [`interval`] seconds with done/total, rate and time left.
//!
//! Kept here, in the crate both programs share, so that `sim generate` and `train run` print
//! the same lines and stop on Ctrl-C the same way ([`stop_on_ctrl_c`]).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Environment variable that sets the seconds between plain progress lines (default 10).
pub const INTERVAL_VAR: &str = "LENSFORGE_PROGRESS_SECONDS";

/// Seconds between plain progress lines: [`INTERVAL_VAR`] when it holds a number ≥ 0, else 10.
pub fn interval() -> Duration {
    std::env::var(INTERVAL_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

/// The exit status of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// A flag that the first Ctrl-C sets, printing `stopping` (what the run does now: it stops at
/// the next safe point, where it checks the flag); a second Ctrl-C exits at once with
/// [`EXIT_INTERRUPTED`], printing `resume` (how to go on).
pub fn stop_on_ctrl_c(
    stopping: &'static str,
    resume: &'static str,
) -> Result<Arc<AtomicBool>, ctrlc::Error> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            eprintln!("\ninterrupted again: stopped at once; {resume}");
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        eprintln!("\ninterrupted: {stopping} (Ctrl-C again to stop at once)");
    })?;
    Ok(stop)
}

/// A progress display: a bar on a terminal, plain lines elsewhere.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Option<Mutex<Plain>>,
}

/// The state of the plain lines.
struct Plain {
    out: Box<dyn Write + Send>,
    every: Duration,
    unit: &'static str,
    prefix: String,
    total: u64,
    position: u64,
    /// When and where the current stretch began (rates count from there, so that a resumed run
    /// or a new epoch does not count work it did not do).
    since: (Instant, u64),
    last_line: Instant,
}

impl Progress {
    /// Progress over `total` items called `unit` ("systems", "batches"): a bar when stderr is a
    /// terminal, else plain lines on stderr every [`interval`].
    pub fn new(total: u64, unit: &'static str) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{prefix}}{{bar:40}} {{pos}}/{{len}} {unit}  {{per_sec}}  eta {{eta}}"
                ))
                .expect("a valid template"),
            );
            Self {
                bar: Some(bar),
                plain: None,
            }
        } else {
            Self::plain(total, unit, Box::new(std::io::stderr()), interval())
        }
    }

    /// Plain lines only, into `out`, at most one per `every`.
    pub fn plain(
        total: u64,
        unit: &'static str,
        out: Box<dyn Write + Send>,
        every: Duration,
    ) -> Self {
        let now = Instant::now();
        Self {
            bar: None,
            plain: Some(Mutex::new(Plain {
                out,
                every,
                unit,
                prefix: String::new(),
                total,
                position: 0,
                since: (now, 0),
                last_line: now,
            })),
        }
    }

    /// Sets the label in front of the count (e.g. "fold 0 epoch 3: "); a new label starts a new
    /// stretch for the rate.
    pub fn set_prefix(&self, prefix: &str) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(prefix.to_string());
        }
        if let Some(p) = &self.plain {
            let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
            if p.prefix != prefix {
                // A new stretch: its first line comes an interval after it starts, so that its
                // rate is measured over that interval.
                let now = Instant::now();
                p.prefix = prefix.to_string();
                p.since = (now, 0);
                p.last_line = now;
                p.position = 0;
            }
        }
    }

    /// Sets the total.
    pub fn set_total(&self, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
        }
        if let Some(p) = &self.plain {
            p.lock().unwrap_or_else(|e| e.into_inner()).total = total;
        }
    }

    /// Sets how many items are done; prints a plain line when one is due.
    pub fn set_position(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
        if let Some(p) = &self.plain {
            let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
            if done < p.since.1 {
                p.since = (Instant::now(), done);
            }
            p.position = done;
            if p.last_line.elapsed() >= p.every && done > p.since.1 {
                let line = p.line();
                let _ = writeln!(p.out, "{line}");
                let _ = p.out.flush();
                p.last_line = Instant::now();
            }
        }
    }

    /// Marks where counting starts (a resumed run's systems already written are not work
    /// done now).
    pub fn start_at(&self, done: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(done);
            bar.reset_eta();
        }
        if let Some(p) = &self.plain {
            let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
            p.since = (Instant::now(), done);
            p.position = done;
        }
    }

    /// Prints a line without breaking the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
    }

    /// Removes the bar (plain lines need nothing).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Plain {
    /// "prefix done/total unit, rate unit/s, time left".
    fn line(&self) -> String {
        let secs = self.since.0.elapsed().as_secs_f64();
        let rate = (self.position - self.since.1) as f64 / secs.max(1e-9);
        let left = self.total.saturating_sub(self.position) as f64 / rate.max(1e-12);
        format!(
            "{}{}/{} {}, {} {}/s, {} left",
            self.prefix,
            self.position,
            self.total,
            self.unit,
            significant(rate),
            self.unit,
            duration(left)
        )
    }
}

/// A rate with three significant figures at most.
fn significant(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Seconds as "42 s", "3 min 20 s" or "2 h 05 min".
pub fn duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "unknown time".into();
    }
    let s = secs.round() as u64;
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);
    impl Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn plain_lines_give_done_total_rate_and_time_left() {
        let out = Captured::default();
        let p = Progress::plain(100, "systems", Box::new(out.clone()), Duration::ZERO);
        p.start_at(20);
        std::thread::sleep(Duration::from_millis(20));
        p.set_position(60);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let line = text.lines().next().expect("a line");
        assert!(line.starts_with("60/100 systems, "), "{line}");
        assert!(
            line.ends_with(" left") && line.contains(" systems/s, "),
            "{line}"
        );
    }

    #[test]
    fn plain_lines_wait_for_their_interval() {
        let out = Captured::default();
        let p = Progress::plain(
            10,
            "batches",
            Box::new(out.clone()),
            Duration::from_secs(3600),
        );
        for k in 1..=10 {
            p.set_position(k);
        }
        assert!(
            out.0.lock().unwrap().is_empty(),
            "no line before the interval"
        );
    }

    #[test]
    fn durations_read_as_an_astronomer_writes_them() {
        assert_eq!(duration(42.4), "42 s");
        assert_eq!(duration(200.0), "3 min 20 s");
        assert_eq!(duration(7500.0), "2 h 05 min");
        assert_eq!(duration(f64::INFINITY), "unknown time");
    }
}
