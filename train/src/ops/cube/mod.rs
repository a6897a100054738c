//! [`TrainOps`] for Burn's CubeCL backends (CUDA, and wgpu/Vulkan for testing without a GPU):
//! the kernels of [`kernels`], one launch per pass over the whole tensor (two for per-channel
//! sums: partial sums per block of values, then one ordered reduction). They compute the same
//! sums as the CPU's [`super::depthwise`] and [`super::batch_norm`], in another order; both
//! are tested against Burn's own operations on the same device.

pub mod kernels;

use burn::tensor::ops::{FloatTensor, FloatTensorOps};
use burn::tensor::{DType, Shape, Slice, TensorMetadata};
use burn_cubecl::element::BoolElement;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::{CubeBackend, CubeRuntime, FloatElement, IntElement};
use cubecl::{calculate_cube_count_elemwise, CubeCount, CubeDim};

use super::radam::factors::RAdamFactorsLaunch;
use super::{Activation, AdamState, DepthwiseGeometry, Normalisation, RAdamStep, TrainOps};
use kernels::{DwShapeLaunch, BLOCK};

/// Values each unit of a reduction cube sums before the cube adds them up.
const PER_UNIT: u32 = 16;

/// `t` as a contiguous float32 tensor.
fn f32_contiguous<R: CubeRuntime>(t: CubeTensor<R>) -> CubeTensor<R> {
    assert_eq!(
        t.dtype,
        DType::F32,
        "lensforge's GPU operations take float32 tensors"
    );
    into_contiguous(t)
}

/// A new contiguous float32 tensor of `shape` on `like`'s device. Contiguous on purpose: the
/// kernels index every tensor row-major without gaps, while Burn's `empty_device` lets the
/// runtime pad rows for alignment (CUDA does, for rows whose length is not a multiple of its
/// alignment; Vulkan does not), which would scatter the kernels' output.
fn empty<R: CubeRuntime>(like: &CubeTensor<R>, shape: &[usize]) -> CubeTensor<R> {
    let t = empty_device_contiguous_dtype::<R>(
        like.client.clone(),
        like.device.clone(),
        Shape::from(shape.to_vec()),
        DType::F32,
    );
    debug_assert!(
        t.is_contiguous(),
        "a contiguous allocation came back padded"
    );
    t
}

/// Cubes and units for one unit per value of `n` values.
fn elementwise<R: CubeRuntime>(like: &CubeTensor<R>, n: usize) -> (CubeCount, CubeDim) {
    let dim = CubeDim::new(&like.client, n);
    (calculate_cube_count_elemwise(&like.client, n, dim), dim)
}

/// Chunks of a channel's `count` values, one reduction cube each.
fn chunks(count: usize) -> u32 {
    (count as u32).div_ceil(BLOCK * PER_UNIT).max(1)
}

fn dims(t: &CubeTensor<impl CubeRuntime>) -> Vec<usize> {
    t.shape().to_vec()
}

fn dw_shape<R: CubeRuntime>(channels: usize, g: &DepthwiseGeometry) -> DwShapeLaunch<R> {
    DwShapeLaunch::new(
        channels as u32,
        g.input[0] as u32,
        g.input[1] as u32,
        g.output[0] as u32,
        g.output[1] as u32,
        g.stride as u32,
        g.pad_top as u32,
        g.pad_left as u32,
    )
}

/// Σ over chunks of `partial` [C, chunks, width] in order, divided by `divisor`: [C, width].
fn sum_chunks<R: CubeRuntime>(
    partial: CubeTensor<R>,
    channels: usize,
    chunks: u32,
    width: usize,
    divisor: f32,
) -> CubeTensor<R> {
    let out = empty(&partial, &[channels, width]);
    let (count, dim) = elementwise(&out, channels * width);
    // SAFETY: the kernel reads partial[c, chunk, t] for c < channels, chunk < chunks, t < width,
    // all inside `partial`, and writes out[c, t] for indices below out.len().
    unsafe {
        kernels::sum_chunks::launch_unchecked::<R>(
            &out.client,
            count,
            dim,
            partial.into_array_arg(),
            out.clone().into_array_arg(),
            chunks,
            width as u32,
            divisor,
        );
    }
    out
}

fn silu(act: Activation) -> bool {
    act == Activation::Silu
}

/// lhs·rhs with every factor in f32: CubeCL's unit-per-element matrix kernel (no tensor cores,
/// so no TensorFloat-32 rounding).
fn strict_matmul<R: CubeRuntime>(lhs: CubeTensor<R>, rhs: CubeTensor<R>) -> CubeTensor<R> {
    use cubek::matmul::definition::{MatmulElems, MatmulGlobalElems};
    use cubek::matmul::launch::Strategy;
    use cubek::std::InputBinding;
    let (lhs, rhs) = (f32_contiguous(lhs), f32_contiguous(rhs));
    let out = burn_cubecl::kernel::matmul::init_matmul_output(&lhs, &rhs, DType::F32);
    let mut dtypes = MatmulElems::from_globals(&MatmulGlobalElems {
        lhs: DType::F32.into(),
        rhs: DType::F32.into(),
        out: DType::F32.into(),
    });
    cubek::matmul::launch::launch_ref(
        &Strategy::SimpleUnit(Default::default()),
        &out.client,
        InputBinding::new(lhs.binding(), DType::F32.into()),
        InputBinding::new(rhs.binding(), DType::F32.into()),
        out.clone().binding(),
        &mut dtypes,
    )
    .unwrap_or_else(|e| panic!("the strict f32 matrix kernel refused these shapes: {e:?}"));
    out
}

impl<R: CubeRuntime, F: FloatElement, I: IntElement, BT: BoolElement> TrainOps
    for CubeBackend<R, F, I, BT>
{
    fn matmul_f32(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        match crate::ops::precision::Precision::current() {
            crate::ops::precision::Precision::Strict => strict_matmul(lhs, rhs),
            crate::ops::precision::Precision::Tf32 => Self::float_matmul(lhs, rhs),
        }
    }

    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let (x, weight) = (f32_contiguous(x), f32_contiguous(weight));
        let d = dims(&x);
        let y = empty(&x, &[d[0], d[1], g.output[0], g.output[1]]);
        let n = d[0] * d[1] * g.output[0] * g.output[1];
        if n == 0 {
            return y;
        }
        let (count, dim) = elementwise(&y, n);
        // SAFETY: every index the kernel forms is checked against the shapes it is given,
        // which are those of these contiguous tensors.
        unsafe {
            kernels::depthwise_forward::launch_unchecked::<R>(
                &y.client,
                count,
                dim,
                x.into_array_arg(),
                weight.into_array_arg(),
                y.clone().into_array_arg(),
                dw_shape(d[1], &g),
                g.kernel as u32,
            );
        }
        y
    }

    fn depthwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let (weight, grad) = (f32_contiguous(weight), f32_contiguous(grad));
        let d = dims(&grad);
        let dx = empty(&grad, &[d[0], d[1], g.input[0], g.input[1]]);
        let n = d[0] * d[1] * g.input[0] * g.input[1];
        if n == 0 {
            return dx;
        }
        let (count, dim) = elementwise(&dx, n);
        // SAFETY: as for the forward pass.
        unsafe {
            kernels::depthwise_backward_x::launch_unchecked::<R>(
                &dx.client,
                count,
                dim,
                weight.into_array_arg(),
                grad.into_array_arg(),
                dx.clone().into_array_arg(),
                dw_shape(d[1], &g),
                g.kernel as u32,
            );
        }
        dx
    }

    fn depthwise_conv2d_weight_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let (x, grad) = (f32_contiguous(x), f32_contiguous(grad));
        let d = dims(&x);
        let (channels, k2) = (d[1], g.kernel * g.kernel);
        let positions = d[0] * g.output[0] * g.output[1];
        let n_chunks = chunks(positions);
        let partial = empty(&x, &[channels, n_chunks as usize, k2]);
        let client = x.client.clone();
        // SAFETY: cube (c, chunk) reads the chunk's positions of channel c (bounded by
        // `positions`) and writes partial[c, chunk, ·].
        unsafe {
            kernels::depthwise_weight_partial::launch_unchecked::<R>(
                &client,
                CubeCount::Static(channels as u32, n_chunks, 1),
                CubeDim::new_1d(BLOCK),
                x.into_array_arg(),
                grad.into_array_arg(),
                partial.clone().into_array_arg(),
                dw_shape(channels, &g),
                positions as u32,
                BLOCK * PER_UNIT,
                g.kernel as u32,
                BLOCK,
            );
        }
        let dw = sum_chunks(partial, channels, n_chunks, k2, 1.0);
        Self::float_reshape(dw, Shape::from(vec![channels, 1, g.kernel, g.kernel]))
    }

    fn channel_moments(x: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let x = f32_contiguous(x);
        let d = dims(&x);
        let (channels, plane) = (d[1], d[2..].iter().product::<usize>());
        let count = d[0] * plane;
        let n_chunks = chunks(count);
        let moment = |mean: &CubeTensor<R>, centre: bool| {
            let partial = empty(&x, &[channels, n_chunks as usize]);
            // SAFETY: cube (c, chunk) reads the chunk's values of channel c and mean[c], and
            // writes partial[c, chunk].
            unsafe {
                kernels::moment_partial::launch_unchecked::<R>(
                    &x.client,
                    CubeCount::Static(channels as u32, n_chunks, 1),
                    CubeDim::new_1d(BLOCK),
                    x.clone().into_array_arg(),
                    mean.clone().into_array_arg(),
                    partial.clone().into_array_arg(),
                    channels as u32,
                    plane as u32,
                    count as u32,
                    BLOCK * PER_UNIT,
                    centre,
                    BLOCK,
                );
            }
            let s = sum_chunks(partial, channels, n_chunks, 1, count.max(1) as f32);
            Self::float_reshape(s, Shape::from(vec![channels]))
        };
        // The first pass ignores the mean it is given.
        let unused = empty(&x, &[channels]);
        let mean = moment(&unused, false);
        let var = moment(&mean, true);
        (mean, var)
    }

    fn batch_norm(n: Normalisation<Self>) -> FloatTensor<Self> {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let [x, mean, var, gamma, beta] = [x, mean, var, gamma, beta].map(f32_contiguous);
        let d = dims(&x);
        let (channels, plane) = (d[1], d[2..].iter().product::<usize>());
        let y = empty(&x, &d);
        let n = y.meta.num_elements();
        if n == 0 {
            return y;
        }
        let (count, dim) = elementwise(&y, n);
        // SAFETY: one unit per value of y, reading the same index of x and channel c's
        // statistics.
        unsafe {
            kernels::batch_norm_forward::launch_unchecked::<R>(
                &y.client,
                count,
                dim,
                x.into_array_arg(),
                mean.into_array_arg(),
                var.into_array_arg(),
                gamma.into_array_arg(),
                beta.into_array_arg(),
                y.clone().into_array_arg(),
                channels as u32,
                plane as u32,
                epsilon as f32,
                silu(act),
            );
        }
        y
    }

    fn batch_norm_backward(
        n: Normalisation<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let [x, mean, var, gamma, beta, grad] =
            [x, mean, var, gamma, beta, grad].map(f32_contiguous);
        let d = dims(&x);
        let (channels, plane) = (d[1], d[2..].iter().product::<usize>());
        let count = d[0] * plane;
        let n_chunks = chunks(count);
        let partial = empty(&x, &[2, channels, n_chunks as usize]);
        // SAFETY: cube (c, chunk) reads the chunk's values of channel c and writes
        // partial[0, c, chunk] and partial[1, c, chunk].
        unsafe {
            kernels::batch_norm_backward_partial::launch_unchecked::<R>(
                &x.client,
                CubeCount::Static(channels as u32, n_chunks, 1),
                CubeDim::new_1d(BLOCK),
                x.clone().into_array_arg(),
                grad.clone().into_array_arg(),
                mean.clone().into_array_arg(),
                var.clone().into_array_arg(),
                gamma.clone().into_array_arg(),
                beta.clone().into_array_arg(),
                partial.clone().into_array_arg(),
                channels as u32,
                plane as u32,
                count as u32,
                BLOCK * PER_UNIT,
                epsilon as f32,
                silu(act),
                BLOCK,
            );
        }
        // [Σdz per channel, Σdz·x̂ per channel], and the same over M for the input gradient.
        let sums = sum_chunks(partial.clone(), 2 * channels, n_chunks, 1, 1.0);
        let means = sum_chunks(partial, 2 * channels, n_chunks, 1, count.max(1) as f32);
        let dx = empty(&x, &d);
        let n = dx.meta.num_elements();
        if n > 0 {
            let (cubes, dim) = elementwise(&dx, n);
            // SAFETY: one unit per value of dx, reading the same index of x and dy and
            // channel c's statistics and sums.
            unsafe {
                kernels::batch_norm_backward_x::launch_unchecked::<R>(
                    &dx.client,
                    cubes,
                    dim,
                    x.into_array_arg(),
                    grad.into_array_arg(),
                    mean.into_array_arg(),
                    var.into_array_arg(),
                    gamma.into_array_arg(),
                    beta.into_array_arg(),
                    means.into_array_arg(),
                    dx.clone().into_array_arg(),
                    channels as u32,
                    plane as u32,
                    epsilon as f32,
                    silu(act),
                );
            }
        }
        // Σdz is dβ, Σdz·x̂ is dγ.
        let sums = Self::float_reshape(sums, Shape::from(vec![2 * channels]));
        let dbeta = Self::float_slice(sums.clone(), &[Slice::from(0..channels)]);
        let dgamma = Self::float_slice(sums, &[Slice::from(channels..2 * channels)]);
        (dx, dgamma, dbeta)
    }

    fn radam_update(
        state: AdamState<Self>,
        grad: FloatTensor<Self>,
        step: RAdamStep,
    ) -> AdamState<Self> {
        let AdamState { param, m, v } = state;
        let [param, grad, m, v] = [param, grad, m, v].map(f32_contiguous);
        let d = dims(&param);
        let [p_out, m_out, v_out] = [0; 3].map(|_| empty(&param, &d));
        let n = p_out.meta.num_elements();
        if n == 0 {
            return AdamState {
                param: p_out,
                m: m_out,
                v: v_out,
            };
        }
        let f = step.factors();
        let (count, dim) = elementwise(&p_out, n);
        // SAFETY: one unit per value, reading and writing the same index of seven tensors of one
        // shape.
        unsafe {
            kernels::radam_update::launch_unchecked::<R>(
                &p_out.client,
                count,
                dim,
                param.into_array_arg(),
                grad.into_array_arg(),
                m.into_array_arg(),
                v.into_array_arg(),
                p_out.clone().into_array_arg(),
                m_out.clone().into_array_arg(),
                v_out.clone().into_array_arg(),
                RAdamFactorsLaunch::new(
                    f.beta_1,
                    f.keep_1,
                    f.beta_2,
                    f.keep_2,
                    f.bias_1,
                    f.bias_2,
                    f.epsilon,
                    f.rectifier,
                    f.learning_rate,
                ),
                step.rectifier.is_some(),
            );
        }
        AdamState {
            param: p_out,
            m: m_out,
            v: v_out,
        }
    }
}
