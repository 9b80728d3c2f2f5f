/*
 * The GIF fitter's insides, shared by its files (not an interface):
 *   solver/gif_search.c  sample measurements and the search (picture, rate, knobs)
 *   solver/gif_fit.c     sh_palette_fit: sample, search, decode once, encode, correct
 *   gif/chain.c          frames -> RGB at the GIF's size -> PAL8; which frames; clip palettes
 *   gif/film.c           the decode pass into the cache, one whole-film encode
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_GIF_FITTER_H
#define SH_GIF_FITTER_H

#include <stdint.h>

#include <libavutil/frame.h>

#include "encoders/encoder.h"
#include "faces/track.h"
#include "gif/gif.h"
#include "input/cache.h"
#include "solver/palette.h"
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
    ShPaletteJob *ctx;
    const ShEncoderDesc *enc;   /* the palettised encoder */
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
    ShFaceTrack *faces;      /* looked for on the decode pass (--roi auto|faces), or NULL */
    int face_outside;        /* > 0: palettes weigh faces 255, the rest this (gif/faces.c) */
} Fitter;

/* A chain scale (to RGB24 at the config's size) -> palette. */
typedef struct Chain {
    ShStage *scale, *palette;
    struct SwsContext *sws;
    AVFrame *rgb, *pal8;
    AVFrame *upright;        /* rgb turned by `rotation` */
    int rotation;
    uint8_t pal[256 * 3];
    int colors;              /* the stream's: what the palette stage may use */
    /* Faces weighed in the palettes: set by the caller after opening. */
    const ShFaceTrack *faces;
    int face_outside;        /* the weight outside them (inside: 255); 0: none */
    uint8_t *weights;        /* the plane for ch->rgb */
    size_t weights_size;
    const uint8_t *importance;   /* what the palette stage reads: weights, or NULL for this frame */
} Chain;

typedef struct Film {
    ShFrameCache *cache;
    int cache_w, cache_h;
    int display_h;           /* the cache's height as shown (its width when turned) */
    AVRational fps;          /* of the cache: encodes drop frames from it */
    int64_t origin;
    AVRational tb;
    double duration;
} Film;

/* Whether the job was interrupted: SH_ERROR_INTERRUPTED, else 0. */
int sh_gif_interrupted(const Fitter *f);
const char *sh_gif_dither_name(int dither);
void sh_gif_config_dims(const Fitter *f, Config *c);
int sh_gif_even_height(double h);

/* chain.c */
void sh_gif_turn_rgb(const uint8_t *src, ptrdiff_t ss, int w, int h, int rot, uint8_t *dst, ptrdiff_t ds);
void sh_gif_chain_free(Chain *ch);
int sh_gif_chain_open(Chain *ch, const Config *c, int in_w, int in_h, AVRational tb, int rotation,
                      const uint8_t *pal, int npal);
int sh_gif_chain_scale(Chain *ch, const AVFrame *in);
int sh_gif_chain_palette(Chain *ch);
int sh_gif_clip_palette(ShFrameCache *cache, const int64_t *shown, const Config *c, int in_w, int in_h,
                        AVRational tb, int max_frames, const ShFaceTrack *faces, int face_outside, uint8_t *pal);
void sh_gif_choose_frames(const ShFrameCache *cache, int64_t from, int64_t to, AVRational tb, AVRational fps,
                          int64_t *shown);
int64_t sh_gif_slot_cs(int64_t slot, AVRational fps);

/* gif_search.c */
void sh_gif_make_rates(Fitter *f);
int sh_gif_rate_corrects(const Fitter *f, double fps);
int sh_gif_search(Fitter *f, Config *out, Eval *out_eval);
void sh_gif_floor_config(const Fitter *f, Config *c);
void sh_gif_rule_config(const Fitter *f, Config *c);
void sh_gif_log_plan(const Fitter *f, const char *what, const Config *c, int colors);

/* faces.c: faces weighed in the palettes */
int sh_gif_faces_open(Fitter *f);
int sh_gif_faces_frame(Fitter *f, const AVFrame *cached);
void sh_gif_faces_decide(Fitter *f);
int sh_gif_face_weights(Chain *ch, int64_t pts);
void sh_gif_faces_free(Fitter *f);

/* film.c */
int sh_gif_decode_film(Fitter *f, AVRational cache_fps, int cache_height, Film *film);
int sh_gif_encode_film(Fitter *f, Film *film, const Config *c, char *path, size_t path_len,
                       int64_t *bytes, int *colors);

#endif
