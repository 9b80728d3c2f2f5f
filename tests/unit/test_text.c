/*
 * Unit tests: names as they are printed (src/common/text.h): the JSON string
 * writer against the U+FFFD rule docs/JSON.md states (the one Python's
 * bytes.decode("utf-8", "replace") follows), and the display form.
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

#include "common/text.h"

static void expect_json(const char *in, const char *want)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    sh_json_write_string(f, in);
    fclose(f);
    if (strcmp(buf, want))
        fail_msg("json(%s): got %s, want %s", in, buf, want);
    free(buf);
}

/* One U+FFFD per maximal ill-formed subpart: Python's b.decode("utf-8", "replace"). */
#define R "\xEF\xBF\xBD"
static void test_json_replacement(void **state)
{
    (void)state;
    expect_json("plain", "\"plain\"");
    expect_json("\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2", "\"\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2\"");
    expect_json("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");            /* U+1F600 */
    expect_json("a\xff" "b", "\"a" R "b\"");
    expect_json("\x80", "\"" R "\"");                                     /* lone continuation */
    expect_json("\xc0\xaf", "\"" R R "\"");                               /* overlong '/' */
    expect_json("\xe0\x80\x80", "\"" R R R "\"");                         /* overlong, 3 bytes */
    expect_json("\xed\xa0\x80", "\"" R R R "\"");                         /* a surrogate */
    expect_json("\xf4\x90\x80\x80", "\"" R R R R "\"");                   /* past U+10FFFF */
    expect_json("\xe2\x82" "x", "\"" R "x\"");                            /* cut short: one */
    expect_json("\xf0\x9f\x98", "\"" R "\"");                             /* cut at the end */
    expect_json("\xe2\x82\xe2\x82\xac", "\"" R "\xe2\x82\xac\"");
}

static void test_json_escapes(void **state)
{
    (void)state;
    expect_json(NULL, "null");
    expect_json("q\"b\\", "\"q\\\"b\\\\\"");
    expect_json("\x1b[31m\n\t\x7f", "\"\\u001b[31m\\u000a\\u0009\\u007f\"");
    /* C1 and bidi controls are valid characters: JSON keeps them (escaped only on terminals) */
    expect_json("\xc2\x9b\xe2\x80\xae", "\"\xc2\x9b\xe2\x80\xae\"");
}

static void test_valid(void **state)
{
    (void)state;
    assert_true(sh_utf8_valid(""));
    assert_true(sh_utf8_valid("\xc3\xa9\xe6\xbc\xa2\xf0\x9f\x98\x80\x1b"));
    assert_false(sh_utf8_valid("\xff"));
    assert_false(sh_utf8_valid("\xc0\xaf"));
    assert_false(sh_utf8_valid("\xed\xa0\x80"));
    assert_false(sh_utf8_valid("ok\xe2\x82"));
}

static void test_base64(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    (void)state;
    sh_json_write_base64(f, "d/bad\xff\xc0\xaf.mp4");
    fclose(f);
    assert_string_equal(buf, "\"ZC9iYWT/wK8ubXA0\"");
    free(buf);
}

static void expect_display(const char *in, const char *want)
{
    char buf[SH_DISPLAY_MAX];
    sh_display_into(buf, sizeof(buf), in);
    if (strcmp(buf, want))
        fail_msg("display(%s): got %s, want %s", in, buf, want);
    /* idempotent: what is shown shows the same again */
    assert_string_equal(sh_display(buf), buf);
}

static void test_display(void **state)
{
    (void)state;
    expect_display("\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2.mp4", "\xc3\xa9t\xc3\xa9 \xe6\xbc\xa2.mp4");
    expect_display("a\x1b[31mb\x1b[0m", "a\\x1b[31mb\\x1b[0m");
    expect_display("n\nt\tr\rd\x7f", "n\\x0at\\x09r\\x0dd\\x7f");
    expect_display("ff\xff\xc0\xaf", "ff\\xff\\xc0\\xaf");
    expect_display("csi\xc2\x9b" "2J", "csi\\xc2\\x9b2J");
    expect_display("rlo\xe2\x80\xae" "x", "rlo\\xe2\\x80\\xaex");
    expect_display("back\\slash", "back\\slash");
    expect_display(NULL, "(null)");
}

static void test_display_cut(void **state)
{
    char buf[12];
    (void)state;
    sh_display_into(buf, sizeof(buf), "0123456789");
    assert_string_equal(buf, "0123456789");
    sh_display_into(buf, sizeof(buf), "0123456789abc");
    assert_string_equal(buf, "01234567...");
    /* never half an escape or half a character */
    sh_display_into(buf, sizeof(buf), "0123\x1b\x1b");
    assert_string_equal(buf, "0123\\x1b...");
    sh_display_into(buf, sizeof(buf), "012345\xe6\xbc\xa2\xe6\xbc\xa2");
    assert_string_equal(buf, "012345...");
    sh_display_into(buf, sizeof(buf), "01234\xe6\xbc\xa2\xe6\xbc\xa2");  /* 11 bytes: fits */
    assert_string_equal(buf, "01234\xe6\xbc\xa2\xe6\xbc\xa2");
    sh_display_into(buf, sizeof(buf), "01234\xe6\xbc\xa2\xe6\xbc\xa2x");
    assert_string_equal(buf, "01234\xe6\xbc\xa2...");
    sh_display_into(buf, sizeof(buf), "01234\xe6\xbc\xa2\xe6\xbc");
    assert_string_equal(buf, "01234\xe6\xbc\xa2...");
    sh_display_into(buf, 3, "abc");
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_replacement),
        cmocka_unit_test(test_json_escapes),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_display),
        cmocka_unit_test(test_display_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
