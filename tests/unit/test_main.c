/* test_main.c - runs a table of unit-test cases, prints PASS/FAIL per case, exits non-zero on
 * failure. */
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "test.h"

int test_failed_checks;
const char *test_current;

const char *test_build_dir(void)
{
    const char *b = getenv("AVATAR_BUILD");

    return b ? b : "build";
}

struct test_blob test_load_dtb(const char *name)
{
    char path[512];
    struct test_blob d = {NULL, 0};
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/unit/dtb/%s", test_build_dir(), name);
    f = fopen(path, "rb");
    if (!f) {
        test_failed_checks++;
        fprintf(stderr, "  %s: cannot open %s (run tests/unit/gen_dtbs.sh %s/unit/dtb first)\n",
                test_current, path, test_build_dir());
        return d;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
        d.data = malloc((size_t)n);
        if (d.data && fread(d.data, 1, (size_t)n, f) == (size_t)n)
            d.size = (size_t)n;
    }
    fclose(f);
    if (!d.size) {
        test_failed_checks++;
        fprintf(stderr, "  %s: cannot read %s\n", test_current, path);
        free(d.data);
        d.data = NULL;
    }
    return d;
}

int test_main(const struct test_case *cases, int n, int argc, char **argv)
{
    int failed = 0;

    for (int i = 0; i < n; i++) {
        /* An optional argument selects cases by substring, for debugging one case. */
        if (argc > 1 && !strstr(cases[i].name, argv[1]))
            continue;
        test_current = cases[i].name;
        test_failed_checks = 0;
        cases[i].fn();
        if (test_failed_checks) {
            printf("FAIL %s: %d check(s) failed\n", cases[i].name, test_failed_checks);
            failed++;
        } else {
            printf("PASS %s\n", cases[i].name);
        }
        fflush(stdout);
    }
    return failed ? 1 : 0;
}

int test_sh(const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    int st;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
