//! The backward passes under autodiff over Flex.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::ops::ModuleOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex, TensorMetadata};
use burn::tensor::Shape;
use burn_flex::FlexTensor;
use exahealth_kernels::{ConvGeometry, PoolGeometry};

use super::backend::{dims4, from_vec, norm_shape, with_f32, GeometryShapes, KernelBackend};

/// Which way a convolution runs: as itself, or transposed (the input
/// gradient of the convolution its geometry describes, U-Net's upsampling).
#[derive(Clone, Copy, Debug)]
enum Direction {
    Forward,
    Transposed,
}

/// The convolution of `x` and `weight` in `direction`, on Flex.
fn convolve(
    direction: Direction,
    x: FlexTensor,
    weight: FlexTensor,
    geometry: ConvGeometry,
) -> FlexTensor {
    match direction {
        Direction::Forward => Flex::exa_conv2d(x, weight, geometry),
        Direction::Transposed => Flex::exa_conv_transpose2d(x, weight, geometry),
    }
}

/// [`convolve`] recorded for autodiff.
fn tracked_convolution<C: CheckpointStrategy>(
    direction: Direction,
    x: FloatTensor<Autodiff<Flex, C>>,
    weight: FloatTensor<Autodiff<Flex, C>>,
    geometry: ConvGeometry,
) -> FloatTensor<Autodiff<Flex, C>> {
    match ConvBackward
        .prepare::<C>([x.node(), weight.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_id = prep.checkpoint(&x);
            let weight_id = prep.checkpoint(&weight);
            let out = convolve(
                direction,
                x.into_primitive(),
                weight.into_primitive(),
                geometry,
            );
            prep.finish((x_id, weight_id, geometry, direction), out)
        }
        OpsKind::UnTracked(prep) => prep.finish(convolve(
            direction,
            x.into_primitive(),
            weight.into_primitive(),
            geometry,
        )),
    }
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    /// The checkpointed input and weights, the geometry and the direction.
    type State = (NodeId, NodeId, ConvGeometry, Direction);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let out_grad = grads.consume::<Flex>(&ops.node);
        let (x_id, weight_id, geometry, direction) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        let weight: FlexTensor = checkpointer.retrieve_node_output(weight_id);
        if let Some(node) = node_x {
            let grad = match direction {
                Direction::Forward => from_vec(
                    with_f32(&weight, |w| {
                        with_f32(&out_grad, |g| {
                            exahealth_kernels::conv2d_input_grad(w, g, &geometry)
                        })
                    }),
                    geometry.input_shape(),
                ),
                // Transposing back is the convolution itself.
                Direction::Transposed => from_vec(
                    with_f32(&out_grad, |g| {
                        with_f32(&weight, |w| exahealth_kernels::conv2d(g, w, &geometry))
                    }),
                    geometry.output_shape(),
                ),
            };
            grads.register::<Flex>(node.id, grad);
        }
        if let Some(node) = node_weight {
            // The weight gradient pairs the convolution's input with its
            // output gradient; transposed, those are the output gradient
            // and `x`.
            let (input, output_grad) = match direction {
                Direction::Forward => (&x, &out_grad),
                Direction::Transposed => (&out_grad, &x),
            };
            let grad = with_f32(input, |i| {
                with_f32(output_grad, |g| {
                    exahealth_kernels::conv2d_weight_grad(i, g, &geometry)
                })
            });
            grads.register::<Flex>(node.id, from_vec(grad, geometry.weight_shape()));
        }
    }
}

/// The max-pool of `x`: the 2x2 stride-2 kernel without a geometry, the
/// general one with.
fn pool(x: FlexTensor, geometry: Option<PoolGeometry>) -> FlexTensor {
    match geometry {
        None => Flex::exa_max_pool_2x2(x),
        Some(geometry) => Flex::exa_max_pool2d(x, geometry),
    }
}

/// [`pool`] recorded for autodiff.
fn tracked_pool<C: CheckpointStrategy>(
    x: FloatTensor<Autodiff<Flex, C>>,
    geometry: Option<PoolGeometry>,
) -> FloatTensor<Autodiff<Flex, C>> {
    match MaxPoolBackward
        .prepare::<C>([x.node()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(mut prep) => {
            let x_id = prep.checkpoint(&x);
            prep.finish((x_id, geometry), pool(x.into_primitive(), geometry))
        }
        OpsKind::UnTracked(prep) => prep.finish(pool(x.into_primitive(), geometry)),
    }
}

#[derive(Debug)]
struct MaxPoolBackward;

impl Backward<Flex, 1> for MaxPoolBackward {
    /// The checkpointed input (the maxima are found again from it) and the
    /// general pool's geometry.
    type State = (NodeId, Option<PoolGeometry>);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let out_grad = grads.consume::<Flex>(&ops.node);
        let (x_id, geometry) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        if let Some(node) = node_x {
            let [n, c, h, w] = dims4(&x);
            let grad = with_f32(&x, |x| {
                with_f32(&out_grad, |g| match &geometry {
                    None => exahealth_kernels::max_pool_2x2_grad(x, g, n * c, [h, w]),
                    Some(geometry) => exahealth_kernels::max_pool2d_grad(x, g, geometry),
                })
            });
            grads.register::<Flex>(node.id, from_vec(grad, x.shape()));
        }
    }
}

#[derive(Debug)]
struct BatchNormBackward;

impl Backward<Flex, 3> for BatchNormBackward {
    /// The checkpointed input and gamma, the batch statistics and epsilon.
    type State = (NodeId, NodeId, FlexTensor, FlexTensor, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let out_grad = grads.consume::<Flex>(&ops.node);
        let (x_id, gamma_id, mean, variance, epsilon) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        let gamma: FlexTensor = checkpointer.retrieve_node_output(gamma_id);
        let shape = norm_shape(&x);
        let result = with_f32(&x, |x| {
            with_f32(&out_grad, |g| {
                with_f32(&gamma, |gamma| {
                    with_f32(&mean, |mean| {
                        with_f32(&variance, |var| {
                            exahealth_kernels::batch_norm_train_grad(
                                x, g, shape, gamma, mean, var, epsilon,
                            )
                        })
                    })
                })
            })
        });
        let grads_of = result.unwrap_or_else(|e| panic!("batch norm kernel: {e}"));
        let channels = Shape::new([shape.channels]);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, from_vec(Ok(grads_of.x), x.shape()));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, from_vec(Ok(grads_of.gamma), channels.clone()));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, from_vec(Ok(grads_of.beta), channels));
        }
    }
}

impl<C: CheckpointStrategy> KernelBackend for Autodiff<Flex, C> {
    fn exa_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        tracked_convolution::<C>(Direction::Transposed, x, weight, geometry)
    }

    fn exa_max_pool2d(x: FloatTensor<Self>, geometry: PoolGeometry) -> FloatTensor<Self> {
        tracked_pool::<C>(x, Some(geometry))
    }

    fn exa_batch_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        // Callers use the fused pass without autodiff only; here Burn's
        // composition keeps the gradients right.
        Self::batch_norm(x, gamma, beta, mean, variance, epsilon)
    }

    fn exa_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let prepared = BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful();
        match prepared {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let gamma_id = prep.checkpoint(&gamma);
                let (out, mean, variance) = Flex::exa_batch_norm_train(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                let state = (x_id, gamma_id, mean.clone(), variance.clone(), epsilon);
                let out = prep.finish(state, out);
                (
                    out,
                    <FloatTensor<Self>>::new(mean),
                    <FloatTensor<Self>>::new(variance),
                )
            }
            OpsKind::UnTracked(prep) => {
                let (out, mean, variance) = Flex::exa_batch_norm_train(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                (
                    prep.finish(out),
                    <FloatTensor<Self>>::new(mean),
                    <FloatTensor<Self>>::new(variance),
                )
            }
        }
    }

    fn exa_max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        tracked_pool::<C>(x, None)
    }

    fn exa_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        tracked_convolution::<C>(Direction::Forward, x, weight, geometry)
    }
}
