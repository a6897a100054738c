// Runs kernels/mass.cu's kernels on the CPU for the tests (sim/tests/kernels_host.rs):
//   mass_main IN OUT
// IN (little-endian): u32 mode (0: deflect_points, 1: deflect_grid, 2: count_images); u32
// n_components and the components (36 bytes each, sim::raytrace::gpu::GpuMass); u32 n_systems
// and n_systems + 1 u32 `first`; then for mode 0 u32 n_points, n_points f32 x, n_points f32 y;
// for mode 1 u32 size, f32 pixel_scale, u32 supersample; for mode 2 2 n_systems f64 beta, u32 n,
// f64 half_width, u32 strip, u64 threads. OUT: the f32 alpha_x of every output, then every alpha_y; for
// mode 2 the u32 count of every system.
#include "emulate.h"
#include "io.h"
#include "../mass.cu"

#include <cstdint>

static_assert(sizeof(MassComponent) == 36, "MassComponent must match GpuMass (36 bytes)");

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: mass_main IN OUT\n");
        return 2;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 2;
    }
    uint32_t mode = read_one<uint32_t>(in);
    uint32_t n_components = read_one<uint32_t>(in);
    auto components = read_many<MassComponent>(in, n_components);
    uint32_t n_systems = read_one<uint32_t>(in);
    auto first = read_many<uint32_t>(in, n_systems + 1);
    const unsigned int threads = 128;
    std::vector<float> ax, ay;
    if (mode == 0) {
        uint32_t n_points = read_one<uint32_t>(in);
        auto x = read_many<float>(in, n_points);
        auto y = read_many<float>(in, n_points);
        size_t n = (size_t)n_systems * n_points;
        ax.assign(n, NAN);
        ay.assign(n, NAN);
        launch((unsigned int)((n + threads - 1) / threads), threads, deflect_points,
               components.data(), first.data(), n_systems, x.data(), y.data(), n_points,
               ax.data(), ay.data());
    } else if (mode == 2) {
        auto beta = read_many<double>(in, 2 * (size_t)n_systems);
        uint32_t n = read_one<uint32_t>(in);
        double half_width = read_one<double>(in);
        uint32_t strip = read_one<uint32_t>(in);
        // the launch's size as the Rust launcher computes it (raytrace::gpu::image_count_threads)
        uint64_t work = read_one<uint64_t>(in);
        std::fclose(in);
        std::vector<uint32_t> counts(n_systems, 0);
        launch((unsigned int)((work + threads - 1) / threads), threads, count_images,
               components.data(), first.data(), n_systems, beta.data(), n, half_width, strip,
               counts.data());
        FILE* out = std::fopen(argv[2], "wb");
        if (!out) {
            std::perror(argv[2]);
            return 2;
        }
        std::fwrite(counts.data(), sizeof(uint32_t), counts.size(), out);
        return std::fclose(out) == 0 ? 0 : 2;
    } else {
        uint32_t size = read_one<uint32_t>(in);
        float scale = read_one<float>(in);
        uint32_t supersample = read_one<uint32_t>(in);
        size_t side = (size_t)size * supersample;
        size_t n = (size_t)n_systems * side * side;
        ax.assign(n, NAN);
        ay.assign(n, NAN);
        launch((unsigned int)((n + threads - 1) / threads), threads, deflect_grid,
               components.data(), first.data(), n_systems, size, scale, supersample, ax.data(),
               ay.data());
    }
    std::fclose(in);
    return write_pair(argv[2], ax, ay) ? 0 : 2;
}
