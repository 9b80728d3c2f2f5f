/*
 * Faces in a GIF (issue 16): GIF takes no regions of interest, but its
 * palettes can be made with the faces counting more. The decode pass looks
 * for faces on the frames it caches (faces/track.c, as the job's decode pass
 * does for x264); each frame's palette (or the clip palette's histogram) is
 * then made from a weight plane: 255 inside the faces' regions, less
 * outside (the palette stage's importance map, libimagequant's
 * liq_image_set_importance_map). More of the colours go to skin, lips and
 * eyes, fewer to the background. The mapping of pixels to the palette and
 * the dither stay the same everywhere.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/mem.h>

#include "common/log.h"
#include "faces/detect.h"
#include "gif/fitter.h"

/* Looks: one a second of film, fewer on long ones (as the job's). */
#define GIF_FACE_INTERVAL 1.0
#define GIF_FACE_MAX_LOOKS 900

/* The weight outside the faces (inside: 255). On the talking head at 500 KB,
 * face / whole SSIM dB against none: 4: +0.86 / +0.49, 16: +0.57 / +0.42,
 * 32: +0.64 / +0.47, 64: +0.19 / +0.14, 128: -0.02 / +0.02 (docs/FACES.md, GIF).
 * Not 0: libimagequant leaves out pixels of weight 0. */
#define GIF_FACE_OUTSIDE 16

int sh_gif_faces_open(Fitter *f)
{
    ShPaletteJob *ctx = f->ctx;
    double interval = FFMAX(GIF_FACE_INTERVAL, f->duration / GIF_FACE_MAX_LOOKS);
    int ret;

    ctx->roi_looks = -1;
    if (ctx->opt->roi == SH_ROI_OFF) {
        snprintf(ctx->roi_reason, sizeof(ctx->roi_reason), "off (--roi off)");
        return 0;
    }
    if ((ret = sh_face_track_open(&f->faces, f->info->video_tb, interval, f->info->rotation)) < 0) {
        if (ret == AVERROR(ENOMEM))
            return ret;
        snprintf(ctx->roi_reason, sizeof(ctx->roi_reason), "%s",
                 ret == AVERROR(ENOSYS) ? "off: this build has no face detector" : "off: the face detector did not start");
    }
    return 0;
}

int sh_gif_faces_frame(Fitter *f, const AVFrame *cached)
{
    int ret;
    if (!f->faces)
        return 0;
    if ((ret = sh_face_track_frame(f->faces, cached, 0)) < 0) {
        if (ret == AVERROR(ENOMEM))
            return ret;
        /* A detector's failure costs the weights, not the GIF. */
        sh_log(SH_LOG_WARNING, f->ctx->input, "face detection failed (%s): the palettes are not weighted",
               av_err2str(ret));
        snprintf(f->ctx->roi_reason, sizeof(f->ctx->roi_reason), "off: face detection failed");
        sh_face_track_free(&f->faces);
    }
    return 0;
}

void sh_gif_faces_decide(Fitter *f)
{
    ShPaletteJob *ctx = f->ctx;
    const ShFaceTrackStats *st;
    if (!f->faces)
        return;
    st = sh_face_track_stats(f->faces);
    ctx->roi_looks = st->looks;
    ctx->roi_faces = st->looks_with_faces;
    ctx->roi_share = st->looks_with_faces ? st->share_sum / st->looks_with_faces : 0;
    ctx->roi_seconds = st->seconds;
    if (!st->looks_with_faces) {
        snprintf(ctx->roi_reason, sizeof(ctx->roi_reason), "off: no face was found");
        sh_face_track_free(&f->faces);
        return;
    }
    f->face_outside = GIF_FACE_OUTSIDE;
    ctx->roi_outside = f->face_outside;
    snprintf(ctx->roi_reason, sizeof(ctx->roi_reason),
             "on: the palettes weigh the faces (255 inside, %d outside)", f->face_outside);
    sh_log(SH_LOG_VERBOSE, ctx->input, "gif: faces on %d of %d looks (%.0f%% of the picture): %s", st->looks_with_faces,
           st->looks, 100 * ctx->roi_share, ctx->roi_reason);
}

/* A point of the coded frame (fractions) in a picture turned clockwise by rot. */
static void to_turned(int rot, float u, float v, float *a, float *b)
{
    switch (rot) {
    case 90:  *a = 1 - v; *b = u;     break;
    case 180: *a = 1 - u; *b = 1 - v; break;
    case 270: *a = v;     *b = 1 - u; break;
    default:  *a = u;     *b = v;     break;
    }
}

/*
 * ch->importance <- the weights of ch->rgb (turned by ch->rotation), at pts:
 * NULL when no face is on then (every pixel alike, libimagequant's own map).
 */
int sh_gif_face_weights(Chain *ch, int64_t pts)
{
    ShFaceRegion r[SH_FACES_MAX];
    int n, w = ch->rgb->width, h = ch->rgb->height;
    size_t need = (size_t)w * h;

    ch->importance = NULL;
    if (!ch->faces || ch->face_outside <= 0 || (n = sh_face_track_at(ch->faces, pts, r, SH_FACES_MAX)) <= 0)
        return 0;
    if (need > ch->weights_size) {
        av_freep(&ch->weights);
        ch->weights_size = 0;
        if (!(ch->weights = av_malloc(need)))
            return AVERROR(ENOMEM);
        ch->weights_size = need;
    }
    memset(ch->weights, ch->face_outside, need);
    for (int i = 0; i < n; i++) {
        float a0, b0, a1, b1;
        int x0, y0, x1, y1;
        to_turned(ch->rotation, r[i].x0, r[i].y0, &a0, &b0);
        to_turned(ch->rotation, r[i].x1, r[i].y1, &a1, &b1);
        x0 = av_clip((int)floorf(FFMIN(a0, a1) * w), 0, w);
        x1 = av_clip((int)ceilf(FFMAX(a0, a1) * w), 0, w);
        y0 = av_clip((int)floorf(FFMIN(b0, b1) * h), 0, h);
        y1 = av_clip((int)ceilf(FFMAX(b0, b1) * h), 0, h);
        for (int y = y0; y < y1; y++)
            memset(ch->weights + (size_t)y * w + x0, 255, x1 - x0);
    }
    ch->importance = ch->weights;
    return 0;
}

void sh_gif_faces_free(Fitter *f)
{
    sh_face_track_free(&f->faces);
}
