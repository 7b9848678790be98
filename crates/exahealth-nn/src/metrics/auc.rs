//! ROC AUC as the Mann-Whitney U statistic.

use super::MetricsError;

/// Area under the ROC curve for binary labels and scores of the positive
/// class: the probability that a random positive scores above a random
/// negative, ties counting one half. Computed from mid-ranks in
/// `O(n log n)`; equal to the trapezoidal area under the ROC curve.
pub fn roc_auc_binary(positive: &[bool], scores: &[f64]) -> Result<f64, MetricsError> {
    if positive.len() != scores.len() {
        return Err(MetricsError::Length {
            what: "scores",
            got: scores.len(),
            expected: positive.len(),
        });
    }
    if positive.is_empty() {
        return Err(MetricsError::Empty);
    }
    if let Some((index, &value)) = scores.iter().enumerate().find(|(_, s)| !s.is_finite()) {
        return Err(MetricsError::NonFinite { index, value });
    }
    let n_pos = positive.iter().filter(|&&p| p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Err(MetricsError::Undefined(
            "ROC AUC needs both positive and negative samples",
        ));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum_pos = 0.0;
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mid_rank = (start + 1 + end) as f64 / 2.0;
        let pos_in_group = order[start..end].iter().filter(|&&i| positive[i]).count();
        rank_sum_pos += mid_rank * pos_in_group as f64;
        start = end;
    }
    let n_pos = n_pos as f64;
    let u = rank_sum_pos - n_pos * (n_pos + 1.0) / 2.0;
    Ok(u / (n_pos * n_neg as f64))
}

fn check_scores(truth: &[usize], scores: &[f64], num_classes: usize) -> Result<(), MetricsError> {
    if num_classes < 2 {
        return Err(MetricsError::NumClasses(num_classes));
    }
    let expected = truth
        .len()
        .checked_mul(num_classes)
        .ok_or(MetricsError::NumClasses(num_classes))?;
    if scores.len() != expected {
        return Err(MetricsError::Length {
            what: "score matrix",
            got: scores.len(),
            expected,
        });
    }
    if let Some(&index) = truth.iter().find(|&&t| t >= num_classes) {
        return Err(MetricsError::ClassOutOfRange { index, num_classes });
    }
    Ok(())
}

/// One-vs-rest AUC of each class from a row-major `samples x classes` score
/// matrix; a class absent from (or the only one in) the truth is `Err`.
pub fn roc_auc_ovr_per_class(
    truth: &[usize],
    scores: &[f64],
    num_classes: usize,
) -> Result<Vec<Result<f64, MetricsError>>, MetricsError> {
    check_scores(truth, scores, num_classes)?;
    Ok((0..num_classes)
        .map(|c| {
            let pos: Vec<bool> = truth.iter().map(|&t| t == c).collect();
            let col: Vec<f64> = scores
                .iter()
                .skip(c)
                .step_by(num_classes)
                .copied()
                .collect();
            roc_auc_binary(&pos, &col)
        })
        .collect())
}

/// Macro-averaged one-vs-rest AUC (scikit-learn's
/// `roc_auc_score(multi_class="ovr", average="macro")`). With two classes it
/// is the binary AUC of class 1's score. Fails if any class's AUC is
/// undefined, as scikit-learn does.
pub fn roc_auc_ovr_macro(
    truth: &[usize],
    scores: &[f64],
    num_classes: usize,
) -> Result<f64, MetricsError> {
    check_scores(truth, scores, num_classes)?;
    if num_classes == 2 {
        let pos: Vec<bool> = truth.iter().map(|&t| t == 1).collect();
        let col: Vec<f64> = scores.iter().skip(1).step_by(2).copied().collect();
        return roc_auc_binary(&pos, &col);
    }
    let per_class = roc_auc_ovr_per_class(truth, scores, num_classes)?;
    let mut sum = 0.0;
    for auc in per_class {
        sum += auc?;
    }
    Ok(sum / num_classes as f64)
}
