/*
 * Targets: sizes with units, a share of the input's size, or a service's
 * upload limit; and times for the trim options.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/error.h>

#include "cli/cli.h"
#include "shrink/size.h"

int target_parse(const char *s, Target *t)
{
    size_t n = strlen(s);
    memset(t, 0, sizeof(*t));
    if (n && s[n - 1] == '%') {
        char *end;
        double p;
        /* Digits and one point only: no signs, exponents, inf or nan. */
        for (size_t i = 0; i + 1 < n; i++)
            if (!isdigit((unsigned char)s[i]) && s[i] != '.')
                return AVERROR(EINVAL);
        errno = 0;
        p = strtod(s, &end);
        if (end != s + n - 1 || errno || !(p > 0) || p > 100)
            return AVERROR(EINVAL);
        t->percent = p;
        return 0;
    }
    return sh_size_parse(s, &t->bytes);
}

int64_t target_for(const Target *t, int64_t input_size)
{
    if (t->preset)
        return t->preset->bytes;
    if (t->bytes > 0)
        return t->bytes;
    if (t->percent > 0 && input_size > 0)
        return (int64_t)fmax(1, floor(input_size * (t->percent / 100.0)));
    return 0;
}

/* [[HH:]MM:]SS[.fraction]: minutes and seconds under 60 when a larger unit is given. */
int time_parse(const char *s, double *seconds)
{
    double part[3] = { 0 }, total = 0;
    int nparts = 0;
    const char *p = s;

    for (;;) {
        const char *start = p;
        char *end;
        if (nparts == 3)
            return AVERROR(EINVAL);
        while (isdigit((unsigned char)*p))
            p++;
        if (p == start)
            return AVERROR(EINVAL);
        if (*p == '.') {
            /* A fraction only on the last part. */
            p++;
            while (isdigit((unsigned char)*p))
                p++;
            if (*p)
                return AVERROR(EINVAL);
        }
        errno = 0;
        part[nparts++] = strtod(start, &end);
        if (errno || end != p)
            return AVERROR(EINVAL);
        if (!*p)
            break;
        if (*p != ':')
            return AVERROR(EINVAL);
        p++;
    }
    for (int i = 0; i < nparts; i++) {
        if (i && part[i] >= 60)
            return AVERROR(EINVAL);
        total = total * 60 + part[i];
    }
    if (!isfinite(total))
        return AVERROR(EINVAL);
    *seconds = total;
    return 0;
}
