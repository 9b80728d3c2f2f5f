/*
 * The learned codec's training speed on a fixed model, for docs/NEURAL.md's
 * choice of plain C over libtorch: the same model as tests/bench/
 * torch_speed.py (160x90, 240 frames, 5 levels from 4 px, 1 channel each,
 * 5 -> 24 -> 24 -> 3), random pictures, steps a second over a fixed time.
 * Build and run: make bench-neural-speed (prints one line a thread count).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/mem.h>

#include "neural/train.h"

int main(int argc, char **argv)
{
    int W = 160, H = 90, T = 240;
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    ShNnFrames d = { .n = T, .width = W, .height = H };
    uint8_t *pix = malloc((size_t)3 * W * H * T);
    d.t = calloc(T, sizeof(double));
    d.y = calloc(T, sizeof(*d.y));
    d.cb = calloc(T, sizeof(*d.cb));
    d.cr = calloc(T, sizeof(*d.cr));
    if (!pix || !d.t || !d.y || !d.cb || !d.cr)
        return 1;
    srand(1);
    for (size_t i = 0; i < (size_t)3 * W * H * T; i++)
        pix[i] = (uint8_t)(16 + rand() % 220);
    for (int i = 0; i < T; i++) {
        d.t[i] = i / 10.0;
        d.y[i] = pix + (size_t)3 * W * H * i;
        d.cb[i] = d.y[i] + W * H;
        d.cr[i] = d.cb[i] + W * H;
    }
    for (int threads = 1; threads <= 2; threads++) {
        ShNnHeader h = { .fps = { 10, 1 }, .frames = T };
        ShNnFitParams p = { .target_bytes = 1 << 30, .time_limit = seconds, .threads = threads };
        ShNnFitStats st;
        uint8_t *file = NULL;
        size_t size;
        h.model.width = W;
        h.model.height = H;
        h.model.duration = T / 10.0;
        h.model.levels = 5;
        h.model.hidden = 24;
        for (int l = 0; l < 5; l++) {
            h.model.grid[l].stride = 4 << l;
            h.model.grid[l].tstride = (2 << l) / 10.0f;
            h.model.grid[l].step = 1;
            sh_nn_grid_dims(&h.model.grid[l], W, H, h.model.duration);
        }
        if (sh_nn_fit(&h, &d, &p, &file, &size, &st) < 0)
            return 1;
        printf("threads %d: %zu latents, batch %d, %.1f steps/s, %.0f pixels/s\n", threads, st.latents,
               sh_nn_batch(), st.steps / st.seconds, st.steps * (double)sh_nn_batch() / st.seconds);
        av_free(file);
        sh_nn_model_free(&h.model);
    }
    return 0;
}
