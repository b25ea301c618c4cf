/* test.h - minimal host unit-test framework: each case prints "PASS name" or "FAIL name: why". */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <stdio.h>
#include <stdlib.h>

typedef void (*test_fn)(void);

struct test_case {
    const char *name;
    test_fn fn;
};

extern int test_failed_checks;   /* checks failed in the current case */
extern const char *test_current; /* name of the running case */

/* CHECK(cond): record a failure with its location; the case goes on. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            test_failed_checks++;                                                                  \
            fprintf(stderr, "  %s: %s:%d: check failed: %s\n", test_current, __FILE__, __LINE__,   \
                    #cond);                                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long _a = (long long)(a), _b = (long long)(b);                                        \
        if (_a != _b) {                                                                            \
            test_failed_checks++;                                                                  \
            fprintf(stderr, "  %s: %s:%d: %s == %s failed (%lld != %lld)\n", test_current,         \
                    __FILE__, __LINE__, #a, #b, _a, _b);                                           \
        }                                                                                          \
    } while (0)

/* Run a shell command built printf-style; its exit status, or -1 if it did not exit. */
int test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** A file read whole into malloc'd memory (data NULL, size 0 when it could not be read). */
struct test_blob {
    unsigned char *data;
    size_t size;
};

/* The build directory: $AVATAR_BUILD, else "build". */
const char *test_build_dir(void);
/* A device tree that tests/unit/gen_dtbs.sh wrote into <build>/unit/dtb; a failed check (and an
 * empty blob) when it is not there. The caller frees data. */
struct test_blob test_load_dtb(const char *name);

/* Each test file defines its table and calls test_main() from main(). */
int test_main(const struct test_case *cases, int n, int argc, char **argv);

#endif
