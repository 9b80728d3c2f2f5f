/*
 * Encode to the target: attempts at the bitrates the rate loop
 * (rateloop.c) asks for until one lands in the band under the target; the
 * floor encode when none can; the chosen file verified and put in place.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <string.h>

#include <libavutil/common.h>

#include "common/log.h"
#include "common/temp.h"
#include "job/rateloop.h"
#include "job/state.h"
#include "output/mux.h"
#include "output/overhead.h"

/* Keep the largest file at or under the target; remove the others. */
static void keep_best(Attempt *best, Attempt *cand, int64_t target)
{
    if (cand->bytes <= target && (!best->path[0] || cand->bytes > best->bytes)) {
        if (best->path[0])
            sh_temp_remove(best->path);
        *best = *cand;
    } else {
        sh_temp_remove(cand->path);
    }
    cand->path[0] = 0;
}

int sh_job_encode_to_target(Job *j, Attempt *best, int *attempts)
{
    ShRateAttempt a[SH_RATE_MAX_ATTEMPTS] = { 0 };
    ShRateGoal g = { .target_bytes = j->plan.target_bytes, .max_bitrate = j->plan.venc->max_bitrate,
                     .duration = j->duration, .drift = 1 };
    const int two_pass = !!(j->plan.venc->caps & SH_ENC_CAP_TWO_PASS);
    ShRateStop stop = SH_RATE_GO;
    int64_t bitrate;
    int n, too_low = 0, ret;

    /* Bytes that are not video: audio (exact, encoded already) and the
     * container (estimated now, measured after the first attempt). */
    g.probed = j->pass1_bytes > 0 && !two_pass;
    g.fixed_bytes = sh_spool_bytes(j->audio) + sh_budget_overhead(sh_frame_cache_count(j->cache),
                                                                   sh_spool_count(j->audio)) +
                    sh_subs_bytes(j->subs);
    /* MP4 interleaved packet by packet: a chunk per packet of the rarer
     * stream, whose index is not in the estimate above (2.2% of the target
     * on an hour at 24 fps with 60 ms audio packets: output/overhead.c). */
    if (!strcmp(j->format->muxer, "mp4") || !strcmp(j->format->muxer, "mov"))
        g.fixed_bytes += sh_mp4_overhead_correction(sh_frame_cache_count(j->cache), sh_spool_count(j->audio),
                                                    j->plan.venc->codec);
    if (j->pass1_bytes) {
        g.drift = j->pass1_bytes * 8 / j->duration / j->plan.video_bitrate;
        sh_log(SH_LOG_VERBOSE, j->input, "%s at %lld b/s: %lld bytes (%.1f%% of its bitrate)",
               g.probed ? "probe" : "pass 1", (long long)j->plan.video_bitrate, (long long)j->pass1_bytes,
               100.0 * g.drift);
    }
    if ((ret = sh_rate_first(&g, &bitrate)) < 0)
        return ret;
    j->final_rung = j->rung;
    j->final_audio = j->apar != NULL;
    for (n = 0; stop == SH_RATE_GO; ) {
        Attempt at = { .bitrate = bitrate };
        /* One-pass encoders (SVT-AV1 in FFmpeg 5.1) rely on this loop alone. */
        ret = sh_job_attempt(j, &at, j->source, &j->rung, 1, two_pass ? 2 : 0, -1, &too_low);
        if (ret < 0) {
            if (too_low)
                break;
            return ret;
        }
        a[n] = (ShRateAttempt){ at.bitrate, at.bytes, at.video_bytes };
        n++;
        (*attempts)++;
        sh_job_log_attempt(j, two_pass ? "pass 2" : "encode", &at);
        if (at.bytes > j->plan.target_bytes && (!j->smallest_over || at.bytes < j->smallest_over))
            j->smallest_over = at.bytes;
        keep_best(best, &at, j->plan.target_bytes);
        stop = sh_rate_next(&g, a, n, &bitrate);
    }
    if (stop == SH_RATE_ENCODER_MAX)
        sh_log(SH_LOG_VERBOSE, j->input, "%s takes at most %lld b/s: the file stays under the target",
               j->plan.venc->name, (long long)j->plan.venc->max_bitrate);
    if (best->path[0])
        return 0;      /* under the target, if not as close as hoped */
    return too_low ? SH_ERROR_TARGET_TOO_SMALL : AVERROR(ERANGE);
}

/* The smallest file this solver can make: the floor picture and rate at x264's
 * largest quantiser, without audio unless the user fixed its bitrate
 * (--audio-bitrate: then the smallest file that works carries it). */
int sh_job_encode_floor(Job *j, Attempt *at)
{
    const int audio = j->audio_fixed && j->apar;
    int ret;
    /* The rule's encoder, not the search's choice: the same floor, and so the
     * same smallest size, whatever the target (SVT-AV1's 64 px would not do). */
    if (j->plan.floor_venc)
        j->plan.venc = j->plan.floor_venc;
    at->bitrate = 0;
    if ((ret = sh_job_attempt(j, at, j->floor_source, &j->plan.floor, audio, 0, 51, NULL)) < 0)
        return ret;
    j->final_rung = j->plan.floor;
    j->final_audio = audio;
    sh_job_log_attempt(j, "floor", at);
    return 0;
}

int sh_job_finish_output(Job *j, Attempt *best)
{
    ShVerifyExpect e = { 0 };
    double frame_s = 1.0 / av_q2d(j->final_rung.fps);
    int ret;

    e.video_codec = j->plan.venc->codec;
    e.width = j->final_rung.width;
    e.height = j->final_rung.height;
    e.audio = j->final_audio;
    e.subtitles = sh_subs_tracks(j->subs);
    e.duration = j->duration;
    /* "Within a frame": a video frame, or an audio frame where that is longer. */
    e.tolerance = FFMAX(frame_s, e.audio ? j->plan.audio.frame_ms / 1000.0 : 0) + 0.002;
    e.max_bytes = j->plan.target_bytes;
    if ((ret = sh_output_verify(best->path, &e)) < 0)
        return ret;
    return sh_temp_commit(best->path, j->output, j->opt->force, "encoding");
}
