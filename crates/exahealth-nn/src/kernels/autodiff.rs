//! The backward passes under autodiff over Flex.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::NodeId;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Flex};
use burn::tensor::Shape;
use burn_flex::FlexTensor;
use exahealth_kernels::ConvGeometry;

use super::backend::{dims4, from_vec, with_f32, ConvBackend, GeometryShapes};

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 2> for ConvBackward {
    /// The checkpointed input and weights, and the geometry.
    type State = (NodeId, NodeId, ConvGeometry);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let out_grad = grads.consume::<Flex>(&ops.node);
        let (x_id, weight_id, geometry) = ops.state;
        let x: FlexTensor = checkpointer.retrieve_node_output(x_id);
        let weight: FlexTensor = checkpointer.retrieve_node_output(weight_id);
        if let Some(node) = node_x {
            let grad = with_f32(&weight, |w| {
                with_f32(&out_grad, |g| {
                    exahealth_kernels::conv2d_input_grad(w, g, &geometry)
                })
            });
            grads.register::<Flex>(node.id, from_vec(grad, geometry.input_shape()));
        }
        if let Some(node) = node_weight {
            let grad = with_f32(&x, |x| {
                with_f32(&out_grad, |g| {
                    exahealth_kernels::conv2d_weight_grad(x, g, &geometry)
                })
            });
            grads.register::<Flex>(node.id, from_vec(grad, geometry.weight_shape()));
        }
    }
}

#[derive(Debug)]
struct MaxPoolBackward;

impl Backward<Flex, 1> for MaxPoolBackward {
    /// The checkpointed input: the maxima are found again from it.
    type State = NodeId;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x] = ops.parents;
        let out_grad = grads.consume::<Flex>(&ops.node);
        let x: FlexTensor = checkpointer.retrieve_node_output(ops.state);
        if let Some(node) = node_x {
            let [n, c, h, w] = dims4(&x);
            let grad = with_f32(&x, |x| {
                with_f32(&out_grad, |g| {
                    exahealth_kernels::max_pool_2x2_grad(x, g, n * c, [h, w])
                })
            });
            grads.register::<Flex>(node.id, from_vec(grad, Shape::new([n, c, h, w])));
        }
    }
}

impl<C: CheckpointStrategy> ConvBackend for Autodiff<Flex, C> {
    fn exa_max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self> {
        match MaxPoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                prep.finish(x_id, Flex::exa_max_pool_2x2(x.into_primitive()))
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::exa_max_pool_2x2(x.into_primitive())),
        }
    }

    fn exa_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self> {
        match ConvBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_id = prep.checkpoint(&x);
                let weight_id = prep.checkpoint(&weight);
                let out = Flex::exa_conv2d(x.into_primitive(), weight.into_primitive(), geometry);
                prep.finish((x_id, weight_id, geometry), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(Flex::exa_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                geometry,
            )),
        }
    }
}
