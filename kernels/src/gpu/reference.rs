//! What the GPU kernels must compute, on the CPU kernels: the meaning of
//! a list of [`GpuLayer`]s, against which the tests hold the GPU (or its
//! emulation) and the code that turns a model into layers.

use ndarray::{Array2, Array3, ArrayView1, ArrayView2, ArrayView3};

use super::{GpuError, GpuLayer, NetPlan};
use crate::cpu;

/// Activations between layers.
enum Act {
    Signal(Array3<f32>),
    Features(Array2<f32>),
}

fn view2(w: &[f32], rows: usize, cols: usize) -> ArrayView2<'_, f32> {
    ArrayView2::from_shape((rows, cols), w).expect("checked by NetPlan::new")
}

/// The class-1 log-odds of each of the `n` pages in `pages` (`n`
/// rows of equal length) through `layers`, layer after layer on the CPU
/// kernels; fails, as [`NetPlan::new`] does, for layers that do not fit.
pub fn reference_scores(
    layers: &[GpuLayer<'_>],
    pages: &[u8],
    n: usize,
) -> Result<Vec<f32>, GpuError> {
    if n == 0 || !pages.len().is_multiple_of(n) {
        return Err(GpuError::Shape(format!(
            "{} bytes are not {n} pages",
            pages.len()
        )));
    }
    let len = pages.len() / n;
    // The same checks as the device's, so that the views below fit.
    NetPlan::new(layers, len)?;
    let x = ArrayView2::from_shape((n, len), pages).expect("n rows of len");
    let mut act: Option<Act> = None;
    for layer in layers {
        act = Some(match (*layer, act.take()) {
            (GpuLayer::Embed { table, dim }, None) => {
                Act::Signal(cpu::embed_forward(x, view2(table, 256, dim)))
            }
            (GpuLayer::Scale, None) => Act::Signal(cpu::scale_forward(x)),
            (GpuLayer::EmbedConv { tables }, None) => {
                Act::Signal(cpu::embed_conv_forward(x, tables))
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
                Some(Act::Signal(h)),
            ) => {
                let w = ArrayView3::from_shape((out, h.dim().1, kernel), w)
                    .expect("checked by NetPlan::new");
                Act::Signal(cpu::conv1d_forward(
                    h.view(),
                    w,
                    ArrayView1::from(b),
                    cpu::Conv1dSpec { stride, padding },
                ))
            }
            (GpuLayer::Relu, Some(Act::Signal(h))) => Act::Signal(cpu::relu_forward(h.view())),
            (GpuLayer::Relu, Some(Act::Features(h))) => Act::Features(cpu::relu_forward(h.view())),
            (GpuLayer::MaxPool { kernel, stride }, Some(Act::Signal(h))) => {
                Act::Signal(cpu::max_pool1d_forward(h.view(), kernel, stride).0)
            }
            (GpuLayer::AvgPool { kernel, stride }, Some(Act::Signal(h))) => {
                Act::Signal(cpu::avg_pool1d_forward(h.view(), kernel, stride))
            }
            (GpuLayer::GlobalMax, Some(Act::Signal(h))) => {
                Act::Features(cpu::global_max_pool_forward(h.view()).0)
            }
            (GpuLayer::GlobalAvg, Some(Act::Signal(h))) => {
                Act::Features(cpu::global_avg_pool_forward(h.view()))
            }
            (GpuLayer::Dense { w, b, out }, Some(Act::Features(h))) => {
                let fin = h.dim().1;
                Act::Features(cpu::dense_forward(
                    h.view(),
                    view2(w, out, fin),
                    ArrayView1::from(b),
                ))
            }
            (layer, _) => {
                return Err(GpuError::Shape(format!("{layer:?} out of place")));
            }
        });
    }
    match act {
        Some(Act::Features(logits)) if logits.ncols() >= 2 => {
            Ok(cpu::class1_log_odds_rows(logits.view()))
        }
        Some(Act::Features(_)) => Err(GpuError::Shape(
            "the last layer must give two or more classes".into(),
        )),
        _ => Err(GpuError::Shape("the last layer must give features".into())),
    }
}
