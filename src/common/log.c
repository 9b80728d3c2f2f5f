/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/log.h>

#include "common/log.h"

static ShLogFn log_fn;
static void *log_opaque;
/* The last error libav logged on this thread: the cause its error codes leave out. */
static _Thread_local char av_error[160], av_error_from[32];

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
    if (level <= AV_LOG_ERROR) {
        char msg[sizeof(av_error)];
        va_list copy;
        va_copy(copy, vl);
        vsnprintf(msg, sizeof(msg), fmt, copy);
        va_end(copy);
        n = strcspn(msg, "\r\n");
        msg[n] = 0;
        if (n >= 4) {       /* not a continuation such as "." */
            const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
            memcpy(av_error, msg, n + 1);
            snprintf(av_error_from, sizeof(av_error_from), "%s",
                     cls && cls->item_name ? cls->item_name(avcl) : "");
        }
    }
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &print_prefix);
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

const char *sh_log_av_error(const char *from)
{
    return !from || !strcmp(from, av_error_from) ? av_error : "";
}

void sh_log_av_error_clear(void)
{
    av_error[0] = 0;
}
