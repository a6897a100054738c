//! The precision of the lens finders' matrix products on a GPU (`--precision`), which the
//! CubeCL backends' products read; `train::device` re-exports it.

/// How the lens finders' float32 matrix products may be computed on a GPU: `--precision
/// tf32|strict`. It governs every product of the EfficientNet finders (their 1×1 convolutions,
/// squeeze-and-excitation layers and final dense layer) and the Jacobs CNN's convolutions; the
/// Jacobs CNN's hidden dense layers and the Vision Transformer use Burn's own products, TF32 on
/// CUDA either way.
///
/// `tf32` (the default) lets Burn's CUDA matrix kernels round each factor to TensorFloat-32 (11
/// significant bits, relative error ≤ 2⁻¹¹) on the tensor cores and accumulate in f32, as PyTorch
/// does by default for convolutions (which these products are) though not for plain matrix
/// products; `strict` keeps every product in f32 (CubeCL's unit-per-element matrix kernel). On
/// an H200 two-branch B2 at batch 64 trained at 240 images/s with TF32 and 189 strict
/// (2026-11-28; an earlier build, before the fused optimiser step, measured 131 and 157). The
/// CPU and Vulkan backends compute in f32 either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// TensorFloat-32 factors on GPUs that have them.
    Tf32,
    /// Float32 throughout.
    Strict,
}

static STRICT_F32: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl std::str::FromStr for Precision {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tf32" => Ok(Precision::Tf32),
            "strict" => Ok(Precision::Strict),
            other => Err(format!(
                "`{other}` is not a precision: the precisions are tf32 and strict"
            )),
        }
    }
}

impl Precision {
    /// Makes this the precision of every matrix product from now on (process-wide).
    pub fn apply(self) {
        STRICT_F32.store(
            self == Precision::Strict,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The precision in force.
    pub fn current() -> Self {
        if STRICT_F32.load(std::sync::atomic::Ordering::Relaxed) {
            Precision::Strict
        } else {
            Precision::Tf32
        }
    }
}
