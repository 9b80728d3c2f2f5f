/*
 * The learned codec (experimental, docs/NEURAL.md): a small network fitted
 * to the whole film. Frames are kept as they come (4:4:4, the picture the
 * job chose); at the end of the stream the fit runs and the whole file
 * comes out as one packet, never over max_bytes.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/mem.h>

#include "common/clock.h"
#include "common/log.h"
#include "encoders/encoder.h"
#include "neural/train.h"
#include "shrink/shrink.h"

typedef struct NeuralPriv {
    ShEncoderConfig cfg;
    ShNnFrames frames;
    int cap;
    AVPacket *out;
    int done;
} NeuralPriv;

static void neural_close(ShEncoder *enc)
{
    NeuralPriv *s = enc->priv;
    if (!s)
        return;
    for (int i = 0; i < s->frames.n; i++)
        av_free(s->frames.y[i]);   /* (one allocation holds the three planes) */
    av_free(s->frames.y);
    av_free(s->frames.cb);
    av_free(s->frames.cr);
    av_free(s->frames.t);
    av_packet_free(&s->out);
    av_freep(&enc->priv);
}

static int neural_open(ShEncoder *enc, const ShEncoderConfig *cfg)
{
    NeuralPriv *s;
    if (!(s = enc->priv = av_mallocz(sizeof(*s))))
        return AVERROR(ENOMEM);
    if (cfg->width < 2 || cfg->height < 2 || cfg->width > SH_NN_MAX_SIDE || cfg->height > SH_NN_MAX_SIDE ||
        cfg->max_bytes <= 0 || cfg->duration <= 0)
        return AVERROR(EINVAL);
    s->cfg = *cfg;
    s->frames.width = cfg->width;
    s->frames.height = cfg->height;
    if (!(s->out = av_packet_alloc()) || !(enc->par = avcodec_parameters_alloc()))
        return AVERROR(ENOMEM);
    enc->par->codec_type = AVMEDIA_TYPE_VIDEO;
    enc->par->width = cfg->width;
    enc->par->height = cfg->height;
    enc->time_base = cfg->time_base;
    return 0;
}

static int keep_frame(NeuralPriv *s, const AVFrame *f)
{
    ShNnFrames *d = &s->frames;
    size_t plane = (size_t)d->width * d->height;
    uint8_t *buf;
    if (f->format != AV_PIX_FMT_YUV444P || f->width != d->width || f->height != d->height) {
        sh_log(SH_LOG_ERROR, NULL, "neural: a %dx%d frame of format %d, not the %dx%d yuv444p it was opened for",
               f->width, f->height, f->format, d->width, d->height);
        return AVERROR(EINVAL);
    }
    if (d->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        if (av_reallocp_array(&d->y, cap, sizeof(*d->y)) < 0 || av_reallocp_array(&d->cb, cap, sizeof(*d->cb)) < 0 ||
            av_reallocp_array(&d->cr, cap, sizeof(*d->cr)) < 0 || av_reallocp_array(&d->t, cap, sizeof(*d->t)) < 0) {
            d->n = 0;   /* (the arrays may be gone: nothing to free through them) */
            return AVERROR(ENOMEM);
        }
        s->cap = cap;
    }
    if (!(buf = av_malloc(3 * plane)))
        return AVERROR(ENOMEM);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < d->height; y++)
            memcpy(buf + c * plane + (size_t)y * d->width, f->data[c] + (ptrdiff_t)y * f->linesize[c], d->width);
    d->y[d->n] = buf;
    d->cb[d->n] = buf + plane;
    d->cr[d->n] = buf + 2 * plane;
    d->t[d->n] = f->pts * av_q2d(s->cfg.time_base);
    d->n++;
    return 0;
}

static int fit(ShEncoder *enc, NeuralPriv *s)
{
    const ShEncoderConfig *c = &s->cfg;
    ShNnHeader h = { 0 };
    ShNnFitParams p = { .target_bytes = c->max_bytes, .time_limit = FFMAX(c->deadline - sh_now(), 1), .threads = c->threads,
                        .interrupted = c->interrupted, .progress = c->progress, .opaque = c->progress_opaque };
    ShNnFitStats st;
    uint8_t *file = NULL;
    size_t size = 0;
    double fps = av_q2d(c->frame_rate);
    int ret;

    if (!s->frames.n) {
        sh_log(SH_LOG_ERROR, NULL, "neural: no frame to fit");
        return AVERROR(EINVAL);
    }
    sh_nn_shape(&h.model, c->width, c->height, c->duration, c->max_bytes,
                s->frames.n / FFMAX(c->duration, 0.001), sh_nn_latents_for_time(p.time_limit));
    h.fps = c->frame_rate;
    h.frames = (uint32_t)FFMAX(1, llrint(h.model.duration * fps));
    h.model.duration = h.frames / fps;   /* whole frames: the file's length is theirs */
    h.model.duration = llrint(h.model.duration * 1000) / 1000.0;
    for (int l = 0; l < h.model.levels; l++)
        sh_nn_grid_dims(&h.model.grid[l], c->width, c->height, h.model.duration);
    h.matrix = c->has_colour ? c->colour.space : AVCOL_SPC_UNSPECIFIED;
    h.primaries = c->has_colour ? c->colour.primaries : AVCOL_PRI_UNSPECIFIED;
    h.transfer = c->has_colour ? c->colour.trc : AVCOL_TRC_UNSPECIFIED;
    ret = sh_nn_fit(&h, &s->frames, &p, &file, &size, &st);
    sh_nn_model_free(&h.model);
    if (ret == SH_ERROR_TARGET_TOO_SMALL) {
        sh_log(SH_LOG_VERBOSE, NULL, "neural: the network alone needs %zu bytes", size);
        enc->min_bytes = size;
    }
    if (ret < 0)
        return ret;
    sh_log(SH_LOG_VERBOSE, NULL,
           "neural: %d frames at %dx%d, %d steps in %.1f s, %zu latents (%zu not zero, step %.2f), "
           "%zu weights, lambda %.3g: %zu bytes, luma %.2f dB on the frames it saw",
           s->frames.n, c->width, c->height, st.steps, st.seconds, st.latents, st.nonzero, st.step,
           st.weights, st.lambda, size, st.psnr);
    if ((ret = av_packet_from_data(s->out, file, (int)size)) < 0) {
        av_free(file);
        return ret;
    }
    s->out->pts = s->out->dts = 0;
    s->out->duration = av_rescale_q(h.frames, av_inv_q(h.fps), c->time_base);
    return 0;
}

static int neural_send_frame(ShEncoder *enc, const AVFrame *f)
{
    NeuralPriv *s = enc->priv;
    if (s->done)
        return AVERROR_EOF;
    if (f)
        return keep_frame(s, f);
    s->done = 1;
    return fit(enc, s);
}

static int neural_receive_packet(ShEncoder *enc, AVPacket *pkt)
{
    NeuralPriv *s = enc->priv;
    if (!s->done)
        return AVERROR(EAGAIN);
    if (!s->out->data)
        return AVERROR_EOF;
    av_packet_move_ref(pkt, s->out);
    return 0;
}

const ShEncoderDesc sh_encoder_neural = {
    .name           = "neural",
    .codec          = "shrink-neural",
    .type           = AVMEDIA_TYPE_VIDEO,
    .caps           = SH_ENC_CAP_WHOLE_FILM,
    .containers     = "shn",
    .speed_class    = SH_SPEED_BEST,
    .pix_fmt        = AV_PIX_FMT_YUV444P,
    .open           = neural_open,
    .send_frame     = neural_send_frame,
    .receive_packet = neural_receive_packet,
    .close          = neural_close,
};
