/* The page classifier's layers as CUDA kernels, for the `gpu` back end.
 *
 * NVRTC compiles this file at run time (src/gpu/mod.rs). Every kernel
 * computes one output element per thread in a grid-stride loop and
 * touches neither shared memory nor __syncthreads: that keeps each
 * launch correct for any grid, and lets the tests compile this very
 * file as C and run every kernel on the CPU, block by block and thread
 * by thread (tests/gpu_emulated.rs), where no GPU is at hand.
 *
 * Layouts are the CPU kernels' (row-major): signals [batch][channels]
 * [length], features [batch][features], pages [batch][input length]
 * bytes. Sums start from the bias and add in the CPU reference's order,
 * so scores agree with it to float rounding.
 */

#if defined(__CUDACC__)
#define KERNEL extern "C" __global__
#define RESTRICT __restrict__
#endif

typedef long long idx_t;

/* Each thread's outputs: i = its global index, then every grid's width. */
#define FOR_EACH(i, n)                                                      \
    for (idx_t i = (idx_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); \
         i += (idx_t)gridDim.x * blockDim.x)

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

/* Embedding folded into a convolution whose stride is its kernel: each
 * output is the bias plus, per tap, the table row of the byte there
 * (rows[(tap * 256 + byte) * channels + c]). */
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
        idx_t c = r % channels;
        idx_t b = r / channels;
        const unsigned char *p = pages + b * len + t * kernel;
        float acc = bias[c];
        for (int k = 0; k < kernel; k++)
        {
            acc += rows[((idx_t)k * 256 + p[k]) * channels + c];
        }
        out[i] = acc;
    }
}

/* 1-D convolution: y[b][o][t] = bias[o] + sum over c, k of
 * w[o][c][k] * x[b][c][t * stride + k - padding] (zero outside x). */
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
        idx_t o = r % cout;
        idx_t b = r / cout;
        idx_t start = t * stride - padding;
        float acc = bias[o];
        for (int c = 0; c < cin; c++)
        {
            const float *xr = x + (b * cin + c) * lin;
            const float *wr = w + (o * cin + c) * kernel;
            for (int k = 0; k < kernel; k++)
            {
                idx_t at = start + k;
                if (at >= 0 && at < lin)
                {
                    acc += wr[k] * xr[at];
                }
            }
        }
        y[i] = acc;
    }
}

/* ReLU in place; NaN becomes 0, as on the CPU. */
KERNEL void wm_relu(float *RESTRICT x, long long n)
{
    FOR_EACH(i, n)
    {
        float v = x[i];
        x[i] = v > 0.0f ? v : 0.0f;
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
        const float *xr = x + r * lin + t * stride;
        float acc = xr[0];
        for (int k = 1; k < kernel; k++)
        {
            if (average)
            {
                acc += xr[k];
            }
            else if (xr[k] > acc)
            {
                acc = xr[k];
            }
        }
        y[i] = average ? acc / (float)kernel : acc;
    }
}

/* Max (or mean) over a whole signal: [rows][len] to [rows]. */
KERNEL void wm_global_pool(const float *RESTRICT x, float *RESTRICT y,
                           int rows, int len, int average)
{
    FOR_EACH(r, (idx_t)rows)
    {
        const float *xr = x + r * len;
        float acc = xr[0];
        for (int l = 1; l < len; l++)
        {
            if (average)
            {
                acc += xr[l];
            }
            else if (xr[l] > acc)
            {
                acc = xr[l];
            }
        }
        y[r] = average ? acc / (float)len : acc;
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
        idx_t o = i % out;
        idx_t b = i / out;
        const float *xr = x + b * in;
        const float *wr = w + o * in;
        float acc = bias[o];
        for (int j = 0; j < in; j++)
        {
            acc += wr[j] * xr[j];
        }
        y[i] = acc;
    }
}

/* The softmax's probability of class 1 for each row of logits. */
KERNEL void wm_class1(const float *RESTRICT logits, float *RESTRICT probs,
                      int batch, int classes)
{
    FOR_EACH(b, (idx_t)batch)
    {
        const float *z = logits + b * classes;
        float m = z[0];
        for (int c = 1; c < classes; c++)
        {
            m = z[c] > m ? z[c] : m;
        }
        float sum = 0.0f;
        for (int c = 0; c < classes; c++)
        {
            sum += expf(z[c] - m);
        }
        probs[b] = expf(z[1] - m) * (1.0f / sum);
    }
}
