/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "faces/track.h"
#include "common/log.h"
#include "common/tmpspace.h"
#include "solver/sample.h"
#include "stages/stage.h"

#define SH_SAMPLE_MASTER_MAX_H 1080
#define SH_SAMPLE_EVAL_MAX_H 720
#define SH_SAMPLE_MASTER_MEM ((size_t)48 << 20)
#define SH_SAMPLE_REF_MEM ((size_t)32 << 20)

typedef struct SampleCtx {
    ShSample *s;
    ShStage *to_master, *to_ref;
    AVFrame *tmp, *tmp2;
} SampleCtx;

/* Scale one source frame to the master size, and (counted frames) to the reference size. */
static int keep_frame(SampleCtx *c, const AVFrame *f, int counted)
{
    int ret;
    if ((ret = sh_stage_send(c->to_master, f)) < 0 ||
        (ret = sh_stage_receive(c->to_master, c->tmp)) < 0)
        return ret;
    ret = sh_frame_cache_put(c->s->master, c->tmp);
    if (ret >= 0 && counted &&
        (ret = sh_stage_send(c->to_ref, c->tmp)) >= 0 &&
        (ret = sh_stage_receive(c->to_ref, c->tmp2)) >= 0)
        ret = sh_frame_cache_put(c->s->ref, c->tmp2);
    av_frame_unref(c->tmp);
    av_frame_unref(c->tmp2);
    return ret;
}

int sh_sample_collect(ShSample **ps, const char *path, const ShInputInfo *info, double start,
                      double duration, double fraction, int min_frames, int max_frames)
{
    SampleCtx c = { 0 };
    ShInput *in = NULL;
    ShSample *s = av_mallocz(sizeof(*s));
    ShStreamInfo vin = { 0 };
    ShStageArgs ma = { 0 }, ra = { 0 };
    AVFrame *frame = av_frame_alloc();
    double fps = info->frame_rate.num > 0 ? av_q2d(info->frame_rate) : 25;
    int64_t total = (int64_t)(duration * fps), want, per_seg, warm, last_pts = AV_NOPTS_VALUE;
    int swap = info->rotation == 90 || info->rotation == 270;
    int64_t seg_src[8][2] = { { 0 } };   /* source pts of each counted stretch */
    int ret, seg = 0, seq, full = 0;
    enum AVMediaType type;

    c.s = s;
    c.tmp = av_frame_alloc();
    c.tmp2 = av_frame_alloc();
    if (!s || !frame || !c.tmp || !c.tmp2) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (fps > 120)
        fps = 25;
    want = av_clip64((int64_t)(total * fraction), min_frames, max_frames);
    /* A segment every ~20 s of film, 1 to 6 of them, each after a warm-up of
     * half its counted length (at most a second). */
    s->segments = (int)av_clip64(llrint(duration / 20), 1, 6);  /* <= seg_start's size */
    per_seg = FFMAX(want / s->segments, 1);
    warm = FFMIN(per_seg / 2, (int64_t)fps);
    /* Short inputs: read straight through, skipping between the segments. */
    seq = want * 2 >= total;
    if (seq) {
        s->segments = 1;
        per_seg = FFMIN(want, FFMAX(total, 1));
        warm = FFMIN(per_seg / 4, (int64_t)fps);
    }

    s->time_base = info->video_tb;
    sh_scale_dims(info->width, info->height, info->sar, info->rotation,
                  FFMIN((int)(swap ? info->width * av_q2d(info->sar) : info->height), SH_SAMPLE_MASTER_MAX_H),
                  &s->master_w, &s->master_h);
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, SH_SAMPLE_EVAL_MAX_H,
                  &s->eval_w, &s->eval_h);
    vin.type = AVMEDIA_TYPE_VIDEO;
    vin.time_base = info->video_tb;
    vin.width = info->width;
    vin.height = info->height;
    vin.sar = info->sar;
    ma.width = s->master_w;
    ma.height = s->master_h;
    ma.pix_fmt = AV_PIX_FMT_YUV420P;
    ra.width = s->eval_w;
    ra.height = s->eval_h;
    ra.pix_fmt = AV_PIX_FMT_GRAY8;
    if ((ret = sh_stage_create(&c.to_master, "scale", &vin, &ma)) < 0 ||
        (ret = sh_stage_create(&c.to_ref, "scale", &c.to_master->out, &ra)) < 0 ||
        (ret = sh_frame_cache_open(&s->master, ma.width, ma.height, ma.pix_fmt, SH_SAMPLE_MASTER_MEM)) < 0 ||
        (ret = sh_frame_cache_open(&s->ref, ra.width, ra.height, ra.pix_fmt, SH_SAMPLE_REF_MEM)) < 0)
        goto end;
    /* Half the temporary disk bound: past it the sample ends there (the
     * reference pictures, gray and at most 720p, stay far under the rest). */
    if (sh_tmp_current() < INT64_MAX)
        sh_frame_cache_set_disk_limit(s->master, sh_tmp_current() / 2, SH_CACHE_FULL_REFUSE);
    /* The pictures the job will encode: deinterlaced, tone-mapped as its input is. */
    if ((ret = sh_input_open(&in, path)) < 0 || (ret = sh_input_set_picture_like(in, info)) < 0)
        goto end;

    for (seg = 0; seg < s->segments; seg++) {
        double centre = start + duration * (seg + 0.5) / s->segments;
        double seg_len = (per_seg + warm) / fps;
        double t0 = seq ? start : FFMAX(start, centre - seg_len / 2);
        int64_t ts = info->video_start + (int64_t)(t0 / av_q2d(info->video_tb));
        int64_t got = 0, first = AV_NOPTS_VALUE, offset = s->end_pts, src_pts = 0;

        s->seg_start[seg] = s->seg_measure[seg] = offset;

        if ((seg || t0 > start + 0.5) && sh_input_seek(in, ts) < 0 && seg) {
            /* Not seekable: what was sampled from the start will do. */
            break;
        }
        while (got < per_seg + warm && (ret = sh_input_read(in, frame, &type)) >= 0) {
            if (type != AVMEDIA_TYPE_VIDEO || frame->pts < ts) {
                av_frame_unref(frame);
                continue;
            }
            s->source_frames++;
            if (first == AV_NOPTS_VALUE)
                first = frame->pts;
            /* One timeline: this segment follows the last one. */
            src_pts = frame->pts;
            frame->pts = offset + (frame->pts - first);
            if (last_pts != AV_NOPTS_VALUE && frame->pts <= last_pts) {
                av_frame_unref(frame);
                continue;
            }
            last_pts = frame->pts;
            if (got == warm) {
                s->seg_measure[seg] = frame->pts;
                seg_src[seg][0] = src_pts;
            }
            seg_src[seg][1] = src_pts + 1;
            ret = keep_frame(&c, frame, got >= warm);
            av_frame_unref(frame);
            if (ret == SH_ERROR_CACHE_FULL) {
                sh_log(SH_LOG_VERBOSE, path, "sampling: stopped at the temporary disk bound");
                full = 1;
                ret = 0;
                break;
            }
            if (ret < 0)
                goto end;
            got++;
        }
        if (ret < 0 && ret != AVERROR_EOF)
            goto end;
        if (last_pts != AV_NOPTS_VALUE)
            s->end_pts = last_pts + FFMAX(av_rescale_q(1, av_inv_q(av_d2q(fps, 100000)), info->video_tb), 1);
        s->seg_end[seg] = s->end_pts;
        if (got > warm)
            s->seconds += (s->seg_end[seg] - s->seg_measure[seg]) * av_q2d(info->video_tb);
        ret = 0;
        if (got < per_seg + warm || full)
            seg++;  /* the input ended (or the disk bound): no more segments */
        if (got < per_seg + warm || full)
            break;
    }
    s->segments = FFMIN(seg, s->segments);
    if (!sh_frame_cache_count(s->master)) {
        sh_log(SH_LOG_VERBOSE, path, "sampling: no video frame could be decoded");
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    /* Difficulty: the source's bitrate over the counted stretches against
     * its bitrate over the whole range. */
    s->difficulty = 1;
    if (!seq && s->seconds > 0) {
        int64_t from = info->video_start + (int64_t)(start / av_q2d(info->video_tb));
        int64_t to = from + (int64_t)(duration / av_q2d(info->video_tb));
        int64_t whole = sh_input_source_bytes(in, from, to), part = 0;
        for (int k = 0; k < s->segments && whole > 0; k++) {
            int64_t b = sh_input_source_bytes(in, seg_src[k][0], seg_src[k][1]);
            if (b < 0) {
                part = 0;
                break;
            }
            part += b;
        }
        if (whole > 0 && part > 0)
            s->difficulty = av_clipd((part / s->seconds) / (whole / duration), 0.25, 4);
    }
    if (!sh_frame_cache_count(s->ref) || !(s->seconds > 0)) {
        sh_log(SH_LOG_VERBOSE, path, "sampling: too short to sample");
        ret = AVERROR(EINVAL);
        goto end;
    }
    /* The search reads both from several threads at once. */
    if ((ret = sh_frame_cache_seal(s->master)) < 0 || (ret = sh_frame_cache_seal(s->ref)) < 0)
        goto end;
    *ps = s;
    s = NULL;
end:
    sh_input_close(&in);
    sh_stage_free(&c.to_master);
    sh_stage_free(&c.to_ref);
    av_frame_free(&frame);
    av_frame_free(&c.tmp);
    av_frame_free(&c.tmp2);
    sh_sample_free(&s);
    return ret;
}

void sh_sample_free(ShSample **ps)
{
    ShSample *s = *ps;
    if (!s)
        return;
    sh_frame_cache_free(&s->master);
    sh_frame_cache_free(&s->ref);
    sh_face_track_free(&s->faces);
    av_freep(ps);
}
