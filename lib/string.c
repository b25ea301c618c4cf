/* string.c - freestanding memory and string helpers for the kernel build. */
#include <stdint.h>

#include "lib/string.h"

/*
 * Unaligned 8-byte accesses: AArch64 allows them on Normal memory while SCTLR_ELx.A is clear (Arm
 * ARM B2.5.2), as Avatar runs, and these functions never touch Device memory. may_alias keeps the
 * compiler from assuming the object is a uint64_t.
 */
typedef uint64_t __attribute__((may_alias, aligned(1))) unaligned_u64;

/*
 * 64 bytes per iteration whatever the alignment: pages from the block cache (the compiler pairs
 * the words into LDP/STP, about 0.2 instructions a byte) and frames at odd offsets (a 10- or
 * 12-byte virtio-net header before them), where a byte loop would cost four instructions a byte.
 * Forward only, each block loaded before it is stored: memmove relies on that for d < s.
 */
void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    for (; n >= 64; n -= 64, d += 64, s += 64) {
        const unaligned_u64 *from = (const unaligned_u64 *)s;
        unaligned_u64 *to = (unaligned_u64 *)d;
        uint64_t w0 = from[0], w1 = from[1], w2 = from[2], w3 = from[3];
        uint64_t w4 = from[4], w5 = from[5], w6 = from[6], w7 = from[7];

        to[0] = w0;
        to[1] = w1;
        to[2] = w2;
        to[3] = w3;
        to[4] = w4;
        to[5] = w5;
        to[6] = w6;
        to[7] = w7;
    }
    for (; n >= 8; n -= 8, d += 8, s += 8)
        *(unaligned_u64 *)d = *(const unaligned_u64 *)s;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d == s || n == 0)
        return dst;
    if (d < s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;

    if (((uintptr_t)d & 7) == 0) {
        uint64_t v = (unsigned char)c * 0x0101010101010101ULL;

        for (; n >= 8; n -= 8, d += 8)
            *(uint64_t *)d = v;
    }
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++) {
        if (*x != *y)
            return *x - *y;
    }
    return 0;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;

    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

char *strcpy(char *dst, const char *src)
{
    char *d = dst;

    while ((*d++ = *src++))
        ;
    return dst;
}

char *strncpy(char *dst, const char *src, size_t n)
{
    size_t i = 0;

    for (; i < n && src[i]; i++)
        dst[i] = src[i];
    for (; i < n; i++)
        dst[i] = '\0';
    return dst;
}
