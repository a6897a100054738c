//! [`TrainOps`] for Burn's Flex backend, the trainer's CPU backend: the CPU arithmetic of
//! [`super::depthwise`] and [`super::batch_norm`] on the tensors' own memory (no copy when it is
//! already contiguous).

use burn::backend::flex::FlexTensor;
use burn::backend::Flex;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{DType, TensorData, TensorMetadata};
use std::borrow::Cow;

use super::pieces::par_pieces;
use super::{
    batch_norm, depthwise, radam, AdamState, DepthwiseGeometry, Normalisation, RAdamStep, TrainOps,
};

/// A float32 tensor's values in row-major order, borrowed where they already are.
fn values(t: &FlexTensor) -> Cow<'_, [f32]> {
    match t.as_slice::<f32>() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            t.to_contiguous()
                .as_slice::<f32>()
                .unwrap_or_else(|| {
                    panic!(
                        "lensforge's operations take float32 tensors, not {:?}",
                        t.dtype()
                    )
                })
                .to_vec(),
        ),
    }
}

fn dims(t: &FlexTensor) -> Vec<usize> {
    t.shape().to_vec()
}

/// A contiguous tensor of `shape` owning `v`.
fn tensor(v: Vec<f32>, shape: &[usize]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(v, shape.to_vec()))
}

/// The shape of a float32 tensor and its strides in values, with the batch dimensions padded on
/// the left to `rank` (size 1, stride 0).
fn padded_layout(t: &FlexTensor, rank: usize) -> (Vec<usize>, Vec<isize>) {
    assert_eq!(
        t.dtype(),
        DType::F32,
        "lensforge multiplies float32 tensors, not {:?}",
        t.dtype()
    );
    let (shape, strides) = (dims(t), t.layout().strides());
    let pad = rank - shape.len();
    let mut s = vec![1; pad];
    s.extend(&shape);
    let mut st = vec![0; pad];
    st.extend(strides);
    (s, st)
}

/// `lhs`·`rhs` over their last two dimensions ([…, m, k]·[…, k, n] → […, m, n]), the batch
/// dimensions broadcast, each product one `gemm` call on the operands' own strides (transposed
/// views are not copied) writing straight into the result. Flex's own matmul does the same
/// products but zero-fills a byte buffer and copies it to realign it, two serial passes over
/// every result that took a tenth of a B2 training step on 2 cores. The threads are used as
/// Flex uses them: several products at once when there are several, else one product split.
fn matmul(lhs: &FlexTensor, rhs: &FlexTensor) -> FlexTensor {
    let rank = lhs.shape().num_dims().max(rhs.shape().num_dims());
    assert!(
        rank >= 2,
        "a matrix product takes tensors of rank 2 or more"
    );
    let (ls, lst) = padded_layout(lhs, rank);
    let (rs, rst) = padded_layout(rhs, rank);
    let (m, k, n) = (ls[rank - 2], ls[rank - 1], rs[rank - 1]);
    assert_eq!(k, rs[rank - 2], "matrix product of {ls:?} by {rs:?}");
    let batch_shape: Vec<usize> = (0..rank - 2)
        .map(|d| match (ls[d], rs[d]) {
            (a, b) if a == b || b == 1 => a,
            (1, b) => b,
            _ => panic!("matrix product of {ls:?} by {rs:?}: batch dimensions differ"),
        })
        .collect();
    let batch: usize = batch_shape.iter().product();
    // The offset of product `b`'s operand: its batch index times the strides, 0 where broadcast.
    let offset = |b: usize, shape: &[usize], strides: &[isize], start: usize| -> isize {
        let (mut rest, mut at) = (b, start as isize);
        for d in (0..rank - 2).rev() {
            let i = rest % batch_shape[d];
            rest /= batch_shape[d];
            if shape[d] != 1 {
                at += i as isize * strides[d];
            }
        }
        at
    };
    let (l_values, r_values) = (lhs.storage::<f32>(), rhs.storage::<f32>());
    let (l_start, r_start) = (lhs.layout().start_offset(), rhs.layout().start_offset());
    let one = |b: usize, out: &mut [f32], parallelism: gemm::Parallelism| {
        let l = offset(b, &ls, &lst, l_start);
        let r = offset(b, &rs, &rst, r_start);
        // SAFETY: every index gemm forms from these pointers and strides lies inside the
        // operands' storage (their layouts describe it) and inside `out`, m·n values with rows n
        // apart; `read_dst` is false, so `out` is only written.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                out.as_mut_ptr(),
                1,
                n as isize,
                false,
                l_values.as_ptr().offset(l),
                lst[rank - 1],
                lst[rank - 2],
                r_values.as_ptr().offset(r),
                rst[rank - 1],
                rst[rank - 2],
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            )
        }
    };
    let shape = [batch_shape.clone(), vec![m, n]].concat();
    if m * n == 0 || k == 0 {
        return tensor(vec![0.0; batch * m * n], &shape);
    }
    // Flex's thresholds (burn-flex 0.21, ops/matmul.rs), in multiply-adds: products side by side
    // when there are several of enough work, unless fewer than four large ones are better split.
    let (work, total) = (m * n * k, batch * m * n * k);
    let (large, enough) = (work >= 192 * 192 * 192, total >= 128 * 128 * 128);
    if batch > 1 && enough && (batch >= 4 || !large) {
        let (out, _) = par_pieces(
            batch * m * n,
            m * n,
            || (),
            |_, b, o| one(b, o, gemm::Parallelism::None),
        );
        return tensor(out, &shape);
    }
    let parallelism = match large {
        true => gemm::Parallelism::Rayon(0),
        false => gemm::Parallelism::None,
    };
    let mut out = vec![0.0f32; batch * m * n];
    for (b, o) in out.chunks_mut(m * n).enumerate() {
        one(b, o, parallelism);
    }
    tensor(out, &shape)
}

impl TrainOps for Flex {
    fn matmul_f32(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        // In f32 (`gemm`) whatever the precision setting.
        matmul(&lhs, &rhs)
    }

    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&x);
        let y = depthwise::forward(&values(&x), &values(&weight), d[1], &g);
        tensor(y, &[d[0], d[1], g.output[0], g.output[1]])
    }
    fn depthwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&grad);
        let dx = depthwise::backward_x(&values(&weight), &values(&grad), d[1], &g);
        tensor(dx, &[d[0], d[1], g.input[0], g.input[1]])
    }
    fn depthwise_conv2d_weight_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        let d = dims(&x);
        let dw = depthwise::backward_weight(&values(&x), &values(&grad), d[1], &g);
        tensor(dw, &[d[1], 1, g.kernel, g.kernel])
    }
    fn channel_moments(x: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let (m, v) = batch_norm::channel_moments(&values(&x), d[1], plane);
        (tensor(m, &[d[1]]), tensor(v, &[d[1]]))
    }
    fn batch_norm(n: Normalisation<Self>) -> FloatTensor<Self> {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let y = batch_norm::forward(
            &values(&x),
            &values(&mean),
            &values(&var),
            &values(&gamma),
            &values(&beta),
            epsilon,
            act,
            plane,
        );
        tensor(y, &d)
    }
    fn batch_norm_backward(
        n: Normalisation<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let d = dims(&x);
        let plane = d[2..].iter().product();
        let (dx, dg, db) = batch_norm::backward(
            &values(&x),
            &values(&mean),
            &values(&var),
            &values(&gamma),
            &values(&beta),
            &values(&grad),
            epsilon,
            act,
            plane,
        );
        (tensor(dx, &d), tensor(dg, &[d[1]]), tensor(db, &[d[1]]))
    }

    fn radam_update(
        state: AdamState<Self>,
        grad: FloatTensor<Self>,
        step: RAdamStep,
    ) -> AdamState<Self> {
        let AdamState { param, m, v } = state;
        let d = dims(&param);
        let (p, m, v) = radam::update(
            &values(&param),
            &values(&grad),
            &values(&m),
            &values(&v),
            &step,
        );
        AdamState {
            param: tensor(p, &d),
            m: tensor(m, &d),
            v: tensor(v, &d),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::device::Cpu;
    use burn::tensor::{Distribution, Tensor};

    fn random<const D: usize>(shape: [usize; D]) -> Tensor<Cpu, D> {
        Tensor::random(shape, Distribution::Normal(0.0, 1.0), &Default::default())
    }

    fn values<const D: usize>(t: Tensor<Cpu, D>) -> (Vec<usize>, Vec<f32>) {
        (t.dims().to_vec(), t.into_data().to_vec().unwrap())
    }

    #[test]
    fn the_product_equals_flexs_own_on_views_and_broadcasts() {
        // The reference: Flex's own matmul, which makes the same gemm calls with the same
        // threading, so the values must agree bit for bit, on every path: one small product, one
        // large product split over the threads, several products side by side, broadcast batch
        // dimensions, transposed (strided) operands as the backward pass gives them, and sizes
        // that are not multiples of the SIMD width.
        let cases: Vec<(Tensor<Cpu, 4>, Tensor<Cpu, 4>)> = vec![
            (random([1, 1, 7, 5]), random([1, 1, 5, 9])),
            (random([1, 1, 200, 210]), random([1, 1, 210, 197])),
            (random([1, 1, 24, 144]), random([2, 8, 144, 2500])),
            (random([2, 1, 3, 4]), random([1, 5, 4, 2])),
            (random([1, 3, 13, 40]), random([1, 1, 40, 11])),
            (
                random([1, 8, 300, 16]).swap_dims(2, 3),
                random([1, 8, 300, 24]),
            ),
            (
                random([1, 8, 40, 300]),
                random([1, 1, 17, 300]).swap_dims(2, 3),
            ),
            (
                random([1, 1, 9, 6]).swap_dims(2, 3),
                random([1, 1, 33, 9]).swap_dims(2, 3),
            ),
        ];
        for (lhs, rhs) in cases {
            let ours = values(crate::ops::matmul(lhs.clone(), rhs.clone()));
            let flex = values(lhs.clone().matmul(rhs.clone()));
            assert_eq!(ours.0, flex.0, "shape of {:?}·{:?}", lhs.dims(), rhs.dims());
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert!(
                bits(&ours.1) == bits(&flex.1),
                "values of {:?}·{:?}",
                lhs.dims(),
                rhs.dims()
            );
        }
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros() {
        // The sum over no terms is 0 (and an empty result has no values).
        let (shape, v) = values(crate::ops::matmul(random([1, 3, 0]), random([1, 0, 4])));
        assert_eq!(shape, [1, 3, 4]);
        assert!(v.iter().all(|&x| x == 0.0));
        let (shape, v) = values(crate::ops::matmul(random([2, 0, 5]), random([1, 5, 4])));
        assert_eq!((shape, v.len()), (vec![2, 0, 4], 0));
    }
}
