//! The classifier as a WebAssembly module (the `wasm` verifier back end):
//! the network of a model whose convolutions tile their input, written out
//! as WAT with its weights in data segments and 128-bit SIMD arithmetic,
//! so walmart's own JIT can run the verifier in a sandbox of its own.
//!
//! The module's interface:
//!
//! * `memory`: one memory holding the weights, the input pages, the
//!   activations and the logits;
//! * `input_ptr() -> i32`, `capacity() -> i32`: where up to `capacity`
//!   pages go, back to back, each as its blocks that are not all zeros
//!   ([`ClassifierWat::block`] bytes each, in order, from the start of the
//!   page's slot, as [`pack_nonzero_blocks`] lays them out);
//! * `blocks_ptr() -> i32`: one `i32` per page, how many blocks its slot
//!   holds (the rest of the page is zeros, whose blocks' result the module
//!   carries precomputed, as the CPU back end does);
//! * `output_ptr() -> i32`: where `score(n)` leaves `n` rows of logits
//!   (`classes` f32 each, page after page);
//! * `score(n: i32)`: runs the network on the first `n` input pages.
//!
//! The host turns logits into scores (log-odds) with the same function as
//! the CPU back end. Where the widths fit the 16-bit build
//! ([`walmart_kernels::cpu::Int16Layers`]: tables of 8, 16 or 32 channels,
//! convolutions of multiples of 8 outputs), the tables and convolutions
//! are that build's integers (`i16x8.add`, `i32x4.dot_i16x8_s`, the same
//! rounding), so the module gives the CPU back end's bits where the CPU
//! runs that build, and 1.6-2.1x the float module's pages/s. Otherwise
//! they are floats, and channel counts are padded to multiples of four
//! lanes with zero weights and biases, which leave the padded channels at
//! zero and the scores unchanged.

use std::fmt::Write;

pub use walmart_kernels::cpu::pack_nonzero_blocks;
use walmart_kernels::cpu::{TiledNet, TiledPool};

use super::{Model, ModelError};

/// Pages one `score` call takes at most.
pub const WASM_CAPACITY: usize = 16;

/// The generated module's text and what the host needs to read it.
#[derive(Clone, Debug)]
pub struct ClassifierWat {
    /// The module, in the WebAssembly text format.
    pub text: String,
    /// Logits per page.
    pub classes: usize,
    /// Bytes per block of the input (see the module documentation).
    pub block: usize,
}

/// Layers after the lookup tables, with channels padded to vectors.
enum Stage {
    Conv {
        kernel: usize,
        cinp: usize,
        coutp: usize,
        /// Offsets of the weights `[(tap * cinp + c) * coutp + o]` and the
        /// bias in memory.
        weights: usize,
        bias: usize,
        relu: bool,
    },
    /// A convolution of [`walmart_kernels::cpu::Int16Layers`]: 16-bit
    /// inputs, sums of pairs.
    Int16Conv {
        kernel: usize,
        /// Inputs per output position.
        block: usize,
        cout: usize,
        /// Offsets of the weights (as [`walmart_kernels::cpu::Int16Conv::weights`]),
        /// the `i32` bias and the `f32` rescale.
        weights: usize,
        bias: usize,
        rescale: usize,
        relu: bool,
        /// The last convolution: its outputs are floats.
        last: bool,
    },
    Dense {
        nin: usize,
        nout: usize,
        /// Offsets of the weights `[o * nin + i]` and the bias.
        weights: usize,
        bias: usize,
        relu: bool,
    },
}

/// Data segments laid out one after another, 16-byte aligned.
struct Data {
    bytes: Vec<u8>,
    base: usize,
}

impl Data {
    fn push(&mut self, values: &[f32]) -> usize {
        self.push_bytes(values.iter().flat_map(|v| v.to_le_bytes()))
    }

    fn push_i16(&mut self, values: &[i16]) -> usize {
        self.push_bytes(values.iter().flat_map(|v| v.to_le_bytes()))
    }

    fn push_i32(&mut self, values: &[i32]) -> usize {
        self.push_bytes(values.iter().flat_map(|v| v.to_le_bytes()))
    }

    /// Appends `bytes` at the next 16-byte boundary; where they start.
    fn push_bytes(&mut self, bytes: impl Iterator<Item = u8>) -> usize {
        while !self.bytes.len().is_multiple_of(16) {
            self.bytes.push(0);
        }
        let at = self.base + self.bytes.len();
        self.bytes.extend(bytes);
        at
    }

    fn end(&self) -> usize {
        (self.base + self.bytes.len()).next_multiple_of(16)
    }
}

fn pad4(n: usize) -> usize {
    n.next_multiple_of(4)
}

impl Model {
    /// The network as a WebAssembly module (see the module documentation).
    /// Only networks that the CPU's one-page path takes can be written:
    /// an embedding, convolutions whose stride equals their kernel with
    /// no padding, one global pooling, dense layers.
    pub fn classifier_wat(&self) -> Result<ClassifierWat, ModelError> {
        let unsupported = || {
            ModelError::Architecture(format!(
                "the wasm back end takes an embedding, convolutions with stride equal to kernel \
                 and no padding, one global pooling and dense layers; this model is {}",
                self.arch.describe()
            ))
        };
        // The stack as the CPU's one-page path reads and checks it.
        let net = self.tiled_net().ok_or_else(unsupported)?;
        Ok(write_module(&net))
    }
}

/// Writes the module for `net`.
fn write_module(net: &TiledNet) -> ClassifierWat {
    let (t, input_len) = (net.first(), net.input_len());
    let mut data = Data {
        bytes: Vec::new(),
        base: 1024,
    };
    // The 16-bit build of the tables and convolutions where the widths
    // fit it: the CPU back end's bits where it runs that build, and
    // sums of pairs of 16-bit products (`i32x4.dot_i16x8_s`) at twice the
    // float multiply-adds per instruction.
    let int16 = net.int16_layers();
    // The lookup tables, rows padded to whole vectors.
    let (k0, c0) = (t.kernel(), t.out());
    let c0p = pad4(c0);
    let (tables, bias0) = match &int16 {
        Some(q) => (data.push_i16(q.tables()), data.push_i16(q.bias())),
        None => {
            let mut rows = vec![0f32; k0 * 256 * c0p];
            for (i, row) in t.rows().chunks_exact(c0).enumerate() {
                rows[i * c0p..i * c0p + c0].copy_from_slice(row);
            }
            let mut bias0 = t.bias().to_vec();
            bias0.resize(c0p, 0.0);
            (data.push(&rows), data.push(&bias0))
        }
    };

    let first_relu = net.first_relu();
    let mut stages = Vec::new();
    let mut positions = input_len / k0;
    let mut widest = c0p;
    let mut max_signal = positions * c0p;
    let mut channels = c0;
    if let Some(q) = &int16 {
        for (i, conv) in q.convs().iter().enumerate() {
            stages.push(Stage::Int16Conv {
                kernel: conv.kernel(),
                block: conv.block(),
                cout: conv.cout(),
                weights: data.push_i16(conv.weights()),
                bias: data.push_i32(conv.bias()),
                rescale: data.push(conv.rescale()),
                relu: conv.relu(),
                last: i + 1 == q.convs().len(),
            });
            channels = conv.cout();
            positions /= conv.kernel();
            widest = widest.max(conv.cout());
            max_signal = max_signal.max(positions * conv.cout());
        }
    } else {
        for conv in net.convs() {
            let (cinp, coutp) = (pad4(conv.cin), pad4(conv.cout));
            let mut wt = vec![0f32; conv.kernel * cinp * coutp];
            for (i, row) in conv.wt.chunks_exact(conv.cout).enumerate() {
                // Row `tap * cin + c` of the unpadded weights.
                let (tap, c) = (i / conv.cin, i % conv.cin);
                let at = (tap * cinp + c) * coutp;
                wt[at..at + conv.cout].copy_from_slice(row);
            }
            let mut bias = conv.bias.clone();
            bias.resize(coutp, 0.0);
            stages.push(Stage::Conv {
                kernel: conv.kernel,
                cinp,
                coutp,
                weights: data.push(&wt),
                bias: data.push(&bias),
                relu: conv.relu,
            });
            channels = conv.cout;
            positions /= conv.kernel;
            widest = widest.max(coutp);
            max_signal = max_signal.max(positions * coutp);
        }
    }
    // The result of a block of zeros, padded like the last convolution.
    // The portable build's, so the module does not depend on the CPU that
    // generated it.
    let mut zero_row = match &int16 {
        Some(q) => q.zero_row(net.block()),
        None => net.zero_row_portable(),
    };
    zero_row.resize(pad4(channels), 0.0);
    let zero_row = data.push(&zero_row);
    let (pool, pool_relu) = net.pool();
    let pool_max = pool == TiledPool::Max;
    // The first dense layer reads the padded pooled features.
    let mut features = pad4(channels);
    for d in net.dense() {
        let mut wp = vec![0f32; d.nout * features];
        for (o, row) in d.w.chunks_exact(d.nin).enumerate() {
            wp[o * features..o * features + d.nin].copy_from_slice(row);
        }
        stages.push(Stage::Dense {
            nin: features,
            nout: d.nout,
            weights: data.push(&wp),
            bias: data.push(&d.bias),
            relu: d.relu,
        });
        features = d.nout;
    }
    let classes = features;
    let final_positions = positions;

    // Working memory after the weights.
    let input = data.end();
    let signal_a = input + WASM_CAPACITY * input_len;
    let signal_b = signal_a + max_signal * 4;
    let widest_features = stages
        .iter()
        .map(|s| match s {
            Stage::Dense { nin, nout, .. } => (*nin).max(*nout),
            Stage::Conv { .. } | Stage::Int16Conv { .. } => 0,
        })
        .max()
        .unwrap_or(0)
        .max(widest);
    let feat_a = signal_b + max_signal * 4;
    let feat_b = feat_a + pad4(widest_features) * 4;
    let output = feat_b + pad4(widest_features) * 4;
    let blocks = output + WASM_CAPACITY * classes * 4;
    let end = blocks + WASM_CAPACITY * 4;
    let pages = end.div_ceil(65536);

    let lanes = widest / 4;
    let mut w = String::new();
    let _ = writeln!(w, "(module");
    let _ = writeln!(w, "  (memory (export \"memory\") {pages} {pages})");
    for (name, value) in [
        ("input_ptr", input),
        ("output_ptr", output),
        ("blocks_ptr", blocks),
        ("capacity", WASM_CAPACITY),
    ] {
        let _ = writeln!(
            w,
            "  (func (export \"{name}\") (result i32) i32.const {value})"
        );
    }
    let _ = writeln!(w, "  (func (export \"score\") (param $n i32)");
    let _ = writeln!(
        w,
        "    (local $page i32) (local $src i32) (local $dst i32) (local $row i32) (local $i i32) \
         (local $o i32) (local $m i32) (local $acc f32) (local $v v128) (local $v2 v128) \
         (local $w v128)"
    );
    // Two sets of sums: the second holds the odd taps of the lookup layer
    // and a second output position of narrow convolutions, so that each
    // loop has twice the independent chains of adds (`cnn_throughput`:
    // from 0.30-0.35 of the CPU back end's pages per second to 0.37-0.40).
    for j in 0..lanes {
        let _ = write!(w, " (local $a{j} v128) (local $b{j} v128)");
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "    local.get $n i32.eqz br_if 0");
    let _ = writeln!(w, "    (loop $pages");

    // Embedding and first convolution: table rows summed per position
    // (`write_embed`).
    let _ = writeln!(
        w,
        "      (local.set $src (i32.add (i32.const {input}) (i32.mul (local.get $page) (i32.const {input_len}))))"
    );
    let block_len = net.block();
    let _ = writeln!(
        w,
        "      (local.set $m (i32.load offset={blocks} (i32.shl (local.get $page) (i32.const 2))))"
    );
    // A page of zeros only has no rows to compute.
    let _ = writeln!(w, "      (block $rows");
    let _ = writeln!(w, "      (br_if $rows (i32.eqz (local.get $m)))");
    let _ = writeln!(w, "      (local.set $dst (i32.const {signal_a}))");
    let _ = writeln!(
        w,
        "      (local.set $i (i32.mul (local.get $m) (i32.const {})))",
        block_len / k0
    );
    let _ = writeln!(w, "      (loop $embed");
    if int16.is_some() {
        write_embed(&mut w, (tables, bias0), k0, c0, first_relu, &INT16_EMBED);
    } else {
        write_embed(&mut w, (tables, bias0), k0, c0p, first_relu, &FLOAT_EMBED);
    }
    advance(&mut w, "src", k0, "        ");
    end_countdown(&mut w, "embed", "i", "        ");

    // Convolutions: for each output position, `kernel * cinp` inputs each
    // scale one row of weights into the sums.
    let (mut from, mut to) = (signal_a, signal_b);
    let mut positions = input_len / k0;
    let mut per_block = block_len / k0;
    let mut channels_p = c0p;
    for stage in &stages {
        if let Stage::Int16Conv {
            kernel,
            block,
            cout,
            weights,
            bias,
            rescale,
            relu,
            last,
        } = *stage
        {
            positions /= kernel;
            per_block /= kernel;
            let _ = writeln!(w, "      (local.set $src (i32.const {from}))");
            let _ = writeln!(w, "      (local.set $dst (i32.const {to}))");
            let _ = writeln!(
                w,
                "      (local.set $o (i32.mul (local.get $m) (i32.const {per_block})))"
            );
            let _ = writeln!(w, "      (loop $conv");
            write_int16_conv(&mut w, (weights, bias, rescale), block, cout, relu, last);
            end_countdown(&mut w, "conv", "o", "        ");
            std::mem::swap(&mut from, &mut to);
            channels_p = cout;
            continue;
        }
        let Stage::Conv {
            kernel,
            cinp,
            coutp,
            weights,
            bias,
            relu,
        } = *stage
        else {
            continue;
        };
        positions /= kernel;
        per_block /= kernel;
        let block = kernel * cinp;
        // Two output positions per pass (each weight vector loaded once
        // for both) where a block has an even number of them and both
        // sets of sums fit the 16 vector registers; else one, whose sums
        // are then wide enough to hide the latency themselves.
        let pair = per_block.is_multiple_of(2) && coutp <= 16;
        let step = if pair { 2 } else { 1 };
        let _ = writeln!(w, "      (local.set $src (i32.const {from}))");
        let _ = writeln!(w, "      (local.set $dst (i32.const {to}))");
        let _ = writeln!(
            w,
            "      (local.set $o (i32.mul (local.get $m) (i32.const {})))",
            per_block / step
        );
        let _ = writeln!(w, "      (loop $conv");
        for j in 0..coutp / 4 {
            let init = format!("(v128.load offset={} (i32.const 0))", bias + 16 * j);
            let _ = writeln!(w, "        (local.set $a{j} {init})");
            if pair {
                let _ = writeln!(w, "        (local.set $b{j} {init})");
            }
        }
        let _ = writeln!(w, "        (local.set $row (i32.const {weights}))");
        let _ = writeln!(w, "        (local.set $i (i32.const {block}))");
        let _ = writeln!(w, "        (loop $taps");
        let _ = writeln!(
            w,
            "          (local.set $v (f32x4.splat (f32.load (local.get $src))))"
        );
        if pair {
            let _ = writeln!(
                w,
                "          (local.set $v2 (f32x4.splat (f32.load offset={} (local.get $src))))",
                block * 4
            );
        }
        for j in 0..coutp / 4 {
            let _ = writeln!(
                w,
                "          (local.set $w (v128.load offset={} (local.get $row)))",
                16 * j
            );
            let _ = writeln!(
                w,
                "          (local.set $a{j} (f32x4.add (local.get $a{j}) (f32x4.mul (local.get $v) (local.get $w))))"
            );
            if pair {
                let _ = writeln!(
                    w,
                    "          (local.set $b{j} (f32x4.add (local.get $b{j}) (f32x4.mul (local.get $v2) (local.get $w))))"
                );
            }
        }
        advance(&mut w, "src", 4, "          ");
        advance(&mut w, "row", coutp * 4, "          ");
        end_countdown(&mut w, "taps", "i", "          ");
        store_vectors(
            &mut w,
            "a",
            0,
            coutp / 4,
            relu.then_some("f32x4.max"),
            "        ",
        );
        if pair {
            store_vectors(
                &mut w,
                "b",
                coutp * 4,
                coutp / 4,
                relu.then_some("f32x4.max"),
                "        ",
            );
            // Past the second position's inputs too.
            advance(&mut w, "src", block * 4, "        ");
        }
        advance(&mut w, "dst", step * coutp * 4, "        ");
        end_countdown(&mut w, "conv", "o", "        ");
        std::mem::swap(&mut from, &mut to);
        channels_p = coutp;
    }
    debug_assert_eq!(positions, final_positions);
    debug_assert_eq!(per_block, 1);
    let _ = writeln!(w, "      )");

    // Global pooling of the page's `$m` rows in `from` and its
    // `positions - $m` blocks of zeros into the first feature buffer. The
    // maximum starts from the zero block's row when there are any (else
    // from the first row, which the loop then takes again, harmlessly).
    let vectors = channels_p / 4;
    for j in 0..vectors {
        let init = if pool_max {
            format!(
                "(select (v128.load offset={} (i32.const 0)) (v128.load offset={} (i32.const {from})) \
                 (i32.lt_u (local.get $m) (i32.const {positions})))",
                zero_row + 16 * j,
                16 * j
            )
        } else {
            format!(
                "(f32x4.mul (f32x4.splat (f32.convert_i32_u (i32.sub (i32.const {positions}) \
                 (local.get $m)))) (v128.load offset={} (i32.const 0)))",
                zero_row + 16 * j
            )
        };
        let _ = writeln!(w, "      (local.set $a{j} {init})");
    }
    {
        let op = if pool_max { "f32x4.max" } else { "f32x4.add" };
        let _ = writeln!(w, "      (block $pooled");
        let _ = writeln!(w, "      (br_if $pooled (i32.eqz (local.get $m)))");
        let _ = writeln!(w, "      (local.set $src (i32.const {from}))");
        let _ = writeln!(w, "      (local.set $i (local.get $m))");
        let _ = writeln!(w, "      (loop $pool");
        for j in 0..vectors {
            let _ = writeln!(
                w,
                "        (local.set $a{j} ({op} (local.get $a{j}) (v128.load offset={} (local.get $src))))",
                16 * j
            );
        }
        advance(&mut w, "src", channels_p * 4, "        ");
        end_countdown(&mut w, "pool", "i", "        ");
        let _ = writeln!(w, "      )");
    }
    if !pool_max {
        for j in 0..vectors {
            let _ = writeln!(
                w,
                "      (local.set $a{j} (f32x4.div (local.get $a{j}) (f32x4.splat (f32.const {positions}))))"
            );
        }
    }
    let _ = writeln!(w, "      (local.set $dst (i32.const {feat_a}))");
    store_vectors(
        &mut w,
        "a",
        0,
        vectors,
        pool_relu.then_some("f32x4.max"),
        "      ",
    );

    // Dense layers, scalar (a few hundred multiplies); the last writes the
    // page's logits.
    let dense: Vec<&Stage> = stages
        .iter()
        .filter(|s| matches!(s, Stage::Dense { .. }))
        .collect();
    let (mut fin, mut fout) = (feat_a, feat_b);
    for (d, stage) in dense.iter().enumerate() {
        let Stage::Dense {
            nin,
            nout,
            weights,
            bias,
            relu,
        } = **stage
        else {
            continue;
        };
        if d + 1 == dense.len() {
            let _ = writeln!(
                w,
                "      (local.set $dst (i32.add (i32.const {output}) (i32.mul (local.get $page) (i32.const {}))))",
                classes * 4
            );
        } else {
            let _ = writeln!(w, "      (local.set $dst (i32.const {fout}))");
        }
        let _ = writeln!(w, "      (local.set $row (i32.const {weights}))");
        let _ = writeln!(w, "      (local.set $o (i32.const 0))");
        let _ = writeln!(w, "      (loop $out");
        let _ = writeln!(
            w,
            "        (local.set $acc (f32.load offset={bias} (i32.shl (local.get $o) (i32.const 2))))"
        );
        let _ = writeln!(w, "        (local.set $src (i32.const {fin}))");
        let _ = writeln!(w, "        (local.set $i (i32.const {nin}))");
        let _ = writeln!(w, "        (loop $in");
        let _ = writeln!(
            w,
            "          (local.set $acc (f32.add (local.get $acc) (f32.mul (f32.load (local.get $src)) (f32.load (local.get $row)))))"
        );
        advance(&mut w, "src", 4, "          ");
        advance(&mut w, "row", 4, "          ");
        end_countdown(&mut w, "in", "i", "          ");
        let value = if relu {
            "(f32.max (local.get $acc) (f32.const 0))"
        } else {
            "(local.get $acc)"
        };
        let _ = writeln!(
            w,
            "        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $o) (i32.const 2))) {value})"
        );
        let _ = writeln!(
            w,
            "        (br_if $out (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 1))) (i32.const {nout}))))"
        );
        std::mem::swap(&mut fin, &mut fout);
    }
    let _ = writeln!(
        w,
        "      (br_if $pages (i32.lt_u (local.tee $page (i32.add (local.get $page) (i32.const 1))) (local.get $n))))"
    );
    let _ = writeln!(w, "  )");
    let _ = write!(w, "  (data (i32.const {}) \"", data.base);
    for b in &data.bytes {
        let _ = write!(w, "\\{b:02x}");
    }
    let _ = writeln!(w, "\")");
    let _ = writeln!(w, ")");
    ClassifierWat {
        text: w,
        classes,
        block: block_len,
    }
}

/// How a first layer's sums are held: the vector instructions, channels
/// per vector and bytes per channel, and whether taps go into two chains.
struct EmbedLanes {
    add: &'static str,
    max: &'static str,
    per_vector: usize,
    bytes: usize,
    /// Even taps into `$a` (from the bias), odd ones into `$b` (from
    /// zero), then `$a + $b`: the CPU back end's order of float additions.
    /// Wrapping integer adds give the same sums in any order.
    two_chains: bool,
}

/// The float first layer's sums.
const FLOAT_EMBED: EmbedLanes = EmbedLanes {
    add: "f32x4.add",
    max: "f32x4.max",
    per_vector: 4,
    bytes: 4,
    two_chains: true,
};

/// The 16-bit first layer's sums (wrapping adds, as the CPU's).
const INT16_EMBED: EmbedLanes = EmbedLanes {
    add: "i16x8.add",
    max: "i16x8.max_s",
    per_vector: 8,
    bytes: 2,
    two_chains: false,
};

/// The body of the first layer's loop over output positions: the sum of
/// the `k0` taps' rows (at `tables`; the table of tap `t` starts at
/// `tables + t * 256 * row`, and the byte picks the row, so the tap's
/// base goes in the load's constant offset) and the bias (at `bias0`),
/// `channels` in `lanes`' vectors, stored at `$dst` through a ReLU when
/// `relu`, and `$dst` moved past them.
fn write_embed(
    w: &mut String,
    (tables, bias0): (usize, usize),
    k0: usize,
    channels: usize,
    relu: bool,
    lanes: &EmbedLanes,
) {
    let row = channels * lanes.bytes;
    let vectors = channels / lanes.per_vector;
    for j in 0..vectors {
        let _ = writeln!(
            w,
            "        (local.set $a{j} (v128.load offset={} (i32.const 0)))",
            bias0 + 16 * j
        );
        if lanes.two_chains {
            let _ = writeln!(w, "        (local.set $b{j} (v128.const i64x2 0 0))");
        }
    }
    for tap in 0..k0 {
        let sum = if lanes.two_chains && tap % 2 == 1 {
            "b"
        } else {
            "a"
        };
        let _ = writeln!(
            w,
            "        (local.set $row (i32.mul (i32.load8_u offset={tap} (local.get $src)) (i32.const {row})))"
        );
        for j in 0..vectors {
            let _ = writeln!(
                w,
                "        (local.set ${sum}{j} ({} (local.get ${sum}{j}) (v128.load offset={} (local.get $row))))",
                lanes.add,
                tables + tap * 256 * row + 16 * j
            );
        }
    }
    if lanes.two_chains {
        for j in 0..vectors {
            let _ = writeln!(
                w,
                "        (local.set $a{j} ({} (local.get $a{j}) (local.get $b{j})))",
                lanes.add
            );
        }
    }
    store_vectors(w, "a", 0, vectors, relu.then_some(lanes.max), "        ");
    advance(w, "dst", row, "        ");
}

/// The body of a 16-bit convolution's loop over output positions (as
/// [`walmart_kernels::cpu::Int16Conv`] computes one): for each pair of
/// the `block` inputs at `$src`, both broadcast and multiplied with their
/// weights into the `i32x4` sums of `cout` outputs; then the ReLU, the
/// rescale, and either floats (the `last` layer) or 16-bit inputs of the
/// next, rounded to nearest even and saturated, at `$dst`.
fn write_int16_conv(
    w: &mut String,
    (weights, bias, rescale): (usize, usize, usize),
    block: usize,
    cout: usize,
    relu: bool,
    last: bool,
) {
    let sums = cout / 4;
    for j in 0..sums {
        let _ = writeln!(
            w,
            "        (local.set $a{j} (v128.load offset={} (i32.const 0)))",
            bias + 16 * j
        );
    }
    let _ = writeln!(w, "        (local.set $row (i32.const {weights}))");
    let _ = writeln!(w, "        (local.set $i (i32.const {}))", block / 2);
    let _ = writeln!(w, "        (loop $pairs");
    let _ = writeln!(
        w,
        "          (local.set $v (i32x4.splat (i32.load (local.get $src))))"
    );
    for j in 0..sums {
        let _ = writeln!(
            w,
            "          (local.set $a{j} (i32x4.add (local.get $a{j}) (i32x4.dot_i16x8_s (local.get $v) (v128.load offset={} (local.get $row)))))",
            16 * j
        );
    }
    advance(w, "src", 4, "          ");
    advance(w, "row", cout * 4, "          ");
    end_countdown(w, "pairs", "i", "          ");
    for j in 0..sums {
        let sum = relu_of(&format!("$a{j}"), relu.then_some("i32x4.max_s"));
        let _ = writeln!(
            w,
            "        (local.set $a{j} (f32x4.mul (f32x4.convert_i32x4_s {sum}) (v128.load offset={} (i32.const 0))))",
            rescale + 16 * j
        );
    }
    if last {
        for j in 0..sums {
            let _ = writeln!(
                w,
                "        (v128.store offset={} (local.get $dst) (local.get $a{j}))",
                16 * j
            );
        }
        advance(w, "dst", cout * 4, "        ");
    } else {
        let int = |j: usize| format!("(i32x4.trunc_sat_f32x4_s (f32x4.nearest (local.get $a{j})))");
        for j in (0..sums).step_by(2) {
            let _ = writeln!(
                w,
                "        (v128.store offset={} (local.get $dst) (i16x8.narrow_i32x4_s {} {}))",
                8 * j,
                int(j),
                int(j + 1)
            );
        }
        advance(w, "dst", cout * 2, "        ");
    }
}

/// Closes loop `$label`, which runs while `$counter`, counted down by one
/// each time, is not zero (counters start at a positive count).
fn end_countdown(w: &mut String, label: &str, counter: &str, indent: &str) {
    let _ = writeln!(
        w,
        "{indent}(br_if ${label} (local.tee ${counter} (i32.sub (local.get ${counter}) (i32.const 1)))))"
    );
}

/// Adds `by` to the local `$name`.
fn advance(w: &mut String, name: &str, by: usize, indent: &str) {
    let _ = writeln!(
        w,
        "{indent}(local.set ${name} (i32.add (local.get ${name}) (i32.const {by})))"
    );
}

/// The vector in `local`, through a ReLU (the `max` instruction against
/// zero) where one is named.
fn relu_of(local: &str, max: Option<&str>) -> String {
    match max {
        Some(max) => format!("({max} (local.get {local}) (v128.const i64x2 0 0))"),
        None => format!("(local.get {local})"),
    }
}

/// Stores the sums `$SET0..` at `$dst + offset`, through a ReLU (the
/// vectors' `max` instruction against zero) where `relu` names one.
fn store_vectors(
    w: &mut String,
    set: &str,
    offset: usize,
    vectors: usize,
    relu: Option<&str>,
    indent: &str,
) {
    for j in 0..vectors {
        let value = relu_of(&format!("${set}{j}"), relu);
        let _ = writeln!(
            w,
            "{indent}(v128.store offset={} (local.get $dst) {value})",
            offset + 16 * j
        );
    }
}
