// Runs kernels/noise.cu's add_noise on the CPU for the tests (sim/tests/kernels_host.rs):
//   noise_main IN OUT
// IN (little-endian): u64 seed, u32 band, u32 pixels, u32 n_images, n_images u64 systems,
// f64 total_time, f64 background, f64 read_sigma (< 0: photon noise of the image's flux alone),
// then pixels × n_images f32 noise-free values. OUT: the noisy f32 values, in the same order.
#include "emulate.h"
#include "io.h"
#include "../noise.cu"

#include <cstdint>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: noise_main IN OUT\n");
        return 2;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 2;
    }
    uint64_t seed = read_one<uint64_t>(in);
    uint32_t band = read_one<uint32_t>(in);
    uint32_t pixels = read_one<uint32_t>(in);
    uint32_t n_images = read_one<uint32_t>(in);
    auto systems = read_many<unsigned long long>(in, n_images);
    double total_time = read_one<double>(in);
    double background = read_one<double>(in);
    double read_sigma = read_one<double>(in);
    auto images = read_many<float>(in, (size_t)pixels * n_images);
    std::fclose(in);
    const unsigned int threads = 128;
    size_t n = (size_t)pixels * n_images;
    launch((unsigned int)((n + threads - 1) / threads), threads, add_noise, images.data(), pixels,
           n_images, systems.data(), band, (unsigned long long)seed, total_time, background,
           read_sigma);
    return write_floats(argv[2], images) ? 0 : 2;
}
