//! Fully connected layer on flat features.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

/// `y = x · wᵀ + b`: `x` is `[B, In]`, `w` is `[Out, In]` (one row per output,
/// like a conv with kernel 1), `b` is `[Out]`; the result is `[B, Out]`.
///
/// # Panics
///
/// If `w` is not `[Out, In]` for the `In` of `x`, or `b` does not have `Out`
/// entries.
pub fn dense_forward(x: ArrayView2<f32>, w: ArrayView2<f32>, b: ArrayView1<f32>) -> Array2<f32> {
    assert_eq!(
        w.ncols(),
        x.ncols(),
        "dense: w must be [Out, In] for x [B, In]"
    );
    assert_eq!(b.len(), w.nrows(), "dense: bias must have Out entries");
    // The bias goes in first and the product accumulates onto it; writing
    // into a fresh array also fixes the result's layout to row-major, which
    // `dot` leaves to the operands' layouts.
    let mut y = Array2::zeros((x.nrows(), w.nrows()));
    y.assign(&b);
    general_mat_mul(1.0, &x, &w.t(), 1.0, &mut y);
    y
}

/// Gradients of a dense layer with respect to its input, weights and bias.
#[derive(Clone, Debug, PartialEq)]
pub struct DenseGrads {
    /// `[B, In]`, like the input.
    pub dx: Array2<f32>,
    /// `[Out, In]`, like the weights.
    pub dw: Array2<f32>,
    /// `[Out]`, like the bias.
    pub db: Array1<f32>,
}

/// Backward of [`dense_forward`]: `dx = dy · w`, `dw = dyᵀ · x`, `db` = column
/// sums of `dy`.
///
/// # Panics
///
/// If `w` is not `[Out, In]` for `x` `[B, In]`, or `dy` is not `[B, Out]`.
pub fn dense_backward(x: ArrayView2<f32>, w: ArrayView2<f32>, dy: ArrayView2<f32>) -> DenseGrads {
    assert_eq!(
        w.ncols(),
        x.ncols(),
        "dense: w must be [Out, In] for x [B, In]"
    );
    assert_eq!(
        dy.dim(),
        (x.nrows(), w.nrows()),
        "dense: dy must be [B, Out]"
    );
    let mut dx = Array2::zeros(x.raw_dim());
    general_mat_mul(1.0, &dy, &w, 0.0, &mut dx);
    let mut dw = Array2::zeros(w.raw_dim());
    general_mat_mul(1.0, &dy.t(), &x, 0.0, &mut dw);
    DenseGrads {
        dx,
        dw,
        db: dy.sum_axis(Axis(0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::{assert_close, assert_layer_grads, dot_f64, Rng};
    use ndarray::{Array1, Array2};

    #[test]
    fn forward_matches_naive() {
        let mut rng = Rng::new(50);
        for &(b, i, o) in &[(1, 1, 1), (3, 7, 2), (64, 32, 2), (5, 33, 17)] {
            let x: Array2<f32> = rng.array((b, i));
            let w: Array2<f32> = rng.array((o, i));
            let bias: Array1<f32> = rng.array(o);
            let y = dense_forward(x.view(), w.view(), bias.view());
            let mut want = Array2::<f64>::zeros((b, o));
            for bi in 0..b {
                for oi in 0..o {
                    want[[bi, oi]] = bias[oi] as f64
                        + (0..i)
                            .map(|ii| x[[bi, ii]] as f64 * w[[oi, ii]] as f64)
                            .sum::<f64>();
                }
            }
            assert_close(&format!("b={b} in={i} out={o}"), &y, &want, 1e-5, 1e-5);
        }
    }

    #[test]
    fn results_are_row_major_for_transposed_inputs() {
        let mut rng = Rng::new(52);
        let x_t: Array2<f32> = rng.array((6, 4)); // [In, B]
        let w_t: Array2<f32> = rng.array((6, 3)); // [In, Out]
        let dy_t: Array2<f32> = rng.array((3, 4)); // [Out, B]
        let bias: Array1<f32> = rng.array(3);
        let y = dense_forward(x_t.t(), w_t.t(), bias.view());
        let want = dense_forward(
            x_t.t().to_owned().view(),
            w_t.t().to_owned().view(),
            bias.view(),
        );
        assert!(y.is_standard_layout());
        assert_eq!(y, want);
        let g = dense_backward(x_t.t(), w_t.t(), dy_t.t());
        assert!(g.dx.is_standard_layout() && g.dw.is_standard_layout());
        let want = dense_backward(
            x_t.t().to_owned().view(),
            w_t.t().to_owned().view(),
            dy_t.t().to_owned().view(),
        );
        assert_eq!(g, want);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(51);
        for &(b, i, o) in &[(1, 1, 1), (3, 7, 2), (4, 5, 6)] {
            let x: Array2<f32> = rng.array((b, i));
            let w: Array2<f32> = rng.array((o, i));
            let bias: Array1<f32> = rng.array(o);
            let r: Array2<f32> = rng.array((b, o));
            let got = dense_backward(x.view(), w.view(), r.view());
            let loss = |x: &Array2<f32>, w: &Array2<f32>, bias: &Array1<f32>| {
                dot_f64(&dense_forward(x.view(), w.view(), bias.view()), &r)
            };
            assert_layer_grads(&x, &w, &bias, &got.dx, &got.dw, &got.db, loss);
        }
    }
}
