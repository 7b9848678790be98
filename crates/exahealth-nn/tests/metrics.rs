//! Metrics on small cases worked out by hand, and the ROC AUC against a
//! brute-force pair count.

use exahealth_nn::metrics::{
    accuracy, argmax_rows, balanced_accuracy, cohen_kappa, dice, iou, precision_recall_f1,
    roc_auc_binary, roc_auc_ovr_macro, ClassificationReport, ConfusionMatrix, KappaWeights,
    MaskCounts, MetricsError, SegmentationReport,
};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

// truth [0,0,1,1,2,2,2], pred [0,1,1,1,2,0,2]:
//            pred 0 1 2
//   truth 0:      1 1 0   support 2
//   truth 1:      0 2 0   support 2
//   truth 2:      1 0 2   support 3
//   predicted:    2 3 2
// accuracy 5/7; precision [1/2, 2/3, 1]; recall [1/2, 1, 2/3];
// F1 [1/2, 4/5, 4/5] -> macro F1 0.7; balanced accuracy (1/2 + 1 + 2/3) / 3.
// kappa: po = 5/7, pe = (2*2 + 2*3 + 3*2) / 49 = 16/49 -> (35 - 16) / (49 - 16) = 19/33.
// quadratic: sum w*O = 1*1 (0->1) + 4*1 (2->0) = 5;
// sum w*r_i*c_j / 7 = (6 + 16 + 4 + 4 + 24 + 9) / 7 = 9 -> 1 - 5/9 = 4/9.
const TRUTH: [usize; 7] = [0, 0, 1, 1, 2, 2, 2];
const PRED: [usize; 7] = [0, 1, 1, 1, 2, 0, 2];

#[test]
fn confusion_matrix_and_label_metrics_by_hand() {
    let cm = ConfusionMatrix::from_labels(&TRUTH, &PRED, 3).unwrap();
    assert_eq!(cm.rows(), vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 2]]);
    assert_eq!(cm.row_sums(), vec![2, 2, 3]);
    assert_eq!(cm.col_sums(), vec![2, 3, 2]);
    close(accuracy(&cm).unwrap(), 5.0 / 7.0);
    close(
        balanced_accuracy(&cm).unwrap(),
        (0.5 + 1.0 + 2.0 / 3.0) / 3.0,
    );
    let (per, micro) = precision_recall_f1(&cm);
    for (got, want) in per.precision.iter().zip([0.5, 2.0 / 3.0, 1.0]) {
        close(*got, want);
    }
    for (got, want) in per.recall.iter().zip([0.5, 1.0, 2.0 / 3.0]) {
        close(*got, want);
    }
    for (got, want) in per.f1.iter().zip([0.5, 0.8, 0.8]) {
        close(*got, want);
    }
    close(per.macro_avg().f1, 0.7);
    close(micro.f1, 5.0 / 7.0);
    // weighted F1 = (2*0.5 + 2*0.8 + 3*0.8) / 7
    close(per.weighted_avg().f1, 5.0 / 7.0);
    close(cohen_kappa(&cm, KappaWeights::None).unwrap(), 19.0 / 33.0);
    close(
        cohen_kappa(&cm, KappaWeights::Quadratic).unwrap(),
        4.0 / 9.0,
    );
}

#[test]
fn report_round_trips_through_json() {
    let r = ClassificationReport::from_labels(&TRUTH, &PRED, 3).unwrap();
    close(r.kappa.unwrap(), 19.0 / 33.0);
    assert_eq!(r.roc_auc, None);
    let text = serde_json::to_string(&r).unwrap();
    let back: ClassificationReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    let set = r.metric_set();
    close(set.get("f1_macro").unwrap(), 0.7);
    assert!(set.get("auc").is_none());
}

#[test]
fn undefined_and_invalid_inputs_are_errors() {
    assert_eq!(
        ConfusionMatrix::from_labels(&[0, 1], &[0], 2),
        Err(MetricsError::Length {
            what: "predictions",
            got: 1,
            expected: 2
        })
    );
    assert!(matches!(
        ConfusionMatrix::from_labels(&[0, 3], &[0, 1], 3),
        Err(MetricsError::ClassOutOfRange { index: 3, .. })
    ));
    let empty = ConfusionMatrix::new(2).unwrap();
    assert_eq!(accuracy(&empty), Err(MetricsError::Empty));
    // One class everywhere: chance agreement is total, kappa undefined.
    let one = ConfusionMatrix::from_labels(&[1, 1], &[1, 1], 2).unwrap();
    assert!(matches!(
        cohen_kappa(&one, KappaWeights::None),
        Err(MetricsError::Undefined(_))
    ));
    assert!(matches!(
        roc_auc_binary(&[true, true], &[0.1, 0.2]),
        Err(MetricsError::Undefined(_))
    ));
    assert!(matches!(
        roc_auc_binary(&[true, false], &[f64::NAN, 0.2]),
        Err(MetricsError::NonFinite { index: 0, .. })
    ));
    assert!(ConfusionMatrix::new(0).is_err());
}

// positives score {0.9, 0.4, 0.2}, negatives {0.9, 0.3}; of the 6 pairs the
// positive wins 0.9>0.3 and 0.4>0.3, ties 0.9=0.9 (1/2): AUC = 2.5 / 6.
#[test]
fn auc_with_ties_by_hand() {
    let pos = [true, false, true, false, true];
    let s = [0.9, 0.9, 0.4, 0.3, 0.2];
    close(roc_auc_binary(&pos, &s).unwrap(), 2.5 / 6.0);
    // Two-class score matrix: class 1's column is the score.
    let truth = [1, 0, 1, 0, 1];
    let m: Vec<f64> = s.iter().flat_map(|&v| [1.0 - v, v]).collect();
    close(roc_auc_ovr_macro(&truth, &m, 2).unwrap(), 2.5 / 6.0);
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn auc_equals_brute_force_pair_count() {
    let mut rng = Lcg(7);
    for n in [2usize, 5, 40, 301] {
        let pos: Vec<bool> = (0..n)
            .map(|i| i == 0 || (i > 1 && rng.next() % 3 == 0))
            .collect();
        // Coarse scores so that ties are common.
        let s: Vec<f64> = (0..n).map(|_| (rng.next() % 10) as f64 / 10.0).collect();
        let (mut wins, mut pairs) = (0.0, 0.0);
        for i in (0..n).filter(|&i| pos[i]) {
            for j in (0..n).filter(|&j| !pos[j]) {
                pairs += 1.0;
                wins += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
        close(roc_auc_binary(&pos, &s).unwrap(), wins / pairs);
        // A strictly increasing transform of the scores keeps the AUC.
        let t: Vec<f64> = s.iter().map(|v| (3.0 * v).exp()).collect();
        close(roc_auc_binary(&pos, &t).unwrap(), wins / pairs);
    }
}

#[test]
fn argmax_takes_first_maximum() {
    assert_eq!(
        argmax_rows(&[0.2, 0.5, 0.5, f32::NAN, 0.1, 0.0], 3).unwrap(),
        vec![1, 1]
    );
    assert!(argmax_rows(&[0.0; 5], 3).is_err());
}

// pred [1,1,0,0,1], truth [1,0,0,1,1]: tp 2, fp 1, fn 1 ->
// Dice 4/6, IoU 2/4.
#[test]
fn dice_and_iou_by_hand() {
    let p = [true, true, false, false, true];
    let t = [true, false, false, true, true];
    close(dice(&p, &t).unwrap(), 2.0 / 3.0);
    close(iou(&p, &t).unwrap(), 0.5);
    close(dice(&[false; 4], &[false; 4]).unwrap(), 1.0);
    close(iou(&[true, false], &[false, true]).unwrap(), 0.0);
    assert!(dice(&p, &t[..4]).is_err());

    // Label maps, 3 classes: class 1 has tp 1 fp 1 fn 1, class 2 tp 1 fn 1.
    let pred = [0, 1, 1, 2, 0];
    let truth = [0, 1, 2, 2, 1];
    let r = SegmentationReport::from_label_maps(&pred, &truth, 3).unwrap();
    close(r.dice[1], 0.5);
    close(r.dice[2], 2.0 / 3.0);
    close(r.mean_dice, (0.5 + 2.0 / 3.0) / 2.0);
    close(r.iou[2], 0.5);
    let mut pooled = MaskCounts::default();
    for c in &r.counts {
        pooled.add(*c);
    }
    assert_eq!(pooled.tp, 3);
}
