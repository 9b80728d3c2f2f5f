/*
 * The options every command that makes a job takes (shrink, shrink plan):
 * one table (JOB_OPTIONS, cli.h), one parser, one message for each mistake.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int usage_error(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* It quotes the argument, which may be a file name: shown safely. */
    fprintf(stderr, "shrink: error: %s\nTry 'shrink --help'.\n", sh_display(msg));
    return EXIT_USAGE;
}

static int parse_time(const char *opt, const char *arg, double *out)
{
    if (time_parse(arg, out) < 0) {
        fprintf(stderr, "shrink: error: %s '%s': not a time (seconds, or [HH:]MM:SS[.mmm])\n", opt, sh_display(arg));
        return -1;
    }
    return 0;
}

/* --crop auto, off, or W:H:X:Y (whole pixels of the picture as displayed; the
 * input checks that it fits, once it knows the picture). */
static int parse_crop(const char *arg, ShOptions *o)
{
    long v[4];
    const char *p = arg;
    if (!strcmp(arg, "auto") || !strcmp(arg, "off")) {
        o->crop_mode = arg[0] == 'a' ? SH_CROP_AUTO : SH_CROP_OFF;
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        char *end;
        if (*p < '0' || *p > '9')
            goto bad;
        errno = 0;
        v[i] = strtol(p, &end, 10);
        if (errno || v[i] > 16384 || *end != (i < 3 ? ':' : '\0'))
            goto bad;
        p = end + 1;
    }
    if (v[0] < 2 || v[1] < 2)
        return usage_error("--crop '%s': a crop of %ldx%ld leaves no picture (at least 2x2)", arg, v[0], v[1]);
    o->crop_mode = SH_CROP_MANUAL;
    o->crop = (ShCrop){ (int)v[0], (int)v[1], (int)v[2], (int)v[3] };
    return 0;
bad:
    return usage_error("--crop '%s': auto, off, or W:H:X:Y (whole pixels of the picture as shown, "
                       "e.g. 1280:544:0:88)", arg);
}

int job_option(int c, const char *name, const char *arg, Cli *cli, JobArgs *ja)
{
    ShOptions *o = &cli->job;
    switch (c) {
    case 't': ja->target = arg; return 1;
    case OPT_FOR: ja->preset = arg; return 1;
    case OPT_SERVICES:
        if (!*arg)
            return usage_error("--services '': an empty file name"), -1;
        ja->services = arg;
        return 1;
    case OPT_START:
        return parse_time("--start", arg, &o->start) < 0 ? -1 : 1;
    case OPT_END:
        if (parse_time("--end", arg, &o->end) < 0)
            return -1;
        if (!(o->end > 0))
            return usage_error("--end '%s': must be after 0", arg), -1;
        return 1;
    case OPT_DURATION:
        if (parse_time("--duration", arg, &ja->duration) < 0)
            return -1;
        if (!(ja->duration > 0))
            return usage_error("--duration '%s': must be more than 0", arg), -1;
        return 1;
    case OPT_AUDIO_TRACK: {
        char *end;
        long n;
        errno = 0;
        n = strtol(arg, &end, 10);
        if (arg[0] < '1' || arg[0] > '9' || *end || errno || n > 1000)
            return usage_error("--audio-track '%s': a number from 1 (the first audio stream)", arg), -1;
        o->audio_track = (int)n;
        return 1;
    }
    case OPT_NO_AUDIO: o->no_audio = 1; return 1;
    case OPT_SUBS: {
        char *end;
        long n;
        if (!strcmp(arg, "all") || !strcmp(arg, "none")) {
            o->subs = arg[0] == 'a' ? SH_SUBS_ALL : SH_SUBS_NONE;
            return 1;
        }
        errno = 0;
        n = strtol(arg, &end, 10);
        if (arg[0] < '1' || arg[0] > '9' || *end || errno || n > 1000)
            return usage_error("--subs '%s': all, none, or a number from 1 (the first subtitle stream)", arg), -1;
        o->subs = (int)n;
        return 1;
    }
    case OPT_NO_SEARCH: o->no_search = 1; return 1;
    case OPT_SOLVER:
        return solver_option(name, arg, o) < 0 ? -1 : 1;
    case OPT_CODEC: o->codec = arg; return 1;
    case OPT_CROP: return parse_crop(arg, o) ? -1 : 1;
    case OPT_ROI:
        if (!strcmp(arg, "auto"))
            o->roi = SH_ROI_AUTO;
        else if (!strcmp(arg, "faces"))
            o->roi = SH_ROI_FACES;
        else if (!strcmp(arg, "off"))
            o->roi = SH_ROI_OFF;
        else
            return usage_error("--roi '%s': auto, faces or off", arg), -1;
        return 1;
    case OPT_TIME_LIMIT:
        /* the learned codec's fit (docs/NEURAL.md): seconds, or [HH:]MM:SS */
        if (parse_time("--time-limit", arg, &o->time_limit) < 0)
            return -1;
        if (!(o->time_limit >= 1 && o->time_limit <= 7 * 86400))
            return usage_error("--time-limit '%s': from 1 second to 7 days", arg), -1;
        return 1;
    case OPT_SPEED:
        if (!strcmp(arg, "fast"))
            o->speed = SH_SPEED_FAST;
        else if (!strcmp(arg, "balanced"))
            o->speed = SH_SPEED_BALANCED;
        else if (!strcmp(arg, "best"))
            o->speed = SH_SPEED_BEST;
        else
            return usage_error("--speed '%s': fast, balanced or best", arg), -1;
        return 1;
    case 'q': cli->verbosity = -1; return 1;
    case 'v': cli->verbosity++; return 1;
    default: return 0;
    }
}
