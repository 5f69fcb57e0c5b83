/* Compiles src/gpu/cnn.cu as C for the CPU (tests/gpu_emulated.rs): the
 * CUDA built-ins the kernels read become per-thread variables the test
 * sets before calling a kernel once for every (block, thread) of a grid.
 * Sound because the kernels share nothing between threads. */
#include <math.h>

typedef struct
{
    unsigned x, y, z;
} dim3;

static _Thread_local dim3 blockIdx, threadIdx, blockDim, gridDim;

#define KERNEL
#define RESTRICT restrict

void wm_emu_at(unsigned block, unsigned thread, unsigned block_dim, unsigned grid_dim)
{
    blockIdx.x = block;
    threadIdx.x = thread;
    blockDim.x = block_dim;
    gridDim.x = grid_dim;
}
