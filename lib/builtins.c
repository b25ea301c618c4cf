/* builtins.c - helpers the compiler calls for some builtins, written for general registers only.
 *
 * libgcc's __popcountdi2 counts with SIMD instructions (CNT on a V register). The kernel never
 * touches FP/SIMD: those registers belong to user programs and guests (the hypervisor even
 * traps them, CPTR_EL2.TFP, to switch them lazily). Defining the helper here keeps libgcc's out.
 */

int __popcountdi2(long long x);

int __popcountdi2(long long x)
{
    unsigned long long v = (unsigned long long)x;

    v = v - ((v >> 1) & 0x5555555555555555ULL);
    v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
    v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (int)((v * 0x0101010101010101ULL) >> 56);
}
