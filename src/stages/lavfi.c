/*
 * Stages built from a libavfilter graph: deinterlace (bwdif) and tonemap
 * (zimg's zscale and the tonemap filter: HDR to SDR BT.709). One frame in,
 * one frame out, timestamps kept (rescaled back from the graph's output
 * time base, which bwdif halves). The graph is made from the first frame
 * and made again, after the old one is drained, when the picture's size or
 * format changes mid-stream, as some files do.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>

#include "stages/stage.h"

typedef struct LavfiPriv {
    char spec[512];
    AVRational tb;            /* of the frames sent and received */
    AVRational sar;
    enum AVColorTransferCharacteristic trc;  /* tonemap: for frames that do not say */
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    int w, h, fmt;            /* what the graph was made for */
    AVFrame *pending;         /* first frame of a new size: sent once the old graph is drained */
    int draining, eof;
} LavfiPriv;

static int graph_make(LavfiPriv *p, const AVFrame *f)
{
    AVFilterInOut *outs = avfilter_inout_alloc(), *ins = avfilter_inout_alloc();
    char args[256];
    int ret;

    avfilter_graph_free(&p->graph);
    if (!outs || !ins || !(p->graph = avfilter_graph_alloc())) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d",
             f->width, f->height, f->format, p->tb.num, p->tb.den,
             p->sar.num > 0 ? p->sar.num : 1, p->sar.den > 0 ? p->sar.den : 1);
    if ((ret = avfilter_graph_create_filter(&p->src, avfilter_get_by_name("buffer"), "in", args, NULL,
                                            p->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&p->sink, avfilter_get_by_name("buffersink"), "out", NULL, NULL,
                                            p->graph)) < 0)
        goto end;
    outs->name = av_strdup("in");
    outs->filter_ctx = p->src;
    ins->name = av_strdup("out");
    ins->filter_ctx = p->sink;
    if (!outs->name || !ins->name) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = avfilter_graph_parse_ptr(p->graph, p->spec, &ins, &outs, NULL)) < 0 ||
        (ret = avfilter_graph_config(p->graph, NULL)) < 0)
        goto end;
    p->w = f->width;
    p->h = f->height;
    p->fmt = f->format;
end:
    avfilter_inout_free(&outs);
    avfilter_inout_free(&ins);
    if (ret < 0)
        avfilter_graph_free(&p->graph);
    return ret;
}

/* Hand a frame to the graph. The tone mapper needs to know what the
 * picture is: PQ and HLG come in BT.2020 whatever a stream forgot to say. */
static int graph_push(LavfiPriv *p, const AVFrame *in)
{
    AVFrame *f = av_frame_clone(in);
    int ret;
    if (!f)
        return AVERROR(ENOMEM);
    if (p->trc != AVCOL_TRC_UNSPECIFIED) {
        if (f->color_trc == AVCOL_TRC_UNSPECIFIED)
            f->color_trc = p->trc;
        if (f->color_primaries == AVCOL_PRI_UNSPECIFIED)
            f->color_primaries = AVCOL_PRI_BT2020;
        if (f->colorspace == AVCOL_SPC_UNSPECIFIED)
            f->colorspace = AVCOL_SPC_BT2020_NCL;
        if (f->color_range == AVCOL_RANGE_UNSPECIFIED)
            f->color_range = AVCOL_RANGE_MPEG;
    }
    ret = av_buffersrc_add_frame_flags(p->src, f, 0);
    av_frame_free(&f);
    return ret;
}

static int lavfi_send(void *priv, const AVFrame *in)
{
    LavfiPriv *p = priv;
    int ret;
    if (p->pending && p->pending->buf[0])
        return AVERROR(EAGAIN);
    if (!in) {
        p->eof = 1;
        return p->graph ? av_buffersrc_add_frame_flags(p->src, NULL, 0) : 0;
    }
    if (p->graph && (in->width != p->w || in->height != p->h || in->format != p->fmt)) {
        /* Drain the old graph first: its held frame comes out before this one. */
        if ((ret = av_frame_ref(p->pending, in)) < 0)
            return ret;
        p->draining = 1;
        return av_buffersrc_add_frame_flags(p->src, NULL, 0);
    }
    if (!p->graph && (ret = graph_make(p, in)) < 0)
        return ret;
    return graph_push(p, in);
}

static int lavfi_receive(void *priv, AVFrame *out)
{
    LavfiPriv *p = priv;
    int ret;
    for (;;) {
        if (!p->graph)
            return p->eof ? AVERROR_EOF : AVERROR(EAGAIN);
        ret = av_buffersink_get_frame(p->sink, out);
        if (ret >= 0) {
            if (out->pts != AV_NOPTS_VALUE)
                out->pts = av_rescale_q(out->pts, av_buffersink_get_time_base(p->sink), p->tb);
            out->sample_aspect_ratio = p->sar;
            return 0;
        }
        if (ret != AVERROR_EOF || !p->draining)
            return ret;
        p->draining = 0;
        if ((ret = graph_make(p, p->pending)) >= 0)
            ret = graph_push(p, p->pending);
        av_frame_unref(p->pending);
        if (ret < 0)
            return ret;
    }
}

static void lavfi_uninit(void *priv)
{
    LavfiPriv *p = priv;
    avfilter_graph_free(&p->graph);
    av_frame_free(&p->pending);
}

static int lavfi_init(LavfiPriv *p, const ShStreamInfo *in, const char *spec)
{
    if (snprintf(p->spec, sizeof(p->spec), "%s", spec) >= (int)sizeof(p->spec))
        return AVERROR(EINVAL);
    p->tb = in->time_base;
    p->sar = in->sar;
    if (!(p->pending = av_frame_alloc()))
        return AVERROR(ENOMEM);
    return 0;
}

/*
 * bwdif (yadif's edge-directed successor): one frame out per frame in
 * (send_frame), the frame rate and timestamps kept; the field order from
 * each frame. deint 2 touches only the frames the decoder flags
 * interlaced, so progressive stretches of a mixed stream stay sharp.
 */
static int deinterlace_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    LavfiPriv *p = priv;
    char spec[128];
    (void)out;
    if (in->width < 3 || in->height < 4)
        return AVERROR(EINVAL);   /* bwdif's smallest picture */
    p->trc = AVCOL_TRC_UNSPECIFIED;
    snprintf(spec, sizeof(spec), "bwdif=mode=send_frame:parity=auto:deint=%s",
             args->deint == 2 ? "interlaced" : "all");
    return lavfi_init(p, in, spec);
}

/*
 * PQ or HLG to SDR BT.709, 8-bit 4:2:0: to linear light with 100 cd/m2 as
 * SDR white, BT.2020 to BT.709 primaries in float RGB, Hable's curve (it
 * keeps the highlights' detail, desat=0 keeps their colour), then BT.709's
 * transfer and matrix in limited range: the chain FFmpeg's documentation
 * gives. tests/cli/test_hostile_colour.sh compares it with the ffmpeg
 * program's on the same input.
 */
static int tonemap_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    LavfiPriv *p = priv;
    p->trc = args->color_trc == AVCOL_TRC_ARIB_STD_B67 ? AVCOL_TRC_ARIB_STD_B67 : AVCOL_TRC_SMPTE2084;
    out->pix_fmt = AV_PIX_FMT_YUV420P;
    return lavfi_init(p, in, "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,"
                             "tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p");
}

const ShStageDesc sh_stage_deinterlace = {
    .name = "deinterlace",
    .type = AVMEDIA_TYPE_VIDEO,
    .priv_size = sizeof(LavfiPriv),
    .init = deinterlace_init,
    .send = lavfi_send,
    .receive = lavfi_receive,
    .uninit = lavfi_uninit,
};

const ShStageDesc sh_stage_tonemap = {
    .name = "tonemap",
    .type = AVMEDIA_TYPE_VIDEO,
    .priv_size = sizeof(LavfiPriv),
    .init = tonemap_init,
    .send = lavfi_send,
    .receive = lavfi_receive,
    .uninit = lavfi_uninit,
};
