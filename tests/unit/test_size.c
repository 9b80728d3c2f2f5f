/*
 * Unit tests: sh_size_parse / sh_size_format (include/shrink/size.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>

#include "shrink/size.h"

/* Parse str, expect success with exactly want bytes. */
static void expect_bytes(const char *str, int64_t want)
{
    int64_t got = -12345;
    int ret = sh_size_parse(str, &got);
    if (ret != 0 || got != want)
        fail_msg("sh_size_parse(\"%s\"): ret %d, got %lld, want 0 and %lld",
                 str, ret, (long long)got, (long long)want);
}

/* Parse str, expect the error err and the output left untouched. */
static void expect_error(const char *str, int err)
{
    int64_t got = -12345;
    int ret = sh_size_parse(str, &got);
    if (ret != err)
        fail_msg("sh_size_parse(\"%s\"): ret %d (got %lld), want %d",
                 str ? str : "(null)", ret, (long long)got, err);
    assert_int_equal(got, -12345);
}

/* A bare number is a count of bytes; "B" means bytes too. */
static void test_parse_bytes(void **state)
{
    (void)state;
    expect_bytes("1", 1);
    expect_bytes("4096", 4096);
    expect_bytes("4096B", 4096);
    expect_bytes("4096b", 4096);
    expect_bytes("007", 7);
}

/* Decimal units are powers of 1000, binary ones powers of 1024. */
static void test_parse_units(void **state)
{
    (void)state;
    expect_bytes("5k", 5000);
    expect_bytes("5KB", 5000);
    expect_bytes("5KiB", 5 * 1024);
    expect_bytes("5M", 5000000);
    expect_bytes("50MB", 50000000);
    expect_bytes("8MiB", 8 * 1048576);
    expect_bytes("2G", 2000000000);
    expect_bytes("2GB", 2000000000);
    expect_bytes("3GiB", 3LL * 1073741824);
}

/* Units are case-insensitive. */
static void test_parse_case_insensitive(void **state)
{
    (void)state;
    expect_bytes("5K", 5000);
    expect_bytes("5kb", 5000);
    expect_bytes("5kB", 5000);
    expect_bytes("5KIB", 5120);
    expect_bytes("5kib", 5120);
    expect_bytes("1mb", 1000000);
    expect_bytes("1mIb", 1048576);
    expect_bytes("1g", 1000000000);
    expect_bytes("1gIB", 1073741824);
}

/* Fractions are exact where the value is whole, and rounded down otherwise. */
static void test_parse_fractions(void **state)
{
    (void)state;
    expect_bytes("1.44MB", 1440000);
    expect_bytes("1.44mb", 1440000);
    expect_bytes("0.5KiB", 512);
    expect_bytes("0.1KB", 100);
    expect_bytes("2.5GB", 2500000000LL);
    expect_bytes("0.3GB", 300000000);
    expect_bytes("1.1GiB", 1181116006);      /* 1181116006.4 */
    expect_bytes("1.9", 1);                  /* a size is a ceiling: down */
    expect_bytes("1.999KB", 1999);
    expect_bytes("0.0015KB", 1);             /* 1.5 bytes */
    expect_bytes("0.999999999GB", 999999999);
    expect_bytes("5.", 5);
}

/* Long fractions whose value is a whole number of bytes must not lose a byte. */
static void test_parse_long_fractions_exact(void **state)
{
    (void)state;
    expect_bytes("0.100000000000000GB", 100000000);
    expect_bytes("0.999999999000000GB", 999999999);
    expect_bytes("1.000000001000000GB", 1000000001);
    expect_bytes("0.500000000000000MiB", 524288);
}

/* One optional space may separate the number from its unit; no more. */
static void test_parse_space(void **state)
{
    (void)state;
    expect_bytes("50 MB", 50000000);
    expect_bytes("1.44 MB", 1440000);
    expect_bytes("8 MiB", 8388608);
    expect_error("50  MB", AVERROR(EINVAL));
    expect_error(" 50MB", AVERROR(EINVAL));
    expect_error("50MB ", AVERROR(EINVAL));
    expect_error("50\tMB", AVERROR(EINVAL));
}

/* Malformed, empty and non-positive sizes are EINVAL. */
static void test_parse_invalid(void **state)
{
    static const char *const bad[] = {
        "", "abc", "-5MB", "+5MB", "0", "0MB", "0.0GB", "5XB", "5 MB extra",
        "1e6", "inf", "nan", "0x10", ".", "MB", "5MBB", "5KIBB", "5mi", "1,5MB",
        "0.0001KB", /* rounds down to 0 bytes */
    };
    (void)state;
    expect_error(NULL, AVERROR(EINVAL));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_error(bad[i], AVERROR(EINVAL));
}

/* Values beyond int64_t are ERANGE, not wrapped or truncated. */
static void test_parse_overflow(void **state)
{
    (void)state;
    expect_error("99999999999GB", AVERROR(ERANGE));
    expect_error("9223372036854775808", AVERROR(ERANGE));
    expect_error("99999999999999999999999", AVERROR(ERANGE));
    expect_error("9007199254740992KiB", AVERROR(ERANGE));
    expect_error("9223372036.854775808GB", AVERROR(ERANGE));
    expect_error("8589934592GiB", AVERROR(ERANGE)); /* 2^63 */
}

/* The largest int64_t is still a valid size, however it is written. */
static void test_parse_int64_max(void **state)
{
    (void)state;
    expect_bytes("9223372036854775807", INT64_MAX);
    expect_bytes("9223372036854775807B", INT64_MAX);
    expect_bytes("9223372036854775800", INT64_MAX - 7);
    expect_bytes("9223372036.854775807GB", INT64_MAX);
    expect_bytes("8589934591GiB", 8589934591LL * 1073741824LL);
}

/* Below 1000 bytes the count is printed exactly, with "B". */
static void test_format_bytes(void **state)
{
    char buf[32];
    (void)state;
    assert_string_equal(sh_size_format(buf, sizeof(buf), 1), "1 B");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 812), "812 B");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 999), "999 B");
}

/* Decimal units with three significant digits: 2 decimals below 10, 1 below 100, 0 above. */
static void test_format_precision(void **state)
{
    char buf[32];
    (void)state;
    assert_string_equal(sh_size_format(buf, sizeof(buf), 1000), "1.00 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 1234), "1.23 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 12345), "12.3 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 123456), "123 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 1440000), "1.44 MB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 49870000), "49.9 MB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 500000000), "500 MB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 2500000000LL), "2.50 GB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 1073741824), "1.07 GB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 3000000000000LL), "3.00 TB");
}

/* Rounding up to the next power of ten keeps three significant digits and moves the unit. */
static void test_format_rounding_boundaries(void **state)
{
    char buf[32];
    (void)state;
    assert_string_equal(sh_size_format(buf, sizeof(buf), 9999), "10.0 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 99999), "100 KB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 999999), "1.00 MB");
    assert_string_equal(sh_size_format(buf, sizeof(buf), 999999999), "1.00 GB");
}

/* Formatting then parsing gives the size back to within the printed precision. */
static void test_format_parse_round_trip(void **state)
{
    char buf[32];
    (void)state;
    for (int64_t v = 1; v < 900000000000LL; v = v * 7 / 3 + 1) {
        int64_t back = 0;
        sh_size_format(buf, sizeof(buf), v);
        if (sh_size_parse(buf, &back) != 0)
            fail_msg("format(%lld) = \"%s\" does not parse", (long long)v, buf);
        /* three significant digits: at most half a unit in the third digit */
        if (llabs(back - v) > v / 200 + 1)
            fail_msg("format(%lld) = \"%s\" parses to %lld", (long long)v, buf, (long long)back);
    }
}

/* A short buffer is truncated and terminated, never overrun. */
static void test_format_short_buffer(void **state)
{
    char buf[8];
    (void)state;
    memset(buf, 'x', sizeof(buf));
    assert_ptr_equal(sh_size_format(buf, 4, 49870000), buf);
    assert_string_equal(buf, "49.");
    assert_int_equal(buf[4], 'x');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_bytes),
        cmocka_unit_test(test_parse_units),
        cmocka_unit_test(test_parse_case_insensitive),
        cmocka_unit_test(test_parse_fractions),
        cmocka_unit_test(test_parse_long_fractions_exact),
        cmocka_unit_test(test_parse_space),
        cmocka_unit_test(test_parse_invalid),
        cmocka_unit_test(test_parse_overflow),
        cmocka_unit_test(test_parse_int64_max),
        cmocka_unit_test(test_format_bytes),
        cmocka_unit_test(test_format_precision),
        cmocka_unit_test(test_format_rounding_boundaries),
        cmocka_unit_test(test_format_parse_round_trip),
        cmocka_unit_test(test_format_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
