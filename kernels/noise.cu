// The noise of observed images drawn from counter-based random numbers, operation for operation
// as the CPU draws it (sim/src/observe/philox.rs and noise.rs), so that a GPU run writes the
// CPU's noise: Philox4x32-10 keyed by the run's seed, one stream per (pixel, system, band); the
// read noise from Wichura's AS 241 normal quantile of the first word; the Poisson count by
// inversion below a mean of 10 and by Hormann's PTRS above. Compiled on its own by NVRTC with
// fused multiply-adds off (the CPU rounds every product), and by c++ in the host tests
// (kernels/host/noise_main.cpp), which compare it with the CPU bit for bit.

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

// Philox4x32 with 10 rounds: out = the four words of counter c under key k.
__device__ __forceinline__ void philox4x32(const unsigned int c_in[4], const unsigned int k_in[2],
                                           unsigned int out[4]) {
    unsigned int c0 = c_in[0], c1 = c_in[1], c2 = c_in[2], c3 = c_in[3];
    unsigned int k0 = k_in[0], k1 = k_in[1];
    for (int round = 0; round < 10; ++round) {
        if (round > 0) {
            k0 += PHILOX_W0;
            k1 += PHILOX_W1;
        }
        unsigned long long p0 = (unsigned long long)PHILOX_M0 * c0;
        unsigned long long p1 = (unsigned long long)PHILOX_M1 * c2;
        unsigned int n0 = (unsigned int)(p1 >> 32) ^ c1 ^ k0;
        unsigned int n1 = (unsigned int)p1;
        unsigned int n2 = (unsigned int)(p0 >> 32) ^ c3 ^ k1;
        unsigned int n3 = (unsigned int)p0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

// The words of one pixel: round r of the counter (pixel, r, system low word, system high bits |
// band << 24) under the seed (low word, high word), four words a round.
struct PixelStream {
    unsigned int counter[4];
    unsigned int key[2];
    unsigned int words[4];
    unsigned int next;
};

__device__ __forceinline__ void stream_start(PixelStream* s, unsigned long long seed,
                                             unsigned long long system, unsigned int band,
                                             unsigned int pixel) {
    s->counter[0] = pixel;
    s->counter[1] = 0u;
    s->counter[2] = (unsigned int)system;
    s->counter[3] = ((unsigned int)(system >> 32) & 0x00FFFFFFu) | (band << 24);
    s->key[0] = (unsigned int)seed;
    s->key[1] = (unsigned int)(seed >> 32);
    philox4x32(s->counter, s->key, s->words);
    s->next = 0u;
}

__device__ __forceinline__ double stream_uniform(PixelStream* s) {
    if (s->next == 4u) {
        s->counter[1] += 1u;
        philox4x32(s->counter, s->key, s->words);
        s->next = 0u;
    }
    unsigned int x = s->words[s->next];
    s->next += 1u;
    return ((double)x + 0.5) * (1.0 / 4294967296.0);
}

// Horner's rule, highest power first, as the CPU's `horner`.
__device__ __forceinline__ double horner8(double x, const double c[8]) {
    double acc = 0.0;
    for (int i = 0; i < 8; ++i) {
        acc = acc * x + c[i];
    }
    return acc;
}

// AS 241's central and intermediate regions (p within [2^-33, 1 - 2^-33]).
__device__ double normal_quantile(double p) {
    const double a[8] = {2.5090809287301226727e3, 3.3430575583588128105e4,
                         6.7265770927008700853e4, 4.5921953931549871457e4,
                         1.3731693765509461125e4, 1.9715909503065514427e3,
                         1.3314166789178437745e2, 3.3871328727963666080e0};
    const double b[8] = {5.2264952788528545610e3, 2.8729085735721942674e4,
                         3.9307895800092710610e4, 2.1213794301586595867e4,
                         5.3941960214247511077e3, 6.8718700749205790830e2,
                         4.2313330701600911252e1, 1.0};
    const double c[8] = {7.74545014278341407640e-4, 2.27238449892691845833e-2,
                         2.41780725177450611770e-1, 1.27045825245236838258e0,
                         3.64784832476320460504e0, 5.76949722146069140550e0,
                         4.63033784615654529590e0, 1.42343711074968357734e0};
    const double d[8] = {1.05075007164441684324e-9, 5.47593808499534494600e-4,
                         1.51986665636164571966e-2, 1.48103976427480074590e-1,
                         6.89767334985100004550e-1, 1.67638483018380384940e0,
                         2.05319162663775882187e0, 1.0};
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        return q * horner8(r, a) / horner8(r, b);
    }
    double tail = q < 0.0 ? p : 1.0 - p;
    double r = sqrt(-log(tail)) - 1.6;
    double x = horner8(r, c) / horner8(r, d);
    return q < 0.0 ? -x : x;
}

// ln(k!) for a whole k >= 0: a table below 16, else Stirling's series to its x^-19 term
// (0.9189385332046727 is ln(2 pi)/2).
__device__ double log_factorial(double k) {
    const double table[16] = {0.0,
                              0.0,
                              0.6931471805599453,
                              1.791759469228055,
                              3.1780538303479458,
                              4.787491742782046,
                              6.579251212010101,
                              8.525161361065415,
                              10.60460290274525,
                              12.801827480081469,
                              15.104412573075516,
                              17.502307845873887,
                              19.987214495661885,
                              22.552163853123425,
                              25.19122118273868,
                              27.89927138384089};
    if (k < 16.0) {
        return table[(int)k];
    }
    const double series[10] = {1.0 / 12.0,        -1.0 / 360.0,     1.0 / 1260.0,
                               -1.0 / 1680.0,     1.0 / 1188.0,     -691.0 / 360360.0,
                               1.0 / 156.0,       -3617.0 / 122400.0, 43867.0 / 244188.0,
                               -174611.0 / 125400.0};
    double x = k + 1.0;
    double x2 = 1.0 / (x * x);
    double s = series[9];
    for (int i = 8; i >= 0; --i) {
        s = s * x2 + series[i];
    }
    return s / x + 0.9189385332046727 + (x - 0.5) * log(x) - x;
}

// A Poisson count of mean `mean` (>= 0) from the stream.
__device__ double poisson(double mean, PixelStream* s) {
    if (mean <= 0.0) {
        return 0.0;
    }
    if (mean < 10.0) {
        double u = stream_uniform(s);
        double p = exp(-mean);
        double k = 0.0, cumulative = p;
        while (u > cumulative && k < 200.0) {
            k += 1.0;
            p *= mean / k;
            cumulative += p;
        }
        return k;
    }
    double b = 0.931 + 2.53 * sqrt(mean);
    double a = -0.059 + 0.02483 * b;
    double v_r = 0.9277 - 3.6224 / (b - 2.0);
    for (;;) {
        double u = stream_uniform(s) - 0.5;
        double v = stream_uniform(s);
        double us = 0.5 - fabs(u);
        double k = floor((2.0 * a / us + b) * u + mean + 0.43);
        if (us >= 0.07 && v <= v_r) {
            return k;
        }
        if (k < 0.0 || (us < 0.013 && v > us)) {
            continue;
        }
        double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        double lhs = log(v * inv_alpha / (a / (us * us) + b));
        if (lhs <= -mean + k * log(mean) - log_factorial(k)) {
            return k;
        }
    }
}

// Adds the noise of a stacked exposure to `n_images` noise-free images (e-/s per pixel) of
// `pixels` pixels each, in place: image i is band `band` of system `systems[i]`. One thread per
// pixel. With `read_sigma` < 0 only the photon noise of the image's own flux is drawn (flux
// added to a real cutout): the pixel becomes Poisson(max(v, 0) T) / T.
extern "C" __global__ void add_noise(float* images, unsigned int pixels, unsigned int n_images,
                                     const unsigned long long* systems, unsigned int band,
                                     unsigned long long seed, double total_time,
                                     double background, double read_sigma) {
    unsigned long long i = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (unsigned long long)pixels * n_images) {
        return;
    }
    unsigned int image = (unsigned int)(i / pixels);
    unsigned int pixel = (unsigned int)(i % pixels);
    PixelStream s;
    stream_start(&s, seed, systems[image], band, pixel);
    double v = (double)images[i];
    double flux = v > 0.0 ? v : 0.0;
    if (read_sigma < 0.0) {
        images[i] = (float)(poisson(flux * total_time, &s) / total_time);
        return;
    }
    double read = read_sigma * normal_quantile(stream_uniform(&s));
    double counts = poisson(flux * total_time + background, &s);
    images[i] = (float)((counts + read - background) / total_time);
}
