/* The emulated grid's state and launchers (see gpu_emulate.h). */
#include <pthread.h>
#include <stdlib.h>

_Thread_local dim3 blockIdx, threadIdx, blockDim, gridDim;
float *wm_emu_smem;
static pthread_barrier_t barrier;

void wm_emu_sync(void)
{
    pthread_barrier_wait(&barrier);
}

/* For kernels called thread by thread from Rust. */
void wm_emu_at(unsigned block, unsigned thread, unsigned block_dim, unsigned grid_dim)
{
    blockIdx.x = block;
    threadIdx.x = thread;
    blockDim.x = block_dim;
    gridDim.x = grid_dim;
}

void wm_tiled_net(const unsigned char *pages, int batch, int len, const int *prog, int ops,
                  const float *params, int a_floats, float *probs);

struct tiled_call
{
    const unsigned char *pages;
    int batch, len;
    const int *prog;
    int ops;
    const float *params;
    int a_floats;
    float *probs;
    unsigned block, thread, block_dim, grid_dim;
};

static void *tiled_thread(void *arg)
{
    struct tiled_call *c = arg;
    wm_emu_at(c->block, c->thread, c->block_dim, c->grid_dim);
    wm_tiled_net(c->pages, c->batch, c->len, c->prog, c->ops, c->params, c->a_floats, c->probs);
    return NULL;
}

/* Floats after a block's shared memory that must stay untouched. */
#define GUARD 256
#define GUARD_VALUE 12345.0f

/* wm_tiled_net over a grid of `grid` blocks of `block` threads with
 * `shared` floats of shared memory (NaN at first, as unwritten memory
 * must never be read). Returns 0, -1 if threads could not start, or -2
 * if a block wrote past its shared memory. */
int wm_emu_tiled_net(const unsigned char *pages, int batch, int len, const int *prog, int ops,
                     const float *params, int a_floats, float *probs, unsigned grid,
                     unsigned block, size_t shared)
{
    struct tiled_call *calls = calloc(block, sizeof *calls);
    pthread_t *threads = calloc(block, sizeof *threads);
    float *smem = malloc((shared + GUARD) * sizeof(float));
    int status = calls && threads && smem ? 0 : -1;
    for (unsigned b = 0; status == 0 && b < grid; b++)
    {
        for (size_t i = 0; i < shared; i++)
            smem[i] = NAN;
        for (size_t i = shared; i < shared + GUARD; i++)
            smem[i] = GUARD_VALUE;
        wm_emu_smem = smem;
        pthread_barrier_init(&barrier, NULL, block);
        unsigned started = 0;
        for (unsigned t = 0; t < block; t++)
        {
            calls[t] = (struct tiled_call){pages, batch, len, prog, ops, params, a_floats, probs,
                                           b, t, block, grid};
            if (pthread_create(&threads[t], NULL, tiled_thread, &calls[t]) != 0)
            {
                status = -1;
                break;
            }
            started++;
        }
        /* A block short of threads would wait at its barrier for ever. */
        if (started < block)
            abort();
        for (unsigned t = 0; t < started; t++)
            pthread_join(threads[t], NULL);
        pthread_barrier_destroy(&barrier);
        for (size_t i = shared; i < shared + GUARD; i++)
            if (smem[i] != GUARD_VALUE)
                status = -2;
    }
    free(calls);
    free(threads);
    free(smem);
    return status;
}
