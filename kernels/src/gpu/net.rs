//! A whole network on the device: weights uploaded once, activations in
//! two device buffers the layers take turns writing, pages staged through
//! page-locked host memory, one launch per layer.

use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice, PushKernelArg,
};

use super::{compile, context, driver_error, tiled_program, GpuError, KERNELS};
use crate::cpu::EmbedConvTables;

/// One layer as [`GpuNet::new`] takes it, weights in the CPU kernels'
/// row-major layouts.
#[derive(Clone, Copy, Debug)]
pub enum GpuLayer<'a> {
    /// Byte embedding, `table` `[256, dim]` (first layer only).
    Embed { table: &'a [f32], dim: usize },
    /// An embedding and a convolution of stride = kernel folded into
    /// lookup tables (first layer only).
    EmbedConv { tables: &'a EmbedConvTables },
    /// Bytes scaled to `[0, 1]` (first layer only).
    Scale,
    /// 1-D convolution, `w` `[out, in, kernel]`, `b` `[out]`.
    Conv {
        w: &'a [f32],
        b: &'a [f32],
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    /// ReLU, on signals or features.
    Relu,
    /// Max pooling over windows.
    MaxPool { kernel: usize, stride: usize },
    /// Average pooling over windows.
    AvgPool { kernel: usize, stride: usize },
    /// Maximum over the whole signal.
    GlobalMax,
    /// Mean over the whole signal.
    GlobalAvg,
    /// Fully connected, `w` `[out, in]`, `b` `[out]`.
    Dense {
        w: &'a [f32],
        b: &'a [f32],
        out: usize,
    },
}

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

/// A layer on the device, with what its launch needs.
enum Op {
    Embed {
        table: CudaSlice<f32>,
        dim: i32,
    },
    Scale,
    EmbedConv {
        rows: CudaSlice<f32>,
        bias: CudaSlice<f32>,
        kernel: i32,
        channels: i32,
        out_len: i32,
    },
    Conv {
        w: CudaSlice<f32>,
        b: CudaSlice<f32>,
        cin: i32,
        lin: i32,
        cout: i32,
        kernel: i32,
        stride: i32,
        padding: i32,
        lout: i32,
    },
    Relu {
        per_page: usize,
    },
    Pool {
        channels: usize,
        lin: i32,
        kernel: i32,
        stride: i32,
        lout: i32,
        average: i32,
    },
    Global {
        channels: usize,
        len: i32,
        average: i32,
    },
    Dense {
        w: CudaSlice<f32>,
        b: CudaSlice<f32>,
        input: i32,
        out: i32,
    },
}

/// The whole network as `wm_tiled_net`'s program, on the device.
struct Tiled {
    prog: CudaSlice<i32>,
    params: CudaSlice<f32>,
    ops: i32,
    a_floats: i32,
    shared_bytes: u32,
}

/// The network on CUDA device 0, ready to score batches of pages.
pub struct GpuNet {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    ops: Vec<Op>,
    input_len: usize,
    classes: usize,
    max_batch: usize,
    pages: CudaSlice<u8>,
    /// Two page-locked staging buffers: one filled while the device
    /// copies from the other.
    staged: [PinnedHostSlice<u8>; 2],
    bufs: [CudaSlice<f32>; 2],
    probs: CudaSlice<f32>,
    /// The network in one kernel, where it has the shape for it.
    tiled: Option<Tiled>,
    /// Whether batches go through `tiled` ([`GpuNet::set_fused`]).
    fused: bool,
}

/// Most threads that stage one chunk of pages.
const STAGING_THREADS: usize = 8;
/// Pages per staging thread at least (a thread costs tens of
/// microseconds to start; a page, a fraction of one to copy).
const STAGING_PAGES_PER_THREAD: usize = 512;

/// Threads per block of `wm_tiled_net` (one page per block).
const TILED_THREADS: u32 = 256;
/// Most blocks of a `wm_tiled_net` launch (pages beyond go round again).
const TILED_BLOCKS: usize = 8192;

/// Threads per block of every launch.
const BLOCK: u32 = 256;
/// Most blocks per launch; the kernels' grid-stride loops cover the rest.
const MAX_BLOCKS: u64 = 1 << 16;

fn launch_for(total: usize) -> LaunchConfig {
    let blocks = (total as u64)
        .div_ceil(u64::from(BLOCK))
        .clamp(1, MAX_BLOCKS);
    LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (BLOCK, 1, 1),
        shared_mem_bytes: 0,
    }
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

impl GpuNet {
    /// `layers` on device 0 for pages of `input_len` bytes, scored up to
    /// `max_batch` at a time. Compiles the kernels (NVRTC) and uploads the
    /// weights; fails with the reason if there is no device, or if the
    /// layers do not fit together (shapes are checked before any upload).
    pub fn new(
        layers: &[GpuLayer<'_>],
        input_len: usize,
        max_batch: usize,
    ) -> Result<GpuNet, GpuError> {
        let shapes = Self::shapes(layers, input_len)?;
        let Some(&Shape::Features(classes)) = shapes.last() else {
            return Err(GpuError::Shape("the last layer must give features".into()));
        };
        if classes < 2 {
            return Err(GpuError::Shape(format!(
                "{classes} output(s); the score needs class 1 of at least 2"
            )));
        }
        if max_batch == 0 || input_len == 0 {
            return Err(GpuError::Shape("empty pages or batches".into()));
        }
        int(max_batch.saturating_mul(input_len), "batch bytes")?;
        let widest = shapes.iter().map(|s| s.values()).max().unwrap_or(0).max(1);
        int(max_batch.saturating_mul(widest), "batch activations")?;

        let ctx = context()?;
        let cc = ctx.compute_capability().ok();
        let module = ctx
            .load_module(compile(cc)?)
            .map_err(driver_error("loading the kernels"))?;
        let funcs = KERNELS
            .iter()
            .map(|name| module.load_function(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(driver_error("kernel lookup"))?;
        let stream = ctx.new_stream().map_err(driver_error("stream"))?;
        let up = |v: &[f32]| stream.clone_htod(v).map_err(driver_error("weights"));

        let mut ops = Vec::with_capacity(layers.len());
        for (i, layer) in layers.iter().enumerate() {
            let (before, after) = (shapes[i], shapes[i + 1]);
            let sig = |s: Shape| match s {
                Shape::Signal(c, l) => (c, l),
                _ => (0, 0),
            };
            let (cin, lin) = sig(before);
            let (cout, lout) = sig(after);
            ops.push(match *layer {
                GpuLayer::Embed { table, dim } => Op::Embed {
                    table: up(table)?,
                    dim: int(dim, "embedding width")?,
                },
                GpuLayer::Scale => Op::Scale,
                GpuLayer::EmbedConv { tables } => Op::EmbedConv {
                    rows: up(tables.rows())?,
                    bias: up(tables.bias())?,
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
                } => Op::Conv {
                    w: up(w)?,
                    b: up(b)?,
                    cin: int(cin, "channels")?,
                    lin: int(lin, "length")?,
                    cout: int(cout, "channels")?,
                    kernel: int(kernel, "kernel")?,
                    stride: int(stride, "stride")?,
                    padding: int(padding, "padding")?,
                    lout: int(lout, "length")?,
                },
                GpuLayer::Relu => Op::Relu {
                    per_page: before.values(),
                },
                GpuLayer::MaxPool { kernel, stride } | GpuLayer::AvgPool { kernel, stride } => {
                    Op::Pool {
                        channels: cin,
                        lin: int(lin, "length")?,
                        kernel: int(kernel, "kernel")?,
                        stride: int(stride, "stride")?,
                        lout: int(lout, "length")?,
                        average: i32::from(matches!(layer, GpuLayer::AvgPool { .. })),
                    }
                }
                GpuLayer::GlobalMax | GpuLayer::GlobalAvg => Op::Global {
                    channels: cin,
                    len: int(lin, "length")?,
                    average: i32::from(matches!(layer, GpuLayer::GlobalAvg)),
                },
                GpuLayer::Dense { w, b, out } => Op::Dense {
                    w: up(w)?,
                    b: up(b)?,
                    input: int(before.values(), "features")?,
                    out: int(out, "features")?,
                },
            });
        }
        let tiled = match tiled_program(layers, input_len) {
            Some(t) => Some(Tiled {
                prog: stream
                    .clone_htod(&t.prog)
                    .map_err(driver_error("weights"))?,
                params: up(&t.params)?,
                ops: int(t.ops, "operations")?,
                a_floats: int(t.a_floats, "activations")?,
                shared_bytes: (t.shared_floats * 4) as u32,
            }),
            None => None,
        };
        let alloc_f32 = |n: usize| {
            stream
                .alloc_zeros::<f32>(n)
                .map_err(driver_error("device memory"))
        };
        let bufs = [
            alloc_f32(max_batch * widest)?,
            alloc_f32(max_batch * widest)?,
        ];
        let probs = alloc_f32(max_batch)?;
        let pages = stream
            .alloc_zeros::<u8>(max_batch * input_len)
            .map_err(driver_error("device memory"))?;
        let pinned = || {
            // SAFETY: page-locked host memory of `max_batch * input_len`
            // bytes; `stage` writes every byte `enqueue` copies first.
            unsafe { ctx.alloc_pinned::<u8>(max_batch * input_len) }
                .map_err(driver_error("page-locked memory"))
        };
        let staged = [pinned()?, pinned()?];
        Ok(GpuNet {
            ctx,
            stream,
            funcs,
            ops,
            input_len,
            classes,
            max_batch,
            pages,
            staged,
            bufs,
            probs,
            fused: tiled.is_some(),
            tiled,
        })
    }

    /// The shape after each layer (`[0]` is the pages'), checking that
    /// each layer fits what comes before it and that its weights have
    /// the sizes the shapes need.
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

    /// The device's name.
    pub fn device_name(&self) -> Result<String, GpuError> {
        self.ctx.name().map_err(driver_error("device name"))
    }

    /// Runs batches through the one-kernel network (`on`, the default
    /// where the layers have its shape) or one launch per layer; returns
    /// whether the one-kernel network is in use (it is not if the layers
    /// do not have its shape).
    pub fn set_fused(&mut self, on: bool) -> bool {
        self.fused = on && self.tiled.is_some();
        self.fused
    }

    /// Pages scored per batch at most.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// The probability of class 1 for each page, in order. A page shorter
    /// than the input is zero-padded, a longer one cut (as on the CPU).
    ///
    /// Batches larger than `max_batch` go in chunks, the next chunk staged
    /// on the host while the device runs the one before.
    pub fn scores(&mut self, pages: &[&[u8]]) -> Result<Vec<f32>, GpuError> {
        let mut out = Vec::with_capacity(pages.len());
        let mut chunks = pages.chunks(self.max_batch).enumerate().peekable();
        if let Some(&(_, first)) = chunks.peek() {
            self.stage(0, first)?;
        }
        while let Some((k, chunk)) = chunks.next() {
            self.enqueue(k % 2, chunk.len())?;
            if let Some(&(next, pages)) = chunks.peek() {
                // The device runs chunk k meanwhile. Slot `next % 2` was last
                // read by chunk k - 1's copy, finished before its fetch.
                self.stage(next % 2, pages)?;
            }
            out.extend(self.fetch(chunk.len())?);
        }
        Ok(out)
    }

    /// Copies `pages` into staging buffer `slot`, by several threads when
    /// there are enough of them to pay for starting the threads.
    fn stage(&mut self, slot: usize, pages: &[&[u8]]) -> Result<(), GpuError> {
        let len = self.input_len;
        let staged = self.staged[slot]
            .as_mut_slice()
            .map_err(driver_error("page-locked memory"))?;
        let fill = |dst: &mut [u8], pages: &[&[u8]]| {
            for (dst, page) in dst.chunks_exact_mut(len).zip(pages) {
                let k = page.len().min(len);
                dst[..k].copy_from_slice(&page[..k]);
                dst[k..].fill(0);
            }
        };
        let threads = STAGING_THREADS.min(pages.len() / STAGING_PAGES_PER_THREAD);
        if threads < 2 {
            fill(staged, pages);
            return Ok(());
        }
        let per = pages.len().div_ceil(threads);
        std::thread::scope(|s| {
            for (dst, pages) in staged.chunks_mut(per * len).zip(pages.chunks(per)) {
                s.spawn(move || fill(dst, pages));
            }
        });
        Ok(())
    }

    /// Queues, on the stream, the copy of `n` pages staged in `slot` and
    /// the network over them; [`Self::fetch`] waits for the scores.
    fn enqueue(&mut self, slot: usize, n: usize) -> Result<(), GpuError> {
        let len = self.input_len;
        let bytes = n * len;
        let staged = self.staged[slot]
            .as_mut_slice()
            .map_err(driver_error("page-locked memory"))?;
        let stream = Arc::clone(&self.stream);
        stream
            .memcpy_htod(&staged[..bytes], &mut self.pages.slice_mut(..bytes))
            .map_err(driver_error("copy to device"))?;
        let batch = n as i32;
        let len_i = len as i32;
        if let (true, Some(t)) = (self.fused, &self.tiled) {
            let cfg = LaunchConfig {
                grid_dim: (n.min(TILED_BLOCKS) as u32, 1, 1),
                block_dim: (TILED_THREADS, 1, 1),
                shared_mem_bytes: t.shared_bytes,
            };
            let mut l = stream.launch_builder(&self.funcs[9]);
            l.arg(&self.pages)
                .arg(&batch)
                .arg(&len_i)
                .arg(&t.prog)
                .arg(&t.ops)
                .arg(&t.params)
                .arg(&t.a_floats)
                .arg(&mut self.probs);
            // SAFETY: the arguments match wm_tiled_net's parameters;
            // `tiled_program` checked every weight's size against the shapes
            // and sized the shared memory for the largest activations.
            unsafe { l.launch(cfg) }.map_err(driver_error("launch"))?;
            return Ok(());
        }
        // Which buffer holds the current activations (`None`: the pages).
        let mut cur: Option<usize> = None;
        for op in &self.ops {
            if let Op::Relu { per_page } = op {
                // In place, on the buffer that holds the activations (a
                // ReLU never comes first: `shapes` wants a signal).
                let total = (n * per_page) as i64;
                let x = &mut self.bufs[cur.unwrap_or(0)];
                let mut l = stream.launch_builder(&self.funcs[4]);
                l.arg(x).arg(&total);
                // SAFETY: the arguments match wm_relu's parameters; the layer
                // before wrote `total` values there.
                unsafe { l.launch(launch_for(total as usize)) }.map_err(driver_error("launch"))?;
                continue;
            }
            let dst = cur.map_or(0, |c| 1 - c);
            let [a, b] = &mut self.bufs;
            let (src, dst_buf) = if dst == 0 { (&*b, a) } else { (&*a, b) };
            let f = |k: usize| &self.funcs[k];
            let launched = match op {
                Op::Embed { table, dim } => {
                    let cfg = launch_for(n * len * *dim as usize);
                    let mut l = stream.launch_builder(f(0));
                    l.arg(&self.pages)
                        .arg(table)
                        .arg(dst_buf)
                        .arg(&batch)
                        .arg(&len_i)
                        .arg(dim);
                    // SAFETY: the arguments match wm_embed's parameters, and
                    // every index it forms is inside the buffers sized in `new`.
                    unsafe { l.launch(cfg) }
                }
                Op::Scale => {
                    let cfg = launch_for(n * len);
                    let mut l = stream.launch_builder(f(1));
                    l.arg(&self.pages).arg(dst_buf).arg(&batch).arg(&len_i);
                    // SAFETY: as above, for wm_scale.
                    unsafe { l.launch(cfg) }
                }
                Op::EmbedConv {
                    rows,
                    bias,
                    kernel,
                    channels,
                    out_len,
                } => {
                    let cfg = launch_for(n * (*channels * *out_len) as usize);
                    let mut l = stream.launch_builder(f(2));
                    l.arg(&self.pages)
                        .arg(rows)
                        .arg(bias)
                        .arg(dst_buf)
                        .arg(&batch)
                        .arg(&len_i)
                        .arg(kernel)
                        .arg(channels)
                        .arg(out_len);
                    // SAFETY: as above, for wm_embed_conv.
                    unsafe { l.launch(cfg) }
                }
                Op::Conv {
                    w,
                    b,
                    cin,
                    lin,
                    cout,
                    kernel,
                    stride,
                    padding,
                    lout,
                } => {
                    let cfg = launch_for(n * (*cout * *lout) as usize);
                    let mut l = stream.launch_builder(f(3));
                    l.arg(src)
                        .arg(w)
                        .arg(b)
                        .arg(dst_buf)
                        .arg(&batch)
                        .arg(cin)
                        .arg(lin)
                        .arg(cout)
                        .arg(kernel)
                        .arg(stride)
                        .arg(padding)
                        .arg(lout);
                    // SAFETY: as above, for wm_conv1d.
                    unsafe { l.launch(cfg) }
                }
                // Done above.
                Op::Relu { .. } => continue,
                Op::Pool {
                    channels,
                    lin,
                    kernel,
                    stride,
                    lout,
                    average,
                } => {
                    let rows = (n * channels) as i32;
                    let cfg = launch_for(rows as usize * *lout as usize);
                    let mut l = stream.launch_builder(f(5));
                    l.arg(src)
                        .arg(dst_buf)
                        .arg(&rows)
                        .arg(lin)
                        .arg(kernel)
                        .arg(stride)
                        .arg(lout)
                        .arg(average);
                    // SAFETY: as above, for wm_pool1d.
                    unsafe { l.launch(cfg) }
                }
                Op::Global {
                    channels,
                    len,
                    average,
                } => {
                    let rows = (n * channels) as i32;
                    let cfg = launch_for(rows as usize);
                    let mut l = stream.launch_builder(f(6));
                    l.arg(src).arg(dst_buf).arg(&rows).arg(len).arg(average);
                    // SAFETY: as above, for wm_global_pool.
                    unsafe { l.launch(cfg) }
                }
                Op::Dense { w, b, input, out } => {
                    let cfg = launch_for(n * *out as usize);
                    let mut l = stream.launch_builder(f(7));
                    l.arg(src)
                        .arg(w)
                        .arg(b)
                        .arg(dst_buf)
                        .arg(&batch)
                        .arg(input)
                        .arg(out);
                    // SAFETY: as above, for wm_dense.
                    unsafe { l.launch(cfg) }
                }
            };
            launched.map_err(driver_error("launch"))?;
            cur = Some(dst);
        }
        let logits = &self.bufs[cur.unwrap_or(0)];
        let classes = self.classes as i32;
        let mut l = stream.launch_builder(&self.funcs[8]);
        l.arg(logits).arg(&mut self.probs).arg(&batch).arg(&classes);
        // SAFETY: as above, for wm_class1: the last layer wrote `n` rows of
        // `classes` logits.
        unsafe { l.launch(launch_for(n)) }.map_err(driver_error("launch"))?;
        Ok(())
    }

    /// The scores of the `n` pages [`Self::enqueue`] queued last, once the
    /// device has them.
    fn fetch(&mut self, n: usize) -> Result<Vec<f32>, GpuError> {
        let mut probs = vec![0f32; n];
        self.stream
            .memcpy_dtoh(&self.probs.slice(..n), &mut probs[..])
            .map_err(driver_error("copy from device"))?;
        self.stream
            .synchronize()
            .map_err(driver_error("synchronize"))?;
        Ok(probs)
    }
}
