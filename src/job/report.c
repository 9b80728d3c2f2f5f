/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "faces/score.h"
#include "input/input.h"
#include "job/report.h"
#include "metrics/temporal.h"
#include "neural/reader.h"
#include "stages/stage.h"

typedef struct Side {
    ShInput *in;
    const ShInputInfo *info;
    ShStage *to_eval;
    AVFrame *frame, *eval;
    int64_t origin;           /* pts that is time 0 */
    int eof;
    ShNnReader *nn;           /* the learned codec's file (docs/NEURAL.md) */
} Side;

static int side_open(Side *s, const char *path, const ShInputInfo *like, double start, int w, int h)
{
    ShStreamInfo si = { 0 };
    ShStageArgs sa = { .width = w, .height = h, .pix_fmt = AV_PIX_FMT_GRAY8 };
    int ret;
    if (!like && (ret = sh_nn_reader_open(&s->nn, path)) < 0)
        return ret;
    if (!s->nn && ((ret = sh_input_open(&s->in, path)) < 0 ||
                   (like && (ret = sh_input_set_picture_like(s->in, like)) < 0)))
        return ret;
    s->info = s->nn ? sh_nn_reader_info(s->nn) : sh_input_info(s->in);
    si.type = AVMEDIA_TYPE_VIDEO;
    si.time_base = s->info->video_tb;
    si.width = s->info->width;
    si.height = s->info->height;
    si.sar = s->info->sar;
    s->origin = s->info->video_start + (int64_t)(start / av_q2d(s->info->video_tb));
    if (!(s->frame = av_frame_alloc()) || !(s->eval = av_frame_alloc()))
        return AVERROR(ENOMEM);
    return sh_stage_create(&s->to_eval, "scale", &si, &sa);
}

static void side_close(Side *s)
{
    sh_nn_reader_free(&s->nn);
    sh_input_close(&s->in);
    sh_stage_free(&s->to_eval);
    av_frame_free(&s->frame);
    av_frame_free(&s->eval);
}

/* The next video frame, or AVERROR_EOF. Its time in seconds goes to *t. */
static int side_next(Side *s, double *t)
{
    enum AVMediaType type;
    int ret;
    if (s->nn) {
        if ((ret = sh_nn_reader_read(s->nn, s->frame)) < 0)
            return ret;
        *t = s->frame->pts * av_q2d(s->info->video_tb);
        return 0;
    }
    while ((ret = sh_input_read(s->in, s->frame, &type)) >= 0) {
        if (type == AVMEDIA_TYPE_VIDEO)
            break;
        av_frame_unref(s->frame);
    }
    if (ret < 0)
        return ret;
    *t = (s->frame->pts - s->origin) * av_q2d(s->info->video_tb);
    return 0;
}

static int side_to_eval(Side *s)
{
    int ret = sh_stage_send(s->to_eval, s->frame);
    av_frame_unref(s->frame);
    if (ret < 0)
        return ret;
    av_frame_unref(s->eval);
    return sh_stage_receive(s->to_eval, s->eval);
}

int sh_report_measure(const char *source, const ShInputInfo *like, const char *output, double start, double duration,
                      int eval_w, int eval_h, const ShFaceTrack *faces, int look, ShQuality *q, double *tssim,
                      ShQuality *face_q)
{
    Side src = { 0 }, out = { 0 };
    ShQualityAcc acc = { 0 }, facc = { 0 };
    ShFaceTrack *own = NULL;
    ShFaceRegion r[SH_FACES_MAX];
    int64_t pts;
    int nr = 0;
    ShTemporalAcc tacc = { 0 };
    double ts, to = 0, half_frame;
    int ret, have_next = 0;

    if ((ret = side_open(&src, source, like, start, eval_w, eval_h)) < 0 ||
        (ret = side_open(&out, output, NULL, 0, eval_w, eval_h)) < 0)
        goto end;
    memset(face_q, 0, sizeof(*face_q));
    /* The job looked for none (regions off): look now, once a second, so the
     * faces' quality is there to compare with a run that gave them the bits. */
    if (!faces && look && sh_face_track_open(&own, src.info->video_tb, 1.0, src.info->rotation) >= 0)
        faces = own;
    /* An output frame "is shown" from its time on; allow for timestamp rounding. */
    half_frame = src.info->frame_rate.num > 0 ? 0.5 / av_q2d(src.info->frame_rate) : 0.02;
    while ((ret = side_next(&src, &ts)) >= 0) {
        if (ts < -1e-6 || ts >= duration) {
            av_frame_unref(src.frame);
            if (ts >= duration)
                break;
            continue;
        }
        /* Advance the output to the last picture shown at ts. */
        for (;;) {
            if (!have_next && !out.eof) {
                ret = side_next(&out, &to);
                if (ret == AVERROR_EOF)
                    out.eof = 1;
                else if (ret < 0)
                    goto end;
                else
                    have_next = 1;
            }
            if (!have_next || to > ts + half_frame)
                break;
            if ((ret = side_to_eval(&out)) < 0)
                goto end;
            have_next = 0;
        }
        pts = src.frame->pts;
        if (own && (ret = sh_face_track_frame(own, src.frame, 0)) < 0)
            goto end;
        if ((ret = side_to_eval(&src)) < 0)
            goto end;
        if (out.eval->buf[0]) {
            ShQuality fq;
            if ((ret = sh_quality_frame(src.eval, out.eval, &fq)) < 0 ||
                (ret = sh_temporal_add(&tacc, src.eval, out.eval)) < 0)
                goto end;
            sh_quality_acc_add(&acc, &fq);
            if (faces && (nr = sh_face_track_at(faces, pts, r, SH_FACES_MAX)) > 0 &&
                !sh_quality_regions(src.eval, out.eval, r, nr, &fq))
                sh_quality_acc_add(&facc, &fq);
        }
    }
    if (ret < 0 && ret != AVERROR_EOF)
        goto end;
    if ((ret = sh_quality_acc_result(&acc, q)) < 0)
        goto end;
    if (facc.frames)
        sh_quality_acc_result(&facc, face_q);
    /* One frame has no difference to compare: nothing moved. */
    if (sh_temporal_result(&tacc, tssim) < 0)
        *tssim = 1;
end:
    sh_temporal_free(&tacc);
    sh_face_track_free(&own);
    side_close(&src);
    side_close(&out);
    return ret;
}
