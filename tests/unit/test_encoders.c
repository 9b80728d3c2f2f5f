/*
 * Unit tests: the encoder table and the libavcodec backend (src/encoders/).
 * Synthetic frames in, packets out: timestamps, the pass log of libvpx.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/mathematics.h>

#include "encoders/encoder.h"
#include "shrink/shrink.h"

#define W 128
#define H 72
#define NFRAMES 24

/* Every descriptor is complete, and every two-pass one lists its log files. */
static void test_table(void **state)
{
    int video = 0;
    (void)state;
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d)) {
        assert_non_null(d->name);
        assert_non_null(d->codec);
        assert_non_null(d->containers);
        assert_true(strlen(d->containers) > 0);
        assert_ptr_equal(sh_encoder_find(d->name), d);
        if (d->caps & SH_ENC_CAP_TWO_PASS) {
            assert_non_null(d->stats_files);
            assert_string_equal(d->stats_files[0], "");
        }
        assert_true(d->speed_class == SH_SPEED_FAST || d->speed_class == SH_SPEED_BALANCED ||
                    d->speed_class == SH_SPEED_BEST);
        video += d->type == AVMEDIA_TYPE_VIDEO;
    }
    assert_true(video >= 1);
}

static void test_find(void **state)
{
    const ShEncoderDesc *x264 = sh_encoder_find("x264");
    (void)state;
    assert_non_null(x264);
    assert_ptr_equal(sh_encoder_find("libx264"), x264);
    assert_ptr_equal(sh_encoder_find("h264"), x264);
    assert_null(sh_encoder_find("nosuch"));
    assert_true(sh_encoder_matches(x264, "h264"));
    assert_false(sh_encoder_matches(x264, "hevc"));
    assert_string_equal(sh_codec_format("x264"), "mp4");
    assert_null(sh_codec_format("auto"));
    assert_null(sh_codec_format(NULL));
    assert_null(sh_codec_format("nosuch"));
    if (sh_encoder_find("vp9"))
        assert_string_equal(sh_codec_format("vp9"), "webm");
    /* x264 is always allowed; libaom only when the user asked for the best. */
    assert_true(sh_encoder_speed_ok(x264, SH_SPEED_FAST));
    assert_true(sh_encoder_speed_ok(x264, SH_SPEED_BEST));
    if (sh_encoder_find("aom")) {
        assert_false(sh_encoder_speed_ok(sh_encoder_find("aom"), SH_SPEED_FAST));
        assert_false(sh_encoder_speed_ok(sh_encoder_find("aom"), SH_SPEED_BALANCED));
        assert_true(sh_encoder_speed_ok(sh_encoder_find("aom"), SH_SPEED_BEST));
    }
    /* x265 too (never chosen by the default search, and the slowest of it:
     * docs/ENCODERS.md); SVT-AV1 by default. */
    if (sh_encoder_find("x265")) {
        assert_false(sh_encoder_speed_ok(sh_encoder_find("x265"), SH_SPEED_BALANCED));
        assert_true(sh_encoder_speed_ok(sh_encoder_find("x265"), SH_SPEED_BEST));
    }
    if (sh_encoder_find("svt-av1"))
        assert_true(sh_encoder_speed_ok(sh_encoder_find("svt-av1"), SH_SPEED_BALANCED));
}

static void fill(AVFrame *f, int i)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)((x * 3 + y * 2 + i * 7) ^ (i * 13 + x / 8));
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < H / 2; y++)
            memset(f->data[p] + y * f->linesize[p], 128 + (i % 16), W / 2);
}

/*
 * Encode NFRAMES at 12.5 fps in a 1/90000 time base, one frame of each 6
 * dropped (a gap), and collect the packets' pts and bytes. Returns the bytes,
 * or a negative error.
 */
static int64_t encode(const ShEncoderDesc *d, int pass, int64_t bitrate, double crf, int time_scale,
                      const char *stats, int64_t *sent, int *nsent, int64_t *got, int *ngot)
{
    ShEncoderConfig cfg = { 0 };
    ShEncoder *enc = NULL;
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int64_t bytes = 0;
    int ret;

    cfg.width = W;
    cfg.height = H;
    cfg.pix_fmt = d->pix_fmt;
    cfg.time_base = (AVRational){ 1, 90000 };
    cfg.frame_rate = (AVRational){ 25, 2 };
    cfg.bitrate = bitrate;
    cfg.crf = crf;
    cfg.qp = -1;
    cfg.fast = 1;
    cfg.pass = pass;
    cfg.stats_path = stats;
    cfg.time_scale = time_scale;
    *nsent = *ngot = 0;
    f->width = W;
    f->height = H;
    f->format = d->pix_fmt;
    if ((ret = av_frame_get_buffer(f, 0)) < 0 || (ret = sh_encoder_open(&enc, d, &cfg)) < 0)
        goto end;
    for (int i = 0; i <= NFRAMES; i++) {
        if (i < NFRAMES) {
            if (i % 6 == 5)
                continue;
            if ((ret = av_frame_make_writable(f)) < 0)
                goto end;
            fill(f, i);
            f->pts = 3000 + i * 7200;
            sent[(*nsent)++] = f->pts;
        }
        if ((ret = sh_encoder_send_frame(enc, i < NFRAMES ? f : NULL)) < 0)
            goto end;
        while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
            if (*ngot < NFRAMES)
                got[(*ngot)++] = pkt->pts;
            bytes += pkt->size;
            av_packet_unref(pkt);
        }
        if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            goto end;
    }
    ret = 0;
end:
    sh_encoder_free(&enc);
    av_frame_free(&f);
    av_packet_free(&pkt);
    return ret < 0 ? ret : bytes;
}

/* Packets come back with exactly the pts of the frames sent, whatever the
 * encoder's own clock (libvpx and libaom round through 1/10^7 s) and the
 * time scale it was told. */
static void test_packet_pts(void **state)
{
    (void)state;
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d)) {
        int64_t sent[NFRAMES], got[NFRAMES];
        int nsent, ngot;
        if (d->type != AVMEDIA_TYPE_VIDEO || !d->lavc_name || !sh_encoder_available(d))
            continue;
        /* The time scale only where the job uses one (SVT-AV1 refuses over 240 fps). */
        for (int k = 1; k <= ((d->caps & SH_ENC_CAP_WHOLE_KBPS) ? 37 : 1); k += 36) {
            int64_t bytes = encode(d, 0, 0, 30, k, NULL, sent, &nsent, got, &ngot);
            if (bytes < 0)
                fail_msg("%s (time scale %d): %s", d->name, k, av_err2str((int)bytes));
            if (ngot != nsent)
                fail_msg("%s: %d packets for %d frames", d->name, ngot, nsent);
            for (int i = 0; i < ngot; i++) {
                int found = 0;
                for (int s = 0; s < nsent; s++)
                    found |= got[i] == sent[s];
                if (!found)
                    fail_msg("%s (time scale %d): packet pts %lld was never sent", d->name, k, (long long)got[i]);
            }
        }
    }
}

/* libvpx's first-pass log goes through stats_out/stats_in: pass 2 must
 * follow the bitrate (with one-tick frames it came out the same size at any). */
static void test_lavc_pass_log(void **state)
{
    const ShEncoderDesc *d = sh_encoder_find("vp9");
    char dir[] = "/tmp/shrink-unit.XXXXXX", path[64];
    int64_t sent[NFRAMES], got[NFRAMES], lo, hi;
    int nsent, ngot;
    (void)state;
    if (!d || !sh_encoder_available(d))
        skip();
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/pass.log", dir);
    assert_true(encode(d, 1, 40000, 0, 1, path, sent, &nsent, got, &ngot) >= 0);
    assert_int_equal(access(path, R_OK), 0);
    lo = encode(d, 2, 40000, 0, 1, path, sent, &nsent, got, &ngot);
    hi = encode(d, 2, 400000, 0, 1, path, sent, &nsent, got, &ngot);
    unlink(path);
    rmdir(dir);
    assert_true(lo > 0);
    if (hi < lo * 3)
        fail_msg("pass 2 at 40 and 400 kb/s: %lld and %lld bytes", (long long)lo, (long long)hi);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    setenv("SVT_LOG", "1", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_packet_pts),
        cmocka_unit_test(test_lavc_pass_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
