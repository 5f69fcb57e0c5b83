//! The model file: versioned, self-describing and checksummed.
//!
//! Layout (little-endian):
//!
//! ```text
//! magic     8 bytes  "WALMCNN\0"
//! version   u32      FORMAT_VERSION
//! input_len u32      bytes per example
//! threshold f32      decision threshold on the score, the log-odds of
//!                    corruption (version 1: on its probability, read
//!                    as the log-odds that decide alike)
//! layers    u32      count, then per layer: tag u8 and four u32 fields
//! meta      u32      length, then that many bytes of JSON (TrainingMeta)
//! tensors   u32      count, then per tensor: ndim u32, dims u32..., f32 data
//! checksum  u64      XXH3-64 of every byte before it
//! ```
//!
//! Loading checks the magic, the version, the checksum, the architecture
//! and every weight's shape, and refuses the file with a [`ModelError`]
//! naming what is wrong.

use ndarray::{ArrayD, IxDyn};

use super::{Architecture, LayerSpec, Model, ModelError, TrainingMeta};

const MAGIC: &[u8; 8] = b"WALMCNN\0";
/// The version this walmart writes. It reads this and version 1, whose
/// threshold was a probability.
pub const FORMAT_VERSION: u32 = 2;

/// The log-odds beyond which an `f32` softmax gives a probability of
/// exactly 1 (`1 + e^-d` rounds to 1 once `e^-d < 2^-24`): what a version 1
/// threshold of 1.0 meant.
const F32_PROBABILITY_EDGE: f64 = 24.0 * std::f64::consts::LN_2;

/// The log-odds threshold that decides as the probability threshold `p`
/// of a version 1 file did.
fn threshold_from_probability(p: f32) -> f32 {
    let p = f64::from(p);
    let edge = F32_PROBABILITY_EDGE;
    if p >= 1.0 {
        return edge as f32;
    }
    if p <= 0.0 {
        // Every page was flagged.
        return f32::MIN;
    }
    (p / (1.0 - p)).ln().min(edge) as f32
}
/// Largest tensor element count accepted (16 M floats): bounds the memory a
/// damaged or hostile file can make us allocate.
const MAX_TENSOR: usize = 1 << 24;

fn layer_fields(l: &LayerSpec) -> (u8, [u32; 4]) {
    let u = |v: usize| v as u32;
    match *l {
        LayerSpec::Embed { dim } => (1, [u(dim), 0, 0, 0]),
        LayerSpec::Scale => (2, [0; 4]),
        LayerSpec::Conv1d {
            out,
            kernel,
            stride,
            padding,
        } => (3, [u(out), u(kernel), u(stride), u(padding)]),
        LayerSpec::Relu => (4, [0; 4]),
        LayerSpec::MaxPool { kernel, stride } => (5, [u(kernel), u(stride), 0, 0]),
        LayerSpec::AvgPool { kernel, stride } => (6, [u(kernel), u(stride), 0, 0]),
        LayerSpec::GlobalMaxPool => (7, [0; 4]),
        LayerSpec::GlobalAvgPool => (8, [0; 4]),
        LayerSpec::Dense { out } => (9, [u(out), 0, 0, 0]),
    }
}

fn layer_from(tag: u8, f: [u32; 4]) -> Result<LayerSpec, ModelError> {
    let [a, b, c, d] = f.map(|v| v as usize);
    Ok(match tag {
        1 => LayerSpec::Embed { dim: a },
        2 => LayerSpec::Scale,
        3 => LayerSpec::Conv1d {
            out: a,
            kernel: b,
            stride: c,
            padding: d,
        },
        4 => LayerSpec::Relu,
        5 => LayerSpec::MaxPool {
            kernel: a,
            stride: b,
        },
        6 => LayerSpec::AvgPool {
            kernel: a,
            stride: b,
        },
        7 => LayerSpec::GlobalMaxPool,
        8 => LayerSpec::GlobalAvgPool,
        9 => LayerSpec::Dense { out: a },
        other => {
            return Err(ModelError::Architecture(format!(
                "unknown layer kind {other}"
            )))
        }
    })
}

impl Model {
    /// The model as file bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(self.arch.input_len as u32).to_le_bytes());
        out.extend_from_slice(&self.threshold.to_le_bytes());
        out.extend_from_slice(&(self.arch.layers.len() as u32).to_le_bytes());
        for l in &self.arch.layers {
            let (tag, fields) = layer_fields(l);
            out.push(tag);
            for f in fields {
                out.extend_from_slice(&f.to_le_bytes());
            }
        }
        let meta = serde_json::to_vec(&self.meta).expect("metadata serialises");
        out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta);
        let tensors: Vec<&ArrayD<f32>> = self.params.iter().flatten().collect();
        out.extend_from_slice(&(tensors.len() as u32).to_le_bytes());
        for t in tensors {
            out.extend_from_slice(&(t.ndim() as u32).to_le_bytes());
            for d in t.shape() {
                out.extend_from_slice(&(*d as u32).to_le_bytes());
            }
            for v in t.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = twox_hash::XxHash3_64::oneshot(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads a model from file bytes, checking everything.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        if bytes.len() < MAGIC.len() + 4 + 8 {
            return Err(ModelError::Truncated("header"));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION && version != 1 {
            return Err(ModelError::Version(version, FORMAT_VERSION));
        }
        let (body, tail) = bytes.split_at(bytes.len() - 8);
        let expected = u64::from_le_bytes(tail.try_into().expect("8 bytes"));
        let found = twox_hash::XxHash3_64::oneshot(body);
        if expected != found {
            return Err(ModelError::Checksum { expected, found });
        }
        let mut r = Reader { b: body, at: 12 };
        let input_len = r.u32("input length")? as usize;
        let mut threshold = f32::from_bits(r.u32("threshold")?);
        if version == 1 {
            if !(0.0..=1.0).contains(&threshold) {
                return Err(ModelError::Weights(format!(
                    "threshold {threshold} is not a probability"
                )));
            }
            threshold = threshold_from_probability(threshold);
        } else if !threshold.is_finite() {
            return Err(ModelError::Weights(format!(
                "threshold {threshold} is not a number of log-odds"
            )));
        }
        let n_layers = r.u32("layer count")? as usize;
        if n_layers > 256 {
            return Err(ModelError::Architecture(format!("{n_layers} layers")));
        }
        let mut layers = Vec::with_capacity(n_layers);
        for _ in 0..n_layers {
            let tag = r.take(1, "layer")?[0];
            let mut f = [0u32; 4];
            for v in &mut f {
                *v = r.u32("layer")?;
            }
            layers.push(layer_from(tag, f)?);
        }
        let arch = Architecture::new(input_len, layers)?;
        let meta_len = r.u32("metadata length")? as usize;
        let meta: TrainingMeta = serde_json::from_slice(r.take(meta_len, "metadata")?)
            .map_err(|e| ModelError::Weights(format!("training metadata: {e}")))?;
        let n_tensors = r.u32("tensor count")? as usize;
        let mut flat = Vec::new();
        for _ in 0..n_tensors.min(1024) {
            let ndim = r.u32("tensor")? as usize;
            if ndim == 0 || ndim > 4 {
                return Err(ModelError::Weights(format!(
                    "a tensor of {ndim} dimensions"
                )));
            }
            let mut dims = Vec::with_capacity(ndim);
            for _ in 0..ndim {
                dims.push(r.u32("tensor")? as usize);
            }
            let count = dims
                .iter()
                .try_fold(1usize, |a, d| a.checked_mul(*d))
                .filter(|c| *c <= MAX_TENSOR)
                .ok_or_else(|| ModelError::Weights(format!("a tensor shaped {dims:?}")))?;
            let data = r.take(count * 4, "tensor data")?;
            let values: Vec<f32> = data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect();
            flat.push(ArrayD::from_shape_vec(IxDyn(&dims), values).expect("count matches dims"));
        }
        if r.at != body.len() {
            return Err(ModelError::Weights(format!(
                "{} unexpected bytes after the weights",
                body.len() - r.at
            )));
        }
        let mut flat = flat.into_iter();
        let params = (0..arch.layers.len())
            .map(|i| {
                (0..arch.param_shapes(i).len())
                    .map_while(|_| flat.next())
                    .collect()
            })
            .collect();
        if flat.next().is_some() {
            return Err(ModelError::Weights("more tensors than layers need".into()));
        }
        let model = Model {
            arch,
            params,
            threshold,
            meta,
        };
        model.check_params()?;
        Ok(model)
    }

    /// Writes the model to `path`.
    pub fn save(&self, path: &std::path::Path) -> Result<(), ModelError> {
        std::fs::write(path, self.to_bytes()).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model from `path`; every error names the file.
    pub fn load(path: &std::path::Path) -> Result<Model, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Model::from_bytes(&bytes).map_err(|e| ModelError::File {
            path: path.display().to_string(),
            source: Box::new(e),
        })
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ModelError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or(ModelError::Truncated(what))?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(
            self.take(4, what)?.try_into().expect("4 bytes"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_damage() {
        let mut m = Model::init(Architecture::default_cnn(), 3);
        m.threshold = 21.5;
        m.meta.seed = 3;
        m.meta.metrics.push(("auc".into(), 0.99));
        let bytes = m.to_bytes();
        assert_eq!(Model::from_bytes(&bytes).unwrap(), m);

        let mut flipped = bytes.clone();
        flipped[100] ^= 1;
        assert!(matches!(
            Model::from_bytes(&flipped),
            Err(ModelError::Checksum { .. })
        ));
        assert!(matches!(
            Model::from_bytes(&bytes[..bytes.len() / 2]),
            Err(ModelError::Checksum { .. })
        ));
        assert!(matches!(
            Model::from_bytes(b"WALMCNN"),
            Err(ModelError::BadMagic)
        ));
        assert!(matches!(
            Model::from_bytes(b"garbage that is long enough"),
            Err(ModelError::BadMagic)
        ));
        let mut future = bytes.clone();
        future[8] = 9;
        assert!(matches!(
            Model::from_bytes(&future),
            Err(ModelError::Version(9, FORMAT_VERSION))
        ));
    }

    /// `bytes` of the current version rewritten as a version 1 file with
    /// the probability threshold `p`.
    fn as_version_1(bytes: &[u8], p: f32) -> Vec<u8> {
        let mut old = bytes[..bytes.len() - 8].to_vec();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        old[16..20].copy_from_slice(&p.to_le_bytes());
        let sum = twox_hash::XxHash3_64::oneshot(&old);
        old.extend_from_slice(&sum.to_le_bytes());
        old
    }

    #[test]
    fn version_1_thresholds_decide_as_they_did() {
        let m = Model::init(Architecture::default_cnn(), 4);
        let bytes = m.to_bytes();
        for p in [0.0f32, 0.5, 0.9, 0.9889957, 0.9997289, 0.99999994, 1.0] {
            let t = Model::from_bytes(&as_version_1(&bytes, p))
                .unwrap()
                .threshold;
            // Logit margins across the range, as pairs of logits: the
            // old decision (the f32 softmax's probability against `p`)
            // and the new (the log-odds against `t`) agree, but for
            // margins within rounding of the threshold.
            for step in -4000..=4000 {
                let d = step as f32 * 0.01;
                let logits = [0.0f32, d];
                let row = ndarray::ArrayView2::from_shape((1, 2), &logits[..]).unwrap();
                let old = walmart_kernels::cpu::softmax(row)[[0, 1]] >= p;
                let new = crate::model::class1_log_odds(&logits) >= t;
                assert!(
                    old == new || (d - t).abs() < 1e-3,
                    "p {p}: margin {d}: old {old}, new {new} (threshold {t})"
                );
            }
        }
        assert!(matches!(
            Model::from_bytes(&as_version_1(&bytes, 1.5)),
            Err(ModelError::Weights(_))
        ));
        let mut nan = m.clone();
        nan.threshold = f32::NAN;
        assert!(matches!(
            Model::from_bytes(&nan.to_bytes()),
            Err(ModelError::Weights(_))
        ));
    }

    #[test]
    fn mismatched_weights_are_refused_even_with_a_good_checksum() {
        let m = Model::init(Architecture::default_cnn(), 1);
        let mut other = m.clone();
        // Same layers but a wider first convolution than the weights hold.
        other.arch = Architecture::new(
            4096,
            m.arch
                .layers
                .iter()
                .map(|l| match *l {
                    LayerSpec::Conv1d {
                        out: 16,
                        kernel,
                        stride,
                        padding,
                    } => LayerSpec::Conv1d {
                        out: 16,
                        kernel: kernel * 2,
                        stride,
                        padding,
                    },
                    l => l,
                })
                .collect(),
        )
        .unwrap();
        let err = Model::from_bytes(&other.to_bytes()).unwrap_err();
        assert!(matches!(err, ModelError::Weights(_)), "{err}");
    }
}
