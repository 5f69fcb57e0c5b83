//! Inference shortcut for a byte embedding followed by a convolution whose
//! stride equals its kernel (no padding): each output position is the sum,
//! over the kernel's taps, of a precomputed row indexed by the byte at that
//! tap. The embedding and the first convolution, most of a small
//! network's work, become table lookups and adds.

use ndarray::{Array3, ArrayView1, ArrayView2, ArrayView3};

/// Per-tap tables: `rows[(tap * 256 + byte) * out + c]`.
#[derive(Clone, Debug)]
pub struct EmbedConvTables {
    kernel: usize,
    out: usize,
    rows: Vec<f32>,
    bias: Vec<f32>,
}

/// Folds embedding `table` (`[256, E]`) into convolution weights `w`
/// (`[out, E, K]`) and bias `b` (`[out]`).
///
/// # Panics
/// If `w`'s input channels differ from the embedding width.
pub fn embed_conv_tables(
    table: ArrayView2<f32>,
    w: ArrayView3<f32>,
    b: ArrayView1<f32>,
) -> EmbedConvTables {
    let (out, dim, kernel) = w.dim();
    assert_eq!(table.dim(), (256, dim), "embed-conv: embedding width");
    let mut rows = vec![0f32; kernel * 256 * out];
    for tap in 0..kernel {
        for byte in 0..256 {
            let row = &mut rows[(tap * 256 + byte) * out..][..out];
            for (c, r) in row.iter_mut().enumerate() {
                *r = (0..dim).map(|e| w[[c, e, tap]] * table[[byte, e]]).sum();
            }
        }
    }
    EmbedConvTables {
        kernel,
        out,
        rows,
        bias: b.to_vec(),
    }
}

/// The convolution's output (`[batch, out, len / kernel]`) for `bytes`
/// (`[batch, len]`), equal up to rounding to embedding then convolving.
pub fn embed_conv_forward(bytes: ArrayView2<u8>, t: &EmbedConvTables) -> Array3<f32> {
    let (batch, len) = bytes.dim();
    let positions = len / t.kernel;
    let mut out = Array3::<f32>::zeros((batch, t.out, positions));
    let mut acc = vec![0f32; t.out];
    let bytes = bytes.as_standard_layout();
    for (row, mut dst) in bytes.outer_iter().zip(out.outer_iter_mut()) {
        let row = row.as_slice().expect("standard layout rows are contiguous");
        let dst = dst.as_slice_mut().expect("fresh arrays are contiguous");
        for p in 0..positions {
            acc.copy_from_slice(&t.bias);
            for tap in 0..t.kernel {
                let byte = usize::from(row[p * t.kernel + tap]);
                let src = &t.rows[(tap * 256 + byte) * t.out..][..t.out];
                for (a, s) in acc.iter_mut().zip(src) {
                    *a += s;
                }
            }
            for (c, a) in acc.iter().enumerate() {
                dst[c * positions + p] = *a;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{conv1d_forward, embed_forward, Conv1dSpec};
    use ndarray::{Array1, Array2};

    #[test]
    fn equals_embedding_then_convolution() {
        let mut rng = crate::rng::Rng::new(1);
        let mut r = || rng.unit() as f32 - 0.5;
        let table = Array2::from_shape_fn((256, 3), |_| r());
        let w = Array3::from_shape_fn((5, 3, 4), |_| r());
        let b = Array1::from_shape_fn(5, |_| r());
        let bytes = Array2::from_shape_fn((3, 64), |(i, j)| (i * 97 + j * 31) as u8);
        let want = conv1d_forward(
            embed_forward(bytes.view(), table.view()).view(),
            w.view(),
            b.view(),
            Conv1dSpec {
                stride: 4,
                padding: 0,
            },
        );
        let t = embed_conv_tables(table.view(), w.view(), b.view());
        let got = embed_conv_forward(bytes.view(), &t);
        assert_eq!(got.dim(), want.dim());
        for (g, w) in got.iter().zip(want.iter()) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
    }
}
