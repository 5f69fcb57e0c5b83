//! The tiling convolutions of [`super::TiledNet`] on x86-64 CPUs with AVX2
//! and FMA, skipping the inputs that are zero.
//!
//! After a ReLU most inputs are: on the written pages of the CVE corpus,
//! 60-77% of the first convolution's outputs, and in a tile of four output
//! positions 24-55% of the inputs are zero in all four (`benches/RESULTS.md`).
//! An input at zero adds exactly nothing to a sum (`0 * w` is a zero, and a
//! sum plus a zero is that sum, but for the sign of a zero sum), so
//! skipping it leaves every output as the dense loop computes it, in the
//! same order of additions. Written with intrinsics: the same loop in
//! portable code, with a data-dependent trip count, had LLVM keep the
//! accumulators in memory and ran at a seventh of the dense loop's speed.

use std::arch::x86_64::*;

use super::tiled_net::TiledConv;

/// Positions of `c` (whose output width is `V` vectors of 8) computed `R`
/// at a time from `x` into `y`, skipping inputs zero in all `R`; returns
/// how many positions it computed (whole tiles only; the caller does the
/// rest). `None` where the convolution's inputs per position are not a
/// multiple of 8 or its output width is not `8 * V`.
///
/// # Safety
/// The CPU must have AVX2 and FMA.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn conv_sparse_tiles<const V: usize, const R: usize>(
    x: &[f32],
    c: &TiledConv,
    y: &mut [f32],
) -> Option<usize> {
    const { assert!(V >= 1 && V <= 4 && R >= 1 && R <= 4) };
    let block = c.kernel * c.cin;
    let n = 8 * V;
    if !block.is_multiple_of(8) || c.cout != n || c.bias.len() != n || c.wt.len() != block * n {
        return None;
    }
    let positions = (x.len() / block).min(y.len() / n);
    let tiles = positions / R;
    let zero = _mm256_setzero_ps();
    let magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
    let wt = c.wt.as_ptr();
    for tile in 0..tiles {
        let xt = x[tile * R * block..][..R * block].as_ptr();
        let mut acc = [[zero; V]; R];
        for a in acc.iter_mut() {
            for (v, lane) in a.iter_mut().enumerate() {
                // SAFETY: `8 * v + 8 <= n`, the bias's length.
                *lane = unsafe { _mm256_loadu_ps(c.bias.as_ptr().add(8 * v)) };
            }
        }
        for start in (0..block).step_by(64) {
            // Bit `j`: input `start + j` is not zero in some position (a
            // NaN counts, -0.0 does not).
            let mut live = 0u64;
            for (g, group) in (start..block.min(start + 64)).step_by(8).enumerate() {
                // SAFETY: `group + 8 <= block`, inside each position's
                // `block` inputs of this tile (`R * block` long).
                let load = |r: usize| unsafe { _mm256_loadu_ps(xt.add(r * block + group)) };
                let mut any = load(0);
                if R > 1 {
                    any = _mm256_or_ps(any, load(1));
                }
                if R > 2 {
                    any = _mm256_or_ps(any, load(2));
                }
                if R > 3 {
                    any = _mm256_or_ps(any, load(3));
                }
                let any = _mm256_and_ps(any, magnitude);
                let bits = _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_NEQ_UQ>(any, zero)) as u32;
                live |= u64::from(bits) << (8 * g);
            }
            while live != 0 {
                let i = start + live.trailing_zeros() as usize;
                live &= live - 1;
                let mut w = [zero; V];
                for (v, lane) in w.iter_mut().enumerate() {
                    // SAFETY: `i < block`, so input `i`'s `n` weights lie
                    // inside `wt` (`block * n` long).
                    *lane = unsafe { _mm256_loadu_ps(wt.add(i * n + 8 * v)) };
                }
                for (r, a) in acc.iter_mut().enumerate() {
                    // SAFETY: `r * block + i < R * block`, inside the tile.
                    let xv = unsafe { _mm256_broadcast_ss(&*xt.add(r * block + i)) };
                    for (lane, wv) in a.iter_mut().zip(&w) {
                        *lane = _mm256_fmadd_ps(xv, *wv, *lane);
                    }
                }
            }
        }
        let yt = y[tile * R * n..][..R * n].as_mut_ptr();
        for (r, a) in acc.iter().enumerate() {
            for (v, lane) in a.iter().enumerate() {
                // `max(lane, 0)` gives 0 for a NaN, as `f32::max` does.
                let out = if c.relu {
                    _mm256_max_ps(*lane, zero)
                } else {
                    *lane
                };
                // SAFETY: `r * n + 8 * v + 8 <= R * n`, inside the tile's
                // outputs.
                unsafe { _mm256_storeu_ps(yt.add(r * n + 8 * v), out) };
            }
        }
    }
    Some(tiles * R)
}
