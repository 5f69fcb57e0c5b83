/* Compiles src/gpu/cnn.cu as C for the CPU (tests/gpu_emulated.rs): the
 * CUDA built-ins the kernels read become per-thread variables, and
 * tests/gpu_emulate_launch.c runs a kernel for every (block, thread) of a
 * grid: one call after the other for the kernels that share nothing
 * between threads, one POSIX thread per CUDA thread of a block, with a
 * barrier for __syncthreads and one block's shared memory at a time, for
 * wm_tiled_net. */
#include <math.h>
#include <stddef.h>

typedef struct
{
    unsigned x, y, z;
} dim3;

extern _Thread_local dim3 blockIdx, threadIdx, blockDim, gridDim;
extern float *wm_emu_smem;
void wm_emu_sync(void);

#define KERNEL
#define DEVICE static inline
#define RESTRICT restrict
#define SHARED_FLOATS(name) float *name = wm_emu_smem
#define __syncthreads() wm_emu_sync()
