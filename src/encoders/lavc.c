/*
 * Encoders backed by libavcodec: the descriptor's configure() sets codec
 * options, everything else is shared here.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavcodec/bsf.h>
#include <libavutil/channel_layout.h>

#include "common/log.h"
#include "encoders/encoder.h"

typedef struct LavcPriv {
    AVCodecContext *avctx;
    AVBSFContext *bsf;
    int drained;
} LavcPriv;

int sh_lavc_open(ShEncoder *enc, const ShEncoderConfig *cfg)
{
    const ShEncoderDesc *d = enc->desc;
    const AVCodec *codec = avcodec_find_encoder_by_name(d->lavc_name);
    LavcPriv *p;
    AVCodecContext *c;
    AVDictionary *opts = NULL;
    AVDictionaryEntry *left;
    int ret;

    if (!codec)
        return AVERROR_ENCODER_NOT_FOUND;
    if (!(p = enc->priv = av_mallocz(sizeof(LavcPriv))))
        return AVERROR(ENOMEM);
    if (!(c = p->avctx = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if (d->type == AVMEDIA_TYPE_VIDEO) {
        int k = cfg->time_scale > 1 ? cfg->time_scale : 1;
        c->width = cfg->width;
        c->height = cfg->height;
        c->pix_fmt = cfg->pix_fmt;
        /* Same timestamps, read as k times faster: the encoder sees k times
         * the bitrate over 1/k of the time, which is the same bytes. */
        c->time_base = (AVRational){ cfg->time_base.num, cfg->time_base.den * k };
        c->framerate = av_mul_q(cfg->frame_rate, (AVRational){ k, 1 });
        c->sample_aspect_ratio = (AVRational){ 1, 1 };
        c->color_range = AVCOL_RANGE_MPEG;
        if (cfg->pass == 1)
            c->flags |= AV_CODEC_FLAG_PASS1;
        else if (cfg->pass == 2)
            c->flags |= AV_CODEC_FLAG_PASS2;
    } else {
        c->sample_rate = cfg->sample_rate;
        c->sample_fmt = cfg->sample_fmt;
        av_channel_layout_default(&c->ch_layout, cfg->channels);
        c->time_base = (AVRational){ 1, cfg->sample_rate };
    }
    c->bit_rate = cfg->bitrate * (d->type == AVMEDIA_TYPE_VIDEO && cfg->time_scale > 1 ? cfg->time_scale : 1);
    /* Containers we write keep codec headers out of band. */
    c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if ((ret = d->configure(c, &opts, cfg)) < 0)
        goto end;
    if ((ret = avcodec_open2(c, codec, &opts)) < 0)
        goto end;
    if ((left = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX))) {
        sh_log(SH_LOG_ERROR, NULL, "%s: option %s not accepted", d->lavc_name, left->key);
        ret = AVERROR(EINVAL);
        goto end;
    }
    if (!(enc->par = avcodec_parameters_alloc())) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = avcodec_parameters_from_context(enc->par, c)) < 0)
        goto end;
    if (d->bsf) {
        char spec[256];
        if ((ret = d->bsf(cfg, spec, sizeof(spec))) < 0)
            goto end;
        if (ret > 0) {
            if ((ret = av_bsf_list_parse_str(spec, &p->bsf)) < 0 ||
                (ret = avcodec_parameters_copy(p->bsf->par_in, enc->par)) < 0)
                goto end;
            p->bsf->time_base_in = c->time_base;
            if ((ret = av_bsf_init(p->bsf)) < 0 ||
                (ret = avcodec_parameters_copy(enc->par, p->bsf->par_out)) < 0)
                goto end;
        }
    }
    /* Packets carry the timestamps of the frames: real time, whatever the encoder was told. */
    enc->time_base = d->type == AVMEDIA_TYPE_VIDEO ? cfg->time_base : c->time_base;
    enc->frame_size = (codec->capabilities & AV_CODEC_CAP_VARIABLE_FRAME_SIZE) ? 0 : c->frame_size;
end:
    av_dict_free(&opts);
    return ret;
}

int sh_lavc_send_frame(ShEncoder *enc, const AVFrame *frame)
{
    LavcPriv *p = enc->priv;
    AVFrame *f;
    int ret;
    if (!frame || frame->pict_type == AV_PICTURE_TYPE_NONE)
        return avcodec_send_frame(p->avctx, frame);
    /* A decoded frame keeps the source's picture type, and libx264 (like
     * other lavc encoders) obeys an I: every source keyframe that survives
     * the frame dropping would become a forced IDR (a 0.5 s source GOP cost
     * 4 dB SSIM at 100 kb/s). Frame types are the encoder's to choose. */
    if (!(f = av_frame_clone(frame)))
        return AVERROR(ENOMEM);
    f->pict_type = AV_PICTURE_TYPE_NONE;
    ret = avcodec_send_frame(p->avctx, f);
    av_frame_free(&f);
    return ret;
}

int sh_lavc_receive_packet(ShEncoder *enc, AVPacket *pkt)
{
    LavcPriv *p = enc->priv;
    int ret;
    if (!p->bsf)
        return avcodec_receive_packet(p->avctx, pkt);
    for (;;) {
        ret = av_bsf_receive_packet(p->bsf, pkt);
        if (ret != AVERROR(EAGAIN) || p->drained)
            return ret;
        ret = avcodec_receive_packet(p->avctx, pkt);
        if (ret == AVERROR_EOF) {
            p->drained = 1;
            if ((ret = av_bsf_send_packet(p->bsf, NULL)) < 0)
                return ret;
            continue;
        }
        if (ret < 0)
            return ret;
        if ((ret = av_bsf_send_packet(p->bsf, pkt)) < 0) {
            av_packet_unref(pkt);
            return ret;
        }
    }
}

void sh_lavc_close(ShEncoder *enc)
{
    LavcPriv *p = enc->priv;
    if (p) {
        avcodec_free_context(&p->avctx);
        av_bsf_free(&p->bsf);
    }
    av_freep(&enc->priv);
}
