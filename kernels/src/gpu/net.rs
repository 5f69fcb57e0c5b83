//! A whole network on the device: weights uploaded once, activations in
//! two device buffers the layers take turns writing, pages staged through
//! page-locked host memory, the launches of a [`NetPlan`].

use std::sync::Arc;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice, PushKernelArg,
};

use super::plan::{Arg, NetPlan};
use super::{compile, compile_ptx, context, driver_error, guarded, GpuError, KERNELS};
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

/// The network on CUDA device 0, ready to score batches of pages.
pub struct GpuNet {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    plan: NetPlan,
    max_batch: usize,
    /// `plan.params` on the device.
    params: CudaSlice<f32>,
    /// The tiled program's ints, where the network has its shape.
    prog: Option<CudaSlice<i32>>,
    pages: CudaSlice<u8>,
    /// Two page-locked staging buffers: one filled while the device
    /// copies from the other.
    staged: [PinnedHostSlice<u8>; 2],
    bufs: [CudaSlice<f32>; 2],
    scores: CudaSlice<f32>,
    /// Whether batches go through the tiled program ([`GpuNet::set_fused`]).
    fused: bool,
}

/// Most threads that stage one chunk of pages.
const STAGING_THREADS: usize = 8;
/// Pages per staging thread at least (a thread costs tens of
/// microseconds to start; a page, a fraction of one to copy).
const STAGING_PAGES_PER_THREAD: usize = 512;

impl GpuNet {
    /// `layers` on device 0 for pages of `input_len` bytes, scored up to
    /// `max_batch` at a time. Compiles the kernels (NVRTC) and uploads the
    /// weights; fails with the reason if there is no device, or if the
    /// layers do not fit together (checked before CUDA is touched).
    pub fn new(
        layers: &[GpuLayer<'_>],
        input_len: usize,
        max_batch: usize,
    ) -> Result<GpuNet, GpuError> {
        let plan = NetPlan::new(layers, input_len)?;
        guarded("setting up the network", || {
            Self::on_device(plan, max_batch)
        })
    }

    /// [`Self::new`] once the layers are checked.
    fn on_device(plan: NetPlan, max_batch: usize) -> Result<GpuNet, GpuError> {
        let input_len = plan.input_len;
        plan.check_batch(max_batch)?;
        let ctx = context()?;
        let cc = ctx.compute_capability().ok();
        // Machine code first; PTX, for the driver to compile, if the
        // driver will not take it.
        let module = match ctx.load_module(compile(cc)?) {
            Ok(m) => m,
            Err(first) => ctx.load_module(compile_ptx(cc)?).map_err(|e| {
                GpuError::Driver(format!("loading the kernels: {first}; as PTX: {e}"))
            })?,
        };
        let funcs = KERNELS
            .iter()
            .map(|name| module.load_function(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(driver_error("kernel lookup"))?;
        let stream = ctx.new_stream().map_err(driver_error("stream"))?;
        let params = stream
            .clone_htod(&plan.params)
            .map_err(driver_error("weights"))?;
        let prog = match &plan.tiled {
            Some(t) => Some(
                stream
                    .clone_htod(&t.prog)
                    .map_err(driver_error("weights"))?,
            ),
            None => None,
        };
        let alloc_f32 = |n: usize| {
            stream
                .alloc_zeros::<f32>(n)
                .map_err(driver_error("device memory"))
        };
        let bufs = [
            alloc_f32(max_batch * plan.widest)?,
            alloc_f32(max_batch * plan.widest)?,
        ];
        let scores = alloc_f32(max_batch)?;
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
            fused: prog.is_some(),
            ctx,
            stream,
            funcs,
            plan,
            max_batch,
            params,
            prog,
            pages,
            staged,
            bufs,
            scores,
        })
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
        self.fused = on && self.prog.is_some();
        self.fused
    }

    /// Pages scored per batch at most.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// The log-odds of class 1 for each page, in order. A page shorter
    /// than the input is zero-padded, a longer one cut (as on the CPU).
    ///
    /// Batches larger than `max_batch` go in chunks, the next chunk staged
    /// on the host while the device runs the one before.
    pub fn scores(&mut self, pages: &[&[u8]]) -> Result<Vec<f32>, GpuError> {
        guarded("scoring", || self.scores_unguarded(pages))
    }

    fn scores_unguarded(&mut self, pages: &[&[u8]]) -> Result<Vec<f32>, GpuError> {
        // A call that failed after queuing a copy from a staging buffer
        // may have left it in flight: nothing is staged before it is done.
        self.stream
            .synchronize()
            .map_err(driver_error("synchronize"))?;
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
        let len = self.plan.input_len;
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
    /// the network over them ([`NetPlan::launches`]); [`Self::fetch`]
    /// waits for the scores.
    fn enqueue(&mut self, slot: usize, n: usize) -> Result<(), GpuError> {
        let bytes = n * self.plan.input_len;
        let staged = self.staged[slot]
            .as_mut_slice()
            .map_err(driver_error("page-locked memory"))?;
        self.stream
            .memcpy_htod(&staged[..bytes], &mut self.pages.slice_mut(..bytes))
            .map_err(driver_error("copy to device"))?;
        for launch in self.plan.launches(n, self.fused) {
            // The weights each argument points to, alive until the launch.
            let views: Vec<_> = launch
                .args
                .iter()
                .filter_map(|a| match a {
                    Arg::Weights(at) => Some(self.params.slice(*at..)),
                    _ => None,
                })
                .collect();
            let mut next_view = 0;
            let mut l = self.stream.launch_builder(&self.funcs[launch.kernel]);
            for arg in &launch.args {
                match arg {
                    Arg::Pages => l.arg(&self.pages),
                    Arg::Buf(i) => l.arg(&self.bufs[*i]),
                    Arg::Scores => l.arg(&self.scores),
                    Arg::Weights(_) => {
                        next_view += 1;
                        l.arg(&views[next_view - 1])
                    }
                    Arg::Prog => match &self.prog {
                        Some(p) => l.arg(p),
                        None => return Err(GpuError::Shape("no tiled program".into())),
                    },
                    Arg::Int(v) => l.arg(v),
                    Arg::Long(v) => l.arg(v),
                };
            }
            let cfg = LaunchConfig {
                grid_dim: (launch.grid, 1, 1),
                block_dim: (launch.block, 1, 1),
                shared_mem_bytes: launch.shared_bytes,
            };
            // SAFETY: `NetPlan::launches` gives each kernel the arguments
            // of its C signature in order; its sizes come from the shapes
            // `NetPlan::new` checked against every weight, for at most
            // `max_batch` pages, which the buffers were sized for.
            unsafe { l.launch(cfg) }.map_err(driver_error("launch"))?;
        }
        Ok(())
    }

    /// The scores of the `n` pages [`Self::enqueue`] queued last, once the
    /// device has them.
    fn fetch(&mut self, n: usize) -> Result<Vec<f32>, GpuError> {
        let mut scores = vec![0f32; n];
        self.stream
            .memcpy_dtoh(&self.scores.slice(..n), &mut scores[..])
            .map_err(driver_error("copy from device"))?;
        self.stream
            .synchronize()
            .map_err(driver_error("synchronize"))?;
        Ok(scores)
    }
}
