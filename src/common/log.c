/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "common/log.h"

static ShLogFn log_fn;
static void *log_opaque;
static atomic_int x264_too_low;

void sh_log_set_callback(ShLogFn fn, void *opaque)
{
    log_fn = fn;
    log_opaque = opaque;
}

void sh_log(ShLogLevel level, const char *file, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    if (!log_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_fn(log_opaque, level, file, msg);
}

static void av_bridge(void *avcl, int level, const char *fmt, va_list vl)
{
    char line[1024];
    int print_prefix = 1;
    size_t n;

    if (level > AV_LOG_VERBOSE)
        return;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
    if (strstr(line, "bitrate is too low"))
        atomic_fetch_add(&x264_too_low, 1);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = 0;
    if (!n)
        return;
    /* libav messages are details of an error we report ourselves: keep them
     * for -vv, so that the user sees one line per failure by default. */
    sh_log(SH_LOG_DEBUG, NULL, "libav: %s", line);
}

void sh_log_install_av_bridge(void)
{
    av_log_set_callback(av_bridge);
}

int sh_log_x264_too_low_count(void)
{
    return atomic_load(&x264_too_low);
}
