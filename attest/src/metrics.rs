//! Detection metrics over scored examples: the confusion counts at a
//! threshold, ROC AUC, and the threshold that keeps the false-positive rate
//! under a target.

/// Metrics of scores against labels at one threshold.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub examples: usize,
    pub positives: usize,
    pub threshold: f32,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub false_positive_rate: f64,
    pub roc_auc: f64,
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

impl Metrics {
    /// `scores[i]` is the predicted probability that example `i` is
    /// corrupted; `positive[i]` whether it is.
    pub fn compute(scores: &[f32], positive: &[bool], threshold: f32) -> Metrics {
        let (mut tp, mut fp, mut tn, mut fneg) = (0, 0, 0, 0);
        for (s, p) in scores.iter().zip(positive) {
            match (*s >= threshold, *p) {
                (true, true) => tp += 1,
                (true, false) => fp += 1,
                (false, false) => tn += 1,
                (false, true) => fneg += 1,
            }
        }
        Metrics {
            examples: scores.len(),
            positives: tp + fneg,
            threshold,
            accuracy: ratio(tp + tn, scores.len()),
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fneg),
            false_positive_rate: ratio(fp, fp + tn),
            roc_auc: roc_auc(scores, positive),
        }
    }
}

/// Area under the ROC curve: the probability that a random positive
/// scores above a random negative (ties count half). 0.5 when either class
/// is missing.
pub fn roc_auc(scores: &[f32], positive: &[bool]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0f64, 0);
    let positives = positive.iter().filter(|p| **p).count();
    let negatives = scores.len() - positives;
    if positives == 0 || negatives == 0 {
        return 0.5;
    }
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        // Ranks i+1..=j+1 share their mean.
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * order[i..=j].iter().filter(|&&k| positive[k]).count() as f64;
        i = j + 1;
    }
    let p = positives as f64;
    (rank_sum - p * (p + 1.0) / 2.0) / (p * negatives as f64)
}

/// Share of the positives above the lowest admissible threshold that
/// [`threshold_for_fpr`] may give up for margin.
pub const RECALL_SLACK: f64 = 0.01;

/// A threshold on scores (log-odds, [`crate::model::class1_log_odds`])
/// whose false-positive rate on these negatives is at most `max_fpr`,
/// placed for unseen data. The lowest such threshold sits just above the
/// negative at that quantile; clean pages of new inputs tend to score
/// higher than any seen, so the threshold is raised halfway towards the
/// score below which [`RECALL_SLACK`] of the positives above it lie. At
/// most that share of recall is given up on these scores, and the
/// false-positive rate can only fall.
pub fn threshold_for_fpr(scores: &[f32], positive: &[bool], max_fpr: f64) -> f32 {
    let mut neg: Vec<f32> = scores
        .iter()
        .zip(positive)
        .filter(|(_, p)| !**p)
        .map(|(s, _)| *s)
        .collect();
    if neg.is_empty() {
        // Even odds.
        return 0.0;
    }
    neg.sort_by(|a, b| b.total_cmp(a));
    // At most `allowed` negatives may score at or above the threshold.
    let allowed = (max_fpr * neg.len() as f64).floor() as usize;
    if allowed >= neg.len() {
        return f32::MIN;
    }
    let lowest = next_up(neg[allowed]);
    let mut caught: Vec<f32> = scores
        .iter()
        .zip(positive)
        .filter(|&(&s, &p)| p && s >= lowest)
        .map(|(&s, _)| s)
        .collect();
    if caught.is_empty() {
        return lowest;
    }
    caught.sort_by(f32::total_cmp);
    let spare = (RECALL_SLACK * caught.len() as f64).floor() as usize;
    let target = caught[spare.min(caught.len() - 1)];
    if target <= lowest {
        return lowest;
    }
    let mid = (f64::from(lowest) + f64::from(target)) / 2.0;
    // Rounding must not cross either end.
    (mid as f32).clamp(lowest, target)
}

fn next_up(x: f32) -> f32 {
    if x.is_nan() || x == f32::INFINITY {
        return x;
    }
    let bits = x.to_bits();
    if x == 0.0 {
        f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(bits + 1)
    } else {
        f32::from_bits(bits - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ordered_pairs_and_ties_half() {
        assert_eq!(
            roc_auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]),
            1.0
        );
        assert_eq!(
            roc_auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]),
            0.0
        );
        assert_eq!(roc_auc(&[0.5, 0.5], &[false, true]), 0.5);
        // 3 of 4 pairs ordered.
        assert_eq!(
            roc_auc(&[0.1, 0.6, 0.5, 0.9], &[false, false, true, true]),
            0.75
        );
    }

    #[test]
    fn threshold_keeps_the_false_positive_rate() {
        let scores: Vec<f32> = (0..1000).map(|i| i as f32 / 1000.0).collect();
        let positive = vec![false; 1000];
        let t = threshold_for_fpr(&scores, &positive, 0.01);
        let m = Metrics::compute(&scores, &positive, t);
        assert!(m.false_positive_rate <= 0.01, "{m:?}");
        assert!(m.false_positive_rate >= 0.009, "{m:?}");
        // Separable scores: the threshold sits in the gap, not just
        // above the highest negative.
        let t = threshold_for_fpr(&[0.1, 0.2, 0.9, 0.99], &[false, false, true, true], 0.001);
        assert!(t > 0.5 && t < 0.9, "{t}");
        let m = Metrics::compute(&[0.1, 0.2, 0.9, 0.99], &[false, false, true, true], t);
        assert_eq!((m.recall, m.false_positive_rate), (1.0, 0.0));
        // One straggler among 200 positives does not pull it down: at
        // most 1% of recall goes for the margin.
        let mut scores = vec![-2.2, -1.4, -0.85];
        let mut positive = vec![false; 3];
        scores.push(-0.6);
        scores.extend(std::iter::repeat_n(4.6, 199));
        positive.extend(std::iter::repeat_n(true, 200));
        let t = threshold_for_fpr(&scores, &positive, 0.001);
        assert!(t > 1.5 && t < 4.6, "{t}");
        let m = Metrics::compute(&scores, &positive, t);
        assert!(m.recall >= 0.99 && m.false_positive_rate == 0.0, "{m:?}");
        // Scores far beyond where a probability rounds to 1 in f32 (log-odds
        // about 17) keep their order: a clean page at 21 and attacks at 40
        // are told apart.
        let t = threshold_for_fpr(&[3.0, 21.0, 40.0, 44.0], &[false, false, true, true], 0.0);
        assert!(t > 21.0 && t <= 40.0, "{t}");
        let m = Metrics::compute(&[3.0, 21.0, 40.0, 44.0], &[false, false, true, true], t);
        assert_eq!((m.recall, m.false_positive_rate), (1.0, 0.0));
        let m = Metrics::compute(&[0.9, 0.1, 0.8], &[true, false, false], 0.85);
        assert_eq!(
            (m.recall, m.precision, m.false_positive_rate),
            (1.0, 1.0, 0.0)
        );
    }
}
