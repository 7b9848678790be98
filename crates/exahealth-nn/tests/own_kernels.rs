//! The switch between exahealth-kernels' layers and Burn's own: both give
//! the same network outputs and gradients (the kernels are a speed-up, not
//! a different model). A test binary of its own, as the switch is
//! process-wide.

use burn::tensor::{Distribution, Tensor};
use exahealth_nn::models::SmallCnnConfig;
use exahealth_nn::{burn, cpu_train_device, own_kernels, set_own_kernels};

#[test]
fn own_and_burn_layers_agree_on_a_training_step() {
    let device = cpu_train_device();
    device.seed(3);
    let model = SmallCnnConfig::new().init(&device);
    let x = Tensor::<4>::random([3, 3, 32, 32], Distribution::Normal(0.0, 1.0), &device);
    let run = |own: bool| {
        set_own_kernels(own);
        assert_eq!(own_kernels(), own);
        // The input's gradient flows back through every layer.
        let x = x.clone().detach().require_grad();
        let logits = model.forward(x.clone());
        let grads = logits.clone().sum().backward();
        (logits.inner(), x.grad(&grads).expect("input gradient"))
    };
    let (own_logits, own_grad) = run(true);
    let (burn_logits, burn_grad) = run(false);
    set_own_kernels(true);
    let d = (own_logits - burn_logits).abs().max().into_scalar::<f32>();
    assert!(d < 1e-4, "logits differ by {d}");
    let d = (own_grad - burn_grad).abs().max().into_scalar::<f32>();
    assert!(d < 1e-3, "gradients differ by {d}");
}
