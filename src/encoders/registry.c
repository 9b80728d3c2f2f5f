/*
 * The encoder table: the only place that names encoders. Order is
 * preference: the solver takes the first available one that fits.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "encoders/encoder.h"

extern const ShEncoderDesc sh_encoder_x264;
extern const ShEncoderDesc sh_encoder_opus;

static const ShEncoderDesc *const encoder_table[] = {
    &sh_encoder_x264,
    &sh_encoder_opus,
    NULL,
};

const ShEncoderDesc *sh_encoder_next(const ShEncoderDesc *prev)
{
    int i = 0;
    if (prev)
        while (encoder_table[i] && encoder_table[i++] != prev)
            ;
    return encoder_table[i];
}

const ShEncoderDesc *sh_encoder_find(const char *name)
{
    for (int i = 0; encoder_table[i]; i++)
        if (!strcmp(encoder_table[i]->name, name))
            return encoder_table[i];
    return NULL;
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

int sh_encoder_open(ShEncoder **penc, const ShEncoderDesc *desc, const ShEncoderConfig *cfg)
{
    ShEncoder *enc = av_mallocz(sizeof(*enc));
    int ret;
    if (!enc)
        return AVERROR(ENOMEM);
    enc->desc = desc;
    if ((ret = desc->open(enc, cfg)) < 0) {
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
