/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include <libavutil/common.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>

#include "common/log.h"
#include "common/tmpspace.h"
#include "job/disk.h"
#include "shrink/size.h"

/* TMPDIR must have this much free to start at all (the solver's samples
 * keep 80 MiB in memory and stop sampling at the bound: they need little). */
#define SH_DISK_START_MIN ((int64_t)1 << 20)
/* Left free in TMPDIR for everyone else, and for the estimates' error. */
#define SH_DISK_SLACK ((int64_t)16 << 20)

/* "DIR" of a path ("." for a bare name). */
static void dir_of(char *dir, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, len, ".");
    else if (slash == path)
        snprintf(dir, len, "/");
    else
        snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

static int no_room(const char *dir, const char *what, int64_t need, int64_t avail)
{
    char s1[32], s2[32];
    sh_log(SH_LOG_ERROR, dir, "No space left on device for %s: needs %s, %s free", what,
           sh_size_format(s1, sizeof(s1), need), sh_size_format(s2, sizeof(s2), FFMAX(avail, 0)));
    return AVERROR(ENOSPC);
}

int sh_disk_check_start(const char *output, int64_t target)
{
    char dir[PATH_MAX];
    int64_t avail, bound;
    int explicit, ret;

    if ((ret = sh_tmp_bound(target, &bound, &explicit)) < 0)
        return ret;
    sh_tmp_set_current(bound);
    /* An output aims at 96-100% of the target: less room than that cannot end well. */
    dir_of(dir, sizeof(dir), output);
    if (sh_tmp_free(dir, &avail) >= 0 && avail < target) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof(what), "the output %s (the target)", output);
        return no_room(dir, what, target, avail);
    }
    if (sh_tmp_free(sh_tmp_dir(), &avail) >= 0 && avail < SH_DISK_START_MIN)
        return no_room(sh_tmp_dir(), "temporary files (TMPDIR)", SH_DISK_START_MIN, avail);
    return 0;
}

/* Bytes of the pictures of a rung over duration, less what stays in memory. */
static int64_t cache_bytes(const ShRung *rung, enum AVPixelFormat pix_fmt, double duration, size_t mem)
{
    double frames = duration * av_q2d(rung->fps) * 1.05 + 2;
    int frame_bytes = av_image_get_buffer_size(pix_fmt, rung->width, rung->height, 1);
    return FFMAX((int64_t)(frames * FFMAX(frame_bytes, 0)) - (int64_t)mem, 0);
}

int sh_disk_plan(ShDiskPlan *d, int64_t target, const ShRung *rung, const ShRung *floor, enum AVPixelFormat pix_fmt,
                 int pass_log_files, double duration, int audio_bitrate, size_t cache_mem, size_t audio_mem)
{
    double frames = duration * av_q2d(rung->fps) * 1.05 + 2;
    int64_t mbs = (int64_t)((rung->width + 15) / 16) * ((rung->height + 15) / 16);
    int64_t avail = INT64_MAX, need, limit;
    int explicit, ret;

    memset(d, 0, sizeof(*d));
    if ((ret = sh_tmp_bound(target, &d->bound, &explicit)) < 0)
        return ret;
    /* x264's pass log: a line of text a frame (~150 B) and the macroblock
     * tree, 2 B a macroblock a frame (measured: Sintel 1280x720, 1253 frames:
     * 9.0 MB of tree, 0.2 MB of text). A quarter more for x265's. */
    if (pass_log_files)
        d->passlog = (int64_t)(frames * (2 * mbs + 256) * 1.25);
    d->audio = FFMAX((int64_t)(audio_bitrate / 8.0 * duration * 1.05) + 65536 - (int64_t)audio_mem, 0);
    d->cache = cache_bytes(rung, pix_fmt, duration, cache_mem);
    d->floor_cache = cache_bytes(floor, pix_fmt, duration, cache_mem / 8);
    need = d->passlog + d->audio;
    if (need > d->bound) {
        char s1[32], s2[32];
        if (explicit) {
            sh_log(SH_LOG_ERROR, sh_tmp_dir(), "TMPDIR: the encoder's pass logs and the audio need %s, "
                   "more than SHRINK_TMP_MAX (%s)", sh_size_format(s1, sizeof(s1), need),
                   sh_size_format(s2, sizeof(s2), d->bound));
            return AVERROR(ENOSPC);
        }
        /* They cannot be done without: the default bound makes room for them. */
        sh_log(SH_LOG_VERBOSE, NULL, "temporary disk: the pass logs and audio need %s, over the %s bound",
               sh_size_format(s1, sizeof(s1), need), sh_size_format(s2, sizeof(s2), d->bound));
        d->bound = need;
    }
    if (sh_tmp_free(sh_tmp_dir(), &avail) >= 0 && avail < need + SH_DISK_SLACK / 16)
        return no_room(sh_tmp_dir(), "the encoder's pass logs and the audio (TMPDIR)", need + SH_DISK_SLACK / 16, avail);
    limit = FFMAX(FFMIN(d->bound, avail - SH_DISK_SLACK) - need, 0);
    /* The floor's cache first (a quarter at most, what it needs when less):
     * it is usually a few KB; then the film's. */
    d->floor_limit = d->floor_cache <= limit / 4 ? FFMIN(limit / 4, d->floor_cache * 3 / 2 + (1 << 20)) : 0;
    d->floor_redecode = d->floor_cache > d->floor_limit;
    d->cache_limit = limit - d->floor_limit;
    d->redecode = d->cache > d->cache_limit;
    sh_tmp_set_current(d->bound);
    {
        char s1[32], s2[32], s3[32], s4[32];
        sh_log(SH_LOG_VERBOSE, NULL, "temporary disk: bound %s, pass logs ~%s, audio ~%s, frames %s%s",
               sh_size_format(s1, sizeof(s1), d->bound), sh_size_format(s2, sizeof(s2), d->passlog),
               sh_size_format(s3, sizeof(s3), d->audio), sh_size_format(s4, sizeof(s4), d->cache),
               d->redecode ? ": decoded again for each pass" : " (cached)");
    }
    return 0;
}
