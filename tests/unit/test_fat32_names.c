/* test_fat32_names.c - FAT name rules: 8.3 fitting, case bits, alias basis and tails, checksums,
 * UTF-8 conversion. */
#include <string.h>

#include "../../fs/fat32_priv.h"
#include "test.h"

static uint32_t units(const char *s, uint16_t *u)
{
    int n = fat32_utf8_to_units(s, strlen(s), u, NAME_MAX_UNITS);

    return n < 0 ? 0 : (uint32_t)n;
}

static void test_checksum(void)
{
    /* Values read from entries mtools wrote for these aliases. */
    CHECK_EQ(fat32_short_checksum((const uint8_t *)"ALONGN~1TXT"), 0x42);
    CHECK_EQ(fat32_short_checksum((const uint8_t *)"MIXCASE TXT"), 0xE2);
}

static int exact(const char *name, char *out11, uint8_t *ntres)
{
    uint16_t u[NAME_MAX_UNITS];
    int r = fat32_short_exact(u, units(name, u), (uint8_t *)out11, ntres);

    out11[11] = '\0';
    return r;
}

static void test_short_exact(void)
{
    char n[12];
    uint8_t nt;

    CHECK_EQ(exact("FOO.TXT", n, &nt), 0);
    CHECK(strcmp(n, "FOO     TXT") == 0);
    CHECK_EQ(nt, 0);
    CHECK_EQ(exact("foo.txt", n, &nt), 0);
    CHECK_EQ(nt, NTRES_LOWER_BASE | NTRES_LOWER_EXT);
    CHECK_EQ(exact("foo.TXT", n, &nt), 0);
    CHECK_EQ(nt, NTRES_LOWER_BASE);
    CHECK_EQ(exact("12345678.abc", n, &nt), 0);
    CHECK(strcmp(n, "12345678ABC") == 0);
    CHECK_EQ(exact("A$%-_@~!.{}", n, &nt), 0);
    CHECK_EQ(exact("Foo.txt", n, &nt), 1);
    CHECK(strcmp(n, "FOO     TXT") == 0);
    CHECK_EQ(exact("readme.Txt", n, &nt), 1);
    CHECK_EQ(exact("a long.txt", n, &nt), -1);
    CHECK_EQ(exact("toolongname.txt", n, &nt), -1);
    CHECK_EQ(exact("a.b.c", n, &nt), -1);
    CHECK_EQ(exact(".bashrc", n, &nt), -1);
    CHECK_EQ(exact("abc.defg", n, &nt), -1);
    CHECK_EQ(exact("x+y", n, &nt), -1);
    CHECK_EQ(exact("caf\xc3\xa9", n, &nt), -1);
}

static void basis(const char *name, char *out11)
{
    uint16_t u[NAME_MAX_UNITS];

    fat32_short_basis(u, units(name, u), (uint8_t *)out11);
    out11[11] = '\0';
}

static void test_basis_and_tails(void)
{
    char b[12], t[12];

    basis("A long name.txt", b);
    CHECK(strcmp(b, "ALONGNAMTXT") == 0);
    basis("my.file.name.text", b);
    CHECK(strcmp(b, "MYFILENATEX") == 0);
    basis(".bashrc", b);
    CHECK(strcmp(b, "BASHRC     ") == 0);
    basis("x+y,z", b);
    CHECK(strcmp(b, "X_Y_Z      ") == 0);
    basis("caf\xc3\xa9.txt", b);
    CHECK(strcmp(b, "CAF_    TXT") == 0);
    basis("++", b);
    CHECK(strcmp(b, "__         ") == 0);

    basis("A long name.txt", b);
    fat32_short_tail((const uint8_t *)b, 1, (uint8_t *)t);
    t[11] = '\0';
    CHECK(strcmp(t, "ALONGN~1TXT") == 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)t), 1);
    fat32_short_tail((const uint8_t *)b, 12345, (uint8_t *)t);
    CHECK(memcmp(t, "AL~12345TXT", 11) == 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)t), 12345);
    basis("ab.c", b);
    fat32_short_tail((const uint8_t *)b, 7, (uint8_t *)t);
    CHECK(memcmp(t, "AB~7    C  ", 11) == 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)t), 7);
    /* Not tails of this basis: other extension, leading zero, other prefix, no digits. */
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)"AB~7    D  "), 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)"AB~07   C  "), 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)"AC~7    C  "), 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)"AB~     C  "), 0);
    CHECK_EQ(fat32_short_tail_of((const uint8_t *)b, (const uint8_t *)"AB      C  "), 0);
}

static void test_display(void)
{
    uint8_t ent[32] = {0};
    uint16_t u[12];
    char s[32];

    memcpy(ent, "README  TXT", 11);
    ent[DE_NTRES] = NTRES_LOWER_BASE;
    fat32_units_to_utf8(u, fat32_short_display(ent, u), s, sizeof(s));
    CHECK(strcmp(s, "readme.TXT") == 0);
    memcpy(ent,
           "\x05"
           "ABC       ",
           11);
    ent[DE_NTRES] = 0;
    fat32_units_to_utf8(u, fat32_short_display(ent, u), s, sizeof(s));
    CHECK(strcmp(s, "\xc3\xa5"
                    "ABC") == 0);
}

static void test_utf8(void)
{
    uint16_t u[NAME_MAX_UNITS];
    char back[FAT32_NAME_MAX + 1];
    const char *s = "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80";

    CHECK_EQ(fat32_utf8_to_units(s, strlen(s), u, NAME_MAX_UNITS), 10);
    CHECK_EQ(u[1], 0xE9);
    CHECK_EQ(u[6], 0x20AC);
    CHECK_EQ(u[8], 0xD83D);
    CHECK_EQ(u[9], 0xDE00);
    CHECK_EQ(fat32_units_to_utf8(u, 10, back, sizeof(back)), (int)strlen(s));
    CHECK(strcmp(back, s) == 0);
    CHECK_EQ(fat32_units_to_utf8(u, 10, back, 5), -ERANGE);
    CHECK_EQ(fat32_utf8_to_units("\xc3", 1, u, 10), -EILSEQ);
    CHECK_EQ(fat32_utf8_to_units("\xc0\xaf", 2, u, 10), -EILSEQ);
    CHECK_EQ(fat32_utf8_to_units("\xed\xa0\x80", 3, u, 10), -EILSEQ);
    CHECK_EQ(fat32_utf8_to_units("\xf4\x90\x80\x80", 4, u, 10), -EILSEQ);
    CHECK_EQ(fat32_utf8_to_units("\x80", 1, u, 10), -EILSEQ);
    CHECK_EQ(fat32_utf8_to_units("abcd", 4, u, 3), -ENAMETOOLONG);
}

static bool valid(const char *name, bool creating)
{
    uint16_t u[NAME_MAX_UNITS];

    return fat32_long_name_valid(u, units(name, u), creating);
}

static void test_long_name_rules(void)
{
    uint16_t u[2] = {0xD800, 'a'};

    CHECK(valid("a b.c.d", true));
    CHECK(valid(" leading space", true));
    CHECK(valid("plus+comma,[x]", true));
    CHECK(!valid("a:b", true));
    CHECK(!valid("what?", true));
    CHECK(!valid("trailing.", true));
    CHECK(!valid("trailing ", true));
    CHECK(!valid(".", true));
    CHECK(!valid("..", false));
    CHECK(!valid("", false));
    CHECK(valid("what?", false));
    CHECK(!valid("a/b", false));
    CHECK(!fat32_long_name_valid(u, 2, false));
    CHECK(fat32_names_equal(u, 1, u, 1));
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"fs/fat32_name_checksum", test_checksum},
        {"fs/fat32_name_short_exact", test_short_exact},
        {"fs/fat32_name_basis_tails", test_basis_and_tails},
        {"fs/fat32_name_display", test_display},
        {"fs/fat32_name_utf8", test_utf8},
        {"fs/fat32_name_long_rules", test_long_name_rules},
    };

    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
