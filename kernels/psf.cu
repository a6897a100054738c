// PSF convolution of rendered images on the GPU, operation for operation as the CPU convolves
// them (sim/src/observe/convolve.rs), so that the PSF can be applied where the images were
// rendered and they cross to the host once. Images are float, (system, band, row, column) as
// kernels/light.cu's render_grid writes them; one band is convolved at a time through a double
// buffer of (system, row, column).
//
// A separable kernel (column ⊗ row) is applied as the CPU applies it: along rows into doubles,
// each output the sum from 0 over the row's taps in order of the products tap × pixel, then
// along columns in the same way, rounded to float once. Compiled with fused multiply-adds off
// (as the CPU rounds every product), this gives the CPU's floats bit for bit. Any other kernel
// is summed directly in double (the CPU takes an FFT: the two agree to the rounding of the
// float result). The sum of each ideal source image, for the effective magnification, is taken
// before convolution in row-major order from −0, as the CPU's f64 sum. Compiled by NVRTC with
// fmad off, and by c++ in the host tests (kernels/host/psf_main.cpp).

// The pixel a thread of a launch over `systems` images of size × size computes: its system s,
// row i and column j, and t, its index in (system, row, column) order; false past the end.
struct PixelOf {
    unsigned long long t;
    unsigned int s, i, j;
};
__device__ __forceinline__ bool pixel_of(unsigned int systems, unsigned int size, PixelOf* p) {
    unsigned long long t = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    unsigned long long pixels = (unsigned long long)size * size;
    if (t >= (unsigned long long)systems * pixels) return false;
    p->t = t;
    p->s = (unsigned int)(t / pixels);
    p->i = (unsigned int)((t % pixels) / size);
    p->j = (unsigned int)(t % size);
    return true;
}

// The flux of every (system, band) image of `images` (n_images of `pixels` floats each):
// sums[i] = −0 + images[i·pixels] + … in order, in double.
__global__ void image_sums(const float* images, unsigned int n_images, unsigned int pixels,
                           double* sums) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n_images) return;
    const float* image = images + (unsigned long long)i * pixels;
    double sum = -0.0;
    for (unsigned int p = 0; p < pixels; ++p) sum += (double)image[p];
    sums[i] = sum;
}

// Along rows: out[(s·size + i)·size + j] = Σ_b row[b]·img(i, j + n_row/2 − b) over the taps b
// whose column is inside the image, in order of b, from 0, where img is band `band` of
// system s in `images` (`bands` bands a system, `size` × `size` pixels).
__global__ void convolve_rows(const float* images, unsigned int systems, unsigned int bands,
                              unsigned int band, unsigned int size, const double* row,
                              unsigned int n_row, double* out) {
    PixelOf p;
    if (!pixel_of(systems, size, &p)) return;
    unsigned long long t = p.t;
    unsigned int s = p.s, i = p.i, j = p.j;
    const float* src = images + (((unsigned long long)s * bands + band) * size + i) * size;
    int half = (int)(n_row / 2);
    double acc = 0.0;
    for (unsigned int b = 0; b < n_row; ++b) {
        int jj = (int)j + half - (int)b;
        if (jj >= 0 && jj < (int)size) acc += row[b] * (double)src[jj];
    }
    out[t] = acc;
}

// Along columns: band `band` of system s in `images` becomes the float of
// Σ_a column[a]·in[(s·size + i + n_column/2 − a)·size + j] over the taps a whose row is inside
// the image, in order of a, from 0. With one tap of 1 it is `in` rounded to float.
__global__ void convolve_columns(const double* in, unsigned int systems, unsigned int bands,
                                 unsigned int band, unsigned int size, const double* column,
                                 unsigned int n_column, float* images) {
    PixelOf p;
    if (!pixel_of(systems, size, &p)) return;
    unsigned long long pixels = (unsigned long long)size * size;
    unsigned int s = p.s, i = p.i, j = p.j;
    const double* src = in + (unsigned long long)s * pixels;
    int half = (int)(n_column / 2);
    double acc = 0.0;
    for (unsigned int a = 0; a < n_column; ++a) {
        int r = (int)i + half - (int)a;
        if (r >= 0 && r < (int)size) acc += column[a] * src[(unsigned long long)r * size + j];
    }
    images[(((unsigned long long)s * bands + band) * size + i) * size + j] = (float)acc;
}

// A whole kernel (kh × kw, row-major): out[(s·size + i)·size + j] = Σ_ab k(a, b)·
// img(i + kh/2 − a, j + kw/2 − b) over the taps inside the image, in order of a then b, from 0.
__global__ void convolve_full(const float* images, unsigned int systems, unsigned int bands,
                              unsigned int band, unsigned int size, const double* kernel,
                              unsigned int kh, unsigned int kw, double* out) {
    PixelOf p;
    if (!pixel_of(systems, size, &p)) return;
    unsigned long long t = p.t, pixels = (unsigned long long)size * size;
    unsigned int s = p.s, i = p.i, j = p.j;
    const float* src = images + ((unsigned long long)s * bands + band) * pixels;
    int ci = (int)(kh / 2), cj = (int)(kw / 2);
    double acc = 0.0;
    for (unsigned int a = 0; a < kh; ++a) {
        int r = (int)i + ci - (int)a;
        if (r < 0 || r >= (int)size) continue;
        for (unsigned int b = 0; b < kw; ++b) {
            int c = (int)j + cj - (int)b;
            if (c >= 0 && c < (int)size)
                acc += kernel[a * kw + b] * (double)src[(unsigned long long)r * size + c];
        }
    }
    out[t] = acc;
}
