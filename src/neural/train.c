/*
 * Fitting the learned codec to one film (docs/NEURAL.md, "Training").
 *
 * Plain C, by measurement (docs/NEURAL.md: libtorch 1.13 against this on
 * the same model). Adam over the latents and the network; the distortion
 * is the mean squared error of Y, Cb and Cr (chroma at a quarter: it is
 * coded at a quarter of the pixels by every other codec), the rate a
 * Laplace model of the latents with uniform noise in place of rounding
 * (Balle et al., 2017; Cool-chic's recipe), and the weight between them is
 * steered by the bytes the coder really makes, so the fit lands on the
 * target rather than on a guess of lambda. The last stretch rounds the
 * latents and the weights as the file will (straight-through gradients).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>

#include "common/clock.h"
#include "common/log.h"
#include "neural/coder.h"
#include "neural/net.h"
#include "neural/train.h"
#include "shrink/shrink.h"

#define MAX_THREADS 8
#define BATCH 16384             /* pixels a step: the update pass over every latent costs as much */
#define RATE_EVERY 4            /* the rate's gradient every this many steps, times this */
#define STE_FROM 0.85           /* of the time: from here on, the file's rounding */
#define WEIGHT_LEVELS 31        /* weights are coded in +-31 steps of max |w| / 31 */
static const float chan_weight[SH_NN_OUT] = { 1.0f, 0.25f, 0.25f };

typedef struct Adam {
    float *m, *v;
} Adam;

typedef struct Worker {
    struct Trainer *tr;
    int index;
    uint64_t rng;
    float *glat;              /* latent gradients of this worker's pixels */
    float *gw[3], *gb[3];
    double loss;
    size_t lo, hi;            /* update phase: this range of the latents */
    double absum[SH_NN_MAX_LEVELS];
} Worker;

typedef struct Trainer {
    ShNnModel *m;             /* the master: float latents (quantiser steps) and weights */
    ShNnModel fm;             /* what the forward pass reads: noisy or rounded latents, weights */
    const ShNnFrames *data;
    int nthreads;
    size_t nlat, off[SH_NN_MAX_LEVELS + 1];
    float *lat;               /* master latents, all levels in a row */
    float *vq;                /* forward latents */
    Adam alat, aw[3], ab[3];
    float *qw[3], *qb[3];     /* forward weights */
    float qstep[3];           /* ... in these steps */
    Worker wk[MAX_THREADS];
    /* this step */
    int ste, rate_step, phase;
    float lr_lat, lr_w, lambda, beta1t, beta2t;
    float rate_scale[SH_NN_MAX_LEVELS]; /* lambda / pixels * RATE_EVERY */
    float lap_b[SH_NN_MAX_LEVELS], lap_e[SH_NN_MAX_LEVELS];
} Trainer;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static float rndf(uint64_t *s)   /* [0, 1) */
{
    return (rnd(s) >> 40) * (1.0f / (1 << 24));
}

static int layer_rows(const ShNnModel *m, int k)
{
    return k < 2 ? m->hidden : SH_NN_OUT;
}

static int layer_cols(const ShNnModel *m, int k)
{
    return k == 0 ? m->levels : m->hidden;
}

/* The samples of one worker: forward, loss, backward into its gradients. */
static void sample_pass(Worker *w)
{
    Trainer *tr = w->tr;
    const ShNnModel *m = &tr->fm;
    const ShNnFrames *d = tr->data;
    const int L = m->levels, H = m->hidden;
    int n = BATCH / tr->nthreads;
    const float inv_b = 1.0f / BATCH;
    double loss = 0;

    for (int s = 0; s < n; s++) {
        int i = (int)(rnd(&w->rng) % d->n);
        int x = (int)(rnd(&w->rng) % d->width), y = (int)(rnd(&w->rng) % d->height);
        size_t base[SH_NN_MAX_LEVELS];
        int dy[SH_NN_MAX_LEVELS], dt[SH_NN_MAX_LEVELS];
        float cw[SH_NN_MAX_LEVELS][8], in[SH_NN_MAX_LEVELS], out[SH_NN_OUT], dout[SH_NN_OUT];
        float dh2[SH_NN_MAX_HIDDEN], dh1[SH_NN_MAX_HIDDEN];
        ShNnActs a;

        for (int l = 0; l < L; l++) {
            const ShNnGrid *g = &m->grid[l];
            float fx, fy, ft;
            int kx = sh_nn_knot((x + 0.5f) / g->stride, g->gw, &fx);
            int ky = sh_nn_knot((y + 0.5f) / g->stride, g->gh, &fy);
            int kt = sh_nn_knot((float)(d->t[i] / g->tstride), g->gt, &ft);
            const float *v = g->v;
            size_t b = ((size_t)kt * g->gh + ky) * g->gw + kx;
            int ddy = g->gw, ddt = g->gw * g->gh;
            float *c = cw[l];
            c[0] = (1 - fx) * (1 - fy) * (1 - ft);
            c[1] = fx * (1 - fy) * (1 - ft);
            c[2] = (1 - fx) * fy * (1 - ft);
            c[3] = fx * fy * (1 - ft);
            c[4] = (1 - fx) * (1 - fy) * ft;
            c[5] = fx * (1 - fy) * ft;
            c[6] = (1 - fx) * fy * ft;
            c[7] = fx * fy * ft;
            in[l] = SH_NN_LATENT_SCALE *
                    (c[0] * v[b] + c[1] * v[b + 1] + c[2] * v[b + ddy] + c[3] * v[b + ddy + 1] +
                     c[4] * v[b + ddt] + c[5] * v[b + ddt + 1] + c[6] * v[b + ddt + ddy] +
                     c[7] * v[b + ddt + ddy + 1]);
            base[l] = b;
            dy[l] = ddy;
            dt[l] = ddt;
        }
        sh_nn_forward(m, in, out, &a);
        {
            size_t p = (size_t)y * d->width + x;
            float tgt[3] = { (d->y[i][p] - 16) / 219.0f, (d->cb[i][p] - 128) / 224.0f,
                             (d->cr[i][p] - 128) / 224.0f };
            for (int c = 0; c < SH_NN_OUT; c++) {
                float e = out[c] - tgt[c];
                loss += chan_weight[c] * e * e;
                dout[c] = 2 * chan_weight[c] * e * inv_b;
            }
        }
        /* backward */
        for (int k = 0; k < H; k++)
            dh2[k] = 0;
        for (int c = 0; c < SH_NN_OUT; c++) {
            const float *wr = m->w[2] + c * H;
            float *gr = w->gw[2] + c * H;
            for (int k = 0; k < H; k++) {
                gr[k] += dout[c] * a.h2[k];
                dh2[k] += wr[k] * dout[c];
            }
            w->gb[2][c] += dout[c];
        }
        for (int k = 0; k < H; k++) {
            dh2[k] = a.h2[k] > 0 ? dh2[k] : 0;
            dh1[k] = 0;
        }
        for (int r = 0; r < H; r++) {
            const float *wr = m->w[1] + r * H;
            float *gr = w->gw[1] + r * H;
            float g = dh2[r];
            if (g == 0)
                continue;
            for (int k = 0; k < H; k++) {
                gr[k] += g * a.h1[k];
                dh1[k] += wr[k] * g;
            }
            w->gb[1][r] += g;
        }
        for (int k = 0; k < H; k++)
            dh1[k] = a.h1[k] > 0 ? dh1[k] : 0;
        {
            float din[SH_NN_MAX_LEVELS] = { 0 };
            for (int r = 0; r < H; r++) {
                const float *wr = m->w[0] + r * L;
                float *gr = w->gw[0] + r * L;
                float g = dh1[r];
                if (g == 0)
                    continue;
                for (int l = 0; l < L; l++) {
                    gr[l] += g * in[l];
                    din[l] += wr[l] * g;
                }
                w->gb[0][r] += g;
            }
            for (int l = 0; l < L; l++) {
                float *gl = w->glat + tr->off[l] + base[l];
                float g = din[l] * SH_NN_LATENT_SCALE;
                const float *c = cw[l];
                int ddy = dy[l], ddt = dt[l];
                gl[0] += g * c[0];
                gl[1] += g * c[1];
                gl[ddy] += g * c[2];
                gl[ddy + 1] += g * c[3];
                gl[ddt] += g * c[4];
                gl[ddt + 1] += g * c[5];
                gl[ddt + ddy] += g * c[6];
                gl[ddt + ddy + 1] += g * c[7];
            }
        }
    }
    w->loss = loss;
}

/* d(-log2 P(y))/dy for a Laplace of scale b, P the mass of [y - 0.5, y + 0.5]. */
static float rate_grad(float y, float b, float e)   /* e: exp(-0.5 / b) */
{
    float a = fabsf(y), g;
    if (a >= 0.5f) {
        g = 1.0f / (b * (float)M_LN2);
    } else {
        float x = expf(a / b), ix = 1 / x;
        float p = 1 - e * 0.5f * (x + ix);
        g = e * 0.5f * (x - ix) / (b * FFMAX(p, 1e-6f) * (float)M_LN2);
    }
    return y < 0 ? -g : g;
}

/* Adam on this worker's range of latents, then their forward values for the next step. */
static void update_pass(Worker *w)
{
    Trainer *tr = w->tr;
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    const float c1 = 1 / (1 - tr->beta1t), c2 = 1 / (1 - tr->beta2t);
    int l = 0;
    for (int k = 0; k < SH_NN_MAX_LEVELS; k++)
        w->absum[k] = 0;
    for (size_t i = w->lo; i < w->hi; i++) {
        float g = 0, v;
        while (i >= tr->off[l + 1])
            l++;
        for (int k = 0; k < tr->nthreads; k++) {
            g += tr->wk[k].glat[i];
            tr->wk[k].glat[i] = 0;
        }
        if (tr->rate_step)
            g += tr->rate_scale[l] * rate_grad(tr->vq[i], tr->lap_b[l], tr->lap_e[l]);
        {
            float *m = &tr->alat.m[i], *s = &tr->alat.v[i];
            *m = b1 * *m + (1 - b1) * g;
            *s = b2 * *s + (1 - b2) * g * g;
            v = tr->lat[i] -= tr->lr_lat * (*m * c1) / (sqrtf(*s * c2) + eps);
        }
        w->absum[l] += fabsf(v);
        tr->vq[i] = tr->ste ? rintf(v) : v + rndf(&w->rng) - 0.5f;
    }
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    if (w->tr->phase == 0)
        sample_pass(w);
    else
        update_pass(w);
    return NULL;
}

static int run_phase(Trainer *tr, int phase)
{
    pthread_t th[MAX_THREADS];
    int started = 0, ret = 0;
    tr->phase = phase;
    for (int k = 1; k < tr->nthreads; k++, started++)
        if (pthread_create(&th[k], NULL, worker_main, &tr->wk[k]))
            break;
    worker_main(&tr->wk[0]);
    for (int k = 1; k <= started; k++)
        pthread_join(th[k], NULL);
    if (started < tr->nthreads - 1) {
        /* (no thread: the rest run here) */
        for (int k = started + 1; k < tr->nthreads; k++)
            worker_main(&tr->wk[k]);
    }
    return ret;
}

static void quantise_weights(Trainer *tr)
{
    ShNnModel *m = tr->m;
    for (int k = 0; k < 3; k++) {
        int n = layer_rows(m, k) * layer_cols(m, k), nb = layer_rows(m, k);
        float mx = 1e-6f, s;
        for (int i = 0; i < n; i++)
            mx = FFMAX(mx, fabsf(m->w[k][i]));
        for (int i = 0; i < nb; i++)
            mx = FFMAX(mx, fabsf(m->b[k][i]));
        s = mx / WEIGHT_LEVELS;
        for (int i = 0; i < n; i++)
            tr->qw[k][i] = s * rintf(m->w[k][i] / s);
        for (int i = 0; i < nb; i++)
            tr->qb[k][i] = s * rintf(m->b[k][i] / s);
        tr->qstep[k] = s;
    }
}

static void adam_small(Adam *a, float *p, float *g, int n, float lr, const Trainer *tr)
{
    const float b1 = 0.9f, b2 = 0.999f, c1 = 1 / (1 - tr->beta1t), c2 = 1 / (1 - tr->beta2t);
    for (int i = 0; i < n; i++) {
        a->m[i] = b1 * a->m[i] + (1 - b1) * g[i];
        a->v[i] = b2 * a->v[i] + (1 - b2) * g[i] * g[i];
        p[i] -= lr * (a->m[i] * c1) / (sqrtf(a->v[i] * c2) + 1e-8f);
        g[i] = 0;
    }
}

/* The model as the file would code it, the latents divided by step: its payload bytes. */
static size_t coded_bytes(Trainer *tr, float step, float *rq, ShNnModel *cm)
{
    ShNnModel *m = tr->m;
    *cm = *m;
    for (size_t i = 0; i < tr->nlat; i++)
        rq[i] = rintf(tr->lat[i] / step);
    for (int l = 0; l < m->levels; l++) {
        cm->grid[l].v = rq + tr->off[l];
        cm->grid[l].step = step;
    }
    quantise_weights(tr);
    for (int k = 0; k < 3; k++) {
        cm->w[k] = tr->qw[k];
        cm->b[k] = tr->qb[k];
        cm->wstep[k] = tr->qstep[k];
    }
    return sh_nn_pack(cm, NULL, 0);
}

static void trainer_free(Trainer *tr)
{
    av_freep(&tr->lat);
    av_freep(&tr->vq);
    av_freep(&tr->alat.m);
    av_freep(&tr->alat.v);
    for (int k = 0; k < 3; k++) {
        av_freep(&tr->aw[k].m);
        av_freep(&tr->aw[k].v);
        av_freep(&tr->ab[k].m);
        av_freep(&tr->ab[k].v);
        av_freep(&tr->qw[k]);
        av_freep(&tr->qb[k]);
    }
    for (int t = 0; t < MAX_THREADS; t++) {
        av_freep(&tr->wk[t].glat);
        for (int k = 0; k < 3; k++) {
            av_freep(&tr->wk[t].gw[k]);
            av_freep(&tr->wk[t].gb[k]);
        }
    }
}

static int trainer_init(Trainer *tr, ShNnModel *m, const ShNnFrames *d, const ShNnFitParams *p)
{
    uint64_t seed = p->seed ? p->seed : 0x9E3779B97F4A7C15ull;
    memset(tr, 0, sizeof(*tr));
    tr->m = m;
    tr->data = d;
    tr->nthreads = av_clip(p->threads, 1, MAX_THREADS);
    for (int l = 0; l < m->levels; l++)
        tr->off[l + 1] = tr->off[l] + (size_t)m->grid[l].gw * m->grid[l].gh * m->grid[l].gt;
    tr->nlat = tr->off[m->levels];
    if (!(tr->lat = av_calloc(tr->nlat, sizeof(float))) || !(tr->vq = av_calloc(tr->nlat, sizeof(float))) ||
        !(tr->alat.m = av_calloc(tr->nlat, sizeof(float))) || !(tr->alat.v = av_calloc(tr->nlat, sizeof(float))))
        return AVERROR(ENOMEM);
    for (int k = 0; k < 3; k++) {
        int n = layer_rows(m, k) * layer_cols(m, k), nb = layer_rows(m, k);
        if (!(tr->aw[k].m = av_calloc(n, 4)) || !(tr->aw[k].v = av_calloc(n, 4)) ||
            !(tr->ab[k].m = av_calloc(nb, 4)) || !(tr->ab[k].v = av_calloc(nb, 4)) ||
            !(tr->qw[k] = av_calloc(n, 4)) || !(tr->qb[k] = av_calloc(nb, 4)))
            return AVERROR(ENOMEM);
    }
    for (int t = 0; t < tr->nthreads; t++) {
        Worker *w = &tr->wk[t];
        w->tr = tr;
        w->index = t;
        w->rng = seed + 0x1234567ull * (t + 1);
        w->lo = tr->nlat * t / tr->nthreads;
        w->hi = tr->nlat * (t + 1) / tr->nthreads;
        if (!(w->glat = av_calloc(tr->nlat, sizeof(float))))
            return AVERROR(ENOMEM);
        for (int k = 0; k < 3; k++)
            if (!(w->gw[k] = av_calloc(layer_rows(m, k) * layer_cols(m, k), 4)) ||
                !(w->gb[k] = av_calloc(layer_rows(m, k), 4)))
                return AVERROR(ENOMEM);
    }
    /* He initialisation; the luma bias at mid-grey, the first layer's biases a
     * little over zero so every unit passes a gradient from the start. */
    {
        uint64_t r = seed;
        for (int k = 0; k < 3; k++) {
            int n = layer_rows(m, k) * layer_cols(m, k);
            float a = sqrtf(6.0f / layer_cols(m, k)) * (k == 2 ? 0.3f : 1.0f);
            for (int i = 0; i < n; i++)
                m->w[k][i] = (2 * rndf(&r) - 1) * a;
        }
        for (int i = 0; i < m->hidden; i++)
            m->b[0][i] = m->b[1][i] = 0.05f;
        m->b[2][0] = 0.45f;
        for (size_t i = 0; i < tr->nlat; i++)
            tr->vq[i] = rndf(&r) - 0.5f;
    }
    tr->fm = *m;
    for (int l = 0; l < m->levels; l++) {
        tr->fm.grid[l].v = tr->vq + tr->off[l];
        tr->fm.grid[l].step = 1;
        tr->lap_b[l] = 1;
    }
    return 0;
}

/* Luma PSNR of the model as coded against up to 16 training frames. */
static double model_psnr(const ShNnModel *m, const ShNnFrames *d)
{
    double se = 0;
    size_t n = 0;
    int count = FFMIN(d->n, 16);
    uint8_t *pl = av_malloc((size_t)3 * d->width * d->height);
    if (!pl)
        return 0;
    for (int k = 0; k < count; k++) {
        int i = (int)((int64_t)k * d->n / count);
        uint8_t *planes[3] = { pl, pl + (size_t)d->width * d->height, pl + (size_t)2 * d->width * d->height };
        ptrdiff_t st[3] = { d->width, d->width, d->width };
        sh_nn_render(m, d->t[i], planes, st, 0, d->height);
        for (size_t p = 0; p < (size_t)d->width * d->height; p++) {
            double e = (double)pl[p] - d->y[i][p];
            se += e * e;
            n++;
        }
    }
    av_free(pl);
    return se > 0 ? 10 * log10(255.0 * 255.0 * n / se) : 99;
}

int sh_nn_fit(ShNnHeader *h, const ShNnFrames *d, const ShNnFitParams *p, uint8_t **file, size_t *size,
              ShNnFitStats *st)
{
    ShNnModel *m = &h->model;
    Trainer tr = { 0 };
    ShNnModel cm;
    float *rq = NULL;
    size_t hsize = sh_nn_header_size(m), payload_max, bytes = 0;
    double t0 = sh_now(), last_progress = 0, pixels = (double)d->n * d->width * d->height;
    float lambda = 0.5f;
    int ret, steps = 0;

    memset(st, 0, sizeof(*st));
    *file = NULL;
    *size = 0;
    if ((ret = sh_nn_model_alloc(m)) < 0 || (ret = trainer_init(&tr, m, d, p)) < 0)
        goto end;
    if (!(rq = av_malloc_array(tr.nlat, sizeof(float)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((int64_t)hsize >= p->target_bytes) {
        *size = hsize + 16;
        ret = SH_ERROR_TARGET_TOO_SMALL;
        goto end;
    }
    payload_max = p->target_bytes - hsize;

    tr.beta1t = tr.beta2t = 1;

    for (;;) {
        double frac = (sh_now() - t0) / FFMAX(p->time_limit, 0.001);
        float lr = frac < 0.03 ? (float)(0.2 + 0.8 * frac / 0.03)
                               : (float)(0.05 + 0.95 * 0.5 * (1 + cos(M_PI * FFMIN(frac, 1))));
        if (frac >= 1 && steps >= 20)
            break;
        if (p->interrupted && p->interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        tr.ste = frac >= STE_FROM;
        /* Once rounding, lambda is settled: the last stretch only fits the
         * network and the latents to the rounding (a rate pull then drags
         * latents just over a half to zero, and the file shrinks for nothing). */
        tr.rate_step = !tr.ste && steps % RATE_EVERY == 0;
        tr.lr_lat = 0.2f * lr;
        tr.lr_w = 0.004f * lr;
        tr.beta1t *= 0.9f;
        tr.beta2t *= 0.999f;
        if (tr.ste) {
            quantise_weights(&tr);
            for (int k = 0; k < 3; k++) {
                tr.fm.w[k] = tr.qw[k];
                tr.fm.b[k] = tr.qb[k];
            }
        }
        for (int l = 0; l < m->levels; l++)
            tr.rate_scale[l] = (float)(lambda / pixels * RATE_EVERY);

        run_phase(&tr, 0);
        /* the network's gradients into worker 0's, then its Adam step */
        for (int k = 0; k < 3; k++) {
            int n = layer_rows(m, k) * layer_cols(m, k), nb = layer_rows(m, k);
            for (int t = 1; t < tr.nthreads; t++) {
                for (int i = 0; i < n; i++) {
                    tr.wk[0].gw[k][i] += tr.wk[t].gw[k][i];
                    tr.wk[t].gw[k][i] = 0;
                }
                for (int i = 0; i < nb; i++) {
                    tr.wk[0].gb[k][i] += tr.wk[t].gb[k][i];
                    tr.wk[t].gb[k][i] = 0;
                }
            }
            adam_small(&tr.aw[k], m->w[k], tr.wk[0].gw[k], n, tr.lr_w, &tr);
            adam_small(&tr.ab[k], m->b[k], tr.wk[0].gb[k], nb, tr.lr_w, &tr);
        }
        run_phase(&tr, 1);
        for (int l = 0; l < m->levels; l++) {
            double s = 0;
            for (int t = 0; t < tr.nthreads; t++)
                s += tr.wk[t].absum[l];
            tr.lap_b[l] = (float)FFMAX(0.05, s / (tr.off[l + 1] - tr.off[l]));
            tr.lap_e[l] = expf(-0.5f / tr.lap_b[l]);
        }
        steps++;
        /* Steer lambda by the bytes the coder makes now; frozen once rounding. */
        /* Not in the first tenth: the latents start at zero and Adam's first
         * steps move them all at once, a burst of bytes that says nothing of
         * where the fit goes. Small steps often: the fits of a few hundred
         * steps must settle too. */
        if (!tr.ste && frac > 0.1 && steps % 10 == 0) {
            bytes = coded_bytes(&tr, 1, rq, &cm);
            double r = (double)bytes / (payload_max * 0.97);
            lambda *= (float)av_clipd(r, 0.8, 1.25);
            lambda = av_clipf(lambda, 1e-5f, 1e4f);
            sh_log(SH_LOG_DEBUG, NULL, "neural: step %d, %.0f%% of the time: %zu bytes, lambda %.4g, loss %.5f",
                   steps, frac * 100, bytes, lambda, (tr.wk[0].loss + tr.wk[1 % tr.nthreads].loss) / BATCH);
        }
        if (p->progress && sh_now() - last_progress > 0.5) {
            last_progress = sh_now();
            p->progress(p->opaque, FFMIN(frac, 1));
        }
    }

    /* The file: the latents rounded, coarsened until they fit. */
    {
        float lo = 1, hi = 1, step = 1;
        bytes = coded_bytes(&tr, 1, rq, &cm);
        if (bytes > payload_max) {
            while (hi < 4096 && (bytes = coded_bytes(&tr, hi *= 2, rq, &cm)) > payload_max)
                lo = hi;
            if (bytes > payload_max) {
                /* (no latents at all: only the network; beyond that nothing fits) */
                memset(tr.lat, 0, tr.nlat * sizeof(float));
                if ((bytes = coded_bytes(&tr, 1, rq, &cm)) > payload_max) {
                    *size = hsize + bytes;
                    ret = SH_ERROR_TARGET_TOO_SMALL;
                    goto end;
                }
                hi = 1;
            } else {
                for (int it = 0; it < 12; it++) {
                    float mid = sqrtf(lo * hi);
                    if (coded_bytes(&tr, mid, rq, &cm) > payload_max)
                        lo = mid;
                    else
                        hi = mid;
                }
            }
        }
        step = hi;
        bytes = coded_bytes(&tr, step, rq, &cm);
        st->step = step;
        st->nonzero = 0;
        for (size_t i = 0; i < tr.nlat; i++)
            st->nonzero += rq[i] != 0;
        for (int l = 0; l < m->levels; l++) {
            memcpy(m->grid[l].v, rq + tr.off[l], (tr.off[l + 1] - tr.off[l]) * sizeof(float));
            m->grid[l].step = step;
        }
        quantise_weights(&tr);
        for (int k = 0; k < 3; k++) {
            m->wstep[k] = tr.qstep[k];
            memcpy(m->w[k], tr.qw[k], sizeof(float) * layer_rows(m, k) * layer_cols(m, k));
            memcpy(m->b[k], tr.qb[k], sizeof(float) * layer_rows(m, k));
        }
    }
    if (!(*file = av_malloc(hsize + bytes + 16))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (sh_nn_pack(m, *file + hsize, bytes) != bytes) {
        sh_log(SH_LOG_ERROR, NULL, "neural: the payload changed size between two codings");
        ret = AVERROR_BUG;
        goto end;
    }
    h->payload = (uint32_t)bytes;
    sh_nn_header_write(h, *file);
    *size = hsize + bytes;
    st->steps = steps;
    st->seconds = sh_now() - t0;
    st->lambda = lambda;
    st->latents = tr.nlat;
    st->weights = sh_nn_model_weights(m);
    st->psnr = model_psnr(m, d);
    ret = 0;
end:
    if (ret < 0)
        av_freep(file);
    av_free(rq);
    trainer_free(&tr);
    return ret;
}

void sh_nn_shape(ShNnModel *m, int width, int height, double duration, int64_t bytes, double train_fps,
                 double max_latents)
{
    double bits = bytes * 8.0, tau = 8, min_t = 1 / FFMAX(train_fps, 0.1);
    int side = FFMAX(width, height);
    memset(m, 0, sizeof(*m));
    m->width = width;
    m->height = height;
    m->duration = llrint(duration * 1000) / 1000.0;
    /* The network: more units where the budget carries their weights easily. */
    m->hidden = bits < 40e3 ? 12 : bits < 400e3 ? 16 : 24;
    /* Levels from 4 px to half the picture, each twice the last; the finest
     * the slowest in time and each coarser one twice as quick (a small
     * level is cheap to change often, a fine one costs per instant).
     * The time scale: about a latent a bit of the budget (the rate term
     * zeroes most; the coder skips zero slices nearly free; four a bit
     * measured 2.5 dB worse on bbb at 20 KB, slower to fit), and no more
     * than the time allows to be fitted (max_latents). */
    for (int s = 4; s <= FFMAX(side / 2, 8) && m->levels < SH_NN_MAX_LEVELS; s *= 2)
        m->grid[m->levels++].stride = s;
    for (; tau > 0.125; tau /= M_SQRT2) {
        double next = tau / M_SQRT2, n = 0;
        for (int l = 0; l < m->levels; l++) {
            ShNnGrid g = m->grid[l];
            g.tstride = (float)FFMAX(next / (1 << l), min_t);
            sh_nn_grid_dims(&g, width, height, m->duration);
            n += (double)g.gw * g.gh * g.gt;
        }
        if (n > FFMIN(bits, max_latents))
            break;
    }
    for (int l = 0; l < m->levels; l++) {
        ShNnGrid *g = &m->grid[l];
        g->tstride = lrint(FFMAX(tau / (1 << l), min_t) * 1000) / 1000.0f;
        g->step = 1;
        sh_nn_grid_dims(g, width, height, m->duration);
    }
}

double sh_nn_latents_for_time(double seconds)
{
    /* Measured here (2 cores, 16384 pixels a step): about 50 ns a latent a
     * step with both threads, and 2000 steps fit well: 10000 a second,
     * with at least 20000 for the shortest fits. */
    return FFMAX(20000, 10000 * seconds);
}
