/*
 * The GIF stream: the gif encoder into the GIF muxer, for the fitter's
 * sample measurements and the unit tests: frames at centisecond positions
 * in, bytes counted (or written to a file or memory), and what a player
 * shows after each frame.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "common/log.h"
#include "gif/gif.h"
#include "output/gifmux.h"

struct ShGifStream {
    ShEncoder *enc;
    ShGifWriter *writer;
    AVPacket *pkt;
    AVFrame *frame;
    int finished;
    int64_t final_bytes;      /* once finished */
};

int64_t sh_gif_position_cs(int64_t pts, int64_t origin, AVRational tb)
{
    return av_rescale_q_rnd(pts - origin, tb, (AVRational){ 1, 100 }, AV_ROUND_NEAR_INF);
}

int sh_gif_stream_open(ShGifStream **ps, const ShGifStreamConfig *cfg, int fd, ShGifBuf *mem)
{
    const ShEncoderDesc *d = sh_encoder_with_caps(SH_ENC_CAP_PALETTE);
    ShEncoderConfig ec = { 0 };
    ShGifStream *s;
    int ret;

    if (!d)
        return AVERROR_ENCODER_NOT_FOUND;
    if (!(s = av_mallocz(sizeof(*s))))
        return AVERROR(ENOMEM);
    ec.width = cfg->width;
    ec.height = cfg->height;
    ec.pix_fmt = AV_PIX_FMT_PAL8;
    ec.time_base = (AVRational){ 1, 100 };
    ec.colors = cfg->colors;
    ec.palette = cfg->palette;
    ec.lossy = cfg->lossy;
    if (!(s->pkt = av_packet_alloc()) || !(s->frame = av_frame_alloc())) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if ((ret = sh_encoder_open(&s->enc, d, &ec)) < 0 ||
        (ret = sh_gif_writer_open_par(&s->writer, fd, mem, s->enc->par)) < 0)
        goto fail;
    *ps = s;
    return 0;
fail:
    sh_gif_stream_free(&s);
    return ret;
}

/* What the encoder made, into the muxer. */
static int drain(ShGifStream *s)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(s->enc, s->pkt)) >= 0) {
        ret = sh_gif_writer_put_packet(s->writer, s->pkt, s->enc->time_base);
        av_packet_unref(s->pkt);
        if (ret < 0)
            return ret;
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

int sh_gif_stream_put(ShGifStream *s, const AVFrame *f, int64_t pos_cs)
{
    int ret;
    if ((ret = av_frame_ref(s->frame, f)) < 0)
        return ret;
    s->frame->pts = pos_cs;
    s->frame->pkt_duration = 0;   /* the end is set at the finish */
    ret = sh_encoder_send_frame(s->enc, s->frame);
    av_frame_unref(s->frame);
    return ret < 0 ? ret : drain(s);
}

int sh_gif_stream_finish(ShGifStream *s, int64_t end_cs)
{
    int ret;
    if (s->finished)
        return 0;
    s->finished = 1;
    sh_gif_encoder_set_end(s->enc, end_cs);
    if ((ret = sh_encoder_send_frame(s->enc, NULL)) < 0 || (ret = drain(s)) < 0) {
        sh_gif_writer_close(&s->writer);
        return ret;
    }
    s->final_bytes = sh_gif_writer_bytes(s->writer) + 1;   /* and the trailer */
    return sh_gif_writer_close(&s->writer);
}

const uint8_t *sh_gif_stream_canvas(const ShGifStream *s)
{
    return sh_gif_encoder_state(s->enc)->canvas;
}

int64_t sh_gif_stream_bytes(const ShGifStream *s)
{
    const ShGifEncState *st = sh_gif_encoder_state(s->enc);
    if (s->finished)
        return s->final_bytes;
    /* the held image and the trailer are not written yet */
    return (s->writer ? sh_gif_writer_bytes(s->writer) : 0) +
           (st->pending_bytes >= 0 ? st->pending_bytes + 20 : 0);
}

int64_t sh_gif_stream_images(const ShGifStream *s)
{
    return sh_gif_encoder_state(s->enc)->images;
}

void sh_gif_stream_free(ShGifStream **ps)
{
    ShGifStream *s = *ps;
    if (!s)
        return;
    sh_gif_writer_close(&s->writer);
    sh_encoder_free(&s->enc);
    av_packet_free(&s->pkt);
    av_frame_free(&s->frame);
    av_freep(ps);
}
