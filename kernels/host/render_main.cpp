// Runs kernels/light.cu's render_grid on the CPU for the tests (sim/tests/kernels_host.rs):
//   render_main IN OUT
// IN (little-endian): u32 n_components, the mass components (36 bytes each), u32 n_systems,
// n_systems + 1 u32 `first`; u32 n_lens_lights, the lens lights (56 bytes each,
// sim::raytrace::gpu::GpuLight), n_systems + 1 u32 `lens_first`; the same for the source; u32
// n_fluxes and the f32 fluxes; u32 n_bands, u32 size, f32 pixel_scale, u32 supersample.
// OUT: every f32 of the lens images, then of the source images (system, band, row, column).
#include "emulate.h"
#include "io.h"
#include "../mass.cu"
#include "../light.cu"

#include <cstdint>

static_assert(sizeof(LightComponent) == 56, "LightComponent must match GpuLight (56 bytes)");

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: render_main IN OUT\n");
        return 2;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 2;
    }
    auto components = read_many<MassComponent>(in, read_one<uint32_t>(in));
    uint32_t n_systems = read_one<uint32_t>(in);
    auto first = read_many<uint32_t>(in, n_systems + 1);
    auto lens_lights = read_many<LightComponent>(in, read_one<uint32_t>(in));
    auto lens_first = read_many<uint32_t>(in, n_systems + 1);
    auto source_lights = read_many<LightComponent>(in, read_one<uint32_t>(in));
    auto source_first = read_many<uint32_t>(in, n_systems + 1);
    auto fluxes = read_many<float>(in, read_one<uint32_t>(in));
    uint32_t n_bands = read_one<uint32_t>(in);
    uint32_t size = read_one<uint32_t>(in);
    float scale = read_one<float>(in);
    uint32_t supersample = read_one<uint32_t>(in);
    std::fclose(in);
    size_t n = (size_t)n_systems * n_bands * size * size;
    std::vector<float> lens(n, NAN), source(n, NAN);
    const unsigned int threads = 128;
    size_t pixels = (size_t)n_systems * size * size;
    launch((unsigned int)((pixels + threads - 1) / threads), threads, render_grid,
           components.data(), first.data(), lens_lights.data(), lens_first.data(),
           source_lights.data(), source_first.data(), fluxes.data(), n_systems, n_bands, size,
           scale, supersample, lens.data(), source.data());
    return write_pair(argv[2], lens, source) ? 0 : 2;
}
