//! The tables and tiling convolutions of a [`super::TiledNet`] in 16-bit
//! integers, for x86-64 CPUs with AVX2: with AVX-512 VNNI, `vpdpwssd`
//! (sixteen multiply-adds of 16-bit pairs into 32-bit sums per 256-bit
//! instruction, twice the FMA's eight), else `vpmaddwd` and an add.
//!
//! The float network is near the FMA units' peak on a page (lz4's final
//! verdicts spend a third of their runs in it), so only less arithmetic
//! per multiply-add makes it cheaper. Every activation channel and every
//! output's weights get their own scale, chosen from the weights alone
//! (no calibration data): each channel's bound is what its inputs could
//! reach at most (with a ReLU's inputs known not negative), so no
//! finished sum can overflow, for any page. Inputs that are zero in all
//! of a tile's positions are skipped in pairs. On the pages the CVE
//! corpus's benign runs write, the six applications' models score within
//! 0.01-0.03 log-odds of the float network (`benches/RESULTS.md`).
//!
//! Integer sums are exact in any order, and the rescaling between layers
//! is one float multiply and a round to nearest even, so the VNNI, AVX2
//! and portable builds give the same bits (tested), as does the `wasm`
//! back end's module.

use super::buffer::grown;
use super::embed_conv::EmbedConvTables;
use super::tiled_net::TiledConv;

/// What a channel's bound maps to: below `i16::MAX`, leaving room for
/// the rounding of the sums of rounded values.
const FULL_SCALE: f32 = 32000.0;

/// The first layer's tables and the convolutions after it, in 16-bit
/// integers; other code generators (the WebAssembly back end) read them
/// to compute the same bits.
#[derive(Clone, Debug)]
pub struct Int16Layers {
    kernel: usize,
    out: usize,
    /// `rows[(tap * 256 + byte) * out + c]`, channel `c` in its own scale.
    rows: Vec<i16>,
    bias: Vec<i16>,
    relu: bool,
    convs: Vec<Int16Conv>,
}

/// Which build of the integer layers runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Portable Rust.
    Portable,
    /// x86-64 with AVX2 (`vpmaddwd`, then adds).
    Avx2,
    /// x86-64 with AVX-512 VNNI (`vpdpwssd`).
    Vnni,
}

impl Isa {
    /// The best build this CPU runs.
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("avx512f") && has!("avx512vl") && has!("avx512vnni") {
                return Isa::Vnni;
            }
            if has!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Portable
    }
}

/// The activations between [`Int16Layers`]' layers, grown on first use.
#[derive(Clone, Debug, Default)]
pub(crate) struct Int16Scratch {
    ints: Vec<i16>,
    next: Vec<i16>,
}

/// A tiling convolution in 16-bit integers.
#[derive(Clone, Debug)]
pub struct Int16Conv {
    kernel: usize,
    /// Inputs per output position (kernel times input channels; even).
    block: usize,
    cout: usize,
    /// Weights in pairs of inputs, eight outputs a row:
    /// `w[((pair * cout / 8 + group) * 8 + lane) * 2 + k]` is output
    /// `group * 8 + lane`'s weight of input `2 * pair + k`.
    w: Vec<i16>,
    /// Bias in the sums' scale.
    bias: Vec<i32>,
    relu: bool,
    /// A sum times this is the output: the next layer's 16-bit input, or
    /// for the last convolution its float value.
    rescale: Vec<f32>,
    /// How far each output may be from the float network's, at most (in
    /// its own units; what the next layer's rounding allows for, and what
    /// the tests hold the last layer to).
    #[cfg_attr(not(test), allow(dead_code))]
    error: Vec<f32>,
}

/// What [`Int16Conv::new`] tells the layer after it about its outputs.
struct Outputs {
    /// Per channel, the most the output can be in magnitude.
    bound: Vec<f32>,
    /// Per channel, the value of one unit of the 16-bit output.
    step: Vec<f32>,
    /// How far, in steps, an output may be from its true value divided
    /// by its step, at most (over the channels).
    slack: f32,
}

impl Int16Layers {
    /// The integer form of `first` (with a ReLU when `first_relu`) and
    /// `convs`; `None` when a width does not fit the kernels: table
    /// widths other than 8, 16 or 32, a first kernel over 1024 bytes,
    /// convolutions with an odd number of inputs per position or outputs
    /// not a multiple of 8.
    pub(crate) fn new(
        first: &EmbedConvTables,
        first_relu: bool,
        convs: &[TiledConv],
    ) -> Option<Int16Layers> {
        let out = first.out();
        // A sum of `kernel` rounded rows is within `kernel / 2` of its
        // bound's scale, which must stay below i16::MAX.
        if !matches!(out, 8 | 16 | 32) || convs.is_empty() || first.kernel() > 1024 {
            return None;
        }
        // Bounds of the first layer's outputs, per channel: the bias and
        // each tap's largest row entry.
        let kernel = first.kernel();
        let mut bound: Vec<f32> = first.bias().iter().map(|b| b.abs()).collect();
        for tap in 0..kernel {
            for (c, b) in bound.iter_mut().enumerate() {
                let most = (0..256)
                    .map(|byte| first.rows()[(tap * 256 + byte) * out + c].abs())
                    .fold(0f32, f32::max);
                *b += most;
            }
        }
        let step = steps(&bound);
        let quantize = |v: f32, c: usize| (v / step[c]).round_ties_even() as i16;
        let rows = first
            .rows()
            .chunks_exact(out)
            .flat_map(|row| row.iter().enumerate().map(|(c, &v)| quantize(v, c)))
            .collect();
        let bias = first
            .bias()
            .iter()
            .enumerate()
            .map(|(c, &v)| quantize(v, c))
            .collect();
        let mut layers = Int16Layers {
            kernel,
            out,
            rows,
            bias,
            relu: first_relu,
            convs: Vec::new(),
        };
        let (mut bound, mut step, mut nonnegative) = (bound, step, first_relu);
        // How far, in steps, an input may be from its true value divided
        // by its step: the first layer's sums of `kernel` rounded table
        // rows and a rounded bias are within half a step each; later
        // layers' come from `Int16Conv::new`.
        let mut slack = (kernel as f32 + 1.0) / 2.0;
        for (i, conv) in convs.iter().enumerate() {
            let block = conv.kernel * conv.cin;
            if !block.is_multiple_of(2) || !conv.cout.is_multiple_of(8) || conv.cin != bound.len() {
                return None;
            }
            let last = i + 1 == convs.len();
            let (layer, next) = Int16Conv::new(conv, &bound, &step, nonnegative, slack, last);
            layers.convs.push(layer);
            (bound, step, nonnegative, slack) = (next.bound, next.step, conv.relu, next.slack);
        }
        Some(layers)
    }

    /// Whether the wide builds' kernels take every convolution (outputs
    /// up to 32): else the portable loop would score some, slower than
    /// the floats.
    pub(crate) fn wide_kernels_take_all(&self) -> bool {
        self.convs.iter().all(|c| c.cout <= 32)
    }

    /// Bytes per output position of the first layer.
    pub fn kernel(&self) -> usize {
        self.kernel
    }

    /// Channels of the first layer.
    pub fn out(&self) -> usize {
        self.out
    }

    /// The first layer's tables, `rows[(tap * 256 + byte) * out + c]`;
    /// an output is the sum of its taps' rows and [`Self::bias`]
    /// (wrapping adds never wrap: each channel is scaled to fit).
    pub fn tables(&self) -> &[i16] {
        &self.rows
    }

    /// The first layer's bias.
    pub fn bias(&self) -> &[i16] {
        &self.bias
    }

    /// A ReLU follows the first layer.
    pub fn relu(&self) -> bool {
        self.relu
    }

    /// The convolutions after the first layer.
    pub fn convs(&self) -> &[Int16Conv] {
        &self.convs
    }

    /// The last convolution's outputs for a block of zero bytes.
    pub fn zero_row(&self, block: usize) -> Vec<f32> {
        let mut rows = Vec::new();
        let n = self.rows(
            &vec![0; block],
            &mut Int16Scratch::default(),
            &mut rows,
            Isa::Portable,
        );
        rows.truncate(n);
        rows
    }

    /// How far each of the last convolution's outputs may be from the
    /// float network's, at most.
    #[cfg(test)]
    pub(crate) fn row_error(&self) -> &[f32] {
        &self.convs.last().expect("at least one convolution").error
    }

    /// The last convolution's rows (floats) for `page`, whole blocks,
    /// into `rows` (grown to hold them; returns how many values), by the
    /// build `isa` names (all give the same bits).
    pub(crate) fn rows(
        &self,
        page: &[u8],
        s: &mut Int16Scratch,
        rows: &mut Vec<f32>,
        isa: Isa,
    ) -> usize {
        match isa {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the caller vouches for the features.
            Isa::Vnni => unsafe { self.rows_vnni(page, s, rows) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            Isa::Avx2 => unsafe { self.rows_avx2(page, s, rows) },
            _ => self.rows_with::<false, false>(page, s, rows),
        }
    }

    /// [`Self::rows`] compiled for AVX2 and AVX-512 VNNI.
    ///
    /// # Safety
    /// The CPU must have AVX2, AVX-512F, AVX-512VL and AVX-512 VNNI.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn rows_vnni(&self, page: &[u8], s: &mut Int16Scratch, rows: &mut Vec<f32>) -> usize {
        self.rows_with::<true, true>(page, s, rows)
    }

    /// [`Self::rows`] compiled for AVX2.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn rows_avx2(&self, page: &[u8], s: &mut Int16Scratch, rows: &mut Vec<f32>) -> usize {
        self.rows_with::<true, false>(page, s, rows)
    }

    #[inline(always)]
    fn rows_with<const WIDE: bool, const VNNI: bool>(
        &self,
        page: &[u8],
        s: &mut Int16Scratch,
        rows: &mut Vec<f32>,
    ) -> usize {
        let (a, b) = (&mut s.ints, &mut s.next);
        let mut positions = page.len() / self.kernel;
        let first = grown(a, positions * self.out);
        match self.out {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: WIDE is set only where the CPU has AVX2.
            16 if WIDE && self.kernel == 8 => unsafe { x86::embed8::<1>(page, self, first) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above.
            32 if WIDE && self.kernel == 8 => unsafe { x86::embed8::<2>(page, self, first) },
            8 => embed::<8>(page, self, first),
            16 => embed::<16>(page, self, first),
            _ => embed::<32>(page, self, first),
        }
        let mut len = positions * self.out;
        for (i, conv) in self.convs.iter().enumerate() {
            positions /= conv.kernel;
            let x = &a[..len];
            len = positions * conv.cout;
            if i + 1 == self.convs.len() {
                conv_rows::<WIDE, VNNI>(x, conv, Dst::Float(grown(rows, len)));
            } else {
                conv_rows::<WIDE, VNNI>(x, conv, Dst::Int(grown(b, len)));
                std::mem::swap(a, b);
            }
        }
        len
    }
}

/// Where a convolution's outputs go: the next layer's integers, or the
/// last layer's floats.
enum Dst<'a> {
    Int(&'a mut [i16]),
    Float(&'a mut [f32]),
}

impl Dst<'_> {
    /// Output `at` from its sum (bias included) as [`Int16Conv::rescale`]
    /// says: the portable build's steps, which the wide builds'
    /// instructions and the `wasm` module repeat (convert, multiply,
    /// round to nearest even, saturate).
    #[inline(always)]
    fn put(&mut self, at: usize, sum: i32, c: &Int16Conv, o: usize) {
        let sum = if c.relu { sum.max(0) } else { sum };
        let v = sum as f32 * c.rescale[o];
        match self {
            Dst::Float(y) => y[at] = v,
            Dst::Int(y) => {
                y[at] = v
                    .round_ties_even()
                    .clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
            }
        }
    }
}

/// Every output position of `c` from `x` into `dst`.
#[inline(always)]
fn conv_rows<const WIDE: bool, const VNNI: bool>(x: &[i16], c: &Int16Conv, mut dst: Dst<'_>) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if WIDE {
        // SAFETY: WIDE (and VNNI) are set only where the CPU reported the
        // features these builds are compiled for (`Int16Layers::rows`).
        done = unsafe { x86::conv::<VNNI>(x, c, &mut dst) };
    }
    let positions = x.len() / c.block;
    for p in done..positions {
        let xb = &x[p * c.block..][..c.block];
        for o in 0..c.cout {
            let (group, lane) = (o / 8, o % 8);
            let groups = c.cout / 8;
            let mut sum = c.bias[o];
            for (pair, v) in xb.chunks_exact(2).enumerate() {
                let w = &c.w[((pair * groups + group) * 8 + lane) * 2..][..2];
                sum = sum
                    .wrapping_add(i32::from(w[0]) * i32::from(v[0]))
                    .wrapping_add(i32::from(w[1]) * i32::from(v[1]));
            }
            dst.put(p * c.cout + o, sum, c, o);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Dst, Int16Conv, Int16Layers};

    /// The first layer of 8 taps for `V` vectors of 16 channels:
    /// [`super::embed`] with the rows loaded as whole vectors (LLVM
    /// assembled the portable build's from pieces), the same sums.
    ///
    /// # Safety
    /// The CPU must have AVX2.
    ///
    /// # Panics
    /// Where `l`'s first layer is not 8 taps of `16 * V` channels.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn embed8<const V: usize>(page: &[u8], l: &Int16Layers, out: &mut [i16]) {
        let n = 16 * V;
        assert!(l.kernel == 8 && l.out == n && l.rows.len() == 8 * 256 * n);
        let rows = l.rows.as_ptr();
        let zero = _mm256_setzero_si256();
        // SAFETY (every load below): tap < 8 and byte < 256, so the n
        // values at (tap * 256 + byte) * n lie inside `rows` (checked
        // length); the bias holds n values.
        let bias: [__m256i; V] = std::array::from_fn(|v| unsafe {
            _mm256_loadu_si256(l.bias.as_ptr().add(16 * v).cast())
        });
        let row = |tap: usize, byte: u8, v: usize| unsafe {
            _mm256_loadu_si256(
                rows.add((tap * 256 + usize::from(byte)) * n + 16 * v)
                    .cast(),
            )
        };
        for (taps, dst) in page.chunks_exact(8).zip(out.chunks_exact_mut(n)) {
            for (v, &bias) in bias.iter().enumerate() {
                let mut even = _mm256_add_epi16(bias, row(0, taps[0], v));
                let mut odd = row(1, taps[1], v);
                for pair in 1..4 {
                    even = _mm256_add_epi16(even, row(2 * pair, taps[2 * pair], v));
                    odd = _mm256_add_epi16(odd, row(2 * pair + 1, taps[2 * pair + 1], v));
                }
                let mut sum = _mm256_add_epi16(even, odd);
                if l.relu {
                    sum = _mm256_max_epi16(sum, zero);
                }
                // SAFETY: `dst` holds n values.
                unsafe { _mm256_storeu_si256(dst.as_mut_ptr().add(16 * v).cast(), sum) };
            }
        }
    }

    /// Every position of `c` where its output width has a build (8, 16,
    /// 24 and 32), or none (returns how many); `VNNI` picks the AVX-512
    /// VNNI build, else the AVX2 one (the same bits).
    ///
    /// # Safety
    /// The CPU must have AVX2, and for `VNNI` AVX-512F, AVX-512VL and
    /// AVX-512 VNNI.
    pub(super) unsafe fn conv<const VNNI: bool>(
        x: &[i16],
        c: &Int16Conv,
        dst: &mut Dst<'_>,
    ) -> usize {
        // Tiles of up to 16 registers of sums, and up to 8 of broadcast
        // inputs: AVX-512VL has 32 (8 positions a tile ran faster than 4
        // on lz4's pages); AVX2 has 16, so half as many positions.
        // SAFETY: the caller vouches for the features.
        unsafe {
            match (c.cout, VNNI) {
                (8, true) => conv_vnni::<1, 8>(x, c, dst),
                (16, true) => conv_vnni::<2, 8>(x, c, dst),
                (24, true) => conv_vnni::<3, 4>(x, c, dst),
                (32, true) => conv_vnni::<4, 4>(x, c, dst),
                (8, false) => conv_avx2::<1, 8>(x, c, dst),
                (16, false) => conv_avx2::<2, 4>(x, c, dst),
                (24, false) => conv_avx2::<3, 2>(x, c, dst),
                (32, false) => conv_avx2::<4, 2>(x, c, dst),
                _ => 0,
            }
        }
    }

    /// [`conv_all`] compiled for AVX-512 VNNI.
    #[target_feature(enable = "avx2,avx512f,avx512vl,avx512vnni")]
    unsafe fn conv_vnni<const G: usize, const R: usize>(
        x: &[i16],
        c: &Int16Conv,
        dst: &mut Dst<'_>,
    ) -> usize {
        // SAFETY: the caller vouches for the features.
        unsafe { conv_all::<G, R, true>(x, c, dst) }
    }

    /// [`conv_all`] compiled for AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn conv_avx2<const G: usize, const R: usize>(
        x: &[i16],
        c: &Int16Conv,
        dst: &mut Dst<'_>,
    ) -> usize {
        // SAFETY: the caller vouches for the features.
        unsafe { conv_all::<G, R, false>(x, c, dst) }
    }

    /// Every position of `c` (output width `8 * G`), `R` at a time and
    /// the rest two, then one, at a time; returns how many (0 where the
    /// widths do not fit).
    ///
    /// # Safety
    /// As [`conv`].
    #[inline(always)]
    unsafe fn conv_all<const G: usize, const R: usize, const VNNI: bool>(
        x: &[i16],
        c: &Int16Conv,
        dst: &mut Dst<'_>,
    ) -> usize {
        // SAFETY: the caller vouches for the features.
        unsafe {
            let mut done = conv_tiles::<G, R, VNNI>(x, c, 0, dst);
            if R > 2 {
                done += conv_tiles::<G, 2, VNNI>(x, c, done, dst);
            }
            done + conv_tiles::<G, 1, VNNI>(x, c, done, dst)
        }
    }

    /// Positions of `c` (output width `8 * G`) from position `from` on,
    /// computed `R` at a time; returns how many (whole tiles only).
    ///
    /// # Safety
    /// As [`conv`].
    #[inline(always)]
    unsafe fn conv_tiles<const G: usize, const R: usize, const VNNI: bool>(
        x: &[i16],
        c: &Int16Conv,
        from: usize,
        dst: &mut Dst<'_>,
    ) -> usize {
        let block = c.block;
        if c.cout != 8 * G || c.w.len() != block * c.cout || !block.is_multiple_of(2) {
            return 0;
        }
        let x = &x[from * block..];
        let positions = x.len() / block;
        let tiles = positions / R;
        let zero = _mm256_setzero_si256();
        let w = c.w.as_ptr();
        for tile in 0..tiles {
            let xt = x[tile * R * block..][..R * block].as_ptr();
            let mut acc = [[zero; G]; R];
            for a in acc.iter_mut() {
                for (g, lane) in a.iter_mut().enumerate() {
                    // SAFETY: `8 * g + 8 <= cout`, the bias's length.
                    *lane = unsafe { _mm256_loadu_si256(c.bias.as_ptr().add(8 * g).cast()) };
                }
            }
            for start in (0..block).step_by(64) {
                // Bit `j`: pair `start / 2 + j` is not zero in some
                // position (a pair at zero adds nothing to a sum).
                let mut live = 0u32;
                for (g, at) in (start..block.min(start + 64)).step_by(16).enumerate() {
                    if at + 16 > block {
                        live |= ((1u32 << ((block - at) / 2)) - 1) << (8 * g);
                        continue;
                    }
                    // SAFETY: `at + 16 <= block`, inside each position's
                    // `block` inputs of this tile.
                    let load =
                        |r: usize| unsafe { _mm256_loadu_si256(xt.add(r * block + at).cast()) };
                    let mut any = load(0);
                    for r in 1..R {
                        any = _mm256_or_si256(any, load(r));
                    }
                    // Lanes (pairs) not zero: AVX2's compare, not
                    // AVX-512's test, so both builds share it.
                    let zeros = _mm256_cmpeq_epi32(any, zero);
                    let set = !_mm256_movemask_ps(_mm256_castsi256_ps(zeros)) as u32 & 0xff;
                    live |= set << (8 * g);
                }
                while live != 0 {
                    let pair = start / 2 + live.trailing_zeros() as usize;
                    live &= live - 1;
                    // SAFETY: `2 * pair + 2 <= block`: inside each of the
                    // tile's `R` positions.
                    let xs: [__m256i; R] = std::array::from_fn(|r| unsafe {
                        _mm256_set1_epi32(
                            xt.add(r * block + 2 * pair).cast::<i32>().read_unaligned(),
                        )
                    });
                    // SAFETY: `(pair * G + g) * 16 + 16 <= block / 2 * cout`.
                    let wv: [__m256i; G] = std::array::from_fn(|g| unsafe {
                        _mm256_loadu_si256(w.add((pair * G + g) * 16).cast())
                    });
                    for (a, &x) in acc.iter_mut().zip(&xs) {
                        for (lane, &wv) in a.iter_mut().zip(&wv) {
                            *lane = if VNNI {
                                _mm256_dpwssd_epi32(*lane, x, wv)
                            } else {
                                // The same products and wrapping sums.
                                _mm256_add_epi32(*lane, _mm256_madd_epi16(x, wv))
                            };
                        }
                    }
                }
            }
            for (r, a) in acc.iter().enumerate() {
                let base = (from + tile * R + r) * c.cout;
                for (g, &sum) in a.iter().enumerate() {
                    let sum = if c.relu {
                        _mm256_max_epi32(sum, zero)
                    } else {
                        sum
                    };
                    // SAFETY: `8 * g + 8 <= cout`, the rescale's length.
                    let k = unsafe { _mm256_loadu_ps(c.rescale.as_ptr().add(8 * g)) };
                    let v = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), k);
                    match dst {
                        // SAFETY: `base + 8 * g + 8 <= positions * cout`,
                        // the outputs' length.
                        Dst::Float(y) => unsafe {
                            _mm256_storeu_ps(y[base + 8 * g..][..8].as_mut_ptr(), v)
                        },
                        Dst::Int(y) => {
                            // Saturating to i16, as the portable build
                            // clamps.
                            let i = _mm256_cvtps_epi32(v);
                            let h = _mm_packs_epi32(
                                _mm256_castsi256_si128(i),
                                _mm256_extracti128_si256::<1>(i),
                            );
                            // SAFETY: as above, eight i16s.
                            unsafe {
                                _mm_storeu_si128(y[base + 8 * g..][..8].as_mut_ptr().cast(), h)
                            }
                        }
                    }
                }
            }
        }
        tiles * R
    }
}

/// Per-channel steps (the value of one unit) mapping `bound` to
/// [`FULL_SCALE`]; channels that are always zero get step 1.
fn steps(bound: &[f32]) -> Vec<f32> {
    bound
        .iter()
        .map(|&b| if b > 0.0 { b / FULL_SCALE } else { 1.0 })
        .collect()
}

impl Int16Conv {
    /// Positions of its input per output position.
    pub fn kernel(&self) -> usize {
        self.kernel
    }

    /// Inputs per output position (even): `kernel` positions of the
    /// input's channels, side by side.
    pub fn block(&self) -> usize {
        self.block
    }

    /// Output channels (a multiple of 8).
    pub fn cout(&self) -> usize {
        self.cout
    }

    /// Weights in pairs of inputs: `w[((pair * cout / 8 + group) * 8 +
    /// lane) * 2 + k]` is output `group * 8 + lane`'s weight of input
    /// `2 * pair + k`. An output's sum is its bias plus, over the pairs,
    /// both inputs times their weights, in `i32` (wrapping; the finished
    /// sum fits).
    pub fn weights(&self) -> &[i16] {
        &self.w
    }

    /// The bias, in the sums' scale.
    pub fn bias(&self) -> &[i32] {
        &self.bias
    }

    /// A ReLU follows (on the sum).
    pub fn relu(&self) -> bool {
        self.relu
    }

    /// An output is its sum (after the ReLU), converted to `f32`, times
    /// this: for the last convolution its value, else rounded to nearest
    /// even and saturated to `i16`, the next layer's input.
    pub fn rescale(&self) -> &[f32] {
        &self.rescale
    }

    /// `conv` on inputs of per-channel `bound`s (of magnitudes; of values
    /// when `nonnegative`, the inputs having passed a ReLU) and `step`s,
    /// each within `slack` steps of its true value; with what its outputs
    /// are.
    fn new(
        conv: &TiledConv,
        bound: &[f32],
        step: &[f32],
        nonnegative: bool,
        slack: f32,
        last: bool,
    ) -> (Self, Outputs) {
        let (block, cout, cin) = (conv.kernel * conv.cin, conv.cout, conv.cin);
        // Input `i` (tap-major, as a block is read) is channel `i % cin`.
        let weight = |i: usize, o: usize| conv.wt[i * cout + o];
        let mut out_bound = Vec::with_capacity(cout);
        let mut scale = Vec::with_capacity(cout);
        // Per output, how far its finished sum may be from the sums'
        // scale times the true value.
        let mut off = Vec::with_capacity(cout);
        for o in 0..cout {
            // The output's range: with inputs in [0, bound], a weight's
            // sign says which end of the range it pushes.
            let (mut high, mut low) = (conv.bias[o], conv.bias[o]);
            let mut l1 = 0f32;
            let mut most = 0f32;
            for i in 0..block {
                let v = (weight(i, o) * step[i % cin]).abs();
                let push = weight(i, o) * bound[i % cin];
                if nonnegative {
                    high += push.max(0.0);
                    low += push.min(0.0);
                } else {
                    high += push.abs();
                    low -= push.abs();
                }
                l1 += v;
                most = most.max(v);
            }
            // What the output (after its ReLU, if any) can be in magnitude.
            let reach = if conv.relu {
                high.max(0.0)
            } else {
                high.abs().max(low.abs())
            };
            // Sums wrap (in both builds), so only the finished sum must
            // fit an i32: the output's range in the sums' scale, plus the
            // rounding of weights and bias (half a unit each, against
            // inputs up to i16::MAX) and of the inputs (up to `slack`
            // units each, against the weights). Weights
            // must fit an i16.
            let rounding = 0.5 * (1.0 + block as f32 * 32767.0);
            let room = 0.99 * i32::MAX as f32 - rounding;
            let extent = high.abs().max(low.abs()) * (32767.0 / FULL_SCALE);
            let by_sum = room / (extent + slack * l1).max(f32::MIN_POSITIVE);
            let by_weight = FULL_SCALE / most.max(f32::MIN_POSITIVE);
            let t = by_sum.min(by_weight);
            // The roundings above, and the sum's conversion to a float
            // (24 bits of a sum below 2^31: within 128).
            off.push(t * slack * l1 + rounding + 128.0);
            scale.push(t);
            out_bound.push(reach);
        }
        let groups = cout / 8;
        let mut w = vec![0i16; block * cout];
        for pair in 0..block / 2 {
            for (o, &scale) in scale.iter().enumerate() {
                let (group, lane) = (o / 8, o % 8);
                for k in 0..2 {
                    let i = 2 * pair + k;
                    let v = weight(i, o) * step[i % cin] * scale;
                    w[((pair * groups + group) * 8 + lane) * 2 + k] = v.round_ties_even() as i16;
                }
            }
        }
        let bias = (0..cout)
            .map(|o| (conv.bias[o] * scale[o]).round_ties_even() as i32)
            .collect();
        let out_step = steps(&out_bound);
        // In the output's units, with a float multiply's rounding (a
        // millionth of the bound) on top.
        let error: Vec<f32> = (0..cout)
            .map(|o| off[o] / scale[o] + out_bound[o] * 1e-6)
            .collect();
        // The next layer's inputs are rounded once more.
        let out_slack = (0..cout)
            .map(|o| error[o] / out_step[o] + 0.5)
            .fold(0f32, f32::max);
        let rescale = (0..cout)
            .map(|o| {
                if last {
                    1.0 / scale[o]
                } else {
                    1.0 / (scale[o] * out_step[o])
                }
            })
            .collect();
        let layer = Int16Conv {
            kernel: conv.kernel,
            block,
            cout,
            w,
            bias,
            relu: conv.relu,
            rescale,
            error,
        };
        let outputs = Outputs {
            bound: out_bound,
            step: out_step,
            slack: out_slack,
        };
        (layer, outputs)
    }
}

/// The first layer by table lookups, `N` channels; the default network's
/// 8 taps get a copy of their own, with the taps unrolled.
#[inline(always)]
fn embed<const N: usize>(page: &[u8], l: &Int16Layers, out: &mut [i16]) {
    if l.kernel == 8 {
        embed_taps::<N>(page, 8, l, out)
    } else {
        embed_taps::<N>(page, l.kernel, l, out)
    }
}

/// [`embed`] for kernels of `k` taps (a constant where inlined with one),
/// in two chains of adds (even and odd taps) so table loads overlap.
#[inline(always)]
fn embed_taps<const N: usize>(page: &[u8], k: usize, l: &Int16Layers, out: &mut [i16]) {
    let bias: [i16; N] = l.bias[..].try_into().expect("N is the table width");
    assert!(l.kernel == k && l.out == N && l.rows.len() == k * 256 * N);
    let rows = l.rows.as_ptr();
    let row = |tap: usize, byte: u8| -> [i16; N] {
        debug_assert!(tap < k);
        // SAFETY: tap < k and byte < 256, so the N values at
        // (tap * 256 + byte) * N lie inside `rows` (k * 256 * N long,
        // asserted above).
        unsafe {
            rows.add((tap * 256 + usize::from(byte)) * N)
                .cast::<[i16; N]>()
                .read_unaligned()
        }
    };
    for (taps, dst) in page.chunks_exact(k).zip(out.chunks_exact_mut(N)) {
        let (mut even, mut odd) = (bias, [0i16; N]);
        for pair in 0..k / 2 {
            let (e, o) = (
                row(2 * pair, taps[2 * pair]),
                row(2 * pair + 1, taps[2 * pair + 1]),
            );
            for c in 0..N {
                even[c] = even[c].wrapping_add(e[c]);
                odd[c] = odd[c].wrapping_add(o[c]);
            }
        }
        if k % 2 == 1 {
            let e = row(k - 1, taps[k - 1]);
            for c in 0..N {
                even[c] = even[c].wrapping_add(e[c]);
            }
        }
        for c in 0..N {
            even[c] = even[c].wrapping_add(odd[c]);
            if l.relu {
                even[c] = even[c].max(0);
            }
        }
        dst.copy_from_slice(&even);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::Rng;
    use crate::cpu::{embed_conv_tables, TiledLayer, TiledNet, TiledScratch};
    use ndarray::{Array1, Array3};

    /// A default-shaped stack (embedding 4, first convolution of
    /// `first` (out, kernel), ReLUs, then `convs` of (out, kernel)) from
    /// random weights, as a float net.
    fn float_net(
        rng: &mut Rng,
        first: (usize, usize),
        convs: &[(usize, usize)],
        len: usize,
    ) -> TiledNet {
        scaled_net(rng, first, convs, len, 1.0)
    }

    /// [`float_net`] with every weight and bias times `scale`.
    fn scaled_net(
        rng: &mut Rng,
        (c0, k0): (usize, usize),
        convs: &[(usize, usize)],
        len: usize,
        scale: f32,
    ) -> TiledNet {
        let t = embed_conv_tables(
            (rng.array((256, 4)) * scale).view(),
            (rng.array((c0, 4, k0)) * scale).view(),
            (rng.array(c0) * scale).view(),
        );
        let mut weights: Vec<(Array3<f32>, Array1<f32>)> = Vec::new();
        let mut ch = c0;
        for &(out, k) in convs {
            weights.push((
                rng.array((out, ch, k)) * (0.3 * scale),
                rng.array(out) * scale,
            ));
            ch = out;
        }
        let mut layers = vec![TiledLayer::Relu];
        for (w, b) in &weights {
            layers.push(TiledLayer::Conv {
                w: w.view(),
                b: b.view(),
            });
            layers.push(TiledLayer::Relu);
        }
        layers.push(TiledLayer::GlobalMaxPool);
        TiledNet::new(t, &layers, len)
            .expect("a tiled stack")
            .floats_only()
    }

    fn layers_of(net: &TiledNet) -> Int16Layers {
        Int16Layers::new(net.first(), net.first_relu(), net.convs()).expect("widths that fit")
    }

    /// Pages that reach far: random bytes, zeros with a few live blocks,
    /// and for each of the first layer's channels the page whose every
    /// position takes, at each tap, the byte with that channel's largest
    /// row entry (the channel at its bound), and the smallest.
    fn pages(rng: &mut Rng, net: &TiledNet, len: usize) -> Vec<Vec<u8>> {
        let mut out = vec![rng.bytes(len).to_vec()];
        let mut sparse = vec![0u8; len];
        for x in sparse.iter_mut().skip(300).step_by(7).take(40) {
            *x = rng.below(256) as u8;
        }
        out.push(sparse);
        let t = net.first();
        for c in 0..t.out() {
            for sign in [1.0f32, -1.0] {
                let pick = |tap: usize| {
                    (0..=255u8)
                        .max_by(|&a, &b| {
                            let v =
                                |x: u8| sign * t.rows()[(tap * 256 + usize::from(x)) * t.out() + c];
                            v(a).total_cmp(&v(b))
                        })
                        .expect("256 bytes")
                };
                let taps: Vec<u8> = (0..t.kernel()).map(pick).collect();
                out.push(taps.iter().copied().cycle().take(len).collect());
            }
        }
        out
    }

    /// First layer (out, kernel), later convolutions (out, kernel), page
    /// length.
    type Shape = ((usize, usize), &'static [(usize, usize)], usize);

    /// Every output width the wide kernels take (8 to 32), with whole
    /// tiles and positions left over, first layers of 8 taps (the wide
    /// table loop) and of others.
    const SHAPES: &[Shape] = &[
        ((16, 8), &[(16, 4), (32, 4)], 4096),
        ((16, 8), &[(32, 4), (16, 2)], 8 * 4 * 2 * 7),
        ((32, 8), &[(16, 3)], 8 * 3 * 5),
        ((16, 8), &[(8, 4), (24, 4)], 4096),
        ((16, 4), &[(16, 4), (32, 8)], 4096),
        ((8, 2), &[(24, 2), (8, 2)], 4096),
        ((16, 16), &[(16, 4), (32, 4)], 4096),
        ((32, 16), &[(16, 2)], 4096),
    ];

    #[test]
    fn the_wide_builds_give_the_portable_builds_bits() {
        let builds: &[Isa] = match Isa::detect() {
            Isa::Vnni => &[Isa::Avx2, Isa::Vnni],
            Isa::Avx2 => &[Isa::Avx2],
            Isa::Portable => {
                eprintln!("this CPU has no AVX2: only the portable build runs here");
                return;
            }
        };
        let mut rng = Rng::new(11);
        for &(first, convs, len) in SHAPES {
            let net = float_net(&mut rng, first, convs, len);
            let l = layers_of(&net);
            // The wide kernels take every position of the widths they
            // have (none is left to the portable loop).
            for c in &l.convs {
                let x = vec![1i16; 5 * c.block];
                let mut y = vec![0f32; 5 * c.cout];
                for &isa in builds {
                    // SAFETY: the CPU has the features (`detect`).
                    let done = unsafe {
                        if isa == Isa::Vnni {
                            x86::conv::<true>(&x, c, &mut Dst::Float(&mut y))
                        } else {
                            x86::conv::<false>(&x, c, &mut Dst::Float(&mut y))
                        }
                    };
                    assert_eq!(done, 5, "{isa:?}");
                }
            }
            for page in pages(&mut rng, &net, len) {
                let (mut s, mut rows) = (Int16Scratch::default(), Vec::new());
                let n = l.rows(&page, &mut s, &mut rows, Isa::Portable);
                let portable: Vec<u32> = rows[..n].iter().map(|v| v.to_bits()).collect();
                for &isa in builds {
                    let n = l.rows(&page, &mut s, &mut rows, isa);
                    let wide: Vec<u32> = rows[..n].iter().map(|v| v.to_bits()).collect();
                    assert_eq!(portable, wide, "{isa:?}: {first:?} {convs:?}");
                }
            }
        }
    }

    #[test]
    fn integer_rows_stay_within_their_error_bound_of_the_float_rows() {
        let mut rng = Rng::new(12);
        for &(first, convs, len) in SHAPES {
            let net = float_net(&mut rng, first, convs, len);
            let l = layers_of(&net);
            let error = l.row_error().to_vec();
            let mut s = TiledScratch::default();
            let mut worst = 0f32;
            for page in pages(&mut rng, &net, len) {
                // The float rows: the net's, by its own path.
                net.rows(&page, &mut s);
                let want = s.signal[..s.rows].to_vec();
                let (mut q, mut rows) = (Int16Scratch::default(), Vec::new());
                let n = l.rows(&page, &mut q, &mut rows, Isa::Portable);
                assert_eq!(n, want.len());
                for (i, (g, w)) in rows[..n].iter().zip(&want).enumerate() {
                    let bound = error[i % error.len()];
                    // The float path rounds too (a millionth, say).
                    assert!(
                        (g - w).abs() <= bound + 1e-5 * w.abs().max(1.0),
                        "{first:?} {convs:?}: {g} vs {w}, bound {bound}"
                    );
                    worst = worst.max((g - w).abs() / bound);
                }
            }
            // The bound is a worst case of every rounding at once; the
            // errors seen are a few hundredths of it at most.
            assert!(worst > 0.0, "{first:?} {convs:?}: no rounding at all?");
        }
    }

    #[test]
    fn weights_of_any_finite_size_neither_panic_nor_wrap() {
        // Model files hold finite weights only (checked at load), but of
        // any size: the scales must cope with huge, tiny and zero ones.
        let mut rng = Rng::new(14);
        for scale in [1e-30f32, 1e-6, 0.0, 1e6, 1e15] {
            let net = scaled_net(&mut rng, (16, 8), &[(16, 4), (32, 4)], 4096, scale);
            let l = layers_of(&net);
            let mut s = TiledScratch::default();
            for page in pages(&mut rng, &net, 4096) {
                let (mut q, mut rows) = (Int16Scratch::default(), Vec::new());
                let n = l.rows(&page, &mut q, &mut rows, Isa::detect());
                net.rows(&page, &mut s);
                let want = &s.signal[..s.rows];
                let top = want.iter().fold(0f32, |m, v| m.max(v.abs()));
                for (g, w) in rows[..n].iter().zip(want) {
                    // Relative to the page's largest value, where the
                    // floats themselves are finite.
                    if top.is_finite() && top > 0.0 {
                        assert!((g - w).abs() <= 0.05 * top, "scale {scale}: {g} vs {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn widths_the_kernels_do_not_take_are_left_to_the_floats() {
        let mut rng = Rng::new(13);
        let net = float_net(&mut rng, (16, 8), &[(12, 4)], 4096);
        assert!(Int16Layers::new(net.first(), net.first_relu(), net.convs()).is_none());
    }
}
