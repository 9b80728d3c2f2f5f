/*
 * fps: reduce the frame rate by dropping frames. Kept frames keep their
 * timestamps (never renumbered), so motion stays where it was in time and
 * the encoder sees the true spacing. A frame is kept when it is the first
 * to fall in a new output slot of 1/fps seconds. Frames whose timestamp is
 * not after the previous kept one (duplicates, reordering damage) fall in
 * an old slot and are dropped too, so output timestamps strictly increase.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/error.h>
#include <libavutil/mathematics.h>

#include "stages/stage.h"

typedef struct FpsPriv {
    AVRational tb, fps;
    int64_t origin;
    int64_t last_slot;
    int started, eof;
    AVFrame *held;
} FpsPriv;

int64_t sh_fps_slot(int64_t pts, int64_t origin, AVRational tb, AVRational fps)
{
    /* Up to 1/8 slot early still counts as the slot: jittery VFR timestamps
     * (29.97 written as 33/34 ms steps) must not make a kept frame miss. */
    AVRational slot_len = av_inv_q(fps);
    int64_t slack = av_rescale_q(1, (AVRational){ slot_len.num, slot_len.den * 8 }, tb);
    int64_t t = pts - origin + slack;
    return av_rescale_q_rnd(t, tb, slot_len, AV_ROUND_DOWN);
}

static int fps_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    FpsPriv *s = priv;
    if (args->fps.num <= 0 || args->fps.den <= 0)
        return AVERROR(EINVAL);
    s->tb = in->time_base;
    s->fps = args->fps;
    if (!(s->held = av_frame_alloc()))
        return AVERROR(ENOMEM);
    out->frame_rate = args->fps;
    return 0;
}

static int fps_send(void *priv, const AVFrame *in)
{
    FpsPriv *s = priv;
    int64_t slot;

    if (!in) {
        s->eof = 1;
        return 0;
    }
    if (s->held->buf[0])
        return AVERROR(EAGAIN);
    if (in->pts == AV_NOPTS_VALUE)
        return 0; /* cannot place it in time; the input layer fills pts where it can */
    if (!s->started) {
        s->origin = in->pts;
        s->last_slot = -1;
        s->started = 1;
    }
    slot = sh_fps_slot(in->pts, s->origin, s->tb, s->fps);
    if (slot <= s->last_slot)
        return 0;
    s->last_slot = slot;
    return av_frame_ref(s->held, in);
}

static int fps_receive(void *priv, AVFrame *out)
{
    FpsPriv *s = priv;
    if (s->held->buf[0]) {
        av_frame_move_ref(out, s->held);
        return 0;
    }
    return s->eof ? AVERROR_EOF : AVERROR(EAGAIN);
}

static void fps_uninit(void *priv)
{
    FpsPriv *s = priv;
    av_frame_free(&s->held);
}

const ShStageDesc sh_stage_fps = {
    .name = "fps",
    .type = AVMEDIA_TYPE_VIDEO,
    .priv_size = sizeof(FpsPriv),
    .init = fps_init,
    .send = fps_send,
    .receive = fps_receive,
    .uninit = fps_uninit,
};
