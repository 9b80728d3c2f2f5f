/*
 * Fuzz the size parser (sh_size_parse) and its printer (sh_size_format).
 * The input is the text of a --target value. Checked: the parser never reads
 * past the string, accepts only positive sizes, agrees with plain integer
 * parsing on bare numbers, and scales by its unit; the printer always ends
 * its string within the buffer the CLI gives it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libavutil/error.h>

#include "shrink/size.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)

static int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, buf[32];
    int64_t bytes = 0, again = 0;
    int ret;

    if (size > 256)
        return 0;
    /* An exact-size copy: ASan catches any read past the terminator. */
    if (!(s = malloc(size + 1)))
        return 0;
    memcpy(s, data, size);
    s[size] = 0;

    ret = sh_size_parse(s, &bytes);
    CHECK(ret == 0 || ret == AVERROR(EINVAL) || ret == AVERROR(ERANGE));
    if (ret == 0) {
        CHECK(bytes > 0);
        CHECK(sh_size_parse(s, &again) == 0 && again == bytes);
        if (all_digits(s)) {
            errno = 0;
            CHECK(strtoll(s, NULL, 10) == bytes && !errno);
        }
        /* "N KiB" is N*1024 up to the fraction: whole*mult <= bytes < (whole+1)*mult. */
        {
            size_t n = strlen(s);
            char *end;
            if (n > 3 && !strcasecmp(s + n - 3, "kib") && s[0] >= '0' && s[0] <= '9') {
                long long whole;
                errno = 0;
                whole = strtoll(s, &end, 10);
                if (!errno && whole < INT64_MAX / 1024 - 1)
                    CHECK(bytes >= whole * 1024 && bytes < (whole + 1) * 1024);
            }
        }
    } else {
        CHECK(bytes == 0);   /* untouched on failure */
    }

    /* The printer, for any value the parser could give (and more). */
    if (size >= 8) {
        int64_t v;
        memcpy(&v, data, sizeof(v));
        sh_size_format(buf, sizeof(buf), v);
        CHECK(memchr(buf, 0, sizeof(buf)) != NULL);
        sh_size_format(buf, 4, v);
        CHECK(memchr(buf, 0, 4) != NULL);
    }
    if (ret == 0) {
        sh_size_format(buf, sizeof(buf), bytes);
        CHECK(strlen(buf) >= 3);    /* "1 B" at least */
    }
    free(s);
    return 0;
}
