//! `walmart-kernels`: the CNN's compute kernels (conv1d, dense, pooling,
//! activations) on the CPU with ndarray and on CUDA through cudarc. Work on
//! this crate starts with the CNN issue.
