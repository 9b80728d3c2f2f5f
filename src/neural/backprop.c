/*
 * The learned codec's training samples (docs/NEURAL.md, "Training"): a
 * batch of random pixels through the model, forward and backward.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "neural/net.h"
#include "neural/trainer.h"

/*
 * The samples of one worker: forward, loss, backward into its gradients.
 * LANES samples at a time, each array [unit][lane]: every operation of the
 * network is then the same on LANES independent numbers, which the compiler
 * makes vector instructions of (the weights' gradients add up per lane and
 * are summed once at the end). With the AVX2 clone, 2.4x the steps a second
 * of one sample at a time (tests/bench/nn_speed.c).
 */

SH_NN_CLONES static void sample_block(Worker *w, LaneAcc *acc, double *loss)
{
    Trainer *tr = w->tr;
    const ShNnModel *m = &tr->fm;
    const ShNnFrames *d = tr->data;
    const int L = m->levels, H = m->hidden;
    const float inv_b = 1.0f / BATCH;
    size_t base[LANES][SH_NN_MAX_LEVELS];
    int dy[SH_NN_MAX_LEVELS], dt[SH_NN_MAX_LEVELS];
    float cw[LANES][SH_NN_MAX_LEVELS][8];
    float in[SH_NN_MAX_LEVELS][LANES], din[SH_NN_MAX_LEVELS][LANES];
    float h1[SH_NN_MAX_HIDDEN][LANES], h2[SH_NN_MAX_HIDDEN][LANES];
    float dh1[SH_NN_MAX_HIDDEN][LANES], dh2[SH_NN_MAX_HIDDEN][LANES];
    float out[SH_NN_OUT][LANES], dout[SH_NN_OUT][LANES], tgt[SH_NN_OUT][LANES];

    for (int s = 0; s < LANES; s++) {
        int i = (int)(sh_nn_rnd(&w->rng) % d->n);
        int x = (int)(sh_nn_rnd(&w->rng) % d->width), y = (int)(sh_nn_rnd(&w->rng) % d->height);
        size_t p = (size_t)y * d->width + x;
        float t[3] = { (d->y[i][p] - 16) / 219.0f, (d->cb[i][p] - 128) / 224.0f, (d->cr[i][p] - 128) / 224.0f };
        for (int l = 0; l < L; l++) {
            const ShNnGrid *g = &m->grid[l];
            float fx, fy, ft;
            int kx = sh_nn_knot((x + 0.5f) / g->stride, g->gw, &fx);
            int ky = sh_nn_knot((y + 0.5f) / g->stride, g->gh, &fy);
            int kt = sh_nn_knot((float)(d->t[i] / g->tstride), g->gt, &ft);
            const float *v = g->v;
            size_t b = ((size_t)kt * g->gh + ky) * g->gw + kx;
            int ddy = g->gw, ddt = g->gw * g->gh;
            float *c = cw[s][l];
            c[0] = (1 - fx) * (1 - fy) * (1 - ft);
            c[1] = fx * (1 - fy) * (1 - ft);
            c[2] = (1 - fx) * fy * (1 - ft);
            c[3] = fx * fy * (1 - ft);
            c[4] = (1 - fx) * (1 - fy) * ft;
            c[5] = fx * (1 - fy) * ft;
            c[6] = (1 - fx) * fy * ft;
            c[7] = fx * fy * ft;
            in[l][s] = SH_NN_LATENT_SCALE *
                       (c[0] * v[b] + c[1] * v[b + 1] + c[2] * v[b + ddy] + c[3] * v[b + ddy + 1] +
                        c[4] * v[b + ddt] + c[5] * v[b + ddt + 1] + c[6] * v[b + ddt + ddy] +
                        c[7] * v[b + ddt + ddy + 1]);
            base[s][l] = b;
            dy[l] = ddy;
            dt[l] = ddt;
        }
        for (int c = 0; c < SH_NN_OUT; c++)
            tgt[c][s] = t[c];
    }

    sh_nn_forward(m, (const float (*)[LANES])in, h1, h2, out);
    for (int c = 0; c < SH_NN_OUT; c++)
        for (int s = 0; s < LANES; s++) {
            float e = out[c][s] - tgt[c][s];
            *loss += sh_nn_chan_weight[c] * e * e;
            dout[c][s] = 2 * sh_nn_chan_weight[c] * e * inv_b;
        }

    /* backward */
    for (int k = 0; k < H; k++)
        for (int s = 0; s < LANES; s++)
            dh2[k][s] = 0;
    for (int c = 0; c < SH_NN_OUT; c++) {
        const float *wr = m->w[2] + c * H;
        for (int k = 0; k < H; k++)
            for (int s = 0; s < LANES; s++) {
                acc->w[2][c * H + k][s] += dout[c][s] * h2[k][s];
                dh2[k][s] += wr[k] * dout[c][s];
            }
        for (int s = 0; s < LANES; s++)
            acc->b[2][c][s] += dout[c][s];
    }
    for (int k = 0; k < H; k++)
        for (int s = 0; s < LANES; s++) {
            dh2[k][s] = h2[k][s] > 0 ? dh2[k][s] : 0;
            dh1[k][s] = 0;
        }
    for (int r = 0; r < H; r++) {
        const float *wr = m->w[1] + r * H;
        for (int k = 0; k < H; k++)
            for (int s = 0; s < LANES; s++) {
                acc->w[1][r * H + k][s] += dh2[r][s] * h1[k][s];
                dh1[k][s] += wr[k] * dh2[r][s];
            }
        for (int s = 0; s < LANES; s++)
            acc->b[1][r][s] += dh2[r][s];
    }
    for (int k = 0; k < H; k++)
        for (int s = 0; s < LANES; s++)
            dh1[k][s] = h1[k][s] > 0 ? dh1[k][s] : 0;
    for (int l = 0; l < L; l++)
        for (int s = 0; s < LANES; s++)
            din[l][s] = 0;
    for (int r = 0; r < H; r++) {
        const float *wr = m->w[0] + r * L;
        for (int l = 0; l < L; l++)
            for (int s = 0; s < LANES; s++) {
                acc->w[0][r * L + l][s] += dh1[r][s] * in[l][s];
                din[l][s] += wr[l] * dh1[r][s];
            }
        for (int s = 0; s < LANES; s++)
            acc->b[0][r][s] += dh1[r][s];
    }
    for (int s = 0; s < LANES; s++)
        for (int l = 0; l < L; l++) {
            float *gl = w->glat + tr->off[l] + base[s][l];
            float g = din[l][s] * SH_NN_LATENT_SCALE;
            const float *c = cw[s][l];
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

void sh_nn_sample_pass(Worker *w)
{
    const ShNnModel *m = &w->tr->fm;
    const int L = m->levels, H = m->hidden;
    int cols[3] = { L, H, H }, rows[3] = { H, H, SH_NN_OUT };
    double loss = 0;
    LaneAcc *acc = w->acc;
    memset(acc, 0, sizeof(*acc));
    for (int n = BATCH / w->tr->nthreads / LANES; n > 0; n--)
        sample_block(w, acc, &loss);
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < rows[k] * cols[k]; i++) {
            float t = 0;
            for (int s = 0; s < LANES; s++)
                t += acc->w[k][i][s];
            w->gw[k][i] += t;
        }
        for (int i = 0; i < rows[k]; i++) {
            float t = 0;
            for (int s = 0; s < LANES; s++)
                t += acc->b[k][i][s];
            w->gb[k][i] += t;
        }
    }
    w->loss = loss;
}

