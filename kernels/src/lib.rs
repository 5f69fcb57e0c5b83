//! `walmart-kernels`: the compute kernels of walmart's page classifier, a
//! small hand-written 1-D CNN over 4 KiB memory pages.
//!
//! The crate knows tensors, not the VM: callers hand it byte pages and weight
//! arrays and get activations and gradients back. Every layer has a forward
//! and a backward kernel so that `walmart-attest` can train the model without
//! an ML framework.
//!
//! Conventions, shared by every kernel:
//!
//! * all values are `f32`;
//! * activations are `[batch, channels, length]` ([`ndarray::Array3`]);
//! * flat features are `[batch, features]` ([`ndarray::Array2`]);
//! * a backward kernel takes the upstream gradient `dy` shaped like the
//!   forward output and returns gradients shaped like the forward inputs;
//! * inputs may be views in any memory layout (a kernel that needs contiguous
//!   memory copies a non-contiguous view first); every returned array is in
//!   standard (row-major) layout, so callers can rely on `as_slice()`.
//!
//! Shapes are preconditions, checked with `assert!` and documented under
//! `# Panics`: a mismatch is a bug in the model code, not a user error.
//!
//! Results are deterministic: matrix products go through `matrixmultiply`
//! single-threaded, and every reduction runs in a fixed order. (They may
//! differ in the last bits between CPUs with and without FMA, because
//! `matrixmultiply` picks its micro-kernel at run time.)

pub mod cpu;
pub mod gpu;
pub mod rng;
