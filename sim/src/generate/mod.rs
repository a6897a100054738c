//! `sim generate`: a population's systems streamed through ray shooting, observation and
//! labels into an HDF5 dataset (or a challenge-style folder of FITS stamps), block by block.
//!
//! System k depends only on (seed, k): the population draws it from its own random stream and
//! its noise comes from counter-based streams keyed by (seed, k, band, pixel), so any thread
//! count, any shard and a resumed run give the same bytes. Blocks are computed in parallel (rayon) while the previous
//! block is compressed and written on a writer thread; memory is bounded by two blocks.

use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;

use crate::dataset::hdf5::{Attributes, DatasetWriter, Layout, Resumed};
use crate::dataset::sglc::{SglcOptions, SglcWriter};
use crate::error::{Error, Result};
use crate::observe::Observer;
use crate::population::Population;
use crate::render::RenderOptions;

mod system;
mod timing;

pub use crate::run_config::{RunConfig, RunSettings};
pub use system::{simulate, truth_columns, SystemRecord};
use system::{simulate_block, stack, Block, Context};
use timing::timed;
pub use timing::StageTimes;

/// One slice of a run: shard `index` of `count` (0-based), `--shard i/n` on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, in [0, count).
    pub index: u64,
    /// Number of shards.
    pub count: u64,
}

impl Shard {
    /// The whole run.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Parses `i/n`; the error says what is wrong.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| format!("`{text}` is not of the form i/n (e.g. 0/4)"))?;
        let index: u64 = i
            .trim()
            .parse()
            .map_err(|_| format!("`{i}` in `{text}` is not a shard number"))?;
        let count: u64 = n
            .trim()
            .parse()
            .map_err(|_| format!("`{n}` in `{text}` is not a shard count"))?;
        if count == 0 || index >= count {
            return Err(format!(
                "`{text}`: the shard index must lie in [0, {count}) and the count be ≥ 1"
            ));
        }
        Ok(Self { index, count })
    }

    /// The system indices [start, end) of this shard of a run of `n` systems.
    pub fn range(&self, n: u64) -> (u64, u64) {
        let at = |k: u64| ((n as u128 * k as u128) / self.count as u128) as u64;
        (at(self.index), at(self.index + 1))
    }
}

/// The most worker threads a run takes: far more than any machine's cores, few enough that a
/// mistyped count does not spend minutes starting threads.
pub const MAX_THREADS: usize = 1024;

/// The most systems a run may have: 10⁹ (a thousand times the largest training sets made), so
/// that a mistyped count is refused rather than failing on its first allocation.
pub const MAX_SYSTEMS: u64 = 1_000_000_000;

/// The most systems one file (a run, or a shard of one) may hold: 10⁸, about 20 TB of Euclid
/// stamps; larger runs are written as shards (`--shard i/n`) and merged.
pub const MAX_SYSTEMS_PER_FILE: u64 = 100_000_000;

/// The most stamp bytes one block may hold in memory (its ideal, observed and compressed copies
/// come on top): 2 GiB, about 10,000 Euclid systems.
pub const MAX_BLOCK_BYTES: u64 = 2 << 30;

/// The largest challenge-style ID: 2⁵³, so that every ID is exact in a float64 column (pandas
/// reads a catalogue's IDs as floats when a value is missing).
pub const MAX_ID: u64 = 1 << 53;

impl RunConfig {
    /// The render options these settings stand for.
    pub fn render_options(&self) -> RenderOptions {
        RenderOptions {
            supersample: self.generate.supersample,
            caustic_step: self.generate.caustic_step,
            psf: self.generate.psf,
            noise: self.generate.noise,
            seed: self.generate.seed,
        }
    }

    /// The file layout of `n` systems of this run.
    pub fn layout(&self, n: usize) -> Layout {
        let s = &self.survey;
        Layout {
            bands: s.bands.iter().map(|b| (b.name.clone(), b.size)).collect(),
            n,
            criteria: s.labels.clone(),
            detection_band: s.bands[s.detection_band()].name.clone(),
        }
    }

    /// The file attributes of the shard starting at `first_index`.
    pub fn attributes(&self, first_index: u64) -> Result<Attributes> {
        Ok(Attributes {
            survey: self.survey.name.clone(),
            seed: self.generate.seed,
            config: toml::to_string(self).map_err(|e| Error::Parse {
                file: "(run configuration)".into(),
                message: format!("cannot record the configuration: {e}"),
            })?,
            first_index,
            n_total: self.generate.n,
        })
    }
}

/// How to run.
#[derive(Clone, Debug)]
pub struct GenerateOptions {
    /// The slice of the run to generate.
    pub shard: Shard,
    /// Worker threads (0: rayon's default, one per core; at most [`MAX_THREADS`]).
    pub threads: usize,
    /// Systems per block written at once (memory grows with it).
    pub block: usize,
    /// Continue an interrupted run's partial file when its configuration matches.
    pub resume: bool,
    /// What to write.
    pub format: OutputFormat,
    /// Ray-trace each block with this (a GPU) instead of system by system on the CPU threads.
    pub renderer: Option<std::sync::Arc<dyn crate::raytrace::BatchRenderer>>,
    /// When set (by `sim`'s Ctrl-C handler), the run stops after the block in hand with
    /// [`Error::Interrupted`], its partial file kept for `--resume`.
    pub stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// When set (by `sim bench-host`), the time of each stage is added up here.
    pub timing: Option<std::sync::Arc<StageTimes>>,
}

/// What a run writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum OutputFormat {
    /// One HDF5 file in the layout of DESIGN.md.
    #[default]
    Hdf5,
    /// A folder in a Strong Gravitational Lensing Challenge's layout (FITS + CSV).
    Sglc(SglcOptions),
}

/// Where a run's blocks go.
pub(crate) enum Sink {
    Hdf5(Box<DatasetWriter>),
    Sglc(Box<SglcWriter>),
}

impl Sink {
    fn written(&self) -> u64 {
        match self {
            Sink::Hdf5(w) => w.written() as u64,
            Sink::Sglc(w) => w.written(),
        }
    }

    fn append(&mut self, block: &Block) -> Result<()> {
        match self {
            Sink::Hdf5(w) => w.append_filtered(&block.chunks, &block.catalog, &block.is_lens),
            Sink::Sglc(w) => w.append(&block.images, &block.catalog, &block.is_lens),
        }
    }

    /// Deletes what was written (a challenge-style set's folder goes when its writer drops).
    fn discard(self) {
        if let Sink::Hdf5(w) = self {
            w.discard();
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Sink::Hdf5(w) => (*w).finish(),
            Sink::Sglc(w) => w.finish(),
        }
    }
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            shard: Shard::WHOLE,
            threads: 0,
            block: 64,
            resume: false,
            format: OutputFormat::Hdf5,
            renderer: None,
            stop: None,
            timing: None,
        }
    }
}

/// What a run did.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Systems in the file.
    pub systems: u64,
    /// Of which labelled lenses.
    pub lenses: u64,
    /// Systems generated by this call (fewer than `systems` after a resume).
    pub generated: u64,
    /// Where a resumed run started, as an index into the file.
    pub resumed_at: u64,
    /// Why `--resume` started afresh although a partial file was there.
    pub restarted: Option<String>,
    /// The file written.
    pub path: PathBuf,
}

/// Generates the shard `opts.shard` of the run `config` into `out`, calling `progress` with
/// the number of systems in the file after every block. Nothing appears at `out` until the
/// file is complete.
pub fn generate(
    config: &RunConfig,
    out: &Path,
    opts: &GenerateOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let render_opts = config.render_options();
    render_opts.validate()?;
    if opts.format == OutputFormat::Hdf5 {
        crate::dataset::refuse_folder(out, "--out")?;
    }
    let total = config.generate.n;
    let (start, end) = check_sizes(total, &config.survey, opts)?;
    let cli = |field: &str, reason: String| Error::InvalidSpec {
        file: "(command line)".into(),
        field: field.into(),
        reason,
    };
    if let OutputFormat::Sglc(s) = &opts.format {
        if s.first_id
            .checked_add(total)
            .is_none_or(|last| last > MAX_ID)
        {
            return Err(cli(
                "--first-id",
                format!(
                    "{}: the IDs of {total} systems must stay ≤ 2⁵³ = {MAX_ID} (exact as floats)",
                    s.first_id
                ),
            ));
        }
    }
    let survey = &config.survey;
    let population = Population::new(config.population.clone(), survey)?
        .with_caustic_step(config.generate.caustic_step);
    let observer = Observer::new(survey)?;
    let n = (end - start) as usize;
    let attrs = config.attributes(start)?;
    let mut restarted = None;
    let writer = match &opts.format {
        OutputFormat::Hdf5 => {
            let (w, why) = open_hdf5(out, &attrs, config.layout(n), opts.resume)?;
            restarted = why;
            w
        }
        OutputFormat::Sglc(sglc) => {
            let refuse = |field: &str, reason: &str| Error::InvalidSpec {
                file: "(command line)".into(),
                field: field.into(),
                reason: reason.into(),
            };
            if opts.resume {
                return Err(refuse(
                    "--resume",
                    "resuming is for HDF5 output; a challenge-style run starts afresh",
                ));
            }
            if opts.shard != Shard::WHOLE {
                return Err(refuse(
                    "--shard",
                    "shards are for HDF5 output (joined by `sim merge`); write a challenge-style set whole",
                ));
            }
            Sink::Sglc(Box::new(SglcWriter::create(
                out,
                survey,
                &attrs.config,
                sglc,
            )?))
        }
    };
    let compress = matches!(writer, Sink::Hdf5(_));
    let timing = opts.timing.as_deref();
    let mut summary = stream(writer, out, (start, end), opts, progress, &|range| {
        let ctx = Context {
            population: &population,
            survey,
            observer: &observer,
            opts: &render_opts,
            compress,
            timing,
            defer_noise: false,
        };
        simulate_block(&ctx, range, opts.renderer.as_deref())
    })?;
    summary.restarted = restarted;
    Ok(summary)
}

/// Checks a run's sizes (`total` systems of `survey`, `opts`' shard, block and threads) and
/// gives the shard's system range [start, end); errors name the option.
pub(crate) fn check_sizes(
    total: u64,
    survey: &crate::observe::Survey,
    opts: &GenerateOptions,
) -> Result<(u64, u64)> {
    if opts.block == 0 {
        return Err(Error::InvalidSpec {
            file: "(command line)".into(),
            field: "block".into(),
            reason: "0 must be ≥ 1 systems".into(),
        });
    }
    if opts.threads > MAX_THREADS {
        return Err(Error::InvalidSpec {
            file: "(command line)".into(),
            field: "--threads".into(),
            reason: format!(
                "{} threads: at most {MAX_THREADS} (0, the default, takes one per core)",
                opts.threads
            ),
        });
    }
    let cli = |field: &str, reason: String| Error::InvalidSpec {
        file: "(command line)".into(),
        field: field.into(),
        reason,
    };
    if total == 0 {
        // A shard of a run may be empty; a run of nothing is a mistake.
        return Err(cli("-n", "a run of 0 systems: give -n ≥ 1".into()));
    }
    if total > MAX_SYSTEMS {
        return Err(cli(
            "-n",
            format!("{total} systems: a run holds at most {MAX_SYSTEMS}"),
        ));
    }
    let (start, end) = opts.shard.range(total);
    if end - start > MAX_SYSTEMS_PER_FILE {
        return Err(cli(
            "-n",
            format!(
                "{} systems in one file: at most {MAX_SYSTEMS_PER_FILE}; write shards \
                 (--shard i/n) and join them with `sim merge`",
                end - start
            ),
        ));
    }
    let stamp_bytes: u64 = survey
        .bands
        .iter()
        .map(|b| (b.size * b.size * 4) as u64)
        .sum();
    let block_bytes = (opts.block as u64).min(end - start) * stamp_bytes;
    if block_bytes > MAX_BLOCK_BYTES {
        return Err(cli(
            "--block",
            format!(
                "{} systems hold {:.1} GiB of stamps: at most {} systems of this survey ({} GiB)",
                opts.block,
                block_bytes as f64 / (1u64 << 30) as f64,
                MAX_BLOCK_BYTES / stamp_bytes,
                MAX_BLOCK_BYTES >> 30
            ),
        ));
    }
    Ok((start, end))
}

/// The HDF5 writer of a run's file `out`: the interrupted run's partial file continued when
/// `resume` is asked for and it is this run's, else a new one (and why, when a partial file
/// could not be continued).
pub(crate) fn open_hdf5(
    out: &Path,
    attrs: &Attributes,
    layout: Layout,
    resume: bool,
) -> Result<(Sink, Option<String>)> {
    let resumed = match resume {
        true => DatasetWriter::resume(out, attrs, layout.clone())?,
        false => Resumed::Afresh(None),
    };
    Ok(match resumed {
        Resumed::Continued(w) => (Sink::Hdf5(w), None),
        Resumed::Afresh(why) => (
            Sink::Hdf5(Box::new(DatasetWriter::create(out, attrs, layout)?)),
            why,
        ),
    })
}

/// Makes the systems of the run's slice `range` that `writer` does not yet hold, a block
/// (`opts.block` systems) at a time by `make` on a pool of `opts.threads`, while a writer
/// thread appends the previous block; stops at `opts.stop`, and finishes the file. An input
/// error (a value out of range) deletes the partial file, since a resumed run would stop at
/// the same system.
pub(crate) fn stream(
    mut writer: Sink,
    out: &Path,
    (start, end): (u64, u64),
    opts: &GenerateOptions,
    progress: &(dyn Fn(u64) + Sync),
    make: &(dyn Fn(std::ops::Range<u64>) -> Result<Vec<SystemRecord>> + Sync),
) -> Result<Summary> {
    let n = (end - start) as usize;
    let resumed_at = writer.written();
    progress(resumed_at);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .map_err(|e| Error::InvalidSpec {
            file: "(command line)".into(),
            field: "--threads".into(),
            reason: e.to_string(),
        })?;

    // The writer thread appends blocks while the pool computes the next one.
    let (tx, rx) = sync_channel::<Block>(1);
    let written = std::thread::scope(|scope| -> Result<(Sink, u64)> {
        let timing = opts.timing.as_deref();
        let handle = scope.spawn(move || -> Result<(Sink, u64)> {
            let mut lenses = 0u64;
            for block in rx {
                timed(timing, |t| &t.write, || writer.append(&block))?;
                lenses += block.is_lens.iter().map(|&l| l as u64).sum::<u64>();
                progress(writer.written());
            }
            Ok((writer, lenses))
        });
        let mut first = start + resumed_at;
        let mut failure = None;
        let stopped = || {
            opts.stop
                .as_ref()
                .is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed))
        };
        while first < end {
            if stopped() {
                failure = Some(Error::Interrupted {
                    done: first - start,
                    total: n as u64,
                    partial: matches!(opts.format, OutputFormat::Hdf5)
                        .then(|| crate::dataset::hdf5::temporary_path(out)),
                });
                break;
            }
            let last = (first + opts.block as u64).min(end);
            let records: Result<Vec<SystemRecord>> = pool.install(|| make(first..last));
            match records {
                Ok(r) => {
                    // Compressed system by system on the pool, so that the writer thread only
                    // copies.
                    let block = timed(timing, |t| &t.stack, || stack(r));
                    if timed(timing, |t| &t.waiting, || tx.send(block)).is_err() {
                        break; // the writer stopped on an error, reported below
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
            first = last;
        }
        drop(tx);
        let joined = handle.join().map_err(|_| Error::InvalidSpec {
            file: out.into(),
            field: "(writer)".into(),
            reason: "the writer thread panicked".into(),
        })?;
        match (failure, joined) {
            // An input error would stop a resumed run at the same system: leave nothing.
            (Some(e @ Error::InvalidSpec { .. }), Ok((writer, _))) => {
                writer.discard();
                Err(e)
            }
            (Some(e), _) => Err(e),
            (None, joined) => joined,
        }
    })?;
    let (writer, new_lenses) = written;
    // Lenses written before a resume are counted from the file at the end.
    writer.finish()?;
    let lenses = if resumed_at == 0 {
        new_lenses
    } else {
        count_lenses(out)?
    };
    Ok(Summary {
        systems: n as u64,
        lenses,
        generated: n as u64 - resumed_at,
        resumed_at,
        restarted: None,
        path: out.into(),
    })
}

fn count_lenses(path: &Path) -> Result<u64> {
    let f = crate::dataset::read::DatasetFile::open(path)?;
    Ok(f.labels(0, f.n)?.iter().map(|&x| x as u64).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_tile_the_run() {
        for n in [0u64, 1, 7, 100, 2001] {
            for count in 1..6 {
                let mut next = 0;
                for index in 0..count {
                    let (a, b) = Shard { index, count }.range(n);
                    assert_eq!(a, next);
                    assert!(b >= a);
                    next = b;
                }
                assert_eq!(next, n);
            }
        }
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        for bad in ["4/4", "1", "a/2", "0/0", "1/b"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
