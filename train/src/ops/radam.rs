//! One Rectified Adam step on one parameter tensor as a single pass (the optimiser itself is
//! `crate::fit::radam`). Written out with Burn's tensor operations the step is about fifteen
//! whole-tensor passes per parameter; for a two-branch EfficientNet-B2 (about 700 parameter
//! tensors) that was some 10,000 of the 12,700 GPU launches of a training step on an H200.
//!
//! The arithmetic is that sequence's, operation for operation, in f32 with the scalars rounded to
//! f32 as Burn's scalar operations round them, so that on the CPU the fused step gives the same
//! bits as the unfused one (tested):
//!
//! m′ = m·β1 + g·(1 − β1), v′ = v·β2 + (g·g)·(1 − β2), m̂ = m′/c1, and
//! θ′ = θ − ((m̂/(√(v′/c2) + ε))·r)·lr when the step is rectified, θ′ = θ − m̂·lr otherwise.

use rayon::prelude::*;

/// The scalars of one step (f64, as the optimiser computes them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RAdamStep {
    /// Decay of the first moment, β1.
    pub beta_1: f64,
    /// Decay of the second moment, β2.
    pub beta_2: f64,
    /// The first moment's bias correction c1 = 1 − β1ᵗ.
    pub bias_1: f64,
    /// The second moment's bias correction c2 = 1 − β2ᵗ.
    pub bias_2: f64,
    /// Added to the root of the second moment, ε.
    pub epsilon: f64,
    /// The rectification r_t when the step is adaptive, `None` for the un-adapted step.
    pub rectifier: Option<f64>,
    /// The learning rate.
    pub learning_rate: f64,
}

pub use factors::RAdamFactors;

/// The f32 factors, in a module of their own so that the GPU kernels can take them as they are
/// (CubeCL derives their launch types, which carry no documentation).
pub mod factors {
    #![allow(missing_docs)]
    #[cfg(any(feature = "cuda", feature = "wgpu"))]
    use cubecl::prelude::*;

    /// [`super::RAdamStep`]'s scalars rounded to f32 as Burn's scalar operations round them
    /// (the f64 value, then `as f32`), in the order the kernels take them.
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[cfg_attr(any(feature = "cuda", feature = "wgpu"), derive(CubeLaunch, CubeType))]
    pub struct RAdamFactors {
        /// β1.
        pub beta_1: f32,
        /// 1 − β1.
        pub keep_1: f32,
        /// β2.
        pub beta_2: f32,
        /// 1 − β2.
        pub keep_2: f32,
        /// c1.
        pub bias_1: f32,
        /// c2.
        pub bias_2: f32,
        /// ε.
        pub epsilon: f32,
        /// r_t (unused when not rectified).
        pub rectifier: f32,
        /// The learning rate.
        pub learning_rate: f32,
    }
}

impl RAdamStep {
    /// The f32 factors of this step.
    pub fn factors(&self) -> RAdamFactors {
        RAdamFactors {
            beta_1: self.beta_1 as f32,
            keep_1: (1.0 - self.beta_1) as f32,
            beta_2: self.beta_2 as f32,
            keep_2: (1.0 - self.beta_2) as f32,
            bias_1: self.bias_1 as f32,
            bias_2: self.bias_2 as f32,
            epsilon: self.epsilon as f32,
            rectifier: self.rectifier.unwrap_or(1.0) as f32,
            learning_rate: self.learning_rate as f32,
        }
    }
}

/// The step at one value: (θ′, m′, v′).
#[inline]
fn at(theta: f32, g: f32, m: f32, v: f32, f: &RAdamFactors, rectified: bool) -> [f32; 3] {
    let m = m * f.beta_1 + g * f.keep_1;
    let v = v * f.beta_2 + (g * g) * f.keep_2;
    let m_hat = m / f.bias_1;
    let update = if rectified {
        (m_hat / ((v / f.bias_2).sqrt() + f.epsilon)) * f.rectifier
    } else {
        m_hat
    };
    [theta - update * f.learning_rate, m, v]
}

/// One step over a whole parameter: `param`, `grad`, `m`, `v` of equal length; returns
/// (param′, m′, v′).
pub fn update(
    param: &[f32],
    grad: &[f32],
    m: &[f32],
    v: &[f32],
    step: &RAdamStep,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let n = param.len();
    assert!(
        grad.len() == n && m.len() == n && v.len() == n,
        "a parameter, its gradient and its moments have one length"
    );
    let f = step.factors();
    let rectified = step.rectifier.is_some();
    let (mut p_out, mut m_out, mut v_out) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    // Each value's step stands alone, so pieces of a large tensor run on rayon's threads with the
    // same bits as in one pass. Small tensors (most of a network's ~700) stay on this thread.
    const PIECE: usize = 1 << 14;
    if n < 4 * PIECE {
        for i in 0..n {
            let [p, mm, vv] = at(param[i], grad[i], m[i], v[i], &f, rectified);
            p_out.push(p);
            m_out.push(mm);
            v_out.push(vv);
        }
        return (p_out, m_out, v_out);
    }
    p_out.spare_capacity_mut()[..n]
        .par_chunks_mut(PIECE)
        .zip(m_out.spare_capacity_mut()[..n].par_chunks_mut(PIECE))
        .zip(v_out.spare_capacity_mut()[..n].par_chunks_mut(PIECE))
        .enumerate()
        .for_each(|(c, ((po, mo), vo))| {
            for j in 0..po.len() {
                let i = c * PIECE + j;
                let [p, mm, vv] = at(param[i], grad[i], m[i], v[i], &f, rectified);
                po[j].write(p);
                mo[j].write(mm);
                vo[j].write(vv);
            }
        });
    // SAFETY: the pieces cover the first n values of each vector, and each was written above.
    unsafe {
        p_out.set_len(n);
        m_out.set_len(n);
        v_out.set_len(n);
    }
    (p_out, m_out, v_out)
}
