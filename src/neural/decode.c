/*
 * The learned codec's decoder (docs/NEURAL.md): the header checked, the
 * payload decoded into the model, then each frame rendered at i / fps,
 * rows shared among threads, chroma averaged to 4:2:0.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <pthread.h>
#include <string.h>

#include <libavutil/mem.h>

#include "neural/coder.h"
#include "neural/decode.h"

#define MAX_THREADS 8

struct ShNnDecoder {
    ShNnHeader h;
    int threads;
    uint8_t *full;            /* 4:4:4 planes of the frame being rendered */
};

typedef struct Part {
    ShNnDecoder *d;
    double t;
    int y0, y1;
} Part;

int sh_nn_decoder_open(ShNnDecoder **out, const uint8_t *buf, size_t size, int threads, char *why, size_t why_len)
{
    ShNnDecoder *d;
    const uint8_t *payload;
    int ret;
    *out = NULL;
    if (!(d = av_mallocz(sizeof(*d))))
        return AVERROR(ENOMEM);
    d->threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
    if ((ret = sh_nn_header_read(&d->h, buf, size, &payload, why, why_len)) < 0)
        goto fail;
    if ((ret = sh_nn_model_alloc(&d->h.model)) < 0 ||
        !(d->full = av_malloc((size_t)3 * d->h.model.width * d->h.model.height))) {
        ret = ret < 0 ? ret : AVERROR(ENOMEM);
        snprintf(why, why_len, "out of memory for the model");
        goto fail;
    }
    sh_nn_unpack(&d->h.model, payload, d->h.payload);
    *out = d;
    return 0;
fail:
    sh_nn_decoder_free(&d);
    return ret;
}

const ShNnHeader *sh_nn_decoder_header(const ShNnDecoder *d)
{
    return &d->h;
}

static void *render_part(void *arg)
{
    Part *p = arg;
    const ShNnModel *m = &p->d->h.model;
    size_t plane = (size_t)m->width * m->height;
    uint8_t *planes[3] = { p->d->full, p->d->full + plane, p->d->full + 2 * plane };
    ptrdiff_t st[3] = { m->width, m->width, m->width };
    sh_nn_render(m, p->t, planes, st, p->y0, p->y1);
    return NULL;
}

int sh_nn_decoder_frame(ShNnDecoder *d, uint32_t i, AVFrame *f)
{
    const ShNnModel *m = &d->h.model;
    int W = m->width, H = m->height, ret, n = d->threads, started = 0;
    size_t plane = (size_t)W * H;
    Part parts[MAX_THREADS];
    pthread_t th[MAX_THREADS];

    if (i >= d->h.frames)
        return AVERROR(EINVAL);
    av_frame_unref(f);
    f->width = W;
    f->height = H;
    f->format = AV_PIX_FMT_YUV420P;
    if ((ret = av_frame_get_buffer(f, 0)) < 0)
        return ret;
    for (int k = 0; k < n; k++) {
        /* even row bounds: a part's chroma rows are its own */
        parts[k] = (Part){ d, i * av_q2d(av_inv_q(d->h.fps)), (H * k / n) & ~1, (H * (k + 1) / n) & ~1 };
        if (k == n - 1)
            parts[k].y1 = H;
    }
    for (int k = 1; k < n; k++, started++)
        if (pthread_create(&th[k], NULL, render_part, &parts[k]))
            break;
    for (int k = started + 1; k < n; k++)
        render_part(&parts[k]);
    render_part(&parts[0]);
    for (int k = 1; k <= started; k++)
        pthread_join(th[k], NULL);

    for (int y = 0; y < H; y++)
        memcpy(f->data[0] + y * f->linesize[0], d->full + (size_t)y * W, W);
    for (int c = 1; c < 3; c++) {
        const uint8_t *s = d->full + c * plane;
        for (int y = 0; y < H / 2; y++)
            for (int x = 0; x < W / 2; x++) {
                const uint8_t *p = s + (size_t)2 * y * W + 2 * x;
                f->data[c][y * f->linesize[c] + x] = (uint8_t)((p[0] + p[1] + p[W] + p[W + 1] + 2) >> 2);
            }
    }
    f->pts = i;
    f->color_range = AVCOL_RANGE_MPEG;
    f->colorspace = d->h.matrix;
    f->color_primaries = d->h.primaries;
    f->color_trc = d->h.transfer;
    return 0;
}

void sh_nn_decoder_free(ShNnDecoder **pd)
{
    ShNnDecoder *d = pd ? *pd : NULL;
    if (!d)
        return;
    sh_nn_model_free(&d->h.model);
    av_free(d->full);
    av_freep(pd);
}
