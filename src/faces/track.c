/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "common/clock.h"
#include "faces/detect.h"
#include "faces/track.h"

/* The detector looks at the frame fitted into this box, and at twice that: a
 * face 40 px high in 640x360 is found (a webcam inset, a face in a wide shot),
 * at 64 ms a look on this machine kind. */
#define LOOK_W 640
#define LOOK_H 360

/* Around dlib's box (brows to mouth, ear to ear): the forehead and hair above,
 * the chin below, the cheeks each side, and room for the motion of a second. */
#define MARGIN_SIDE 0.25f
#define MARGIN_TOP  0.45f
#define MARGIN_BOTTOM 0.25f

typedef struct Look {
    int64_t pts;
    int n;
    ShFaceRegion r[SH_FACES_MAX];
    uint8_t missed[SH_FACES_MAX];   /* held over a look that did not find it */
} Look;

struct ShFaceTrack {
    ShFaceDetector *det;
    AVRational tb;
    int64_t interval;         /* in tb */
    int rotation;
    struct SwsContext *sws;
    uint8_t *small, *upright;
    int sw, sh;               /* the small copy's size (coded orientation) */
    Look *looks;
    int nlooks, cap;
    double budget, since;
    int min_looks;
    ShFaceTrackStats st;
};

int sh_face_track_open(ShFaceTrack **tp, AVRational tb, double interval, int rotation)
{
    ShFaceTrack *t = av_mallocz(sizeof(*t));
    int ret;
    *tp = NULL;
    if (!t)
        return AVERROR(ENOMEM);
    if ((ret = sh_face_detector_open(&t->det)) < 0) {
        av_free(t);
        return ret;
    }
    t->tb = tb;
    t->interval = FFMAX(1, (int64_t)llrint(interval / av_q2d(tb)));
    t->rotation = rotation;
    *tp = t;
    return 0;
}

void sh_face_track_free(ShFaceTrack **tp)
{
    ShFaceTrack *t = tp ? *tp : NULL;
    if (!t)
        return;
    sh_face_detector_free(&t->det);
    sws_freeContext(t->sws);
    av_free(t->small);
    av_free(t->upright);
    av_free(t->looks);
    av_freep(tp);
}

static float clampf(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* A point of the upright picture (fractions) back to the coded frame. */
static void to_coded(int rotation, float a, float b, float *u, float *v)
{
    switch (rotation) {
    case 90:  *u = b;     *v = 1 - a; break;
    case 180: *u = 1 - a; *v = 1 - b; break;
    case 270: *u = 1 - b; *v = a;     break;
    default:  *u = a;     *v = b;     break;
    }
}

/* The small copy turned upright (display orientation) into t->upright: uw x uh. */
static void make_upright(ShFaceTrack *t, int *uw, int *uh)
{
    int w = t->sw, h = t->sh, swap = t->rotation == 90 || t->rotation == 270;
    *uw = swap ? h : w;
    *uh = swap ? w : h;
    for (int y = 0; y < *uh; y++)
        for (int x = 0; x < *uw; x++) {
            int cx, cy;
            switch (t->rotation) {   /* the coded pixel shown at (x, y) */
            case 90:  cx = y;         cy = h - 1 - x; break;
            case 180: cx = w - 1 - x; cy = h - 1 - y; break;
            case 270: cx = w - 1 - y; cy = x;         break;
            default:  cx = x;         cy = y;         break;
            }
            t->upright[y * *uw + x] = t->small[cy * w + cx];
        }
}

static float overlap(const ShFaceRegion *a, const ShFaceRegion *b)
{
    float w = FFMIN(a->x1, b->x1) - FFMAX(a->x0, b->x0);
    float h = FFMIN(a->y1, b->y1) - FFMAX(a->y0, b->y0);
    return w > 0 && h > 0 ? w * h : 0;
}

double sh_face_regions_share(const ShFaceRegion *r, int n)
{
    /* On a 64x64 grid: regions overlap, and a handful of them needs no more. */
    int covered = 0;
    for (int gy = 0; gy < 64; gy++)
        for (int gx = 0; gx < 64; gx++) {
            float x = (gx + 0.5f) / 64, y = (gy + 0.5f) / 64;
            for (int i = 0; i < n; i++)
                if (x >= r[i].x0 && x < r[i].x1 && y >= r[i].y0 && y < r[i].y1) {
                    covered++;
                    break;
                }
        }
    return covered / 4096.0;
}

static Look *new_look(ShFaceTrack *t, int64_t pts)
{
    Look *l;
    if (t->nlooks == t->cap) {
        int cap = FFMAX(64, t->cap * 2);
        Look *nl = av_realloc_array(t->looks, cap, sizeof(*nl));
        if (!nl)
            return NULL;
        t->looks = nl;
        t->cap = cap;
    }
    l = &t->looks[t->nlooks];
    memset(l, 0, sizeof(*l));
    l->pts = pts;
    return l;
}

int sh_face_track_clear(ShFaceTrack *t, int64_t pts)
{
    if (!new_look(t, pts))
        return AVERROR(ENOMEM);
    t->nlooks++;
    return 0;
}

static int look(ShFaceTrack *t, const AVFrame *f)
{
    ShFaceBox box[SH_FACES_MAX];
    Look *l, *prev;
    int ret, n, uw, uh, swap = t->rotation == 90 || t->rotation == 270;
    double t0 = sh_now(), fit;
    int w = f->width, h = f->height;
    int dw = swap ? h : w, dh = swap ? w : h;   /* as displayed */

    /* The small copy: fitted into LOOK_W x LOOK_H as displayed, never enlarged. */
    fit = FFMIN(1.0, FFMIN((double)LOOK_W / dw, (double)LOOK_H / dh));
    int sw = FFMAX(16, (int)lrint(w * fit)), sh = FFMAX(16, (int)lrint(h * fit));
    if (sw != t->sw || sh != t->sh) {
        av_freep(&t->small);
        av_freep(&t->upright);
        if (!(t->small = av_malloc((size_t)sw * sh)) || !(t->upright = av_malloc((size_t)sw * sh)))
            return AVERROR(ENOMEM);
        t->sw = sw;
        t->sh = sh;
    }
    t->sws = sws_getCachedContext(t->sws, w, h, f->format, sw, sh, AV_PIX_FMT_GRAY8, SWS_AREA, NULL, NULL, NULL);
    if (!t->sws)
        return AVERROR(EINVAL);
    {
        uint8_t *dst[4] = { t->small };
        int dst_stride[4] = { sw };
        if ((ret = sws_scale(t->sws, (const uint8_t *const *)f->data, f->linesize, 0, h, dst, dst_stride)) < 0)
            return ret;
    }
    make_upright(t, &uw, &uh);
    if ((n = sh_face_detector_run(t->det, t->upright, uw, uw, uh, 1, box, SH_FACES_MAX)) < 0)
        return n;

    if (!(l = new_look(t, f->pts)))
        return AVERROR(ENOMEM);
    prev = t->nlooks ? &t->looks[t->nlooks - 1] : NULL;
    for (int i = 0; i < n; i++) {
        float a0 = (box[i].x - MARGIN_SIDE * box[i].w) / uw, a1 = (box[i].x + (1 + MARGIN_SIDE) * box[i].w) / uw;
        float b0 = (box[i].y - MARGIN_TOP * box[i].h) / uh, b1 = (box[i].y + (1 + MARGIN_BOTTOM) * box[i].h) / uh;
        float u0, v0, u1, v1;
        to_coded(t->rotation, clampf(a0), clampf(b0), &u0, &v0);
        to_coded(t->rotation, clampf(a1), clampf(b1), &u1, &v1);
        l->r[l->n++] = (ShFaceRegion){ FFMIN(u0, u1), FFMIN(v0, v1), FFMAX(u0, u1), FFMAX(v0, v1) };
    }
    /* A face the last look had and this one missed stays for one more look. */
    for (int i = 0; prev && i < prev->n && l->n < SH_FACES_MAX; i++) {
        int found = 0;
        if (prev->missed[i])
            continue;
        for (int k = 0; k < n; k++)
            found |= overlap(&prev->r[i], &l->r[k]) > 0;
        if (!found) {
            l->missed[l->n] = 1;
            l->r[l->n++] = prev->r[i];
        }
    }
    t->nlooks++;
    t->st.looks++;
    if (n > 0) {
        t->st.looks_with_faces++;
        t->st.share_sum += sh_face_regions_share(l->r, l->n);
    }
    t->st.seconds += sh_now() - t0;
    return 0;
}

void sh_face_track_set_budget(ShFaceTrack *t, double share, double since, int min_looks)
{
    t->budget = share;
    t->since = since;
    t->min_looks = min_looks;
}

int sh_face_track_frame(ShFaceTrack *t, const AVFrame *f, int now)
{
    t->st.frames++;
    if (f->pts == AV_NOPTS_VALUE)
        return 0;
    if (!now && t->nlooks && f->pts < t->looks[t->nlooks - 1].pts + t->interval && f->pts >= t->looks[t->nlooks - 1].pts)
        return 0;
    /* Over its share of the time: the faces found last stay on a while longer. */
    if (t->st.looks >= FFMAX(t->min_looks, 1) && t->budget > 0 && t->st.seconds > t->budget * (sh_now() - t->since))
        return 0;
    return look(t, f);
}

int sh_face_track_at(const ShFaceTrack *t, int64_t pts, ShFaceRegion *out, int max)
{
    int lo = 0, hi = t->nlooks - 1, at = -1, n;
    /* The last look at or before pts. */
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (t->looks[mid].pts <= pts) {
            at = mid;
            lo = mid + 1;
        } else
            hi = mid - 1;
    }
    if (at < 0)
        return 0;
    n = FFMIN(t->looks[at].n, max);
    memcpy(out, t->looks[at].r, n * sizeof(*out));
    return n;
}

int sh_face_regions_attach(AVFrame *f, const ShFaceRegion *r, int n, double strength)
{
    AVFrameSideData *sd;
    AVRegionOfInterest *roi;
    av_frame_remove_side_data(f, AV_FRAME_DATA_REGIONS_OF_INTEREST);
    /* A picture without faces still gets a list: one region, the whole
     * picture, offset 0 (the same quantisers as none). libx265 3.5 keeps a
     * picture's offset buffer only if the first picture it made that frame
     * for came with offsets, and later copies offsets into it regardless:
     * a film whose faces appear after its first pictures crashed it (x265
     * at 1280x720, medium: a NULL memcpy in x265::Encoder::encode). */
    sd = av_frame_new_side_data(f, AV_FRAME_DATA_REGIONS_OF_INTEREST, FFMAX(n, 1) * sizeof(*roi));
    if (!sd)
        return AVERROR(ENOMEM);
    roi = (AVRegionOfInterest *)sd->data;
    if (n <= 0) {
        roi[0] = (AVRegionOfInterest){ .self_size = sizeof(*roi), .right = f->width, .bottom = f->height,
                                       .qoffset = av_make_q(0, 1) };
        return 0;
    }
    for (int i = 0; i < n; i++) {
        roi[i] = (AVRegionOfInterest){
            .self_size = sizeof(*roi),
            .left = (int)floorf(r[i].x0 * f->width),
            .right = (int)ceilf(r[i].x1 * f->width),
            .top = (int)floorf(r[i].y0 * f->height),
            .bottom = (int)ceilf(r[i].y1 * f->height),
            .qoffset = av_make_q(-(int)lrint(strength * 1000), 1000),
        };
    }
    return 0;
}

const ShFaceTrackStats *sh_face_track_stats(const ShFaceTrack *t)
{
    return &t->st;
}
