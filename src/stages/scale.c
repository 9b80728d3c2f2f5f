/*
 * scale: resize and convert with libswscale. The output has square pixels
 * (the display aspect is baked into the size) and even dimensions (4:2:0).
 * Area averaging for large reductions (fast and alias-free), bicubic
 * otherwise. The context is re-made if the input size or format changes
 * mid-stream, which some files do.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/error.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "stages/stage.h"

typedef struct ScalePriv {
    struct SwsContext *sws;
    int out_w, out_h;
    enum AVPixelFormat out_fmt;
    AVFrame *held;
    int eof;
} ScalePriv;

static int even_at_least_2(double v)
{
    int r = 2 * (int)lrint(v / 2.0);
    return r < 2 ? 2 : r;
}

void sh_scale_dims(int src_w, int src_h, AVRational sar, int rotation,
                   int display_height, int *out_w, int *out_h)
{
    double sar_d = (sar.num > 0 && sar.den > 0) ? av_q2d(sar) : 1.0;
    double disp_w = src_w * sar_d, disp_h = src_h;
    int swap = rotation == 90 || rotation == 270;
    int h, w;

    if (swap) {
        double t = disp_w;
        disp_w = disp_h;
        disp_h = t;
    }
    /* Never upscale: the display height is bounded by the source's. */
    if (display_height <= 0 || display_height > disp_h)
        display_height = (int)lrint(disp_h);
    h = even_at_least_2(display_height);
    if (h > disp_h && disp_h >= 2)
        h = 2 * (int)(disp_h / 2);
    w = even_at_least_2(h * disp_w / disp_h);
    /* Rounding to the nearest even may pass the source (323 -> 324): step back.
     * A fractional display width (853.33) may still round up to 854. */
    if (w > (int)ceil(disp_w - 1e-9) && w > 2)
        w -= 2;
    if (swap) {
        *out_w = h;
        *out_h = w;
    } else {
        *out_w = w;
        *out_h = h;
    }
}

static int is_yuvj(enum AVPixelFormat f)
{
    return f == AV_PIX_FMT_YUVJ420P || f == AV_PIX_FMT_YUVJ422P || f == AV_PIX_FMT_YUVJ444P ||
           f == AV_PIX_FMT_YUVJ440P || f == AV_PIX_FMT_YUVJ411P;
}

static enum AVPixelFormat full_range_alias(enum AVPixelFormat f)
{
    switch (f) {
    case AV_PIX_FMT_YUV420P: return AV_PIX_FMT_YUVJ420P;
    case AV_PIX_FMT_YUV422P: return AV_PIX_FMT_YUVJ422P;
    case AV_PIX_FMT_YUV444P: return AV_PIX_FMT_YUVJ444P;
    case AV_PIX_FMT_YUV440P: return AV_PIX_FMT_YUVJ440P;
    case AV_PIX_FMT_YUV411P: return AV_PIX_FMT_YUVJ411P;
    default:                 return f;
    }
}

static int scale_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    ScalePriv *s = priv;
    if (args->width < 2 || args->height < 2 || (args->width | args->height) & 1)
        return AVERROR(EINVAL);
    s->out_w = args->width;
    s->out_h = args->height;
    s->out_fmt = args->pix_fmt == AV_PIX_FMT_NONE ? AV_PIX_FMT_YUV420P : args->pix_fmt;
    if (!(s->held = av_frame_alloc()))
        return AVERROR(ENOMEM);
    (void)in;
    out->width = s->out_w;
    out->height = s->out_h;
    out->pix_fmt = s->out_fmt;
    out->sar = (AVRational){ 1, 1 };
    return 0;
}

static int scale_send(void *priv, const AVFrame *in)
{
    ScalePriv *s = priv;
    AVFrame *o = s->held;
    enum AVPixelFormat src_fmt;
    int flags, ret, full;

    if (!in) {
        s->eof = 1;
        return 0;
    }
    if (o->buf[0])
        return AVERROR(EAGAIN);
    full = in->color_range == AVCOL_RANGE_JPEG;
    if (in->width == s->out_w && in->height == s->out_h && in->format == s->out_fmt && !full) {
        ret = av_frame_ref(o, in);
        if (ret >= 0)
            o->sample_aspect_ratio = (AVRational){ 1, 1 };
        return ret;
    }
    /* Full-range planar YUV is the matching yuvj format to swscale, which then
     * converts the range even where it would otherwise just copy the planes. */
    src_fmt = full ? full_range_alias(in->format) : in->format;
    flags = (in->width >= 2 * s->out_w || in->height >= 2 * s->out_h) ? SWS_AREA : SWS_BICUBIC;
    s->sws = sws_getCachedContext(s->sws, in->width, in->height, src_fmt,
                                  s->out_w, s->out_h, s->out_fmt,
                                  flags | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
    if (!s->sws)
        return AVERROR(EINVAL);
    {
        /* Set the source range every frame: a cached context keeps the last one. */
        int *inv, *tab, src_range, dst_range, bri, con, sat;
        int want = full || src_fmt != in->format || is_yuvj(src_fmt);
        if (sws_getColorspaceDetails(s->sws, &inv, &src_range, &tab, &dst_range, &bri, &con, &sat) >= 0 &&
            (src_range != want || dst_range != 0))
            sws_setColorspaceDetails(s->sws, inv, want, tab, 0, bri, con, sat);
    }
    o->width = s->out_w;
    o->height = s->out_h;
    o->format = s->out_fmt;
    if ((ret = av_frame_get_buffer(o, 0)) < 0)
        return ret;
    ret = sws_scale(s->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height,
                    o->data, o->linesize);
    if (ret < 0) {
        av_frame_unref(o);
        return ret;
    }
    av_frame_copy_props(o, in);
    o->sample_aspect_ratio = (AVRational){ 1, 1 };
    o->color_range = AVCOL_RANGE_MPEG;
    return 0;
}

static int scale_receive(void *priv, AVFrame *out)
{
    ScalePriv *s = priv;
    if (s->held->buf[0]) {
        av_frame_move_ref(out, s->held);
        return 0;
    }
    return s->eof ? AVERROR_EOF : AVERROR(EAGAIN);
}

static void scale_uninit(void *priv)
{
    ScalePriv *s = priv;
    sws_freeContext(s->sws);
    av_frame_free(&s->held);
}

const ShStageDesc sh_stage_scale = {
    .name = "scale",
    .type = AVMEDIA_TYPE_VIDEO,
    .priv_size = sizeof(ScalePriv),
    .init = scale_init,
    .send = scale_send,
    .receive = scale_receive,
    .uninit = scale_uninit,
};
