//! Which Burn backend trains the network: `--device auto|cpu|cuda`.
//!
//! `cpu` is Burn's Flex backend ([`Cpu`]: SIMD kernels chosen at run time, rayon threads, `gemm`
//! matrix products; 35 % faster than Burn's ndarray backend for a two-branch EfficientNet-B2
//! training step on two cores, measured in November 2026). `cuda` is Burn's CUDA backend
//! (cubecl-cuda over cudarc), present only in binaries built with the cargo feature `cuda`; it
//! loads libcuda and NVRTC at run time, so such a binary builds and runs where there is no GPU
//! and no CUDA toolkit. `auto` takes CUDA when the binary has it and a GPU answers, else the
//! CPU, and [`Choice::describe`] says which in one line. [`run_on`] turns the choice into a
//! backend, once for every subcommand.

use burn::backend::Autodiff;

use crate::ops::TrainAutodiff;

/// The CPU backend: Burn's Flex.
pub type Cpu = burn::backend::Flex;

pub use crate::ops::precision::Precision;

/// What `--device` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// CUDA if possible, else the CPU.
    Auto,
    /// The CPU.
    Cpu,
    /// CUDA, or an error.
    Cuda,
}

impl std::str::FromStr for Request {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Request::Auto),
            "cpu" => Ok(Request::Cpu),
            "cuda" => Ok(Request::Cuda),
            other => Err(format!(
                "`{other}` is not a device: the devices are auto, cpu and cuda"
            )),
        }
    }
}

/// The backend that will run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    /// Burn's Flex CPU backend.
    Cpu,
    /// Burn's CUDA backend on GPU 0.
    Cuda,
}

/// Whether this binary was built with the CUDA backend.
pub const HAS_CUDA: bool = cfg!(feature = "cuda");

/// Why CUDA cannot run here, or `None` when a GPU answers: the binary lacks the backend, the
/// driver library is missing, it does not initialise, or it sees no device.
pub fn cuda_unavailable() -> Option<String> {
    #[cfg(feature = "cuda")]
    {
        // cudarc panics on first use where libcuda is missing: ask before anything touches it.
        // SAFETY: only tries to open the driver library by its usual names.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Some("no CUDA driver library (libcuda) on this machine".into());
        }
        if let Err(e) = cudarc::driver::result::init() {
            return Some(format!("the CUDA driver does not initialise: {e:?}"));
        }
        match cudarc::driver::result::device::get_count() {
            Ok(n) if n > 0 => None,
            Ok(_) => Some("the CUDA driver sees no GPU".into()),
            Err(e) => Some(format!("the CUDA driver cannot count its GPUs: {e:?}")),
        }
    }
    #[cfg(not(feature = "cuda"))]
    {
        Some("this binary was built without the `cuda` feature (cargo build --release -p sim -p train --features cuda)".into())
    }
}

/// The backend for `request`, given why CUDA is unavailable (`None`: it is available).
pub fn choose(request: Request, unavailable: Option<&str>) -> Result<Choice, String> {
    match (request, unavailable) {
        (Request::Cpu, _) => Ok(Choice::Cpu),
        (Request::Auto, None) | (Request::Cuda, None) => Ok(Choice::Cuda),
        (Request::Auto, Some(_)) => Ok(Choice::Cpu),
        (Request::Cuda, Some(why)) => Err(format!("--device cuda: {why}")),
    }
}

impl Choice {
    /// The one line that says which backend runs, and why when `auto` fell back to the CPU.
    pub fn describe(self, request: Request, unavailable: Option<&str>) -> String {
        match (self, request, unavailable) {
            (Choice::Cuda, _, _) => "device: CUDA GPU 0 (Burn CUDA backend)".into(),
            (Choice::Cpu, Request::Auto, Some(why)) => {
                format!("device: CPU (Burn Flex backend; no CUDA: {why})")
            }
            (Choice::Cpu, _, _) => "device: CPU (Burn Flex backend)".into(),
        }
    }
}

/// A job that runs on whichever training backend the device choice names: [`run_on`] gives it
/// an autodiff backend (training) whose inner backend serves inference.
pub trait OnBackend {
    /// What the job returns.
    type Output;
    /// Runs the job on backend `B`, device `device`.
    fn run<B: TrainAutodiff>(self, device: &B::Device) -> Self::Output;
}

/// Runs `job` on the backend of `choice` (its default device): the one place where a device
/// choice becomes a backend type, for every subcommand.
pub fn run_on<J: OnBackend>(choice: Choice, job: J) -> J::Output {
    match choice {
        Choice::Cpu => job.run::<Autodiff<Cpu>>(&Default::default()),
        #[cfg(feature = "cuda")]
        Choice::Cuda => job.run::<Autodiff<burn::backend::Cuda>>(&Default::default()),
        #[cfg(not(feature = "cuda"))]
        Choice::Cuda => unreachable!("resolve never chooses CUDA without the `cuda` feature"),
    }
}

/// Resolves `request` on this machine: the backend and the line that announces it.
pub fn resolve(request: Request) -> Result<(Choice, String), String> {
    let unavailable = match request {
        Request::Cpu => None,
        _ => cuda_unavailable(),
    };
    let choice = choose(request, unavailable.as_deref())?;
    Ok((choice, choice.describe(request, unavailable.as_deref())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_resolve_as_documented() {
        assert_eq!("auto".parse(), Ok(Request::Auto));
        assert!("gpu"
            .parse::<Request>()
            .unwrap_err()
            .contains("auto, cpu and cuda"));
        let none = Some("no GPU");
        assert_eq!(choose(Request::Cpu, None), Ok(Choice::Cpu));
        assert_eq!(choose(Request::Auto, None), Ok(Choice::Cuda));
        assert_eq!(choose(Request::Auto, none), Ok(Choice::Cpu));
        assert_eq!(choose(Request::Cuda, None), Ok(Choice::Cuda));
        assert_eq!(
            choose(Request::Cuda, none),
            Err("--device cuda: no GPU".to_string())
        );
        assert!(Choice::Cpu
            .describe(Request::Auto, none)
            .contains("no CUDA: no GPU"));
    }

    #[test]
    fn precisions_parse_as_documented() {
        assert_eq!("strict".parse(), Ok(Precision::Strict));
        assert_eq!("tf32".parse(), Ok(Precision::Tf32));
        assert!("fp16"
            .parse::<Precision>()
            .unwrap_err()
            .contains("tf32 and strict"));
    }

    #[test]
    fn the_cpu_is_always_chosen_when_asked_and_a_build_without_cuda_says_so() {
        // `--device cpu` never touches a GPU. A binary built without the `cuda` feature cannot
        // use one whatever the machine has: `auto` takes the CPU and says why, and `cuda` is
        // refused naming the feature and the command that builds it. (With the feature, what a
        // machine answers is checked on the GPU machine by scripts/gpu-check.sh.)
        let (cpu, line) = resolve(Request::Cpu).unwrap();
        assert_eq!(cpu, Choice::Cpu);
        assert!(line.starts_with("device: CPU"), "{line}");
        #[cfg(not(feature = "cuda"))]
        {
            let (auto, line) = resolve(Request::Auto).unwrap();
            assert_eq!(auto, Choice::Cpu);
            assert!(line.contains("without the `cuda` feature"), "{line}");
            let refused = resolve(Request::Cuda).unwrap_err();
            assert!(refused.contains("--features cuda"), "{refused}");
        }
    }
}
