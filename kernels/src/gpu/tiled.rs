//! A network of the default shape as one kernel's program
//! (`wm_tiled_net` in `cnn.cu`): one launch per batch, each page's
//! activations in its block's shared memory, instead of a launch per
//! layer with activations in device memory. Made from a [`NetPlan`]'s
//! checked steps, its weights the plan's own.
//!
//! [`NetPlan`]: super::NetPlan

use super::plan::Step;

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
    /// offsets into the plan's `params`.
    pub prog: Vec<i32>,
    /// Operations in `prog`.
    pub ops: usize,
    /// Floats of the first activation buffer (the second follows it).
    pub a_floats: usize,
    /// Floats of shared memory per block: both buffers.
    pub shared_floats: usize,
}

/// `steps` (checked by `NetPlan::new`) as a [`TiledProgram`], when they
/// have its shape: lookup tables first, then convolutions whose stride is
/// their kernel (no padding) and ReLUs, one global pooling, dense layers
/// and ReLUs, the activations of a page within [`SHARED_LIMIT_BYTES`].
/// `None` otherwise (the layers then run one launch each).
pub(super) fn tiled_program(steps: &[Step]) -> Option<TiledProgram> {
    let mut prog = Vec::with_capacity(steps.len() * 6);
    // Floats each buffer must hold; the first layer writes buffer 0.
    let mut need = [0usize; 2];
    let mut next = 0;
    // `NetPlan::new` checked the order (tables or bytes first, a global
    // pooling between signals and features): what is left to check is
    // that every layer has this kernel's form.
    for (i, step) in steps.iter().enumerate() {
        let (op, written) = match *step {
            Step::EmbedConv {
                rows,
                bias,
                kernel,
                channels,
                out_len,
            } if i == 0 => (
                [OP_EMBED_CONV, kernel, channels, out_len, rows, bias],
                (channels * out_len) as usize,
            ),
            Step::Conv { w, b, sizes } => {
                let [cin, _, cout, kernel, stride, padding, lout] = sizes;
                if kernel != stride || padding != 0 {
                    return None;
                }
                ([OP_CONV, cin, cout, kernel, w, b], (cout * lout) as usize)
            }
            Step::Relu { .. } => {
                prog.extend([OP_RELU, 0, 0, 0, 0, 0]);
                continue;
            }
            Step::Global {
                channels, average, ..
            } => ([OP_GLOBAL, average, 0, 0, 0, 0], channels as usize),
            Step::Dense { w, b, input, out } => ([OP_DENSE, input, out, 0, w, b], out as usize),
            _ => return None,
        };
        prog.extend(op);
        need[next] = need[next].max(written);
        next = 1 - next;
    }
    let shared_floats = need[0] + need[1];
    (shared_floats * 4 <= SHARED_LIMIT_BYTES).then(|| TiledProgram {
        ops: prog.len() / 6,
        prog,
        a_floats: need[0],
        shared_floats,
    })
}
