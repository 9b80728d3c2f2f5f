/*
 * palette: colour reduction, RGB24 in, PAL8 out (data[1]: the palette).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * libimagequant chooses the colours: one palette per frame, or a fixed one
 * given by the caller (a whole clip's, see sh_gif_global_palette). Pixels
 * are then mapped by one of four rules:
 * - none: the nearest colour;
 * - ordered: a Bayer 8x8 offset is added before the nearest colour is
 *   taken. The pattern is fixed in the picture, so an unchanged area maps
 *   to the same indices frame after frame and a GIF can leave it
 *   transparent; it costs a few percent of LZW bytes;
 * - diffusion: libimagequant's error diffusion, smoother gradients but
 *   noise that changes every frame and compresses far worse;
 * - exact: the colour nearest to the pixel's own value, no dither.
 * The nearest colour is looked up in a 15-bit table filled as colours occur
 * (the centre of a 5-bit cell stands for the cell: a denoiser that grainy
 * film compresses better through); for exact, in a cache of whole colours.
 * A frame may come with an importance map (ShStageArgs.importance: weights
 * per pixel, the caller's reasons): the palette is then made with the
 * weighted pixels counting more (liq_image_set_importance_map). It takes the
 * place of libimagequant's own map (flat areas over noisy ones). It weighs
 * where the colours go, not how pixels take them: the mapping and the
 * dither are the same everywhere.
 */
#include <string.h>

#include <libimagequant.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "gif/gif.h"
#include "stages/stage.h"

#define LUT_SIZE (1 << 15)
#define EXACT_CACHE (1 << 16)      /* whole colours remembered, direct-mapped */

/*
 * libimagequant parallelises with OpenMP, whose idle threads spin: on two
 * shared cores that spinning took half of the GIF search's time, for
 * quantising small pictures that one thread does well. libgomp's own,
 * declared here so no compiler's omp.h is needed.
 */
void omp_set_num_threads(int n);

typedef struct PalettePriv {
    int colors, dither;
    int fixed;                 /* the palette is the caller's, for every frame */
    const uint8_t *const *importance;   /* the caller's slot: the next frame's weights, or NULL */
    uint8_t pal[256 * 3];
    int npal;
    int16_t lut[LUT_SIZE];     /* 5 bits a channel -> index; -1 not known yet */
    uint32_t exact_key[EXACT_CACHE];   /* 1 << 24 | rgb, 0 = empty */
    uint8_t exact_idx[EXACT_CACHE];
    int strength;              /* ordered dither amplitude, levels */
    liq_attr *attr;
    liq_result *fixed_result;  /* the fixed palette as libimagequant's, for diffusion */
    uint8_t *rgba;
    size_t rgba_size;
    AVFrame *held;
    int eof;
} PalettePriv;

/* Bayer 8x8 thresholds, 0..63. */
static const uint8_t bayer8[8][8] = {
    {  0, 32,  8, 40,  2, 34, 10, 42 }, { 48, 16, 56, 24, 50, 18, 58, 26 },
    { 12, 44,  4, 36, 14, 46,  6, 38 }, { 60, 28, 52, 20, 62, 30, 54, 22 },
    {  3, 35, 11, 43,  1, 33,  9, 41 }, { 51, 19, 59, 27, 49, 17, 57, 25 },
    { 15, 47,  7, 39, 13, 45,  5, 37 }, { 63, 31, 55, 23, 61, 29, 53, 21 },
};

/* The palette index nearest to (r, g, b), green weighted most, blue least. */
static int search_palette(const PalettePriv *p, int r, int g, int b)
{
    int best = 0, bd = INT32_MAX;
    for (int i = 0; i < p->npal; i++) {
        int dr = p->pal[3 * i] - r, dg = p->pal[3 * i + 1] - g, db = p->pal[3 * i + 2] - b;
        int d = 2 * dr * dr + 4 * dg * dg + db * db;
        if (d < bd) {
            bd = d;
            best = i;
        }
    }
    return best;
}

static int nearest(PalettePriv *p, int r, int g, int b)
{
    int key = (r >> 3) << 10 | (g >> 3) << 5 | b >> 3;
    /* the centre of the 5-bit cell stands for it */
    if (p->lut[key] < 0)
        p->lut[key] = (int16_t)search_palette(p, (r & ~7) | 4, (g & ~7) | 4, (b & ~7) | 4);
    return p->lut[key];
}

/* The palette colour nearest to (r, g, b) itself, weighted as nearest() does. */
static int nearest_exact(PalettePriv *p, int r, int g, int b)
{
    uint32_t key = 1u << 24 | (uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b;
    uint32_t h = (key * 2654435761u) >> 16;
    if (p->exact_key[h] != key) {
        p->exact_key[h] = key;
        p->exact_idx[h] = (uint8_t)search_palette(p, r, g, b);
    }
    return p->exact_idx[h];
}

static void set_palette(PalettePriv *p, const liq_palette *lp)
{
    p->npal = FFMIN((int)lp->count, p->colors);
    for (int i = 0; i < p->npal; i++) {
        p->pal[3 * i] = lp->entries[i].r;
        p->pal[3 * i + 1] = lp->entries[i].g;
        p->pal[3 * i + 2] = lp->entries[i].b;
    }
    memset(p->lut, 0xff, sizeof(p->lut));
    if (p->dither == SH_DITHER_EXACT)
        memset(p->exact_key, 0, sizeof(p->exact_key));
}

static int liq_error_to_av(liq_error e)
{
    return e == LIQ_OUT_OF_MEMORY ? AVERROR(ENOMEM) : e == LIQ_OK ? 0 : AVERROR_EXTERNAL;
}

static int palette_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    PalettePriv *p = priv;
    if (in->pix_fmt != AV_PIX_FMT_RGB24 || args->colors < 2 || args->colors > 255 ||
        args->dither < SH_DITHER_NONE || args->dither > SH_DITHER_EXACT)
        return AVERROR(EINVAL);
    omp_set_num_threads(1);
    p->colors = args->colors;
    p->dither = args->dither;
    p->importance = args->importance;
    /* A finer palette needs less noise to hide its steps. */
    p->strength = av_clip((int)(96.0 / cbrt(p->colors)), 8, 48);
    if (!(p->attr = liq_attr_create()) || !(p->held = av_frame_alloc()))
        return AVERROR(ENOMEM);
    liq_set_max_colors(p->attr, p->colors);
    liq_set_speed(p->attr, 6);
    if (args->palette) {
        p->fixed = 1;
        memcpy(p->pal, args->palette, (size_t)p->colors * 3);
        p->npal = p->colors;
        memset(p->lut, 0xff, sizeof(p->lut));
        memset(p->exact_key, 0, sizeof(p->exact_key));
        if (p->dither == SH_DITHER_DIFFUSION) {
            /* libimagequant remaps only with a result of its own: quantise
             * the palette's colours, all fixed, to get one that is exactly it. */
            liq_histogram *hist = liq_histogram_create(p->attr);
            liq_histogram_entry entries[256];
            liq_error e = hist ? LIQ_OK : LIQ_OUT_OF_MEMORY;
            for (int i = 0; i < p->colors; i++)
                entries[i] = (liq_histogram_entry){ { p->pal[3 * i], p->pal[3 * i + 1], p->pal[3 * i + 2], 255 }, 1 };
            /* the colours as a histogram too: an empty one does not quantise */
            if (e == LIQ_OK)
                e = liq_histogram_add_colors(hist, p->attr, entries, p->colors, 0);
            for (int i = 0; i < p->colors && e == LIQ_OK; i++)
                e = liq_histogram_add_fixed_color(hist, entries[i].color, 0);
            if (e == LIQ_OK)
                e = liq_histogram_quantize(hist, p->attr, &p->fixed_result);
            if (hist)
                liq_histogram_destroy(hist);
            if (e != LIQ_OK)
                return liq_error_to_av(e);
            liq_set_dithering_level(p->fixed_result, 1.0);
            set_palette(p, liq_get_palette(p->fixed_result));
        }
    }
    out->pix_fmt = AV_PIX_FMT_PAL8;
    return 0;
}

/* Each pixel to the colour nearest to its 5-bit cell (none; ordered, after
 * the Bayer offset) or to itself (exact). */
static void map_nearest(PalettePriv *p, const AVFrame *in, AVFrame *o)
{
    if (p->dither == SH_DITHER_EXACT) {
        for (int y = 0; y < in->height; y++) {
            const uint8_t *src = in->data[0] + y * in->linesize[0];
            uint8_t *dst = o->data[0] + y * o->linesize[0];
            for (int x = 0; x < in->width; x++)
                dst[x] = (uint8_t)nearest_exact(p, src[3 * x], src[3 * x + 1], src[3 * x + 2]);
        }
        return;
    }
    for (int y = 0; y < in->height; y++) {
        const uint8_t *src = in->data[0] + y * in->linesize[0];
        uint8_t *dst = o->data[0] + y * o->linesize[0];
        for (int x = 0; x < in->width; x++) {
            int d = p->dither == SH_DITHER_ORDERED ? ((bayer8[y & 7][x & 7] * 2 - 63) * p->strength) / 128 : 0;
            dst[x] = (uint8_t)nearest(p, av_clip_uint8(src[3 * x] + d), av_clip_uint8(src[3 * x + 1] + d),
                                      av_clip_uint8(src[3 * x + 2] + d));
        }
    }
}

static int palette_send(void *priv, const AVFrame *in)
{
    PalettePriv *p = priv;
    AVFrame *o = p->held;
    liq_image *img = NULL;
    liq_result *res = NULL;
    size_t need;
    int ret = 0;

    if (!in) {
        p->eof = 1;
        return 0;
    }
    if (o->buf[0])
        return AVERROR(EAGAIN);
    if (in->format != AV_PIX_FMT_RGB24)
        return AVERROR(EINVAL);
    o->width = in->width;
    o->height = in->height;
    o->format = AV_PIX_FMT_PAL8;
    if ((ret = av_frame_get_buffer(o, 0)) < 0)
        return ret;
    av_frame_copy_props(o, in);

    if (!p->fixed || p->dither == SH_DITHER_DIFFUSION) {
        need = (size_t)in->width * in->height * 4;
        if (need > p->rgba_size) {
            av_freep(&p->rgba);
            if (!(p->rgba = av_malloc(need))) {
                p->rgba_size = 0;
                ret = AVERROR(ENOMEM);
                goto end;
            }
            p->rgba_size = need;
        }
        for (int y = 0; y < in->height; y++) {
            const uint8_t *s = in->data[0] + y * in->linesize[0];
            uint8_t *d = p->rgba + (size_t)y * in->width * 4;
            for (int x = 0; x < in->width; x++) {
                d[4 * x] = s[3 * x];
                d[4 * x + 1] = s[3 * x + 1];
                d[4 * x + 2] = s[3 * x + 2];
                d[4 * x + 3] = 255;
            }
        }
        if (!(img = liq_image_create_rgba(p->attr, p->rgba, in->width, in->height, 0))) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
    }
    if (!p->fixed) {
        liq_error e = LIQ_OK;
        const uint8_t *map = p->importance ? *p->importance : NULL;
        if (map)
            e = liq_image_set_importance_map(img, (unsigned char *)map, (size_t)in->width * in->height,
                                             LIQ_COPY_PIXELS);
        if (e == LIQ_OK)
            e = liq_image_quantize(img, p->attr, &res);
        if (e != LIQ_OK) {
            ret = liq_error_to_av(e);
            goto end;
        }
        set_palette(p, liq_get_palette(res));
    }
    if (p->dither == SH_DITHER_DIFFUSION) {
        liq_result *r = p->fixed ? p->fixed_result : res;
        liq_error e;
        uint8_t **rows = av_malloc_array(in->height, sizeof(*rows));
        if (!rows) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        for (int y = 0; y < in->height; y++)
            rows[y] = o->data[0] + y * o->linesize[0];
        liq_set_dithering_level(r, 1.0);
        e = liq_write_remapped_image_rows(r, img, rows);
        av_free(rows);
        if (e != LIQ_OK) {
            ret = liq_error_to_av(e);
            goto end;
        }
        if (!p->fixed)
            set_palette(p, liq_get_palette(r));   /* remapping may refine it */
    } else {
        map_nearest(p, in, o);
    }
    {
        uint32_t *argb = (uint32_t *)o->data[1];
        memset(argb, 0, 256 * 4);
        for (int i = 0; i < p->npal; i++)
            argb[i] = 0xffu << 24 | (uint32_t)p->pal[3 * i] << 16 | p->pal[3 * i + 1] << 8 | p->pal[3 * i + 2];
        /* indices stay below `colors`: unused entries are black */
    }
end:
    if (res)
        liq_result_destroy(res);
    if (img)
        liq_image_destroy(img);
    if (ret < 0)
        av_frame_unref(o);
    return ret;
}

static int palette_receive(void *priv, AVFrame *out)
{
    PalettePriv *p = priv;
    if (p->held->buf[0]) {
        av_frame_move_ref(out, p->held);
        return 0;
    }
    return p->eof ? AVERROR_EOF : AVERROR(EAGAIN);
}

static void palette_uninit(void *priv)
{
    PalettePriv *p = priv;
    if (p->fixed_result)
        liq_result_destroy(p->fixed_result);
    if (p->attr)
        liq_attr_destroy(p->attr);
    av_freep(&p->rgba);
    av_frame_free(&p->held);
}

const ShStageDesc sh_stage_palette = {
    .name      = "palette",
    .type      = AVMEDIA_TYPE_VIDEO,
    .priv_size = sizeof(PalettePriv),
    .init      = palette_init,
    .send      = palette_send,
    .receive   = palette_receive,
    .uninit    = palette_uninit,
};

int sh_gif_global_palette(AVFrame *const *rgb, uint8_t *const *weights, int n, int colors, uint8_t *out)
{
    liq_attr *attr = liq_attr_create();
    liq_histogram *hist = attr ? liq_histogram_create(attr) : NULL;
    liq_result *res = NULL;
    uint8_t *rgba = NULL;
    liq_error e = hist ? LIQ_OK : LIQ_OUT_OF_MEMORY;
    int ret = 0;

    omp_set_num_threads(1);
    if (e == LIQ_OK) {
        liq_set_max_colors(attr, colors);
        liq_set_speed(attr, 4);
    }
    for (int k = 0; k < n && e == LIQ_OK; k++) {
        const AVFrame *f = rgb[k];
        liq_image *img;
        av_freep(&rgba);
        if (!(rgba = av_malloc((size_t)f->width * f->height * 4))) {
            e = LIQ_OUT_OF_MEMORY;
            break;
        }
        for (int y = 0; y < f->height; y++)
            for (int x = 0; x < f->width; x++) {
                const uint8_t *s = f->data[0] + y * f->linesize[0] + 3 * x;
                uint8_t *d = rgba + ((size_t)y * f->width + x) * 4;
                d[0] = s[0], d[1] = s[1], d[2] = s[2], d[3] = 255;
            }
        if (!(img = liq_image_create_rgba(attr, rgba, f->width, f->height, 0))) {
            e = LIQ_OUT_OF_MEMORY;
            break;
        }
        /* the histogram counts each pixel by its weight */
        if (weights && weights[k])
            e = liq_image_set_importance_map(img, weights[k], (size_t)f->width * f->height, LIQ_COPY_PIXELS);
        if (e == LIQ_OK)
            e = liq_histogram_add_image(hist, attr, img);
        liq_image_destroy(img);
    }
    if (e == LIQ_OK)
        e = liq_histogram_quantize(hist, attr, &res);
    if (e != LIQ_OK) {
        ret = liq_error_to_av(e);
    } else {
        const liq_palette *lp = liq_get_palette(res);
        ret = FFMIN((int)lp->count, colors);
        for (int i = 0; i < ret; i++) {
            out[3 * i] = lp->entries[i].r;
            out[3 * i + 1] = lp->entries[i].g;
            out[3 * i + 2] = lp->entries[i].b;
        }
    }
    if (res)
        liq_result_destroy(res);
    if (hist)
        liq_histogram_destroy(hist);
    if (attr)
        liq_attr_destroy(attr);
    av_free(rgba);
    return ret;
}
