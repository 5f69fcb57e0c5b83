//! Byte embedding: each byte of a page selects a learned vector of `E`
//! values, laid out as `E` channels along the page.

use ndarray::{Array2, Array3, ArrayView2, ArrayView3};

/// Number of rows of an embedding table: one per byte value.
const BYTE_VALUES: usize = 256;

/// Embeds pages of bytes: `out[b, e, l] = table[bytes[b, l], e]`.
///
/// `bytes` is `[B, L]`, `table` is `[256, E]`; the result is `[B, E, L]`.
///
/// # Panics
///
/// If `table` does not have 256 rows.
pub fn embed_forward(bytes: ArrayView2<u8>, table: ArrayView2<f32>) -> Array3<f32> {
    let (batch, len) = bytes.dim();
    let (rows, dim) = table.dim();
    assert_eq!(rows, BYTE_VALUES, "embedding table must have 256 rows");

    // Transposing the table first makes the hot loop write each output
    // channel row contiguously while gathering from a 1 KiB row that stays in
    // L1, instead of scattering E values with a stride of L per byte.
    let tt = transposed_table(table);
    let bytes = bytes.as_standard_layout();
    let bytes = bytes.as_slice().expect("standard layout is contiguous");

    let mut out = Vec::with_capacity(batch * dim * len);
    for page in bytes.chunks_exact(len.max(1)).take(batch) {
        for channel in tt.iter() {
            out.extend(page.iter().map(|&v| channel[usize::from(v)]));
        }
    }
    Array3::from_shape_vec((batch, dim, len), out).expect("length matches shape")
}

/// Gradient of [`embed_forward`] with respect to the table:
/// `dtable[v, e] = sum over (b, l) with bytes[b, l] == v of dy[b, e, l]`.
///
/// `bytes` is `[B, L]`, `dy` is `[B, E, L]`; the result is `[256, E]`.
/// Bytes are inputs, not parameters, so they have no gradient.
///
/// # Panics
///
/// If `dy` is not `[B, E, L]` for the `B` and `L` of `bytes`.
pub fn embed_backward(bytes: ArrayView2<u8>, dy: ArrayView3<f32>) -> Array2<f32> {
    let (batch, len) = bytes.dim();
    let (dy_batch, dim, dy_len) = dy.dim();
    assert_eq!(
        (dy_batch, dy_len),
        (batch, len),
        "dy must be [B, E, L] for bytes [B, L]"
    );

    let bytes = bytes.as_standard_layout();
    let bytes = bytes.as_slice().expect("standard layout is contiguous");
    let dy = dy.as_standard_layout();
    let dy = dy.as_slice().expect("standard layout is contiguous");

    // Accumulate transposed ([E, 256]) for the same reason as the forward:
    // the inner loop then reads dy contiguously.
    let mut acc = vec![[0.0f32; BYTE_VALUES]; dim];
    if len > 0 {
        for (page, grads) in bytes.chunks_exact(len).zip(dy.chunks_exact(dim * len)) {
            for (channel, g_row) in acc.iter_mut().zip(grads.chunks_exact(len)) {
                for (&v, &g) in page.iter().zip(g_row) {
                    channel[usize::from(v)] += g;
                }
            }
        }
    }
    Array2::from_shape_fn((BYTE_VALUES, dim), |(v, e)| acc[e][v])
}

/// The table as `E` rows of 256 values; a fixed-size row lets the compiler
/// drop the bounds check on a `u8` index.
fn transposed_table(table: ArrayView2<f32>) -> Vec<[f32; BYTE_VALUES]> {
    let dim = table.ncols();
    let mut tt = vec![[0.0f32; BYTE_VALUES]; dim];
    for (v, row) in table.outer_iter().enumerate() {
        for (channel, &x) in tt.iter_mut().zip(row.iter()) {
            channel[v] = x;
        }
    }
    tt
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::{assert_close, assert_close32, dot_f64, finite_diff, Rng};
    use ndarray::{Array2, Array3, ShapeBuilder};

    fn naive_forward(bytes: &Array2<u8>, table: &Array2<f32>) -> Array3<f32> {
        let (b, l) = bytes.dim();
        let e = table.ncols();
        let mut out = Array3::zeros((b, e, l));
        for bi in 0..b {
            for li in 0..l {
                for ei in 0..e {
                    out[[bi, ei, li]] = table[[bytes[[bi, li]] as usize, ei]];
                }
            }
        }
        out
    }

    #[test]
    fn forward_matches_naive() {
        let mut rng = Rng::new(1);
        for &(b, l, e) in &[(1, 1, 1), (2, 7, 3), (3, 33, 8), (1, 4096, 4), (4, 0, 2)] {
            let bytes = rng.bytes((b, l));
            let table = rng.array((256, e));
            let got = embed_forward(bytes.view(), table.view());
            assert_eq!(got, naive_forward(&bytes, &table), "b={b} l={l} e={e}");
        }
    }

    #[test]
    fn forward_accepts_non_contiguous_views() {
        let mut rng = Rng::new(2);
        let bytes_t = rng.bytes((9, 3));
        let table_f = {
            let t = rng.array((256, 5));
            let mut f = Array2::zeros((256, 5).f());
            f.assign(&t);
            f
        };
        let got = embed_forward(bytes_t.t(), table_f.view());
        let want = naive_forward(&bytes_t.t().to_owned(), &table_f.to_owned());
        assert_eq!(got, want);
    }

    #[test]
    fn backward_matches_naive_accumulation() {
        let mut rng = Rng::new(3);
        let (b, l, e) = (3, 50, 4);
        // Few distinct byte values, so every row of the table collects many
        // contributions.
        let bytes = rng.bytes((b, l)).mapv(|v| v % 5 * 50);
        let dy = rng.array((b, e, l));
        let got = embed_backward(bytes.view(), dy.view());
        let mut want = Array2::<f64>::zeros((256, e));
        for bi in 0..b {
            for li in 0..l {
                for ei in 0..e {
                    want[[bytes[[bi, li]] as usize, ei]] += dy[[bi, ei, li]] as f64;
                }
            }
        }
        assert_close("dtable", &got, &want, 1e-5, 1e-5);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(4);
        let (b, l, e) = (2, 11, 3);
        let bytes = rng.bytes((b, l)).mapv(|v| v % 7);
        let table = rng.array((256, e));
        let r = rng.array((b, e, l));
        let got = embed_backward(bytes.view(), r.view());
        let fd = finite_diff(&table, 1e-2, |t| {
            dot_f64(&embed_forward(bytes.view(), t.view()), &r)
        });
        assert_close("dtable", &got, &fd, 1e-4, 1e-3);
        // Rows of bytes that never occur get exactly nothing.
        assert_close32(
            "unused rows",
            &got.slice(ndarray::s![7.., ..]).to_owned(),
            &Array2::zeros((249, e)),
            0.0,
            0.0,
        );
    }
}
