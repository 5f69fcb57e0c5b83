//! One-page inference for networks whose convolutions tile their input
//! (stride equal to kernel, no padding), the shape of walmart's default
//! verifier: embedding folded into lookup tables, tiling convolutions,
//! one global pooling, dense layers.
//!
//! Activations are kept channel-last (`[position][channel]`), so an output
//! position of a tiling convolution reads one contiguous block of
//! `kernel * channels` inputs: a small matrix product per position with no
//! im2col copy, and a page's activations (tens of KiB) stay in the L1/L2
//! caches instead of batch-sized buffers.
//!
//! Every output position of the last convolution sees its own block of
//! the input (the product of the kernels: 128 bytes in the default
//! network), so the network's answer depends only on the set of block
//! results the global pooling takes. Blocks of zeros are the commonest
//! content of written pages (a third to two thirds of the blocks in the
//! CVE corpus's snapshots): their result is computed once, when the net is
//! built, and only the other blocks go through the convolutions. Widths of
//! 8, 16 and 32 channels
//! get register tiles unrolled at compile time; on x86-64 CPUs with AVX2
//! and FMA the same code is compiled a second time for them and chosen at
//! run time (the crate's default target has neither), and there the
//! convolutions after the tables skip the inputs at zero
//! ([`super::sparse_conv`]), with the same outputs.

use ndarray::{ArrayView1, ArrayView2, ArrayView3};

use super::buffer::grown;
use super::int16_net::{Int16Layers, Int16Scratch, Isa};
use super::EmbedConvTables;

/// A layer after the embedding and first convolution, as
/// [`TiledNet::new`] takes it.
#[derive(Clone, Copy, Debug)]
pub enum TiledLayer<'a> {
    /// A convolution with stride equal to its kernel and no padding:
    /// weights `[out, in, kernel]`, bias `[out]`.
    Conv {
        w: ArrayView3<'a, f32>,
        b: ArrayView1<'a, f32>,
    },
    /// Rectified linear unit, on whatever the previous layer gave.
    Relu,
    /// Maximum over all positions, per channel.
    GlobalMaxPool,
    /// Mean over all positions, per channel.
    GlobalAvgPool,
    /// Fully connected: weights `[out, in]`, bias `[out]`.
    Dense {
        w: ArrayView2<'a, f32>,
        b: ArrayView1<'a, f32>,
    },
}

/// A tiling convolution as [`TiledNet`] holds it (other code generators,
/// such as the WebAssembly back end, read the same checked stack).
#[derive(Clone, Debug)]
pub struct TiledConv {
    pub kernel: usize,
    pub cin: usize,
    pub cout: usize,
    /// Weights transposed to `wt[(tap * cin + c) * cout + o]`, the order
    /// a channel-last block is read in.
    pub wt: Vec<f32>,
    pub bias: Vec<f32>,
    /// A ReLU follows.
    pub relu: bool,
}

/// A dense layer as [`TiledNet`] holds it.
#[derive(Clone, Debug)]
pub struct TiledDense {
    pub nin: usize,
    pub nout: usize,
    /// `[out][in]`, as the model stores it.
    pub w: Vec<f32>,
    /// `[in][out]`: a row per input, so all outputs advance together,
    /// each still summed in input order.
    wt: Vec<f32>,
    pub bias: Vec<f32>,
    /// A ReLU follows.
    pub relu: bool,
}

/// The global pooling of a [`TiledNet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TiledPool {
    Max,
    Avg,
}

/// A network ready for one-page inference (weights rearranged once).
/// Immutable: threads share one and keep a [`TiledScratch`] each.
#[derive(Clone, Debug)]
pub struct TiledNet {
    input_len: usize,
    first: EmbedConvTables,
    first_relu: bool,
    convs: Vec<TiledConv>,
    pool: TiledPool,
    /// A ReLU straight after the pooling.
    pool_relu: bool,
    dense: Vec<TiledDense>,
    /// AVX2 and FMA are present (checked once, at construction).
    wide: bool,
    /// Input bytes behind one output position of the last convolution.
    block: usize,
    /// The last convolution's output for a block of zeros, computed by the
    /// same code as any other block.
    zero_row: Vec<f32>,
    /// The tables and convolutions in 16-bit integers and the build that
    /// runs them, used instead of the floats where the CPU has AVX2
    /// ([`super::int16_net`]).
    int16: Option<(Int16Layers, Isa)>,
}

/// Per-thread buffers of [`TiledNet::logits`], grown on first use and
/// reused after ([`TiledNet::scratch`] makes them grown).
#[derive(Clone, Debug, Default)]
pub struct TiledScratch {
    /// The blocks of a page that are not all zeros, side by side.
    packed: Vec<u8>,
    /// Activations, the last convolution's rows in the first `rows`.
    /// These buffers only grow: each layer writes every value it reads
    /// after, and filling them again for each page (they swap, and
    /// the first layer is four times the second) cost a twentieth of the
    /// inference.
    pub(crate) signal: Vec<f32>,
    pub(crate) rows: usize,
    next: Vec<f32>,
    features: Vec<f32>,
    next_features: Vec<f32>,
    /// The integer build's activations ([`super::int16_net`]).
    ints: Int16Scratch,
}

impl TiledNet {
    /// The network of `first` (embedding and first convolution, as lookup
    /// tables) followed by `layers`, for inputs of `input_len` bytes; `None`
    /// when the layers are not of this shape: a convolution whose input
    /// channels do not match, or which would leave no positions; other
    /// than exactly one global pooling between the convolutions and the
    /// dense layers; a dense layer whose inputs do not match.
    pub fn new(
        first: EmbedConvTables,
        layers: &[TiledLayer<'_>],
        input_len: usize,
    ) -> Option<TiledNet> {
        let mut channels = first.out();
        let mut positions = input_len / first.kernel();
        if positions == 0 {
            return None;
        }
        let mut rest = layers;
        let take_relu = |rest: &mut &[TiledLayer<'_>]| match rest.first() {
            Some(TiledLayer::Relu) => {
                *rest = &rest[1..];
                true
            }
            _ => false,
        };
        let first_relu = take_relu(&mut rest);
        let mut convs = Vec::new();
        while let Some(TiledLayer::Conv { w, b }) = rest.first() {
            let (cout, cin, kernel) = w.dim();
            if cin != channels || b.len() != cout || kernel == 0 || positions / kernel == 0 {
                return None;
            }
            let mut wt = vec![0f32; kernel * cin * cout];
            for o in 0..cout {
                for c in 0..cin {
                    for tap in 0..kernel {
                        wt[(tap * cin + c) * cout + o] = w[[o, c, tap]];
                    }
                }
            }
            rest = &rest[1..];
            convs.push(TiledConv {
                kernel,
                cin,
                cout,
                wt,
                bias: b.to_vec(),
                relu: take_relu(&mut rest),
            });
            channels = cout;
            positions /= kernel;
        }
        let pool = match rest.first() {
            Some(TiledLayer::GlobalMaxPool) => TiledPool::Max,
            Some(TiledLayer::GlobalAvgPool) => TiledPool::Avg,
            _ => return None,
        };
        rest = &rest[1..];
        let mut features = channels;
        let mut dense = Vec::new();
        let pooled_relu = take_relu(&mut rest);
        while let Some(TiledLayer::Dense { w, b }) = rest.first() {
            let (nout, nin) = w.dim();
            if nin != features || b.len() != nout {
                return None;
            }
            rest = &rest[1..];
            dense.push(TiledDense {
                nin,
                nout,
                w: w.iter().copied().collect(),
                wt: w.t().iter().copied().collect(),
                bias: b.to_vec(),
                relu: take_relu(&mut rest),
            });
            features = nout;
        }
        if !rest.is_empty() {
            return None;
        }
        let block = convs.iter().fold(first.kernel(), |b, c| b * c.kernel);
        let mut net = TiledNet {
            input_len,
            first,
            first_relu,
            convs,
            pool,
            pool_relu: pooled_relu,
            dense,
            wide: wide_vectors(),
            block,
            zero_row: Vec::new(),
            int16: None,
        };
        // The integer build where the CPU has a wide one: faster than the
        // floats with AVX2 alone too (1.1-1.4x on the CVE corpus's pages).
        let isa = Isa::detect();
        if isa != Isa::Portable {
            net.int16 = Int16Layers::new(&net.first, net.first_relu, &net.convs)
                .filter(Int16Layers::wide_kernels_take_all)
                .map(|l| (l, isa));
        }
        net.zero_row = net.zero_block_rows();
        Some(net)
    }

    /// The last convolution's output for a block of zeros, by the build
    /// this net runs: what every block of zeros of a page is taken as.
    fn zero_block_rows(&self) -> Vec<f32> {
        let mut s = TiledScratch::default();
        self.rows(&vec![0; self.block], &mut s);
        s.signal[..s.rows].to_vec()
    }

    /// This net computing in floats on every CPU (the integer build
    /// left out), for comparing the two.
    pub fn floats_only(&self) -> TiledNet {
        let mut net = TiledNet {
            int16: None,
            ..self.clone()
        };
        net.zero_row = net.zero_block_rows();
        net
    }

    /// The tables and convolutions in 16-bit integers, whatever this CPU
    /// runs (`None` where a width does not fit them): for code generated
    /// to run elsewhere, which then gives this net's bits where it runs
    /// the integer build.
    pub fn int16_layers(&self) -> Option<Int16Layers> {
        Int16Layers::new(&self.first, self.first_relu, &self.convs)
    }

    /// Whether this net computes in 16-bit integers on this CPU.
    pub fn uses_int16(&self) -> bool {
        self.int16.is_some()
    }

    /// Buffers for this net already as large as any page needs, their
    /// memory touched (by scoring a page whose every block is scored):
    /// grown in a run's final flush instead, they cost that verdict
    /// 10-60 us on a short run (a third of the CNN's time on lz4's
    /// 0.2 ms runs).
    pub fn scratch(&self) -> TiledScratch {
        let mut s = TiledScratch::default();
        self.logits(&vec![1; self.input_len], &mut s);
        s
    }

    /// The bytes one input holds.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The embedding and first convolution, as lookup tables.
    pub fn first(&self) -> &EmbedConvTables {
        &self.first
    }

    /// A ReLU follows the first convolution.
    pub fn first_relu(&self) -> bool {
        self.first_relu
    }

    /// The tiling convolutions after the first.
    pub fn convs(&self) -> &[TiledConv] {
        &self.convs
    }

    /// The global pooling, and whether a ReLU follows it.
    pub fn pool(&self) -> (TiledPool, bool) {
        (self.pool, self.pool_relu)
    }

    /// The dense layers; the last gives the logits.
    pub fn dense(&self) -> &[TiledDense] {
        &self.dense
    }

    /// Input bytes behind one output position of the last convolution.
    pub fn block(&self) -> usize {
        self.block
    }

    /// The last convolution's output for a block of zero bytes by the
    /// portable build (no fused multiply-add), for code generated to run
    /// elsewhere: the same on every host. (The net's own is this CPU's
    /// build's.)
    pub fn zero_row_portable(&self) -> Vec<f32> {
        let mut s = TiledScratch::default();
        self.rows_with::<false>(&vec![0; self.block], &mut s);
        s.signal[..s.rows].to_vec()
    }

    /// The last layer's outputs for `page`, which must be
    /// [`Self::input_len`] bytes long.
    ///
    /// # Panics
    /// If `page` has another length.
    pub fn logits<'s>(&self, page: &[u8], s: &'s mut TiledScratch) -> &'s [f32] {
        assert_eq!(page.len(), self.input_len, "tiled net: input length");
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only when the running CPU reported
            // AVX2 and FMA, the features `logits_wide` is compiled for.
            unsafe { self.logits_wide(page, s) };
            return &s.features;
        }
        self.logits_with(page, s);
        &s.features
    }

    /// [`Self::logits`]' packing, pooling and dense layers compiled for
    /// AVX2 (in the crate's default build they ran as scalar loops, a
    /// fifth of a page's time on lz4's); LLVM fuses no float operations
    /// on its own, so the results are the default build's.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn logits_wide(&self, page: &[u8], s: &mut TiledScratch) {
        self.logits_with(page, s);
    }

    #[inline(always)]
    fn logits_with(&self, page: &[u8], s: &mut TiledScratch) {
        let total = self.input_len / self.block;
        let mut packed = std::mem::take(&mut s.packed);
        let kept = pack_nonzero_blocks(page, self.block, &mut packed);
        self.rows(&packed, s);
        s.packed = packed;
        let zeros = total - kept;
        self.pool_into(total, zeros, s);
        self.dense_layers(s);
    }

    /// The last convolution's rows for `bytes`, whole blocks, into
    /// `s.signal`, by the build this CPU runs.
    pub(crate) fn rows(&self, bytes: &[u8], s: &mut TiledScratch) {
        if let Some((q, isa)) = &self.int16 {
            s.rows = q.rows(bytes, &mut s.ints, &mut s.signal, *isa);
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if self.wide {
            // SAFETY: `wide` is set only when the running CPU reported
            // AVX2 and FMA, the features `rows_wide` is compiled for.
            unsafe { self.rows_wide(bytes, s) };
            return;
        }
        self.rows_with::<false>(bytes, s);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn rows_wide(&self, bytes: &[u8], s: &mut TiledScratch) {
        self.rows_with::<true>(bytes, s);
    }

    #[inline(always)]
    fn rows_with<const FMA: bool>(&self, page: &[u8], s: &mut TiledScratch) {
        let t = &self.first;
        let mut positions = page.len() / t.kernel();
        let first = grown(&mut s.signal, positions * t.out());
        match t.out() {
            8 => embed_tiles::<8>(page, t, self.first_relu, first),
            16 => embed_tiles::<16>(page, t, self.first_relu, first),
            32 => embed_tiles::<32>(page, t, self.first_relu, first),
            _ => embed_any(page, t, self.first_relu, first),
        }
        let mut len = positions * t.out();
        for conv in &self.convs {
            positions /= conv.kernel;
            let x = &s.signal[..len];
            len = positions * conv.cout;
            let y = grown(&mut s.next, len);
            // SAFETY: `wide` is set only when the running CPU reported
            // AVX2 and FMA.
            if !(FMA && self.wide && unsafe { conv_sparse(x, conv, y) }) {
                match conv.cout {
                    8 => conv_tiles::<8, 4, FMA>(x, conv, y),
                    16 => conv_tiles::<16, 4, FMA>(x, conv, y),
                    32 => conv_tiles::<32, 2, FMA>(x, conv, y),
                    _ => conv_any::<FMA>(x, conv, y),
                }
            }
            std::mem::swap(&mut s.signal, &mut s.next);
        }
        s.rows = len;
    }

    /// The dense layers, from `s.features` to the logits (a few hundred
    /// multiplications: the portable build serves).
    #[inline(always)]
    fn dense_layers(&self, s: &mut TiledScratch) {
        for d in &self.dense {
            s.next_features.clear();
            s.next_features.extend_from_slice(&d.bias);
            match d.nout {
                16 => dense_rows::<16>(d, &s.features, &mut s.next_features),
                2 => dense_rows::<2>(d, &s.features, &mut s.next_features),
                _ => {
                    for (row, x) in d.wt.chunks_exact(d.nout).zip(&s.features) {
                        for (acc, w) in s.next_features.iter_mut().zip(row) {
                            *acc += w * x;
                        }
                    }
                }
            }
            if d.relu {
                for acc in &mut s.next_features {
                    *acc = acc.max(0.0);
                }
            }
            debug_assert_eq!(s.next_features.len(), d.nout);
            std::mem::swap(&mut s.features, &mut s.next_features);
        }
    }
}

/// A dense layer of `N` outputs (the default network's widths) with its
/// sums in registers, each still in input order; `out` holds the bias.
#[inline(always)]
fn dense_rows<const N: usize>(d: &TiledDense, x: &[f32], out: &mut [f32]) {
    let mut acc: [f32; N] = out[..N].try_into().expect("N outputs");
    for (row, x) in d.wt.chunks_exact(N).zip(x) {
        let row: &[f32; N] = row.try_into().expect("chunks of N");
        for o in 0..N {
            acc[o] += row[o] * x;
        }
    }
    out[..N].copy_from_slice(&acc);
}

impl TiledNet {
    /// Global pooling into the features of a page's `positions` rows:
    /// those in `s.signal` and `zeros` more equal to the zero block's.
    #[inline(always)]
    fn pool_into(&self, positions: usize, zeros: usize, s: &mut TiledScratch) {
        let channels = self.zero_row.len();
        let rows = s.signal[..s.rows].chunks_exact(channels);
        s.features.clear();
        match self.pool {
            TiledPool::Max => {
                if zeros > 0 {
                    s.features.extend_from_slice(&self.zero_row);
                } else {
                    s.features.extend_from_slice(&s.signal[..channels]);
                }
                for row in rows {
                    for (f, x) in s.features.iter_mut().zip(row) {
                        *f = f.max(*x);
                    }
                }
            }
            TiledPool::Avg => {
                s.features.resize(channels, 0.0);
                for row in rows {
                    for (f, x) in s.features.iter_mut().zip(row) {
                        *f += x;
                    }
                }
                let z = zeros as f32;
                for (f, x) in s.features.iter_mut().zip(&self.zero_row) {
                    *f += z * x;
                }
                let n = positions as f32;
                for f in &mut s.features {
                    *f /= n;
                }
            }
        }
        if self.pool_relu {
            for f in &mut s.features {
                *f = f.max(0.0);
            }
        }
    }
}

/// Copies the whole `block`-byte blocks of `page` that are not all zeros
/// into `out` (cleared first), in order, and returns how many. Bytes after
/// the last whole block are left out: they reach no output position.
#[inline(always)]
pub fn pack_nonzero_blocks(page: &[u8], block: usize, out: &mut Vec<u8>) -> usize {
    out.clear();
    for b in page.chunks_exact(block).filter(|b| !is_zero(b)) {
        out.extend_from_slice(b);
    }
    out.len() / block
}

/// Whether `block` holds only zero bytes (an OR of all of them, which
/// compiles to vector instructions, not a loop that exits early).
#[inline(always)]
fn is_zero(block: &[u8]) -> bool {
    block.iter().fold(0, |a, &b| a | b) == 0
}

/// Whether this CPU runs the AVX2 and FMA build of the kernels.
fn wide_vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `a * b + c`, fused where the build has FMA (without it `mul_add` is a
/// slow library call).
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `a += v * w`, lane by lane.
#[inline(always)]
fn fma_row<const N: usize, const FMA: bool>(a: &mut [f32; N], v: f32, w: &[f32; N]) {
    for o in 0..N {
        a[o] = madd::<FMA>(v, w[o], a[o]);
    }
}

#[inline(always)]
fn relu_if<const N: usize>(acc: &mut [f32; N], relu: bool) {
    if relu {
        for a in acc.iter_mut() {
            *a = a.max(0.0);
        }
    }
}

/// The embedding and first convolution by table lookups, `N` channels,
/// channel-last. The default network's 8 taps get a copy of their own,
/// with the taps unrolled.
#[inline(always)]
fn embed_tiles<const N: usize>(page: &[u8], t: &EmbedConvTables, relu: bool, out: &mut [f32]) {
    if t.kernel() == 8 {
        embed_taps::<N>(page, 8, t, relu, out)
    } else {
        embed_taps::<N>(page, t.kernel(), t, relu, out)
    }
}

/// [`embed_tiles`] for kernels of `k` taps (a constant where inlined
/// with one). Rows are addressed without bounds checks (a byte picks one
/// of 256 rows of its tap's table, always inside it), which took a third
/// of the lookups' time.
#[inline(always)]
fn embed_taps<const N: usize>(
    page: &[u8],
    k: usize,
    t: &EmbedConvTables,
    relu: bool,
    out: &mut [f32],
) {
    let bias: [f32; N] = t.bias().try_into().expect("N is the table width");
    let rows = t.rows();
    assert!(t.kernel() == k && t.out() == N && rows.len() == k * 256 * N);
    let row = |tap: usize, byte: u8| -> &[f32; N] {
        debug_assert!(tap < k);
        // SAFETY: tap < k and byte < 256, so the N floats at
        // (tap * 256 + byte) * N lie inside `rows` (k * 256 * N long,
        // asserted above); f32 arrays need f32 alignment only.
        unsafe {
            &*rows
                .as_ptr()
                .add((tap * 256 + usize::from(byte)) * N)
                .cast::<[f32; N]>()
        }
    };
    for (taps, dst) in page.chunks_exact(k).zip(out.chunks_exact_mut(N)) {
        // Even and odd taps in two sums: two chains of dependent adds
        // instead of one, so table loads overlap.
        let (mut even, mut odd) = (bias, [0f32; N]);
        for (pair, bytes) in taps.chunks(2).enumerate() {
            let e = row(2 * pair, bytes[0]);
            for c in 0..N {
                even[c] += e[c];
            }
            if let Some(&b) = bytes.get(1) {
                let o = row(2 * pair + 1, b);
                for c in 0..N {
                    odd[c] += o[c];
                }
            }
        }
        for c in 0..N {
            even[c] += odd[c];
        }
        relu_if(&mut even, relu);
        dst.copy_from_slice(&even);
    }
}

fn embed_any(page: &[u8], t: &EmbedConvTables, relu: bool, out: &mut [f32]) {
    let n = t.out();
    for (taps, dst) in page.chunks_exact(t.kernel()).zip(out.chunks_exact_mut(n)) {
        dst.copy_from_slice(t.bias());
        for (tap, &byte) in taps.iter().enumerate() {
            let src = &t.rows()[(tap * 256 + usize::from(byte)) * n..][..n];
            for (a, s) in dst.iter_mut().zip(src) {
                *a += s;
            }
        }
        if relu {
            for a in dst.iter_mut() {
                *a = a.max(0.0);
            }
        }
    }
}

/// A tiling convolution of `N` output channels, `R` output positions at a
/// time: each weight row loaded once serves `R` positions, and the `R * N`
/// sums stay in registers.
#[inline(always)]
fn conv_tiles<const N: usize, const R: usize, const FMA: bool>(
    x: &[f32],
    c: &TiledConv,
    y: &mut [f32],
) {
    const { assert!(R >= 1 && R <= 4, "one to four named accumulators") };
    let block = c.kernel * c.cin;
    let bias: [f32; N] = c.bias[..].try_into().expect("N is the output width");
    let mut xs = x.chunks_exact(block * R);
    let mut ys = y.chunks_exact_mut(N * R);
    for (xb, yb) in (&mut xs).zip(&mut ys) {
        // Named accumulators rather than an `[[f32; N]; R]`: LLVM keeps
        // these in vector registers (the array it spilled to the stack),
        // and their independent chains hide the FMA latency.
        let (mut a0, mut a1, mut a2, mut a3) = (bias, bias, bias, bias);
        let x0 = &xb[..block];
        let x1 = &xb[block.min(xb.len())..][..if R > 1 { block } else { 0 }];
        let x2 = &xb[(2 * block).min(xb.len())..][..if R > 2 { block } else { 0 }];
        let x3 = &xb[(3 * block).min(xb.len())..][..if R > 3 { block } else { 0 }];
        for (i, w) in c.wt.chunks_exact(N).enumerate() {
            let w: &[f32; N] = w.try_into().expect("chunks of N");
            fma_row::<N, FMA>(&mut a0, x0[i], w);
            if R > 1 {
                fma_row::<N, FMA>(&mut a1, x1[i], w);
            }
            if R > 2 {
                fma_row::<N, FMA>(&mut a2, x2[i], w);
            }
            if R > 3 {
                fma_row::<N, FMA>(&mut a3, x3[i], w);
            }
        }
        for (a, dst) in [&mut a0, &mut a1, &mut a2, &mut a3]
            .into_iter()
            .zip(yb.chunks_exact_mut(N))
        {
            relu_if(a, c.relu);
            dst.copy_from_slice(a);
        }
    }
    // Fewer than R positions left.
    for (xb, dst) in xs
        .remainder()
        .chunks_exact(block)
        .zip(ys.into_remainder().chunks_exact_mut(N))
    {
        let mut a = bias;
        for (w, v) in c.wt.chunks_exact(N).zip(xb) {
            for o in 0..N {
                a[o] = madd::<FMA>(*v, w[o], a[o]);
            }
        }
        relu_if(&mut a, c.relu);
        dst.copy_from_slice(&a);
    }
}

/// The AVX2 and FMA build of a tiling convolution that skips inputs at
/// zero ([`super::sparse_conv`]), for the widths the dense tiles have;
/// `false`, computing nothing, for others.
///
/// # Safety
/// The running CPU must have AVX2 and FMA (`TiledNet::wide`).
#[inline(always)]
unsafe fn conv_sparse(x: &[f32], c: &TiledConv, y: &mut [f32]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        use super::sparse_conv::conv_sparse_tiles;
        // SAFETY: the caller vouches for AVX2 and FMA.
        let done = unsafe {
            match c.cout {
                8 => conv_sparse_tiles::<1, 4>(x, c, y),
                16 => conv_sparse_tiles::<2, 4>(x, c, y),
                32 => conv_sparse_tiles::<4, 2>(x, c, y),
                _ => None,
            }
        };
        let Some(done) = done else { return false };
        // The positions left over (fewer than a tile), densely, in the
        // same order of additions.
        let block = c.kernel * c.cin;
        conv_any::<true>(&x[done * block..], c, &mut y[done * c.cout..]);
        true
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (x, c, y);
        false
    }
}

#[inline(always)]
fn conv_any<const FMA: bool>(x: &[f32], c: &TiledConv, y: &mut [f32]) {
    let block = c.kernel * c.cin;
    for (xb, dst) in x.chunks_exact(block).zip(y.chunks_exact_mut(c.cout)) {
        dst.copy_from_slice(&c.bias);
        for (w, v) in c.wt.chunks_exact(c.cout).zip(xb) {
            for (a, w) in dst.iter_mut().zip(w) {
                *a = madd::<FMA>(*v, *w, *a);
            }
        }
        if c.relu {
            for a in dst.iter_mut() {
                *a = a.max(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::Rng;
    use crate::cpu::{
        conv1d_forward, dense_forward, embed_conv_forward, embed_conv_tables,
        global_avg_pool_forward, global_max_pool_forward, relu_forward, Conv1dSpec,
    };
    use ndarray::{Array1, Array2, Array3};

    /// The layers after the tables, owned, for the reference and the net.
    enum Owned {
        Conv(Array3<f32>, Array1<f32>),
        Relu,
        Max,
        Avg,
        Dense(Array2<f32>, Array1<f32>),
    }

    /// The batched kernels, layer by layer: the reference.
    fn reference(bytes: &Array2<u8>, t: &EmbedConvTables, layers: &[Owned]) -> Array2<f32> {
        let mut signal = embed_conv_forward(bytes.view(), t);
        let mut features = None::<Array2<f32>>;
        for l in layers {
            match (l, features.take()) {
                (Owned::Conv(w, b), None) => {
                    signal = conv1d_forward(
                        signal.view(),
                        w.view(),
                        b.view(),
                        Conv1dSpec {
                            stride: w.dim().2,
                            padding: 0,
                        },
                    )
                }
                (Owned::Relu, None) => signal = relu_forward(signal.view()),
                (Owned::Relu, Some(f)) => features = Some(relu_forward(f.view())),
                (Owned::Max, None) => features = Some(global_max_pool_forward(signal.view()).0),
                (Owned::Avg, None) => features = Some(global_avg_pool_forward(signal.view())),
                (Owned::Dense(w, b), Some(f)) => {
                    features = Some(dense_forward(f.view(), w.view(), b.view()))
                }
                _ => unreachable!("test stacks are well formed"),
            }
        }
        features.expect("stacks end in features")
    }

    fn views(layers: &[Owned]) -> Vec<TiledLayer<'_>> {
        layers
            .iter()
            .map(|l| match l {
                Owned::Conv(w, b) => TiledLayer::Conv {
                    w: w.view(),
                    b: b.view(),
                },
                Owned::Relu => TiledLayer::Relu,
                Owned::Max => TiledLayer::GlobalMaxPool,
                Owned::Avg => TiledLayer::GlobalAvgPool,
                Owned::Dense(w, b) => TiledLayer::Dense {
                    w: w.view(),
                    b: b.view(),
                },
            })
            .collect()
    }

    #[test]
    fn equals_the_batched_kernels_layer_by_layer() {
        let mut rng = Rng::new(7);
        // (embedding width, first conv out/kernel, later convs (out, kernel),
        // pooling, input length): widths with register tiles (8, 16, 32)
        // and without (5, 12), position counts that are and are not
        // multiples of the tile rows.
        type Case = (usize, usize, usize, &'static [(usize, usize)], bool, usize);
        let cases: &[Case] = &[
            (4, 16, 8, &[(16, 4), (32, 4)], true, 4096),
            (3, 8, 4, &[(12, 3), (8, 2)], false, 600),
            (2, 5, 2, &[(32, 5)], true, 130),
            (4, 32, 8, &[], false, 256),
            (4, 16, 8, &[(16, 4)], true, 8 * 4 * 7),
            // Lengths a kernel does not divide: the tail is dropped.
            (4, 16, 8, &[(16, 3), (8, 5)], true, 4096 + 5),
        ];
        for (case, &(dim, c0, k0, convs, max, len)) in cases.iter().enumerate() {
            let table = rng.array((256, dim));
            let t = embed_conv_tables(
                table.view(),
                rng.array((c0, dim, k0)).view(),
                rng.array(c0).view(),
            );
            let mut layers = vec![Owned::Relu];
            let mut ch = c0;
            for (i, &(out, k)) in convs.iter().enumerate() {
                layers.push(Owned::Conv(rng.array((out, ch, k)), rng.array(out)));
                // One convolution without its ReLU.
                if i != 1 {
                    layers.push(Owned::Relu);
                }
                ch = out;
            }
            layers.push(if max { Owned::Max } else { Owned::Avg });
            if case == 1 {
                layers.push(Owned::Relu);
            }
            layers.push(Owned::Dense(rng.array((7, ch)), rng.array(7)));
            layers.push(Owned::Relu);
            layers.push(Owned::Dense(rng.array((2, 7)), rng.array(2)));

            let mut bytes = rng.bytes((5, len));
            // Pages with blocks of zeros, which take the zero block's
            // precomputed result: some (at the start, inside, at the end,
            // and in the dropped tail), and all of them.
            let block = convs.iter().fold(k0, |b, &(_, k)| b * k);
            let blocks = len / block;
            for (i, x) in bytes.row_mut(1).iter_mut().enumerate() {
                let at = i / block;
                if at == 0 || at == blocks / 2 || at + 1 >= blocks {
                    *x = 0;
                }
            }
            bytes.row_mut(2).fill(0);
            for x in bytes.row_mut(3).iter_mut().step_by(2) {
                *x = 0;
            }
            let want = reference(&bytes, &t, &layers);
            let ints = TiledNet::new(t.clone(), &views(&layers), len).expect("a tiled stack");
            let net = ints.floats_only();
            let mut scratch = TiledScratch::default();
            for (row, want) in bytes.outer_iter().zip(want.outer_iter()) {
                let got = net.logits(row.as_slice().unwrap(), &mut scratch);
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(want.iter()) {
                    assert!(
                        (g - w).abs() <= 1e-4 * (1.0 + w.abs()),
                        "case {case}: {g} vs {w}"
                    );
                }
                // The 16-bit build (where this CPU runs it): random
                // weights spread wider than trained ones, and their bounds
                // are looser, so a hundredth here (trained models' scores
                // move by about a thousandth: `int16_net`'s tests).
                let got = ints.logits(row.as_slice().unwrap(), &mut scratch);
                for (g, w) in got.iter().zip(want.iter()) {
                    assert!(
                        (g - w).abs() <= 0.02 * (1.0 + w.abs()),
                        "case {case}, 16-bit: {g} vs {w}"
                    );
                }
            }
            // The portable build gives the same logits as the wide one.
            let narrow = TiledNet {
                wide: false,
                ..net.clone()
            };
            let row = bytes.row(0).to_vec();
            let a = net.logits(&row, &mut scratch).to_vec();
            let b = narrow.logits(&row, &mut TiledScratch::default()).to_vec();
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                    "case {case}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn refuses_stacks_of_another_shape() {
        let mut rng = Rng::new(8);
        let t = embed_conv_tables(
            rng.array((256, 2)).view(),
            rng.array((8, 2, 4)).view(),
            rng.array(8).view(),
        );
        let w_bad = rng.array((8, 5, 2));
        let b8 = rng.array(8);
        let d = rng.array((2, 8));
        let b2 = rng.array(2);
        let dense = TiledLayer::Dense {
            w: d.view(),
            b: b2.view(),
        };
        // Input channels that do not match.
        let conv = TiledLayer::Conv {
            w: w_bad.view(),
            b: b8.view(),
        };
        assert!(TiledNet::new(t.clone(), &[conv, TiledLayer::GlobalMaxPool, dense], 64).is_none());
        // No pooling, or two.
        assert!(TiledNet::new(t.clone(), &[dense], 64).is_none());
        let two = [TiledLayer::GlobalMaxPool, TiledLayer::GlobalAvgPool, dense];
        assert!(TiledNet::new(t.clone(), &two, 64).is_none());
        // An input shorter than one tile.
        assert!(TiledNet::new(t.clone(), &[TiledLayer::GlobalMaxPool, dense], 3).is_none());
        assert!(TiledNet::new(t, &[TiledLayer::GlobalMaxPool, dense], 64).is_some());
    }

    /// The convolution that skips inputs at zero gives what the dense one
    /// gives, value for value (a zero's sign aside), whatever the share of
    /// zeros, for each width with tiles, with a leftover position or two.
    #[test]
    fn skipping_inputs_at_zero_changes_no_output() {
        if !wide_vectors() {
            eprintln!("skipped: this CPU lacks AVX2 or FMA, which the sparse build needs");
            return;
        }
        let mut rng = Rng::new(41);
        for (cout, positions) in [(8, 9), (16, 7), (32, 5), (16, 12)] {
            let (kernel, cin) = (4, 16);
            let block = kernel * cin;
            let conv = TiledConv {
                kernel,
                cin,
                cout,
                wt: (0..block * cout).map(|_| rng.uniform() - 0.5).collect(),
                bias: (0..cout).map(|_| rng.uniform() - 0.5).collect(),
                relu: cout != 32,
            };
            for zeros in [0, 30, 70, 95, 100] {
                let x: Vec<f32> = (0..positions * block)
                    .map(|i| match rng.below(100) {
                        z if z < zeros && i % 3 == 0 => -0.0,
                        z if z < zeros => 0.0,
                        _ => rng.uniform() - 0.25,
                    })
                    .collect();
                let mut dense = vec![f32::NAN; positions * cout];
                let mut sparse = vec![f32::NAN; positions * cout];
                match cout {
                    8 => conv_tiles::<8, 4, true>(&x, &conv, &mut dense),
                    16 => conv_tiles::<16, 4, true>(&x, &conv, &mut dense),
                    _ => conv_tiles::<32, 2, true>(&x, &conv, &mut dense),
                }
                // SAFETY: `wide_vectors` found AVX2 and FMA above.
                let done = unsafe { conv_sparse(&x, &conv, &mut sparse) };
                assert!(done, "{cout} channels");
                for (i, (d, s)) in dense.iter().zip(&sparse).enumerate() {
                    assert!(
                        d == s,
                        "{cout} channels, {zeros}% zeros, output {i}: {d} vs {s}"
                    );
                }
            }
        }
    }
}
