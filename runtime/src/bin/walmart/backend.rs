//! `--backend`: where the CNN verifier runs.

use anyhow::{anyhow, bail};
use walmart::attest::model::gpu::probe;
use walmart::attest::model::Model;
use walmart::attest::{PreparedCnn, Verifier};

/// A verifier back end; every one gives the same scores (within 1e-4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// The network on this machine's CPU (ndarray kernels).
    Cpu,
    /// CUDA kernels on a GPU.
    Gpu,
    /// The network as a WebAssembly module run by walmart's own JIT in a
    /// sandbox of its own.
    Wasm,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Cpu => "cpu",
            Backend::Gpu => "gpu",
            Backend::Wasm => "wasm",
        })
    }
}

/// Fails with the reason when `backend` cannot run here (`gpu` without
/// a CUDA device).
pub fn available(backend: Backend) -> anyhow::Result<()> {
    if backend == Backend::Gpu {
        if let Err(e) = probe() {
            bail!("--backend gpu: {e}; use cpu or wasm");
        }
    }
    Ok(())
}

/// `model` made ready for `backend` once (the `wasm` classifier is
/// generated and compiled here); [`PreparedCnn::verifier`] per run.
pub fn prepare(model: Model, backend: Backend) -> anyhow::Result<PreparedCnn> {
    available(backend)?;
    Ok(match backend {
        Backend::Wasm => PreparedCnn::wasm(&model).map_err(|e| anyhow!("--backend wasm: {e}"))?,
        Backend::Gpu => PreparedCnn::gpu(&model).map_err(|e| anyhow!("--backend gpu: {e}"))?,
        Backend::Cpu => PreparedCnn::cpu(model).map_err(|e| anyhow!("--model: {e}"))?,
    })
}

/// A fresh verifier of `cnn` for one run.
pub fn verifier(cnn: &PreparedCnn) -> anyhow::Result<Box<dyn Verifier>> {
    cnn.verifier().map_err(|e| anyhow!("--model: {e}"))
}

/// `model`'s CNN verifier on `backend`, for a single run.
pub fn cnn_verifier(model: Model, backend: Backend) -> anyhow::Result<Box<dyn Verifier>> {
    verifier(&prepare(model, backend)?)
}
