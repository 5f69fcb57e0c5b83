//! The network's architecture as data: a list of layers read from the model
//! file, checked for consistency before any weight is touched.

use super::ModelError;

/// One layer of the classifier. The first layer turns page bytes into a
/// `[channels, length]` signal; a global pooling layer turns signals into
/// features; dense layers follow; the last dense layer has two outputs
/// (clean, corrupted) fed to a softmax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayerSpec {
    /// Each byte value gets a learned vector of `dim` channels.
    Embed { dim: usize },
    /// Bytes scaled to `[0, 1]`, one channel.
    Scale,
    /// 1-D convolution.
    Conv1d {
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
    },
    /// Rectified linear unit.
    Relu,
    /// Max pooling over windows of `kernel`, every `stride` positions.
    MaxPool { kernel: usize, stride: usize },
    /// Average pooling over windows of `kernel`, every `stride` positions.
    AvgPool { kernel: usize, stride: usize },
    /// Maximum over the whole length: signal to features.
    GlobalMaxPool,
    /// Mean over the whole length: signal to features.
    GlobalAvgPool,
    /// Fully connected layer with `out` outputs.
    Dense { out: usize },
}

/// Layers as text, the form `walmart attest train --arch` takes:
/// `embed4`, `scale`, `conv16k8s8` (with `p2` for padding), `relu`,
/// `maxpool4s4`, `avgpool4s4`, `gmax`, `gavg`, `dense16`.
impl std::fmt::Display for LayerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            LayerSpec::Embed { dim } => write!(f, "embed{dim}"),
            LayerSpec::Scale => write!(f, "scale"),
            LayerSpec::Conv1d {
                out,
                kernel,
                stride,
                padding,
            } => {
                write!(f, "conv{out}k{kernel}s{stride}")?;
                if padding > 0 {
                    write!(f, "p{padding}")?;
                }
                Ok(())
            }
            LayerSpec::Relu => write!(f, "relu"),
            LayerSpec::MaxPool { kernel, stride } => write!(f, "maxpool{kernel}s{stride}"),
            LayerSpec::AvgPool { kernel, stride } => write!(f, "avgpool{kernel}s{stride}"),
            LayerSpec::GlobalMaxPool => write!(f, "gmax"),
            LayerSpec::GlobalAvgPool => write!(f, "gavg"),
            LayerSpec::Dense { out } => write!(f, "dense{out}"),
        }
    }
}

impl std::str::FromStr for LayerSpec {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<LayerSpec, ModelError> {
        let bad = || {
            ModelError::Architecture(format!("unknown layer `{text}` (embed4, scale, conv16k8s8p0, relu, maxpool4s4, avgpool4s4, gmax, gavg, dense16)"))
        };
        let name_end = text
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(text.len());
        let (name, rest) = text.split_at(name_end);
        // The numbers after the name, each behind its letter (`k`, `s`, `p`).
        let mut fields = Vec::new();
        let mut tag = ' ';
        let mut digits = String::new();
        for c in rest.chars().chain(std::iter::once('$')) {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if !digits.is_empty() {
                fields.push((tag, digits.parse::<usize>().map_err(|_| bad())?));
                digits.clear();
            } else if c != '$' || tag != ' ' {
                return Err(bad());
            }
            tag = c;
        }
        let tags: String = fields.iter().map(|f| f.0).collect();
        let n = |i: usize| fields[i].1;
        Ok(match (name, tags.as_str()) {
            ("embed", " ") => LayerSpec::Embed { dim: n(0) },
            ("scale", "") => LayerSpec::Scale,
            ("conv", " ks") | ("conv", " ksp") => LayerSpec::Conv1d {
                out: n(0),
                kernel: n(1),
                stride: n(2),
                padding: if fields.len() > 3 { n(3) } else { 0 },
            },
            ("relu", "") => LayerSpec::Relu,
            ("maxpool", " s") => LayerSpec::MaxPool {
                kernel: n(0),
                stride: n(1),
            },
            ("avgpool", " s") => LayerSpec::AvgPool {
                kernel: n(0),
                stride: n(1),
            },
            ("gmax", "") => LayerSpec::GlobalMaxPool,
            ("gavg", "") => LayerSpec::GlobalAvgPool,
            ("dense", " ") => LayerSpec::Dense { out: n(0) },
            _ => return Err(bad()),
        })
    }
}

/// The shape of the activations between two layers (per example).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Page bytes, before the input layer.
    Bytes(usize),
    /// `channels x length` signal.
    Signal(usize, usize),
    /// Flat features.
    Features(usize),
}

/// Classes the last layer scores: clean and corrupted.
pub const CLASSES: usize = 2;

/// A validated architecture: the layers and the shape after each.
#[derive(Clone, Debug, PartialEq)]
pub struct Architecture {
    /// Bytes per example (a page: 4096).
    pub input_len: usize,
    pub layers: Vec<LayerSpec>,
    /// `shapes[i]` is the input of layer `i`; the last is the output.
    pub shapes: Vec<Shape>,
}

/// Largest size any layer parameter may have: a damaged file must not make
/// us allocate gigabytes.
const MAX_DIM: usize = 1 << 16;

impl Architecture {
    /// Checks that `layers` fit together on `input_len` bytes and end in
    /// [`CLASSES`] features.
    pub fn new(input_len: usize, layers: Vec<LayerSpec>) -> Result<Architecture, ModelError> {
        let bad = |i: usize, why: String| ModelError::Architecture(format!("layer {i}: {why}"));
        if input_len == 0 || input_len > MAX_DIM {
            return Err(ModelError::Architecture(format!(
                "input length {input_len} out of range"
            )));
        }
        let mut shapes = vec![Shape::Bytes(input_len)];
        for (i, layer) in layers.iter().enumerate() {
            let cur = *shapes.last().expect("starts non-empty");
            let next = match (*layer, cur) {
                (LayerSpec::Embed { dim }, Shape::Bytes(l)) if (1..=256).contains(&dim) => {
                    Shape::Signal(dim, l)
                }
                (LayerSpec::Scale, Shape::Bytes(l)) => Shape::Signal(1, l),
                (LayerSpec::Embed { .. } | LayerSpec::Scale, _) => {
                    return Err(bad(i, "an input layer must come first".into()))
                }
                (_, Shape::Bytes(_)) => {
                    return Err(bad(i, "the first layer must be embed or scale".into()))
                }
                (
                    LayerSpec::Conv1d {
                        out,
                        kernel,
                        stride,
                        padding,
                    },
                    Shape::Signal(_, l),
                ) => {
                    if out == 0 || out > MAX_DIM || kernel == 0 || kernel > MAX_DIM {
                        return Err(bad(i, format!("conv1d sizes out {out}, kernel {kernel}")));
                    }
                    if stride == 0 || padding >= kernel {
                        return Err(bad(
                            i,
                            format!("conv1d stride {stride} / padding {padding}"),
                        ));
                    }
                    if kernel > l + 2 * padding {
                        return Err(bad(i, format!("conv1d kernel {kernel} longer than {l}")));
                    }
                    Shape::Signal(out, (l + 2 * padding - kernel) / stride + 1)
                }
                (LayerSpec::Relu, s) => s,
                (
                    LayerSpec::MaxPool { kernel, stride } | LayerSpec::AvgPool { kernel, stride },
                    Shape::Signal(c, l),
                ) => {
                    if kernel == 0 || stride == 0 || kernel > l {
                        return Err(bad(
                            i,
                            format!("pool kernel {kernel}, stride {stride} on {l}"),
                        ));
                    }
                    Shape::Signal(c, (l - kernel) / stride + 1)
                }
                (LayerSpec::GlobalMaxPool | LayerSpec::GlobalAvgPool, Shape::Signal(c, _)) => {
                    Shape::Features(c)
                }
                (LayerSpec::Dense { out }, Shape::Features(_)) if (1..=MAX_DIM).contains(&out) => {
                    Shape::Features(out)
                }
                (layer, shape) => {
                    return Err(bad(i, format!("{layer:?} cannot follow {shape:?}")));
                }
            };
            shapes.push(next);
        }
        if shapes.last() != Some(&Shape::Features(CLASSES)) {
            return Err(ModelError::Architecture(format!(
                "the network must end in {CLASSES} features (a dense layer), not {:?}",
                shapes.last()
            )));
        }
        Ok(Architecture {
            input_len,
            layers,
            shapes,
        })
    }

    /// An architecture over whole pages from its text form: layers
    /// separated by commas (see [`LayerSpec`]'s `Display`).
    pub fn parse(text: &str) -> Result<Architecture, ModelError> {
        let layers = text
            .split(',')
            .map(|l| l.trim().parse())
            .collect::<Result<Vec<LayerSpec>, _>>()?;
        Architecture::new(crate::PAGE_SIZE, layers)
    }

    /// The layers in the text form [`Architecture::parse`] reads.
    pub fn describe(&self) -> String {
        let layers: Vec<String> = self.layers.iter().map(|l| l.to_string()).collect();
        layers.join(",")
    }

    /// The shapes of layer `i`'s parameters (none for most layers).
    pub fn param_shapes(&self, i: usize) -> Vec<Vec<usize>> {
        match (self.layers[i], self.shapes[i]) {
            (LayerSpec::Embed { dim }, _) => vec![vec![256, dim]],
            (LayerSpec::Conv1d { out, kernel, .. }, Shape::Signal(c, _)) => {
                vec![vec![out, c, kernel], vec![out]]
            }
            (LayerSpec::Dense { out }, Shape::Features(f)) => vec![vec![out, f], vec![out]],
            _ => Vec::new(),
        }
    }

    /// The default network: byte embedding, three strided convolutions,
    /// global max pooling and two dense layers; about 0.4 MFLOP per page
    /// (the first convolution is table lookups at inference).
    /// Max pooling because an attack is local: with global average
    /// pooling, a page of dense text (JSON, say) adds up many weak
    /// windows into the score a single attack window earns, and was
    /// flagged with certainty. Max pooling needs the clean twin of every
    /// attacked page in training (see `walmart attest collect`): without
    /// it the strongest window of a page is whatever marks the page's
    /// place (the stack's), and the network learns that instead.
    pub fn default_cnn() -> Architecture {
        use LayerSpec::*;
        Architecture::new(
            crate::PAGE_SIZE,
            vec![
                Embed { dim: 4 },
                Conv1d {
                    out: 16,
                    kernel: 8,
                    stride: 8,
                    padding: 0,
                },
                Relu,
                Conv1d {
                    out: 16,
                    kernel: 4,
                    stride: 4,
                    padding: 0,
                },
                Relu,
                Conv1d {
                    out: 32,
                    kernel: 4,
                    stride: 4,
                    padding: 0,
                },
                Relu,
                GlobalMaxPool,
                Dense { out: 16 },
                Relu,
                Dense { out: CLASSES },
            ],
        )
        .expect("the default architecture is consistent")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_form_round_trips_and_rejects_garbage() {
        let a = Architecture::default_cnn();
        let text = a.describe();
        assert_eq!(Architecture::parse(&text).unwrap(), a);
        let b = Architecture::parse("scale, conv8k3s1p1, maxpool4s4, gmax, dense2").unwrap();
        assert_eq!(
            b.layers[1],
            LayerSpec::Conv1d {
                out: 8,
                kernel: 3,
                stride: 1,
                padding: 1
            }
        );
        for bad in [
            "",
            "conv8",
            "conv8k3s1p1x2",
            "dense",
            "relu2",
            "embedk4",
            "gmax,dense3",
        ] {
            assert!(Architecture::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shapes_follow_layers_and_bad_stacks_are_refused() {
        let a = Architecture::default_cnn();
        assert_eq!(a.shapes[2], Shape::Signal(16, 512));
        assert_eq!(*a.shapes.last().unwrap(), Shape::Features(2));
        assert_eq!(a.param_shapes(1), [vec![16, 4, 8], vec![16]]);
        use LayerSpec::*;
        for layers in [
            vec![Relu, Dense { out: 2 }],
            vec![Scale, Dense { out: 2 }],
            vec![Scale, GlobalMaxPool, Dense { out: 3 }],
            vec![Scale, Embed { dim: 2 }],
            vec![
                Scale,
                Conv1d {
                    out: 1,
                    kernel: 9000,
                    stride: 1,
                    padding: 0,
                },
            ],
        ] {
            assert!(Architecture::new(4096, layers).is_err());
        }
    }
}
