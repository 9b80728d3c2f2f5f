/*
 * The GIF fitter's frame chain: a cached frame -> RGB24 at the GIF's size
 * (Lanczos), turned upright -> PAL8 (the palette stage); which frames a
 * rate shows; clip palettes.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "common/log.h"
#include "gif/fitter.h"

static const char *const dither_names[] = { "none", "ordered", "diffusion", "exact (none)" };

const char *sh_gif_dither_name(int dither)
{
    return dither >= 0 && dither < 4 ? dither_names[dither] : "?";
}

int sh_gif_interrupted(const Fitter *f)
{
    return f->ctx->interrupted && f->ctx->interrupted() ? SH_ERROR_INTERRUPTED : 0;
}

void sh_gif_config_dims(const Fitter *f, Config *c)
{
    sh_scale_dims(f->info->width, f->info->height, f->info->sar, f->info->rotation, c->height,
                  &c->width_px, &c->height_px);
    c->gif_w = f->swap ? c->height_px : c->width_px;
    c->gif_h = f->swap ? c->width_px : c->height_px;
}

int sh_gif_even_height(double h)
{
    return FFMAX(GIF_MIN_HEIGHT, (int)lrint(h / 2) * 2);
}

/*
 * Turn an RGB24 picture (w x h) clockwise by rot degrees (90, 180, 270)
 * into dst, which is h x w for 90 and 270.
 */
void sh_gif_turn_rgb(const uint8_t *src, ptrdiff_t ss, int w, int h, int rot, uint8_t *dst, ptrdiff_t ds)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx = rot == 90 ? h - 1 - y : rot == 180 ? w - 1 - x : y;
            int dy = rot == 90 ? x : rot == 180 ? h - 1 - y : w - 1 - x;
            memcpy(dst + dy * ds + 3 * dx, src + y * ss + 3 * x, 3);
        }
}

void sh_gif_chain_free(Chain *ch)
{
    sh_stage_free(&ch->scale);
    sh_stage_free(&ch->palette);
    sws_freeContext(ch->sws);
    ch->sws = NULL;
    av_frame_free(&ch->rgb);
    av_frame_free(&ch->pal8);
    av_frame_free(&ch->upright);
    av_freep(&ch->weights);
    ch->weights_size = 0;
    ch->importance = NULL;
}

static int stage_failed(const ShStage *st, int ret)
{
    sh_log(SH_LOG_ERROR, NULL, "%s stage failed: %s", st->desc->name, av_err2str(ret));
    return ret;
}

int sh_gif_chain_scale(Chain *ch, const AVFrame *in)
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
        return sh_gif_face_weights(ch, in->pts);
    av_frame_unref(u);
    u->width = swap ? ch->rgb->height : ch->rgb->width;
    u->height = swap ? ch->rgb->width : ch->rgb->height;
    u->format = AV_PIX_FMT_RGB24;
    if ((ret = av_frame_get_buffer(u, 0)) < 0)
        return ret;
    av_frame_copy_props(u, ch->rgb);
    sh_gif_turn_rgb(ch->rgb->data[0], ch->rgb->linesize[0], ch->rgb->width, ch->rgb->height, ch->rotation,
             u->data[0], u->linesize[0]);
    av_frame_unref(ch->rgb);
    av_frame_move_ref(ch->rgb, u);
    return sh_gif_face_weights(ch, in->pts);
}

/* pal8 <- the scaled frame in ch->rgb */
int sh_gif_chain_palette(Chain *ch)
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
int sh_gif_chain_open(Chain *ch, const Config *c, int in_w, int in_h, AVRational tb, int rotation,
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
    pa.importance = &ch->importance;
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
int sh_gif_clip_palette(ShFrameCache *cache, const int64_t *shown, const Config *c, int in_w, int in_h,
                        AVRational tb, int max_frames, const ShFaceTrack *faces, int face_outside, uint8_t *pal)
{
    AVFrame *frames[GIF_PALETTE_FRAMES] = { NULL };
    uint8_t *weights[GIF_PALETTE_FRAMES] = { NULL };
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
    if ((ret = sh_gif_chain_open(&tmp, &cc, in_w, in_h, tb, 0, NULL, 0)) < 0 || (ret = sh_frame_cache_rewind(cache)) < 0)
        goto end;
    tmp.faces = faces;
    tmp.face_outside = face_outside;
    for (int64_t k = 0; nf < max_frames && (ret = sh_frame_cache_get(cache, frame)) >= 0; k++) {
        if ((!shown || shown[k] >= 0) && i++ % step == 0 && (ret = sh_gif_chain_scale(&tmp, frame)) >= 0) {
            /* the frame's weights go with it (none: every pixel alike) */
            if (tmp.importance) {
                weights[nf] = tmp.weights;
                tmp.weights = NULL;
                tmp.weights_size = 0;
            }
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
    ret = nf ? sh_gif_global_palette(frames, weights, nf, c->k.colors, pal) : AVERROR(EINVAL);
    if (ret == 1)
        memset(pal + 3, 0, 3);
end:
    for (int k = 0; k < nf; k++) {
        av_frame_free(&frames[k]);
        av_free(weights[k]);
    }
    sh_gif_chain_free(&tmp);
    av_frame_free(&frame);
    return ret;
}

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
void sh_gif_choose_frames(const ShFrameCache *cache, int64_t from, int64_t to, AVRational tb, AVRational fps,
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
int64_t sh_gif_slot_cs(int64_t slot, AVRational fps)
{
    return av_rescale_q_rnd(slot, av_inv_q(fps), (AVRational){ 1, 100 }, AV_ROUND_NEAR_INF);
}

