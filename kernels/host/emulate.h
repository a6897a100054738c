// CUDA's kernel vocabulary for a plain C++ compiler, so that the tests can compile a kernel
// source with g++ and run its kernels on the CPU, one (block, thread) at a time, against the
// simulator's Rust path. Only what kernels/*.cu use is here.
#pragma once
#include <cmath>

#define __global__
#define __device__
#define __forceinline__ inline

struct EmulatedDim3 {
    unsigned int x, y, z;
};

// The launch position the kernel reads; `launch` below sets it before every call.
static EmulatedDim3 blockIdx, threadIdx, blockDim, gridDim;

// Runs `kernel(args...)` for every (block, thread) of a one-dimensional launch, in order.
template <typename Kernel, typename... Args>
void launch(unsigned int blocks, unsigned int threads, Kernel kernel, Args... args) {
    gridDim = {blocks, 1, 1};
    blockDim = {threads, 1, 1};
    for (unsigned int b = 0; b < blocks; ++b) {
        for (unsigned int t = 0; t < threads; ++t) {
            blockIdx = {b, 0, 0};
            threadIdx = {t, 0, 0};
            kernel(args...);
        }
    }
}

// One thread at a time: an atomic add is a plain one.
inline unsigned int atomicAdd(unsigned int* address, unsigned int value) {
    unsigned int old = *address;
    *address = old + value;
    return old;
}
