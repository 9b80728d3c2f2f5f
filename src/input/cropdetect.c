/*
 * Black bars: libavfilter's cropdetect on frames spread over the film, each
 * measured on its own, their pictures' union kept.
 *
 * Why the union and not a vote: a dark scene or a fade shows a smaller
 * picture than the film has, and subtitles burnt into a bar, or a picture
 * that reaches the edge only now and then, are picture too. Keeping every
 * pixel any sample lit loses nothing; the cost is that a bright logo in a
 * bar keeps that side's bar (up to the logo), the others are still cut.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>

#include <libavfilter/avfilter.h>
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/dict.h>
#include <libavutil/mathematics.h>

#include "common/log.h"
#include "input/stream.h"

/* A frame every 2 s of film, at most this many. */
#define SH_CROP_SAMPLES 24
#define SH_CROP_SAMPLE_SPACING 2.0
/* The film's first and last 5% are left out: titles and fades. */
#define SH_CROP_SKIP 0.05
/* Bars thinner than 2% of the width or height (together) are not worth a crop. */
#define SH_CROP_MIN_SHARE 0.02
/* Closer than this to the next sample, decode on rather than seek. */
#define SH_CROP_READ_ON_S 3.0

typedef struct Detect {
    AVFilterGraph *graph;
    AVFilterContext *src, *sink;
    AVFrame *out;
    int x1, y1, x2, y2;       /* the union of the pictures so far (x1 > x2: none) */
    int lit;                  /* frames with a picture */
} Detect;

static int make_graph(Detect *d, const ShInputInfo *info, const AVFrame *f)
{
    char args[256];
    AVFilterContext *cd;
    int ret;
    if (!(d->graph = avfilter_graph_alloc()))
        return AVERROR(ENOMEM);
    d->graph->nb_threads = 1;
    snprintf(args, sizeof(args), "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", f->width,
             f->height, f->format, info->video_tb.num, info->video_tb.den, info->sar.num, info->sar.den);
    /* Each frame on its own (reset after one), none skipped, edges unrounded:
     * the rounding and the union are ours. The default limit: a line is
     * picture when its mean is over 24 of 255 (limited range's black is 16). */
    if ((ret = avfilter_graph_create_filter(&d->src, avfilter_get_by_name("buffer"), "in", args, NULL,
                                            d->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&cd, avfilter_get_by_name("cropdetect"), "cropdetect",
                                            "round=2:reset_count=1:skip=0", NULL, d->graph)) < 0 ||
        (ret = avfilter_graph_create_filter(&d->sink, avfilter_get_by_name("buffersink"), "out", NULL, NULL,
                                            d->graph)) < 0 ||
        (ret = avfilter_link(d->src, 0, cd, 0)) < 0 || (ret = avfilter_link(cd, 0, d->sink, 0)) < 0)
        return ret;
    return avfilter_graph_config(d->graph, NULL);
}

static int meta(const AVFrame *f, const char *key, int *v)
{
    const AVDictionaryEntry *e = av_dict_get(f->metadata, key, NULL, 0);
    if (!e)
        return AVERROR(EINVAL);
    *v = atoi(e->value);
    return 0;
}

/* One frame's picture into the union. */
static int measure(Detect *d, const ShInputInfo *info, AVFrame *f)
{
    int x1, y1, x2, y2, ret;
    if (!d->graph && (ret = make_graph(d, info, f)) < 0)
        return ret;
    if ((ret = av_buffersrc_add_frame_flags(d->src, f, AV_BUFFERSRC_FLAG_KEEP_REF)) < 0 ||
        (ret = av_buffersink_get_frame(d->sink, d->out)) < 0)
        return ret;
    ret = meta(d->out, "lavfi.cropdetect.x1", &x1) < 0 || meta(d->out, "lavfi.cropdetect.y1", &y1) < 0 ||
          meta(d->out, "lavfi.cropdetect.x2", &x2) < 0 || meta(d->out, "lavfi.cropdetect.y2", &y2) < 0;
    av_frame_unref(d->out);
    if (ret)
        return AVERROR_BUG;   /* cropdetect always says */
    if (x1 > x2 || y1 > y2)
        return 0;             /* black: nothing to learn */
    d->lit++;
    d->x1 = FFMIN(d->x1, x1);
    d->y1 = FFMIN(d->y1, y1);
    d->x2 = FFMAX(d->x2, x2);
    d->y2 = FFMAX(d->y2, y2);
    return 0;
}

/* The union as pixels off each side, rounded inwards to even (a half-lit
 * edge line goes with the bar, as cropdetect's own rounding does). */
static void sides(const Detect *d, const ShInputInfo *info, int *l, int *t, int *r, int *b)
{
    *l = (d->x1 + 1) & ~1;
    *t = (d->y1 + 1) & ~1;
    *r = info->full_width - ((d->x2 + 1) & ~1);
    *b = info->full_height - ((d->y2 + 1) & ~1);
}

/* Whether the frames so far have lit every line but bars too thin to crop on
 * both axes. The union only grows, so each side only shrinks: no later frame
 * can make a crop of it, and the rest need not be decoded (a film without
 * bars is known from its first frames, not from frames spread over it all). */
static int settled(const Detect *d, const ShInputInfo *info)
{
    int l, t, r, b;
    if (!d->lit)
        return 0;
    sides(d, info, &l, &t, &r, &b);
    return l + r < info->full_width * SH_CROP_MIN_SHARE && t + b < info->full_height * SH_CROP_MIN_SHARE;
}

/* The crop of the union; an axis whose bars are too thin keeps its whole length. */
static void result(const Detect *d, const ShInputInfo *info, ShCrop *c)
{
    int w = info->full_width, h = info->full_height, l, t, r, b;
    sides(d, info, &l, &t, &r, &b);
    if (l + r < w * SH_CROP_MIN_SHARE || w - l - r < 2)
        l = r = 0;
    if (t + b < h * SH_CROP_MIN_SHARE || h - t - b < 2)
        t = b = 0;
    if (l + r + t + b)
        sh_input_crop_from_coded(info, l, t, r, b, c);
}

int sh_input_detect_crop(const char *path, const ShInputInfo *info, ShCrop *c)
{
    Detect d = { .x1 = info->full_width, .y1 = info->full_height, .x2 = -1, .y2 = -1 };
    ShInput *in = NULL;
    AVFrame *f = av_frame_alloc();
    AVRational tb = info->video_tb;
    double span = info->duration * (1 - 2 * SH_CROP_SKIP);
    int n = (int)av_clip64(llrint(info->duration / SH_CROP_SAMPLE_SPACING), 1, SH_CROP_SAMPLES);
    int64_t pos = AV_NOPTS_VALUE, read_on = av_rescale_q(llrint(SH_CROP_READ_ON_S * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
    enum AVMediaType type;
    int ret = 0, taken = 0;

    *c = (ShCrop){ 0 };
    d.out = av_frame_alloc();
    if (!f || !d.out) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_input_open(&in, path)) < 0)
        goto end;
    sh_input_want_audio(in, 0);   /* pictures only: the sound is not decoded for this */
    for (int i = 0; i < n; i++) {
        double t = info->duration * SH_CROP_SKIP + span * (i + 0.5) / n;
        int64_t ts = info->range_start + av_rescale_q(llrint(t * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
        if (pos != AV_NOPTS_VALUE && ts <= pos)
            ts = pos + 1;     /* a frame not measured yet */
        /* Not seekable: read on from where it is. */
        if ((pos == AV_NOPTS_VALUE || ts - pos > read_on) && sh_input_seek(in, ts) < 0)
            sh_log(SH_LOG_DEBUG, path, "crop detection: cannot seek; reading on");
        for (;;) {
            if ((ret = sh_input_read(in, f, &type)) < 0)
                break;
            if (type == AVMEDIA_TYPE_VIDEO && f->pts != AV_NOPTS_VALUE && f->pts >= ts)
                break;
            av_frame_unref(f);
        }
        if (ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0)
            goto end;
        pos = f->pts;
        if (f->width == info->full_width && f->height == info->full_height) {
            ret = measure(&d, info, f);
            taken++;
        }
        av_frame_unref(f);
        if (ret < 0) {
            sh_log(SH_LOG_WARNING, path, "crop detection failed (%s): no crop", av_err2str(ret));
            goto end;
        }
        if (settled(&d, info))
            break;
    }
    /* Mostly black samples say little about where the picture ends. */
    if (d.lit && d.lit * 3 >= taken)
        result(&d, info, c);
    if (c->width)
        sh_log(SH_LOG_VERBOSE, path, "crop detection: %d frames, %d with a picture: bars, %dx%d at %d,%d kept", taken,
               d.lit, c->width, c->height, c->x, c->y);
    else
        sh_log(SH_LOG_VERBOSE, path, "crop detection: %d frames, %d with a picture: no bars", taken, d.lit);
end:
    sh_input_close(&in);
    av_frame_free(&f);
    av_frame_free(&d.out);
    avfilter_graph_free(&d.graph);
    return ret;
}
