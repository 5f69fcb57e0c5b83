//! ReLU, for activations of any rank.

use ndarray::{Array, ArrayView, Dimension};

/// `max(x, 0)` element-wise. NaN becomes 0, like the backward treats it.
pub fn relu_forward<D: Dimension>(x: ArrayView<f32, D>) -> Array<f32, D> {
    // Collecting in logical order (rather than `mapv`, which keeps the
    // input's memory order) makes the result row-major like every kernel's.
    let out = x.iter().map(|&v| relu(v)).collect();
    Array::from_shape_vec(x.raw_dim(), out).expect("length matches shape")
}

/// Gradient of ReLU from its forward output `y`: `dy` where `y > 0`, else 0.
///
/// Taking the output rather than the input lets the model keep one tensor
/// per layer; the two agree everywhere except at exactly 0, where the
/// gradient is taken as 0 either way.
///
/// # Panics
///
/// If `y` and `dy` differ in shape.
pub fn relu_backward<D: Dimension>(y: ArrayView<f32, D>, dy: ArrayView<f32, D>) -> Array<f32, D> {
    assert_eq!(
        y.shape(),
        dy.shape(),
        "relu_backward: y and dy differ in shape"
    );
    let out = y
        .iter()
        .zip(dy.iter())
        .map(|(&y, &g)| if y > 0.0 { g } else { 0.0 })
        .collect();
    Array::from_shape_vec(y.raw_dim(), out).expect("length matches shape")
}

/// [`relu_forward`] in place, for inference, where the input is not needed
/// afterwards and a second buffer would only cost memory traffic.
pub fn relu_inplace<D: Dimension>(x: &mut Array<f32, D>) {
    x.mapv_inplace(relu);
}

#[inline]
fn relu(v: f32) -> f32 {
    // Written as a comparison (not f32::max) so it compiles to one vector max
    // and sends NaN to 0.
    if v > 0.0 {
        v
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::{assert_close, dot_f64, finite_diff, Rng};
    use ndarray::{arr1, Array2, Array3};

    #[test]
    fn forward_matches_naive() {
        let mut rng = Rng::new(30);
        let x: Array3<f32> = rng.array((3, 4, 17));
        let y = relu_forward(x.view());
        for (a, b) in x.iter().zip(y.iter()) {
            assert_eq!(*b, if *a > 0.0 { *a } else { 0.0 });
        }
        let v = arr1(&[-1.0, 0.0, 2.5, -0.0, f32::NAN, f32::INFINITY]);
        assert_eq!(
            relu_forward(v.view()),
            arr1(&[0.0, 0.0, 2.5, 0.0, 0.0, f32::INFINITY])
        );
    }

    #[test]
    fn inplace_matches_forward() {
        let mut rng = Rng::new(31);
        let x: Array2<f32> = rng.array((5, 9));
        let mut z = x.clone();
        relu_inplace(&mut z);
        assert_eq!(z, relu_forward(x.view()));
        // Non-standard layout too.
        let mut t = x.t().to_owned();
        t.swap_axes(0, 1);
        relu_inplace(&mut t);
        assert_eq!(t, relu_forward(x.view()));
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(32);
        // Values at least 1/60 apart and away from 0, so eps never crosses
        // the kink.
        let x: Array3<f32> = rng.distinct((2, 3, 10));
        let r: Array3<f32> = rng.array((2, 3, 10));
        let y = relu_forward(x.view());
        let got = relu_backward(y.view(), r.view());
        let fd = finite_diff(&x, 1e-3, |x| dot_f64(&relu_forward(x.view()), &r));
        assert_close("dx", &got, &fd, 1e-4, 1e-3);
    }

    #[test]
    fn backward_on_transposed_views() {
        let y = Array2::from_shape_vec((2, 3), vec![1.0, 0.0, -1.0, 2.0, 0.5, 0.0]).unwrap();
        let dy = Array2::from_shape_vec((3, 2), vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0]).unwrap();
        let got = relu_backward(y.view(), dy.t());
        assert!(got.is_standard_layout());
        assert!(relu_forward(dy.t()).is_standard_layout());
        let want = Array2::from_shape_vec((2, 3), vec![10.0, 0.0, 0.0, 20.0, 40.0, 0.0]).unwrap();
        assert_eq!(got, want);
    }
}
