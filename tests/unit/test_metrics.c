/*
 * Unit tests: SSIM and PSNR (src/metrics/metrics.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Besides properties (identity, symmetry, monotonic in noise, exact MSE),
 * two oracles: a naive double-precision SSIM over the 8x8 windows, and
 * FFmpeg's own ssim and psnr filters run by the ffmpeg CLI on clips it
 * generates (skipped when ffmpeg is not installed; tests may use the CLI,
 * the product never does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>

#include "metrics/metrics.h"

/* ---- helpers ----------------------------------------------------------- */

/* A deterministic generator, so every run sees the same pictures. */
static uint32_t rng_next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static uint8_t clip8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Something with edges, gradients and texture: closer to a picture than noise is. */
static uint8_t *make_picture(int w, int h, ptrdiff_t stride, uint32_t seed)
{
    uint8_t *p = malloc((size_t)stride * h);
    assert_non_null(p);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = 40 + (x * 150) / w + ((x / 9 + y / 7) % 2) * 40 + (int)(rng_next(&seed) % 13);
            p[y * stride + x] = clip8(v);
        }
    return p;
}

/* b = a + amplitude * (the same noise pattern for every amplitude), clipped. */
static uint8_t *add_noise(const uint8_t *a, int w, int h, int amplitude)
{
    uint8_t *b = malloc((size_t)w * h);
    uint32_t seed = 12345;
    assert_non_null(b);
    for (int i = 0; i < w * h; i++) {
        int r = (int)(rng_next(&seed) % 2001) - 1000;   /* [-1000, 1000] */
        b[i] = clip8(a[i] + (r * amplitude) / 1000);
    }
    return b;
}

static ShQuality quality(const uint8_t *a, const uint8_t *b, int w, int h)
{
    ShQuality q;
    assert_int_equal(sh_quality_plane(a, w, b, w, w, h, &q), 0);
    return q;
}

/* SSIM straight from the definition x264 uses, in double, pixel by pixel. */
static double naive_ssim(const uint8_t *a, ptrdiff_t as, const uint8_t *b, ptrdiff_t bs, int w, int h)
{
    const double c1 = .01 * .01 * 255 * 255 * 64, c2 = .03 * .03 * 255 * 255 * 64 * 63;
    double sum = 0;
    int n = 0;
    for (int y = 0; y + 8 <= 4 * (h / 4); y += 4)
        for (int x = 0; x + 8 <= 4 * (w / 4); x += 4) {
            double s1 = 0, s2 = 0, ss = 0, s12 = 0;
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < 8; i++) {
                    double pa = a[(y + j) * as + x + i], pb = b[(y + j) * bs + x + i];
                    s1 += pa;
                    s2 += pb;
                    ss += pa * pa + pb * pb;
                    s12 += pa * pb;
                }
            double vars = ss * 64 - s1 * s1 - s2 * s2, covar = s12 * 64 - s1 * s2;
            sum += (2 * s1 * s2 + c1) * (2 * covar + c2) / ((s1 * s1 + s2 * s2 + c1) * (vars + c2));
            n++;
        }
    return sum / n;
}

static double naive_mse(const uint8_t *a, const uint8_t *b, int w, int h)
{
    double sse = 0;
    for (int i = 0; i < w * h; i++)
        sse += (double)(a[i] - b[i]) * (a[i] - b[i]);
    return sse / ((double)w * h);
}

/* ---- properties -------------------------------------------------------- */

/* A plane against itself: SSIM exactly 1, PSNR and ssim_db at the cap. */
static void test_identical(void **state)
{
    static const int sizes[][2] = { { 8, 8 }, { 64, 48 }, { 83, 61 }, { 1280, 720 }, { 2100, 16 } };
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int w = sizes[i][0], h = sizes[i][1];
        uint8_t *a = make_picture(w, h, w, 7);
        ShQuality q = quality(a, a, w, h);
        assert_true(q.ssim == 1.0);
        assert_true(q.mse == 0.0);
        assert_true(q.psnr == SH_QUALITY_DB_MAX);
        assert_true(q.ssim_db == SH_QUALITY_DB_MAX);
        free(a);
    }
}

/* A constant offset gives MSE = offset^2 exactly, edge strips included. */
static void test_constant_offset(void **state)
{
    static const int sizes[][2] = { { 64, 64 }, { 65, 66 }, { 67, 63 }, { 1280, 720 }, { 2050, 9 } };
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int w = sizes[i][0], h = sizes[i][1];
        uint8_t *a = make_picture(w, h, w, 3), *b = malloc((size_t)w * h);
        assert_non_null(b);
        for (int k = 0; k < w * h; k++) {
            a[k] = (uint8_t)(a[k] > 200 ? 200 : a[k]);   /* headroom: no clipping */
            b[k] = (uint8_t)(a[k] + 5);
        }
        ShQuality q = quality(a, b, w, h);
        assert_float_equal(q.mse, 25.0, 0.0);
        assert_float_equal(q.psnr, 10 * log10(65025.0 / 25.0), 1e-12);  /* 34.1514 dB */
        assert_true(q.ssim < 1.0 && q.ssim > 0.99);  /* a shift barely changes structure */
        free(a);
        free(b);
    }
}

/* MSE counts every pixel once, whatever w%4 and h%4: against a brute-force sum. */
static void test_mse_every_pixel(void **state)
{
    (void)state;
    for (int w = 8; w <= 19; w++)
        for (int h = 8; h <= 19; h++) {
            uint8_t *a = make_picture(w, h, w, (uint32_t)(w * 31 + h)), *b = add_noise(a, w, h, 30);
            /* A distinct error in the last column and row, which no 4x4 block covers when w%4 or h%4. */
            b[(h - 1) * w + (w - 1)] = (uint8_t)(a[(h - 1) * w + (w - 1)] ^ 0x80);
            ShQuality q = quality(a, b, w, h);
            assert_float_equal(q.mse, naive_mse(a, b, w, h), 1e-9);
            free(a);
            free(b);
        }
}

/* SSIM(a, b) == SSIM(b, a), to the last bit (the formula is symmetric in integers). */
static void test_symmetric(void **state)
{
    const int w = 320, h = 180;
    (void)state;
    uint8_t *a = make_picture(w, h, w, 11);
    for (int amp = 1; amp <= 64; amp *= 4) {
        uint8_t *b = add_noise(a, w, h, amp);
        ShQuality ab = quality(a, b, w, h), ba = quality(b, a, w, h);
        assert_true(ab.ssim == ba.ssim);
        assert_true(ab.psnr == ba.psnr);
        free(b);
    }
    free(a);
}

/* More of the same noise, lower SSIM and PSNR, strictly. */
static void test_noise_monotonic(void **state)
{
    static const int amps[] = { 1, 2, 4, 8, 16, 32, 64, 128 };
    const int w = 256, h = 144;
    double last_ssim = 1.0, last_psnr = SH_QUALITY_DB_MAX;
    (void)state;
    uint8_t *a = make_picture(w, h, w, 5);
    for (size_t i = 0; i < sizeof(amps) / sizeof(amps[0]); i++) {
        uint8_t *b = add_noise(a, w, h, amps[i]);
        ShQuality q = quality(a, b, w, h);
        if (!(q.ssim < last_ssim) || !(q.psnr < last_psnr))
            fail_msg("noise %d: ssim %.6f psnr %.3f, not below %.6f / %.3f",
                     amps[i], q.ssim, q.psnr, last_ssim, last_psnr);
        assert_float_equal(q.ssim_db, -10 * log10(1 - q.ssim), 1e-9);
        last_ssim = q.ssim;
        last_psnr = q.psnr;
        free(b);
    }
    assert_true(last_ssim < 0.5);
    free(a);
}

/* The block-sum machinery against the definition, on sizes with every w%4, h%4. */
static void test_naive_oracle(void **state)
{
    static const int sizes[][2] = { { 8, 8 }, { 9, 13 }, { 66, 39 }, { 67, 45 }, { 131, 70 } };
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        int w = sizes[i][0], h = sizes[i][1];
        for (int amp = 3; amp <= 90; amp *= 3) {
            uint8_t *a = make_picture(w, h, w, (uint32_t)i), *b = add_noise(a, w, h, amp);
            ShQuality q = quality(a, b, w, h);
            double want = naive_ssim(a, w, b, w, w, h);
            if (fabs(q.ssim - want) > 1e-6)
                fail_msg("%dx%d noise %d: ssim %.9f, naive %.9f", w, h, amp, q.ssim, want);
            free(a);
            free(b);
        }
    }
}

/* Padded and negative strides (bottom-up pictures) give the same numbers. */
static void test_strides(void **state)
{
    const int w = 101, h = 57;
    const ptrdiff_t stride = 128;
    (void)state;
    uint8_t *a = make_picture(w, h, w, 9), *b = add_noise(a, w, h, 20);
    uint8_t *pa = calloc((size_t)stride, h), *pb = calloc((size_t)stride, h);
    uint8_t *fa = malloc((size_t)w * h), *fb = malloc((size_t)w * h);
    assert_non_null(pa);
    assert_non_null(pb);
    assert_non_null(fa);
    assert_non_null(fb);
    for (int y = 0; y < h; y++) {
        memcpy(pa + y * stride, a + y * w, w);
        memcpy(pb + y * stride, b + y * w, w);
        memcpy(fa + (h - 1 - y) * w, a + y * w, w);   /* flipped copies */
        memcpy(fb + (h - 1 - y) * w, b + y * w, w);
    }
    ShQuality q0 = quality(a, b, w, h), q1, q2;
    assert_int_equal(sh_quality_plane(pa, stride, pb, stride, w, h, &q1), 0);
    assert_true(q0.ssim == q1.ssim && q0.mse == q1.mse);
    /* Walking the flipped copies bottom-up reads the original order. */
    assert_int_equal(sh_quality_plane(fa + (h - 1) * w, -w, fb + (h - 1) * w, -w, w, h, &q2), 0);
    assert_true(q0.ssim == q2.ssim && q0.mse == q2.mse);
    /* Mixed strides: one padded, one tight. */
    assert_int_equal(sh_quality_plane(pa, stride, b, w, w, h, &q1), 0);
    assert_true(q0.ssim == q1.ssim && q0.mse == q1.mse);
    free(a); free(b); free(pa); free(pb); free(fa); free(fb);
}

/* The largest sums the integer arithmetic can meet: no overflow, results in range. */
static void test_extremes(void **state)
{
    const int w = 64, h = 32;
    uint8_t *white = malloc((size_t)w * h), *black = calloc((size_t)w * h, 1);
    uint8_t *check = malloc((size_t)w * h), *inverse = malloc((size_t)w * h);
    (void)state;
    assert_non_null(white);
    assert_non_null(black);
    assert_non_null(check);
    assert_non_null(inverse);
    memset(white, 255, (size_t)w * h);
    for (int i = 0; i < w * h; i++) {
        check[i] = (uint8_t)(((i % w) + (i / w)) % 2 ? 255 : 0);
        inverse[i] = (uint8_t)(255 - check[i]);
    }
    ShQuality q = quality(white, white, w, h);
    assert_true(q.ssim == 1.0);
    q = quality(white, black, w, h);
    assert_float_equal(q.mse, 65025.0, 0.0);
    assert_float_equal(q.psnr, 0.0, 1e-12);
    assert_true(q.ssim >= 0.0 && q.ssim < 1e-3);
    q = quality(check, inverse, w, h);   /* full contrast, perfectly anti-correlated */
    assert_true(q.ssim >= -1.0 && q.ssim < -0.99);
    q = quality(check, check, w, h);
    assert_true(q.ssim == 1.0);
    free(white); free(black); free(check); free(inverse);
}

/* Below 8x8 there is no SSIM window; NULLs are refused. */
static void test_bad_arguments(void **state)
{
    uint8_t px[64] = { 0 };
    ShQuality q;
    (void)state;
    assert_int_equal(sh_quality_plane(px, 8, px, 8, 7, 8, &q), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(px, 8, px, 8, 8, 7, &q), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(px, 8, px, 8, 0, 0, &q), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(NULL, 8, px, 8, 8, 8, &q), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(px, 8, NULL, 8, 8, 8, &q), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(px, 8, px, 8, 8, 8, NULL), AVERROR(EINVAL));
    assert_int_equal(sh_quality_plane(px, 8, px, 8, 8, 8, &q), 0);
    assert_true(q.ssim == 1.0);
}

/* ---- frames ------------------------------------------------------------ */

static AVFrame *frame_with_luma(enum AVPixelFormat fmt, const uint8_t *y, int w, int h)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->format = fmt;
    f->width = w;
    f->height = h;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int r = 0; r < h; r++)
        memcpy(f->data[0] + r * f->linesize[0], y + r * w, w);
    /* Chroma differs between formats and must not count: fill it with junk. */
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!(d->flags & AV_PIX_FMT_FLAG_RGB))
        for (int p = 1; p < 4 && p < d->nb_components; p++)
            if (f->data[p])
                memset(f->data[p], 0x5a + p, (size_t)f->linesize[p] * AV_CEIL_RSHIFT(h, d->log2_chroma_h));
    return f;
}

/* Luma of yuv420p against nv12 and gray8: the same numbers as the bare planes. */
static void test_frame(void **state)
{
    const int w = 160, h = 90;
    ShQuality qp, qf;
    (void)state;
    uint8_t *a = make_picture(w, h, w, 21), *b = add_noise(a, w, h, 12);
    AVFrame *fa = frame_with_luma(AV_PIX_FMT_YUV420P, a, w, h);
    AVFrame *fb = frame_with_luma(AV_PIX_FMT_NV12, b, w, h);
    AVFrame *fg = frame_with_luma(AV_PIX_FMT_GRAY8, b, w, h);
    AVFrame *frgb = frame_with_luma(AV_PIX_FMT_RGB24, b, w, h);
    AVFrame *f10 = frame_with_luma(AV_PIX_FMT_YUV420P10LE, b, w, h);
    AVFrame *fsmall = frame_with_luma(AV_PIX_FMT_YUV420P, b, w, h - 2);

    qp = quality(a, b, w, h);
    assert_int_equal(sh_quality_frame(fa, fb, &qf), 0);
    assert_true(qp.ssim == qf.ssim && qp.mse == qf.mse);
    assert_int_equal(sh_quality_frame(fa, fg, &qf), 0);
    assert_true(qp.ssim == qf.ssim && qp.mse == qf.mse);

    assert_int_equal(sh_quality_frame(fa, frgb, &qf), AVERROR(EINVAL));
    assert_int_equal(sh_quality_frame(fa, f10, &qf), AVERROR(EINVAL));
    assert_int_equal(sh_quality_frame(fa, fsmall, &qf), AVERROR(EINVAL));
    assert_int_equal(sh_quality_frame(NULL, fb, &qf), AVERROR(EINVAL));

    av_frame_free(&fa); av_frame_free(&fb); av_frame_free(&fg);
    av_frame_free(&frgb); av_frame_free(&f10); av_frame_free(&fsmall);
    free(a);
    free(b);
}

/* ---- accumulator ------------------------------------------------------- */

/* Mean SSIM; PSNR from the mean MSE, so a perfect frame does not make it infinite. */
static void test_accumulator(void **state)
{
    ShQualityAcc acc = { 0 };
    ShQuality q, f1 = { .ssim = 1.0, .mse = 0.0 }, f2 = { .ssim = 0.9, .mse = 25.0 };
    (void)state;
    assert_int_equal(sh_quality_acc_result(&acc, &q), AVERROR(EINVAL));
    assert_true(q.ssim == 0 && q.psnr == 0);

    sh_quality_acc_add(&acc, &f1);
    assert_int_equal(sh_quality_acc_result(&acc, &q), 0);
    assert_true(q.ssim == 1.0 && q.psnr == SH_QUALITY_DB_MAX);

    sh_quality_acc_add(&acc, &f2);
    assert_int_equal(sh_quality_acc_result(&acc, &q), 0);
    assert_int_equal(acc.frames, 2);
    assert_float_equal(q.ssim, 0.95, 1e-12);
    assert_float_equal(q.ssim_db, -10 * log10(0.05), 1e-9);
    assert_float_equal(q.mse, 12.5, 1e-12);
    assert_float_equal(q.psnr, 10 * log10(65025.0 / 12.5), 1e-9);
    assert_float_equal(acc.ssim_min, 0.9, 0.0);

    sh_quality_acc_add(NULL, &f2);    /* ignored, not a crash */
    sh_quality_acc_add(&acc, NULL);
    assert_int_equal(acc.frames, 2);
    assert_int_equal(sh_quality_acc_result(&acc, NULL), AVERROR(EINVAL));
}

/* ---- the FFmpeg oracle ------------------------------------------------- */

typedef struct Oracle {
    char dir[256];
} Oracle;

static int have_ffmpeg(void)
{
    return system("ffmpeg -nostdin -hide_banner -loglevel quiet -version >/dev/null 2>&1") == 0;
}

static int run(const char *fmt, ...)
{
    char cmd[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof(cmd));
    return system(cmd);
}

/* Run one of FFmpeg's comparison filters on two raw clips; read the number after key. */
static double ffmpeg_metric(const char *dir, const char *dist, int w, int h,
                            const char *filter, const char *key)
{
    char cmd[2048], line[1024];
    double v = NAN;
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && ffmpeg -nostdin -hide_banner -nostats -loglevel info "
             "-f rawvideo -pix_fmt yuv420p -s %dx%d -i '%s' "
             "-f rawvideo -pix_fmt yuv420p -s %dx%d -i ref.yuv "
             "-lavfi '[0:v][1:v]%s' -f null - 2>&1",
             dir, w, h, dist, w, h, filter);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    while (fgets(line, sizeof(line), p)) {
        const char *k = strstr(line, key);
        if (k)
            v = strtod(k + strlen(key), NULL);
    }
    pclose(p);
    if (!isfinite(v))
        fail_msg("no \"%s\" in the output of: %s", key, cmd);
    return v;
}

static uint8_t *read_file(const char *dir, const char *name, size_t *size)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static int oracle_setup(void **state)
{
    Oracle *o = calloc(1, sizeof(*o));
    const char *tmp = getenv("SH_TEST_TMP");
    if (!o)
        return -1;
    snprintf(o->dir, sizeof(o->dir), "%s/metrics.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(o->dir)) {
        free(o);
        return -1;
    }
    *state = o;
    return 0;
}

static int oracle_teardown(void **state)
{
    Oracle *o = *state;
    if (o) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", o->dir);
        if (system(cmd) != 0)
            return -1;
        free(o);
    }
    return 0;
}

/*
 * testsrc2 clips, 3 frames each, distorted by noise, blur and a real codec;
 * our per-frame luma SSIM and PSNR, accumulated, against what FFmpeg's
 * filters report for Y. One size is a multiple of 16, the other of neither
 * 4 nor 8, so the edges FFmpeg's SSIM skips and its PSNR counts are tested.
 */
static void test_ffmpeg_oracle(void **state)
{
    static const int sizes[][2] = { { 1280, 720 }, { 642, 362 } };
    static const struct { const char *name, *make; } dists[] = {
        { "noise",  "-vf noise=alls=10:allf=t" },
        { "heavy",  "-vf noise=alls=45:allf=t" },
        { "blur",   "-vf gblur=sigma=1.5" },
        { "shift",  "-vf lutyuv=y=val+7,boxblur=1:1" },
        { "mpeg4",  NULL },   /* encode and decode, below */
    };
    const Oracle *o = *state;
    double worst_ssim = 0, worst_psnr = 0;

    if (!have_ffmpeg())
        skip();
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const int w = sizes[s][0], h = sizes[s][1];
        const size_t frame_size = (size_t)w * h + 2 * (size_t)((w + 1) / 2) * ((h + 1) / 2);
        size_t ref_size;
        assert_int_equal(run("cd '%s' && ffmpeg -nostdin -v error -f lavfi -i testsrc2=s=%dx%d:r=25 "
                             "-frames:v 3 -pix_fmt yuv420p -f rawvideo -y ref.yuv",
                             o->dir, w, h), 0);
        uint8_t *ref = read_file(o->dir, "ref.yuv", &ref_size);
        assert_int_equal(ref_size, 3 * frame_size);

        for (size_t d = 0; d < sizeof(dists) / sizeof(dists[0]); d++) {
            char dist[64];
            size_t dist_size;
            snprintf(dist, sizeof(dist), "%s.yuv", dists[d].name);
            if (dists[d].make)
                assert_int_equal(run("cd '%s' && ffmpeg -nostdin -v error -f rawvideo -pix_fmt yuv420p "
                                     "-s %dx%d -i ref.yuv %s -pix_fmt yuv420p -f rawvideo -y %s",
                                     o->dir, w, h, dists[d].make, dist), 0);
            else
                assert_int_equal(run("cd '%s' && ffmpeg -nostdin -v error -f rawvideo -pix_fmt yuv420p "
                                     "-s %dx%d -i ref.yuv -c:v mpeg4 -q:v 14 -y coded.avi && "
                                     "ffmpeg -nostdin -v error -i coded.avi -pix_fmt yuv420p "
                                     "-f rawvideo -y %s", o->dir, w, h, dist), 0);
            uint8_t *dst = read_file(o->dir, dist, &dist_size);
            assert_int_equal(dist_size, ref_size);

            /* Main input first, as in the filters: the order does not matter (symmetric). */
            ShQualityAcc acc = { 0 };
            ShQuality f, all;
            for (int n = 0; n < 3; n++) {
                assert_int_equal(sh_quality_plane(dst + n * frame_size, w, ref + n * frame_size, w,
                                                  w, h, &f), 0);
                sh_quality_acc_add(&acc, &f);
            }
            assert_int_equal(sh_quality_acc_result(&acc, &all), 0);

            double ff_ssim = ffmpeg_metric(o->dir, dist, w, h, "ssim", "SSIM Y:");
            double ff_psnr = ffmpeg_metric(o->dir, dist, w, h, "psnr", "PSNR y:");
            double ds = fabs(all.ssim - ff_ssim), dp = fabs(all.psnr - ff_psnr);
            print_message("# %4dx%-4d %-6s SSIM %.6f ffmpeg %.6f (diff %.1e)  "
                          "PSNR %.4f ffmpeg %.4f (diff %.1e)\n",
                          w, h, dists[d].name, all.ssim, ff_ssim, ds, all.psnr, ff_psnr, dp);
            if (ds > 1e-4 || dp > 0.01)   /* the brief allowed 0.002 and 0.05 dB; we match to print precision */
                fail_msg("%dx%d %s: ssim %.6f vs ffmpeg %.6f, psnr %.4f vs ffmpeg %.4f",
                         w, h, dists[d].name, all.ssim, ff_ssim, all.psnr, ff_psnr);
            worst_ssim = fmax(worst_ssim, ds);
            worst_psnr = fmax(worst_psnr, dp);
            free(dst);
        }
        free(ref);
    }
    print_message("# worst difference from ffmpeg: SSIM %.1e, PSNR %.1e dB\n", worst_ssim, worst_psnr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical),
        cmocka_unit_test(test_constant_offset),
        cmocka_unit_test(test_mse_every_pixel),
        cmocka_unit_test(test_symmetric),
        cmocka_unit_test(test_noise_monotonic),
        cmocka_unit_test(test_naive_oracle),
        cmocka_unit_test(test_strides),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_frame),
        cmocka_unit_test(test_accumulator),
        cmocka_unit_test_setup_teardown(test_ffmpeg_oracle, oracle_setup, oracle_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
