// Runs kernels/psf.cu on the CPU for the tests (sim/tests/kernels_host.rs):
//   psf_main IN OUT
// IN (little-endian): u32 systems, u32 bands, u32 band, u32 size, u32 separable (1: u32
// n_column, n_column f64, u32 n_row, n_row f64; 0: u32 kh, u32 kw, kh × kw f64 row-major), then
// systems × bands × size × size f32 images (system, band, row, column). OUT: the systems × bands
// f64 sums of the images as they came in (image_sums), then the images with band `band`
// convolved, as the GPU path launches the kernels.
#include "emulate.h"
#include "io.h"
#include "../psf.cu"

#include <cstdint>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: psf_main IN OUT\n");
        return 2;
    }
    FILE* in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 2;
    }
    uint32_t systems = read_one<uint32_t>(in);
    uint32_t bands = read_one<uint32_t>(in);
    uint32_t band = read_one<uint32_t>(in);
    uint32_t size = read_one<uint32_t>(in);
    uint32_t separable = read_one<uint32_t>(in);
    std::vector<double> column, row, kernel;
    uint32_t kh = 0, kw = 0;
    if (separable) {
        column = read_many<double>(in, read_one<uint32_t>(in));
        row = read_many<double>(in, read_one<uint32_t>(in));
    } else {
        kh = read_one<uint32_t>(in);
        kw = read_one<uint32_t>(in);
        kernel = read_many<double>(in, (size_t)kh * kw);
    }
    size_t pixels = (size_t)size * size;
    auto images = read_many<float>(in, systems * bands * pixels);
    std::fclose(in);

    const unsigned int threads = 128;
    auto blocks = [&](size_t n) { return (unsigned int)((n + threads - 1) / threads); };
    std::vector<double> sums(systems * bands);
    launch(blocks(sums.size()), threads, image_sums, (const float*)images.data(),
           systems * bands, (unsigned int)pixels, sums.data());
    std::vector<double> scratch(systems * pixels);
    size_t n = systems * pixels;
    if (separable) {
        launch(blocks(n), threads, convolve_rows, (const float*)images.data(), systems, bands,
               band, size, (const double*)row.data(), (unsigned int)row.size(), scratch.data());
        launch(blocks(n), threads, convolve_columns, (const double*)scratch.data(), systems,
               bands, band, size, (const double*)column.data(), (unsigned int)column.size(),
               images.data());
    } else {
        const double one = 1.0;
        launch(blocks(n), threads, convolve_full, (const float*)images.data(), systems, bands,
               band, size, (const double*)kernel.data(), kh, kw, scratch.data());
        launch(blocks(n), threads, convolve_columns, (const double*)scratch.data(), systems,
               bands, band, size, &one, 1u, images.data());
    }
    FILE* out = std::fopen(argv[2], "wb");
    if (!out) {
        std::perror(argv[2]);
        return 2;
    }
    std::fwrite(sums.data(), sizeof(double), sums.size(), out);
    std::fwrite(images.data(), sizeof(float), images.size(), out);
    return std::fclose(out) == 0 ? 0 : 2;
}
