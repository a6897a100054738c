// Deflection by every mass profile of the simulator, in single precision, batched over many
// lens systems per launch. Compiled at run time by NVRTC (cudarc), and as plain C++ by the
// tests through kernels/host/emulate.h, which compare it with the CPU path (sim/src/mass).
//
// The formulas are those of sim/src/mass/*.rs (lenstronomy's conventions): angles in arcsec,
// each profile evaluated in its own frame (centre (x0, y0), major axis at angle phi) and the
// deflection rotated back to the sky. The single-precision forms follow the CPU's lane-parallel
// path (`deflection_lanes`): NFW's g(x) through atanh(w)/w and atan(w)/w with a cancellation-free
// form below x = 0.9, NIE's atanh through log1p.

// One mass component, laid out as `sim::raytrace::gpu::GpuMass` (#[repr(C)], 36 bytes).
//   kind MASS_SIE:   p0 = b = theta_E sqrt(q), p1 = q
//   kind MASS_TESIS: p0 = b, p1 = q, p2 = s = r_trunc / sqrt(q)   (NIE(b, 0, q) - NIE(b, s, q))
//   kind MASS_NFW:   p0 = r_s, p1 = kappa_s, p2 = 1 - e, p3 = 1 + e (elliptical potential)
//   kind MASS_SHEAR: p0 = gamma_1, p1 = gamma_2 (about the optical axis)
//   kind MASS_POINT: p0 = theta_E^2
struct MassComponent {
    unsigned int kind;
    float x0, y0, cos_phi, sin_phi;
    float p0, p1, p2, p3;
};

#define MASS_SIE 0u
#define MASS_TESIS 1u
#define MASS_NFW 2u
#define MASS_SHEAR 3u
#define MASS_POINT 4u

// Below this 1 - q^2 the NIE is taken as round (its x/sqrt form), as on the CPU's f32 path.
#define NIE_ROUND_Q 0.999f
// NFW's x is kept at or above this, as on the CPU.
#define NFW_X_MIN 1e-12f

// atanh(z)/z for |z| < 1, continuous through 0 (series below |z| = 0.1).
__device__ __forceinline__ float atanh_over(float z) {
    float z2 = z * z;
    if (z2 < 0.01f) {
        return 1.0f + z2 * (1.0f / 3.0f + z2 * (0.2f + z2 * (1.0f / 7.0f + z2 * (1.0f / 9.0f))));
    }
    float a = fabsf(z);
    return 0.5f * log1pf((a + a) / (1.0f - a)) / a;
}

// atan(v)/v, continuous through 0 (series below |v| = 0.1).
__device__ __forceinline__ float atan_over(float v) {
    float v2 = v * v;
    if (v2 < 0.01f) {
        return 1.0f - v2 * (1.0f / 3.0f - v2 * (0.2f - v2 * (1.0f / 7.0f - v2 * (1.0f / 9.0f))));
    }
    return atanf(v) / v;
}

// The non-singular isothermal ellipsoid's deflection in its own frame (Keeton 2001; the
// CPU's `nie_deflection_lanes`): b the scale, s the core, q the axis ratio.
__device__ __forceinline__ void nie_deflection(float x, float y, float b, float s, float q,
                                               float* ax, float* ay) {
    float q2 = q * q;
    float psi = sqrtf(q2 * (s * s + x * x) + y * y);
    if (psi == 0.0f) {
        *ax = 0.0f;
        *ay = 0.0f;
        return;
    }
    float u = sqrtf(fmaxf(1.0f - q2, 0.0f));
    float d = psi + s;
    float e = psi + q2 * s;
    if (q < NIE_ROUND_Q) {
        float tx = u * x / d;
        float ty = u * y / e;
        float at = fabsf(ty);
        float h = 0.5f * log1pf((at + at) / (1.0f - at));
        *ax = b / u * atanf(tx);
        *ay = b / u * (ty < 0.0f ? -h : h);
    } else {
        float tx = x / d;
        float ty = y / e;
        *ax = b * tx * atan_over(u * tx);
        *ay = b * ty * atanh_over(u * ty);
    }
}

// NFW's g(x) = ln(x/2) + C(x) in single precision (the CPU's `nfw_g_lanes`).
__device__ __forceinline__ float nfw_g(float x) {
    float x2 = x * x;
    float s = 1.0f - x2;
    if (x < 0.9f) {
        // Cancellation-free for small x: ln(x/2) + atanh(w)/w with w = sqrt(1 - x^2) rewritten.
        float w = sqrtf(fmaxf(s, 0.0f));
        float opw = 1.0f + w;
        float t = x2 / (w * opw);
        return -logf(x) * t + log1pf(-(0.5f * x2) / opw) / w + 0.69314718f * t;
    }
    float c = s > 0.0f ? atanh_over(sqrtf(s)) : atan_over(sqrtf(fmaxf(-s, 0.0f)));
    return logf(0.5f * x) + c;
}

// The deflection (arcsec) of one component at sky position (x, y) (arcsec), added to (ax, ay).
__device__ __forceinline__ void add_deflection(const MassComponent* m, float x, float y,
                                               float* ax, float* ay) {
    if (m->kind == MASS_SHEAR) {
        *ax += m->p0 * x + m->p1 * y;
        *ay += m->p1 * x - m->p0 * y;
        return;
    }
    float dx = x - m->x0;
    float dy = y - m->y0;
    if (m->kind == MASS_POINT) {
        float r2 = dx * dx + dy * dy;
        if (r2 > 0.0f) {
            *ax += m->p0 * dx / r2;
            *ay += m->p0 * dy / r2;
        }
        return;
    }
    float c = m->cos_phi;
    float sn = m->sin_phi;
    float xl = c * dx + sn * dy;
    float yl = c * dy - sn * dx;
    float lx = 0.0f;
    float ly = 0.0f;
    if (m->kind == MASS_SIE) {
        nie_deflection(xl, yl, m->p0, 0.0f, m->p1, &lx, &ly);
    } else if (m->kind == MASS_TESIS) {
        float cx, cy;
        nie_deflection(xl, yl, m->p0, 0.0f, m->p1, &lx, &ly);
        nie_deflection(xl, yl, m->p0, m->p2, m->p1, &cx, &cy);
        lx -= cx;
        ly -= cy;
    } else if (m->kind == MASS_NFW) {
        // alpha = kappa_bar(R) grad(R^2 / 2) with R^2 = (1 - e) x^2 + (1 + e) y^2.
        float sx = m->p2 * xl;
        float sy = m->p3 * yl;
        float r = sqrtf(xl * sx + yl * sy);
        if (r == 0.0f) {
            return;
        }
        float xs = fmaxf(r / m->p0, NFW_X_MIN);
        float kb = 4.0f * m->p1 * nfw_g(xs) / (xs * xs);
        lx = kb * sx;
        ly = kb * sy;
    }
    *ax += c * lx - sn * ly;
    *ay += sn * lx + c * ly;
}

// The deflection of system s's components [first[s], first[s + 1]) at (x, y).
__device__ __forceinline__ void system_deflection(const MassComponent* components,
                                                  const unsigned int* first, unsigned int s,
                                                  float x, float y, float* ax, float* ay) {
    *ax = 0.0f;
    *ay = 0.0f;
    for (unsigned int k = first[s]; k < first[s + 1]; ++k) {
        add_deflection(&components[k], x, y, ax, ay);
    }
}

// Deflections at n_points given points, for every one of n_systems systems: output index
// s * n_points + p. One thread per (system, point).
extern "C" __global__ void deflect_points(const MassComponent* components,
                                          const unsigned int* first, unsigned int n_systems,
                                          const float* x, const float* y, unsigned int n_points,
                                          float* ax, float* ay) {
    unsigned long long id = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= (unsigned long long)n_systems * n_points) {
        return;
    }
    unsigned int s = (unsigned int)(id / n_points);
    unsigned int p = (unsigned int)(id % n_points);
    system_deflection(components, first, s, x[p], y[p], &ax[id], &ay[id]);
}

// The ray shooter's hot loop: deflections on every system's supersampled pixel grid, the grid
// of sim::raytrace::Grid (size x size pixels of pixel_scale arcsec, f = supersample sub-pixels
// a side). A system's rays run row-major over the (size f)^2 sub-pixels: sub-row R, sub-column
// C; the pixel is (R / f, C / f), the sub-pixel (R % f, C % f), and the ray's position is
// x = (C / f - (size - 1) / 2) pixel_scale + ((C % f + 1/2) / f - 1/2) pixel_scale, y likewise
// from R. Output index s * (size f)^2 + R (size f) + C. One thread per (system, ray).
extern "C" __global__ void deflect_grid(const MassComponent* components,
                                        const unsigned int* first, unsigned int n_systems,
                                        unsigned int size, float pixel_scale,
                                        unsigned int supersample, float* ax, float* ay) {
    unsigned int side = size * supersample;
    unsigned long long rays = (unsigned long long)side * side;
    unsigned long long id = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= (unsigned long long)n_systems * rays) {
        return;
    }
    unsigned int s = (unsigned int)(id / rays);
    unsigned int r = (unsigned int)(id % rays);
    unsigned int row = r / side;
    unsigned int col = r % side;
    float f = (float)supersample;
    float half = 0.5f * ((float)size - 1.0f);
    float x = ((float)(col / supersample) - half) * pixel_scale +
              (((float)(col % supersample) + 0.5f) / f - 0.5f) * pixel_scale;
    float y = ((float)(row / supersample) - half) * pixel_scale +
              (((float)(row % supersample) + 0.5f) / f - 0.5f) * pixel_scale;
    system_deflection(components, first, s, x, y, &ax[id], &ay[id]);
}

// The images of each system's source-plane point beta[s] = (beta[2s], beta[2s + 1]) (arcsec),
// counted as sim::caustics::count_images counts them: an n x n grid of nodes over the square of
// half-side half_width (node k at -half_width + (k + 1/2) 2 half_width / n, in double, rounded
// to float), each cell split into the triangles (p00, p01, p11) and (p00, p11, p10), mapped
// through beta = theta - alpha (in float, then in double relative to beta); a mapped triangle
// that contains beta, with an area below 100 half-cells (an image above |mu| = 0.01), holds one
// image. counts[s] (zeroed by the caller) gains the images of system s's cells. One thread per
// (system, row of cells, strip of `strip` cells along the row): it deflects the strip's left
// edge once and then each cell's right edge, 2 + 2 strip deflections for `strip` cells
// instead of 4 a cell.
__device__ __forceinline__ void mapped_node(const MassComponent* components,
                                            const unsigned int* first, unsigned int s,
                                            const double* beta, unsigned int n,
                                            double half_width, unsigned int row,
                                            unsigned int col, double p[2]) {
    // Each expression in the CPU's order of operations, so that both round alike.
    float y = (float)(-half_width + ((double)row + 0.5) * 2.0 * half_width / (double)n);
    float x = (float)(-half_width + ((double)col + 0.5) * 2.0 * half_width / (double)n);
    float ax, ay;
    system_deflection(components, first, s, x, y, &ax, &ay);
    float bx = x - ax;
    float by = y - ay;
    p[0] = (double)bx - beta[2 * s];
    p[1] = (double)by - beta[2 * s + 1];
}

// 1 if the triangle (a, b, q), relative to beta, contains beta and is smaller than max_area.
__device__ __forceinline__ unsigned int holds_image(const double* a, const double* b,
                                                    const double* q, double max_area) {
    double area = 0.5 * fabs((b[0] - a[0]) * (q[1] - a[1]) - (q[0] - a[0]) * (b[1] - a[1]));
    double d1 = a[0] * b[1] - a[1] * b[0];
    double d2 = b[0] * q[1] - b[1] * q[0];
    double d3 = q[0] * a[1] - q[1] * a[0];
    bool inside = (d1 >= 0.0 && d2 >= 0.0 && d3 >= 0.0) || (d1 <= 0.0 && d2 <= 0.0 && d3 <= 0.0);
    return (inside && area < max_area) ? 1u : 0u;
}

extern "C" __global__ void count_images(const MassComponent* components,
                                        const unsigned int* first, unsigned int n_systems,
                                        const double* beta, unsigned int n, double half_width,
                                        unsigned int strip, unsigned int* counts) {
    if (n < 2 || strip == 0) {
        return;
    }
    unsigned long long strips = (n - 2) / strip + 1;
    unsigned long long per_system = (unsigned long long)(n - 1) * strips;
    unsigned long long id = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (id >= (unsigned long long)n_systems * per_system) {
        return;
    }
    unsigned int s = (unsigned int)(id / per_system);
    unsigned int r = (unsigned int)(id % per_system);
    unsigned int i = r / (unsigned int)strips;
    unsigned int j0 = (r % (unsigned int)strips) * strip;
    unsigned int j_end = j0 + strip < n - 1 ? j0 + strip : n - 1;
    double width = 2.0 * half_width / (double)n;
    double cell = width * width / 2.0;
    double max_area = 100.0 * cell;
    // The corners p[di][dj] of cell (i, j) at row i + di and column j + dj, relative to beta:
    // the left column carried over from the previous cell.
    double p[2][2][2];
    mapped_node(components, first, s, beta, n, half_width, i, j0, p[0][0]);
    mapped_node(components, first, s, beta, n, half_width, i + 1, j0, p[1][0]);
    unsigned int k = 0;
    for (unsigned int j = j0; j < j_end; ++j) {
        mapped_node(components, first, s, beta, n, half_width, i, j + 1, p[0][1]);
        mapped_node(components, first, s, beta, n, half_width, i + 1, j + 1, p[1][1]);
        k += holds_image(p[0][0], p[0][1], p[1][1], max_area);
        k += holds_image(p[0][0], p[1][1], p[1][0], max_area);
        for (unsigned int di = 0; di < 2; ++di) {
            p[di][0][0] = p[di][1][0];
            p[di][0][1] = p[di][1][1];
        }
    }
    if (k > 0) {
        atomicAdd(&counts[s], k);
    }
}
