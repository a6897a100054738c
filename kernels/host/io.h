// Reading the tests' binary inputs (little-endian, as the machine) for the host harnesses.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <vector>

template <typename T>
static T read_one(FILE* f) {
    T v;
    if (std::fread(&v, sizeof(T), 1, f) != 1) {
        std::fprintf(stderr, "harness: input ends early\n");
        std::exit(2);
    }
    return v;
}

template <typename T>
static std::vector<T> read_many(FILE* f, size_t n) {
    std::vector<T> v(n);
    if (n > 0 && std::fread(v.data(), sizeof(T), n, f) != n) {
        std::fprintf(stderr, "harness: input ends early\n");
        std::exit(2);
    }
    return v;
}

// Writes every float of `a`, then of `b`, to the file `path`; false on failure.
inline bool write_pair(const char* path, const std::vector<float>& a, const std::vector<float>& b) {
    FILE* out = std::fopen(path, "wb");
    if (!out) {
        std::perror(path);
        return false;
    }
    std::fwrite(a.data(), sizeof(float), a.size(), out);
    std::fwrite(b.data(), sizeof(float), b.size(), out);
    return std::fclose(out) == 0;
}

// Writes every float of `a` to the file `path`; false on failure.
inline bool write_floats(const char* path, const std::vector<float>& a) {
    FILE* out = std::fopen(path, "wb");
    if (!out) {
        std::perror(path);
        return false;
    }
    std::fwrite(a.data(), sizeof(float), a.size(), out);
    return std::fclose(out) == 0;
}
