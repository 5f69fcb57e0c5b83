use std::time::Instant;
use ndarray::{Array1, Array2, Array3};
use walmart_kernels::cpu::*;

fn t<R>(name: &str, mut f: impl FnMut() -> R) -> R {
    let _ = f();
    let n = 50;
    let s = Instant::now();
    for _ in 0..n { std::hint::black_box(f()); }
    eprintln!("{name}: {:.3} ms", s.elapsed().as_secs_f64() * 1e3 / n as f64);
    f()
}

#[test]
#[ignore]
fn profile() {
    let pages = Array2::from_shape_fn((64, 4096), |(a, b)| (a * 31 + b * 7) as u8);
    let table = Array2::from_shape_fn((256, 8), |(a, b)| (a as f32 - b as f32) * 0.01);
    let sp = |s| Conv1dSpec { stride: s, padding: 0 };
    let w1 = Array3::from_elem((16, 8, 8), 0.01f32); let b1 = Array1::zeros(16);
    let w2 = Array3::from_elem((32, 16, 4), 0.01f32); let b2 = Array1::zeros(32);
    let w3 = Array3::from_elem((32, 32, 4), 0.01f32); let b3 = Array1::zeros(32);
    let x = t("embed", || embed_forward(pages.view(), table.view()));
    let xs = t("scale", || scale_forward(pages.view()));
    let w1s = Array3::from_elem((16, 1, 8), 0.01f32);
    t("conv1 scale", || conv1d_forward(xs.view(), w1s.view(), b1.view(), sp(8)));
    let y1 = t("conv1", || conv1d_forward(x.view(), w1.view(), b1.view(), sp(8)));
    t("relu1", || { let mut y = y1.clone(); relu_inplace(&mut y); y });
    t("clone1", || y1.clone());
    let y2 = t("conv2", || conv1d_forward(y1.view(), w2.view(), b2.view(), sp(4)));
    let y3 = t("conv3", || conv1d_forward(y2.view(), w3.view(), b3.view(), sp(4)));
    t("gmax", || global_max_pool_forward(y3.view()));
    let w1one = Array3::from_elem((1, 8, 8), 0.01f32); let b1one = Array1::zeros(1);
    t("conv1 cout=1", || conv1d_forward(x.view(), w1one.view(), b1one.view(), sp(8)));
    t("conv1 again", || conv1d_forward(x.view(), w1.view(), b1.view(), sp(8)));
    let a1 = Array2::from_elem((16, 64), 0.01f32);
    let c1 = Array2::from_elem((64, 512), 0.01f32);
    t("matmul per sample x64", || { let mut s = 0.0; for _ in 0..64 { s += a1.dot(&c1)[[0,0]]; } s });
    // raw matmul of conv1 size
    let a = Array2::from_elem((16, 64), 0.01f32);
    let c = Array2::from_elem((64, 64 * 512), 0.01f32);
    t("matmul conv1 only", || a.dot(&c));
    let g = Conv1dGrads { dx: Array3::zeros((1,1,1)), dw: Array3::zeros((1,1,1)), db: Array1::zeros(1) };
    let _ = g;
}

fn v1(x: &[f32], len: usize, k: usize, lout: usize, cols: &mut [f32]) {
    for (src, rows) in x.chunks_exact(len).zip(cols.chunks_exact_mut(k * lout)) {
        for (o, window) in src.chunks_exact(k).take(lout).enumerate() {
            for (kk, &v) in window.iter().enumerate() {
                rows[kk * lout + o] = v;
            }
        }
    }
}
fn v2(x: &[f32], len: usize, k: usize, lout: usize, cols: &mut [f32]) {
    for (src, rows) in x.chunks_exact(len).zip(cols.chunks_exact_mut(k * lout)) {
        for (kk, row) in rows.chunks_exact_mut(lout).enumerate() {
            for (d, &v) in row.iter_mut().zip(src[kk..].iter().step_by(k)) {
                *d = v;
            }
        }
    }
}
fn v3(x: &[f32], len: usize, k: usize, lout: usize, cols: &mut [f32]) {
    for (src, rows) in x.chunks_exact(len).zip(cols.chunks_exact_mut(k * lout)) {
        for (kk, row) in rows.chunks_exact_mut(lout).enumerate() {
            for (d, w) in row.iter_mut().zip(src.chunks_exact(k)) {
                *d = w[kk];
            }
        }
    }
}

#[test]
#[ignore]
fn im2col_variants() {
    let (cin, len, k) = (8usize, 4096usize, 8usize);
    let lout = len / k;
    let x: Vec<f32> = (0..64 * cin * len).map(|i| i as f32).collect();
    let mut cols = vec![0.0f32; cin * k * lout];
    let mut r = |name: &str, f: fn(&[f32], usize, usize, usize, &mut [f32])| {
        let s = Instant::now();
        for _ in 0..20 {
            for b in x.chunks_exact(cin * len) {
                f(b, len, k, lout, &mut cols);
                std::hint::black_box(&cols);
            }
        }
        eprintln!("{name}: {:.3} ms per 64", s.elapsed().as_secs_f64() * 1e3 / 20.0);
    };
    r("v1", v1);
    r("v2", v2);
    r("v3", v3);
    r("v1", v1);
    let s = Instant::now();
    for _ in 0..20 {
        for b in x.chunks_exact(cin * len) {
            let mut cols = vec![0.0f32; cin * k * lout];
            v3(b, len, k, lout, &mut cols);
            std::hint::black_box(&cols);
        }
    }
    eprintln!("v3 alloc: {:.3} ms per 64", s.elapsed().as_secs_f64() * 1e3 / 20.0);
    let x3 = ndarray::Array3::from_shape_vec((64, cin, len), x.clone()).unwrap();
    let w = Array3::from_elem((1, 8, 8), 0.01f32); let b = Array1::zeros(1);
    t("conv1 cout=1", || conv1d_forward(x3.view(), w.view(), b.view(), Conv1dSpec { stride: 8, padding: 0 }));
    r("v3", v3);
    let xs3 = x3.as_slice().unwrap();
    let s = Instant::now();
    for _ in 0..20 {
        for b in xs3.chunks_exact(cin * len) {
            v3(b, len, k, lout, &mut cols);
            std::hint::black_box(&cols);
        }
    }
    eprintln!("v3 on x3: {:.3} ms per 64", s.elapsed().as_secs_f64() * 1e3 / 20.0);
    let s = Instant::now();
    for _ in 0..20 {
        for b in xs3.chunks_exact(cin * len) {
            v3(b, len, k, lout, &mut cols);
            let a1 = Array2::from_elem((1, 64), 0.01f32);
            let c1 = ndarray::ArrayView2::from_shape((64, 512), &cols[..]).unwrap();
            std::hint::black_box(a1.dot(&c1));
        }
    }
    eprintln!("v3 + dot on x3: {:.3} ms per 64", s.elapsed().as_secs_f64() * 1e3 / 20.0);
}
