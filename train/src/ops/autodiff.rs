//! [`TrainOps`] for `Autodiff<B>`: each operation is one node of Burn's autodiff graph whose
//! backward step calls the inner backend's backward operations (Burn's documented way of adding
//! an operation with its own backward pass to a backend).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{broadcast_shape, Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::Autodiff;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::ops::FloatTensor;
use burn::tensor::{Shape, TensorMetadata};

use super::{Activation, AdamState, DepthwiseGeometry, Normalisation, RAdamStep, TrainOps};

#[derive(Debug)]
struct DepthwiseBackward;

impl<B: TrainOps> Backward<B, 2> for DepthwiseBackward {
    type State = (NodeId, NodeId, DepthwiseGeometry);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, weight_state, g) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_state);
        let weight: FloatTensor<B> = checkpointer.retrieve_node_output(weight_state);
        if let Some(node) = node_weight {
            let dw = B::depthwise_conv2d_weight_backward(x, grad.clone(), g);
            grads.register::<B>(node.id, dw);
        }
        if let Some(node) = node_x {
            let dx = B::depthwise_conv2d_x_backward(weight, grad, g);
            grads.register::<B>(node.id, dx);
        }
    }
}

#[derive(Debug)]
struct MatmulBackward;

impl<B: TrainOps> Backward<B, 2> for MatmulBackward {
    /// lhs, rhs and their shapes (for the gradients of broadcast batch dimensions).
    type State = (NodeId, NodeId, Shape, Shape);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_lhs, node_rhs] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (lhs_state, rhs_state, lhs_shape, rhs_shape) = ops.state;
        let lhs: FloatTensor<B> = checkpointer.retrieve_node_output(lhs_state);
        let rhs: FloatTensor<B> = checkpointer.retrieve_node_output(rhs_state);
        if let Some(node) = node_lhs {
            let d = B::matmul_f32(grad.clone(), B::float_transpose(rhs));
            grads.register::<B>(node.id, broadcast_shape::<B>(d, &lhs_shape));
        }
        if let Some(node) = node_rhs {
            let d = B::matmul_f32(B::float_transpose(lhs), grad);
            grads.register::<B>(node.id, broadcast_shape::<B>(d, &rhs_shape));
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl<B: TrainOps> Backward<B, 3> for BatchNormBackward {
    /// x, γ, β, the batch mean and variance, ε, the activation.
    type State = (
        NodeId,
        NodeId,
        NodeId,
        FloatTensor<B>,
        FloatTensor<B>,
        f64,
        Activation,
    );

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x_state, gamma_state, beta_state, mean, var, epsilon, act) = ops.state;
        let x: FloatTensor<B> = checkpointer.retrieve_node_output(x_state);
        let gamma: FloatTensor<B> = checkpointer.retrieve_node_output(gamma_state);
        let beta: FloatTensor<B> = checkpointer.retrieve_node_output(beta_state);
        let (dx, dgamma, dbeta) = B::batch_norm_backward(
            Normalisation {
                x,
                mean,
                var,
                gamma,
                beta,
                epsilon,
                act,
            },
            grad,
        );
        if let Some(node) = node_x {
            grads.register::<B>(node.id, dx);
        }
        if let Some(node) = node_gamma {
            grads.register::<B>(node.id, dgamma);
        }
        if let Some(node) = node_beta {
            grads.register::<B>(node.id, dbeta);
        }
    }
}

impl<B: TrainOps, C: CheckpointStrategy> TrainOps for Autodiff<B, C> {
    fn depthwise_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        match DepthwiseBackward
            .prepare::<C>([x.node.clone(), weight.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let y = B::depthwise_conv2d(x.primitive, weight.primitive, g);
                prep.finish((x_state, weight_state, g), y)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::depthwise_conv2d(x.primitive, weight.primitive, g))
            }
        }
    }

    fn depthwise_conv2d_x_backward(
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        // Not differentiated again: second derivatives are not needed for training.
        Self::from_inner(B::depthwise_conv2d_x_backward(
            Self::inner(weight),
            Self::inner(grad),
            g,
        ))
    }

    fn depthwise_conv2d_weight_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        g: DepthwiseGeometry,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::depthwise_conv2d_weight_backward(
            Self::inner(x),
            Self::inner(grad),
            g,
        ))
    }

    fn matmul_f32(lhs: FloatTensor<Self>, rhs: FloatTensor<Self>) -> FloatTensor<Self> {
        match MatmulBackward
            .prepare::<C>([lhs.node.clone(), rhs.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let lhs_state = prep.checkpoint(&lhs);
                let rhs_state = prep.checkpoint(&rhs);
                let shapes = (lhs.primitive.shape(), rhs.primitive.shape());
                let y = B::matmul_f32(lhs.primitive, rhs.primitive);
                prep.finish((lhs_state, rhs_state, shapes.0, shapes.1), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::matmul_f32(lhs.primitive, rhs.primitive)),
        }
    }

    fn channel_moments(x: FloatTensor<Self>) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (mean, var) = B::channel_moments(Self::inner(x));
        (Self::from_inner(mean), Self::from_inner(var))
    }

    fn batch_norm(n: Normalisation<Self>) -> FloatTensor<Self> {
        let ([x, mean, var, gamma, beta], epsilon, act) = n.into_parts();
        let (mean, var) = (Self::inner(mean), Self::inner(var));
        match BatchNormBackward
            .prepare::<C>([x.node.clone(), gamma.node.clone(), beta.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let beta_state = prep.checkpoint(&beta);
                let y = B::batch_norm(Normalisation {
                    x: x.primitive,
                    mean: mean.clone(),
                    var: var.clone(),
                    gamma: gamma.primitive,
                    beta: beta.primitive,
                    epsilon,
                    act,
                });
                let state = (x_state, gamma_state, beta_state, mean, var, epsilon, act);
                prep.finish(state, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::batch_norm(Normalisation {
                x: x.primitive,
                mean,
                var,
                gamma: gamma.primitive,
                beta: beta.primitive,
                epsilon,
                act,
            })),
        }
    }

    fn batch_norm_backward(
        n: Normalisation<Self>,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let n = Normalisation {
            x: Self::inner(n.x),
            mean: Self::inner(n.mean),
            var: Self::inner(n.var),
            gamma: Self::inner(n.gamma),
            beta: Self::inner(n.beta),
            epsilon: n.epsilon,
            act: n.act,
        };
        let (dx, dgamma, dbeta) = B::batch_norm_backward(n, Self::inner(grad));
        (
            Self::from_inner(dx),
            Self::from_inner(dgamma),
            Self::from_inner(dbeta),
        )
    }

    fn radam_update(
        state: AdamState<Self>,
        grad: FloatTensor<Self>,
        step: RAdamStep,
    ) -> AdamState<Self> {
        let state = AdamState {
            param: Self::inner(state.param),
            m: Self::inner(state.m),
            v: Self::inner(state.v),
        };
        let AdamState { param, m, v } = B::radam_update(state, Self::inner(grad), step);
        AdamState {
            param: Self::from_inner(param),
            m: Self::from_inner(m),
            v: Self::from_inner(v),
        }
    }
}
