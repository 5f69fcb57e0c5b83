//! CPU kernels on `ndarray`, one module per layer family.
//!
//! Everything is re-exported here, so callers write
//! `walmart_kernels::cpu::conv1d_forward` and never name the submodules.

mod activation;
mod buffer;
mod conv1d;
mod dense;
mod embed;
mod embed_conv;
mod int16_net;
mod loss;
mod pool;
mod scale;
#[cfg(target_arch = "x86_64")]
mod sparse_conv;
mod tiled_net;

#[cfg(test)]
pub(crate) mod testutil;

pub use activation::{relu_backward, relu_forward, relu_inplace};
pub use conv1d::{
    conv1d_backward, conv1d_forward, conv1d_forward_into, conv1d_out_len, Conv1dGrads, Conv1dSpec,
};
pub use dense::{dense_backward, dense_forward, DenseGrads};
pub use embed::{embed_backward, embed_forward};
pub use embed_conv::{
    embed_conv_forward, embed_conv_forward_into, embed_conv_tables, EmbedConvTables,
};
pub use int16_net::{Int16Conv, Int16Layers};
pub use loss::{class1_log_odds, class1_log_odds_rows, softmax, softmax_cross_entropy};
pub use pool::{
    avg_pool1d_backward, avg_pool1d_forward, global_avg_pool_backward, global_avg_pool_forward,
    global_max_pool_backward, global_max_pool_forward, max_pool1d_backward, max_pool1d_forward,
    pool1d_out_len,
};
pub use scale::scale_forward;
pub use tiled_net::{
    pack_nonzero_blocks, TiledConv, TiledDense, TiledLayer, TiledNet, TiledPool, TiledScratch,
};
