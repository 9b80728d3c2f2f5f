/*
 * The progress line: stage, percent, bytes so far against the target and an
 * estimate of the time left, on stderr. On a terminal it is one line drawn
 * over itself a few times a second (never wider than the terminal, or it
 * would wrap and every redraw would leave a line behind) and wiped at the
 * end; with --progress elsewhere, a plain line a second that logs can keep.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/clock.h"
#include "shrink/size.h"

#define TTY_INTERVAL 0.25
#define LINES_INTERVAL 1.0

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    return 80;
}

void progress_start(Progress *p, const char *name, int index, int count)
{
    const char *slash = strrchr(name, '/');
    p->name = slash && slash[1] ? slash + 1 : name;
    p->index = index;
    p->count = count;
    p->last = 0;
    p->stage[0] = 0;
}

static void format_eta(char *buf, size_t len, double s)
{
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void progress_update(void *opaque, const ShProgress *sp)
{
    Progress *p = opaque;
    char head[32] = "", tail[128], eta[32], got[32], tgt[32], line[512];
    const char *name = sh_display(p->name);
    double now = sh_now();
    int n, room, width;
    size_t nlen;

    if (p->mode == PROGRESS_OFF)
        return;
    /* Throttled, but each stage is shown as it begins, however short. */
    if (now - p->last < (p->mode == PROGRESS_TTY ? TTY_INTERVAL : LINES_INTERVAL) &&
        !strncmp(sp->stage, p->stage, sizeof(p->stage)))
        return;
    p->last = now;
    snprintf(p->stage, sizeof(p->stage), "%s", sp->stage);
    if (p->count > 1)
        snprintf(head, sizeof(head), "[%d/%d] ", p->index, p->count);
    n = snprintf(tail, sizeof(tail), ": %s %3.0f%%", sp->stage, 100 * sp->fraction);
    if (sp->bytes > 0 && sp->target_bytes > 0 && n < (int)sizeof(tail))
        n += snprintf(tail + n, sizeof(tail) - n, ", %s of %s", sh_size_format(got, sizeof(got), sp->bytes),
                      sh_size_format(tgt, sizeof(tgt), sp->target_bytes));
    /* Too early to say until a few percent and a second have passed. */
    if (sp->fraction >= 0.03 && sp->elapsed >= 1 && n < (int)sizeof(tail)) {
        format_eta(eta, sizeof(eta), sp->elapsed * (1 - sp->fraction) / sp->fraction);
        snprintf(tail + n, sizeof(tail) - n, ", ETA %s", eta);
    }

    nlen = strlen(name);
    if (p->mode == PROGRESS_LINES) {
        fprintf(stderr, "shrink: %s%s%s\n", head, name, tail);
        return;
    }
    /* Keep the name's end (it tells files apart), cut at a character's start. */
    width = terminal_width() - 1;
    room = width - (int)strlen(head) - (int)strlen(tail);
    if ((int)nlen > room) {
        if (room < 8) {
            name = "";
            nlen = 0;
        } else {
            name += nlen - (room - 3);
            while ((*name & 0xC0) == 0x80)
                name++;
            nlen = strlen(name);
        }
        snprintf(line, sizeof(line), "%s%s%.*s%s", head, nlen ? "..." : "", (int)nlen, name, tail);
    } else {
        snprintf(line, sizeof(line), "%s%s%s", head, name, tail);
    }
    fprintf(stderr, "\r%.*s\033[K", width, line);
    fflush(stderr);
    p->shown = 1;
}

void progress_clear(Progress *p)
{
    if (!p->shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->shown = 0;
}
