/*
 * Unit tests: the frame cache (src/input/cache.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

#include "input/cache.h"

/* Bytes of one yuv420p picture, tightly packed. */
static size_t picture_bytes(int w, int h)
{
    return (size_t)av_image_get_buffer_size(AV_PIX_FMT_YUV420P, w, h, 1);
}

static int plane_w(int p, int w) { return p ? (w + 1) / 2 : w; }
static int plane_h(int p, int h) { return p ? (h + 1) / 2 : h; }

static uint8_t pattern(int seed, int p, int x, int y)
{
    return (uint8_t)(seed * 31 + p * 77 + x * 7 + y * 13 + ((x * y) >> 3));
}

/* A yuv420p picture whose every sample depends on seed; linesize padded as decoders do. */
static AVFrame *make_frame(int w, int h, int seed, int64_t pts)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_YUV420P;
    f->pts = pts;
    assert_int_equal(av_frame_get_buffer(f, 64), 0);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < plane_h(p, h); y++)
            for (int x = 0; x < plane_w(p, w); x++)
                f->data[p][(ptrdiff_t)y * f->linesize[p] + x] = pattern(seed, p, x, y);
    return f;
}

/* The frame holds exactly the picture make_frame(w, h, seed) made. */
static void check_frame(const AVFrame *f, int w, int h, int seed)
{
    assert_int_equal(f->width, w);
    assert_int_equal(f->height, h);
    assert_int_equal(f->format, AV_PIX_FMT_YUV420P);
    for (int p = 0; p < 3; p++)
        for (int y = 0; y < plane_h(p, h); y++)
            for (int x = 0; x < plane_w(p, w); x++) {
                uint8_t got = f->data[p][(ptrdiff_t)y * f->linesize[p] + x];
                if (got != pattern(seed, p, x, y))
                    fail_msg("frame %d plane %d (%d,%d): %d, want %d", seed, p, x, y, got,
                             pattern(seed, p, x, y));
            }
}

static int64_t pts_of(int i) { return 1000 + (int64_t)i * 1001; }

/* Put n distinct frames into a cache of the given memory bound. */
static ShFrameCache *fill(int w, int h, int n, size_t mem_limit)
{
    ShFrameCache *c = NULL;
    assert_int_equal(sh_frame_cache_open(&c, w, h, AV_PIX_FMT_YUV420P, mem_limit), 0);
    assert_non_null(c);
    for (int i = 0; i < n; i++) {
        AVFrame *f = make_frame(w, h, i, pts_of(i));
        assert_int_equal(sh_frame_cache_put(c, f), 0);
        av_frame_free(&f);
    }
    assert_int_equal(sh_frame_cache_count(c), n);
    for (int i = 0; i < n; i++)
        assert_int_equal(sh_frame_cache_pts(c, i), pts_of(i));
    return c;
}

/* Read everything back from the start: same pictures, same pts, same order, then EOF. */
static void read_back(ShFrameCache *c, int w, int h, int n)
{
    AVFrame *out = av_frame_alloc();
    assert_non_null(out);
    assert_int_equal(sh_frame_cache_rewind(c), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(sh_frame_cache_get(c, out), 0);
        assert_int_equal(out->pts, pts_of(i));
        check_frame(out, w, h, i);
        av_frame_unref(out);
    }
    assert_int_equal(sh_frame_cache_get(c, out), AVERROR_EOF);
    assert_int_equal(sh_frame_cache_get(c, out), AVERROR_EOF);
    av_frame_free(&out);
}

/* All in memory: frames come back identical and in order, then EOF. */
static void test_memory_round_trip(void **state)
{
    ShFrameCache *c = fill(64, 48, 12, 64 << 20);
    (void)state;
    read_back(c, 64, 48, 12);
    sh_frame_cache_free(&c);
    assert_null(c);
}

/* A bound of 2.5 pictures: 2 in memory, the rest spill to the file, all come back identical. */
static void test_spill_round_trip(void **state)
{
    ShFrameCache *c = fill(64, 48, 12, picture_bytes(64, 48) * 5 / 2);
    (void)state;
    read_back(c, 64, 48, 12);
    sh_frame_cache_free(&c);
}

/* A bound below one picture: everything lives in the file. */
static void test_all_spilled(void **state)
{
    ShFrameCache *c = fill(64, 48, 7, 0);
    (void)state;
    read_back(c, 64, 48, 7);
    sh_frame_cache_free(&c);
}

/* Every encoder pass reads the same frames: rewinding replays them all, spilled ones included. */
static void test_rewind_replays(void **state)
{
    ShFrameCache *c = fill(32, 32, 9, picture_bytes(32, 32) * 4);
    AVFrame *out = av_frame_alloc();
    (void)state;
    assert_non_null(out);
    read_back(c, 32, 32, 9);
    read_back(c, 32, 32, 9);
    /* rewinding in the middle starts over too */
    assert_int_equal(sh_frame_cache_rewind(c), 0);
    for (int i = 0; i < 6; i++) {
        assert_int_equal(sh_frame_cache_get(c, out), 0);
        av_frame_unref(out);
    }
    read_back(c, 32, 32, 9);
    av_frame_free(&out);
    sh_frame_cache_free(&c);
}

/* Frames past the memory bound really go to a file: with no usable TMPDIR they fail, never vanish. */
static void test_spill_needs_tmpdir(void **state)
{
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    ShFrameCache *c = NULL;
    AVFrame *f = make_frame(16, 16, 0, 0);
    (void)state;
    assert_int_equal(setenv("TMPDIR", "/nonexistent/shrink-test-dir", 1), 0);
    assert_int_equal(sh_frame_cache_open(&c, 16, 16, AV_PIX_FMT_YUV420P, picture_bytes(16, 16) * 2), 0);
    for (int i = 0; i < 2; i++) {
        f->pts = i;
        assert_int_equal(sh_frame_cache_put(c, f), 0);   /* in memory */
    }
    f->pts = 2;
    assert_true(sh_frame_cache_put(c, f) < 0);           /* needs the file */
    assert_int_equal(sh_frame_cache_count(c), 2);
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    av_frame_free(&f);
    sh_frame_cache_free(&c);
}

/* Odd dimensions (chroma rounds up) survive memory and file alike. */
static void test_odd_size(void **state)
{
    ShFrameCache *c = fill(33, 17, 6, picture_bytes(33, 17) * 3);
    (void)state;
    read_back(c, 33, 17, 6);
    sh_frame_cache_free(&c);
}

/* More than a thousand frames, split between memory and file, across the index's growth. */
static void test_many_frames(void **state)
{
    const int n = 1100;
    ShFrameCache *c = fill(8, 8, n, picture_bytes(8, 8) * 1050 + 50);
    (void)state;
    read_back(c, 8, 8, n);
    sh_frame_cache_free(&c);
}

/* The cache keeps its own copy: changing the source picture after put changes nothing. */
static void test_put_copies(void **state)
{
    ShFrameCache *c = NULL;
    AVFrame *f = make_frame(16, 16, 0, pts_of(0)), *out = av_frame_alloc();
    (void)state;
    assert_non_null(out);
    assert_int_equal(sh_frame_cache_open(&c, 16, 16, AV_PIX_FMT_YUV420P, 1 << 20), 0);
    assert_int_equal(sh_frame_cache_put(c, f), 0);
    memset(f->data[0], 0, (size_t)f->linesize[0] * 16);
    f->pts = 5;
    assert_int_equal(sh_frame_cache_rewind(c), 0);
    assert_int_equal(sh_frame_cache_get(c, out), 0);
    check_frame(out, 16, 16, 0);
    assert_int_equal(out->pts, pts_of(0));
    av_frame_free(&f);
    av_frame_free(&out);
    sh_frame_cache_free(&c);
}

/* find: the index of a stored pts, -1 for any pts not stored. */
static void test_find(void **state)
{
    static const int64_t pts[] = { -3000, 0, 3, 10, 11, 50, 1000, 90000, 1LL << 40 };
    const int n = sizeof(pts) / sizeof(pts[0]);
    ShFrameCache *c = NULL;
    (void)state;
    assert_int_equal(sh_frame_cache_open(&c, 8, 8, AV_PIX_FMT_YUV420P, 96 * 4), 0);
    for (int i = 0; i < n; i++) {
        AVFrame *f = make_frame(8, 8, i, pts[i]);
        assert_int_equal(sh_frame_cache_put(c, f), 0);
        av_frame_free(&f);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(sh_frame_cache_find(c, pts[i]), i);
    assert_int_equal(sh_frame_cache_find(c, -3001), -1);
    assert_int_equal(sh_frame_cache_find(c, -1), -1);
    assert_int_equal(sh_frame_cache_find(c, 4), -1);
    assert_int_equal(sh_frame_cache_find(c, 12), -1);
    assert_int_equal(sh_frame_cache_find(c, 89999), -1);
    assert_int_equal(sh_frame_cache_find(c, (1LL << 40) + 1), -1);
    assert_int_equal(sh_frame_cache_find(c, INT64_MAX), -1);
    sh_frame_cache_free(&c);
}

/* An empty cache: no frames, EOF at once, nothing to find. */
static void test_empty(void **state)
{
    ShFrameCache *c = NULL;
    AVFrame *out = av_frame_alloc();
    (void)state;
    assert_non_null(out);
    assert_int_equal(sh_frame_cache_open(&c, 16, 16, AV_PIX_FMT_YUV420P, 0), 0);
    assert_int_equal(sh_frame_cache_count(c), 0);
    assert_int_equal(sh_frame_cache_find(c, 0), -1);
    assert_int_equal(sh_frame_cache_rewind(c), 0);
    assert_int_equal(sh_frame_cache_get(c, out), AVERROR_EOF);
    assert_null(out->buf[0]);
    av_frame_free(&out);
    sh_frame_cache_free(&c);
    sh_frame_cache_free(&c); /* freeing twice through the pointer is harmless */
}

/* Frames of another size or format are refused and leave the cache as it was. */
static void test_wrong_frames_refused(void **state)
{
    ShFrameCache *c = NULL;
    AVFrame *good = make_frame(16, 16, 1, 100);
    AVFrame *narrow = make_frame(14, 16, 2, 200);
    AVFrame *short_ = make_frame(16, 18, 3, 300);
    AVFrame *rgb = av_frame_alloc();
    (void)state;
    assert_non_null(rgb);
    rgb->width = 16;
    rgb->height = 16;
    rgb->format = AV_PIX_FMT_RGB24;
    rgb->pts = 400;
    assert_int_equal(av_frame_get_buffer(rgb, 0), 0);
    assert_int_equal(sh_frame_cache_open(&c, 16, 16, AV_PIX_FMT_YUV420P, 1 << 20), 0);
    assert_int_equal(sh_frame_cache_put(c, good), 0);
    assert_int_equal(sh_frame_cache_put(c, narrow), AVERROR(EINVAL));
    assert_int_equal(sh_frame_cache_put(c, short_), AVERROR(EINVAL));
    assert_int_equal(sh_frame_cache_put(c, rgb), AVERROR(EINVAL));
    assert_int_equal(sh_frame_cache_count(c), 1);
    assert_int_equal(sh_frame_cache_find(c, 200), -1);
    av_frame_free(&good);
    av_frame_free(&narrow);
    av_frame_free(&short_);
    av_frame_free(&rgb);
    sh_frame_cache_free(&c);
}

/* A cache cannot be opened for an impossible picture. */
static void test_open_rejects_bad_geometry(void **state)
{
    ShFrameCache *c = NULL;
    (void)state;
    assert_true(sh_frame_cache_open(&c, 0, 16, AV_PIX_FMT_YUV420P, 1 << 20) < 0);
    assert_true(sh_frame_cache_open(&c, 16, -2, AV_PIX_FMT_YUV420P, 1 << 20) < 0);
    assert_true(sh_frame_cache_open(&c, 16, 16, AV_PIX_FMT_NONE, 1 << 20) < 0);
    assert_null(c);
}

/* What one reader thread found: frames read out of order, checked against their pattern. */
typedef struct Reader {
    const ShFrameCache *c;
    int w, h, n, stride, errors;
} Reader;

static void *read_scattered(void *arg)
{
    Reader *r = arg;
    AVFrame *out = av_frame_alloc();
    if (!out) {
        r->errors++;
        return NULL;
    }
    /* Three rounds over every frame, each in a different order (stride coprime with n). */
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < r->n; k++) {
            int i = (int)(((int64_t)k * r->stride + round * 5) % r->n);
            const uint8_t *y;
            if (sh_frame_cache_read(r->c, i, out) < 0 || out->pts != pts_of(i)) {
                r->errors++;
                continue;
            }
            y = out->data[0];
            for (int yy = 0; yy < r->h; yy++)
                for (int x = 0; x < r->w; x++)
                    if (y[(ptrdiff_t)yy * out->linesize[0] + x] != pattern(i, 0, x, yy))
                        r->errors++;
            av_frame_unref(out);
        }
    av_frame_free(&out);
    return NULL;
}

/* The search reads one sample from several threads at once: sealed, random
 * access by index gives every frame (spilled ones too) to every reader, and
 * refuses indices outside the cache. */
static void test_concurrent_reads(void **state)
{
    enum { W = 48, H = 32, N = 23 };
    ShFrameCache *c = fill(W, H, N, picture_bytes(W, H) * 7);   /* 7 in memory, 16 spilled */
    Reader r[2] = { { c, W, H, N, 5, 0 }, { c, W, H, N, 7, 0 } };
    pthread_t th;
    AVFrame *out = av_frame_alloc();
    (void)state;
    assert_non_null(out);
    assert_int_equal(sh_frame_cache_seal(c), 0);
    assert_int_equal(pthread_create(&th, NULL, read_scattered, &r[1]), 0);
    read_scattered(&r[0]);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(r[0].errors, 0);
    assert_int_equal(r[1].errors, 0);
    assert_int_equal(sh_frame_cache_read(c, N, out), AVERROR_EOF);
    assert_int_equal(sh_frame_cache_read(c, -1, out), AVERROR_EOF);
    /* The sequential reader still works afterwards. */
    read_back(c, W, H, N);
    av_frame_free(&out);
    sh_frame_cache_free(&c);
}

/* A spill bound of 3 pictures, REFUSE: the 4th spilled put is refused, what is stored stays readable. */
static void test_disk_limit_refuses(void **state)
{
    size_t pb = picture_bytes(64, 48);
    ShFrameCache *c = NULL;
    (void)state;
    assert_int_equal(sh_frame_cache_open(&c, 64, 48, AV_PIX_FMT_YUV420P, pb * 2), 0);
    sh_frame_cache_set_disk_limit(c, (int64_t)pb * 3, SH_CACHE_FULL_REFUSE);
    for (int i = 0; i < 6; i++) {
        AVFrame *f = make_frame(64, 48, i, pts_of(i));
        assert_int_equal(sh_frame_cache_put(c, f), i < 5 ? 0 : SH_ERROR_CACHE_FULL);
        av_frame_free(&f);
    }
    assert_int_equal(sh_frame_cache_count(c), 5);
    assert_true(sh_frame_cache_has_pictures(c));
    read_back(c, 64, 48, 5);
    sh_frame_cache_free(&c);
}

/* DROP: past the bound the pictures go (and the spill with them), the pts are all kept. */
static void test_disk_limit_drops(void **state)
{
    size_t pb = picture_bytes(64, 48);
    ShFrameCache *c = NULL;
    AVFrame *out = av_frame_alloc();
    (void)state;
    assert_non_null(out);
    assert_int_equal(sh_frame_cache_open(&c, 64, 48, AV_PIX_FMT_YUV420P, pb * 2), 0);
    sh_frame_cache_set_disk_limit(c, (int64_t)pb * 3, SH_CACHE_FULL_DROP);
    for (int i = 0; i < 20; i++) {
        AVFrame *f = make_frame(64, 48, i, pts_of(i));
        assert_int_equal(sh_frame_cache_put(c, f), 0);
        av_frame_free(&f);
        assert_int_equal(sh_frame_cache_has_pictures(c), i < 5);
    }
    assert_int_equal(sh_frame_cache_count(c), 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(sh_frame_cache_pts(c, i), pts_of(i));
    assert_int_equal(sh_frame_cache_find(c, pts_of(13)), 13);
    assert_int_equal(sh_frame_cache_read(c, 0, out), AVERROR(ENODATA));
    av_frame_free(&out);
    sh_frame_cache_free(&c);
}

/* A bound of 0 and no memory: an index from the first frame. */
static void test_index_only(void **state)
{
    ShFrameCache *c = NULL;
    (void)state;
    assert_int_equal(sh_frame_cache_open(&c, 64, 48, AV_PIX_FMT_YUV420P, 0), 0);
    sh_frame_cache_set_disk_limit(c, 0, SH_CACHE_FULL_DROP);
    for (int i = 0; i < 3; i++) {
        AVFrame *f = make_frame(64, 48, i, pts_of(i));
        assert_int_equal(sh_frame_cache_put(c, f), 0);
        av_frame_free(&f);
    }
    assert_false(sh_frame_cache_has_pictures(c));
    assert_int_equal(sh_frame_cache_count(c), 3);
    sh_frame_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_round_trip),
        cmocka_unit_test(test_spill_round_trip),
        cmocka_unit_test(test_all_spilled),
        cmocka_unit_test(test_rewind_replays),
        cmocka_unit_test(test_spill_needs_tmpdir),
        cmocka_unit_test(test_odd_size),
        cmocka_unit_test(test_many_frames),
        cmocka_unit_test(test_put_copies),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_wrong_frames_refused),
        cmocka_unit_test(test_open_rejects_bad_geometry),
        cmocka_unit_test(test_concurrent_reads),
        cmocka_unit_test(test_disk_limit_refuses),
        cmocka_unit_test(test_disk_limit_drops),
        cmocka_unit_test(test_index_only),
    };
    av_log_set_level(AV_LOG_QUIET); /* the refusals below are expected */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
