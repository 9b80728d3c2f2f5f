/*
 * Unit tests: the frame chain of the decode pass, stages -> encoder
 * (src/job/chain.h with the fps and scale stages of src/job/source.h), with
 * a test encoder behind the same ShEncoderDesc as the real ones: it is
 * defined here and opened directly, not registered in the product's table.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/frame.h>

#include "encoders/encoder.h"
#include "job/chain.h"
#include "job/source.h"

#define SRC_FRAMES 50
#define SRC_W 320
#define SRC_H 240
#define MAX_OUT 64
/* The test encoder hands out each frame's packet this many frames late, like
 * a real one with B-frames or lookahead: the drain at the end must get them. */
#define DELAY 2

typedef struct TestEnc {
    int64_t pts[MAX_OUT];
    int n, next, flushed;
} TestEnc;

static int te_open(ShEncoder *enc, const ShEncoderConfig *cfg)
{
    if (cfg->width <= 0 || cfg->height <= 0 || cfg->pix_fmt != AV_PIX_FMT_YUV420P)
        return AVERROR(EINVAL);
    if (!(enc->priv = av_mallocz(sizeof(TestEnc))))
        return AVERROR(ENOMEM);
    enc->time_base = cfg->time_base;
    return 0;
}

static int te_send(ShEncoder *enc, const AVFrame *f)
{
    TestEnc *t = enc->priv;
    if (t->flushed)
        return AVERROR_EOF;
    if (!f) {
        t->flushed = 1;
        return 0;
    }
    if (t->n == MAX_OUT)
        return AVERROR(ENOSPC);
    t->pts[t->n++] = f->pts;
    return 0;
}

static int te_receive(ShEncoder *enc, AVPacket *pkt)
{
    TestEnc *t = enc->priv;
    int ret;
    if (t->next < t->n && (t->flushed || t->n - t->next > DELAY)) {
        if ((ret = av_new_packet(pkt, 100)) < 0)
            return ret;
        pkt->pts = pkt->dts = t->pts[t->next++];
        return 0;
    }
    return t->flushed ? AVERROR_EOF : AVERROR(EAGAIN);
}

static void te_close(ShEncoder *enc)
{
    av_freep(&enc->priv);
}

static const ShEncoderDesc test_encoder = {
    .name = "test", .codec = "rawvideo", .type = AVMEDIA_TYPE_VIDEO,
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .open = te_open, .send_frame = te_send, .receive_packet = te_receive, .close = te_close,
};

typedef struct Out {
    ShEncoder *enc;
    AVPacket *pkt;
    int frames, ends, eof;
    int64_t pts[MAX_OUT];
    int luma[MAX_OUT];
    int w, h, fmt;
    int packets;
    int64_t pkt_pts[MAX_OUT];
} Out;

/* What the decode pass's video sink does: the frame to the encoder, then drain it. */
static int sink(void *opaque, AVFrame *f)
{
    Out *o = opaque;
    int ret;
    if (f) {
        assert_true(o->frames < MAX_OUT);
        o->pts[o->frames] = f->pts;
        o->luma[o->frames] = f->data[0][(f->height / 2) * f->linesize[0] + f->width / 2];
        o->w = f->width;
        o->h = f->height;
        o->fmt = f->format;
        o->frames++;
    } else {
        o->ends++;
    }
    if ((ret = sh_encoder_send_frame(o->enc, f)) < 0)
        return ret;
    while ((ret = sh_encoder_receive_packet(o->enc, o->pkt)) >= 0) {
        assert_true(o->packets < MAX_OUT);
        o->pkt_pts[o->packets++] = o->pkt->pts;
        av_packet_unref(o->pkt);
    }
    if (ret == AVERROR_EOF)
        o->eof++;
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

/* A flat grey frame whose level says which source frame it is. */
static AVFrame *source_frame(int i)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->width = SRC_W;
    f->height = SRC_H;
    f->format = AV_PIX_FMT_YUV420P;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < SRC_H; y++)
        memset(f->data[0] + y * f->linesize[0], 16 + 4 * i, SRC_W);
    for (int p = 1; p < 3; p++)
        for (int y = 0; y < SRC_H / 2; y++)
            memset(f->data[p] + y * f->linesize[p], 128, SRC_W / 2);
    f->pts = i;
    return f;
}

/*
 * 2 s at 25 fps through fps (10 fps) and scale (160x120) into the test
 * encoder: the frames kept are the first of each 1/10 s slot (1/8 slot
 * early counts), their timestamps and pictures kept together, all at the
 * new size, and every packet out after the end of the stream.
 */
static void test_fps_scale_encoder(void **state)
{
    ShInputInfo info = { 0 };
    ShRung rung = { 160, 120, { 10, 1 } };
    ShStage *chain[2] = { NULL, NULL };
    ShEncoderConfig cfg = { 0 };
    AVFrame *tmp = av_frame_alloc();
    Out o = { 0 };
    (void)state;

    info.video_tb = (AVRational){ 1, 25 };
    info.width = SRC_W;
    info.height = SRC_H;
    info.sar = (AVRational){ 1, 1 };
    assert_int_equal(sh_video_chain_create(chain, &info, &rung, AV_PIX_FMT_YUV420P), 0);
    cfg.width = rung.width;
    cfg.height = rung.height;
    cfg.pix_fmt = AV_PIX_FMT_YUV420P;
    cfg.time_base = info.video_tb;
    cfg.frame_rate = rung.fps;
    cfg.qp = -1;
    assert_int_equal(sh_encoder_open(&o.enc, &test_encoder, &cfg), 0);
    assert_non_null(o.pkt = av_packet_alloc());
    assert_non_null(tmp);

    for (int i = 0; i < SRC_FRAMES; i++) {
        AVFrame *f = source_frame(i);
        assert_int_equal(sh_chain_run(chain, 2, f, tmp, "test", sink, &o), 0);
        av_frame_free(&f);
    }
    assert_int_equal(sh_chain_run(chain, 2, NULL, tmp, "test", sink, &o), 0);

    /* Slot k (of 0.1 s) is first reached by source frame ceil(2.5 k - 0.3125). */
    assert_int_equal(o.frames, 20);
    for (int k = 0; k < o.frames; k++) {
        int64_t want = (int64_t)ceil(2.5 * k - 0.3125);
        assert_int_equal(o.pts[k], want);
        assert_int_equal(o.luma[k], 16 + 4 * want);   /* the picture of that time */
    }
    assert_int_equal(o.w, 160);
    assert_int_equal(o.h, 120);
    assert_int_equal(o.fmt, AV_PIX_FMT_YUV420P);
    /* The end once, the encoder drained: one packet per frame, in order. */
    assert_int_equal(o.ends, 1);
    assert_int_equal(o.eof, 1);
    assert_int_equal(o.packets, o.frames);
    for (int k = 0; k < o.packets; k++)
        assert_int_equal(o.pkt_pts[k], o.pts[k]);

    sh_stage_free(&chain[0]);
    sh_stage_free(&chain[1]);
    sh_encoder_free(&o.enc);
    av_packet_free(&o.pkt);
    av_frame_free(&tmp);
}

/* A failing sink (the encoder refuses): the error comes back through the chain. */
static int sink_fails(void *opaque, AVFrame *f)
{
    (void)opaque;
    (void)f;
    return AVERROR(EIO);
}

static void test_sink_error(void **state)
{
    ShInputInfo info = { 0 };
    ShRung rung = { 160, 120, { 10, 1 } };
    ShStage *chain[2] = { NULL, NULL };
    AVFrame *tmp = av_frame_alloc(), *f = source_frame(0);
    (void)state;
    info.video_tb = (AVRational){ 1, 25 };
    info.width = SRC_W;
    info.height = SRC_H;
    info.sar = (AVRational){ 1, 1 };
    assert_int_equal(sh_video_chain_create(chain, &info, &rung, AV_PIX_FMT_YUV420P), 0);
    /* The first frame goes through at once (it opens slot 0), and so does the error. */
    assert_int_equal(sh_chain_run(chain, 2, f, tmp, "test", sink_fails, NULL), AVERROR(EIO));
    /* The end of the stream reaches the sink too, and fails the same way. */
    assert_int_equal(sh_chain_run(chain, 2, NULL, tmp, "test", sink_fails, NULL), AVERROR(EIO));
    sh_stage_free(&chain[0]);
    sh_stage_free(&chain[1]);
    av_frame_free(&f);
    av_frame_free(&tmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fps_scale_encoder),
        cmocka_unit_test(test_sink_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
