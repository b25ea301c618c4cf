/* test_pipe_buf.c - host tests of the pipe's byte ring: bounds, wrap-around, order (vs a model). */
#include <stdint.h>
#include <string.h>

#include "kernel/pipe_buf.h"
#include "test.h"

#define SIZE 16

static void test_put_get_bounds(void)
{
    char data[SIZE], out[32];
    struct pipe_buf b;

    pipe_buf_init(&b, data, SIZE);
    CHECK_EQ(pipe_buf_get(&b, out, 4), 0);
    CHECK_EQ(pipe_buf_put(&b, "0123456789abcdefXYZ", 19), SIZE);
    CHECK_EQ(pipe_buf_space(&b), 0);
    CHECK_EQ(pipe_buf_put(&b, "x", 1), 0);
    CHECK_EQ(pipe_buf_get(&b, out, 32), SIZE);
    CHECK(!memcmp(out, "0123456789abcdef", SIZE));
    CHECK_EQ(pipe_buf_space(&b), SIZE);
}

static void test_wrap_around(void)
{
    char data[SIZE], out[SIZE];
    struct pipe_buf b;

    pipe_buf_init(&b, data, SIZE);
    CHECK_EQ(pipe_buf_put(&b, "abcdefghijkl", 12), 12);
    CHECK_EQ(pipe_buf_get(&b, out, 10), 10);
    CHECK(!memcmp(out, "abcdefghij", 10));
    /* 2 held at offset 10: the next 12 wrap past the end. */
    CHECK_EQ(pipe_buf_put(&b, "mnopqrstuvwx", 12), 12);
    CHECK_EQ(pipe_buf_get(&b, out, SIZE), 14);
    CHECK(!memcmp(out, "klmnopqrstuvwx", 14));
}

/* Random puts and gets against a simple FIFO model. */
static void test_random_against_model(void)
{
    char data[SIZE], model[4096], in[SIZE + 4], out[SIZE + 4];
    size_t mhead = 0, mlen = 0;
    unsigned int seed = 12345, next = 0;
    struct pipe_buf b;

    pipe_buf_init(&b, data, SIZE);
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 16) % (SIZE + 4);
        if ((seed >> 8) & 1) {
            for (size_t k = 0; k < n; k++)
                in[k] = (char)(next + k);
            size_t put = pipe_buf_put(&b, in, n);
            CHECK_EQ(put, n < SIZE - mlen ? n : SIZE - mlen);
            for (size_t k = 0; k < put; k++)
                model[(mhead + mlen + k) % sizeof(model)] = in[k];
            next += (unsigned int)put;
            mlen += put;
        } else {
            size_t got = pipe_buf_get(&b, out, n);
            CHECK_EQ(got, n < mlen ? n : mlen);
            for (size_t k = 0; k < got; k++)
                CHECK_EQ(out[k], model[(mhead + k) % sizeof(model)]);
            mhead = (mhead + got) % sizeof(model);
            mlen -= got;
        }
        CHECK_EQ(b.len, mlen);
    }
}

static const struct test_case cases[] = {
    {"kernel/pipe_buf/put_get_bounds", test_put_get_bounds},
    {"kernel/pipe_buf/wrap_around", test_wrap_around},
    {"kernel/pipe_buf/random_against_model", test_random_against_model},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
