/*
 * Encoders backed by libavcodec: the descriptor's configure() sets codec
 * options, everything else is shared here.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/bsf.h>
#include <libavutil/channel_layout.h>
#include <libavutil/file.h>

#include "common/log.h"
#include "encoders/encoder.h"

typedef struct LavcPriv {
    AVCodecContext *avctx;
    AVBSFContext *bsf;
    int drained;
    int ended;                /* the end of the stream was sent */
    int64_t frames;           /* frames sent */
    char *stats_path;         /* SH_ENC_CAP_STATS_LAVC, pass 1: where stats_out goes */
    char *stats_in;           /* pass 2: the log, which the context only borrows */
    int64_t *sent;            /* video: the pts of every frame sent, in order */
    size_t nsent, sent_alloc;
} LavcPriv;

/* Remember a frame's pts, so that its packet gets it back exactly. */
static int remember_pts(LavcPriv *p, const AVFrame *f)
{
    if (!f || f->pts == AV_NOPTS_VALUE || p->avctx->codec_type != AVMEDIA_TYPE_VIDEO)
        return 0;
    if (p->nsent == p->sent_alloc) {
        size_t n = p->sent_alloc ? p->sent_alloc * 2 : 1024;
        void *a = av_realloc_array(p->sent, n, sizeof(*p->sent));
        if (!a)
            return AVERROR(ENOMEM);
        p->sent = a;
        p->sent_alloc = n;
    }
    p->sent[p->nsent++] = f->pts;
    return 0;
}

/*
 * libvpx and libaom keep time in their own units (1/10^7 s) and hand back
 * timestamps rounded through them: one tick off, and the job no longer finds
 * the frame a packet belongs to (nor its duration, so a film at one frame a
 * minute ended early). Put back the pts of the nearest frame sent; x264's
 * and x265's come back exact and are left as they are.
 */
static void restore_pts(const LavcPriv *p, AVPacket *pkt)
{
    size_t lo = 0, hi = p->nsent;
    int64_t best;
    if (!p->nsent || pkt->pts == AV_NOPTS_VALUE)
        return;
    while (lo < hi) {           /* the first sent pts >= pkt->pts */
        size_t mid = lo + (hi - lo) / 2;
        if (p->sent[mid] < pkt->pts)
            lo = mid + 1;
        else
            hi = mid;
    }
    best = lo < p->nsent ? p->sent[lo] : p->sent[p->nsent - 1];
    if (lo > 0 && (lo == p->nsent || pkt->pts - p->sent[lo - 1] < best - pkt->pts))
        best = p->sent[lo - 1];
    if (best == pkt->pts)
        return;
    if (pkt->dts == pkt->pts)   /* no reordering: dts follows */
        pkt->dts = best;
    pkt->pts = best;
}

/*
 * libvpx and libaom hand the first-pass log to the caller (stats_out,
 * complete once the encoder is drained) and take it back as stats_in. It
 * goes through the job's pass log file like x264's, so the job handles every
 * two-pass encoder the same way and the log is removed with its directory.
 */
static int stats_load(LavcPriv *p, const char *path)
{
    uint8_t *buf;
    size_t size;
    int ret = av_file_map(path, &buf, &size, 0, NULL);
    if (ret < 0) {
        sh_log(SH_LOG_ERROR, path, "cannot read the first-pass log: %s", av_err2str(ret));
        return ret;
    }
    if (!(p->stats_in = av_malloc(size + 1))) {
        av_file_unmap(buf, size);
        return AVERROR(ENOMEM);
    }
    memcpy(p->stats_in, buf, size);
    p->stats_in[size] = 0;
    av_file_unmap(buf, size);
    p->avctx->stats_in = p->stats_in;
    sh_log(SH_LOG_DEBUG, path, "first-pass log: %zu bytes", size);
    return 0;
}

static int stats_save(LavcPriv *p)
{
    const char *s = p->avctx->stats_out;
    FILE *f;
    int ret = 0;
    if (!p->stats_path)
        return 0;
    if (!(f = fopen(p->stats_path, "w")) ||
        (s && fputs(s, f) == EOF))
        ret = AVERROR(errno ? errno : EIO);
    if (f && fclose(f) && !ret)
        ret = AVERROR(errno ? errno : EIO);
    if (ret < 0)
        sh_log(SH_LOG_ERROR, p->stats_path, "cannot write the first-pass log: %s", av_err2str(ret));
    sh_log(SH_LOG_DEBUG, p->stats_path, "first-pass log written: %zu bytes", s ? strlen(s) : 0);
    av_freep(&p->stats_path);   /* once */
    return ret;
}

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
        /* libvpx and libaom take ticks_per_frame as each frame's duration,
         * and a pass-1 log of one-tick frames (1/12800 s, say) leaves pass 2
         * no bits at all: one frame of the nominal rate, in ticks. */
        if (cfg->frame_rate.num > 0 && cfg->frame_rate.den > 0)
            c->ticks_per_frame = (int)FFMAX(1, av_rescale_q(1, av_inv_q(cfg->frame_rate), cfg->time_base));
        c->sample_aspect_ratio = (AVRational){ 1, 1 };
        c->color_range = AVCOL_RANGE_MPEG;
        if (cfg->has_colour) {
            /* The source's colour, or what the stages made of it (tone mapping):
             * without tags players guess, and guess BT.601 or BT.709 wrong. */
            c->color_primaries = cfg->colour.primaries;
            c->color_trc = cfg->colour.trc;
            c->colorspace = cfg->colour.space;
            c->chroma_sample_location = cfg->colour.chroma_loc;
        }
        if (cfg->pass == 1)
            c->flags |= AV_CODEC_FLAG_PASS1;
        else if (cfg->pass == 2)
            c->flags |= AV_CODEC_FLAG_PASS2;
        if ((d->caps & SH_ENC_CAP_STATS_LAVC) && cfg->pass && cfg->stats_path) {
            if (cfg->pass == 1 && !(p->stats_path = av_strdup(cfg->stats_path)))
                return AVERROR(ENOMEM);
            if (cfg->pass == 2 && (ret = stats_load(p, cfg->stats_path)) < 0)
                return ret;
        }
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

/*
 * SVT-AV1 1.4 cannot end a stream that has no frame: after the EOS its
 * get_packet waits forever, and closing without an EOS waits too. An
 * encoder flagged SH_ENC_CAP_EOS_TO_CLOSE that must end before any frame
 * came (an interrupt at once, a source with no decodable picture) gets one
 * black frame first; what it makes of it is never muxed.
 */
static int send_placeholder(LavcPriv *p)
{
    AVCodecContext *c = p->avctx;
    AVFrame *f = av_frame_alloc();
    int ret;
    if (!f)
        return AVERROR(ENOMEM);
    f->format = c->pix_fmt;
    f->width = c->width;
    f->height = c->height;
    f->pts = 0;
    if ((ret = av_frame_get_buffer(f, 0)) >= 0) {
        for (int i = 0; i < 4 && f->data[i]; i++)
            memset(f->data[i], i ? 128 : 16, (size_t)f->linesize[i] * (i ? AV_CEIL_RSHIFT(f->height, 1) : f->height));
        ret = avcodec_send_frame(c, f);
    }
    av_frame_free(&f);
    return ret;
}

int sh_lavc_send_frame(ShEncoder *enc, const AVFrame *frame)
{
    LavcPriv *p = enc->priv;
    AVFrame *f;
    int ret;
    if (!frame && !p->frames && (enc->desc->caps & SH_ENC_CAP_EOS_TO_CLOSE) &&
        p->avctx->codec_type == AVMEDIA_TYPE_VIDEO && (ret = send_placeholder(p)) < 0)
        return ret;
    if ((ret = remember_pts(p, frame)) < 0)
        return ret;
    p->ended |= !frame;
    p->frames += !!frame;
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
    if (!p->bsf) {
        ret = avcodec_receive_packet(p->avctx, pkt);
        if (ret == AVERROR_EOF && p->stats_path) {
            int r2 = stats_save(p);
            return r2 < 0 ? r2 : ret;
        }
        if (ret >= 0)
            restore_pts(p, pkt);
        return ret;
    }
    for (;;) {
        ret = av_bsf_receive_packet(p->bsf, pkt);
        if (ret >= 0)
            restore_pts(p, pkt);
        if (ret != AVERROR(EAGAIN) || p->drained)
            return ret;
        ret = avcodec_receive_packet(p->avctx, pkt);
        if (ret == AVERROR_EOF) {
            p->drained = 1;
            if (p->stats_path && (ret = stats_save(p)) < 0)
                return ret;
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
    if (p && p->avctx && !p->ended && (enc->desc->caps & SH_ENC_CAP_EOS_TO_CLOSE) &&
        avcodec_is_open(p->avctx)) {
        /* Closed mid-stream (an interrupt, an error elsewhere): end the stream
         * and drop what is left, or the library's close never returns. */
        AVPacket *pkt = av_packet_alloc();
        if (pkt && sh_lavc_send_frame(enc, NULL) >= 0)
            while (avcodec_receive_packet(p->avctx, pkt) >= 0)
                av_packet_unref(pkt);
        av_packet_free(&pkt);
    }
    if (p) {
        avcodec_free_context(&p->avctx);
        av_bsf_free(&p->bsf);
        av_freep(&p->stats_path);
        av_freep(&p->stats_in);
        av_freep(&p->sent);
    }
    av_freep(&enc->priv);
}

void sh_lavc_vpx_rate(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg,
                      double crf_a, double crf_b)
{
    if (cfg->qp >= 0) {
        int q = (int)lrint(FFMIN(cfg->qp, 51) * 63.0 / 51);
        c->qmin = c->qmax = q;
        av_dict_set_int(opts, "crf", q, 0);
        c->bit_rate = 0;
    } else if (cfg->crf > 0) {
        av_dict_set_int(opts, "crf", (int)lrint(av_clipd(crf_a + crf_b * cfg->crf, 0, 63)), 0);
        c->bit_rate = 0;
    } else {
        /* On 12 s of Sintel at 360p libvpx's defaults landed at 99.0% and
         * 96.0% of 200 and 60 kb/s, with these at 0 at 99.8% and 101.4%;
         * libaom's defaults land 6-13% over (FACTS), with 0 within ~1%. */
        av_dict_set_int(opts, "undershoot-pct", 0, 0);
        av_dict_set_int(opts, "overshoot-pct", 0, 0);
    }
}
