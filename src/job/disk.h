/*
 * The job's temporary disk: checked before the work starts, bounded while
 * it runs (docs/ARCHITECTURE.md, "Disk").
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_DISK_H
#define SH_JOB_DISK_H

#include <stdint.h>

#include <libavutil/pixfmt.h>

#include "solver/plan.h"

typedef struct ShDiskPlan {
    int64_t bound;          /* the job's TMPDIR bound */
    int64_t passlog;        /* the encoder's pass logs, estimated */
    int64_t audio;          /* the audio spool's part on disk, estimated */
    int64_t cache;          /* the frame cache's spill, predicted */
    int64_t cache_limit;    /* what the spill may take */
    int redecode;           /* predicted over the limit: no cache, decode again for each pass */
    int64_t floor_cache, floor_limit;  /* the same for the floor's cache */
    int floor_redecode;
} ShDiskPlan;

/*
 * Before anything else: the output's directory has room for the target,
 * TMPDIR for a start, and SHRINK_TMP_MAX is a size. Logs (naming the
 * directory, the need and what is free) and returns AVERROR(ENOSPC).
 */
int sh_disk_check_start(const char *output, int64_t target);

/*
 * After the plan, before the decode: what the pass logs (when the encoder
 * writes them to files), the audio and the frame cache of this picture and
 * rate need over duration, against the bound and TMPDIR's free space.
 * Returns AVERROR(ENOSPC) (logged) when the pass logs and audio alone do
 * not fit; the caches never fail the job, they are re-decoded instead. The
 * floor's cache (floor rung) is tiny unless --height and --fps pinned it.
 */
int sh_disk_plan(ShDiskPlan *d, int64_t target, const ShRung *rung, const ShRung *floor, enum AVPixelFormat pix_fmt,
                 int pass_log_files, double duration, int audio_bitrate, size_t cache_mem, size_t audio_mem);

#endif
