/*
 * Sizes with units. Decimal units are powers of 1000, binary (KiB...) of 1024.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libavutil/error.h>

#include "shrink/size.h"

static const struct {
    const char *suffix;
    int64_t mult;
} size_units[] = {
    { "",    1 },
    { "b",   1 },
    { "k",   1000 },           { "kb",  1000 },           { "kib", 1024 },
    { "m",   1000000 },        { "mb",  1000000 },        { "mib", 1048576 },
    { "g",   1000000000 },     { "gb",  1000000000 },     { "gib", 1073741824 },
};

int sh_size_parse(const char *str, int64_t *bytes)
{
    const char *p = str;
    int64_t whole = 0, mult = 0;
    int64_t frac_num = 0, frac_den = 1;
    int digits = 0;

    if (!str)
        return AVERROR(EINVAL);
    /* Digits by hand: strtod would take "inf", hex and exponents. */
    for (; isdigit((unsigned char)*p); p++, digits++) {
        int d = *p - '0';
        if (whole > (INT64_MAX - d) / 10)
            return AVERROR(ERANGE);
        whole = whole * 10 + d;
    }
    if (*p == '.') {
        p++;
        for (; isdigit((unsigned char)*p); p++, digits++) {
            if (frac_den <= INT64_MAX / 10 / 1000) { /* beyond 1e-15 nothing counts */
                frac_num = frac_num * 10 + (*p - '0');
                frac_den *= 10;
            }
        }
    }
    if (!digits)
        return AVERROR(EINVAL);
    if (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof(size_units) / sizeof(size_units[0]); i++) {
        if (!strcasecmp(p, size_units[i].suffix)) {
            mult = size_units[i].mult;
            break;
        }
    }
    if (!mult)
        return AVERROR(EINVAL);
    if (whole > INT64_MAX / mult)
        return AVERROR(ERANGE);
    /* whole*mult + floor(frac*mult), in integers so "1.44MB" is exactly 1440000. */
    int64_t total = whole * mult;
    int64_t frac_bytes = (int64_t)((long double)frac_num * mult / frac_den);
    if (total > INT64_MAX - frac_bytes)
        return AVERROR(ERANGE);
    total += frac_bytes;
    if (total <= 0)
        return AVERROR(EINVAL);
    *bytes = total;
    return 0;
}

char *sh_size_format(char *buf, size_t len, int64_t bytes)
{
    static const char *const units[] = { "B", "KB", "MB", "GB", "TB" };
    double v = (double)bytes;
    int u = 0, prec;
    while (v >= 1000.0 && u < 4) {
        v /= 1000.0;
        u++;
    }
    if (!u) {
        snprintf(buf, len, "%" PRId64 " B", bytes);
        return buf;
    }
    /* Three significant digits, decided after rounding: 9999 B is "10.0 KB". */
    prec = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    if (!prec && v >= 999.5 && u < 4) {
        v /= 1000.0;
        u++;
        prec = 2;
    }
    snprintf(buf, len, "%.*f %s", prec, v, units[u]);
    return buf;
}
