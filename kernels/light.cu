// Surface brightness of the light profiles of sim/src/light, in single precision, and the
// renderer: every system's lens light and lensed source integrated over supersampled pixels in
// several bands at once. Included after mass.cu (NVRTC compiles the two as one source).
//
// A light component of the CPU becomes one or more elementary profiles: a Sersic, an inclined
// spiral disc, or a circular Gaussian (a clumpy source is its Sersic body plus one Gaussian per
// knot, all sharing its fluxes). Each carries its weight folded into i0 and the index of its
// fluxes (one per band) in the flux table.

// One elementary light profile, laid out as `sim::raytrace::gpu::GpuLight` (#[repr(C)], 56
// bytes): the unit-flux brightness (arcsec^-2) times the weight is
//   LIGHT_SERSIC:   i0 exp(-b (r^2)^(1/2n)), r^2 = (q x^2 + y^2/q) / r_eff^2 in its frame;
//                   p = [q, 1/r_eff^2, 1/(2n), b, i0, r^2 beyond which it is 0 (exp(-30))]
//   LIGHT_DISC:     i0 exp(-r_d) (1 + A cos(m (theta - ln(r_d) / tan(pitch) - phase))), with
//                   (x, y / cos i) the disc-plane position, r_d its radius over h, theta its angle;
//                   p = [1/h, 1/cos i, m, 1/tan(pitch), A, phase, i0]
//   LIGHT_GAUSSIAN: i0 exp(-((x - x0)^2 + (y - y0)^2) p0), p = [1/(2 sigma^2), i0]
struct LightComponent {
    unsigned int kind;
    unsigned int flux;
    float x0, y0, cos_phi, sin_phi;
    float p[8];
};

#define LIGHT_SERSIC 0u
#define LIGHT_DISC 1u
#define LIGHT_GAUSSIAN 2u

// The most bands rendered together (those sharing one pixel grid).
#define MAX_BANDS 8

__device__ __forceinline__ float unit_brightness(const LightComponent* l, float x, float y) {
    float dx = x - l->x0;
    float dy = y - l->y0;
    if (l->kind == LIGHT_GAUSSIAN) {
        return l->p[1] * expf(-(dx * dx + dy * dy) * l->p[0]);
    }
    float c = l->cos_phi;
    float s = l->sin_phi;
    float xl = c * dx + s * dy;
    float yl = c * dy - s * dx;
    if (l->kind == LIGHT_SERSIC) {
        float r2 = (l->p[0] * xl * xl + yl * yl / l->p[0]) * l->p[1];
        if (r2 > l->p[5]) {
            return 0.0f;
        }
        float pw = expf(l->p[2] * logf(fmaxf(r2, 1.17549435e-38f)));
        return l->p[4] * expf(-l->p[3] * pw);
    }
    // LIGHT_DISC
    float yd = yl * l->p[1];
    float rd = sqrtf(xl * xl + yd * yd) * l->p[0];
    float base = l->p[6] * expf(-rd);
    if (l->p[4] == 0.0f || rd == 0.0f) {
        return base;
    }
    float theta = atan2f(yd, xl);
    float arm = cosf(l->p[2] * (theta - logf(rd) * l->p[3] - l->p[5]));
    return base * (1.0f + l->p[4] * arm);
}

// Every system's lens light and lensed source on its supersampled pixel grid (the grid of
// deflect_grid), in n_bands bands (<= MAX_BANDS): pixel (i, j) is the mean brightness of its
// f x f sub-pixels times the pixel area, e-/s. System s's lens-light profiles are
// lens_lights[lens_first[s] .. lens_first[s + 1]], its source's source_lights[source_first[s]
// .. source_first[s + 1]]; profile l's flux in band b is fluxes[l.flux + b]. Outputs, index
// ((s n_bands + b) size + i) size + j: lens[] and source[]. One thread per (system, pixel).
extern "C" __global__ void render_grid(const MassComponent* components, const unsigned int* first,
                                       const LightComponent* lens_lights,
                                       const unsigned int* lens_first,
                                       const LightComponent* source_lights,
                                       const unsigned int* source_first, const float* fluxes,
                                       unsigned int n_systems, unsigned int n_bands,
                                       unsigned int size, float pixel_scale,
                                       unsigned int supersample, float* lens, float* source) {
    unsigned long long pixels = (unsigned long long)size * size;
    unsigned long long id = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= (unsigned long long)n_systems * pixels || n_bands > MAX_BANDS) {
        return;
    }
    unsigned int s = (unsigned int)(id / pixels);
    unsigned int pixel = (unsigned int)(id % pixels);
    unsigned int i = pixel / size;
    unsigned int j = pixel % size;
    float half = 0.5f * ((float)size - 1.0f);
    float f = (float)supersample;
    float xc = ((float)j - half) * pixel_scale;
    float yc = ((float)i - half) * pixel_scale;
    float sum_lens[MAX_BANDS];
    float sum_source[MAX_BANDS];
    for (unsigned int b = 0; b < n_bands; ++b) {
        sum_lens[b] = 0.0f;
        sum_source[b] = 0.0f;
    }
    for (unsigned int u = 0; u < supersample; ++u) {
        float y = yc + (((float)u + 0.5f) / f - 0.5f) * pixel_scale;
        for (unsigned int v = 0; v < supersample; ++v) {
            float x = xc + (((float)v + 0.5f) / f - 0.5f) * pixel_scale;
            float ax, ay;
            system_deflection(components, first, s, x, y, &ax, &ay);
            float bx = x - ax;
            float by = y - ay;
            for (unsigned int k = source_first[s]; k < source_first[s + 1]; ++k) {
                float w = unit_brightness(&source_lights[k], bx, by);
                for (unsigned int b = 0; b < n_bands; ++b) {
                    sum_source[b] += fluxes[source_lights[k].flux + b] * w;
                }
            }
            for (unsigned int k = lens_first[s]; k < lens_first[s + 1]; ++k) {
                float w = unit_brightness(&lens_lights[k], x, y);
                for (unsigned int b = 0; b < n_bands; ++b) {
                    sum_lens[b] += fluxes[lens_lights[k].flux + b] * w;
                }
            }
        }
    }
    float norm = pixel_scale * pixel_scale / (f * f);
    for (unsigned int b = 0; b < n_bands; ++b) {
        unsigned long long out = ((unsigned long long)s * n_bands + b) * pixels + pixel;
        lens[out] = sum_lens[b] * norm;
        source[out] = sum_source[b] * norm;
    }
}
