/*
 * Unit tests: the MP4 container estimate before the first encode
 * (sh_budget_overhead + sh_mp4_overhead_correction, src/output/overhead.h)
 * against what shrink's own muxer (src/output/mux.h) writes for the same
 * numbers of frames and packets, interleaved as the job's encodes write them.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavutil/mathematics.h>

#include "output/mux.h"
#include "output/overhead.h"
#include "solver/plan.h"

#define VIDEO_BYTES 40      /* and up to 49 more */
#define AUDIO_BYTES 12      /* and up to 4 more */

/*
 * An MP4 of `seconds` of video at fps (decode order I P B P B ..., so every
 * frame has a composition offset, as x264's B-frames give) and, when
 * audio_ms > 0, audio packets of audio_ms, written through sh_mux_write in
 * time order. Returns the file's bytes beyond the packets' payload.
 */
static int64_t real_overhead(double seconds, int fps, int audio_ms, int64_t *frames, int64_t *packets)
{
    char path[4096];
    const char *dir = getenv("TMPDIR");
    AVCodecParameters *vp = avcodec_parameters_alloc(), *ap = avcodec_parameters_alloc();
    AVPacket *pkt = av_packet_alloc();
    ShMuxer *mx = NULL;
    int64_t nv = (int64_t)(seconds * fps), na = audio_ms > 0 ? (int64_t)(seconds * 1000 / audio_ms) : 0;
    int64_t iv = 0, ia = 0, payload = 0;
    struct stat sb;
    int vst, ast = -1, fd;

    assert_non_null(vp);
    assert_non_null(ap);
    assert_non_null(pkt);
    snprintf(path, sizeof(path), "%s/test_overhead_XXXXXX", dir && *dir ? dir : "/tmp");
    assert_true((fd = mkstemp(path)) >= 0);
    close(fd);
    /* MPEG-4 part 2 needs no parameter sets; its tables are H.264's. */
    vp->codec_type = AVMEDIA_TYPE_VIDEO;
    vp->codec_id = AV_CODEC_ID_MPEG4;
    vp->width = 64;
    vp->height = 64;
    assert_int_equal(sh_mux_open(&mx, path, "mp4"), 0);
    assert_true((vst = sh_mux_add_stream(mx, vp, (AVRational){ 1, fps }, NULL)) >= 0);
    if (na) {
        static const uint8_t asc[2] = { 0x11, 0x90 };   /* AAC LC, 48 kHz, stereo */
        ap->codec_type = AVMEDIA_TYPE_AUDIO;
        ap->codec_id = AV_CODEC_ID_AAC;
        ap->sample_rate = 48000;
        av_channel_layout_default(&ap->ch_layout, 2);
        assert_non_null(ap->extradata = av_mallocz(sizeof(asc) + AV_INPUT_BUFFER_PADDING_SIZE));
        memcpy(ap->extradata, asc, sizeof(asc));
        ap->extradata_size = sizeof(asc);
        assert_true((ast = sh_mux_add_stream(mx, ap, (AVRational){ 1, 48000 }, NULL)) >= 0);
    }
    assert_int_equal(sh_mux_write_header(mx), 0);
    while (iv < nv || ia < na) {
        /* The earlier of the next video dts (iv - 1 frames) and the next audio packet. */
        int video = ia >= na || (iv < nv && av_compare_ts(iv - 1, (AVRational){ 1, fps }, ia * audio_ms,
                                                          (AVRational){ 1, 1000 }) <= 0);
        /* Sizes that vary, as encoded ones do (equal sizes would need no size table). */
        int size = video ? VIDEO_BYTES + (int)(iv * 7 % 50) : AUDIO_BYTES + (int)(ia % 5);
        assert_int_equal(av_new_packet(pkt, size), 0);
        memset(pkt->data, video ? 0x55 : 0x21, size);
        if (video) {
            pkt->dts = iv - 1;
            pkt->pts = !iv ? 0 : iv % 2 ? iv + 1 : iv - 1;
            pkt->duration = 1;
            pkt->flags = iv % 240 ? 0 : AV_PKT_FLAG_KEY;
            iv++;
        } else {
            pkt->pts = pkt->dts = av_rescale(ia, 48 * audio_ms, 1);
            pkt->duration = 48 * audio_ms;
            pkt->flags = AV_PKT_FLAG_KEY;
            ia++;
        }
        payload += size;
        assert_int_equal(sh_mux_write(mx, video ? vst : ast, pkt), 0);
    }
    assert_int_equal(sh_mux_finish(mx), 0);
    sh_mux_free(&mx);
    assert_int_equal(stat(path, &sb), 0);
    if (getenv("KEEP"))
        fprintf(stderr, "kept %s\n", path);
    else
        unlink(path);
    av_packet_free(&pkt);
    avcodec_parameters_free(&vp);
    avcodec_parameters_free(&ap);
    *frames = nv;
    *packets = na;
    return (int64_t)sb.st_size - payload;
}

static int64_t estimate(int64_t frames, int64_t packets)
{
    return sh_budget_overhead(frames, packets) + sh_mp4_overhead_correction(frames, packets, "h264");
}

/*
 * Issue 20's film: an hour at 24 fps with Opus in 60 ms packets. The old
 * estimate (sh_budget_overhead alone) said 1.40 MB where shrink's muxer
 * writes about 2.3 MB: x264's first second pass landed at 100.3% of 50 MB.
 * Over by a little is the safe side (the first encode a few hundredths of a
 * percent lower); under, the first encode goes over the target.
 */
static void test_hour_24fps_60ms(void **state)
{
    int64_t v, a, real = real_overhead(3600, 24, 60, &v, &a), est = estimate(v, a);
    (void)state;
    if (est < real - real / 100 || est > real + real * 8 / 100)
        fail_msg("an hour, %lld frames, %lld packets: estimate %lld, the muxer wrote %lld", (long long)v,
                 (long long)a, (long long)est, (long long)real);
}

/*
 * Shorter films and other packet lengths (Opus frames are 20 to 120 ms by
 * bitrate): never far under what is written (under, the first encode goes
 * over the target), nor much over (a first encode short of the band).
 */
static void test_other_lengths(void **state)
{
    static const struct { double seconds; int fps, audio_ms; } c[] = {
        { 60, 24, 20 }, { 60, 24, 60 }, { 60, 30, 40 }, { 600, 25, 120 }, { 600, 25, 40 }, { 1800, 30, 20 },
        { 120, 24, 0 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        int64_t v, a, real = real_overhead(c[i].seconds, c[i].fps, c[i].audio_ms, &v, &a), est = estimate(v, a);
        if (est < real - real * 3 / 100 - 2048 || est > real + real * 15 / 100 + 4096)
            fail_msg("%.0f s at %d fps, %d ms audio: estimate %lld, the muxer wrote %lld", c[i].seconds, c[i].fps,
                     c[i].audio_ms, (long long)est, (long long)real);
    }
}

/* The index of the film of tests/bench/long.py as measured in its x264 output (fast.mp4). */
static void test_measured_film(void **state)
{
    (void)state;
    /* video stco 240020 + video stsc 633592 + audio stco 240020 */
    assert_true(llabs(sh_mp4_interleave_overhead(86401, 60003) - 1113632) < 1113632 / 200);
    assert_int_equal(sh_mp4_interleave_overhead(0, 60003), 0);
    assert_int_equal(sh_mp4_interleave_overhead(86401, 0), 0);
    /* AV1 has no composition offsets: its estimate is lower by 7 bytes a frame. */
    assert_int_equal(sh_mp4_overhead_correction(1000, 0, "h264") - sh_mp4_overhead_correction(1000, 0, "av1"), 7000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measured_film),
        cmocka_unit_test(test_hour_24fps_60ms),
        cmocka_unit_test(test_other_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
