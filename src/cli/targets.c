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
#include <strings.h>

#include <libavutil/error.h>

#include "cli/cli.h"
#include "shrink/size.h"

/*
 * Upload limits, checked on PRESETS_CHECKED against what the services and
 * the usual references commonly document. Where a service may count in
 * binary units (MiB) or count encoded bytes, the byte count takes the
 * smaller reading, so the file passes either way. Keep this list short: a
 * preset is a promise that the file will go through.
 */
const Preset cli_presets[] = {
    { "discord",  10000000,   "10 MB",
      "free accounts' upload limit; 10 MB read as decimal is under 10 MiB too" },
    { "email",    18000000,   "25 MB",
      "Gmail's 25 MB counts the message after base64 (x4/3, plus line breaks): 18 MB encodes "
      "to about 24.7 MB; Outlook.com's 20 MB needs --target 14MB" },
    { "whatsapp", 16000000,   "16 MB",
      "videos sent as media (larger files go as documents); decimal, under 16 MiB too" },
    { "mms",      600000,     "300 KB-1 MB",
      "carrier-dependent: 600 KB passes most carriers; the strictest take 300 KB (--target 280k)" },
    { "slack",    1000000000, "1 GB",
      "per file; decimal, under 1 GiB too" },
    { "telegram", 2000000000, "2 GB",
      "per file for accounts without Premium; decimal, under 2 GiB too" },
    { "floppy",   1457664,    "1.44 MB",
      "a 3.5\" HD disk holds 1,474,560 bytes, of which FAT12 leaves 2847 sectors of 512 B for files" },
    { NULL, 0, NULL, NULL },
};

const Preset *preset_find(const char *name)
{
    for (const Preset *p = cli_presets; p->name; p++)
        if (!strcasecmp(p->name, name))
            return p;
    return NULL;
}

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
