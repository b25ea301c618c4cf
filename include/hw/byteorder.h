/* byteorder.h - little-endian loads and stores at any alignment (on-disk and in-memory formats:
 * FAT32, virtio rings and requests, the arm64 Image header, ELF). */
#ifndef HW_BYTEORDER_H
#define HW_BYTEORDER_H

#include <stdint.h>

/* The first `bytes` (at most 8) bytes at p, least significant first. */
static inline uint64_t load_le(const void *p, unsigned bytes)
{
    const uint8_t *b = p;
    uint64_t v = 0;

    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)b[i] << (8 * i);
    return v;
}

/* The low `bytes` (at most 8) bytes of v at p, least significant first. */
static inline void store_le(void *p, uint64_t v, unsigned bytes)
{
    uint8_t *b = p;

    for (unsigned i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t load_le16(const void *p)
{
    const uint8_t *b = p;

    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t load_le32(const void *p)
{
    const uint8_t *b = p;

    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t load_le64(const void *p)
{
    return (uint64_t)load_le32(p) | (uint64_t)load_le32((const uint8_t *)p + 4) << 32;
}

static inline void store_le16(void *p, uint16_t v)
{
    uint8_t *b = p;

    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static inline void store_le32(void *p, uint32_t v)
{
    store_le16(p, (uint16_t)v);
    store_le16((uint8_t *)p + 2, (uint16_t)(v >> 16));
}

static inline void store_le64(void *p, uint64_t v)
{
    store_le32(p, (uint32_t)v);
    store_le32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif
