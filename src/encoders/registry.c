/*
 * The encoder table: the only place that names encoders. Order is
 * preference: the solver takes the first available one that fits.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include <libavutil/common.h>

#include "common/log.h"
#include "encoders/encoder.h"
#include "shrink/shrink.h"

extern const ShEncoderDesc sh_encoder_x264;
extern const ShEncoderDesc sh_encoder_x265;
extern const ShEncoderDesc sh_encoder_vp9;
extern const ShEncoderDesc sh_encoder_svtav1;
extern const ShEncoderDesc sh_encoder_aom;
extern const ShEncoderDesc sh_encoder_opus;
extern const ShEncoderDesc sh_encoder_gif;
extern const ShEncoderDesc sh_encoder_neural;

/* The most dependable first: where nothing else decides (a format and no
 * --codec), WebM gets VP9 (two-pass, any picture size) before SVT-AV1
 * (one-pass, 64 px at least) and libaom (7x slower than x264 here);
 * docs/ENCODERS.md. */
static const ShEncoderDesc *const encoder_table[] = {
    &sh_encoder_x264,
    &sh_encoder_x265,
    &sh_encoder_vp9,
    &sh_encoder_svtav1,
    &sh_encoder_aom,
    &sh_encoder_opus,
    &sh_encoder_gif,
    &sh_encoder_neural,
    NULL,
};

enum AVPixelFormat sh_encoder_pix_fmt(const ShEncoderDesc *d, int depth)
{
    const AVCodec *c = d->lavc_name && depth > 8 ? avcodec_find_encoder_by_name(d->lavc_name) : NULL;
    for (int i = 0; c && c->pix_fmts && c->pix_fmts[i] != AV_PIX_FMT_NONE; i++)
        if (c->pix_fmts[i] == AV_PIX_FMT_YUV420P10)
            return AV_PIX_FMT_YUV420P10;
    return d->pix_fmt;
}

const ShEncoderDesc *sh_encoder_next(const ShEncoderDesc *prev)
{
    int i = 0;
    if (prev)
        while (encoder_table[i] && encoder_table[i++] != prev)
            ;
    return encoder_table[i];
}

int sh_encoder_matches(const ShEncoderDesc *d, const char *name)
{
    return !strcmp(d->name, name) || (d->lavc_name && !strcmp(d->lavc_name, name)) ||
           (d->codec && !strcmp(d->codec, name));
}

const ShEncoderDesc *sh_encoder_find(const char *name)
{
    /* Exact names first: "av1" is a bitstream two encoders make. */
    for (int i = 0; encoder_table[i]; i++)
        if (!strcmp(encoder_table[i]->name, name) ||
            (encoder_table[i]->lavc_name && !strcmp(encoder_table[i]->lavc_name, name)))
            return encoder_table[i];
    for (int i = 0; encoder_table[i]; i++)
        if (sh_encoder_available(encoder_table[i]) && sh_encoder_matches(encoder_table[i], name))
            return encoder_table[i];
    return NULL;
}

const ShEncoderDesc *sh_encoder_first(enum AVMediaType type, const char *container)
{
    for (int i = 0; encoder_table[i]; i++)
        if (encoder_table[i]->type == type && sh_encoder_available(encoder_table[i]) &&
            sh_encoder_supports_container(encoder_table[i], container))
            return encoder_table[i];
    return NULL;
}

const ShEncoderDesc *sh_encoder_with_caps(unsigned caps)
{
    for (int i = 0; encoder_table[i]; i++)
        if (encoder_table[i]->type == AVMEDIA_TYPE_VIDEO && (encoder_table[i]->caps & caps) == caps &&
            sh_encoder_available(encoder_table[i]))
            return encoder_table[i];
    return NULL;
}

const char *sh_codec_plays_everywhere(void)
{
    const ShEncoderDesc *d = sh_encoder_with_caps(SH_ENC_CAP_PLAYS_EVERYWHERE);
    return d ? d->name : NULL;
}

int sh_encoder_available(const ShEncoderDesc *d)
{
    return !d->lavc_name || avcodec_find_encoder_by_name(d->lavc_name) != NULL;
}

int sh_encoder_supports_container(const ShEncoderDesc *d, const char *container)
{
    size_t n = strlen(container);
    for (const char *p = d->containers; p && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == n && !strncmp(p, container, n))
            return 1;
        p = comma ? comma + 1 : NULL;
    }
    return 0;
}

const char *sh_encoder_default_container(const ShEncoderDesc *d, char *buf, size_t len)
{
    size_t n;
    if (!d->containers || !len)
        return NULL;
    n = strcspn(d->containers, ",");
    snprintf(buf, len, "%.*s", (int)n, d->containers);
    return buf;
}

const char *sh_encoder_names(enum AVMediaType type, char *buf, size_t len)
{
    size_t used = 0;
    if (!len)
        return buf;
    buf[0] = 0;
    for (int i = 0; encoder_table[i]; i++) {
        const ShEncoderDesc *d = encoder_table[i];
        int n;
        if (d->type != type || !sh_encoder_available(d))
            continue;
        n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", d->name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += n;
    }
    return buf;
}

const char *sh_codec_names(char *buf, size_t len)
{
    return sh_encoder_names(AVMEDIA_TYPE_VIDEO, buf, len);
}

int sh_encoder_takes(const ShEncoderDesc *d, int width, int height, AVRational fps,
                     char *why, size_t len)
{
    if (why && len)
        why[0] = 0;
    if (d->min_size > 0 && (width < d->min_size || height < d->min_size)) {
        if (why)
            snprintf(why, len, "%s takes pictures of %dx%d or more", d->name, d->min_size, d->min_size);
        return 0;
    }
    /* (Under min_fps is no refusal: the job repeats the picture at that rate.) */
    if (fps.num > 0 && d->max_fps.num > 0 && av_cmp_q(fps, d->max_fps) > 0) {
        if (why)
            snprintf(why, len, "%s takes at most %.4g fps, not %.4g", d->name, av_q2d(d->max_fps), av_q2d(fps));
        return 0;
    }
    return 1;
}

int64_t sh_encoder_clamp_bitrate(const ShEncoderDesc *d, int64_t bitrate)
{
    return d->max_bitrate > 0 && bitrate > d->max_bitrate ? d->max_bitrate : bitrate;
}

int sh_encoder_speed_ok(const ShEncoderDesc *d, int speed)
{
    /* ShSpeed's values are not in order of patience: rank them. */
    int want = speed == SH_SPEED_FAST ? 0 : speed == SH_SPEED_BEST ? 2 : 1;
    int need = d->speed_class == SH_SPEED_FAST ? 0 : d->speed_class == SH_SPEED_BEST ? 2 : 1;
    return need <= want;
}

int sh_encoder_open(ShEncoder **penc, const ShEncoderDesc *desc, const ShEncoderConfig *cfg)
{
    ShEncoder *enc = av_mallocz(sizeof(*enc));
    int ret;
    if (!enc)
        return AVERROR(ENOMEM);
    enc->desc = desc;
    sh_log_av_error_clear();
    if ((ret = desc->open(enc, cfg)) < 0) {
        /* libav's last error on this thread is the library's own reason. */
        if (desc->rate_floor_msg && strstr(sh_log_av_error(NULL), desc->rate_floor_msg))
            ret = SH_ENC_ERROR_RATE_FLOOR;
        sh_encoder_free(&enc);
        return ret;
    }
    *penc = enc;
    return 0;
}

int sh_encoder_send_frame(ShEncoder *enc, const AVFrame *frame)
{
    return enc->desc->send_frame(enc, frame);
}

int sh_encoder_receive_packet(ShEncoder *enc, AVPacket *pkt)
{
    return enc->desc->receive_packet(enc, pkt);
}

void sh_encoder_free(ShEncoder **penc)
{
    ShEncoder *enc = *penc;
    if (!enc)
        return;
    if (enc->desc->close)
        enc->desc->close(enc);
    avcodec_parameters_free(&enc->par);
    av_freep(penc);
}
