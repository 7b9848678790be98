//! Losses against values computed independently here, and autodiff
//! gradients against finite differences.

use burn::tensor::{Int, Tensor, TensorData};
use exahealth_nn::loss::{bce_with_logits, cross_entropy, dice_loss, focal};
use exahealth_nn::{cpu_device, cpu_train_device};

const LOGITS: [[f32; 3]; 2] = [[2.0, -1.0, 0.5], [0.1, 0.2, 3.0]];
const TARGETS: [i64; 2] = [0, 1];

fn log_softmax(row: &[f32; 3]) -> [f64; 3] {
    let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let lse = m + row.iter().map(|&x| (x as f64 - m).exp()).sum::<f64>().ln();
    [
        row[0] as f64 - lse,
        row[1] as f64 - lse,
        row[2] as f64 - lse,
    ]
}

fn scalar(t: Tensor<1>) -> f64 {
    f64::from(t.into_scalar::<f32>())
}

fn inputs(device: &burn::tensor::Device) -> (Tensor<2>, Tensor<1, Int>) {
    let flat: Vec<f32> = LOGITS.iter().flatten().copied().collect();
    (
        Tensor::from_data(TensorData::new(flat, [2, 3]), device),
        Tensor::from_data(TensorData::new(TARGETS.to_vec(), [2]), device),
    )
}

#[test]
fn cross_entropy_matches_pytorchs_definition() {
    let device = cpu_device();
    let lp: Vec<[f64; 3]> = LOGITS.iter().map(log_softmax).collect();
    // Plain mean NLL.
    let plain = -(lp[0][0] + lp[1][1]) / 2.0;
    let (l, t) = inputs(&device);
    assert!((scalar(cross_entropy(l, t, None, 0.0, &device)) - plain).abs() < 1e-5);
    // Weighted: sum_i w_{y_i} nll_i / sum_i w_{y_i}.
    let w = [0.2f32, 3.0, 1.0];
    let weighted = -(0.2 * lp[0][0] + 3.0 * lp[1][1]) / 3.2;
    let (l, t) = inputs(&device);
    assert!((scalar(cross_entropy(l, t, Some(&w), 0.0, &device)) - weighted).abs() < 1e-5);
    // Smoothing 0.1 over 3 classes: (1 - e) nll + e / C * sum_c -logp_c.
    let e = 0.1;
    let smooth: f64 = (0..2)
        .map(|i| {
            let y = TARGETS[i] as usize;
            (1.0 - e) * -lp[i][y] + e / 3.0 * -(lp[i].iter().sum::<f64>())
        })
        .sum::<f64>()
        / 2.0;
    let (l, t) = inputs(&device);
    assert!((scalar(cross_entropy(l, t, None, 0.1, &device)) - smooth).abs() < 1e-5);
    // Weighted and smoothed, PyTorch's form.
    let ws: f64 = (0..2)
        .map(|i| {
            let y = TARGETS[i] as usize;
            let sw: f64 = (0..3).map(|c| w[c] as f64 * -lp[i][c]).sum();
            (1.0 - e) * w[y] as f64 * -lp[i][y] + e / 3.0 * sw
        })
        .sum::<f64>()
        / 3.2;
    let (l, t) = inputs(&device);
    assert!((scalar(cross_entropy(l, t, Some(&w), 0.1, &device)) - ws).abs() < 1e-5);
}

#[test]
fn focal_with_gamma_zero_is_cross_entropy_and_downweights_easy_samples() {
    let device = cpu_device();
    let (l, t) = inputs(&device);
    let ce = scalar(cross_entropy(l.clone(), t.clone(), None, 0.0, &device));
    assert!((scalar(focal(l.clone(), t.clone(), 0.0, None, &device)) - ce).abs() < 1e-5);
    let lp: Vec<[f64; 3]> = LOGITS.iter().map(log_softmax).collect();
    let expected: f64 = (0..2)
        .map(|i| {
            let lpt = lp[i][TARGETS[i] as usize];
            -(1.0 - lpt.exp()).powi(2) * lpt
        })
        .sum::<f64>()
        / 2.0;
    assert!((scalar(focal(l, t, 2.0, None, &device)) - expected).abs() < 1e-5);
}

#[test]
fn bce_with_logits_is_stable_and_exact() {
    let device = cpu_device();
    let x = [0.0f32, 2.0, -3.0, 80.0, -80.0, 1.5];
    let y = [1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let lt = Tensor::<2>::from_data(TensorData::new(x.to_vec(), [2, 3]), &device);
    let yt = Tensor::<2>::from_data(TensorData::new(y.to_vec(), [2, 3]), &device);
    let expected: f64 = x
        .iter()
        .zip(&y)
        .map(|(&x, &y)| {
            let p = 1.0 / (1.0 + (-(x as f64)).exp());
            -(y as f64 * p.max(1e-300).ln() + (1.0 - y as f64) * (1.0 - p).max(1e-300).ln())
        })
        .sum::<f64>()
        / 6.0;
    let got = scalar(bce_with_logits(lt, yt));
    assert!(got.is_finite());
    assert!((got - expected).abs() < 1e-4, "{got} vs {expected}");
}

#[test]
fn dice_is_zero_for_a_perfect_confident_prediction_and_one_minus_overlap_otherwise() {
    let device = cpu_device();
    // 1 image, 2 classes, 2x2 pixels; mask [[1,0],[0,1]].
    let mask =
        Tensor::<3, Int>::from_data(TensorData::new(vec![1i64, 0, 0, 1], [1, 2, 2]), &device);
    let big = 50.0f32;
    let perfect = vec![-big, big, big, -big, big, -big, -big, big];
    let l = Tensor::<4>::from_data(TensorData::new(perfect, [1, 2, 2, 2]), &device);
    assert!(scalar(dice_loss(l, mask.clone(), 0.0)).abs() < 1e-5);
    // Uniform logits: p = 0.5 everywhere; per class dice = 2*1 / (2 + 2) = 0.5.
    let l = Tensor::<4>::zeros([1, 2, 2, 2], &device);
    assert!((scalar(dice_loss(l, mask, 0.0)) - 0.5).abs() < 1e-5);
}

/// Central differences of `f` at `x` against the autodiff gradient.
fn gradient_check(f: impl Fn(Tensor<2>) -> Tensor<1>, x: Vec<f32>, shape: [usize; 2]) {
    let device = cpu_train_device();
    let xt = Tensor::<2>::from_data(TensorData::new(x.clone(), shape), &device).require_grad();
    let grads = f(xt.clone()).backward();
    let g = xt
        .grad(&grads)
        .unwrap()
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    let plain = cpu_device();
    let h = 1e-2f32;
    for i in 0..x.len() {
        let mut up = x.clone();
        up[i] += h;
        let mut down = x.clone();
        down[i] -= h;
        let fu = scalar(f(Tensor::from_data(TensorData::new(up, shape), &plain)));
        let fd = scalar(f(Tensor::from_data(TensorData::new(down, shape), &plain)));
        let numeric = (fu - fd) / (2.0 * h as f64);
        assert!(
            (numeric - g[i] as f64).abs() < 2e-3 + 1e-2 * numeric.abs(),
            "d/dx{i}: numeric {numeric} autodiff {}",
            g[i]
        );
    }
}

#[test]
fn loss_gradients_match_finite_differences() {
    let x: Vec<f32> = LOGITS.iter().flatten().copied().collect();
    let targets = |d: &burn::tensor::Device| {
        Tensor::<1, Int>::from_data(TensorData::new(TARGETS.to_vec(), [2]), d)
    };
    gradient_check(
        |l| {
            let d = l.device();
            cross_entropy(l, targets(&d), Some(&[0.5, 2.0, 1.0]), 0.2, &d)
        },
        x.clone(),
        [2, 3],
    );
    gradient_check(
        |l| {
            let d = l.device();
            focal(l, targets(&d), 2.0, Some(&[0.25, 0.75, 0.5]), &d)
        },
        x.clone(),
        [2, 3],
    );
    gradient_check(
        |l| {
            let d = l.device();
            let y = Tensor::<2>::from_data(
                TensorData::new(vec![1.0f32, 0.0, 1.0, 0.0, 0.0, 1.0], [2, 3]),
                &d,
            );
            bce_with_logits(l, y)
        },
        x.clone(),
        [2, 3],
    );
    // Dice through a [2, 3] -> [1, 2, 3, 1] view: 2 classes over 3 pixels.
    gradient_check(
        |l| {
            let d = l.device();
            let m = Tensor::<3, Int>::from_data(TensorData::new(vec![1i64, 0, 1], [1, 3, 1]), &d);
            dice_loss(l.reshape([1, 2, 3, 1]), m, 1.0)
        },
        x,
        [2, 3],
    );
}
