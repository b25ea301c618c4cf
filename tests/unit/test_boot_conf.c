/* test_boot_conf.c - /etc/avatar.conf parsing: settings, comments, and every kind of bad line. */
#include <string.h>

#include "kernel/boot_conf.h"
#include "lib/errno.h"
#include "test.h"

static int parse(const char *text, struct boot_conf *c, unsigned *line, const char **why)
{
    return boot_conf_parse(text, strlen(text), c, line, why);
}

static void test_settings(void)
{
    struct boot_conf c;
    unsigned line;
    const char *why;

    CHECK_EQ(parse("", &c, &line, &why), 0);
    CHECK(c.shell[0] == '\0');
    CHECK_EQ(parse("# Avatar\n\n  shell =  /bin/busybox sh  \r\n", &c, &line, &why), 0);
    CHECK(strcmp(c.shell, "/bin/busybox sh") == 0);
    CHECK_EQ(line, 3);
    CHECK_EQ(parse("shell=/bin/busybox sh -c 'a=b'", &c, &line, &why), 0);
    CHECK(strcmp(c.shell, "/bin/busybox sh -c 'a=b'") == 0);
    CHECK_EQ(parse("\tshell = x\nshell = y", &c, &line, &why), 0);
    CHECK(strcmp(c.shell, "y") == 0);
}

static void test_bad_lines(void)
{
    static const struct {
        const char *text;
        unsigned line;
    } bad[] = {
        {"shell /bin/sh", 1}, {"# ok\nshel = /bin/sh", 2}, {"shell =   ", 1},
        {"= /bin/sh", 1},     {"shell = a\x01", 1},        {"\n\nverylongkeyname_more = 1", 3},
    };
    struct boot_conf c;
    unsigned line;
    const char *why;
    char big[300];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_EQ(parse(bad[i].text, &c, &line, &why), -EINVAL);
        CHECK_EQ(line, bad[i].line);
        CHECK(why && why[0]);
    }
    memset(big, 'x', sizeof(big));
    memcpy(big, "shell=", 6);
    CHECK_EQ(boot_conf_parse(big, sizeof(big), &c, &line, &why), -EINVAL);
    CHECK(strcmp(why, "value too long") == 0);
    CHECK_EQ(boot_conf_parse("shell = a\0b", 11, &c, &line, &why), -EINVAL);
}

static const struct test_case cases[] = {
    {"shell/boot_conf/settings", test_settings},
    {"shell/boot_conf/bad_lines", test_bad_lines},
};

int main(int argc, char **argv)
{
    return test_main(cases, (int)(sizeof(cases) / sizeof(cases[0])), argc, argv);
}
