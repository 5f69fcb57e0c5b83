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
    let table = table.as_standard_layout();
    let table = table.as_slice().expect("standard layout is contiguous");
    let mut rows = vec![0f32; kernel * 256 * out];
    // Each tap's weights as `[e][c]`, so a row is a sum of `dim` scaled
    // weight rows (plain slices: this runs once per verifier, at the
    // start of every attested run).
    let mut wt = vec![0f32; dim * out];
    for tap in 0..kernel {
        for e in 0..dim {
            for c in 0..out {
                wt[e * out + c] = w[[c, e, tap]];
            }
        }
        for byte in 0..256 {
            let row = &mut rows[(tap * 256 + byte) * out..][..out];
            for (e, &x) in table[byte * dim..][..dim].iter().enumerate() {
                for (r, &wv) in row.iter_mut().zip(&wt[e * out..][..out]) {
                    *r += wv * x;
                }
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

impl EmbedConvTables {
    /// Bytes per output position (the convolution's kernel and stride).
    pub fn kernel(&self) -> usize {
        self.kernel
    }

    /// Output channels.
    pub fn out(&self) -> usize {
        self.out
    }

    /// `rows[(tap * 256 + byte) * out + c]`.
    pub fn rows(&self) -> &[f32] {
        &self.rows
    }

    /// The convolution's bias.
    pub fn bias(&self) -> &[f32] {
        &self.bias
    }
}

/// The convolution's output (`[batch, out, len / kernel]`) for `bytes`
/// (`[batch, len]`), equal up to rounding to embedding then convolving.
pub fn embed_conv_forward(bytes: ArrayView2<u8>, t: &EmbedConvTables) -> Array3<f32> {
    let mut out = Array3::zeros((0, 0, 0));
    embed_conv_forward_into(bytes, t, &mut out);
    out
}

/// [`embed_conv_forward`] into `out`, reshaped when its shape differs
/// (inference reuses it from batch to batch).
pub fn embed_conv_forward_into(bytes: ArrayView2<u8>, t: &EmbedConvTables, out: &mut Array3<f32>) {
    let (batch, len) = bytes.dim();
    let positions = len / t.kernel;
    super::buffer::reshape_reusing(out, (batch, t.out, positions));
    let bytes = bytes.as_standard_layout();
    // Widths known at compile time unroll into a few vector adds per tap;
    // this loop is most of a small network's inference time.
    match t.out {
        8 => fill::<8>(bytes.view(), t, out, positions),
        16 => fill::<16>(bytes.view(), t, out, positions),
        32 => fill::<32>(bytes.view(), t, out, positions),
        _ => fill_any(bytes.view(), t, out, positions),
    }
}

fn fill<const N: usize>(
    bytes: ArrayView2<u8>,
    t: &EmbedConvTables,
    out: &mut Array3<f32>,
    positions: usize,
) {
    let bias: [f32; N] = t.bias[..].try_into().expect("N is the table width");
    for (row, mut dst) in bytes.outer_iter().zip(out.outer_iter_mut()) {
        let row = row.as_slice().expect("standard layout rows are contiguous");
        let dst = dst.as_slice_mut().expect("owned arrays are contiguous");
        for (p, taps) in row.chunks_exact(t.kernel).take(positions).enumerate() {
            let mut acc = bias;
            for (tap, &byte) in taps.iter().enumerate() {
                let at = (tap * 256 + usize::from(byte)) * N;
                let src: &[f32; N] = t.rows[at..at + N].try_into().expect("rows of N");
                for c in 0..N {
                    acc[c] += src[c];
                }
            }
            for (c, a) in acc.iter().enumerate() {
                dst[c * positions + p] = *a;
            }
        }
    }
}

fn fill_any(bytes: ArrayView2<u8>, t: &EmbedConvTables, out: &mut Array3<f32>, positions: usize) {
    let mut acc = vec![0f32; t.out];
    for (row, mut dst) in bytes.outer_iter().zip(out.outer_iter_mut()) {
        let row = row.as_slice().expect("standard layout rows are contiguous");
        let dst = dst.as_slice_mut().expect("owned arrays are contiguous");
        for (p, taps) in row.chunks_exact(t.kernel).take(positions).enumerate() {
            acc.copy_from_slice(&t.bias);
            for (tap, &byte) in taps.iter().enumerate() {
                let src = &t.rows[(tap * 256 + usize::from(byte)) * t.out..][..t.out];
                for (a, s) in acc.iter_mut().zip(src) {
                    *a += s;
                }
            }
            for (c, a) in acc.iter().enumerate() {
                dst[c * positions + p] = *a;
            }
        }
    }
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
        // 5 channels take the general loop, 16 the unrolled one.
        for out in [5, 16] {
            let table = Array2::from_shape_fn((256, 3), |_| r());
            let w = Array3::from_shape_fn((out, 3, 4), |_| r());
            let b = Array1::from_shape_fn(out, |_| r());
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
                assert!((g - w).abs() < 1e-5, "{out} channels: {g} vs {w}");
            }
            // Into a buffer of another shape, then again into the same one.
            let mut buf = Array3::zeros((1, 1, 1));
            embed_conv_forward_into(bytes.view(), &t, &mut buf);
            embed_conv_forward_into(bytes.view(), &t, &mut buf);
            assert_eq!(buf, got);
        }
    }
}
