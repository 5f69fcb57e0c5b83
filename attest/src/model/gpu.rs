//! The `gpu` back end as a [`PageScorer`]: a model's network on CUDA
//! device 0 ([`GpuNet`], kernels in `walmart-kernels`), shared by the
//! verifiers of successive runs (the kernels are compiled and the weights
//! uploaded once).

use std::sync::{Arc, Mutex};

use walmart_kernels::gpu::{GpuLayer, GpuNet};

pub use walmart_kernels::gpu::{probe, DeviceInfo, GpuError};

use super::verifier::{check_page_model, CnnVerifier, PageScorer};
use super::{LayerSpec, Model};

/// Pages the device scores per launch sequence at most: a whole final
/// flush of a large program in one go, 16 MiB of staged pages.
pub const GPU_BATCH: usize = 4096;

/// A model's network on the GPU, for any number of verifiers (they take
/// turns).
#[derive(Clone)]
pub struct GpuScorer {
    net: Arc<Mutex<GpuNet>>,
}

/// The model's parameters as contiguous row-major vectors, by layer.
fn flat_params(model: &Model) -> Vec<Vec<Vec<f32>>> {
    model
        .params
        .iter()
        .map(|layer| layer.iter().map(|t| t.iter().copied().collect()).collect())
        .collect()
}

/// Calls `f` with `model`'s network as the GPU kernels take it: the
/// embedding and a tiling first convolution folded into the lookup
/// tables the CPU uses too (a quarter of the memory traffic), every
/// other layer as it is.
pub fn with_gpu_layers<R>(model: &Model, f: impl FnOnce(&[GpuLayer<'_>]) -> R) -> R {
    let params = flat_params(model);
    let tables = model.first_tables();
    let mut layers = Vec::with_capacity(model.arch.layers.len());
    let skip = match &tables {
        Some(t) => {
            layers.push(GpuLayer::EmbedConv { tables: t });
            2
        }
        None => 0,
    };
    for (i, spec) in model.arch.layers.iter().enumerate().skip(skip) {
        let p = &params[i];
        layers.push(match *spec {
            LayerSpec::Embed { dim } => GpuLayer::Embed { table: &p[0], dim },
            LayerSpec::Scale => GpuLayer::Scale,
            LayerSpec::Conv1d {
                out,
                kernel,
                stride,
                padding,
            } => GpuLayer::Conv {
                w: &p[0],
                b: &p[1],
                out,
                kernel,
                stride,
                padding,
            },
            LayerSpec::Relu => GpuLayer::Relu,
            LayerSpec::MaxPool { kernel, stride } => GpuLayer::MaxPool { kernel, stride },
            LayerSpec::AvgPool { kernel, stride } => GpuLayer::AvgPool { kernel, stride },
            LayerSpec::GlobalMaxPool => GpuLayer::GlobalMax,
            LayerSpec::GlobalAvgPool => GpuLayer::GlobalAvg,
            LayerSpec::Dense { out } => GpuLayer::Dense {
                w: &p[0],
                b: &p[1],
                out,
            },
        });
    }
    f(&layers)
}

impl GpuScorer {
    /// `model` on device 0, or why it cannot be (no device, a model that
    /// does not take pages).
    pub fn new(model: &Model) -> Result<GpuScorer, GpuError> {
        check_page_model(model).map_err(|e| GpuError::Shape(e.to_string()))?;
        let net = with_gpu_layers(model, |layers| {
            GpuNet::new(layers, model.arch.input_len, GPU_BATCH)
        })?;
        Ok(GpuScorer {
            net: Arc::new(Mutex::new(net)),
        })
    }

    /// Scores with the network in one kernel (`on`, the default where the
    /// model has the default shape) or one launch per layer; returns
    /// whether the one-kernel network is in use.
    pub fn set_fused(&self, on: bool) -> bool {
        let mut net = self.net.lock().unwrap_or_else(|e| e.into_inner());
        net.set_fused(on)
    }

    /// A verifier for one run, flagging at `model`'s threshold.
    pub fn verifier(&self, threshold: f32) -> CnnVerifier<GpuScorer> {
        CnnVerifier::with_scorer(self.clone(), threshold)
    }

    /// The score (log-odds of corruption) of each page (the whole batch
    /// on the device, in chunks of [`GPU_BATCH`]).
    pub fn scores(&self, pages: &[&[u8]]) -> Result<Vec<f32>, GpuError> {
        // A verifier that panicked while holding the net left it whole:
        // every batch rewrites what it reads.
        let mut net = self.net.lock().unwrap_or_else(|e| e.into_inner());
        net.scores(pages)
    }
}

impl PageScorer for GpuScorer {
    fn name(&self) -> &str {
        "cnn-gpu"
    }

    fn score(&mut self, pages: &[&[u8]], _all_cores: bool) -> Result<Vec<f32>, String> {
        self.scores(pages).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;
    use crate::rng::Rng;

    fn pages(n: usize, seed: u64) -> Vec<Vec<u8>> {
        let mut rng = Rng::new(seed);
        (0..n)
            .map(|i| {
                (0..crate::PAGE_SIZE)
                    .map(|j| match i % 3 {
                        0 => (rng.unit() * 256.0) as u8,
                        1 => (j % 7) as u8 * 16,
                        _ => b'A',
                    })
                    .collect()
            })
            .collect()
    }

    /// The built-in model (one kernel on the GPU), a padded and pooled
    /// architecture, and scaled bytes (a launch per layer).
    fn models() -> [Model; 3] {
        let other = Architecture::parse(
            "embed3, conv8k5s2p2, relu, maxpool4s3, conv8k3s1p1, relu, avgpool2s2, gavg, dense4, relu, dense2",
        )
        .unwrap();
        let scaled = Architecture::parse("scale, conv4k16s16, relu, gmax, dense2").unwrap();
        [
            crate::model::default::default_model().unwrap(),
            Model::init(other, 3),
            Model::init(scaled, 4),
        ]
    }

    /// The same scores (log-odds) as the CPU within 5e-4, relatively
    /// beyond a magnitude of 1, for the built-in model, a
    /// padded and pooled architecture, and batch sizes that fill no block
    /// (256 threads) evenly. Runs where a device is; says so elsewhere.
    #[test]
    fn the_gpu_scores_pages_as_the_cpu_does() {
        if let Err(e) = probe() {
            eprintln!("skipped: {e}");
            return;
        }
        let mut one_kernel_seen = false;
        for model in &models() {
            let gpu = GpuScorer::new(model).unwrap_or_else(|e| panic!("{e}"));
            let mut plan = model.plan();
            // The one-kernel network where the model has its shape, and
            // a launch per layer.
            for fused in [true, false] {
                let on = gpu.set_fused(fused);
                one_kernel_seen |= on;
                for n in [1, 7, 300, GPU_BATCH + 5] {
                    let pages = pages(n, n as u64);
                    let refs: Vec<&[u8]> = pages.iter().map(|p| &p[..]).collect();
                    let want = model.score_pages(&mut plan, &refs);
                    let got = gpu.scores(&refs).unwrap();
                    let what = format!("{} (one kernel: {on}), {n} pages", model.arch.describe());
                    assert_scores_close(&what, &got, &want);
                }
            }
        }
        assert!(one_kernel_seen, "the built-in model runs as one kernel");
    }

    fn assert_scores_close(what: &str, got: &[f32], want: &[f32]) {
        assert_eq!(got.len(), want.len(), "{what}");
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= 5e-4 * w.abs().max(1.0),
                "{what}: page {i}: {g} vs {w}"
            );
        }
    }

    /// The layers the GPU is given mean what the model means: their CPU
    /// reference (`walmart_kernels::gpu::reference_scores`, which the
    /// kernels are tested against) scores pages as the model does. Runs
    /// everywhere; the kernels' side is `kernels/tests/gpu_emulated.rs`.
    #[test]
    fn the_layers_given_to_the_gpu_score_as_the_model_does() {
        let n = 9;
        let pages = pages(n, 5);
        let refs: Vec<&[u8]> = pages.iter().map(|p| &p[..]).collect();
        let flat: Vec<u8> = pages.concat();
        for model in &models() {
            let want = model.score_pages(&mut model.plan(), &refs);
            let got = with_gpu_layers(model, |layers| {
                walmart_kernels::gpu::reference_scores(layers, &flat, n)
            })
            .unwrap_or_else(|e| panic!("{}: {e}", model.arch.describe()));
            assert_scores_close(&model.arch.describe(), &got, &want);
        }
    }

    #[test]
    fn without_a_device_a_gpu_verifier_is_refused_with_the_reason() {
        let model = crate::model::default::default_model().unwrap();
        match (probe(), GpuScorer::new(&model)) {
            (Ok(_), Ok(_)) => {}
            (Err(_), Err(e)) => assert!(e.to_string().starts_with("no CUDA device: "), "{e}"),
            (a, b) => panic!("probe {:?}, scorer {:?}", a.err(), b.err()),
        }
    }
}
