//! End-to-end gradient check: a tiny CNN built from every kernel with
//! parameters, trained through the weighted cross-entropy, against central
//! finite differences of the loss. The per-kernel tests check each backward
//! alone; this one checks that their shapes and conventions compose.

use ndarray::{Array, Array1, Array2, Array3, Dimension, IntoDimension};
use walmart_kernels::cpu::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn array<Sh: IntoDimension>(&mut self, shape: Sh, scale: f32) -> Array<f32, Sh::Dim> {
        let mut a = Array::zeros(shape);
        a.mapv_inplace(|_| ((self.next() >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale);
        a
    }
}

#[derive(Clone)]
struct Params {
    table: Array2<f32>,
    w1: Array3<f32>,
    b1: Array1<f32>,
    w2: Array3<f32>,
    b2: Array1<f32>,
    wd: Array2<f32>,
    bd: Array1<f32>,
}

const S1: Conv1dSpec = Conv1dSpec {
    stride: 2,
    padding: 1,
};
const S2: Conv1dSpec = Conv1dSpec {
    stride: 1,
    padding: 1,
};
const WEIGHTS: [f32; 3] = [1.0, 2.5, 0.5];

/// embed -> conv(s2,p1) -> relu -> maxpool(2,2) -> conv(s1,p1) -> relu ->
/// avgpool(2,1) -> global max ++ global avg -> dense -> weighted CE.
fn loss_and_grads(p: &Params, bytes: &Array2<u8>, labels: &[usize]) -> (f32, Params) {
    let x0 = embed_forward(bytes.view(), p.table.view());
    let z1 = conv1d_forward(x0.view(), p.w1.view(), p.b1.view(), S1);
    let a1 = relu_forward(z1.view());
    let (m1, arg1) = max_pool1d_forward(a1.view(), 2, 2);
    let z2 = conv1d_forward(m1.view(), p.w2.view(), p.b2.view(), S2);
    let a2 = relu_forward(z2.view());
    let v2 = avg_pool1d_forward(a2.view(), 2, 1);
    let (gmax, garg) = global_max_pool_forward(v2.view());
    let gavg = global_avg_pool_forward(v2.view());
    let feats = ndarray::concatenate![ndarray::Axis(1), gmax, gavg];
    let logits = dense_forward(feats.view(), p.wd.view(), p.bd.view());
    let (loss, dlogits) = softmax_cross_entropy(logits.view(), labels, &WEIGHTS);

    let dd = dense_backward(feats.view(), p.wd.view(), dlogits.view());
    let c = gmax.ncols();
    let len = v2.dim().2;
    let dv2 = global_max_pool_backward(dd.dx.slice(ndarray::s![.., ..c]), garg.view(), len)
        + global_avg_pool_backward(dd.dx.slice(ndarray::s![.., c..]), len);
    let da2 = avg_pool1d_backward(dv2.view(), 2, 1, a2.dim().2);
    let dz2 = relu_backward(a2.view(), da2.view());
    let g2 = conv1d_backward(m1.view(), p.w2.view(), dz2.view(), S2);
    let da1 = max_pool1d_backward(g2.dx.view(), arg1.view(), a1.dim().2);
    let dz1 = relu_backward(a1.view(), da1.view());
    let g1 = conv1d_backward(x0.view(), p.w1.view(), dz1.view(), S1);
    let dtable = embed_backward(bytes.view(), g1.dx.view());
    let grads = Params {
        table: dtable,
        w1: g1.dw,
        b1: g1.db,
        w2: g2.dw,
        b2: g2.db,
        wd: dd.dw,
        bd: dd.db,
    };
    (loss, grads)
}

/// Checks `analytic` against finite differences of the loss over the
/// parameter that `pick` selects.
fn check<D: Dimension>(
    name: &str,
    params: &Params,
    analytic: &Array<f32, D>,
    pick: impl Fn(&mut Params) -> &mut Array<f32, D>,
    bytes: &Array2<u8>,
    labels: &[usize],
) {
    let eps = 2e-3f32;
    let mut p = params.clone();
    let n = pick(&mut p).len();
    let mut worst = 0.0f64;
    for i in 0..n {
        let orig = pick(&mut p).as_slice().unwrap()[i];
        pick(&mut p).as_slice_mut().unwrap()[i] = orig + eps;
        let plus = loss_and_grads(&p, bytes, labels).0 as f64;
        pick(&mut p).as_slice_mut().unwrap()[i] = orig - eps;
        let minus = loss_and_grads(&p, bytes, labels).0 as f64;
        pick(&mut p).as_slice_mut().unwrap()[i] = orig;
        let fd = (plus - minus) / (2.0 * eps as f64);
        let got = analytic.as_slice().unwrap()[i] as f64;
        let err = (got - fd).abs() / (2e-3 + 3e-2 * got.abs().max(fd.abs()));
        worst = worst.max(err);
        assert!(
            err <= 1.0,
            "{name}[{i}]: analytic {got} vs finite difference {fd}"
        );
    }
    eprintln!("{name}: {n} entries, worst error {worst:.3} of tolerance");
}

#[test]
fn tiny_cnn_gradients_match_finite_differences() {
    let mut rng = Rng(99);
    let (batch, len) = (4, 23);
    let bytes = Array2::from_shape_fn((batch, len), |_| (rng.next() % 12) as u8 * 21);
    let labels = [0, 2, 1, 2];
    let params = Params {
        table: rng.array((256, 3), 1.0),
        w1: rng.array((4, 3, 4), 0.6),
        b1: rng.array(4, 0.2),
        w2: rng.array((5, 4, 3), 0.6),
        // Positive enough that no channel of the second ReLU is dead for a
        // whole sample: the global max of an all-zero channel is a tie, a
        // kink that finite differences see one-sidedly.
        b2: rng.array(5, 0.2) + 0.8,
        wd: rng.array((3, 10), 0.8),
        bd: rng.array(3, 0.2),
    };
    let (loss, g) = loss_and_grads(&params, &bytes, &labels);
    assert!(loss.is_finite() && loss > 0.0);

    check(
        "table",
        &params,
        &g.table,
        |p| &mut p.table,
        &bytes,
        &labels,
    );
    check("w1", &params, &g.w1, |p| &mut p.w1, &bytes, &labels);
    check("b1", &params, &g.b1, |p| &mut p.b1, &bytes, &labels);
    check("w2", &params, &g.w2, |p| &mut p.w2, &bytes, &labels);
    check("b2", &params, &g.b2, |p| &mut p.b2, &bytes, &labels);
    check("wd", &params, &g.wd, |p| &mut p.wd, &bytes, &labels);
    check("bd", &params, &g.bd, |p| &mut p.bd, &bytes, &labels);
}
