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
#include "neural/trainer.h"
#include "shrink/shrink.h"

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
        tr->vq[i] = tr->ste ? rintf(v) : v + sh_nn_rndf(&w->rng) - 0.5f;
    }
}

static void *worker_main(void *arg)
{
    Worker *w = arg;
    if (w->tr->phase == 0)
        sh_nn_sample_pass(w);
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
        int n = sh_nn_rows(m, k) * sh_nn_cols(m, k), nb = sh_nn_rows(m, k);
        float mx = 1e-6f, s;
        for (int i = 0; i < n; i++)
            mx = FFMAX(mx, fabsf(m->w[k][i]));
        for (int i = 0; i < nb; i++)
            mx = FFMAX(mx, fabsf(m->b[k][i]));
        s = mx / tr->wlevels;
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
        av_freep(&tr->wk[t].acc);
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
    tr->wlevels = WEIGHT_LEVELS;
    for (int l = 0; l < m->levels; l++)
        tr->off[l + 1] = tr->off[l] + (size_t)m->grid[l].gw * m->grid[l].gh * m->grid[l].gt;
    tr->nlat = tr->off[m->levels];
    if (!(tr->lat = av_calloc(tr->nlat, sizeof(float))) || !(tr->vq = av_calloc(tr->nlat, sizeof(float))) ||
        !(tr->alat.m = av_calloc(tr->nlat, sizeof(float))) || !(tr->alat.v = av_calloc(tr->nlat, sizeof(float))))
        return AVERROR(ENOMEM);
    for (int k = 0; k < 3; k++) {
        int n = sh_nn_rows(m, k) * sh_nn_cols(m, k), nb = sh_nn_rows(m, k);
        if (!(tr->aw[k].m = av_calloc(n, 4)) || !(tr->aw[k].v = av_calloc(n, 4)) ||
            !(tr->ab[k].m = av_calloc(nb, 4)) || !(tr->ab[k].v = av_calloc(nb, 4)) ||
            !(tr->qw[k] = av_calloc(n, 4)) || !(tr->qb[k] = av_calloc(nb, 4)))
            return AVERROR(ENOMEM);
    }
    for (int t = 0; t < tr->nthreads; t++) {
        Worker *w = &tr->wk[t];
        w->tr = tr;
        w->rng = seed + 0x1234567ull * (t + 1);
        w->lo = tr->nlat * t / tr->nthreads;
        w->hi = tr->nlat * (t + 1) / tr->nthreads;
        if (!(w->glat = av_calloc(tr->nlat, sizeof(float))) || !(w->acc = av_malloc(sizeof(*w->acc))))
            return AVERROR(ENOMEM);
        for (int k = 0; k < 3; k++)
            if (!(w->gw[k] = av_calloc(sh_nn_rows(m, k) * sh_nn_cols(m, k), 4)) ||
                !(w->gb[k] = av_calloc(sh_nn_rows(m, k), 4)))
                return AVERROR(ENOMEM);
    }
    /* He initialisation; the luma bias at mid-grey, the first layer's biases a
     * little over zero so every unit passes a gradient from the start. */
    {
        uint64_t r = seed;
        for (int k = 0; k < 3; k++) {
            int n = sh_nn_rows(m, k) * sh_nn_cols(m, k);
            float a = sqrtf(6.0f / sh_nn_cols(m, k)) * (k == 2 ? 0.3f : 1.0f);
            for (int i = 0; i < n; i++)
                m->w[k][i] = (2 * sh_nn_rndf(&r) - 1) * a;
        }
        for (int i = 0; i < m->hidden; i++)
            m->b[0][i] = m->b[1][i] = 0.05f;
        m->b[2][0] = 0.45f;
        for (size_t i = 0; i < tr->nlat; i++)
            tr->vq[i] = sh_nn_rndf(&r) - 0.5f;
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
    /* Where the fits here settled: about 0.2 at 20 KB a minute, inversely
     * with the budget to the power 1.5 (5 KB: 3.6 to 6.6; 2 KB: 7 to 16;
     * 200 KB: 0.01 to 0.02). */
    float lambda = (float)av_clipd(0.3 * pow(20e3 / (p->target_bytes * 60.0 / FFMAX(m->duration, 1)), 1.5), 1e-3, 100);
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
    {
        /* Under the header and the network at 3 bits a weight nothing fits:
         * say so now rather than after the whole fit. The size said is one
         * that works: the network at 5 bits a weight (measured 4 to 9 at the
         * finest steps, the fallback's coarser ones for the rest), a bit a
         * slice of zeros, and a quarter more. */
        size_t slices = 0;
        for (int l = 0; l < m->levels; l++)
            slices += m->grid[l].gt;
        if ((int64_t)(hsize + sh_nn_model_weights(m) * 3 / 8) >= p->target_bytes) {
            *size = (size_t)((hsize + sh_nn_model_weights(m) * 5 / 8 + slices / 8 + 16) * 1.25);
            ret = SH_ERROR_TARGET_TOO_SMALL;
            goto end;
        }
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
            int n = sh_nn_rows(m, k) * sh_nn_cols(m, k), nb = sh_nn_rows(m, k);
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
            /* At least 1: a sparse level's own mean |y| would price each of
             * its few latents at 1 / (share ln 2) bits, far over what the
             * coder takes (a zero flag and a few bits), and the fit would
             * empty it (seen: bbb at 2 KB fell to 2 latents, 13 dB). */
            tr.lap_b[l] = (float)FFMAX(1.0, s / (tr.off[l + 1] - tr.off[l]));
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
            /* Gently: the bytes answer lambda only as the latents move, and
             * quicker steps overshoot (seen: 1.9 -> 132 -> 0.3 within 800
             * steps on bbb at 5 KB, the file 40% short, with x0.8 to x1.25). */
            lambda *= (float)av_clipd(sqrt(r), 0.9, 1.1);
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
                /* No latents at all: only the network, its weights in coarser
                 * steps if need be; beyond that nothing fits, and the size
                 * said is the network's finest with a quarter more (another
                 * fit's weights code to another size; the coarser steps are
                 * the margin). */
                size_t finest;
                memset(tr.lat, 0, tr.nlat * sizeof(float));
                finest = bytes = coded_bytes(&tr, 1, rq, &cm);
                while (bytes > payload_max && tr.wlevels > 7) {
                    tr.wlevels /= 2;
                    bytes = coded_bytes(&tr, 1, rq, &cm);
                }
                if (bytes > payload_max) {
                    *size = (size_t)((hsize + finest + 16) * 1.25);
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
            memcpy(m->w[k], tr.qw[k], sizeof(float) * sh_nn_rows(m, k) * sh_nn_cols(m, k));
            memcpy(m->b[k], tr.qb[k], sizeof(float) * sh_nn_rows(m, k));
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

