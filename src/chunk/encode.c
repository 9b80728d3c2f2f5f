/*
 * One chunk of a plan: a job over the chunk's time range with the plan's
 * encoder, picture and rate pinned, no sampling search, no audio, and the
 * chunk's budget as the target. The job's guarantees hold for the chunk:
 * at most its budget, verified, renamed into place, nothing left on failure.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/rational.h>

#include "common/log.h"
#include "chunk/chunk.h"
#include "shrink/job.h"

int sh_chunk_encode(const ShChunkPlan *p, int k, const char *input, const char *output,
                          ShJobResult *res)
{
    static const char *const speed_names[] = { "balanced", "fast", "best" };
    const ShChunk *c;
    ShOptions o = { 0 };
    ShJobPlan jp = { 0 };
    int ret;

    if (k < 0 || k >= p->nchunks) {
        sh_log(SH_LOG_ERROR, NULL, "chunk %d: the plan has chunks 0 to %d", k, p->nchunks - 1);
        return SH_ERROR_BAD_OPTION;
    }
    c = &p->chunks[k];
    if (!input)
        input = p->input;
    if ((ret = sh_chunk_check_input(p, input)) < 0)
        return ret;
    o.input = input;
    o.output = output;
    o.format = "mp4";
    o.target_bytes = c->budget;
    o.no_audio = 1;
    o.subs = SH_SUBS_NONE;
    /* A rerun replaces the chunk: an engine retrying a task must not fail on its own earlier try. */
    o.force = 1;
    o.start = c->start_s;
    /* The last chunk runs to the film's end as the whole-film job would (its decoded end). */
    o.end = k == p->nchunks - 1 ? p->trim_end : c->end_s;
    /* The plan's choice over [start, end) to the chunk's budget: made for the
     * whole film, so the job budgets it again for this range with the
     * encoder, picture and rate pinned. A chunk's smallest picture is the
     * plan's own: chunks of another picture would not join. */
    jp.version = SH_JOB_PLAN_VERSION;
    jp.start = p->trim_start;
    jp.end = p->trim_end;
    jp.target_bytes = p->target_bytes;
    jp.duration = p->duration;
    snprintf(jp.container, sizeof(jp.container), "mp4");
    snprintf(jp.encoder, sizeof(jp.encoder), "%s", p->encoder);
    snprintf(jp.floor_encoder, sizeof(jp.floor_encoder), "%s", p->encoder);
    jp.width = jp.floor_width = p->width;
    jp.height = jp.floor_height = p->height;
    jp.display_height = p->display_height;
    jp.crop = p->crop;
    jp.fps_num = jp.floor_fps_num = p->fps.num;
    jp.fps_den = jp.floor_fps_den = p->fps.den;
    ret = sh_job_encode(&o, &jp, res);
    if (ret < 0)
        return ret;
    if (res->width != p->width || res->height != p->height || fabs(res->fps - av_q2d(p->fps)) > 1e-6 ||
        !res->encoder || strcmp(res->encoder, p->encoder)) {
        /* The job chose differently from the plan: the chunks would not join. */
        sh_log(SH_LOG_ERROR, output, "chunk %d came out %s %dx%d at %.4g fps, the plan says %s %dx%d at %.4g fps "
               "(speed %s)", k, res->encoder ? res->encoder : "?", res->width, res->height, res->fps,
               p->encoder, p->width, p->height, av_q2d(p->fps), speed_names[p->speed % 3]);
        remove(output);
        return SH_ERROR_VERIFY;
    }
    return 0;
}
