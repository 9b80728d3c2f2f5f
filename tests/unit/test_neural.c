/*
 * Unit tests: the learned codec's bitstream (src/neural/): the range coder,
 * sh_nn_pack/sh_nn_unpack (exact round trips, sizes near the entropy), the
 * file header (round trip; hostile headers refused with AVERROR_INVALIDDATA,
 * a truncation at every byte too), and the decoder on garbage payloads
 * (never a crash, always pictures in range) and on a packed model (what the
 * renderer makes of the model, bit for bit, whatever the threads).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/mem.h>

#include "neural/coder.h"
#include "neural/decode.h"
#include "neural/file.h"
#include "neural/model.h"

/* ---- helpers ---- */

/* xorshift64*: the same numbers on every machine and run */
static uint64_t rng_state;
static void rng_seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 1; }
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }

/* A model's shape, as the trainer would set it (every level its own stride and
 * time step, dims from sh_nn_grid_dims), allocated and zeroed. */
static void shape(ShNnModel *m, int w, int h, double duration, int levels, int hidden)
{
    memset(m, 0, sizeof(*m));
    m->width = w;
    m->height = h;
    m->duration = duration;
    m->levels = levels;
    m->hidden = hidden;
    for (int l = 0; l < levels; l++) {
        ShNnGrid *g = &m->grid[l];
        g->stride = 2 << l;
        g->tstride = 0.25f * (1 << (l % 4));
        g->step = 1.0f + 0.5f * l;
        sh_nn_grid_dims(g, w, h, duration);
    }
    m->wstep[0] = 1.0f / 64;
    m->wstep[1] = 1.0f / 128;
    m->wstep[2] = 0.0123f;
    assert_int_equal(sh_nn_model_alloc(m), 0);
}

typedef int (*IntGen)(void);
static int gen_zero(void) { return 0; }
static int gen_uniform3(void) { return rnd_in(-3, 3); }
static int gen_sparse(void) { return rnd() % 10 ? 0 : rnd_in(-2, 2); }
/* every magnitude class: small, past the unary part, far into Exp-Golomb */
static int gen_wide(void)
{
    switch (rnd() % 4) {
    case 0: return rnd_in(-3, 3);
    case 1: return rnd_in(-40, 40);
    case 2: return rnd_in(-5000, 5000);
    default: return rnd_in(-(1 << 20), 1 << 20);
    }
}
/* latents only (weights that large lose their last bit in w / wstep): the
 * Exp-Golomb part's 24 bits, nearly full */
static int gen_huge(void) { return (rnd() & 1 ? -1 : 1) * rnd_in(1 << 23, 1 << 24); }

/* Latents and weights (as integer multiples of their steps) from gen. */
static void fill(ShNnModel *m, IntGen latent, IntGen weight)
{
    int h = m->hidden, rows[3] = { h, h, SH_NN_OUT }, cols[3] = { m->levels, h, h };
    for (int l = 0; l < m->levels; l++) {
        const ShNnGrid *g = &m->grid[l];
        for (size_t i = 0; i < (size_t)g->gw * g->gh * g->gt; i++)
            g->v[i] = (float)latent();
    }
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < rows[k] * cols[k]; i++)
            m->w[k][i] = weight() * m->wstep[k];
        for (int i = 0; i < rows[k]; i++)
            m->b[k][i] = weight() * m->wstep[k];
    }
}

/* b has a's shape (copied, fresh zeroed arrays). */
static void same_shape(ShNnModel *b, const ShNnModel *a)
{
    *b = *a;
    for (int l = 0; l < SH_NN_MAX_LEVELS; l++)
        b->grid[l].v = NULL;
    for (int k = 0; k < 3; k++)
        b->w[k] = b->b[k] = NULL;
    assert_int_equal(sh_nn_model_alloc(b), 0);
}

static void assert_models_equal(const ShNnModel *a, const ShNnModel *b)
{
    int h = a->hidden, rows[3] = { h, h, SH_NN_OUT }, cols[3] = { a->levels, h, h };
    for (int l = 0; l < a->levels; l++) {
        const ShNnGrid *g = &a->grid[l];
        for (size_t i = 0; i < (size_t)g->gw * g->gh * g->gt; i++)
            if (g->v[i] != b->grid[l].v[i])
                fail_msg("level %d latent %zu: %g decoded as %g", l, i, g->v[i], b->grid[l].v[i]);
    }
    for (int k = 0; k < 3; k++) {
        for (int i = 0; i < rows[k] * cols[k]; i++)
            if (a->w[k][i] != b->w[k][i])
                fail_msg("w%d[%d]: %.9g decoded as %.9g", k, i, a->w[k][i], b->w[k][i]);
        for (int i = 0; i < rows[k]; i++)
            if (a->b[k][i] != b->b[k][i])
                fail_msg("b%d[%d]: %.9g decoded as %.9g", k, i, a->b[k][i], b->b[k][i]);
    }
}

/* Pack m (counted first, then into a buffer of exactly that size, guarded),
 * unpack into a fresh model of its shape, assert equality. Returns the bytes. */
static size_t roundtrip(const ShNnModel *m)
{
    ShNnModel d;
    size_t need = sh_nn_pack(m, NULL, 0), got;
    uint8_t *buf = av_malloc(need + 16);
    assert_non_null(buf);
    memset(buf + need, 0xA5, 16);
    got = sh_nn_pack(m, buf, need);
    assert_int_equal(got, need);
    for (int i = 0; i < 16; i++)
        assert_int_equal(buf[need + i], 0xA5);
    same_shape(&d, m);
    sh_nn_unpack(&d, buf, need);
    assert_models_equal(m, &d);
    sh_nn_model_free(&d);
    av_free(buf);
    return need;
}

/* ---- the range coder ---- */

/* Bits of known probability: decoded exactly, in about their entropy. */
static void test_range_coder_bits(void **state)
{
    const double ps[] = { 0.5, 0.1, 0.01, 0.9 };
    (void)state;
    rng_seed(1);
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        enum { N = 100000 };
        uint8_t *bits = malloc(N), *buf = malloc(N);
        uint16_t pe = 2048, pd = 2048;
        ShRangeEnc e;
        ShRangeDec d;
        size_t bytes;
        double p = ps[k], h = -(p * log2(p) + (1 - p) * log2(1 - p));
        assert_non_null(bits);
        assert_non_null(buf);
        for (int i = 0; i < N; i++)
            bits[i] = rnd() < p * 4294967296.0;
        sh_range_enc_init(&e, buf, N);
        for (int i = 0; i < N; i++)
            sh_range_enc_bit(&e, &pe, bits[i]);
        bytes = sh_range_enc_finish(&e);
        assert_true(bytes <= N);
        sh_range_dec_init(&d, buf, bytes);
        for (int i = 0; i < N; i++)
            if (sh_range_dec_bit(&d, &pd) != bits[i])
                fail_msg("p %g: bit %d decoded wrong", p, i);
        if (getenv("TEST_NEURAL_VERBOSE"))
            print_message("p %g: %.4f bits a bit, entropy %.4f\n", p, bytes * 8.0 / N, h);
        /* adaptive 12-bit probabilities (rate 1/32) cost a little over the
         * entropy: a hundredth of a bit or two a decision */
        if (bytes * 8.0 > N * (h + 0.025) + 64 || bytes * 8.0 < N * h * 0.95)
            fail_msg("p %g: %zu bytes for %d bits of entropy %.4f (%.0f bytes)", p, bytes, N, h, N * h / 8);
        free(bits);
        free(buf);
    }
}

/* A short buffer: the count goes on past it, nothing is written beyond it. */
static void test_range_coder_short_buffer(void **state)
{
    uint8_t buf[40];
    uint16_t p = 2048;
    ShRangeEnc e;
    size_t n;
    (void)state;
    rng_seed(2);
    memset(buf, 0xA5, sizeof(buf));
    sh_range_enc_init(&e, buf, 8);
    for (int i = 0; i < 1000; i++)
        sh_range_enc_bit(&e, &p, rnd() & 1);
    n = sh_range_enc_finish(&e);
    assert_true(n > 100);
    for (size_t i = 8; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xA5);
}

/* ---- pack / unpack ---- */

/* Random grids and weights of every magnitude class come back exactly. */
static void test_pack_roundtrip(void **state)
{
    const IntGen gens[] = { gen_zero, gen_uniform3, gen_sparse, gen_wide };
    (void)state;
    rng_seed(3);
    for (size_t lg = 0; lg < 4; lg++)
        for (size_t wg = 0; wg < 4; wg++) {
            ShNnModel m;
            int levels = 1 + (int)((lg * 4 + wg) % SH_NN_MAX_LEVELS), hidden = 1 + rnd_in(0, SH_NN_MAX_HIDDEN - 1);
            shape(&m, 2 * rnd_in(1, 40), 2 * rnd_in(1, 30), 0.04 + rnd_in(0, 300) / 100.0, levels, hidden);
            fill(&m, gens[lg], gens[wg]);
            roundtrip(&m);
            sh_nn_model_free(&m);
        }
    /* the extremes of the shape: one level of one unit, and all of both */
    {
        ShNnModel m;
        shape(&m, 2, 2, 0.001, 1, 1);
        fill(&m, gen_huge, gen_wide);
        roundtrip(&m);
        sh_nn_model_free(&m);
        shape(&m, 64, 48, 2.0, SH_NN_MAX_LEVELS, SH_NN_MAX_HIDDEN);
        fill(&m, gen_wide, gen_wide);
        roundtrip(&m);
        sh_nn_model_free(&m);
    }
}

/* Weights that are not exact multiples of their step come back as the nearest. */
static void test_pack_weights_rounded(void **state)
{
    ShNnModel m, d;
    size_t n;
    uint8_t *buf;
    (void)state;
    rng_seed(4);
    shape(&m, 8, 8, 0.5, 2, 4);
    for (int i = 0; i < 4 * 2; i++)
        m.w[0][i] = (rnd_in(-100, 100) + 0.3f) * m.wstep[0];
    n = sh_nn_pack(&m, NULL, 0);
    assert_non_null(buf = av_malloc(n));
    sh_nn_pack(&m, buf, n);
    same_shape(&d, &m);
    sh_nn_unpack(&d, buf, n);
    for (int i = 0; i < 4 * 2; i++)
        assert_true(fabsf(d.w[0][i] - m.w[0][i]) <= 0.5f * m.wstep[0] * 1.0001f);
    sh_nn_model_free(&m);
    sh_nn_model_free(&d);
    av_free(buf);
}

/* All zeros: a few bytes, whatever the size. */
static void test_pack_zeros_small(void **state)
{
    ShNnModel m;
    size_t n;
    (void)state;
    shape(&m, 320, 180, 10.0, 6, 16);
    assert_true(sh_nn_model_latents(&m) > 20000);
    n = roundtrip(&m);
    if (getenv("TEST_NEURAL_VERBOSE"))
        print_message("zeros: %zu latents, %zu weights: %zu bytes\n", sh_nn_model_latents(&m), sh_nn_model_weights(&m), n);
    if (n > 48)
        fail_msg("%zu latents and %zu weights, all zero: %zu bytes", sh_nn_model_latents(&m),
                 sh_nn_model_weights(&m), n);
    sh_nn_model_free(&m);
}

/* iid uniform in -3..3: within 10% of log2(7) bits each. */
static void test_pack_uniform_entropy(void **state)
{
    ShNnModel m;
    size_t n, count;
    double bits, ideal;
    (void)state;
    rng_seed(5);
    shape(&m, 128, 96, 2.0, 1, 1);   /* one level: 65 x 49 x 10 latents */
    fill(&m, gen_uniform3, gen_zero);
    count = sh_nn_model_latents(&m);
    assert_true(count > 20000);
    n = roundtrip(&m);
    bits = n * 8.0 / count;
    ideal = log2(7);
    if (getenv("TEST_NEURAL_VERBOSE"))
        print_message("uniform -3..3: %zu values, %zu bytes, %.4f bits each (log2 7 = %.4f)\n", count, n, bits, ideal);
    if (bits > ideal * 1.10 || bits < ideal * 0.95)
        fail_msg("%zu values uniform in -3..3: %.3f bits each, log2(7) = %.3f", count, bits, ideal);
    sh_nn_model_free(&m);
}

/* Mostly zeros with a few small values: near the empirical entropy too (the
 * zero flag is what pays, and its contexts may only help). */
static void test_pack_sparse_entropy(void **state)
{
    ShNnModel m;
    size_t n, count, hist[5] = { 0 };
    double h = 0;
    (void)state;
    rng_seed(6);
    shape(&m, 128, 96, 2.0, 1, 1);
    fill(&m, gen_sparse, gen_zero);
    count = sh_nn_model_latents(&m);
    for (size_t i = 0; i < count; i++)
        hist[(int)m.grid[0].v[i] + 2]++;
    for (int i = 0; i < 5; i++)
        if (hist[i])
            h -= (double)hist[i] / count * log2((double)hist[i] / count);
    n = roundtrip(&m);
    if (getenv("TEST_NEURAL_VERBOSE"))
        print_message("sparse: %zu values, %.4f bits each, entropy %.4f\n", count, n * 8.0 / count, h);
    if (n * 8.0 > count * h * 1.10 + 64)
        fail_msg("%zu sparse values: %.3f bits each, entropy %.3f", count, n * 8.0 / count, h);
    sh_nn_model_free(&m);
}

/* ---- the header ---- */

typedef struct File {
    ShNnHeader h;
    uint8_t *buf;
    size_t size, hsize;
} File;

/* A valid file: 64x36, 3 levels, 8 hidden, 25 fps, 50 frames, and a payload
 * (the model packed, random latents). */
static void make_file(File *f, int payload_random)
{
    ShNnModel *m = &f->h.model;
    size_t n;
    memset(f, 0, sizeof(*f));
    shape(m, 64, 36, 2.0, 3, 8);
    fill(m, gen_sparse, gen_uniform3);
    f->h.fps = (AVRational){ 25, 1 };
    f->h.frames = 50;
    f->h.matrix = 1;
    f->h.primaries = 1;
    f->h.transfer = 13;
    n = payload_random ? 300 : sh_nn_pack(m, NULL, 0);
    f->hsize = sh_nn_header_size(m);
    f->size = f->hsize + n;
    f->h.payload = (uint32_t)n;
    assert_non_null(f->buf = av_malloc(f->size));
    sh_nn_header_write(&f->h, f->buf);
    if (payload_random)
        for (size_t i = 0; i < n; i++)
            f->buf[f->hsize + i] = (uint8_t)rnd();
    else
        assert_int_equal(sh_nn_pack(m, f->buf + f->hsize, n), n);
}

static void free_file(File *f)
{
    sh_nn_model_free(&f->h.model);
    av_freep(&f->buf);
}

/* Read buf[0..size) from a copy of exactly that size (ASan sees any read past it). */
static int read_copy(const uint8_t *buf, size_t size, ShNnHeader *h, char *why, size_t why_len)
{
    uint8_t *c = av_malloc(size ? size : 1);
    const uint8_t *payload = NULL;
    int ret;
    assert_non_null(c);
    memcpy(c, buf, size);
    why[0] = 0;
    ret = sh_nn_header_read(h, c, size, &payload, why, why_len);
    if (ret == 0)
        assert_ptr_equal(payload, c + size - h->payload);
    av_free(c);
    return ret;
}

static void test_header_roundtrip(void **state)
{
    File f;
    ShNnHeader h;
    const ShNnModel *a = &f.h.model, *b = &h.model;
    char why[200];
    (void)state;
    rng_seed(7);
    make_file(&f, 0);
    assert_int_equal(read_copy(f.buf, f.size, &h, why, sizeof(why)), 0);
    assert_int_equal(b->width, a->width);
    assert_int_equal(b->height, a->height);
    assert_true(fabs(b->duration - a->duration) < 1e-9);
    assert_int_equal(b->levels, a->levels);
    assert_int_equal(b->hidden, a->hidden);
    for (int k = 0; k < 3; k++)
        assert_true(b->wstep[k] == a->wstep[k]);
    for (int l = 0; l < a->levels; l++) {
        assert_int_equal(b->grid[l].stride, a->grid[l].stride);
        assert_true(b->grid[l].tstride == a->grid[l].tstride);
        assert_true(b->grid[l].step == a->grid[l].step);
        assert_int_equal(b->grid[l].gw, a->grid[l].gw);
        assert_int_equal(b->grid[l].gh, a->grid[l].gh);
        assert_int_equal(b->grid[l].gt, a->grid[l].gt);
        assert_null(b->grid[l].v);
    }
    assert_int_equal(h.fps.num, 25);
    assert_int_equal(h.fps.den, 1);
    assert_int_equal(h.frames, 50);
    assert_int_equal(h.matrix, 1);
    assert_int_equal(h.primaries, 1);
    assert_int_equal(h.transfer, 13);
    assert_int_equal(h.payload, f.size - f.hsize);
    assert_int_equal(sh_nn_header_size(b), f.hsize);
    /* and the payload unpacks to the model */
    {
        ShNnModel d;
        same_shape(&d, a);
        sh_nn_unpack(&d, f.buf + f.hsize, h.payload);
        assert_models_equal(a, &d);
        sh_nn_model_free(&d);
    }
    free_file(&f);
}

/* Byte offsets of the header (src/neural/file.c). */
enum { O_VERSION = 4, O_LEVELS = 5, O_HIDDEN = 6, O_WIDTH = 10, O_HEIGHT = 12, O_DURATION = 14,
       O_FPS_NUM = 18, O_FPS_DEN = 22, O_FRAMES = 26, O_PAYLOAD = 30, O_WSTEP = 34, O_LEVEL0 = 46 };
enum { L_STRIDE = 0, L_TSTRIDE = 2, L_STEP = 6, PER_LEVEL = 10 };

static uint32_t fbits(float v)
{
    union { float f; uint32_t u; } x = { .f = v };
    return x.u;
}

typedef struct Mut {
    const char *what;
    struct { int off, width; uint32_t value; } f[4];  /* fields set (width 1, 2, 4 bytes; 0 ends) */
} Mut;

static void put(uint8_t *p, int width, uint32_t v)
{
    if (width == 1)
        p[0] = (uint8_t)v;
    else if (width == 2)
        AV_WL16(p, v);
    else
        AV_WL32(p, v);
}

/* Each of these is refused with AVERROR_INVALIDDATA and a reason. */
static void test_header_hostile(void **state)
{
    const uint32_t nan = fbits(NAN), inf = fbits(INFINITY), neg = fbits(-1.0f), zero = 0;
    const Mut muts[] = {
        { "bad magic", { { 0, 1, 'X' } } },
        { "magic lowercase", { { 3, 1, 'n' } } },
        { "version 0", { { O_VERSION, 1, 0 } } },
        { "version 2", { { O_VERSION, 1, 2 } } },
        { "version 255", { { O_VERSION, 1, 255 } } },
        { "levels 0", { { O_LEVELS, 1, 0 } } },
        { "levels 9", { { O_LEVELS, 1, 9 } } },
        { "levels 255", { { O_LEVELS, 1, 255 } } },
        { "hidden 0", { { O_HIDDEN, 1, 0 } } },
        { "hidden 33", { { O_HIDDEN, 1, 33 } } },
        { "hidden 255", { { O_HIDDEN, 1, 255 } } },
        { "width 0", { { O_WIDTH, 2, 0 } } },
        { "width odd", { { O_WIDTH, 2, 63 } } },
        { "width 1", { { O_WIDTH, 2, 1 } } },
        { "width huge", { { O_WIDTH, 2, 4098 } } },
        { "width 65534", { { O_WIDTH, 2, 65534 } } },
        { "height 0", { { O_HEIGHT, 2, 0 } } },
        { "height odd", { { O_HEIGHT, 2, 35 } } },
        { "height huge", { { O_HEIGHT, 2, 65534 } } },
        { "fps 0/0", { { O_FPS_NUM, 4, 0 }, { O_FPS_DEN, 4, 0 } } },
        { "fps 0/1", { { O_FPS_NUM, 4, 0 } } },
        { "fps 25/0", { { O_FPS_DEN, 4, 0 } } },
        { "fps negative", { { O_FPS_NUM, 4, 0x80000019u } } },
        { "fps negative den", { { O_FPS_DEN, 4, 0xFFFFFFFFu } } },
        { "fps 1000", { { O_FPS_NUM, 4, 1000 } } },
        { "fps 1/1000 (too slow)", { { O_FPS_NUM, 4, 1 }, { O_FPS_DEN, 4, 1000 } } },
        { "frames 0", { { O_FRAMES, 4, 0 } } },
        { "frames twice the duration", { { O_FRAMES, 4, 100 } } },
        { "frames two short", { { O_FRAMES, 4, 48 } } },
        { "frames huge", { { O_FRAMES, 4, 0xFFFFFFFFu } } },
        { "duration 0", { { O_DURATION, 4, 0 } } },
        { "duration half", { { O_DURATION, 4, 1000 } } },
        { "wstep NaN", { { O_WSTEP, 4, nan } } },
        { "wstep -1", { { O_WSTEP + 4, 4, neg } } },
        { "wstep inf", { { O_WSTEP + 8, 4, inf } } },
        { "wstep 0", { { O_WSTEP, 4, zero } } },
        { "wstep -inf", { { O_WSTEP + 4, 4, fbits(-INFINITY) } } },
        { "level 0 step NaN", { { O_LEVEL0 + L_STEP, 4, nan } } },
        { "level 1 step -1", { { O_LEVEL0 + PER_LEVEL + L_STEP, 4, neg } } },
        { "level 2 step inf", { { O_LEVEL0 + 2 * PER_LEVEL + L_STEP, 4, inf } } },
        { "level 0 step 0", { { O_LEVEL0 + L_STEP, 4, zero } } },
        { "level 0 stride 0", { { O_LEVEL0 + L_STRIDE, 2, 0 } } },
        { "level 1 tstride 0", { { O_LEVEL0 + PER_LEVEL + L_TSTRIDE, 4, 0 } } },
        /* 4096 x 4096 at stride 1: 16.8 M knots a slice, 10 slices */
        { "too many latents", { { O_WIDTH, 2, 4096 }, { O_HEIGHT, 2, 4096 }, { O_LEVEL0 + L_STRIDE, 2, 1 } } },
        /* 4096 x 2048 at stride 8, knots 1 ms apart: 2002 slices of 513 x 257 */
        { "too many latents in time", { { O_WIDTH, 2, 4096 }, { O_HEIGHT, 2, 2048 }, { O_LEVEL0 + L_STRIDE, 2, 8 },
                                        { O_LEVEL0 + L_TSTRIDE, 4, 1 } } },
        { "payload one more", { { O_PAYLOAD, 4, 0 } } },    /* (the value is set below) */
        { "payload one less", { { O_PAYLOAD, 4, 0 } } },
        { "payload 0", { { O_PAYLOAD, 4, 0 } } },
        { "payload huge", { { O_PAYLOAD, 4, 0xFFFFFFFFu } } },
    };
    File f;
    (void)state;
    rng_seed(8);
    make_file(&f, 0);
    for (size_t i = 0; i < sizeof(muts) / sizeof(muts[0]); i++) {
        const Mut *u = &muts[i];
        uint8_t *c = av_memdup(f.buf, f.size);
        ShNnHeader h;
        char why[200];
        int ret;
        assert_non_null(c);
        if (!strcmp(u->what, "payload one more"))
            put(c + O_PAYLOAD, 4, f.h.payload + 1);
        else if (!strcmp(u->what, "payload one less"))
            put(c + O_PAYLOAD, 4, f.h.payload - 1);
        else
            for (int k = 0; k < 4 && u->f[k].width; k++)
                put(c + u->f[k].off, u->f[k].width, u->f[k].value);
        ret = read_copy(c, f.size, &h, why, sizeof(why));
        if (ret != AVERROR_INVALIDDATA)
            fail_msg("%s: sh_nn_header_read returned %d, not AVERROR_INVALIDDATA", u->what, ret);
        if (!why[0])
            fail_msg("%s: refused without a reason", u->what);
        av_free(c);
    }
    /* the file's own bytes: a trailing byte, and the valid one still reads */
    {
        uint8_t *c = av_malloc(f.size + 1);
        ShNnHeader h;
        char why[200];
        assert_non_null(c);
        memcpy(c, f.buf, f.size);
        c[f.size] = 0;
        assert_int_equal(read_copy(c, f.size + 1, &h, why, sizeof(why)), AVERROR_INVALIDDATA);
        assert_int_equal(read_copy(f.buf, f.size, &h, why, sizeof(why)), 0);
        av_free(c);
    }
    free_file(&f);
}

/* A duration of days with knots a millisecond apart: refused (not an overflow
 * of the knot count: 4e6 s / 1 ms is past INT_MAX). */
static void test_header_time_knots_overflow(void **state)
{
    File f;
    ShNnHeader h;
    char why[200];
    uint8_t *c;
    (void)state;
    rng_seed(9);
    make_file(&f, 1);
    assert_non_null(c = av_memdup(f.buf, f.size));
    put(c + O_FPS_NUM, 4, 1);
    put(c + O_FPS_DEN, 4, 100);                 /* 0.01 fps */
    put(c + O_FRAMES, 4, 40000);                /* 4,000,000 s */
    put(c + O_DURATION, 4, 4000000000u);
    put(c + O_LEVEL0 + L_TSTRIDE, 4, 1);        /* 1 ms */
    put(c + O_LEVEL0 + L_STRIDE, 2, 4096);      /* 2 x 2 knots a slice */
    assert_int_equal(read_copy(c, f.size, &h, why, sizeof(why)), AVERROR_INVALIDDATA);
    if (getenv("TEST_NEURAL_VERBOSE")) print_message("time knots: %s\n", why);
    assert_true(why[0] != 0);
    av_free(c);
    free_file(&f);
}

/* Cut anywhere: never read, never past the end. */
static void test_header_truncated_everywhere(void **state)
{
    File f;
    (void)state;
    rng_seed(10);
    make_file(&f, 0);
    for (size_t n = 0; n < f.size; n++) {
        ShNnHeader h;
        char why[200];
        int ret = read_copy(f.buf, n, &h, why, sizeof(why));
        if (ret != AVERROR_INVALIDDATA || !why[0])
            fail_msg("truncated to %zu of %zu bytes: %d (%s)", n, f.size, ret, why);
    }
    free_file(&f);
}

/* Every byte of the header changed a few ways: refused, or a header within
 * the decoder's limits that then opens and renders. */
static void test_header_byte_flips(void **state)
{
    const uint8_t xors[] = { 0x01, 0x80, 0xFF, 0x10 };
    File f;
    AVFrame *fr = av_frame_alloc();
    (void)state;
    assert_non_null(fr);
    rng_seed(11);
    make_file(&f, 0);
    for (size_t i = 0; i < f.hsize; i++)
        for (size_t k = 0; k < sizeof(xors); k++) {
            uint8_t *c = av_memdup(f.buf, f.size);
            ShNnHeader h;
            ShNnDecoder *d = NULL;
            char why[200];
            int ret;
            assert_non_null(c);
            c[i] ^= xors[k];
            ret = read_copy(c, f.size, &h, why, sizeof(why));
            if (ret < 0) {
                assert_int_equal(ret, AVERROR_INVALIDDATA);
                av_free(c);
                continue;
            }
            assert_true(sh_nn_model_latents(&h.model) <= SH_NN_MAX_LATENTS);
            /* (a picture of up to 4096 x 4096 renders slowly: only the small ones) */
            if ((size_t)h.model.width * h.model.height <= 256 * 256 &&
                sh_nn_decoder_open(&d, c, f.size, 1, why, sizeof(why)) == 0) {
                assert_int_equal(sh_nn_decoder_frame(d, 0, fr), 0);
                assert_int_equal(sh_nn_decoder_frame(d, h.frames - 1, fr), 0);
                sh_nn_decoder_free(&d);
            }
            av_free(c);
        }
    free_file(&f);
    av_frame_free(&fr);
}

/* ---- the decoder ---- */

static void assert_frame_in_range(const AVFrame *f, int w, int h)
{
    assert_int_equal(f->width, w);
    assert_int_equal(f->height, h);
    assert_int_equal(f->format, AV_PIX_FMT_YUV420P);
    for (int c = 0; c < 3; c++) {
        int cw = c ? w / 2 : w, ch = c ? h / 2 : h, hi = c ? 240 : 235;
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                int v = f->data[c][y * f->linesize[c] + x];
                if (v < 16 || v > hi)
                    fail_msg("plane %d (%d,%d): %d outside 16..%d", c, x, y, v, hi);
            }
    }
}

/* A valid header and a payload of garbage: it opens (the header is right),
 * every frame renders in range, nothing is read or written out of bounds. */
static void test_decode_garbage_payloads(void **state)
{
    const size_t lens[] = { 0, 1, 4, 5, 17, 300, 4096, 70000 };
    AVFrame *fr = av_frame_alloc();
    (void)state;
    assert_non_null(fr);
    rng_seed(12);
    for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
        for (int kind = 0; kind < 4; kind++) {
            File f;
            uint8_t *buf;
            size_t size;
            ShNnDecoder *d = NULL;
            char why[200] = "";
            int ret;
            make_file(&f, 1);
            size = f.hsize + lens[li];
            assert_non_null(buf = av_malloc(size));
            f.h.payload = (uint32_t)lens[li];
            sh_nn_header_write(&f.h, buf);
            for (size_t i = f.hsize; i < size; i++)
                buf[i] = kind == 0 ? (uint8_t)rnd() : kind == 1 ? 0xFF : kind == 2 ? 0 : (rnd() & 1 ? 0xFF : 0);
            ret = sh_nn_decoder_open(&d, buf, size, 1 + kind % 3, why, sizeof(why));
            if (ret < 0)
                fail_msg("payload of %zu bytes (kind %d): open failed %d: %s", lens[li], kind, ret, why);
            /* the caller's buffer is copied or no longer needed */
            memset(buf, 0, size);
            av_free(buf);
            for (uint32_t i = 0; i < f.h.frames; i += 7) {
                assert_int_equal(sh_nn_decoder_frame(d, i, fr), 0);
                assert_frame_in_range(fr, 64, 36);
                assert_int_equal(fr->pts, i);
            }
            assert_int_equal(sh_nn_decoder_frame(d, f.h.frames - 1, fr), 0);
            assert_int_not_equal(sh_nn_decoder_frame(d, f.h.frames, fr), 0);
            sh_nn_decoder_free(&d);
            assert_null(d);
            free_file(&f);
        }
    av_frame_free(&fr);
}

/* Garbage payloads under a header of every shape the decoder takes at the
 * extremes: widest network, most levels, a large picture. */
static void test_decode_garbage_shapes(void **state)
{
    AVFrame *fr = av_frame_alloc();
    (void)state;
    assert_non_null(fr);
    rng_seed(13);
    for (int s = 0; s < 3; s++) {
        ShNnHeader h = { 0 };
        ShNnModel *m = &h.model;
        ShNnDecoder *d = NULL;
        uint8_t *buf;
        size_t hs, size, pl = 2000;
        char why[200] = "";
        int w = s == 2 ? 640 : 2 + 2 * s, ht = s == 2 ? 360 : 2;
        shape(m, w, ht, 0.08, s == 0 ? 1 : SH_NN_MAX_LEVELS, s == 0 ? 1 : SH_NN_MAX_HIDDEN);
        if (s == 2)
            for (int l = 0; l < m->levels; l++) {   /* stride 1 on the finest: rows of 1283 knots in all */
                m->grid[l].stride = 1 << l;
                sh_nn_grid_dims(&m->grid[l], w, ht, m->duration);
            }
        h.fps = (AVRational){ 25, 1 };
        h.frames = 2;
        hs = sh_nn_header_size(m);
        size = hs + pl;
        h.payload = (uint32_t)pl;
        assert_non_null(buf = av_malloc(size));
        sh_nn_header_write(&h, buf);
        for (size_t i = hs; i < size; i++)
            buf[i] = (uint8_t)rnd();
        if (sh_nn_decoder_open(&d, buf, size, 2, why, sizeof(why)) < 0)
            fail_msg("shape %d: %s", s, why);
        assert_int_equal(sh_nn_decoder_frame(d, 1, fr), 0);
        assert_frame_in_range(fr, w, ht);
        sh_nn_decoder_free(&d);
        sh_nn_model_free(m);
        av_free(buf);
    }
    av_frame_free(&fr);
}

/* A packed model decodes to what the renderer makes of the model itself,
 * bit for bit, with one thread or several. */
static void test_decode_matches_model(void **state)
{
    File f;
    AVFrame *fr[2] = { av_frame_alloc(), av_frame_alloc() };
    uint8_t *planes[3];
    ptrdiff_t st[3] = { 64, 64, 64 };
    (void)state;
    assert_non_null(fr[0]);
    assert_non_null(fr[1]);
    rng_seed(14);
    make_file(&f, 0);
    assert_non_null(planes[0] = av_malloc(3 * 64 * 36));
    planes[1] = planes[0] + 64 * 36;
    planes[2] = planes[1] + 64 * 36;
    for (int t = 0; t < 2; t++) {
        ShNnDecoder *d = NULL;
        char why[200];
        assert_int_equal(sh_nn_decoder_open(&d, f.buf, f.size, t ? 3 : 1, why, sizeof(why)), 0);
        for (uint32_t i = 0; i < f.h.frames; i += 12) {
            assert_int_equal(sh_nn_decoder_frame(d, i, fr[t]), 0);
            if (t == 0) {
                sh_nn_render(&f.h.model, i * av_q2d(av_inv_q(f.h.fps)), planes, st, 0, 36);
                for (int y = 0; y < 36; y++)
                    assert_memory_equal(fr[0]->data[0] + y * fr[0]->linesize[0], planes[0] + y * 64, 64);
            } else {
                ShNnDecoder *d1 = NULL;
                AVFrame *g = av_frame_alloc();
                assert_non_null(g);
                assert_int_equal(sh_nn_decoder_open(&d1, f.buf, f.size, 1, why, sizeof(why)), 0);
                assert_int_equal(sh_nn_decoder_frame(d1, i, g), 0);
                for (int c = 0; c < 3; c++)
                    for (int y = 0; y < (c ? 18 : 36); y++)
                        assert_memory_equal(fr[1]->data[c] + y * fr[1]->linesize[c],
                                            g->data[c] + y * g->linesize[c], c ? 32 : 64);
                av_frame_free(&g);
                sh_nn_decoder_free(&d1);
            }
        }
        sh_nn_decoder_free(&d);
    }
    av_free(planes[0]);
    av_frame_free(&fr[0]);
    av_frame_free(&fr[1]);
    free_file(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_coder_bits),
        cmocka_unit_test(test_range_coder_short_buffer),
        cmocka_unit_test(test_pack_roundtrip),
        cmocka_unit_test(test_pack_weights_rounded),
        cmocka_unit_test(test_pack_zeros_small),
        cmocka_unit_test(test_pack_uniform_entropy),
        cmocka_unit_test(test_pack_sparse_entropy),
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_header_hostile),
        cmocka_unit_test(test_header_time_knots_overflow),
        cmocka_unit_test(test_header_truncated_everywhere),
        cmocka_unit_test(test_header_byte_flips),
        cmocka_unit_test(test_decode_garbage_payloads),
        cmocka_unit_test(test_decode_garbage_shapes),
        cmocka_unit_test(test_decode_matches_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
