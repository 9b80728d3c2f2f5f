/*
 * Picture stages on the input: decoded frames -> [deinterlace] -> [tonemap]
 * -> the reader. Each is a registry stage (src/stages/lavfi.c); this file
 * decides which run and drives them.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/error.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>

#include "common/log.h"
#include "input/prep.h"
#include "shrink/shrink.h"
#include "stages/stage.h"

struct ShPrep {
    const ShInputInfo *info;
    int deint_mode;
    int decided;              /* deinterlacing decided (at the first video frame) */
    int deint;                /* 0 none, else ShStageArgs.deint */
    int tonemap;
    ShStage *st[2];
    int n;
    int ended[2];             /* the end of the stream was sent to st[i] */
    int in_eof;
};

static int is_hdr(enum AVColorTransferCharacteristic trc)
{
    return trc == AVCOL_TRC_SMPTE2084 || trc == AVCOL_TRC_ARIB_STD_B67;
}

int sh_prep_open(ShPrep **pp, ShInputInfo *info, int hdr, int deint)
{
    ShPrep *p = av_mallocz(sizeof(*p));
    ShColour *o = &info->out_colour;
    if (!p)
        return AVERROR(ENOMEM);
    p->info = info;
    p->deint_mode = deint;
    info->picture_set = 1;
    info->hdr_mode = hdr;
    info->deint_mode = deint;
    info->hdr = is_hdr(info->colour.trc);
    p->tonemap = info->tonemapped = info->hdr && hdr != SH_HDR_KEEP;
    *o = info->colour;
    if (p->tonemap) {
        o->primaries = AVCOL_PRI_BT709;
        o->trc = AVCOL_TRC_BT709;
        o->space = AVCOL_SPC_BT709;
    } else if (o->space == AVCOL_SPC_RGB) {
        /* swscale makes YUV from RGB with its default, BT.601's matrix. */
        o->space = AVCOL_SPC_SMPTE170M;
    }
    /* The scale stage always delivers limited range. */
    o->range = AVCOL_RANGE_MPEG;
    if (p->tonemap)
        sh_log(SH_LOG_VERBOSE, info->path, "HDR (%s): tone-mapped to SDR BT.709 (--hdr keep keeps it)",
               av_color_transfer_name(info->colour.trc));
    *pp = p;
    return 0;
}

static int make_stages(ShPrep *p, const AVFrame *f)
{
    ShStreamInfo si = { 0 };
    ShStageArgs a = { 0 };
    int ret;
    si.type = AVMEDIA_TYPE_VIDEO;
    si.time_base = p->info->video_tb;
    si.width = f->width;
    si.height = f->height;
    si.pix_fmt = f->format;
    si.sar = p->info->sar;
    a.deint = p->deint;
    a.color_trc = p->info->colour.trc;
    p->n = 0;
    p->ended[0] = p->ended[1] = 0;
    if (p->deint) {
        if ((ret = sh_stage_create(&p->st[p->n], "deinterlace", &si, &a)) < 0)
            return ret;
        si = p->st[p->n++]->out;
    }
    if (p->tonemap) {
        if ((ret = sh_stage_create(&p->st[p->n], "tonemap", &si, &a)) < 0)
            return ret;
        p->n++;
    }
    return 0;
}

static void free_stages(ShPrep *p)
{
    for (int i = 0; i < 2; i++)
        sh_stage_free(&p->st[i]);
    p->n = 0;
}

/* The first video frame: the stream's field order, or the frame's own flag. */
static void decide(ShPrep *p, const AVFrame *f)
{
    p->decided = 1;
    if (p->deint_mode == SH_DEINTERLACE_ON)
        p->deint = 1;
    else if (p->deint_mode == SH_DEINTERLACE_AUTO && (p->info->interlaced || f->interlaced_frame))
        p->deint = 2;
    if (p->deint && (f->width < 3 || f->height < 4))
        p->deint = 0;         /* nothing bwdif can work on */
    if (p->deint)
        sh_log(SH_LOG_VERBOSE, p->info->path, "interlaced: deinterlaced (bwdif, %s)",
               p->deint == 1 ? "every frame" : "the frames flagged interlaced");
}

/* The next frame out of the last stage, feeding it from the ones before. */
static int pull(ShPrep *p, AVFrame *out)
{
    int i = p->n - 1, ret;
    for (;;) {
        ret = sh_stage_receive(p->st[i], out);
        if (ret >= 0) {
            if (i == p->n - 1)
                return 0;
            ret = sh_stage_send(p->st[i + 1], out);
            av_frame_unref(out);
            if (ret < 0)
                return ret;
            i++;
        } else if (ret == AVERROR(EAGAIN)) {
            if (!i)
                return ret;
            i--;
        } else if (ret == AVERROR_EOF && i < p->n - 1) {
            if (!p->ended[i + 1] && (ret = sh_stage_send(p->st[i + 1], NULL)) < 0)
                return ret;
            p->ended[i + 1] = 1;
            i++;
        } else {
            return ret;
        }
    }
}

static int stage_error(const ShPrep *p, int ret)
{
    sh_log(SH_LOG_ERROR, p->info->path, "%s failed: %s", p->deint ? "deinterlacing" : "tone mapping",
           av_err2str(ret));
    return ret;
}

int sh_prep_read(ShPrep *p, ShInput *in, AVFrame *frame, enum AVMediaType *type)
{
    int ret;
    for (;;) {
        if (p->n) {
            ret = pull(p, frame);
            if (ret >= 0 || ret == AVERROR_EOF) {
                *type = AVMEDIA_TYPE_VIDEO;
                return ret;
            }
            if (ret != AVERROR(EAGAIN))
                return stage_error(p, ret);
            if (p->in_eof) {
                if (p->ended[0])
                    return AVERROR_BUG;     /* a stage that ended without saying so */
                p->ended[0] = 1;
                if ((ret = sh_stage_send(p->st[0], NULL)) < 0)
                    return stage_error(p, ret);
                continue;
            }
        } else if (p->in_eof) {
            return AVERROR_EOF;
        }
        ret = sh_input_read_raw(in, frame, type);
        if (ret == AVERROR_EOF) {
            p->in_eof = 1;
            continue;
        }
        if (ret < 0 || *type != AVMEDIA_TYPE_VIDEO)
            return ret;
        if (!p->decided)
            decide(p, frame);
        if (!p->n && (p->deint || p->tonemap) && (ret = make_stages(p, frame)) < 0) {
            sh_log(SH_LOG_ERROR, p->info->path, "cannot set up the %s: %s",
                   p->deint ? "deinterlacer" : "tone mapping", av_err2str(ret));
            av_frame_unref(frame);
            free_stages(p);
            return ret;
        }
        if (!p->n)
            return 0;
        ret = sh_stage_send(p->st[0], frame);
        av_frame_unref(frame);
        if (ret < 0)
            return stage_error(p, ret);
    }
}

int sh_prep_reset(ShPrep *p)
{
    /* Made again from the next frame, as decided the first time. */
    free_stages(p);
    p->in_eof = 0;
    return 0;
}

void sh_prep_free(ShPrep **pp)
{
    ShPrep *p = *pp;
    if (!p)
        return;
    free_stages(p);
    av_freep(pp);
}
