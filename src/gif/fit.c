/*
 * The GIF fitter: the gif encoder's fit(). Chooses picture size, frame
 * rate, colours, palette (one for the clip or one per frame), dither and
 * lossiness so the GIF is at most the target, then encodes the film.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * 1. Sample: all of a short clip, or stretches spread over the film
 *    (solver/sample.c), as frames and as luma references at the display
 *    size (at most 720p).
 * 2. Measure candidates on the sample: each is encoded for real (counted
 *    bytes, nothing written) and scored the way a viewer sees it, luma SSIM
 *    at the display size with dropped frames held. The film's size is
 *    predicted from the sample's bytes per image: the first image of a
 *    stretch costs what a keyframe costs, the others what a change costs.
 *    For each height the fastest rate that fits is found; the best height
 *    by SSIM wins; then the knobs (lossy LZW, error diffusion, per-frame
 *    palettes, fewer colours, dither or none) are tried at the size they
 *    make affordable.
 * 3. Decode the film once, dropping frames to a rate faster than planned
 *    and scaling a little larger, into the frame cache (memory, then an
 *    unnamed file): a two-hour film is held small, and corrections can go
 *    up without decoding again.
 * 4. Encode the film from the cache; correct the frame rate or the
 *    picture size from the measured bytes at most twice: three whole-film
 *    encodes at most. The largest result at or under the target is kept.
 * GIF has no sound: audio is never written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "common/log.h"
#include "common/temp.h"
#include "gif/gif.h"
#include "input/cache.h"
#include "metrics/metrics.h"
#include "output/mux.h"
#include "solver/sample.h"
#include "stages/stage.h"

#define GIF_MAX_HEIGHT 480         /* GIFs larger than this are not worth their bytes */
#define GIF_MIN_HEIGHT 16
#define GIF_MAX_FPS 30.0
#define GIF_CACHE_MEM ((size_t)64 << 20)
#define GIF_CACHE_BYTES 1e9        /* frames a cache may hold, in memory and then on disk */
#define GIF_CACHE_MARGIN 1.25      /* the cache is this much taller: room for corrections */
#define GIF_AIM 0.975              /* of the target, for the whole-film encodes */
#define GIF_ACCEPT 0.95            /* a result this full is kept without correcting */
#define GIF_MAX_ENCODES 3
#define GIF_PALETTE_FRAMES 64      /* frames a clip palette is made from */
#define GIF_WHOLE_FRAMES 480       /* a clip this short is sampled whole */
#define GIF_SCORED 90              /* reference frames scored per candidate */
#define GIF_RATE_KNOB 10.0         /* below this rate the encodes correct the rate, above it the size */

typedef struct Knobs {
    int colors;      /* visible, 2..255 */
    int global;      /* one palette for the clip */
    int dither;      /* SH_DITHER_* */
    int lossy;
} Knobs;

typedef struct Config {
    int height;      /* display height asked for */
    int width_px, height_px;   /* coded, from sh_scale_dims: what the scaler makes */
    int gif_w, gif_h;          /* the GIF's: turned upright (GIF has no rotation flag) */
    AVRational fps;
    Knobs k;
} Config;

typedef struct Eval {
    int64_t bytes;   /* predicted for the film */
    double ssim;     /* fastest_fitting()'s: at the goal, when the film's encodes correct the rate */
} Eval;

typedef struct Fitter {
    ShFitContext *ctx;
    const ShInputInfo *info;
    ShSample *sample;
    double duration;
    double src_fps;
    int64_t goal;            /* bytes the plan aims at */
    int evals;
    int hmax;
    AVRational rates[64];
    int nrates;
    AVFrame *eval_pic;       /* the canvas at the evaluation size, yuv420p */
    int rotation, swap;      /* the source's display rotation; 90 or 270 */
    uint8_t *coded;          /* the canvas turned back to the samples' orientation */
    size_t coded_size;
    uint8_t pal[256 * 3];    /* the last clip palette made from the sample */
    int pal_n, pal_w, pal_h, pal_colors;
    AVRational pal_fps;
    int whole;               /* the sample is the whole film, read straight through */
    struct SwsContext *to_eval;
} Fitter;

static const char *const dither_names[] = { "none", "ordered", "diffusion", "exact (none)" };

static int interrupted(const Fitter *f)
{
    return f->ctx->interrupted && f->ctx->interrupted() ? SH_ERROR_INTERRUPTED : 0;
}

static void config_dims(const Fitter *f, Config *c)
{
    sh_scale_dims(f->info->width, f->info->height, f->info->sar, f->info->rotation, c->height,
                  &c->width_px, &c->height_px);
    c->gif_w = f->swap ? c->height_px : c->width_px;
    c->gif_h = f->swap ? c->width_px : c->height_px;
}

/*
 * Turn an RGB24 picture (w x h) clockwise by rot degrees (90, 180, 270)
 * into dst, which is h x w for 90 and 270.
 */
static void turn_rgb(const uint8_t *src, ptrdiff_t ss, int w, int h, int rot, uint8_t *dst, ptrdiff_t ds)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx = rot == 90 ? h - 1 - y : rot == 180 ? w - 1 - x : y;
            int dy = rot == 90 ? x : rot == 180 ? h - 1 - y : w - 1 - x;
            memcpy(dst + dy * ds + 3 * dx, src + y * ss + 3 * x, 3);
        }
}

/* ---- one run of frames through palette and stream ---- */

/* A chain scale (to RGB24 at the config's size) -> palette. */
typedef struct Chain {
    ShStage *scale, *palette;
    struct SwsContext *sws;
    AVFrame *rgb, *pal8;
    AVFrame *upright;        /* rgb turned by `rotation` */
    int rotation;
    uint8_t pal[256 * 3];
    int colors;              /* the stream's: what the palette stage may use */
} Chain;

static void chain_free(Chain *ch)
{
    sh_stage_free(&ch->scale);
    sh_stage_free(&ch->palette);
    sws_freeContext(ch->sws);
    ch->sws = NULL;
    av_frame_free(&ch->rgb);
    av_frame_free(&ch->pal8);
    av_frame_free(&ch->upright);
}

static int stage_failed(const ShStage *st, int ret)
{
    sh_log(SH_LOG_ERROR, NULL, "%s stage failed: %s", st->desc->name, av_err2str(ret));
    return ret;
}

static int chain_scale(Chain *ch, const AVFrame *in)
{
    AVFrame *u = ch->upright;
    int ret, swap = ch->rotation == 90 || ch->rotation == 270;
    av_frame_unref(ch->rgb);
    if (in->format == AV_PIX_FMT_YUV420P && in->color_range != AVCOL_RANGE_JPEG) {
        /* Lanczos, as FFmpeg's two-step and gifski are fed: sharper than
         * the scale stage's area or bicubic, and worth its bytes (a 60 s
         * cartoon at 168x94: +0.0036 SSIM for 2.3% more bytes). The caches
         * hold limited-range yuv420p, all this needs to know. */
        AVFrame *o = ch->rgb;
        ch->sws = sws_getCachedContext(ch->sws, in->width, in->height, AV_PIX_FMT_YUV420P,
                                       ch->scale->out.width, ch->scale->out.height, AV_PIX_FMT_RGB24,
                                       SWS_LANCZOS | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
        if (!ch->sws)
            return AVERROR(EINVAL);
        o->width = ch->scale->out.width;
        o->height = ch->scale->out.height;
        o->format = AV_PIX_FMT_RGB24;
        if ((ret = av_frame_get_buffer(o, 0)) < 0)
            return ret;
        if ((ret = sws_scale(ch->sws, (const uint8_t *const *)in->data, in->linesize, 0, in->height,
                             o->data, o->linesize)) < 0)
            return ret;
        av_frame_copy_props(o, in);
    } else if ((ret = sh_stage_send(ch->scale, in)) < 0 || (ret = sh_stage_receive(ch->scale, ch->rgb)) < 0) {
        return stage_failed(ch->scale, ret);
    }
    if (!ch->rotation)
        return 0;
    av_frame_unref(u);
    u->width = swap ? ch->rgb->height : ch->rgb->width;
    u->height = swap ? ch->rgb->width : ch->rgb->height;
    u->format = AV_PIX_FMT_RGB24;
    if ((ret = av_frame_get_buffer(u, 0)) < 0)
        return ret;
    av_frame_copy_props(u, ch->rgb);
    turn_rgb(ch->rgb->data[0], ch->rgb->linesize[0], ch->rgb->width, ch->rgb->height, ch->rotation,
             u->data[0], u->linesize[0]);
    av_frame_unref(ch->rgb);
    av_frame_move_ref(ch->rgb, u);
    return 0;
}

/* pal8 <- the scaled frame in ch->rgb */
static int chain_palette(Chain *ch)
{
    int ret;
    av_frame_unref(ch->pal8);
    if ((ret = sh_stage_send(ch->palette, ch->rgb)) < 0 || (ret = sh_stage_receive(ch->palette, ch->pal8)) < 0)
        return stage_failed(ch->palette, ret);
    return 0;
}

/*
 * Open the chain for frames of in_w x in_h yuv420p. pal: the clip palette
 * (npal RGB triplets), or NULL for one per frame.
 */
static int chain_open(Chain *ch, const Config *c, int in_w, int in_h, AVRational tb, int rotation,
                      const uint8_t *pal, int npal)
{
    ShStreamInfo si = { 0 }, upright;
    ShStageArgs sa = { 0 }, pa = { 0 };
    int ret;

    memset(ch, 0, sizeof(*ch));
    ch->rotation = rotation == 90 || rotation == 180 || rotation == 270 ? rotation : 0;
    if (!(ch->rgb = av_frame_alloc()) || !(ch->pal8 = av_frame_alloc()) || !(ch->upright = av_frame_alloc()))
        return AVERROR(ENOMEM);
    si.type = AVMEDIA_TYPE_VIDEO;
    si.time_base = tb;
    si.width = in_w;
    si.height = in_h;
    si.pix_fmt = AV_PIX_FMT_YUV420P;
    si.sar = (AVRational){ 1, 1 };
    sa.width = c->width_px;
    sa.height = c->height_px;
    sa.pix_fmt = AV_PIX_FMT_RGB24;
    if ((ret = sh_stage_create(&ch->scale, "scale", &si, &sa)) < 0) {
        sh_log(SH_LOG_ERROR, NULL, "cannot set up the scale stage: %s", av_err2str(ret));
        return ret;
    }
    ch->colors = pa.colors = c->k.colors;
    pa.dither = c->k.dither;
    if (pal) {
        /* a palette of one colour is padded with black: GIF needs two */
        memcpy(ch->pal, pal, (size_t)npal * 3);
        ch->colors = pa.colors = FFMAX(npal, 2);
        pa.palette = ch->pal;
    }
    upright = ch->scale->out;
    upright.width = c->gif_w;
    upright.height = c->gif_h;
    if ((ret = sh_stage_create(&ch->palette, "palette", &upright, &pa)) < 0)
        sh_log(SH_LOG_ERROR, NULL, "cannot set up the palette stage: %s", av_err2str(ret));
    return ret;
}

/*
 * A clip palette of `colors` for frames at the config's size, from frames
 * spread evenly over a cache (of in_w x in_h). Returns the colours made.
 */
static int clip_palette(ShFrameCache *cache, const int64_t *shown, const Config *c, int in_w, int in_h,
                        AVRational tb, int max_frames, uint8_t *pal)
{
    AVFrame *frames[GIF_PALETTE_FRAMES] = { NULL };
    AVFrame *frame = av_frame_alloc();
    int64_t n = sh_frame_cache_count(cache), m = 0, step, i = 0;
    Chain tmp = { 0 };
    Config cc = *c;
    int nf = 0, ret;

    for (int64_t k = 0; k < n; k++)
        m += !shown || shown[k] >= 0;
    max_frames = FFMIN(max_frames, GIF_PALETTE_FRAMES);
    step = FFMAX(m / max_frames, 1);
    cc.k.global = 0;
    if (!frame) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = chain_open(&tmp, &cc, in_w, in_h, tb, 0, NULL, 0)) < 0 || (ret = sh_frame_cache_rewind(cache)) < 0)
        goto end;
    for (int64_t k = 0; nf < max_frames && (ret = sh_frame_cache_get(cache, frame)) >= 0; k++) {
        if ((!shown || shown[k] >= 0) && i++ % step == 0 && (ret = chain_scale(&tmp, frame)) >= 0) {
            frames[nf++] = tmp.rgb;
            if (!(tmp.rgb = av_frame_alloc()))
                ret = AVERROR(ENOMEM);
        }
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if (ret < 0 && ret != AVERROR_EOF)
        goto end;
    ret = nf ? sh_gif_global_palette(frames, nf, c->k.colors, pal) : AVERROR(EINVAL);
    if (ret == 1)
        memset(pal + 3, 0, 3);
end:
    for (int k = 0; k < nf; k++)
        av_frame_free(&frames[k]);
    chain_free(&tmp);
    av_frame_free(&frame);
    return ret;
}

/* ---- measuring a candidate on the sample ---- */

/*
 * Which frames to show at a rate: in each slot of 1/fps from `from`, the
 * last frame before the slot's middle (as FFmpeg's fps filter picks), shown
 * from the slot's start. A held frame then stands for source frames up to
 * half a slot either side of it, rather than up to a whole slot after it:
 * what a viewer (and SSIM with held frames) sees is closer at low rates.
 * shown[i] = the slot frame i is shown in, or -1, for the frames in
 * [from, to) only: the others are left alone, so one array can hold the
 * choices of several stretches (the caller sets it to -1 first; resetting
 * it here once hid every stretch of a sample but the last).
 * Only timestamps are read (the cache keeps them), no pictures.
 */
static void choose_frames(const ShFrameCache *cache, int64_t from, int64_t to, AVRational tb, AVRational fps,
                          int64_t *shown)
{
    int64_t n = sh_frame_cache_count(cache), last = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t pts = sh_frame_cache_pts(cache, i), slot;
        if (pts < from || pts >= to)
            continue;
        shown[i] = -1;
        slot = av_rescale_q_rnd(pts - from, tb, av_inv_q(fps), AV_ROUND_NEAR_INF);
        /* The last frames may round to a slot that would begin after the
         * end: the slot before lasts until the end instead (else the GIF
         * outlasted the film by up to half a slot). */
        if (slot && from + av_rescale_q(slot, av_inv_q(fps), tb) >= to)
            continue;
        if (last >= 0 && shown[last] == slot)
            shown[last] = -1;   /* a later frame nearer the middle */
        shown[i] = slot;
        last = i;
    }
}

/* A slot's start, in centiseconds from `from`. */
static int64_t slot_cs(int64_t slot, AVRational fps)
{
    return av_rescale_q_rnd(slot, av_inv_q(fps), (AVRational){ 1, 100 }, AV_ROUND_NEAR_INF);
}

/*
 * Whether reference i is scored, `share` of them in all: a Weyl sequence
 * (i times the golden ratio, modulo 1) picks them evenly but never in step
 * with a frame rate. Every 6th frame of a 30 fps clip met only the frames
 * a 15 fps GIF shows, never the ones it holds: 15 fps scored 0.836 on the
 * sample and 0.754 on the film, and won the search for that.
 */
static int scored(int64_t i, double share)
{
    double x = (double)i * 0.6180339887498949;
    return x - floor(x) < share;
}

/* Score the reference frames before `until` against the canvas on screen. */
static int score_until(Fitter *f, int64_t until, int64_t *iref, double share, ShQualityAcc *acc, AVFrame *ref)
{
    ShSample *s = f->sample;
    ShQuality q;
    int ret;
    while (*iref < sh_frame_cache_count(s->ref) && sh_frame_cache_pts(s->ref, *iref) < until) {
        if ((ret = sh_frame_cache_get(s->ref, ref)) < 0)
            return ret;
        if (scored((*iref)++, share)) {
            ret = sh_quality_plane(ref->data[0], ref->linesize[0], f->eval_pic->data[0],
                                   f->eval_pic->linesize[0], ref->width, ref->height, &q);
            if (ret < 0) {
                av_frame_unref(ref);
                return ret;
            }
            sh_quality_acc_add(acc, &q);
        }
        av_frame_unref(ref);
    }
    return 0;
}

static int score_canvas(Fitter *f, const ShGifStream *st, const Config *c)
{
    const uint8_t *src[4] = { sh_gif_stream_canvas(st) };
    int stride[4] = { c->width_px * 3 };
    int ret;
    if (f->rotation) {
        /* the references are in the source's coded orientation */
        size_t need = (size_t)c->width_px * c->height_px * 3;
        if (need > f->coded_size) {
            av_freep(&f->coded);
            if (!(f->coded = av_malloc(need)))
                return AVERROR(ENOMEM);
            f->coded_size = need;
        }
        turn_rgb(src[0], (ptrdiff_t)c->gif_w * 3, c->gif_w, c->gif_h, 360 - f->rotation, f->coded, stride[0]);
        src[0] = f->coded;
    }
    f->to_eval = sws_getCachedContext(f->to_eval, c->width_px, c->height_px, AV_PIX_FMT_RGB24,
                                      f->eval_pic->width, f->eval_pic->height, AV_PIX_FMT_YUV420P,
                                      SWS_BICUBIC, NULL, NULL, NULL);
    if (!f->to_eval)
        return AVERROR(EINVAL);
    ret = sws_scale(f->to_eval, src, stride, 0, c->height_px, f->eval_pic->data, f->eval_pic->linesize);
    return ret < 0 ? ret : 0;
}

/*
 * Frames the film shows at a rate: one per slot that a source frame falls
 * in (choose_frames rounds to the nearest slot) and that begins before the
 * film ends. Duration x rate undercounts when there are few slots: 9.6 s
 * at 0.25 fps shows 3 frames, not 2.4, and the plan came out 12% over.
 */
static double film_slots(const Fitter *f, AVRational fps)
{
    double r = FFMIN(av_q2d(fps), f->src_fps);
    double last = FFMAX(f->duration - 1 / f->src_fps, 0);
    return FFMAX(1, FFMIN(floor(last * r + 0.5) + 1, ceil(f->duration * r - 1e-6)));
}

/* Where the slots of stretch k start, on the sample's timeline. */
static int64_t seg_origin(const Fitter *f, int k)
{
    return f->whole ? f->sample->seg_start[k] : f->sample->seg_measure[k];
}

static int sample_eval(Fitter *f, const Config *c, Eval *e)
{
    ShSample *s = f->sample;
    Chain ch = { 0 };
    ShGifStream *st = NULL;
    AVFrame *frame = av_frame_alloc(), *ref = av_frame_alloc();
    ShQualityAcc acc = { 0 };
    ShQuality q;
    int64_t nref = sh_frame_cache_count(s->ref), iref = 0;
    double score_share;
    int64_t intra = 0, nintra = 0, inter = 0, ninter = 0;
    int64_t *shown = av_malloc_array(FFMAX(sh_frame_cache_count(s->master), 1), sizeof(*shown));
    int seg = -1, ret;
    double film_frames, d;

    if (!frame || !ref || !shown) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    score_share = FFMIN(1.0, (double)GIF_SCORED / FFMAX(nref, 1));
    for (int64_t i = 0; i < sh_frame_cache_count(s->master); i++)
        shown[i] = -1;
    /* Slots count from where scoring begins; from the film's start when the
     * sample is the film (the first second, a warm-up for other encoders,
     * is part of it). Counting slots from a stretch's warm-up instead put
     * the held frames of slow rates elsewhere than scoring expects: on a
     * 60 s film, 0.067 fps beat 1.4 fps on the samples. */
    for (int k = 0; k < s->segments; k++)
        choose_frames(s->master, seg_origin(f, k), s->seg_end[k], s->time_base, c->fps, shown);
    /* A clip palette, from the frames shown at this size and rate (as
     * palettegen sees them after fps): the same for every dither and
     * lossiness, so kept. */
    if (c->k.global && (f->pal_w != c->width_px || f->pal_h != c->height_px || f->pal_colors != c->k.colors ||
                        av_cmp_q(f->pal_fps, c->fps))) {
        /* as many frames as the film's when the sample is the film: the same palette, the same bytes */
        if ((ret = clip_palette(s->master, shown, c, s->master_w, s->master_h, s->time_base,
                                f->whole ? GIF_PALETTE_FRAMES : 24, f->pal)) < 0)
            goto end;
        f->pal_n = ret;
        f->pal_w = c->width_px;
        f->pal_h = c->height_px;
        f->pal_colors = c->k.colors;
        f->pal_fps = c->fps;
    }
    if ((ret = chain_open(&ch, c, s->master_w, s->master_h, s->time_base, f->rotation,
                          c->k.global ? f->pal : NULL, f->pal_n)) < 0 ||
        (ret = sh_frame_cache_rewind(s->master)) < 0 || (ret = sh_frame_cache_rewind(s->ref)) < 0)
        goto end;
    for (int64_t i = 0; (ret = sh_frame_cache_get(s->master, frame)) >= 0; i++) {
        int k = -1;
        for (int j = 0; j < s->segments; j++)
            if (frame->pts >= seg_origin(f, j) && frame->pts < s->seg_end[j])
                k = j;
        if (k < 0 || shown[i] < 0) {
            av_frame_unref(frame);
            continue;   /* a warm-up nobody counts, or a frame not shown */
        }
        if (k != seg) {
            /* A stretch is a GIF of its own: it starts with a whole picture. */
            ShGifStreamConfig sc = { c->gif_w, c->gif_h, ch.colors, c->k.global ? ch.pal : NULL, c->k.lossy };
            if (seg >= 0 && (ret = score_until(f, s->seg_end[seg], &iref, score_share, &acc, ref)) < 0)
                goto end;
            sh_gif_stream_free(&st);
            if ((ret = sh_gif_stream_open(&st, &sc, -1, NULL)) < 0)
                goto end;
            seg = k;
        }
        {
            /* until its slot starts, the last one shows */
            int64_t start = seg_origin(f, k) + av_rescale_q(shown[i], av_inv_q(c->fps), s->time_base);
            int64_t before = sh_gif_stream_bytes(st), images = sh_gif_stream_images(st);
            if ((ret = score_until(f, start, &iref, score_share, &acc, ref)) < 0 ||
                (ret = chain_scale(&ch, frame)) < 0 || (ret = chain_palette(&ch)) < 0 ||
                (ret = sh_gif_stream_put(st, ch.pal8, slot_cs(shown[i], c->fps))) < 0)
                goto end;
            if (!images) {
                intra += sh_gif_stream_bytes(st) - before;
                nintra++;
            } else {
                inter += sh_gif_stream_bytes(st) - before;
                ninter++;
            }
            if (sh_gif_stream_images(st) != images && (ret = score_canvas(f, st, c)) < 0)
                goto end;
        }
        av_frame_unref(frame);
        if ((ret = interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    if (seg >= 0 && (ret = score_until(f, s->seg_end[seg], &iref, score_share, &acc, ref)) < 0)
        goto end;
    if (!nintra || sh_quality_acc_result(&acc, &q) < 0) {
        ret = AVERROR(EINVAL);
        goto end;
    }
    /* The film: its frames at this rate, the first a whole picture, the
     * others changes, as hard as the sample was (by the source's bitrate:
     * bytes follow difficulty less than linearly in a GIF). */
    film_frames = film_slots(f, c->fps);
    d = pow(av_clipd(s->difficulty, 0.5, 2.0), 0.7);
    if (f->whole) {
        /* The sample is the film: its bytes are the film's, nothing to predict. */
        if ((ret = sh_gif_stream_finish(st, llrint(f->duration * 100))) < 0)
            goto end;
        e->bytes = sh_gif_stream_bytes(st);
    } else {
        double intra_avg = (double)intra / nintra;
        double inter_avg = ninter >= 2 ? (double)inter / ninter : intra_avg;
        e->bytes = (int64_t)(800 + (c->k.global ? 3 * sh_gif_table_size(ch.colors) : 0) + intra_avg +
                             (film_frames - 1) * inter_avg / d);
    }
    e->ssim = q.ssim;
    f->evals++;
    sh_log(SH_LOG_VERBOSE, f->ctx->input, "gif candidate %dx%d %.3g fps, %d colours %s, %s dither, lossy %d: "
           "predicted %lld bytes, ssim %.4f", c->gif_w, c->gif_h, av_q2d(c->fps), ch.colors,
           c->k.global ? "clip palette" : "per-frame palettes", dither_names[c->k.dither], c->k.lossy,
           (long long)e->bytes, e->ssim);
    ret = 0;
end:
    av_free(shown);
    sh_gif_stream_free(&st);
    chain_free(&ch);
    av_frame_free(&frame);
    av_frame_free(&ref);
    return ret;
}

/* ---- the search ---- */

static void make_rates(Fitter *f)
{
    static const int slow[] = { 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600 };
    const ShOptions *o = f->ctx->opt;
    double top = FFMIN(f->src_fps, GIF_MAX_FPS);
    AVRational base = av_d2q(f->src_fps, 100000);
    f->nrates = 0;
    if (o->fps > 0) {
        f->rates[f->nrates++] = av_d2q(FFMIN(o->fps, f->src_fps), 100000);
        return;
    }
    /* even cadences of the source down to 1 fps, then a frame every few seconds */
    for (int n = 1; n < 64 && f->nrates < 40; n++) {
        AVRational r = av_div_q(base, (AVRational){ n, 1 });
        if (av_q2d(r) > top + 1e-6)
            continue;
        if (av_q2d(r) < 1.0)
            break;
        if (f->nrates && fabs(av_q2d(f->rates[f->nrates - 1]) - av_q2d(r)) < 0.4)
            continue;
        f->rates[f->nrates++] = r;
    }
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]) && f->nrates < 64; i++) {
        if (f->nrates && av_q2d(f->rates[f->nrates - 1]) <= 1.0 / slow[i])
            continue;
        f->rates[f->nrates++] = (AVRational){ 1, slow[i] };
    }
    if (o->min_fps > 0)
        while (f->nrates > 1 && av_q2d(f->rates[f->nrates - 1]) < o->min_fps - 1e-9)
            f->nrates--;
}

/* Whether the film's encodes correct this rate (rather than the picture size). */
static int rate_corrects(const Fitter *f, double fps)
{
    return fps < GIF_RATE_KNOB && f->duration * fps >= 30;
}

/*
 * The fastest rate at this height that fits the goal (index into rates;
 * slower rates have higher indices and fewer bytes), or -1 when even the
 * slowest does not. From the hint, jump to the rate the measured bytes call
 * for (bytes ~ rate^0.8), then close the bracket.
 */
static int fastest_fitting(Fitter *f, Config *c, Eval *best, int hint)
{
    int fit = -1, over = -1, i = av_clip(hint, 0, f->nrates - 1), ret;
    Eval e, over_e = { 0 };
    for (int n = 0; n < 8; n++) {
        double want;
        int j, lo, hi;
        c->fps = f->rates[i];
        if ((ret = sample_eval(f, c, &e)) < 0)
            return ret;
        if (e.bytes <= f->goal) {
            fit = i;
            *best = e;
        } else {
            over = i;
            over_e = e;
        }
        lo = over + 1;
        hi = fit >= 0 ? fit - 1 : f->nrates - 1;
        if (lo > hi)
            break;
        want = av_q2d(f->rates[i]) * pow((double)f->goal / FFMAX(e.bytes, 1), 1.25);
        for (j = lo; j < hi && av_q2d(f->rates[j]) > want; j++)
            ;
        if (j == i)
            j = (lo + hi) / 2;
        i = j;
    }
    if (fit >= 0)
        c->fps = f->rates[fit];
    if (fit >= 0 && over == fit - 1 && over_e.ssim > best->ssim && over_e.bytes > best->bytes &&
        rate_corrects(f, av_q2d(f->rates[fit]))) {
        /* Between two rungs of the ladder (0.5 and 1 fps are twice apart)
         * the film's encodes move the rate until the goal is filled: rank
         * this height by the quality at the goal, along log(bytes), not
         * by a rung that may leave a third of the budget unused. Only
         * where the encodes correct by the rate: above, they change the
         * picture size and the rate stays on its rung (10 fps ranked as
         * if it were 16 beat 20 fps on a 14 s clip, and lost 0.02). */
        double t = log((double)f->goal / best->bytes) / log((double)over_e.bytes / best->bytes);
        best->ssim += av_clipd(t, 0, 1) * (over_e.ssim - best->ssim);
    }
    return fit;
}

static int even_height(double h)
{
    return FFMAX(GIF_MIN_HEIGHT, (int)lrint(h / 2) * 2);
}

/*
 * Choose the plan. Returns 0 with *out set, or 1 when nothing fits the goal
 * (the floor must decide), or AVERROR.
 */
static int search(Fitter *f, Config *out, Eval *out_eval)
{
    const ShOptions *o = f->ctx->opt;
    Knobs base = { 255, 1, SH_DITHER_NONE, 0 };
    Config best = { 0 };
    Eval best_e = { 0, -1 };
    int heights[32], nh = 0, hint = 0, best_i = -1, ret;

    if (o->height > 0) {
        heights[nh++] = o->height;
    } else {
        for (double h = f->hmax; h >= GIF_MIN_HEIGHT && nh < 32; h *= 0.8)
            if (!nh || even_height(h) < heights[nh - 1])
                heights[nh++] = even_height(h);
    }
    /* Heights every other rung, largest first, until quality falls twice
     * in a row: below a frame per sampled stretch every slower rate scores
     * alike, so the large pictures that need such rates make a plateau
     * (0.37 on a 60 s film at 100 KB, where 82x46 at 1 fps scores 0.48). */
    for (int i = 0, falls = 0; i < nh; i += o->height > 0 ? 1 : 2) {
        Config c = { .height = heights[i], .fps = { 0, 1 }, .k = base };
        Eval e;
        int r;
        config_dims(f, &c);
        if ((r = fastest_fitting(f, &c, &e, hint)) < -1)
            return r;
        if (r < 0)
            continue;
        hint = r;
        if (e.ssim > best_e.ssim) {
            best = c, best_e = e, best_i = i;
            falls = 0;
        } else if (best_i >= 0 && ++falls >= 2) {
            break;
        }
    }
    /* The rungs beside the best one. */
    for (int d = -1; d <= 1 && best_i >= 0 && o->height <= 0; d += 2) {
        int i = best_i + d, r;
        Config c = { .fps = { 0, 1 }, .k = base };
        Eval e;
        if (i < 0 || i >= nh)
            continue;
        c.height = heights[i];
        config_dims(f, &c);
        if ((r = fastest_fitting(f, &c, &e, hint)) < -1)
            return r;
        if (r >= 0 && e.ssim > best_e.ssim)
            best = c, best_e = e;
    }
    if (best_e.ssim < 0)
        return 1;
    /* The knobs, each at the picture size its bytes make affordable. */
    {
        /* Measured on real clips: no dither scores best per byte (SSIM
         * sees dither as noise), error diffusion sometimes at its price. */
        static const Knobs variants[] = {
            { 255, 1, SH_DITHER_ORDERED, 0 }, { 255, 0, SH_DITHER_NONE, 0 },
            { 255, 1, SH_DITHER_DIFFUSION, 0 }, { 255, 1, SH_DITHER_DIFFUSION, 30 },
            { 255, 1, SH_DITHER_NONE, 40 }, { 64, 1, SH_DITHER_NONE, 0 },
            { 128, 1, SH_DITHER_NONE, 0 }, { 32, 1, SH_DITHER_NONE, 0 }, { 16, 1, SH_DITHER_NONE, 0 },
            { 255, 1, SH_DITHER_EXACT, 0 }, { 64, 1, SH_DITHER_EXACT, 0 },
        };
        Config start = best;
        for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
            Config c = start;
            Eval e;
            c.k = variants[v];
            for (int tries = 0; tries < 3; tries++) {
                double scale;
                if ((ret = sample_eval(f, &c, &e)) < 0)
                    return ret;
                if (e.bytes <= f->goal && (tries || e.bytes > f->goal * 0.85))
                    break;
                /* bytes go about with the pixels: change the height by the square root */
                scale = sqrt((double)f->goal * 0.97 / FFMAX(e.bytes, 1));
                if (o->height > 0 || even_height(c.height * scale) == c.height ||
                    (scale > 1 && c.height >= f->hmax))
                    break;
                c.height = FFMIN(even_height(c.height * scale), f->hmax);
                config_dims(f, &c);
            }
            if (e.bytes <= f->goal && e.ssim > best_e.ssim)
                best = c, best_e = e;
            if ((ret = interrupted(f)) < 0)
                return ret;
        }
    }
    *out = best;
    *out_eval = best_e;
    return 0;
}

/* ---- the film ---- */

typedef struct Film {
    ShFrameCache *cache;
    int cache_w, cache_h;
    int display_h;           /* the cache's height as shown (its width when turned) */
    AVRational fps;          /* of the cache: encodes drop frames from it */
    int64_t origin;
    AVRational tb;
    double duration;
} Film;

static int decode_film(Fitter *f, AVRational cache_fps, int cache_height, Film *film)
{
    ShFitContext *ctx = f->ctx;
    const ShInputInfo *info = f->info;
    ShStreamInfo vin = { 0 };
    ShStageArgs va = { 0 };
    ShStage *chain[2] = { NULL, NULL };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc(), *tmp2 = av_frame_alloc();
    enum AVMediaType type;
    int ret, ended = 0;

    if (!frame || !tmp || !tmp2) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, cache_height,
                  &film->cache_w, &film->cache_h);
    film->tb = info->video_tb;
    film->origin = info->range_start;
    film->display_h = cache_height;
    vin.type = AVMEDIA_TYPE_VIDEO;
    vin.time_base = info->video_tb;
    vin.width = info->width;
    vin.height = info->height;
    vin.sar = info->sar;
    va.fps = cache_fps;
    film->fps = cache_fps;
    va.width = film->cache_w;
    va.height = film->cache_h;
    va.pix_fmt = AV_PIX_FMT_YUV420P;
    /* Drop frames before scaling them: the dropped ones cost nothing. */
    if ((ret = sh_stage_create(&chain[0], "fps", &vin, &va)) < 0 ||
        (ret = sh_stage_create(&chain[1], "scale", &chain[0]->out, &va)) < 0 ||
        (ret = sh_frame_cache_open(&film->cache, film->cache_w, film->cache_h, AV_PIX_FMT_YUV420P,
                                   GIF_CACHE_MEM)) < 0)
        goto end;
    sh_input_want_audio(ctx->in, 0);
    for (;;) {
        ret = sh_input_read(ctx->in, frame, &type);
        if (ret == AVERROR_EOF && !ended) {
            ended = 1;
            ret = sh_stage_send(chain[0], NULL);
        } else if (ret < 0) {
            break;
        } else if (type != AVMEDIA_TYPE_VIDEO) {
            av_frame_unref(frame);
            continue;
        } else {
            ret = sh_stage_send(chain[0], frame);
            av_frame_unref(frame);
        }
        /* fps -> scale -> cache: each stage holds one frame at most */
        while (ret >= 0 && (ret = sh_stage_receive(chain[0], tmp)) >= 0) {
            if ((ret = sh_stage_send(chain[1], tmp)) >= 0 && (ret = sh_stage_receive(chain[1], tmp2)) >= 0)
                ret = sh_frame_cache_put(film->cache, tmp2);
            av_frame_unref(tmp);
            av_frame_unref(tmp2);
        }
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0 && ret != AVERROR(EAGAIN))
            goto end;
        if ((ret = interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, ctx->input, "decoding for the GIF failed: %s", av_err2str(ret));
        goto end;
    }
    {
        const ShInputStats *st = sh_input_stats(ctx->in);
        if (!sh_frame_cache_count(film->cache)) {
            sh_log(SH_LOG_ERROR, ctx->input, "no video frame could be decoded");
            ret = AVERROR_INVALIDDATA;
            goto end;
        }
        film->duration = (st->end_pts - film->origin) * av_q2d(info->video_tb);
    }
    ret = 0;
end:
    sh_stage_free(&chain[0]);
    sh_stage_free(&chain[1]);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    av_frame_free(&tmp2);
    return ret;
}

/*
 * The encoder's packets into the muxer. A failure of the muxer is the
 * output's (no room, say); it said why.
 */
static int write_packets(ShFitContext *ctx, ShEncoder *enc, ShMuxer *mx, AVPacket *pkt)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
        if ((ret = sh_mux_write(mx, 0, pkt)) < 0) {
            ctx->output_failed = 1;
            return ret;
        }
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, ctx->input, "the GIF encoder failed: %s", av_err2str(ret));
    return ret;
}

/*
 * One whole-film encode from the cache into a new temporary file: the
 * palettised frames through the gif encoder (send/receive) into the muxer,
 * as any encode. Each frame lasts until the next one shown, the last until
 * the end of the film.
 */
static int encode_film(Fitter *f, Film *film, const Config *c, char *path, size_t path_len,
                       int64_t *bytes, int *colors)
{
    ShFitContext *ctx = f->ctx;
    const ShEncoderDesc *d = sh_encoder_with_caps(SH_ENC_CAP_PALETTE);
    ShEncoderConfig ec = { 0 };
    ShEncoder *enc = NULL;
    ShMuxer *mx = NULL;
    Chain ch = { 0 };
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    uint8_t pal[256 * 3];
    struct stat sb;
    int64_t n = sh_frame_cache_count(film->cache), end_cs = llrint(film->duration * 100);
    int64_t *shown = av_malloc_array(FFMAX(n, 1), sizeof(*shown));
    int64_t *next_cs = av_malloc_array(FFMAX(n, 1), sizeof(*next_cs));
    int npal = 0, ret;

    path[0] = 0;
    if (!frame || !pkt || !shown || !next_cs) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (!d) {
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    /* The cache may hold a faster rate than this encode's (room for a
     * correction upwards): the frames to show are chosen from it. */
    for (int64_t i = 0; i < n; i++)
        shown[i] = -1;
    choose_frames(film->cache, film->origin, film->origin + llrint(film->duration / av_q2d(film->tb)), film->tb,
                  c->fps, shown);
    for (int64_t i = n - 1, next = end_cs; i >= 0; i--) {
        next_cs[i] = next;
        if (shown[i] >= 0)
            next = slot_cs(shown[i], c->fps);
    }
    if (c->k.global) {
        /* The clip palette from frames spread over those shown. */
        if ((ret = clip_palette(film->cache, shown, c, film->cache_w, film->cache_h, film->tb,
                                GIF_PALETTE_FRAMES, pal)) < 0)
            goto end;
        npal = ret;
    }
    if ((ret = chain_open(&ch, c, film->cache_w, film->cache_h, film->tb, f->rotation,
                          c->k.global ? pal : NULL, npal)) < 0)
        goto end;
    *colors = ch.colors;
    ec.width = c->gif_w;
    ec.height = c->gif_h;
    ec.pix_fmt = AV_PIX_FMT_PAL8;
    ec.time_base = (AVRational){ 1, 100 };
    ec.colors = ch.colors;
    ec.palette = c->k.global ? ch.pal : NULL;
    ec.lossy = c->k.lossy;
    if ((ret = sh_encoder_open(&enc, d, &ec)) < 0) {
        sh_log(SH_LOG_ERROR, ctx->input, "cannot open the GIF encoder: %s", av_err2str(ret));
        goto end;
    }
    ctx->output_failed = 1;
    if ((ret = sh_temp_create_beside(path, path_len, ctx->output)) < 0) {
        sh_log(SH_LOG_ERROR, ctx->output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_mux_open(&mx, path, "gif")) < 0 ||
        (ret = sh_mux_add_stream(mx, enc->par, enc->time_base, NULL)) < 0 ||
        (ret = sh_mux_write_header(mx)) < 0)
        goto end;
    ctx->output_failed = 0;
    if ((ret = sh_frame_cache_rewind(film->cache)) < 0)
        goto end;
    for (int64_t i = 0; (ret = sh_frame_cache_get(film->cache, frame)) >= 0; i++) {
        if (shown[i] < 0) {
            av_frame_unref(frame);
            continue;
        }
        ret = chain_scale(&ch, frame);
        av_frame_unref(frame);
        if (ret < 0 || (ret = chain_palette(&ch)) < 0)
            goto end;
        ch.pal8->pts = slot_cs(shown[i], c->fps);
        ch.pal8->pkt_duration = next_cs[i] - ch.pal8->pts;
        if ((ret = sh_encoder_send_frame(enc, ch.pal8)) < 0) {
            sh_log(SH_LOG_ERROR, ctx->input, "the GIF encoder failed: %s", av_err2str(ret));
            goto end;
        }
        if ((ret = write_packets(ctx, enc, mx, pkt)) < 0 || (ret = interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, NULL, "frame cache: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_encoder_send_frame(enc, NULL)) < 0 || (ret = write_packets(ctx, enc, mx, pkt)) < 0)
        goto end;
    ctx->output_failed = 1;
    if ((ret = sh_mux_finish(mx)) < 0)
        goto end;
    if (stat(path, &sb) < 0) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, ctx->output, "writing the GIF failed: %s", av_err2str(ret));
        goto end;
    }
    ctx->output_failed = 0;
    *bytes = sb.st_size;
    ret = 0;
end:
    av_free(shown);
    av_free(next_cs);
    sh_mux_free(&mx);
    sh_encoder_free(&enc);
    chain_free(&ch);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    if (ret < 0 && path[0]) {
        sh_temp_remove(path);
        path[0] = 0;
    }
    return ret;
}

/* The smallest GIF this fitter makes: few pixels, a frame every ten minutes or
 * at the slowest rate allowed, 16 colours, the lossiest LZW. */
static void floor_config(const Fitter *f, Config *c)
{
    c->height = f->ctx->opt->height > 0 ? f->ctx->opt->height : GIF_MIN_HEIGHT;
    c->fps = f->rates[f->nrates - 1];
    c->k = (Knobs){ 16, 1, SH_DITHER_NONE, 200 };
    config_dims(f, c);
}

/*
 * Without samples: no dither, a clip palette, at most 10 fps, and the
 * height that about half a byte per pixel and frame affords (a middling
 * GIF's cost); slower rates while that is under 32 px.
 */
static void rule_config(const Fitter *f, Config *c)
{
    const ShOptions *o = f->ctx->opt;
    int i = 0, w, h;
    double aspect;
    sh_scale_dims(f->info->width, f->info->height, f->info->sar, f->info->rotation, f->hmax, &w, &h);
    aspect = f->swap ? (double)h / w : (double)w / h;
    while (i < f->nrates - 1 && av_q2d(f->rates[i]) > 10)
        i++;
    for (;; i++) {
        double frames = FFMAX(1, f->duration * FFMIN(av_q2d(f->rates[i]), f->src_fps));
        double px = f->goal / (frames * 0.5);
        c->height = o->height > 0 ? o->height : FFMIN(even_height(sqrt(px / aspect)), f->hmax);
        c->fps = f->rates[i];
        if (c->height >= 32 || o->height > 0 || i == f->nrates - 1)
            break;
    }
    c->k = (Knobs){ 255, 1, SH_DITHER_NONE, 0 };
    config_dims(f, c);
}

static void log_plan(const Fitter *f, const char *what, const Config *c, int colors)
{
    sh_log(SH_LOG_VERBOSE, f->ctx->input, "%s: gif %dx%d at %.4g fps, %d colours (table %d) %s, %s dither, "
           "lossy %d", what, c->gif_w, c->gif_h, av_q2d(c->fps), colors, sh_gif_table_size(colors),
           c->k.global ? "clip palette" : "per-frame palettes", dither_names[c->k.dither], c->k.lossy);
}

/* bytes ~ knob^e between two encodes that differ in that knob only; else the default. */
static double elasticity(double k0, double k1, double s0, double s1, double dflt)
{
    if (k0 <= 0 || k1 <= 0 || fabs(k1 / k0 - 1) < 0.01 || s0 <= 0 || s1 <= 0)
        return dflt;
    return av_clipd(log(s1 / s0) / log(k1 / k0), 0.3, 1.6);
}

/*
 * The next whole-film encode from the last one's bytes: one knob moves,
 * along the elasticity measured between the last two encodes where they
 * differ in it. Below 10 fps the frame rate (bytes follow the number of
 * frames closely; a GIF needs no even cadence), up to the cache's rate;
 * at 10 fps and more, with fewer than 30 frames in all, or past the
 * cache's rate, the picture size (bytes follow the pixels less closely:
 * resampling changes what LZW sees).
 * Returns 1 with c changed, 0 when nothing would change.
 */
static int correct(const Fitter *f, const Film *film, Config *c, double want, const Config *tried,
                   const double *sizes, int n)
{
    double ratio = want / FFMAX(sizes[n], 1), fps = av_q2d(c->fps), film_fps = av_q2d(film->fps);
    int fps_free = f->ctx->opt->fps <= 0, height_free = f->ctx->opt->height <= 0;
    Config old = *c;

    /* a few frames in all: a frame more or less is too coarse a step */
    if (fps_free && (rate_corrects(f, fps) || !height_free)) {
        /* measured only between two encodes of the same picture size */
        double e = n && tried[n - 1].height_px == c->height_px ?
                   elasticity(av_q2d(tried[n - 1].fps), fps, sizes[n - 1], sizes[n], 0.9) : 0.9;
        double want_fps = fps * pow(ratio, 1 / e);
        c->fps = av_d2q(FFMIN(want_fps, film_fps), 100000);
        if (want_fps <= film_fps * 1.001 || !height_free)
            return av_cmp_q(c->fps, old.fps) != 0;
        ratio /= pow(av_q2d(c->fps) / fps, e);   /* what the rate could not take */
    }
    if (height_free) {
        double px = (double)c->width_px * c->height_px, e = 1.0, h;
        if (n && !av_cmp_q(tried[n - 1].fps, tried[n].fps))
            e = elasticity((double)tried[n - 1].width_px * tried[n - 1].height_px, px, sizes[n - 1], sizes[n], 1.0);
        h = c->height * pow(ratio, 1 / (2 * e));
        c->height = even_height(FFMIN(h, film->display_h));
        config_dims(f, c);
        if (fps_free && ((h > film->display_h + 1 && ratio > 1) || c->height == old.height)) {
            /* the cache's largest picture, or a step finer than 2 px: the rest by the rate */
            ratio /= pow((double)c->height / old.height, 2 * e);
            c->fps = av_d2q(FFMIN(av_q2d(c->fps) * pow(ratio, 1 / 0.9), film_fps), 100000);
        }
    }
    for (int i = 0; i <= n && fps_free; i++) {
        if (tried[i].width_px == c->width_px && tried[i].height_px == c->height_px && !av_cmp_q(tried[i].fps, c->fps)) {
            /* Encoded already (the size's step spans the goal): keep this
             * size and move the rate instead, which steps finer. */
            *c = old;
            c->fps = av_d2q(FFMIN(fps * pow(want / FFMAX(sizes[n], 1), 1 / 0.9), film_fps), 100000);
            break;
        }
    }
    return c->height != old.height || av_cmp_q(c->fps, old.fps) != 0;
}

typedef struct Attempt {
    char path[4096];
    int64_t bytes;
    Config c;
    int colors;
} Attempt;

int sh_gif_fit(ShFitContext *ctx)
{
    Fitter fit = { 0 }, *f = &fit;
    const ShInputInfo *info = ctx->info;
    const int64_t target = ctx->target_bytes;
    Config plan = { 0 };
    Eval plan_e = { 0 };
    Film film = { 0 };
    Attempt best = { 0 }, a = { 0 };
    Config tried[GIF_MAX_ENCODES];
    double sizes[GIF_MAX_ENCODES];
    int swap = info->rotation == 90 || info->rotation == 270, at_floor = 0, ret, display_h;

    f->ctx = ctx;
    f->info = info;
    f->rotation = info->rotation;
    f->swap = swap;
    f->duration = info->duration;
    f->src_fps = info->frame_rate.num > 0 && av_q2d(info->frame_rate) < 240 ? av_q2d(info->frame_rate) : 25;
    f->goal = (int64_t)(target * GIF_AIM);
    display_h = swap ? (int)(info->width * av_q2d(info->sar)) : info->height;
    f->hmax = FFMAX(GIF_MIN_HEIGHT, FFMIN(display_h, GIF_MAX_HEIGHT) & ~1);
    if (ctx->opt->max_height > 0)
        f->hmax = FFMAX(GIF_MIN_HEIGHT, FFMIN(f->hmax, ctx->opt->max_height) & ~1);
    make_rates(f);
    sh_log(SH_LOG_VERBOSE, ctx->input, "audio: none (GIF has no sound)");

    /* GIFs are short films mostly: a clip of up to 480 frames is read
     * whole (one stretch in the middle of a 14 s clip was static and
     * predicted a seventh of the bytes; 240 frames of a 300-frame clip
     * left its last second out), a longer film in up to 240 frames of
     * stretches. */
    {
        double frames = info->duration * f->src_fps;
        int max_frames = frames <= GIF_WHOLE_FRAMES ? GIF_WHOLE_FRAMES : 240;
        ret = sh_sample_collect(&f->sample, ctx->input, info, ctx->opt->start, info->duration, 1.0, 48,
                                max_frames);
    }
    if (ret >= 0 && f->sample->segments == 1 &&
        (f->sample->seg_end[0] - f->sample->seg_start[0]) * av_q2d(f->sample->time_base) >=
        info->duration - 1.5 / f->src_fps) {
        f->whole = 1;
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif: the sample is the whole film");
    }
    if (ret == AVERROR(ENOMEM) || ret == SH_ERROR_INTERRUPTED)
        goto end;
    if (ret < 0) {
        /* Too short to sample, or not seekable: a guess, and the encodes correct it. */
        sh_log(SH_LOG_VERBOSE, ctx->input, "sampling failed (%s): planning by rule", av_err2str(ret));
        rule_config(f, &plan);
        ret = 0;
    } else {
        if (!(f->eval_pic = av_frame_alloc())) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        f->eval_pic->width = f->sample->eval_w;
        f->eval_pic->height = f->sample->eval_h;
        f->eval_pic->format = AV_PIX_FMT_YUV420P;
        if ((ret = av_frame_get_buffer(f->eval_pic, 0)) < 0 || (ret = search(f, &plan, &plan_e)) < 0)
            goto end;
    }
    if (ret > 0) {
        /* Nothing fits on the samples' word: the floor, encoded, decides. */
        floor_config(f, &plan);
        at_floor = 1;
    }
    log_plan(f, at_floor ? "plan (at the floor)" : "plan", &plan, plan.k.colors);
    if (!at_floor && f->sample)
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif search: %d sample encodes, predicted %lld bytes, ssim %.4f",
               f->evals, (long long)plan_e.bytes, plan_e.ssim);
    ctx->width = plan.gif_w;
    ctx->height = plan.gif_h;
    ctx->fps = plan.fps;
    ctx->duration = info->duration;
    ctx->sample_encodes = f->evals;
    if (f->sample) {
        ctx->sample_seconds = f->sample->seconds;
        ctx->eval_width = f->sample->eval_w;
        ctx->eval_height = f->sample->eval_h;
    }
    ctx->predicted_ssim = at_floor ? 0 : plan_e.ssim;
    if (ctx->opt->plan_only) {
        ret = 0;
        goto end;
    }

    {
        /* The cache: taller and faster than the plan, so a correction can
         * go up as well as down without decoding again. At the display
         * height (at most GIF_MAX_HEIGHT) when that fits its size: the
         * GIF's pictures are then resampled once, from it, as FFmpeg's
         * are from the source (a cache at 1.25x the GIF's height, itself
         * resampled from the source, cost 0.007 SSIM on a 60 s cartoon);
         * else a little taller than the plan, as a two-hour film needs. */
        AVRational cache_fps = plan.fps;
        int cache_h = 0, cw, ch;
        const int tall[2] = { FFMAX(f->hmax, plan.height),
                              FFMIN(even_height(plan.height * GIF_CACHE_MARGIN), FFMAX(f->hmax, plan.height)) };
        for (int t = 0; t < 2; t++) {
            /* Up to the source's rate (divided by a whole number) while the
             * cache stays under its size, twice the plan's at least: room to
             * correct upwards, and for choose_frames() to take the frame
             * nearest each slot's middle, as FFmpeg's fps filter does from
             * the source (a 4 fps cache for a 0.93 fps GIF of a 60 s
             * cartoon cost 0.004 SSIM against frames from all 24). */
            double plan_fps = av_q2d(plan.fps), bytes;
            int div = 1;
            cache_h = tall[t];
            sh_scale_dims(info->width, info->height, info->sar, info->rotation, cache_h, &cw, &ch);
            while (f->src_fps / div > 2 * plan_fps &&
                   f->duration * (f->src_fps / div) * cw * ch * 1.5 > GIF_CACHE_BYTES)
                div++;
            cache_fps = f->src_fps / div >= plan_fps ? av_d2q(f->src_fps / div, 100000) : plan.fps;
            bytes = f->duration * av_q2d(cache_fps) * cw * ch * 1.5;
            if (bytes <= GIF_CACHE_BYTES && f->src_fps / div >= FFMIN(2 * plan_fps, f->src_fps) - 1e-9)
                break;
        }
        if ((ret = decode_film(f, cache_fps, cache_h, &film)) < 0)
            goto end;
    }
    ctx->duration = film.duration;
    a.c = plan;
    for (int n = 0; n < GIF_MAX_ENCODES; n++) {
        if ((ret = encode_film(f, &film, &a.c, a.path, sizeof(a.path), &a.bytes, &a.colors)) < 0)
            goto end;
        ctx->attempts++;
        log_plan(f, "encode", &a.c, a.colors);
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif encode %d: %lld bytes (%.1f%% of %lld)", n + 1,
               (long long)a.bytes, 100.0 * a.bytes / target, (long long)target);
        sizes[n] = (double)a.bytes;
        if (a.bytes <= target && (!best.path[0] || a.bytes > best.bytes)) {
            if (best.path[0])
                sh_temp_remove(best.path);
            best = a;
        } else {
            sh_temp_remove(a.path);
        }
        a.path[0] = 0;
        /* The floor over the target: nothing smaller is made. */
        if ((at_floor && !best.path[0]) || (best.path[0] && best.bytes >= target * GIF_ACCEPT))
            break;
        /* The last encode must fit: aim lower then, lower still when none has yet. */
        tried[n] = a.c;
        if (correct(f, &film, &a.c, target * (n < GIF_MAX_ENCODES - 2 ? GIF_AIM : best.path[0] ? 0.955 : 0.92),
                    tried, sizes, n) <= 0)
            break;   /* nothing finer to try */
    }
    if (!best.path[0]) {
        if (at_floor) {
            /* The smallest GIF is over: its size is one that works. */
            ctx->min_bytes = (int64_t)sizes[0];
            ret = SH_ERROR_TARGET_TOO_SMALL;
        } else {
            /* Over at every size tried though the samples said it would fit. */
            sh_log(SH_LOG_ERROR, ctx->input, "no GIF came in under the target in %d encodes", ctx->attempts);
            ret = AVERROR(ERANGE);
        }
        goto end;
    }
    snprintf(ctx->path, sizeof(ctx->path), "%s", best.path);
    ctx->bytes = best.bytes;
    ctx->width = best.c.gif_w;
    ctx->height = best.c.gif_h;
    ctx->fps = best.c.fps;
    best.path[0] = 0;
    ret = 0;
end:
    if (best.path[0])
        sh_temp_remove(best.path);
    if (a.path[0])
        sh_temp_remove(a.path);
    sh_frame_cache_free(&film.cache);
    sws_freeContext(f->to_eval);
    av_free(f->coded);
    av_frame_free(&f->eval_pic);
    sh_sample_free(&f->sample);
    return ret;
}
