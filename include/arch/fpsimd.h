/* fpsimd.h - saving and loading the FP/SIMD registers, which only user programs and guests use. */
#ifndef ARCH_FPSIMD_H
#define ARCH_FPSIMD_H

#include <stdint.h>

/** The FP/SIMD registers of a user thread or a vCPU (the kernel itself never touches them). */
struct fpsimd_state {
    uint64_t v[64]; /* q0..q31, low half first */
    uint32_t fpsr;
    uint32_t fpcr;
} __attribute__((aligned(16)));

/* fpsimd.S */
void fpsimd_save(struct fpsimd_state *st);
void fpsimd_load(const struct fpsimd_state *st);

#endif
