//! The CNN that scores page snapshots: its architecture ([`arch`]), its
//! weights and their file format ([`format`](mod@format)), forward and backward passes
//! over batches of pages (this file) and the verifier that runs it
//! ([`verifier`]).

pub mod arch;
pub mod default;
pub mod format;
pub mod gpu;
pub mod verifier;
pub mod wasm;

use std::sync::Arc;

use ndarray::{Array2, Array3, ArrayD, ArrayView2, Ix1, Ix2, Ix3, IxDyn};
use walmart_kernels::cpu;

pub use arch::{Architecture, LayerSpec, Shape, CLASSES};

use crate::rng::Rng;

/// Why a model cannot be built, loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A model file that was read but is not a usable model.
    #[error("{path}: {source}")]
    File {
        path: String,
        source: Box<ModelError>,
    },
    #[error("not a walmart model file (bad magic)")]
    BadMagic,
    #[error("model format version {0} is not supported (this walmart reads version {1})")]
    Version(u32, u32),
    #[error("model file is truncated ({0})")]
    Truncated(&'static str),
    #[error("model file is damaged: checksum {found:016x}, expected {expected:016x}")]
    Checksum { expected: u64, found: u64 },
    #[error("model architecture: {0}")]
    Architecture(String),
    #[error("model weights: {0}")]
    Weights(String),
    #[error("model input is {expected} bytes per page, got {found}")]
    InputLength { expected: usize, found: usize },
}

/// What training recorded about a model: written into the model file.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainingMeta {
    /// Dataset file(s) trained on.
    pub dataset: String,
    pub seed: u64,
    pub epochs: usize,
    pub learning_rate: f32,
    /// Validation metrics at the chosen epoch, by name.
    pub metrics: Vec<(String, f64)>,
}

/// A network with its weights and decision threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub arch: Architecture,
    /// Parameters of each layer, in [`Architecture::param_shapes`] order.
    pub params: Vec<Vec<ArrayD<f32>>>,
    /// Scores (log-odds, [`class1_log_odds`]) at or above this count as
    /// corrupted.
    pub threshold: f32,
    pub meta: TrainingMeta,
}

/// Inference work done once per model rather than per batch
/// ([`Model::plan`]), and the buffers batches reuse.
pub struct InferencePlan {
    /// The whole network for one page at a time, when its convolutions
    /// tile their input (the default architecture's shape): several
    /// times faster than the batched layers, with no batch-sized
    /// buffers to fault in on a run's first pages.
    tiled: Option<(Arc<cpu::TiledNet>, cpu::TiledScratch)>,
    first: Option<cpu::EmbedConvTables>,
    /// Convolution outputs by layer (slot `i` for a convolution at layer
    /// `i`; the lookup shortcut's output in slot 1), reused from batch to
    /// batch: fresh megabyte-sized arrays per batch cost more in page
    /// faults than the arithmetic (a quarter of inference time, by `perf`).
    buffers: Vec<Array3<f32>>,
    /// im2col scratch of the convolutions.
    cols: Vec<f32>,
    /// The pages of one batch, row after row ([`Model::score_pages`]).
    input: Vec<u8>,
}

/// A page's score from its logits, how every back end turns logits into
/// a score: the log-odds that it is corrupted (see the function).
pub use walmart_kernels::cpu::class1_log_odds;

/// Pages [`Model::score_pages`] scores per forward pass: large enough for
/// the matrix multiplies to run at speed, small enough to keep activations
/// in cache-sized chunks.
pub const INFERENCE_BATCH: usize = 64;

/// Activations between layers.
#[derive(Clone, Debug)]
enum Act {
    Signal(Array3<f32>),
    Features(Array2<f32>),
}

/// What a training forward pass keeps for the backward pass.
pub struct Trace {
    /// `acts[i]` is the output of layer `i - 1` (`acts[0]` unused: bytes).
    acts: Vec<Act>,
    /// Argmax positions of max-pooling layers.
    argmax: Vec<Option<ArgMax>>,
    /// The logits.
    pub logits: Array2<f32>,
}

impl Trace {
    /// Each page's score ([`class1_log_odds`]).
    pub fn scores(&self) -> Vec<f32> {
        cpu::class1_log_odds_rows(self.logits.view())
    }
}

enum ArgMax {
    Window(Array3<u32>),
    Global(Array2<u32>),
}

fn view3(t: &ArrayD<f32>) -> ndarray::ArrayView3<'_, f32> {
    t.view()
        .into_dimensionality::<Ix3>()
        .expect("shape checked at load")
}
fn view2(t: &ArrayD<f32>) -> ndarray::ArrayView2<'_, f32> {
    t.view()
        .into_dimensionality::<Ix2>()
        .expect("shape checked at load")
}
fn view1(t: &ArrayD<f32>) -> ndarray::ArrayView1<'_, f32> {
    t.view()
        .into_dimensionality::<Ix1>()
        .expect("shape checked at load")
}

impl Model {
    /// Fresh weights for `arch` (He initialisation from `seed`; biases 0).
    pub fn init(arch: Architecture, seed: u64) -> Model {
        let mut rng = Rng::new(seed);
        let params = (0..arch.layers.len())
            .map(|i| {
                arch.param_shapes(i)
                    .into_iter()
                    .enumerate()
                    .map(|(k, shape)| {
                        // Embeddings start unit-scale: they are the input.
                        let fan_in: usize = match arch.layers[i] {
                            LayerSpec::Embed { .. } => 2,
                            _ => shape[1..].iter().product(),
                        };
                        let std = if k == 0 {
                            (2.0 / fan_in.max(1) as f64).sqrt()
                        } else {
                            0.0
                        };
                        ArrayD::from_shape_fn(IxDyn(&shape), |_| (rng.normal() * std) as f32)
                    })
                    .collect()
            })
            .collect();
        Model {
            arch,
            params,
            // Even odds.
            threshold: 0.0,
            meta: TrainingMeta::default(),
        }
    }

    /// Checks that every parameter has the shape the architecture asks.
    pub fn check_params(&self) -> Result<(), ModelError> {
        if self.params.len() != self.arch.layers.len() {
            return Err(ModelError::Weights(format!(
                "{} layers of weights for {} layers",
                self.params.len(),
                self.arch.layers.len()
            )));
        }
        for (i, p) in self.params.iter().enumerate() {
            let want = self.arch.param_shapes(i);
            let have: Vec<Vec<usize>> = p.iter().map(|t| t.shape().to_vec()).collect();
            if want != have {
                return Err(ModelError::Weights(format!(
                    "layer {i}: weights shaped {have:?}, architecture wants {want:?}"
                )));
            }
            if p.iter().any(|t| t.iter().any(|v| !v.is_finite())) {
                return Err(ModelError::Weights(format!("layer {i}: non-finite weight")));
            }
        }
        Ok(())
    }

    /// Probability of corruption for each page of `pages` (`[batch,
    /// input_len]` bytes). Callers scoring many batches should make the
    /// [`InferencePlan`] once and use [`Self::scores_planned`].
    pub fn scores(&self, pages: ArrayView2<u8>) -> Result<Vec<f32>, ModelError> {
        self.scores_planned(&mut self.plan(), pages)
    }

    /// What inference can precompute from the weights: an embedding
    /// followed by a convolution with stride equal to its kernel becomes
    /// per-tap lookup tables (same scores up to rounding, several times
    /// faster).
    pub fn plan(&self) -> InferencePlan {
        match self.tiled_net() {
            Some(net) => self.plan_with(Some(Arc::new(net)), None),
            None => self.plan_with(None, self.first_tables()),
        }
    }

    /// Whether the `cpu` back end computes this network's tables and
    /// convolutions in 16-bit integers on this CPU (its widths fit, and
    /// the CPU has AVX2).
    pub fn runs_int16_on_cpu(&self) -> bool {
        self.tiled_net().is_some_and(|n| n.uses_int16())
    }

    /// Whether the `wasm` back end computes them in 16-bit integers (its
    /// widths fit): then it gives the `cpu` back end's bits wherever that
    /// one does too.
    pub fn runs_int16_in_wasm(&self) -> bool {
        self.tiled_net().is_some_and(|n| n.int16_layers().is_some())
    }

    /// [`Self::plan`] computing in floats on every CPU, the 16-bit
    /// integer build left out (for comparing the two).
    pub fn plan_in_floats(&self) -> InferencePlan {
        match self.tiled_net() {
            Some(net) => self.plan_with(Some(Arc::new(net.floats_only())), None),
            None => self.plan(),
        }
    }

    /// A plan around a network already prepared, with empty buffers.
    fn plan_with(
        &self,
        tiled: Option<Arc<cpu::TiledNet>>,
        first: Option<cpu::EmbedConvTables>,
    ) -> InferencePlan {
        InferencePlan {
            // Grown now, not in a run's final flush.
            tiled: tiled.map(|net| {
                let scratch = net.scratch();
                (net, scratch)
            }),
            first,
            buffers: vec![Array3::zeros((0, 0, 0)); self.arch.layers.len()],
            cols: Vec::new(),
            input: Vec::new(),
        }
    }

    /// The embedding and first convolution as lookup tables, when the
    /// first convolution's stride equals its kernel.
    fn first_tables(&self) -> Option<cpu::EmbedConvTables> {
        match (self.arch.layers.first(), self.arch.layers.get(1)) {
            (
                Some(LayerSpec::Embed { .. }),
                Some(LayerSpec::Conv1d {
                    kernel,
                    stride,
                    padding: 0,
                    ..
                }),
            ) if kernel == stride => {
                let (e, c) = (&self.params[0], &self.params[1]);
                Some(cpu::embed_conv_tables(
                    view2(&e[0]),
                    view3(&c[0]),
                    view1(&c[1]),
                ))
            }
            _ => None,
        }
    }

    /// Another thread's plan like `plan` (one of this model's): the
    /// precomputed network shared, fresh buffers (cheaper than
    /// [`Self::plan`], which rearranges the weights).
    pub fn fork_plan(&self, plan: &InferencePlan) -> InferencePlan {
        match &plan.tiled {
            Some((net, _)) => self.plan_with(Some(Arc::clone(net)), None),
            None => self.plan(),
        }
    }

    /// The one-page network, when the whole stack tiles (checked before
    /// the lookup tables are built).
    fn tiled_net(&self) -> Option<cpu::TiledNet> {
        let layers = self.tiled_layers()?;
        cpu::TiledNet::new(self.first_tables()?, &layers, self.arch.input_len)
    }

    /// The layers after the first convolution as [`cpu::TiledNet`] takes
    /// them; `None` if one cannot be tiled (a padded or overlapping
    /// convolution, windowed pooling).
    fn tiled_layers(&self) -> Option<Vec<cpu::TiledLayer<'_>>> {
        (2..self.arch.layers.len())
            .map(|i| {
                let p = &self.params[i];
                Some(match self.arch.layers[i] {
                    LayerSpec::Conv1d {
                        kernel,
                        stride,
                        padding: 0,
                        ..
                    } if kernel == stride => cpu::TiledLayer::Conv {
                        w: view3(&p[0]),
                        b: view1(&p[1]),
                    },
                    LayerSpec::Relu => cpu::TiledLayer::Relu,
                    LayerSpec::GlobalMaxPool => cpu::TiledLayer::GlobalMaxPool,
                    LayerSpec::GlobalAvgPool => cpu::TiledLayer::GlobalAvgPool,
                    LayerSpec::Dense { .. } => cpu::TiledLayer::Dense {
                        w: view2(&p[0]),
                        b: view1(&p[1]),
                    },
                    _ => return None,
                })
            })
            .collect()
    }

    /// Scores any number of pages, [`INFERENCE_BATCH`] at a time, through
    /// `plan`'s reused buffers (no fresh memory per batch once warm). A
    /// page shorter than the model's input is zero-padded, a longer one
    /// cut.
    pub fn score_pages(&self, plan: &mut InferencePlan, pages: &[&[u8]]) -> Vec<f32> {
        let len = self.arch.input_len;
        let mut out = Vec::with_capacity(pages.len());
        if let Some((net, scratch)) = &mut plan.tiled {
            for page in pages {
                let page = padded(page, len, &mut plan.input);
                out.push(class1_log_odds(net.logits(page, scratch)));
            }
            return out;
        }
        for chunk in pages.chunks(INFERENCE_BATCH) {
            let mut input = std::mem::take(&mut plan.input);
            input.clear();
            for page in chunk {
                let n = page.len().min(len);
                input.extend_from_slice(&page[..n]);
                input.resize(input.len() + len - n, 0);
            }
            let batch =
                ArrayView2::from_shape((chunk.len(), len), &input[..]).expect("rows of input_len");
            out.extend(
                self.scores_planned(plan, batch)
                    .expect("rows have the model's input length"),
            );
            plan.input = input;
        }
        out
    }

    /// [`Self::scores`] with a plan made by [`Self::plan`] of this model.
    pub fn scores_planned(
        &self,
        plan: &mut InferencePlan,
        pages: ArrayView2<u8>,
    ) -> Result<Vec<f32>, ModelError> {
        self.check_input(pages)?;
        if let Some((net, scratch)) = &mut plan.tiled {
            let pages = pages.as_standard_layout();
            return Ok(pages
                .outer_iter()
                .map(|row| {
                    let row = row.to_slice().expect("standard layout rows are contiguous");
                    class1_log_odds(net.logits(row, scratch))
                })
                .collect());
        }
        let (mut act, first) = match &plan.first {
            Some(tables) => {
                let mut y = std::mem::take(&mut plan.buffers[1]);
                cpu::embed_conv_forward_into(pages, tables, &mut y);
                (Act::Signal(y), 2)
            }
            None => (self.layer_forward(0, None, pages).0, 1),
        };
        // The layer whose buffer holds `act`, to give it back once used.
        let mut owner = first - 1;
        for i in first..self.arch.layers.len() {
            // In place: no copy of the activations for a ReLU.
            act = match (self.arch.layers[i], act) {
                (LayerSpec::Relu, Act::Signal(mut x)) => {
                    cpu::relu_inplace(&mut x);
                    Act::Signal(x)
                }
                (LayerSpec::Relu, Act::Features(mut x)) => {
                    cpu::relu_inplace(&mut x);
                    Act::Features(x)
                }
                (
                    LayerSpec::Conv1d {
                        stride, padding, ..
                    },
                    Act::Signal(x),
                ) => {
                    let p = &self.params[i];
                    let mut y = std::mem::take(&mut plan.buffers[i]);
                    cpu::conv1d_forward_into(
                        x.view(),
                        view3(&p[0]),
                        view1(&p[1]),
                        cpu::Conv1dSpec { stride, padding },
                        &mut y,
                        &mut plan.cols,
                    );
                    self.give_back(plan, owner, x);
                    owner = i;
                    Act::Signal(y)
                }
                (_, a) => {
                    let y = self.layer_forward(i, Some(&a), pages).0;
                    if let Act::Signal(x) = a {
                        self.give_back(plan, owner, x);
                    }
                    owner = i;
                    y
                }
            };
        }
        let Act::Features(logits) = act else {
            unreachable!("architecture validated: ends in features")
        };
        Ok(cpu::class1_log_odds_rows(logits.view()))
    }

    /// Returns layer `owner`'s output to its slot when it is a buffer the
    /// plan reuses (a convolution's); other outputs are simply dropped.
    fn give_back(&self, plan: &mut InferencePlan, owner: usize, x: Array3<f32>) {
        if matches!(self.arch.layers[owner], LayerSpec::Conv1d { .. }) {
            plan.buffers[owner] = x;
        }
    }

    fn check_input(&self, pages: ArrayView2<u8>) -> Result<(), ModelError> {
        if pages.ncols() != self.arch.input_len {
            return Err(ModelError::InputLength {
                expected: self.arch.input_len,
                found: pages.ncols(),
            });
        }
        Ok(())
    }

    /// Layer `i` on `input` (`None` for the input layer, which reads
    /// `pages`).
    fn layer_forward(
        &self,
        i: usize,
        input: Option<&Act>,
        pages: ArrayView2<u8>,
    ) -> (Act, Option<ArgMax>) {
        let p = &self.params[i];
        match (self.arch.layers[i], input) {
            (LayerSpec::Embed { .. }, _) => {
                (Act::Signal(cpu::embed_forward(pages, view2(&p[0]))), None)
            }
            (LayerSpec::Scale, _) => (Act::Signal(cpu::scale_forward(pages)), None),
            (
                LayerSpec::Conv1d {
                    stride, padding, ..
                },
                Some(Act::Signal(x)),
            ) => (
                Act::Signal(cpu::conv1d_forward(
                    x.view(),
                    view3(&p[0]),
                    view1(&p[1]),
                    cpu::Conv1dSpec { stride, padding },
                )),
                None,
            ),
            (LayerSpec::Relu, Some(Act::Signal(x))) => {
                (Act::Signal(cpu::relu_forward(x.view())), None)
            }
            (LayerSpec::Relu, Some(Act::Features(x))) => {
                (Act::Features(cpu::relu_forward(x.view())), None)
            }
            (LayerSpec::MaxPool { kernel, stride }, Some(Act::Signal(x))) => {
                let (y, am) = cpu::max_pool1d_forward(x.view(), kernel, stride);
                (Act::Signal(y), Some(ArgMax::Window(am)))
            }
            (LayerSpec::AvgPool { kernel, stride }, Some(Act::Signal(x))) => (
                Act::Signal(cpu::avg_pool1d_forward(x.view(), kernel, stride)),
                None,
            ),
            (LayerSpec::GlobalMaxPool, Some(Act::Signal(x))) => {
                let (y, am) = cpu::global_max_pool_forward(x.view());
                (Act::Features(y), Some(ArgMax::Global(am)))
            }
            (LayerSpec::GlobalAvgPool, Some(Act::Signal(x))) => {
                (Act::Features(cpu::global_avg_pool_forward(x.view())), None)
            }
            (LayerSpec::Dense { .. }, Some(Act::Features(x))) => (
                Act::Features(cpu::dense_forward(x.view(), view2(&p[0]), view1(&p[1]))),
                None,
            ),
            (layer, _) => unreachable!("architecture validated: {layer:?}"),
        }
    }

    /// The forward pass, keeping what [`Self::backward`] needs.
    pub fn forward(&self, pages: ArrayView2<u8>) -> Result<Trace, ModelError> {
        self.check_input(pages)?;
        let mut acts = vec![Act::Features(Array2::zeros((0, 0)))];
        let mut argmax = Vec::with_capacity(self.arch.layers.len());
        for i in 0..self.arch.layers.len() {
            let input = (i > 0).then(|| acts.last().expect("non-empty"));
            let (next, am) = self.layer_forward(i, input, pages);
            acts.push(next);
            argmax.push(am);
        }
        let Some(Act::Features(logits)) = acts.last() else {
            unreachable!("architecture validated: ends in features")
        };
        let logits = logits.clone();
        Ok(Trace {
            acts,
            argmax,
            logits,
        })
    }

    /// Gradients of the weighted cross-entropy of `trace` against `labels`
    /// (0 clean, 1 corrupted) for every parameter; and the loss.
    pub fn backward(
        &self,
        pages: ArrayView2<u8>,
        trace: &Trace,
        labels: &[usize],
        class_weights: &[f32; CLASSES],
    ) -> (f32, Vec<Vec<ArrayD<f32>>>) {
        let (loss, dlogits) =
            cpu::softmax_cross_entropy(trace.logits.view(), labels, class_weights);
        let mut grads: Vec<Vec<ArrayD<f32>>> = vec![Vec::new(); self.arch.layers.len()];
        let mut dy = Act::Features(dlogits);
        for i in (0..self.arch.layers.len()).rev() {
            let p = &self.params[i];
            let input = &trace.acts[i];
            let output = &trace.acts[i + 1];
            dy = match (self.arch.layers[i], input, dy) {
                (LayerSpec::Embed { .. }, _, Act::Signal(d)) => {
                    grads[i] = vec![cpu::embed_backward(pages, d.view()).into_dyn()];
                    break;
                }
                (LayerSpec::Scale, _, _) => break,
                (
                    LayerSpec::Conv1d {
                        stride, padding, ..
                    },
                    Act::Signal(x),
                    Act::Signal(d),
                ) => {
                    let g = cpu::conv1d_backward(
                        x.view(),
                        view3(&p[0]),
                        d.view(),
                        cpu::Conv1dSpec { stride, padding },
                    );
                    grads[i] = vec![g.dw.into_dyn(), g.db.into_dyn()];
                    Act::Signal(g.dx)
                }
                (LayerSpec::Relu, _, Act::Signal(d)) => match output {
                    Act::Signal(y) => Act::Signal(cpu::relu_backward(y.view(), d.view())),
                    Act::Features(_) => unreachable!("relu keeps its shape"),
                },
                (LayerSpec::Relu, _, Act::Features(d)) => match output {
                    Act::Features(y) => Act::Features(cpu::relu_backward(y.view(), d.view())),
                    Act::Signal(_) => unreachable!("relu keeps its shape"),
                },
                (LayerSpec::MaxPool { .. }, Act::Signal(x), Act::Signal(d)) => {
                    let Some(ArgMax::Window(am)) = &trace.argmax[i] else {
                        unreachable!("max pooling keeps its argmax")
                    };
                    Act::Signal(cpu::max_pool1d_backward(d.view(), am.view(), x.dim().2))
                }
                (LayerSpec::AvgPool { kernel, stride }, Act::Signal(x), Act::Signal(d)) => {
                    Act::Signal(cpu::avg_pool1d_backward(
                        d.view(),
                        kernel,
                        stride,
                        x.dim().2,
                    ))
                }
                (LayerSpec::GlobalMaxPool, Act::Signal(x), Act::Features(d)) => {
                    let Some(ArgMax::Global(am)) = &trace.argmax[i] else {
                        unreachable!("max pooling keeps its argmax")
                    };
                    Act::Signal(cpu::global_max_pool_backward(
                        d.view(),
                        am.view(),
                        x.dim().2,
                    ))
                }
                (LayerSpec::GlobalAvgPool, Act::Signal(x), Act::Features(d)) => {
                    Act::Signal(cpu::global_avg_pool_backward(d.view(), x.dim().2))
                }
                (LayerSpec::Dense { .. }, Act::Features(x), Act::Features(d)) => {
                    let g = cpu::dense_backward(x.view(), view2(&p[0]), d.view());
                    grads[i] = vec![g.dw.into_dyn(), g.db.into_dyn()];
                    Act::Features(g.dx)
                }
                (layer, _, _) => unreachable!("architecture validated: {layer:?}"),
            };
        }
        (loss, grads)
    }
}

/// A batch of pages as the `[batch, len]` array the model takes.
pub fn batch_of(pages: &[&[u8]], len: usize) -> Array2<u8> {
    let mut out = Array2::zeros((pages.len(), len));
    for (mut row, page) in out.rows_mut().into_iter().zip(pages) {
        let n = page.len().min(len);
        row.as_slice_mut().expect("fresh array rows are contiguous")[..n]
            .copy_from_slice(&page[..n]);
    }
    out
}

/// `page` at exactly `len` bytes: itself, or cut, or zero-padded in `buf`
/// (how a page of another length is scored, on every back end).
pub fn padded<'a>(page: &'a [u8], len: usize, buf: &'a mut Vec<u8>) -> &'a [u8] {
    if page.len() == len {
        return page;
    }
    let n = page.len().min(len);
    buf.clear();
    buf.extend_from_slice(&page[..n]);
    buf.resize(len, 0);
    buf
}

/// Zero tensors shaped like `params`.
pub fn zeros_like(params: &[Vec<ArrayD<f32>>]) -> Vec<Vec<ArrayD<f32>>> {
    params
        .iter()
        .map(|p| p.iter().map(|t| ArrayD::zeros(t.raw_dim())).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole network's gradient against finite differences, through
    /// every layer kind.
    #[test]
    // The loops index `grads` and mutate `model.params` in the same body.
    #[allow(clippy::needless_range_loop)]
    fn backward_matches_finite_differences() {
        use LayerSpec::*;
        let arch = Architecture::new(
            64,
            vec![
                Embed { dim: 3 },
                Conv1d {
                    out: 4,
                    kernel: 2,
                    stride: 2,
                    padding: 0,
                },
                Relu,
                Conv1d {
                    out: 4,
                    kernel: 3,
                    stride: 2,
                    padding: 1,
                },
                Relu,
                MaxPool {
                    kernel: 2,
                    stride: 2,
                },
                Conv1d {
                    out: 5,
                    kernel: 2,
                    stride: 1,
                    padding: 0,
                },
                AvgPool {
                    kernel: 3,
                    stride: 2,
                },
                GlobalMaxPool,
                Dense { out: 6 },
                Relu,
                Dense { out: 2 },
            ],
        )
        .unwrap();
        let mut model = Model::init(arch, 11);
        let mut rng = Rng::new(4);
        let pages = Array2::from_shape_fn((3, 64), |_| rng.below(7) as u8 * 37);
        let labels = [0usize, 1, 1];
        let w = [1.0f32, 2.0];
        let loss_of = |m: &Model| {
            let t = m.forward(pages.view()).unwrap();
            m.backward(pages.view(), &t, &labels, &w).0 as f64
        };
        let trace = model.forward(pages.view()).unwrap();
        let (_, grads) = model.backward(pages.view(), &trace, &labels, &w);
        let mut checked = 0;
        for l in 0..model.params.len() {
            for k in 0..model.params[l].len() {
                for idx in [0usize, 7, 13] {
                    let n = model.params[l][k].len();
                    let idx = idx % n;
                    let orig = model.params[l][k].as_slice().unwrap()[idx];
                    let eps = 2e-3f32;
                    model.params[l][k].as_slice_mut().unwrap()[idx] = orig + eps;
                    let up = loss_of(&model);
                    model.params[l][k].as_slice_mut().unwrap()[idx] = orig - eps;
                    let down = loss_of(&model);
                    model.params[l][k].as_slice_mut().unwrap()[idx] = orig;
                    let numeric = (up - down) / (2.0 * f64::from(eps));
                    let analytic = f64::from(grads[l][k].as_slice().unwrap()[idx]);
                    assert!(
                        (numeric - analytic).abs()
                            <= 2e-2 * numeric.abs().max(analytic.abs()) + 2e-3,
                        "layer {l} tensor {k} [{idx}]: numeric {numeric}, analytic {analytic}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 20);
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn scores_do_not_depend_on_the_batch() {
        let model = Model::init(Architecture::default_cnn(), 2);
        let mut rng = Rng::new(9);
        let pages = Array2::from_shape_fn((5, 4096), |_| rng.below(256) as u8);
        let together = model.scores(pages.view()).unwrap();
        // The table-lookup first layer agrees with the training path (in
        // floats; the 16-bit build, where the CPU runs it, within 1e-2).
        let traced = model.forward(pages.view()).unwrap().scores();
        let floats = model
            .scores_planned(&mut model.plan_in_floats(), pages.view())
            .unwrap();
        for ((s, f), p) in together.iter().zip(&floats).zip(&traced) {
            assert!((f - p).abs() < 1e-4 * p.abs().max(1.0), "{f} vs {p}");
            assert!((s - p).abs() < 1e-2 * p.abs().max(1.0), "{s} vs {p}");
        }
        // One plan reused across batches of other sizes (its buffers are
        // reshaped, then reused) gives the same scores.
        let mut plan = model.plan();
        for (i, row) in pages.rows().into_iter().enumerate() {
            let one = model
                .scores_planned(&mut plan, row.insert_axis(ndarray::Axis(0)))
                .unwrap();
            assert!(
                (one[0] - together[i]).abs() < 1e-5,
                "{i}: {} vs {}",
                one[0],
                together[i]
            );
        }
        assert_eq!(
            model.scores_planned(&mut plan, pages.view()).unwrap(),
            together
        );
    }

    #[test]
    fn tiled_and_batched_inference_agree_and_only_tileable_stacks_tile() {
        let mut rng = Rng::new(11);
        let pages = Array2::from_shape_fn((4, 4096), |_| (rng.below(7) * 37) as u8);
        for (text, tiles) in [
            (
                "embed4,conv16k8s8,relu,conv16k4s4,relu,conv32k4s4,relu,gmax,dense16,relu,dense2",
                true,
            ),
            ("embed3,conv8k4s4,relu,conv12k8s8,gavg,relu,dense2", true),
            // Overlapping, padded and windowed layers take the batched path.
            ("embed4,conv8k4s4,relu,conv8k4s2,relu,gmax,dense2", false),
            ("embed4,conv8k4s4p2,relu,gmax,dense2", false),
            ("embed4,conv8k4s4,relu,maxpool4s4,gmax,dense2", false),
            ("scale,conv8k8s8,relu,gmax,dense2", false),
        ] {
            let arch = Architecture::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let model = Model::init(arch, 5);
            let mut plan = model.plan();
            assert_eq!(plan.tiled.is_some(), tiles, "{text}");
            let traced = model.forward(pages.view()).unwrap().scores();
            let floats = model
                .scores_planned(&mut model.plan_in_floats(), pages.view())
                .unwrap();
            let got = model.scores_planned(&mut plan, pages.view()).unwrap();
            for ((s, f), p) in got.iter().zip(&floats).zip(&traced) {
                assert!(
                    (f - p).abs() < 1e-4 * p.abs().max(1.0),
                    "{text}: {f} vs {p}"
                );
                assert!(
                    (s - p).abs() < 1e-2 * p.abs().max(1.0),
                    "{text}: 16-bit {s} vs {p}"
                );
            }
            // A short page is scored as if zero-padded.
            let short = &pages.row(0).to_vec()[..1000];
            let mut padded = short.to_vec();
            padded.resize(4096, 0);
            let a = model.score_pages(&mut plan, &[short]);
            let b = model.score_pages(&mut plan, &[&padded]);
            assert_eq!(a, b, "{text}");
        }
    }
}
