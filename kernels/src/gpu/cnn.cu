/* The page classifier's layers as CUDA kernels, for the `gpu` back end.
 *
 * NVRTC compiles this file at run time (src/gpu/mod.rs). Every kernel
 * computes one output element per thread in a grid-stride loop and
 * touches neither shared memory nor __syncthreads: that keeps each
 * launch correct for any grid, and lets the tests compile this very
 * file as C and run every kernel on the CPU, block by block and thread
 * by thread (tests/gpu_emulated.rs), where no GPU is at hand.
 *
 * `wm_tiled_net` is the exception: the whole network of the default
 * shape for one page per block, its activations in shared memory, the
 * layers separated by __syncthreads (one launch per batch instead of one
 * per layer). The tests emulate it with one POSIX thread per CUDA thread
 * and a barrier.
 *
 * One output of each layer is computed by one device function, which
 * both the per-layer kernels and wm_tiled_net call.
 *
 * Layouts are the CPU kernels' (row-major): signals [batch][channels]
 * [length], features [batch][features], pages [batch][input length]
 * bytes. Sums start from the bias and add in the CPU reference's order,
 * so scores agree with it to float rounding.
 */

#if defined(__CUDACC__)
#define KERNEL extern "C" __global__
#define DEVICE static __device__ __forceinline__
#define RESTRICT __restrict__
#define SHARED_FLOATS(name) extern __shared__ float name[]
#endif

typedef long long idx_t;

/* Each thread's outputs: i = its global index, then every grid's width. */
#define FOR_EACH(i, n)                                                      \
    for (idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (idx_t)gridDim.x * blockDim.x)

/* One output of the embedding folded into a convolution of stride =
 * kernel: the bias plus, per tap, the table row of the byte there
 * (rows[(tap * 256 + byte) * channels + c]). `bytes` are the output
 * position's `kernel` bytes. */
DEVICE float embed_conv_at(const unsigned char *bytes, const float *rows,
                           const float *bias, int kernel, int channels,
                           int c)
{
    float acc = bias[c];
    for (int k = 0; k < kernel; k++)
    {
        acc += rows[((idx_t)k * 256 + bytes[k]) * channels + c];
    }
    return acc;
}

/* One output of a 1-D convolution: bias[o] plus, over c and k,
 * w[o][c][k] * x[c][start + k] (zero outside x, `lin` long). */
DEVICE float conv_at(const float *x, const float *w, const float *bias,
                     int cin, idx_t lin, int kernel, int o, idx_t start)
{
    float acc = bias[o];
    for (int c = 0; c < cin; c++)
    {
        const float *xr = x + c * lin;
        const float *wr = w + ((idx_t)o * cin + c) * kernel;
        for (int k = 0; k < kernel; k++)
        {
            idx_t at = start + k;
            if (at >= 0 && at < lin)
            {
                acc += wr[k] * xr[at];
            }
        }
    }
    return acc;
}

/* The max (or, with average != 0, the mean) of x[0..n). */
DEVICE float pool_of(const float *x, int n, int average)
{
    float acc = x[0];
    for (int k = 1; k < n; k++)
    {
        if (average)
        {
            acc += x[k];
        }
        else if (x[k] > acc)
        {
            acc = x[k];
        }
    }
    return average ? acc / (float)n : acc;
}

/* One output of a dense layer: bias[o] + sum over j of w[o][j] * x[j]. */
DEVICE float dense_at(const float *x, const float *w, const float *bias,
                      int in, int o)
{
    const float *wr = w + (idx_t)o * in;
    float acc = bias[o];
    for (int j = 0; j < in; j++)
    {
        acc += wr[j] * x[j];
    }
    return acc;
}

/* The log-odds of class 1 for one row of logits (the CPU's
 * class1_log_odds): z1 less the log-sum-exp of the other classes, which
 * does not saturate as the probability does. */
DEVICE float class1_of(const float *z, int classes)
{
    float m = z[0];
    for (int c = 2; c < classes; c++)
    {
        m = z[c] > m ? z[c] : m;
    }
    float sum = 0.0f;
    for (int c = 0; c < classes; c++)
    {
        if (c != 1)
        {
            sum += expf(z[c] - m);
        }
    }
    return z[1] - m - logf(sum);
}

/* ReLU: NaN becomes 0, as on the CPU. */
DEVICE float relu(float v)
{
    return v > 0.0f ? v : 0.0f;
}

/* Byte embedding: out[b][e][l] = table[pages[b][l]][e]. */
KERNEL void wm_embed(const unsigned char *RESTRICT pages,
                     const float *RESTRICT table, float *RESTRICT out,
                     int batch, int len, int dim)
{
    idx_t n = (idx_t)batch * dim * len;
    FOR_EACH(i, n)
    {
        idx_t l = i % len;
        idx_t r = i / len;
        idx_t e = r % dim;
        idx_t b = r / dim;
        out[i] = table[(idx_t)pages[b * len + l] * dim + e];
    }
}

/* Bytes scaled to [0, 1], one channel. */
KERNEL void wm_scale(const unsigned char *RESTRICT pages,
                     float *RESTRICT out, int batch, int len)
{
    idx_t n = (idx_t)batch * len;
    FOR_EACH(i, n)
    {
        out[i] = (float)pages[i] / 255.0f;
    }
}

/* The embedding folded into a convolution of stride = kernel. */
KERNEL void wm_embed_conv(const unsigned char *RESTRICT pages,
                          const float *RESTRICT rows,
                          const float *RESTRICT bias, float *RESTRICT out,
                          int batch, int len, int kernel, int channels,
                          int out_len)
{
    idx_t n = (idx_t)batch * channels * out_len;
    FOR_EACH(i, n)
    {
        idx_t t = i % out_len;
        idx_t r = i / out_len;
        int c = (int)(r % channels);
        idx_t b = r / channels;
        out[i] = embed_conv_at(pages + b * len + t * kernel, rows, bias,
                               kernel, channels, c);
    }
}

/* 1-D convolution: y[b][o][t] from x[b] at t * stride - padding. */
KERNEL void wm_conv1d(const float *RESTRICT x, const float *RESTRICT w,
                      const float *RESTRICT bias, float *RESTRICT y,
                      int batch, int cin, int lin, int cout, int kernel,
                      int stride, int padding, int lout)
{
    idx_t n = (idx_t)batch * cout * lout;
    FOR_EACH(i, n)
    {
        idx_t t = i % lout;
        idx_t r = i / lout;
        int o = (int)(r % cout);
        idx_t b = r / cout;
        y[i] = conv_at(x + b * cin * lin, w, bias, cin, lin, kernel, o,
                       t * stride - padding);
    }
}

/* ReLU in place. */
KERNEL void wm_relu(float *RESTRICT x, long long n)
{
    FOR_EACH(i, n)
    {
        x[i] = relu(x[i]);
    }
}

/* Max (or, with average != 0, mean) over windows of `kernel` every
 * `stride` positions, channel by channel. */
KERNEL void wm_pool1d(const float *RESTRICT x, float *RESTRICT y, int rows,
                      int lin, int kernel, int stride, int lout, int average)
{
    idx_t n = (idx_t)rows * lout;
    FOR_EACH(i, n)
    {
        idx_t t = i % lout;
        idx_t r = i / lout;
        y[i] = pool_of(x + r * lin + t * stride, kernel, average);
    }
}

/* Max (or mean) over a whole signal: [rows][len] to [rows]. */
KERNEL void wm_global_pool(const float *RESTRICT x, float *RESTRICT y,
                           int rows, int len, int average)
{
    FOR_EACH(r, (idx_t)rows)
    {
        y[r] = pool_of(x + r * len, len, average);
    }
}

/* Fully connected: y[b][o] = bias[o] + sum over j of w[o][j] * x[b][j]. */
KERNEL void wm_dense(const float *RESTRICT x, const float *RESTRICT w,
                     const float *RESTRICT bias, float *RESTRICT y,
                     int batch, int in, int out)
{
    idx_t n = (idx_t)batch * out;
    FOR_EACH(i, n)
    {
        idx_t b = i / out;
        y[i] = dense_at(x + b * in, w, bias, in, (int)(i % out));
    }
}

/* The log-odds of class 1 for each row of logits. */
KERNEL void wm_class1(const float *RESTRICT logits, float *RESTRICT scores,
                      int batch, int classes)
{
    FOR_EACH(b, (idx_t)batch)
    {
        scores[b] = class1_of(logits + b * classes, classes);
    }
}

/* The operations of wm_tiled_net's program, six ints each: the kind,
 * three sizes, and the offsets of the weights and the bias in `params`. */
#define OP_EMBED_CONV 0 /* kernel, channels, positions: lookup tables */
#define OP_CONV 1       /* in, out, kernel: stride = kernel, no padding */
#define OP_RELU 2
#define OP_GLOBAL 3 /* average? */
#define OP_DENSE 4  /* in, out */
#define OP_INTS 6

/* A whole network whose first layer is lookup tables and whose
 * convolutions tile their input, for one page per block (grid-stride
 * over pages). Activations ping-pong between two shared buffers, the
 * first `a_floats` long; dynamic shared memory holds both. Writes the
 * class-1 log-odds of each page to scores. */
KERNEL void wm_tiled_net(const unsigned char *RESTRICT pages, int batch,
                         int len, const int *RESTRICT prog, int ops,
                         const float *RESTRICT params, int a_floats,
                         float *RESTRICT scores)
{
    SHARED_FLOATS(smem);
    /* Buffer i of the two (an expression, not an array of pointers,
     * which would live in local memory). */
#define BUF(i) ((i) ? smem + a_floats : smem)
    for (idx_t page = blockIdx.x; page < batch; page += gridDim.x)
    {
        const unsigned char *p = pages + page * len;
        int c = 0, l = 0, cur = 1;
        for (int op = 0; op < ops; op++)
        {
            const int *o = prog + op * OP_INTS;
            const float *w = params + o[4];
            const float *bias = params + o[5];
            const float *x = BUF(cur);
            float *y = BUF(1 - cur);
            int kind = o[0];
            if (kind == OP_RELU)
            {
                /* In place: the activations stay where they are. */
                float *z = BUF(cur);
                for (int i = threadIdx.x; i < c * l; i += blockDim.x)
                {
                    z[i] = relu(z[i]);
                }
                __syncthreads();
                continue;
            }
            if (kind == OP_EMBED_CONV)
            {
                int k = o[1], ch = o[2], n = o[3];
                for (int i = threadIdx.x; i < ch * n; i += blockDim.x)
                {
                    y[i] = embed_conv_at(p + (i % n) * k, w, bias, k, ch,
                                         i / n);
                }
                c = ch;
                l = n;
            }
            else if (kind == OP_CONV)
            {
                int cin = o[1], cout = o[2], k = o[3], lout = l / k;
                for (int i = threadIdx.x; i < cout * lout; i += blockDim.x)
                {
                    y[i] = conv_at(x, w, bias, cin, l, k, i / lout,
                                   (idx_t)(i % lout) * k);
                }
                c = cout;
                l = lout;
            }
            else if (kind == OP_GLOBAL)
            {
                for (int i = threadIdx.x; i < c; i += blockDim.x)
                {
                    y[i] = pool_of(x + i * l, l, o[1]);
                }
                l = 1;
            }
            else
            {
                int in = o[1], out = o[2];
                for (int i = threadIdx.x; i < out; i += blockDim.x)
                {
                    y[i] = dense_at(x, w, bias, in, i);
                }
                c = out;
                l = 1;
            }
            cur = 1 - cur;
            __syncthreads();
        }
        if (threadIdx.x == 0)
        {
            scores[page] = class1_of(BUF(cur), c);
        }
        /* The next page's first layer overwrites what thread 0 reads. */
        __syncthreads();
    }
#undef BUF
}
