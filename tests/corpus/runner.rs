//! Runs a corpus of malformed inputs against a binary (issue #19): each case writes its input
//! files into a fresh folder, runs the binary there, and must end
//! - with a non-zero exit status that is not a panic's (101), and no "panicked" on stderr;
//! - with a message on stderr that holds every fragment the case expects (the file, the field
//!   or the line that is wrong: at least one fragment per case);
//! - with nothing left behind: the folder holds exactly its input files, unchanged;
//! - within [`TIME_LIMIT`] (a guard against hangs, not a speed test).
//!
//! Included by `sim/tests/corpus.rs` and `train/tests/corpus.rs` with `#[path]`; the cases are
//! `tests/corpus/sim.toml` and `tests/corpus/train.toml`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// Longest a case may run before it counts as a hang.
pub const TIME_LIMIT: Duration = Duration::from_secs(60);

/// A corpus file: malformed cases, and extreme but legal ones.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Corpus {
    /// Inputs that must be refused.
    #[serde(default)]
    pub case: Vec<Case>,
    /// Inputs at the edges of the ranges: each either succeeds (and the caller checks its
    /// output) or is refused like a case, as its `expect` says.
    #[serde(default)]
    pub legal: Vec<Case>,
}

/// One run of the binary.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case tries.
    pub name: String,
    /// The arguments (paths relative to the case's folder).
    pub args: Vec<String>,
    /// The input files.
    #[serde(default)]
    pub files: Vec<FileSpec>,
    /// Fragments every one of which stderr must hold (for a legal case: empty means it must
    /// succeed).
    #[serde(default)]
    pub expect: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Why a legal case is refused or accepted (shown when it fails).
    #[serde(default)]
    pub why: String,
}

/// One input file: literal text, hex bytes, or a base file (a preset or fixture) edited.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// Where, relative to the case's folder (a name ending in `/` makes a folder).
    pub path: String,
    /// Literal content.
    pub text: Option<String>,
    /// Literal bytes, as hex.
    pub hex: Option<String>,
    /// A base: a path from the repository root, or `@name` for an artefact the caller makes.
    pub base: Option<String>,
    /// (from, to) replacements in the base's text; each must match (else the case is stale).
    #[serde(default)]
    pub replace: Vec<[String; 2]>,
    /// Text added at the end.
    pub append: Option<String>,
    /// Keep only the first this many bytes.
    pub truncate: Option<usize>,
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("a package folder inside the workspace")
        .to_path_buf()
}

/// Reads a corpus file.
pub fn load(path: &Path) -> Corpus {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What a case did.
pub struct Ran {
    /// Exit status code (None: killed by a signal or the time limit).
    pub code: Option<i32>,
    /// Its stderr.
    pub stderr: String,
    /// Its stdout.
    pub stdout: String,
    /// Its folder (kept until the caller drops it).
    pub dir: tempfile::TempDir,
    /// The input files' contents, by path.
    pub inputs: BTreeMap<PathBuf, Vec<u8>>,
}

/// Writes a case's files into a fresh folder and runs `binary` there.
pub fn run_case(binary: &Path, case: &Case, artefact: &dyn Fn(&str) -> Vec<u8>) -> Ran {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = BTreeMap::new();
    for f in &case.files {
        let path = dir.path().join(&f.path);
        if f.path.ends_with('/') {
            std::fs::create_dir_all(&path).unwrap();
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        let bytes = file_bytes(f, artefact, &case.name);
        std::fs::write(&path, &bytes).unwrap();
        inputs.insert(PathBuf::from(&f.path), bytes);
    }
    let start = Instant::now();
    let mut child = Command::new(binary)
        .args(&case.args)
        .current_dir(dir.path())
        .envs(&case.env)
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    // The pipes are read on threads so that a chatty child cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = pipe.read_to_string(&mut s);
            s
        })
    };
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code,
        stderr: stderr.join().unwrap_or_default(),
        stdout: stdout.join().unwrap_or_default(),
        dir,
        inputs,
    }
}

fn file_bytes(f: &FileSpec, artefact: &dyn Fn(&str) -> Vec<u8>, case: &str) -> Vec<u8> {
    let mut bytes = match (&f.text, &f.hex, &f.base) {
        (Some(t), None, None) => t.clone().into_bytes(),
        (None, Some(h), None) => hex(h),
        (None, None, Some(b)) => match b.strip_prefix('@') {
            Some(name) => artefact(name),
            None => std::fs::read(repo_root().join(b))
                .unwrap_or_else(|e| panic!("case `{case}`: base {b}: {e}")),
        },
        _ => panic!("case `{case}`: {}: give one of text, hex or base", f.path),
    };
    if !f.replace.is_empty() {
        let mut text = String::from_utf8(bytes).expect("replacements need a text base");
        for [from, to] in &f.replace {
            assert!(
                text.contains(from.as_str()),
                "case `{case}`: {}: `{from}` is not in the base (a stale case)",
                f.path
            );
            text = text.replacen(from.as_str(), to, 1);
        }
        bytes = text.into_bytes();
    }
    if let Some(a) = &f.append {
        bytes.extend_from_slice(a.as_bytes());
    }
    if let Some(n) = f.truncate {
        assert!(n < bytes.len(), "case `{case}`: truncate beyond the end");
        bytes.truncate(n);
    }
    bytes
}

fn hex(h: &str) -> Vec<u8> {
    let h: String = h.split_whitespace().collect();
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex digits"))
        .collect()
}

/// Every file under `dir` (hidden ones too), relative to it.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
            }
            out.push(p.strip_prefix(dir).unwrap().to_path_buf());
        }
    }
    out.sort();
    out
}

/// Checks that a refused case kept to every rule; returns what it broke (empty: none).
pub fn refused_cleanly(case: &Case, ran: &Ran) -> Vec<String> {
    let mut broken = Vec::new();
    let err = &ran.stderr;
    match ran.code {
        None => broken.push(format!("ran past {TIME_LIMIT:?} or was killed")),
        Some(0) => broken.push("exited 0".into()),
        Some(101) => broken.push("panicked (exit 101)".into()),
        Some(_) => {}
    }
    if err.contains("panicked") {
        broken.push("a panic message".into());
    }
    if case.expect.is_empty() {
        broken.push("the case names no fragment to expect".into());
    }
    for frag in &case.expect {
        if !err.contains(frag.as_str()) {
            broken.push(format!("no `{frag}` in the message"));
        }
    }
    let mut expected: Vec<PathBuf> = case
        .files
        .iter()
        .flat_map(|f| {
            // A file's folders are there too.
            let p = PathBuf::from(f.path.trim_end_matches('/'));
            p.ancestors()
                .filter(|a| !a.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .collect::<Vec<_>>()
        })
        .collect();
    expected.sort();
    expected.dedup();
    let found = files_under(ran.dir.path());
    if found != expected {
        let extra: Vec<_> = found.iter().filter(|p| !expected.contains(p)).collect();
        let gone: Vec<_> = expected.iter().filter(|p| !found.contains(p)).collect();
        broken.push(format!("left behind {extra:?}, removed {gone:?}"));
    }
    for (p, bytes) in &ran.inputs {
        if std::fs::read(ran.dir.path().join(p)).ok().as_ref() != Some(bytes) {
            broken.push(format!("changed its input {}", p.display()));
        }
    }
    broken
}

/// Runs every malformed case of `corpus` and panics listing each that broke a rule.
pub fn check_refusals(binary: &Path, corpus: &Corpus, artefact: &dyn Fn(&str) -> Vec<u8>) {
    let mut failures = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for case in &corpus.case {
        assert!(names.insert(&case.name), "two cases named `{}`", case.name);
        let ran = run_case(binary, case, artefact);
        let broken = refused_cleanly(case, &ran);
        if !broken.is_empty() {
            failures.push(format!(
                "`{}` ({}): {}\n    stderr: {}",
                case.name,
                case.args.join(" "),
                broken.join("; "),
                ran.stderr.trim()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases broke a rule:\n{}",
        failures.len(),
        corpus.case.len(),
        failures.join("\n")
    );
}

/// A valid HDF5 file of another program (a group and a column, none of our attributes): the
/// corpora's `@foreign`.
pub fn foreign_hdf5() -> Vec<u8> {
    use format::h5::{Dtype, Writer};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.h5");
    let mut f = Writer::create(&path).unwrap();
    let root = f.root();
    let g = f.create_group(root, "photometry").unwrap();
    let c = f.create_column(g, "flux", Dtype::F64, 3).unwrap();
    let bytes: Vec<u8> = [1.0f64, 2.0, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    f.write_column(c, 0, &bytes).unwrap();
    f.finish().unwrap();
    std::fs::read(path).unwrap()
}

/// Runs every extreme but legal case of `corpus`: one with `expect` must be refused cleanly;
/// the others must exit 0 and pass `output` (what it finds wrong with the run's output: empty
/// when nothing). Panics listing the cases that failed, with their `why`.
pub fn check_legal(
    binary: &Path,
    corpus: &Corpus,
    artefact: &dyn Fn(&str) -> Vec<u8>,
    output: &dyn Fn(&Ran) -> Vec<String>,
) {
    let mut failures = Vec::new();
    for case in &corpus.legal {
        let ran = run_case(binary, case, artefact);
        let broken = if !case.expect.is_empty() {
            refused_cleanly(case, &ran)
        } else if ran.code != Some(0) {
            vec![format!("failed: {}", ran.stderr.trim())]
        } else {
            output(&ran)
        };
        if !broken.is_empty() {
            failures.push(format!(
                "`{}`: {} ({})",
                case.name,
                broken.join("; "),
                case.why
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
