//! A CNN made ready for its back end once, and a fresh verifier from it
//! for each run: what the CLI's `run` and `attest evaluate` and the
//! benchmarks share.

use walmart_attest::model::gpu::GpuScorer;
use walmart_attest::model::verifier::CnnVerifier;
use walmart_attest::model::Model;
use walmart_attest::Verifier;

use super::wasm_verifier::WasmClassifier;
use crate::{Error, Result};

/// A model on its back end: for `wasm`, the classifier generated and
/// compiled (tens of milliseconds) once rather than per run; for `gpu`,
/// the kernels compiled and the weights on the device.
pub enum PreparedCnn {
    /// The network on this machine's CPU, its weights rearranged for
    /// inference once: each run's verifier is a fresh copy.
    Cpu(Box<CnnVerifier>),
    /// The network as WebAssembly, in sandboxes of its own.
    Wasm(WasmClassifier),
    /// The network on CUDA device 0, shared by the runs' verifiers, and
    /// the model's threshold.
    Gpu(GpuScorer, f32),
}

impl PreparedCnn {
    /// `model` on the CPU back end; fails for a model that does not take
    /// whole pages.
    pub fn cpu(model: Model) -> Result<PreparedCnn> {
        let verifier = CnnVerifier::new(model).map_err(|e| Error::Usage(e.to_string()))?;
        Ok(PreparedCnn::Cpu(Box::new(verifier)))
    }

    /// `model` on the `wasm` back end; fails for a model the generator
    /// does not take, with the reason.
    pub fn wasm(model: &Model) -> Result<PreparedCnn> {
        Ok(PreparedCnn::Wasm(WasmClassifier::new(model)?))
    }

    /// `model` on the `gpu` back end: kernels compiled and weights
    /// uploaded here, once; fails with the reason where there is no CUDA
    /// device.
    pub fn gpu(model: &Model) -> Result<PreparedCnn> {
        let scorer = GpuScorer::new(model).map_err(|e| Error::Usage(e.to_string()))?;
        Ok(PreparedCnn::Gpu(scorer, model.threshold))
    }

    /// A fresh verifier for one run (its remembered scores are the run's
    /// own).
    pub fn verifier(&self) -> Result<Box<dyn Verifier>> {
        Ok(match self {
            PreparedCnn::Cpu(verifier) => Box::new(verifier.fresh()),
            PreparedCnn::Wasm(classifier) => Box::new(classifier.verifier()?),
            PreparedCnn::Gpu(scorer, threshold) => Box::new(scorer.verifier(*threshold)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use walmart_attest::model::arch::{Architecture, LayerSpec};

    #[test]
    fn a_model_that_does_not_take_whole_pages_is_refused_when_prepared() {
        let arch = Architecture::new(
            1024,
            vec![
                LayerSpec::Embed { dim: 4 },
                LayerSpec::GlobalMaxPool,
                LayerSpec::Dense { out: 2 },
            ],
        )
        .unwrap();
        let err = match PreparedCnn::cpu(Model::init(arch, 1)) {
            Ok(_) => panic!("a 1024-byte model was prepared for 4096-byte pages"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("4096") && err.contains("1024"), "{err}");
        let ok = PreparedCnn::cpu(Model::init(Architecture::default_cnn(), 1)).unwrap();
        assert!(ok.verifier().is_ok());
    }
}
