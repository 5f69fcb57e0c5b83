//! A network's launches, device-independent: which kernel each step of a
//! batch runs, on which buffers, with which sizes. [`super::GpuNet`] maps
//! them onto CUDA; the tests map them onto the kernels compiled as C, so
//! that the orchestration is checked where there is no GPU.

use super::tiled::{tiled_program, TiledProgram};
use super::{GpuError, GpuLayer};

/// Threads per block of `wm_tiled_net` (one page per block).
const TILED_THREADS: u32 = 256;
/// Most blocks of a `wm_tiled_net` launch (pages beyond go round again).
const TILED_BLOCKS: usize = 8192;
/// Threads per block of the per-layer kernels.
const BLOCK: u32 = 256;
/// Most blocks per launch; the kernels' grid-stride loops cover the rest.
const MAX_BLOCKS: u64 = 1 << 16;

/// Activations per page between two layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Bytes(usize),
    Signal(usize, usize),
    Features(usize),
}

impl Shape {
    fn values(self) -> usize {
        match self {
            Shape::Bytes(_) => 0,
            Shape::Signal(c, l) => c * l,
            Shape::Features(f) => f,
        }
    }
}

/// A kernel argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    /// The batch's pages, `[batch][input_len]` bytes.
    Pages,
    /// Activation buffer 0 or 1 (`widest` floats per page each).
    Buf(usize),
    /// One score per page.
    Scores,
    /// [`NetPlan::params`] from this offset on (a layer's weights or
    /// bias).
    Weights(usize),
    /// The tiled program's ints ([`NetPlan::tiled`]).
    Prog,
    /// A C `int`.
    Int(i32),
    /// A C `long long`.
    Long(i64),
}

/// One kernel launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    /// Index into [`super::KERNELS`].
    pub kernel: usize,
    pub grid: u32,
    pub block: u32,
    pub shared_bytes: u32,
    pub args: Vec<Arg>,
}

/// A layer as its launch needs it: sizes per page (C `int`s), and its
/// weights' offsets into [`NetPlan::params`].
#[derive(Clone, Copy, Debug)]
pub(super) enum Step {
    Embed {
        table: i32,
        dim: i32,
    },
    Scale,
    EmbedConv {
        rows: i32,
        bias: i32,
        kernel: i32,
        channels: i32,
        out_len: i32,
    },
    Conv {
        w: i32,
        b: i32,
        /// in, length in, out, kernel, stride, padding, length out.
        sizes: [i32; 7],
    },
    Relu {
        per_page: usize,
    },
    Pool {
        channels: usize,
        sizes: [i32; 5],
    },
    Global {
        channels: i32,
        len: i32,
        average: i32,
    },
    Dense {
        w: i32,
        b: i32,
        input: i32,
        out: i32,
    },
}

/// A network checked and laid out for the GPU kernels.
#[derive(Clone, Debug)]
pub struct NetPlan {
    /// Bytes per page.
    pub input_len: usize,
    /// Outputs of the last layer.
    pub classes: usize,
    /// Floats per page of the widest activations (each buffer's share).
    pub widest: usize,
    /// Every weight and bias, one after the other, uploaded once for
    /// both paths: `Arg::Weights(offset)` and the tiled program's offsets
    /// point into it.
    pub params: Vec<f32>,
    /// The whole network as `wm_tiled_net`'s program, where it has the
    /// shape.
    pub tiled: Option<TiledProgram>,
    steps: Vec<Step>,
}

fn int(v: usize, what: &str) -> Result<i32, GpuError> {
    i32::try_from(v).map_err(|_| GpuError::Shape(format!("{what} {v} is too large")))
}

fn check_len(what: &str, got: usize, want: usize) -> Result<(), GpuError> {
    if got == want {
        Ok(())
    } else {
        Err(GpuError::Shape(format!(
            "{what}: {got} weights where the shapes need {want}"
        )))
    }
}

fn grid_for(total: usize) -> u32 {
    (total as u64)
        .div_ceil(u64::from(BLOCK))
        .clamp(1, MAX_BLOCKS) as u32
}

impl NetPlan {
    /// `layers` for pages of `input_len` bytes, or why they do not fit
    /// together (a layer after the wrong kind of activations, weights of
    /// the wrong size, a window longer than its signal, fewer than two
    /// outputs).
    pub fn new(layers: &[GpuLayer<'_>], input_len: usize) -> Result<NetPlan, GpuError> {
        if input_len == 0 {
            return Err(GpuError::Shape("pages of 0 bytes".into()));
        }
        let shapes = shapes(layers, input_len)?;
        let Some(&Shape::Features(classes)) = shapes.last() else {
            return Err(GpuError::Shape("the last layer must give features".into()));
        };
        if classes < 2 {
            return Err(GpuError::Shape(format!(
                "{classes} output(s); the score needs class 1 of at least 2"
            )));
        }
        let widest = shapes.iter().map(|s| s.values()).max().unwrap_or(0).max(1);
        let mut params: Vec<f32> = Vec::new();
        let mut keep = |v: &[f32]| {
            let at = int(params.len(), "weights")?;
            params.extend_from_slice(v);
            Ok::<i32, GpuError>(at)
        };
        let mut steps = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let (before, after) = (shapes[i], shapes[i + 1]);
            let sig = |s: Shape| match s {
                Shape::Signal(c, l) => (c, l),
                _ => (0, 0),
            };
            let (cin, lin) = sig(before);
            let (cout, lout) = sig(after);
            steps.push(match *layer {
                GpuLayer::Embed { table, dim } => Step::Embed {
                    table: keep(table)?,
                    dim: int(dim, "embedding width")?,
                },
                GpuLayer::Scale => Step::Scale,
                GpuLayer::EmbedConv { tables } => Step::EmbedConv {
                    rows: keep(tables.rows())?,
                    bias: keep(tables.bias())?,
                    kernel: int(tables.kernel(), "kernel")?,
                    channels: int(cout, "channels")?,
                    out_len: int(lout, "length")?,
                },
                GpuLayer::Conv {
                    w,
                    b,
                    kernel,
                    stride,
                    padding,
                    ..
                } => Step::Conv {
                    w: keep(w)?,
                    b: keep(b)?,
                    sizes: [
                        int(cin, "channels")?,
                        int(lin, "length")?,
                        int(cout, "channels")?,
                        int(kernel, "kernel")?,
                        int(stride, "stride")?,
                        int(padding, "padding")?,
                        int(lout, "length")?,
                    ],
                },
                GpuLayer::Relu => Step::Relu {
                    per_page: before.values(),
                },
                GpuLayer::MaxPool { kernel, stride } | GpuLayer::AvgPool { kernel, stride } => {
                    Step::Pool {
                        channels: cin,
                        sizes: [
                            int(lin, "length")?,
                            int(kernel, "kernel")?,
                            int(stride, "stride")?,
                            int(lout, "length")?,
                            i32::from(matches!(layer, GpuLayer::AvgPool { .. })),
                        ],
                    }
                }
                GpuLayer::GlobalMax | GpuLayer::GlobalAvg => Step::Global {
                    channels: int(cin, "channels")?,
                    len: int(lin, "length")?,
                    average: i32::from(matches!(layer, GpuLayer::GlobalAvg)),
                },
                GpuLayer::Dense { w, b, out } => Step::Dense {
                    w: keep(w)?,
                    b: keep(b)?,
                    input: int(before.values(), "features")?,
                    out: int(out, "features")?,
                },
            });
        }
        Ok(NetPlan {
            input_len,
            classes,
            widest,
            params,
            tiled: tiled_program(&steps),
            steps,
        })
    }

    /// The launches that score `n` pages: `wm_tiled_net` once when
    /// `fused` and the network has its shape, else one launch per layer
    /// and the softmax's. Sizes must fit a C `int` for `n` pages: check
    /// with [`Self::check_batch`] first.
    pub fn launches(&self, n: usize, fused: bool) -> Vec<Launch> {
        let batch = n as i32;
        let len = self.input_len as i32;
        if let (true, Some(t)) = (fused, &self.tiled) {
            return vec![Launch {
                kernel: 9,
                grid: n.clamp(1, TILED_BLOCKS) as u32,
                block: TILED_THREADS,
                shared_bytes: (t.shared_floats * 4) as u32,
                args: vec![
                    Arg::Pages,
                    Arg::Int(batch),
                    Arg::Int(len),
                    Arg::Prog,
                    Arg::Int(t.ops as i32),
                    Arg::Weights(0),
                    Arg::Int(t.a_floats as i32),
                    Arg::Scores,
                ],
            }];
        }
        let mut out = Vec::with_capacity(self.steps.len() + 1);
        let launch = |kernel, total: usize, args| Launch {
            kernel,
            grid: grid_for(total),
            block: BLOCK,
            shared_bytes: 0,
            args,
        };
        // The buffer holding the activations (`None`: the pages).
        let mut cur: Option<usize> = None;
        for step in &self.steps {
            if let Step::Relu { per_page } = *step {
                // In place (a ReLU never comes first: the shapes want a
                // signal before it).
                let total = n * per_page;
                let x = Arg::Buf(cur.unwrap_or(0));
                out.push(launch(4, total, vec![x, Arg::Long(total as i64)]));
                continue;
            }
            let dst = cur.map_or(0, |c| 1 - c);
            let (x, y) = (Arg::Buf(1 - dst), Arg::Buf(dst));
            out.push(match *step {
                Step::Embed { table, dim } => launch(
                    0,
                    n * self.input_len * dim as usize,
                    vec![
                        Arg::Pages,
                        Arg::Weights(table as usize),
                        y,
                        Arg::Int(batch),
                        Arg::Int(len),
                        Arg::Int(dim),
                    ],
                ),
                Step::Scale => launch(
                    1,
                    n * self.input_len,
                    vec![Arg::Pages, y, Arg::Int(batch), Arg::Int(len)],
                ),
                Step::EmbedConv {
                    rows,
                    bias,
                    kernel,
                    channels,
                    out_len,
                } => launch(
                    2,
                    n * (channels * out_len) as usize,
                    vec![
                        Arg::Pages,
                        Arg::Weights(rows as usize),
                        Arg::Weights(bias as usize),
                        y,
                        Arg::Int(batch),
                        Arg::Int(len),
                        Arg::Int(kernel),
                        Arg::Int(channels),
                        Arg::Int(out_len),
                    ],
                ),
                Step::Conv { w, b, sizes } => {
                    let mut args = vec![
                        x,
                        Arg::Weights(w as usize),
                        Arg::Weights(b as usize),
                        y,
                        Arg::Int(batch),
                    ];
                    args.extend(sizes.iter().map(|&s| Arg::Int(s)));
                    launch(3, n * (sizes[2] * sizes[6]) as usize, args)
                }
                Step::Pool { channels, sizes } => {
                    let rows = n * channels;
                    let mut args = vec![x, y, Arg::Int(rows as i32)];
                    args.extend(sizes.iter().map(|&s| Arg::Int(s)));
                    launch(5, rows * sizes[3] as usize, args)
                }
                Step::Global {
                    channels,
                    len,
                    average,
                } => {
                    let rows = n * channels as usize;
                    launch(
                        6,
                        rows,
                        vec![
                            x,
                            y,
                            Arg::Int(rows as i32),
                            Arg::Int(len),
                            Arg::Int(average),
                        ],
                    )
                }
                Step::Dense { w, b, input, out } => launch(
                    7,
                    n * out as usize,
                    vec![
                        x,
                        Arg::Weights(w as usize),
                        Arg::Weights(b as usize),
                        y,
                        Arg::Int(batch),
                        Arg::Int(input),
                        Arg::Int(out),
                    ],
                ),
                Step::Relu { .. } => continue,
            });
            cur = Some(dst);
        }
        out.push(launch(
            8,
            n,
            vec![
                Arg::Buf(cur.unwrap_or(0)),
                Arg::Scores,
                Arg::Int(batch),
                Arg::Int(self.classes as i32),
            ],
        ));
        out
    }

    /// Fails if `max_batch` pages would overflow a kernel's `int` sizes.
    pub fn check_batch(&self, max_batch: usize) -> Result<(), GpuError> {
        if max_batch == 0 {
            return Err(GpuError::Shape("batches of 0 pages".into()));
        }
        int(max_batch.saturating_mul(self.input_len), "batch bytes")?;
        // A layer's outputs over the batch, and a pooling's rows.
        int(max_batch.saturating_mul(self.widest), "batch activations")?;
        Ok(())
    }
}

/// The shape after each layer (`[0]` is the pages'), checking that each
/// layer fits what comes before it and that its weights have the sizes
/// the shapes need.
fn shapes(layers: &[GpuLayer<'_>], input_len: usize) -> Result<Vec<Shape>, GpuError> {
    let mut shapes = vec![Shape::Bytes(input_len)];
    for (i, layer) in layers.iter().enumerate() {
        let before = shapes[i];
        let bad = || GpuError::Shape(format!("layer {i} ({layer:?}) cannot follow {before:?}"));
        let positive = |v: usize, what: &str| {
            if v == 0 {
                Err(GpuError::Shape(format!("layer {i}: {what} of 0")))
            } else {
                Ok(v)
            }
        };
        let windows = |len: usize, kernel: usize, stride: usize| {
            positive(kernel, "kernel")?;
            positive(stride, "stride")?;
            if kernel > len {
                return Err(GpuError::Shape(format!(
                    "layer {i}: window {kernel} is longer than the signal ({len})"
                )));
            }
            Ok((len - kernel) / stride + 1)
        };
        let next = match (*layer, before) {
            (GpuLayer::Embed { table, dim }, Shape::Bytes(len)) => {
                check_len("embedding", table.len(), 256 * positive(dim, "width")?)?;
                Shape::Signal(dim, len)
            }
            (GpuLayer::Scale, Shape::Bytes(len)) => Shape::Signal(1, len),
            (GpuLayer::EmbedConv { tables }, Shape::Bytes(len)) => {
                let (k, c) = (tables.kernel(), tables.out());
                check_len("lookup tables", tables.rows().len(), k * 256 * c)?;
                check_len("bias", tables.bias().len(), c)?;
                Shape::Signal(positive(c, "channels")?, windows(len, k, k)?)
            }
            (
                GpuLayer::Conv {
                    w,
                    b,
                    out,
                    kernel,
                    stride,
                    padding,
                },
                Shape::Signal(c, len),
            ) => {
                check_len("convolution", w.len(), out * c * kernel)?;
                check_len("bias", b.len(), out)?;
                Shape::Signal(
                    positive(out, "channels")?,
                    windows(len + 2 * padding, kernel, stride)?,
                )
            }
            (GpuLayer::Relu, s @ (Shape::Signal(..) | Shape::Features(_))) => s,
            (
                GpuLayer::MaxPool { kernel, stride } | GpuLayer::AvgPool { kernel, stride },
                Shape::Signal(c, len),
            ) => Shape::Signal(c, windows(len, kernel, stride)?),
            (GpuLayer::GlobalMax | GpuLayer::GlobalAvg, Shape::Signal(c, len)) => {
                positive(len, "length")?;
                Shape::Features(c)
            }
            (GpuLayer::Dense { w, b, out }, Shape::Features(f)) => {
                check_len("dense", w.len(), out * f)?;
                check_len("bias", b.len(), out)?;
                Shape::Features(positive(out, "outputs")?)
            }
            _ => return Err(bad()),
        };
        shapes.push(next);
    }
    Ok(shapes)
}
