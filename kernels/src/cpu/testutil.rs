//! Test helpers shared by the kernel tests: a tiny deterministic PRNG (so the
//! crate needs no `rand`), random tensors, central finite differences and a
//! tolerance check.

use ndarray::{Array, Dimension, IntoDimension};

/// The crate's seeded generator with the helpers tests want.
pub struct Rng(crate::rng::Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(crate::rng::Rng::new(seed))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [-1, 1).
    pub fn uniform(&mut self) -> f32 {
        // 24 random bits are exactly representable in an f32.
        let u = (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32;
        2.0 * u - 1.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }

    pub fn array<Sh: IntoDimension>(&mut self, shape: Sh) -> Array<f32, Sh::Dim> {
        let mut a = Array::zeros(shape);
        a.mapv_inplace(|_| self.uniform());
        a
    }

    pub fn bytes<Sh: IntoDimension>(&mut self, shape: Sh) -> Array<u8, Sh::Dim> {
        let mut a = Array::zeros(shape);
        a.mapv_inplace(|_| self.next_u64() as u8);
        a
    }

    /// Values whose pairwise gaps are at least 1/n, shuffled: finite
    /// differences with a small eps never cross a tie or a kink at 0 (the
    /// values are offset by half a step so none is 0).
    pub fn distinct<Sh: IntoDimension>(&mut self, shape: Sh) -> Array<f32, Sh::Dim> {
        let mut a: Array<f32, Sh::Dim> = Array::zeros(shape);
        let n = a.len();
        let mut vals: Vec<f32> = (0..n)
            .map(|i| (i as f32 + 0.5) / n as f32 * 2.0 - 1.0)
            .collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            vals.swap(i, j);
        }
        for (dst, v) in a.iter_mut().zip(vals) {
            *dst = v;
        }
        a
    }
}

/// `sum(y * r)` in f64: the scalar whose gradient with respect to `y` is `r`,
/// so backward kernels are checked by feeding them `dy = r`.
pub fn dot_f64<D: Dimension>(y: &Array<f32, D>, r: &Array<f32, D>) -> f64 {
    assert_eq!(y.shape(), r.shape());
    y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
}

/// Central finite differences of `f` at `x`, one coordinate at a time.
pub fn finite_diff<D: Dimension>(
    x: &Array<f32, D>,
    eps: f32,
    mut f: impl FnMut(&Array<f32, D>) -> f64,
) -> Array<f64, D> {
    let mut x = x.as_standard_layout().into_owned();
    let mut grad = Array::zeros(x.raw_dim());
    for i in 0..x.len() {
        let orig = x.as_slice().unwrap()[i];
        x.as_slice_mut().unwrap()[i] = orig + eps;
        let plus = f(&x);
        x.as_slice_mut().unwrap()[i] = orig - eps;
        let minus = f(&x);
        x.as_slice_mut().unwrap()[i] = orig;
        grad.as_slice_mut().unwrap()[i] = (plus - minus) / (2.0 * eps as f64);
    }
    grad
}

/// Element-wise `|a - b| <= atol + rtol * max(|a|, |b|)`, with a message that
/// names the first offending element.
pub fn assert_close<D: Dimension>(
    what: &str,
    got: &Array<f32, D>,
    want: &Array<f64, D>,
    atol: f64,
    rtol: f64,
) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((i, &g), &w) in got.indexed_iter().zip(want.iter()) {
        let g = g as f64;
        let tol = atol + rtol * g.abs().max(w.abs());
        assert!(
            (g - w).abs() <= tol,
            "{what}: at {i:?} got {g} want {w} (tol {tol})"
        );
    }
}

/// `assert_close` for two f32 arrays.
pub fn assert_close32<D: Dimension>(
    what: &str,
    got: &Array<f32, D>,
    want: &Array<f32, D>,
    atol: f64,
    rtol: f64,
) {
    assert_close(what, got, &want.mapv(|v| v as f64), atol, rtol);
}

/// Checks a layer's backward pass (`dx`, `dw`, `db`) against central
/// finite differences of `loss(x, w, bias)`, with the tolerances every
/// layer test uses.
pub fn assert_layer_grads<DX: Dimension, DW: Dimension>(
    x: &Array<f32, DX>,
    w: &Array<f32, DW>,
    bias: &Array<f32, ndarray::Ix1>,
    dx: &Array<f32, DX>,
    dw: &Array<f32, DW>,
    db: &Array<f32, ndarray::Ix1>,
    loss: impl Fn(&Array<f32, DX>, &Array<f32, DW>, &Array<f32, ndarray::Ix1>) -> f64,
) {
    let eps = 1e-2;
    let fdx = finite_diff(x, eps, |x| loss(x, w, bias));
    let fdw = finite_diff(w, eps, |w| loss(x, w, bias));
    let fdb = finite_diff(bias, eps, |bias| loss(x, w, bias));
    assert_close("dx", dx, &fdx, 1e-3, 2e-2);
    assert_close("dw", dw, &fdw, 1e-3, 2e-2);
    assert_close("db", db, &fdb, 1e-3, 2e-2);
}
