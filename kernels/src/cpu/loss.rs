//! Softmax and the weighted cross-entropy loss that trains the classifier.

use ndarray::{Array2, ArrayView2};

/// Row-wise softmax of `logits` (`[B, C]`), stable for large logits because
/// each row's maximum is subtracted before exponentiating.
pub fn softmax(logits: ArrayView2<f32>) -> Array2<f32> {
    let (batch, classes) = logits.dim();
    let logits = logits.as_standard_layout();
    let zs = logits.as_slice().expect("standard layout is contiguous");
    let mut out = Vec::with_capacity(batch * classes);
    if classes > 0 {
        for row in zs.chunks_exact(classes) {
            let start = out.len();
            let (_, sum) = push_shifted_exp(row, &mut out);
            let inv = 1.0 / sum;
            for p in &mut out[start..] {
                *p *= inv;
            }
        }
    }
    Array2::from_shape_vec((batch, classes), out).expect("length matches shape")
}

/// The log-odds of class 1 for one row of logits: `ln(p1 / (1 - p1))`
/// with `p` the row's softmax, computed from the logits so that it does
/// not saturate where `p1` rounds to 1 in `f32` (a logit margin above
/// about 17): `z1 - z0` for two classes, `z1 - logsumexp(others)` for
/// more. The attestation CNN's score: as a probability, a threshold could
/// not tell a clean page the network is sure of from an attack it is
/// surer of (the zlib model of 2026-12-02 had a threshold of exactly 1.0
/// and flagged 5 of its own clean training pages, at log-odds 21 to 56).
///
/// # Panics
///
/// If the row has fewer than two logits.
pub fn class1_log_odds(row: &[f32]) -> f32 {
    assert!(row.len() >= 2, "class-1 log-odds: at least two classes");
    let others = || {
        row.iter()
            .enumerate()
            .filter(|&(c, _)| c != 1)
            .map(|(_, &z)| z)
    };
    let m = others().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = others().map(|z| (z - m).exp()).sum();
    row[1] - m - sum.ln()
}

/// [`class1_log_odds`] of each row of `logits` (`[B, C]`, `C >= 2`).
pub fn class1_log_odds_rows(logits: ArrayView2<f32>) -> Vec<f32> {
    let classes = logits.ncols().max(1);
    let logits = logits.as_standard_layout();
    logits
        .as_slice()
        .expect("standard layout is contiguous")
        .chunks_exact(classes)
        .map(class1_log_odds)
        .collect()
}

/// Weighted mean cross-entropy of `logits` (`[B, C]`) against `labels`:
/// `loss = sum_i w[y_i] * -log p_i[y_i] / sum_i w[y_i]`, with `p_i` the
/// softmax of row `i` and `w` = `class_weights`. Returns the loss and its
/// gradient with respect to the logits,
/// `dlogits[i] = w[y_i] * (p_i - onehot(y_i)) / sum_i w[y_i]`.
///
/// Class weights let the rare class (corrupted pages) count as much as the
/// common one. They should be non-negative; a batch whose weights sum to 0
/// (an empty batch, or only zero-weight classes) has loss 0 and a zero
/// gradient rather than NaN.
///
/// `-log p` is computed as `logsumexp(row) - row[y]`, so the loss stays finite
/// even when the softmax of the true class underflows to 0.
///
/// # Panics
///
/// If `labels` does not have one entry per row, `class_weights` does not have
/// one entry per class, or a label is not below the number of classes.
pub fn softmax_cross_entropy(
    logits: ArrayView2<f32>,
    labels: &[usize],
    class_weights: &[f32],
) -> (f32, Array2<f32>) {
    let (batch, classes) = logits.dim();
    assert_eq!(labels.len(), batch, "cross-entropy: one label per row");
    assert_eq!(
        class_weights.len(),
        classes,
        "cross-entropy: one weight per class"
    );
    assert!(
        labels.iter().all(|&y| y < classes),
        "cross-entropy: label out of range"
    );

    let total_weight: f64 = labels.iter().map(|&y| f64::from(class_weights[y])).sum();
    if total_weight == 0.0 {
        return (0.0, Array2::zeros((batch, classes)));
    }

    let logits = logits.as_standard_layout();
    let zs = logits.as_slice().expect("standard layout is contiguous");
    let mut grad = Vec::with_capacity(batch * classes);
    let mut loss = 0.0f64;
    for (row, &y) in zs.chunks_exact(classes).zip(labels) {
        let w = class_weights[y];
        let start = grad.len();
        let (max, sum) = push_shifted_exp(row, &mut grad);
        let nll = f64::from(sum.ln()) - f64::from(row[y] - max);
        loss += f64::from(w) * nll;

        let scale = (f64::from(w) / total_weight) as f32;
        let g = &mut grad[start..];
        for p in g.iter_mut() {
            *p *= scale / sum;
        }
        g[y] -= scale;
    }
    let grad = Array2::from_shape_vec((batch, classes), grad).expect("length matches shape");
    ((loss / total_weight) as f32, grad)
}

/// Pushes `exp(z - max(row))` for each `z` of a non-empty row and returns
/// the maximum and the sum (at least 1, from the maximum itself).
fn push_shifted_exp(row: &[f32], out: &mut Vec<f32>) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for &z in row {
        let e = (z - max).exp();
        sum += e;
        out.push(e);
    }
    (max, sum)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::{assert_close, finite_diff, Rng};
    use ndarray::{arr2, Array2};

    #[test]
    fn class1_log_odds_are_the_softmax_odds_and_do_not_saturate() {
        let z = arr2(&[[0.3f32, -1.2], [2.0, 2.5], [1.0, 0.5], [-3.0, 4.0]]);
        let got = class1_log_odds_rows(z.view());
        for (row, s) in softmax(z.view()).rows().into_iter().zip(&got) {
            let want = (f64::from(row[1]) / f64::from(row[0])).ln() as f32;
            assert!((s - want).abs() < 1e-5, "{s} vs {want}");
        }
        // Three classes: class 1 against the other two together.
        let three = [0.5f32, 1.5, -0.5];
        let p = softmax(arr2(&[three]).view());
        let want = (p[[0, 1]] / (p[[0, 0]] + p[[0, 2]])).ln();
        assert!((class1_log_odds(&three) - want).abs() < 1e-5);
        // Where the probability is 1.0 in f32, the log-odds still order.
        let (a, b) = ([0.0f32, 21.0], [0.0f32, 40.0]);
        assert_eq!(softmax(arr2(&[a, b]).view())[[0, 1]], 1.0);
        assert_eq!(softmax(arr2(&[a, b]).view())[[1, 1]], 1.0);
        assert_eq!(class1_log_odds_rows(arr2(&[a, b]).view()), [21.0, 40.0]);
    }

    #[test]
    fn softmax_matches_naive_and_is_stable() {
        let mut rng = Rng::new(60);
        let z: Array2<f32> = rng.array((5, 7)).mapv(|v| 4.0 * v);
        let p = softmax(z.view());
        for (zr, pr) in z.rows().into_iter().zip(p.rows()) {
            let denom: f64 = zr.iter().map(|&v| (v as f64).exp()).sum();
            for (&zv, &pv) in zr.iter().zip(pr) {
                assert!((pv as f64 - (zv as f64).exp() / denom).abs() < 1e-6);
            }
        }
        // exp(1000) overflows f32: only the max shift keeps this finite.
        let big = softmax(arr2(&[[1000.0f32, 1002.0], [-1000.0, -1000.0]]).view());
        let p0 = 1.0 / (1.0 + 2f32.exp());
        assert!((big[[0, 0]] - p0).abs() < 1e-6 && (big[[0, 1]] - (1.0 - p0)).abs() < 1e-6);
        assert!((big[[1, 0]] - 0.5).abs() < 1e-6 && (big[[1, 1]] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn loss_matches_hand_computation() {
        // Row 0: p = [1/4, 3/4], label 1 -> -ln(3/4). Row 1: p = [1/2, 1/2],
        // label 0 -> ln 2. Weights 1 and 3 for classes 0 and 1.
        let z = arr2(&[[0.0f32, 3f32.ln()], [5.0, 5.0]]);
        let (loss, grad) = softmax_cross_entropy(z.view(), &[1, 0], &[1.0, 3.0]);
        let want = (3.0 * -(0.75f64.ln()) + 1.0 * 2f64.ln()) / 4.0;
        assert!((loss as f64 - want).abs() < 1e-6, "{loss} vs {want}");
        let want_grad = arr2(&[
            [3.0 * 0.25 / 4.0, 3.0 * (0.75 - 1.0) / 4.0],
            [(0.5 - 1.0) / 4.0, 0.5 / 4.0],
        ]);
        assert_close("grad", &grad, &want_grad, 1e-6, 1e-6);

        // Unweighted: the plain mean.
        let (loss, _) = softmax_cross_entropy(z.view(), &[1, 0], &[1.0, 1.0]);
        let want = (-(0.75f64.ln()) + 2f64.ln()) / 2.0;
        assert!((loss as f64 - want).abs() < 1e-6);
    }

    #[test]
    fn loss_stays_finite_when_the_true_class_underflows() {
        let z = arr2(&[[0.0f32, 200.0]]);
        let (loss, grad) = softmax_cross_entropy(z.view(), &[0], &[1.0, 1.0]);
        assert!((loss - 200.0).abs() < 1e-3);
        assert!((grad[[0, 0]] + 1.0).abs() < 1e-6 && (grad[[0, 1]] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = Rng::new(61);
        let z: Array2<f32> = rng.array((6, 4)).mapv(|v| 3.0 * v);
        let labels = [0, 3, 1, 1, 2, 3];
        let weights = [0.5, 2.0, 1.0, 3.0];
        let (_, grad) = softmax_cross_entropy(z.view(), &labels, &weights);
        let fd = finite_diff(&z, 1e-2, |z| {
            f64::from(softmax_cross_entropy(z.view(), &labels, &weights).0)
        });
        assert_close("dlogits", &grad, &fd, 1e-4, 2e-2);
    }

    #[test]
    fn class_weights_are_respected() {
        let mut rng = Rng::new(62);
        let z: Array2<f32> = rng.array((5, 3));
        let labels = [0, 1, 2, 1, 0];
        // Scaling every weight changes nothing.
        let (l1, g1) = softmax_cross_entropy(z.view(), &labels, &[1.0, 2.0, 0.5]);
        let (l2, g2) = softmax_cross_entropy(z.view(), &labels, &[3.0, 6.0, 1.5]);
        assert!((l1 - l2).abs() < 1e-6);
        assert_close("scaled", &g1, &g2.mapv(f64::from), 1e-7, 1e-5);

        // A zero weight removes the rows of that class entirely.
        let (lz, gz) = softmax_cross_entropy(z.view(), &labels, &[1.0, 0.0, 1.0]);
        let keep = [0usize, 2, 4];
        let zk = z.select(ndarray::Axis(0), &keep);
        let (lk, gk) = softmax_cross_entropy(zk.view(), &[0, 2, 0], &[1.0, 0.0, 1.0]);
        assert!((lz - lk).abs() < 1e-6);
        for (i, &r) in keep.iter().enumerate() {
            assert_close(
                "kept rows",
                &gz.row(r).to_owned(),
                &gk.row(i).mapv(f64::from),
                1e-7,
                1e-6,
            );
        }
        assert!(gz.row(1).iter().chain(gz.row(3)).all(|&g| g == 0.0));

        // All weight on one class: the loss is that class's mean NLL.
        let (lc, _) = softmax_cross_entropy(z.view(), &labels, &[0.0, 1.0, 0.0]);
        let p = softmax(z.view());
        let want = -(p[[1, 1]].ln() as f64 + p[[3, 1]].ln() as f64) / 2.0;
        assert!((lc as f64 - want).abs() < 1e-5);
    }

    #[test]
    fn zero_total_weight_gives_zero_loss() {
        let z = arr2(&[[1.0f32, 2.0]]);
        let (loss, grad) = softmax_cross_entropy(z.view(), &[1], &[1.0, 0.0]);
        assert_eq!(loss, 0.0);
        assert_eq!(grad, Array2::zeros((1, 2)));
        let empty = Array2::<f32>::zeros((0, 2));
        let (loss, grad) = softmax_cross_entropy(empty.view(), &[], &[1.0, 1.0]);
        assert_eq!(loss, 0.0);
        assert_eq!(grad.dim(), (0, 2));
    }
}
