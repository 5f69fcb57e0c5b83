//! Pooling along the length: windowed max and average (kernel `k`, stride
//! `s`, no padding) and their global forms over the whole length.
//!
//! Max pooling records, for every output, the input position that won, so
//! the backward pass routes each gradient to exactly one input without
//! recomputing the window. Ties go to the first (leftmost) maximum, which
//! makes the choice deterministic and independent of how the loop is written.

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

/// Output length of a pooling window: `(len - k) / s + 1`, or 0 when the
/// window is longer than the input.
///
/// # Panics
///
/// If `k` or `s` is 0.
pub fn pool1d_out_len(len: usize, k: usize, s: usize) -> usize {
    assert!(
        k > 0 && s > 0,
        "pooling kernel and stride must be at least 1"
    );
    if k > len {
        0
    } else {
        (len - k) / s + 1
    }
}

/// Windowed max pooling of `x` (`[B, C, L]`): returns the maxima
/// (`[B, C, Lout]`, `Lout` = [`pool1d_out_len`]`(L, k, s)`) and, for each, the
/// position in `0..L` it came from (the first one on ties).
///
/// # Panics
///
/// If `k` or `s` is 0, or `L` does not fit in a `u32`.
pub fn max_pool1d_forward(x: ArrayView3<f32>, k: usize, s: usize) -> (Array3<f32>, Array3<u32>) {
    let (batch, channels, len) = x.dim();
    let lout = pool1d_out_len(len, k, s);
    assert!(
        u32::try_from(len).is_ok(),
        "max_pool1d: length must fit in u32"
    );
    let shape = (batch, channels, lout);
    if lout == 0 || batch * channels == 0 {
        return (Array3::zeros(shape), Array3::zeros(shape));
    }

    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout is contiguous");
    let mut out = Vec::with_capacity(batch * channels * lout);
    let mut arg = Vec::with_capacity(batch * channels * lout);
    for row in xs.chunks_exact(len) {
        for o in 0..lout {
            let start = o * s;
            let (j, v) = first_max(&row[start..start + k]);
            out.push(v);
            // Fits: start + j < len, which was checked against u32 above.
            arg.push((start + j) as u32);
        }
    }
    (
        Array3::from_shape_vec(shape, out).expect("length matches shape"),
        Array3::from_shape_vec(shape, arg).expect("length matches shape"),
    )
}

/// Backward of [`max_pool1d_forward`]: each gradient in `dy` (`[B, C, Lout]`)
/// goes to the input position recorded in `argmax`; positions that won
/// several overlapping windows add them up. Returns `[B, C, len]`.
///
/// # Panics
///
/// If `dy` and `argmax` differ in shape, or an `argmax` entry is not below
/// `len` (it must come from the forward pass on an input of length `len`).
pub fn max_pool1d_backward(
    dy: ArrayView3<f32>,
    argmax: ArrayView3<u32>,
    len: usize,
) -> Array3<f32> {
    let (batch, channels, lout) = dy.dim();
    assert_eq!(
        dy.dim(),
        argmax.dim(),
        "max_pool1d: dy and argmax differ in shape"
    );
    let mut dx = vec![0.0f32; batch * channels * len];
    if lout > 0 && len > 0 {
        let dy = dy.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout is contiguous");
        let argmax = argmax.as_standard_layout();
        let args = argmax.as_slice().expect("standard layout is contiguous");
        for ((dst, g_row), a_row) in dx
            .chunks_exact_mut(len)
            .zip(dys.chunks_exact(lout))
            .zip(args.chunks_exact(lout))
        {
            for (&g, &a) in g_row.iter().zip(a_row) {
                dst[a as usize] += g;
            }
        }
    } else {
        assert!(
            lout == 0 || batch * channels == 0,
            "max_pool1d: argmax out of range for len 0"
        );
    }
    Array3::from_shape_vec((batch, channels, len), dx).expect("length matches shape")
}

/// Windowed average pooling of `x` (`[B, C, L]`) to `[B, C, Lout]`,
/// `Lout` = [`pool1d_out_len`]`(L, k, s)`.
///
/// # Panics
///
/// If `k` or `s` is 0.
pub fn avg_pool1d_forward(x: ArrayView3<f32>, k: usize, s: usize) -> Array3<f32> {
    let (batch, channels, len) = x.dim();
    let lout = pool1d_out_len(len, k, s);
    let shape = (batch, channels, lout);
    if lout == 0 || batch * channels == 0 {
        return Array3::zeros(shape);
    }
    let x = x.as_standard_layout();
    let xs = x.as_slice().expect("standard layout is contiguous");
    let inv = 1.0 / k as f32;
    let mut out = Vec::with_capacity(batch * channels * lout);
    for row in xs.chunks_exact(len) {
        for o in 0..lout {
            let start = o * s;
            out.push(row[start..start + k].iter().sum::<f32>() * inv);
        }
    }
    Array3::from_shape_vec(shape, out).expect("length matches shape")
}

/// Backward of [`avg_pool1d_forward`] on an input of length `len`: each
/// gradient is spread evenly over its window. Returns `[B, C, len]`.
///
/// # Panics
///
/// If `k` or `s` is 0, or `dy` is not `[B, C, pool1d_out_len(len, k, s)]`.
pub fn avg_pool1d_backward(dy: ArrayView3<f32>, k: usize, s: usize, len: usize) -> Array3<f32> {
    let (batch, channels, lout) = dy.dim();
    assert_eq!(
        lout,
        pool1d_out_len(len, k, s),
        "avg_pool1d: dy length does not match the input length"
    );
    let mut dx = vec![0.0f32; batch * channels * len];
    if lout > 0 {
        let dy = dy.as_standard_layout();
        let dys = dy.as_slice().expect("standard layout is contiguous");
        let inv = 1.0 / k as f32;
        for (dst, g_row) in dx.chunks_exact_mut(len).zip(dys.chunks_exact(lout)) {
            for (o, &g) in g_row.iter().enumerate() {
                let g = g * inv;
                for d in &mut dst[o * s..o * s + k] {
                    *d += g;
                }
            }
        }
    }
    Array3::from_shape_vec((batch, channels, len), dx).expect("length matches shape")
}

/// Max over the whole length: `[B, C, L]` to `[B, C]`, with the position of
/// each maximum (the first one on ties).
///
/// # Panics
///
/// If `L` is 0 or does not fit in a `u32`.
pub fn global_max_pool_forward(x: ArrayView3<f32>) -> (Array2<f32>, Array2<u32>) {
    let (batch, channels, len) = x.dim();
    assert!(len > 0, "global_max_pool: empty length");
    let (y, arg) = max_pool1d_forward(x, len, 1);
    let shape = (batch, channels);
    (
        y.into_shape_with_order(shape)
            .expect("[B, C, 1] reshapes to [B, C]"),
        arg.into_shape_with_order(shape)
            .expect("[B, C, 1] reshapes to [B, C]"),
    )
}

/// Backward of [`global_max_pool_forward`]: each gradient of `dy` (`[B, C]`)
/// goes to the position in `argmax`. Returns `[B, C, len]`.
///
/// # Panics
///
/// If `dy` and `argmax` differ in shape or an `argmax` entry is not below
/// `len`.
pub fn global_max_pool_backward(
    dy: ArrayView2<f32>,
    argmax: ArrayView2<u32>,
    len: usize,
) -> Array3<f32> {
    let (batch, channels) = dy.dim();
    assert_eq!(
        dy.dim(),
        argmax.dim(),
        "global_max_pool: dy and argmax differ in shape"
    );
    let dy = dy.insert_axis(ndarray::Axis(2));
    let argmax = argmax.insert_axis(ndarray::Axis(2));
    let dx = max_pool1d_backward(dy, argmax, len);
    debug_assert_eq!(dx.dim(), (batch, channels, len));
    dx
}

/// Mean over the whole length: `[B, C, L]` to `[B, C]`.
///
/// # Panics
///
/// If `L` is 0.
pub fn global_avg_pool_forward(x: ArrayView3<f32>) -> Array2<f32> {
    let (batch, channels, len) = x.dim();
    assert!(len > 0, "global_avg_pool: empty length");
    avg_pool1d_forward(x, len, 1)
        .into_shape_with_order((batch, channels))
        .expect("[B, C, 1] reshapes to [B, C]")
}

/// Backward of [`global_avg_pool_forward`] on an input of length `len`:
/// `dx[b, c, l] = dy[b, c] / len`.
///
/// # Panics
///
/// If `len` is 0.
pub fn global_avg_pool_backward(dy: ArrayView2<f32>, len: usize) -> Array3<f32> {
    assert!(len > 0, "global_avg_pool: empty length");
    avg_pool1d_backward(dy.insert_axis(ndarray::Axis(2)), len, 1, len)
}

/// Index and value of the first maximum of a non-empty window.
#[inline]
fn first_max(window: &[f32]) -> (usize, f32) {
    let mut best = (0, window[0]);
    for (j, &v) in window.iter().enumerate().skip(1) {
        // Strictly greater: a later equal value never displaces the first.
        if v > best.1 {
            best = (j, v);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::{assert_close, dot_f64, finite_diff, Rng};
    use ndarray::{arr3, Array2, Array3};

    fn naive_max(x: &Array3<f32>, k: usize, s: usize) -> (Array3<f32>, Array3<u32>) {
        let (b, c, l) = x.dim();
        let lout = if k > l { 0 } else { (l - k) / s + 1 };
        let mut y = Array3::zeros((b, c, lout));
        let mut a = Array3::zeros((b, c, lout));
        for bi in 0..b {
            for ci in 0..c {
                for o in 0..lout {
                    let mut best = f32::NEG_INFINITY;
                    let mut at = 0;
                    for j in 0..k {
                        let v = x[[bi, ci, o * s + j]];
                        if v > best {
                            best = v;
                            at = o * s + j;
                        }
                    }
                    y[[bi, ci, o]] = best;
                    a[[bi, ci, o]] = at as u32;
                }
            }
        }
        (y, a)
    }

    fn naive_avg(x: &Array3<f32>, k: usize, s: usize) -> Array3<f64> {
        let (b, c, l) = x.dim();
        let lout = if k > l { 0 } else { (l - k) / s + 1 };
        let mut y = Array3::zeros((b, c, lout));
        for bi in 0..b {
            for ci in 0..c {
                for o in 0..lout {
                    let sum: f64 = (0..k).map(|j| x[[bi, ci, o * s + j]] as f64).sum();
                    y[[bi, ci, o]] = sum / k as f64;
                }
            }
        }
        y
    }

    const SHAPES: &[(usize, usize, usize)] = &[(1, 1, 1), (2, 3, 17), (3, 2, 16), (1, 1, 5)];
    const WINDOWS: &[(usize, usize)] = &[
        (1, 1),
        (2, 2),
        (3, 2),
        (2, 3),
        (4, 4),
        (5, 1),
        (3, 3),
        (7, 2),
    ];

    #[test]
    fn out_len() {
        assert_eq!(pool1d_out_len(512, 4, 4), 128);
        assert_eq!(pool1d_out_len(17, 3, 2), 8);
        assert_eq!(pool1d_out_len(17, 4, 4), 4);
        assert_eq!(pool1d_out_len(3, 4, 1), 0);
    }

    #[test]
    fn max_forward_matches_naive() {
        let mut rng = Rng::new(40);
        for &(b, c, l) in SHAPES {
            for &(k, s) in WINDOWS {
                let x: Array3<f32> = rng.array((b, c, l));
                let (y, a) = max_pool1d_forward(x.view(), k, s);
                let (ny, na) = naive_max(&x, k, s);
                assert_eq!(y, ny, "b={b} c={c} l={l} k={k} s={s}");
                assert_eq!(a, na, "b={b} c={c} l={l} k={k} s={s}");
            }
        }
    }

    #[test]
    fn max_ties_go_to_the_first_maximum() {
        let x = arr3(&[[[1.0, 3.0, 3.0, 2.0, 5.0, 5.0, 5.0, 0.0], [0.0; 8]]]);
        let (y, a) = max_pool1d_forward(x.view(), 4, 4);
        assert_eq!(y, arr3(&[[[3.0, 5.0], [0.0, 0.0]]]));
        assert_eq!(a, arr3(&[[[1u32, 4], [0, 4]]]));
        let (y, a) = max_pool1d_forward(x.view(), 3, 1);
        assert_eq!(
            y.slice(ndarray::s![0, 0, ..]).to_vec(),
            vec![3.0, 3.0, 5.0, 5.0, 5.0, 5.0]
        );
        assert_eq!(
            a.slice(ndarray::s![0, 0, ..]).to_vec(),
            vec![1, 1, 4, 4, 4, 5]
        );
        let (gy, ga) = global_max_pool_forward(x.view());
        assert_eq!(gy, Array2::from_shape_vec((1, 2), vec![5.0, 0.0]).unwrap());
        assert_eq!(ga, Array2::from_shape_vec((1, 2), vec![4u32, 0]).unwrap());
    }

    #[test]
    fn max_backward_matches_finite_differences() {
        let mut rng = Rng::new(41);
        for &(k, s) in &[(2, 2), (3, 2), (3, 1), (2, 3), (4, 4)] {
            let x: Array3<f32> = rng.distinct((2, 3, 11));
            let (y, a) = max_pool1d_forward(x.view(), k, s);
            let r: Array3<f32> = rng.array(y.raw_dim());
            let got = max_pool1d_backward(r.view(), a.view(), 11);
            let fd = finite_diff(&x, 1e-3, |x| {
                dot_f64(&max_pool1d_forward(x.view(), k, s).0, &r)
            });
            assert_close(&format!("dx k={k} s={s}"), &got, &fd, 1e-4, 1e-3);
        }
    }

    #[test]
    fn avg_forward_matches_naive() {
        let mut rng = Rng::new(42);
        for &(b, c, l) in SHAPES {
            for &(k, s) in WINDOWS {
                let x: Array3<f32> = rng.array((b, c, l));
                let y = avg_pool1d_forward(x.view(), k, s);
                assert_close(
                    &format!("b={b} c={c} l={l} k={k} s={s}"),
                    &y,
                    &naive_avg(&x, k, s),
                    1e-6,
                    1e-5,
                );
            }
        }
    }

    #[test]
    fn avg_backward_matches_finite_differences() {
        let mut rng = Rng::new(43);
        for &(k, s) in &[(2, 2), (3, 2), (3, 1), (2, 3), (4, 4), (12, 1)] {
            let x: Array3<f32> = rng.array((2, 3, 11));
            let lout = pool1d_out_len(11, k, s);
            let r: Array3<f32> = rng.array((2, 3, lout));
            let got = avg_pool1d_backward(r.view(), k, s, 11);
            let fd = finite_diff(&x, 1e-2, |x| {
                dot_f64(&avg_pool1d_forward(x.view(), k, s), &r)
            });
            assert_close(&format!("dx k={k} s={s}"), &got, &fd, 1e-4, 1e-3);
        }
    }

    #[test]
    fn global_forwards_match_naive() {
        let mut rng = Rng::new(44);
        for &(b, c, l) in SHAPES {
            let x: Array3<f32> = rng.array((b, c, l));
            let (y, a) = global_max_pool_forward(x.view());
            let avg = global_avg_pool_forward(x.view());
            for bi in 0..b {
                for ci in 0..c {
                    let (ny, na) = naive_max(&x, l, 1);
                    assert_eq!(y[[bi, ci]], ny[[bi, ci, 0]]);
                    assert_eq!(a[[bi, ci]], na[[bi, ci, 0]]);
                    let mean = (0..l).map(|i| x[[bi, ci, i]] as f64).sum::<f64>() / l as f64;
                    assert!((avg[[bi, ci]] as f64 - mean).abs() < 1e-6);
                }
            }
        }
    }

    #[test]
    fn global_backwards_match_finite_differences() {
        let mut rng = Rng::new(45);
        let x: Array3<f32> = rng.distinct((2, 3, 9));
        let r: Array2<f32> = rng.array((2, 3));
        let (_, a) = global_max_pool_forward(x.view());
        let got = global_max_pool_backward(r.view(), a.view(), 9);
        let fd = finite_diff(&x, 1e-3, |x| {
            dot_f64(&global_max_pool_forward(x.view()).0, &r)
        });
        assert_close("global max dx", &got, &fd, 1e-4, 1e-3);

        let got = global_avg_pool_backward(r.view(), 9);
        let fd = finite_diff(&x, 1e-2, |x| {
            dot_f64(&global_avg_pool_forward(x.view()), &r)
        });
        assert_close("global avg dx", &got, &fd, 1e-4, 1e-3);
    }

    #[test]
    fn windows_longer_than_input_give_empty_outputs() {
        let x = Array3::<f32>::ones((2, 3, 4));
        let (y, a) = max_pool1d_forward(x.view(), 5, 1);
        assert_eq!(y.dim(), (2, 3, 0));
        assert_eq!(
            max_pool1d_backward(y.view(), a.view(), 4),
            Array3::zeros((2, 3, 4))
        );
        let y = avg_pool1d_forward(x.view(), 5, 2);
        assert_eq!(y.dim(), (2, 3, 0));
        assert_eq!(
            avg_pool1d_backward(y.view(), 5, 2, 4),
            Array3::zeros((2, 3, 4))
        );
    }
}
