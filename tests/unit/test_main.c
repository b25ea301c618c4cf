/* test_main.c - runs a table of unit-test cases, prints PASS/FAIL per case, exits non-zero on
 * failure. */
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "test.h"

int test_failed_checks;
const char *test_current;

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
