//! A network of the default shape as one kernel's program
//! (`wm_tiled_net` in `cnn.cu`): one launch per batch, each page's
//! activations in its block's shared memory, instead of a launch per
//! layer with activations in device memory.

use super::GpuLayer;

/// Shared memory one block may use without asking the driver for more.
pub const SHARED_LIMIT_BYTES: usize = 48 * 1024;

// The operations of the program (cnn.cu's OP_*), six ints each.
const OP_EMBED_CONV: i32 = 0;
const OP_CONV: i32 = 1;
const OP_RELU: i32 = 2;
const OP_GLOBAL: i32 = 3;
const OP_DENSE: i32 = 4;

/// `wm_tiled_net`'s arguments that describe the network.
#[derive(Clone, Debug, PartialEq)]
pub struct TiledProgram {
    /// Six ints per operation: kind, three sizes, weight and bias
    /// offsets into `params`.
    pub prog: Vec<i32>,
    /// Every weight, one layer after the other.
    pub params: Vec<f32>,
    /// Operations in `prog`.
    pub ops: usize,
    /// Floats of the first activation buffer (the second follows it).
    pub a_floats: usize,
    /// Floats of shared memory per block: both buffers.
    pub shared_floats: usize,
}

/// `layers` as a [`TiledProgram`] for pages of `input_len` bytes, when
/// they have its shape: lookup tables first, then convolutions whose
/// stride is their kernel (no padding) and ReLUs, one global pooling,
/// dense layers and ReLUs, the activations of a page within
/// [`SHARED_LIMIT_BYTES`]. `None` otherwise (the layers then run one
/// launch each).
pub fn tiled_program(layers: &[GpuLayer<'_>], input_len: usize) -> Option<TiledProgram> {
    let mut p = TiledProgram {
        prog: Vec::new(),
        params: Vec::new(),
        ops: 0,
        a_floats: 0,
        shared_floats: 0,
    };
    // Floats each buffer must hold; the first layer writes buffer 0.
    let mut need = [0usize; 2];
    let mut next = 0;
    let (mut c, mut l) = (0usize, 0usize);
    let mut pooled = false;
    let push = |p: &mut TiledProgram, kind, sizes: [usize; 3], w: &[f32], b: &[f32]| {
        let woff = i32::try_from(p.params.len()).ok()?;
        p.params.extend_from_slice(w);
        let boff = i32::try_from(p.params.len()).ok()?;
        p.params.extend_from_slice(b);
        p.prog.push(kind);
        for s in sizes {
            p.prog.push(i32::try_from(s).ok()?);
        }
        p.prog.extend([woff, boff]);
        p.ops += 1;
        Some(())
    };
    for (i, layer) in layers.iter().enumerate() {
        let written = match (*layer, i) {
            (GpuLayer::EmbedConv { tables }, 0) => {
                let (k, ch) = (tables.kernel(), tables.out());
                if k == 0 || ch == 0 || input_len < k || tables.rows().len() != k * 256 * ch {
                    return None;
                }
                (c, l) = (ch, input_len / k);
                push(
                    &mut p,
                    OP_EMBED_CONV,
                    [k, ch, l],
                    tables.rows(),
                    tables.bias(),
                )?;
                c * l
            }
            (
                GpuLayer::Conv {
                    w,
                    b,
                    out,
                    kernel,
                    stride,
                    padding: 0,
                },
                _,
            ) if kernel == stride && kernel > 0 && !pooled && l >= kernel => {
                if w.len() != out * c * kernel || b.len() != out || out == 0 {
                    return None;
                }
                push(&mut p, OP_CONV, [c, out, kernel], w, b)?;
                (c, l) = (out, l / kernel);
                c * l
            }
            (GpuLayer::Relu, i) if i > 0 => {
                push(&mut p, OP_RELU, [0; 3], &[], &[])?;
                continue;
            }
            (GpuLayer::GlobalMax | GpuLayer::GlobalAvg, i) if i > 0 && !pooled => {
                let average = usize::from(matches!(layer, GpuLayer::GlobalAvg));
                push(&mut p, OP_GLOBAL, [average, 0, 0], &[], &[])?;
                (pooled, l) = (true, 1);
                c
            }
            (GpuLayer::Dense { w, b, out }, _) if pooled => {
                if w.len() != out * c || b.len() != out || out == 0 {
                    return None;
                }
                push(&mut p, OP_DENSE, [c, out, 0], w, b)?;
                c = out;
                c
            }
            _ => return None,
        };
        need[next] = need[next].max(written);
        next = 1 - next;
    }
    if !pooled || c < 2 {
        return None;
    }
    p.a_floats = need[0];
    p.shared_floats = need[0] + need[1];
    (p.shared_floats * 4 <= SHARED_LIMIT_BYTES).then_some(p)
}
