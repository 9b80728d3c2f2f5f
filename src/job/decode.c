/*
 * shrink decode: the learned codec's file rendered to a file a player takes
 * (docs/NEURAL.md). The rendering is plain C (src/neural/decode.c); an
 * .mp4 goes through the x264 encoder and the muxer every job uses.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/file.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/temp.h"
#include "encoders/encoder.h"
#include "job/job.h"
#include "neural/decode.h"
#include "output/format.h"
#include "output/mux.h"
#include "shrink/neural.h"

typedef struct Out {
    FILE *y4m;
    ShEncoder *enc;
    ShMuxer *mx;
    AVPacket *pkt;
    int64_t frame_ticks;      /* a frame's duration in the encoder's time base */
} Out;

static int drain(Out *o)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(o->enc, o->pkt)) >= 0) {
        /* every frame lasts 1/fps: said, or the muxer cannot know the last one's
         * and the file is a frame short */
        if (o->pkt->duration <= 0)
            o->pkt->duration = o->frame_ticks;
        if ((ret = sh_mux_write(o->mx, 0, o->pkt)) < 0)
            return ret;
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

/* What out's extension asks for: 1 a .y4m, 0 a container x264 goes in (*fmt), or <0 neither. */
static int out_kind(const char *ext, const ShFormat **fmt)
{
    *fmt = NULL;
    if (!strcasecmp(ext, "y4m"))
        return 1;
    *fmt = sh_format_find(ext);
    if (!*fmt || !strcmp((*fmt)->name, "gif") || !strcmp((*fmt)->name, "shn") || !strcmp((*fmt)->name, "webm"))
        return -1;
    return 0;
}

static int open_out(Out *o, const char *path, const char *ext, const ShNnHeader *h)
{
    const ShFormat *fmt;
    ShEncoderConfig cfg = { 0 };
    const ShEncoderDesc *d;
    int ret;
    if (out_kind(ext, &fmt) == 1) {
        if (!(o->y4m = fopen(path, "wb")))
            return AVERROR(errno);
        fprintf(o->y4m, "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg XYSCSS=420JPEG XCOLORRANGE=LIMITED\n",
                h->model.width, h->model.height, h->fps.num, h->fps.den);
        return 0;
    }
    if (!fmt || !(d = sh_encoder_find("x264"))) {
        sh_log(SH_LOG_ERROR, path, "no x264 encoder for .%s", ext);
        return AVERROR_ENCODER_NOT_FOUND;
    }
    cfg.width = h->model.width;
    cfg.height = h->model.height;
    cfg.pix_fmt = AV_PIX_FMT_YUV420P;
    cfg.time_base = av_inv_q(h->fps);
    cfg.frame_rate = h->fps;
    cfg.qp = -1;
    cfg.crf = 12;
    cfg.has_colour = 1;
    cfg.colour = (ShColour){ h->primaries, h->transfer, h->matrix, AVCOL_RANGE_MPEG, AVCHROMA_LOC_LEFT };
    if ((ret = sh_encoder_open(&o->enc, d, &cfg)) < 0 || (ret = sh_mux_open(&o->mx, path, fmt->muxer)) < 0 ||
        (ret = sh_mux_add_stream(o->mx, o->enc->par, o->enc->time_base, NULL)) < 0 ||
        (ret = sh_mux_write_header(o->mx)) < 0)
        return ret;
    if (!(o->pkt = av_packet_alloc()))
        return AVERROR(ENOMEM);
    o->frame_ticks = FFMAX(1, av_rescale_q(1, av_inv_q(h->fps), o->enc->time_base));
    return 0;
}

static int put(Out *o, const AVFrame *f)
{
    int ret;
    if (o->y4m) {
        if (fputs("FRAME\n", o->y4m) == EOF)
            return AVERROR(EIO);
        for (int c = 0; c < 3; c++) {
            int w = c ? f->width / 2 : f->width, hh = c ? f->height / 2 : f->height;
            for (int y = 0; y < hh; y++)
                if (fwrite(f->data[c] + (ptrdiff_t)y * f->linesize[c], 1, w, o->y4m) != (size_t)w)
                    return AVERROR(EIO);
        }
        return 0;
    }
    if ((ret = sh_encoder_send_frame(o->enc, f)) < 0)
        return ret;
    return drain(o);
}

static int close_out(Out *o)
{
    int ret = 0;
    if (o->y4m) {
        if (fflush(o->y4m) || fsync(fileno(o->y4m)))
            ret = AVERROR(errno ? errno : EIO);
        if (fclose(o->y4m) && !ret)
            ret = AVERROR(errno);
        o->y4m = NULL;
        return ret;
    }
    if ((ret = sh_encoder_send_frame(o->enc, NULL)) < 0 || (ret = drain(o)) < 0)
        return ret;
    return sh_mux_finish(o->mx);
}

static void free_out(Out *o)
{
    if (o->y4m)
        fclose(o->y4m);
    sh_encoder_free(&o->enc);
    sh_mux_free(&o->mx);
    av_packet_free(&o->pkt);
}

int sh_neural_decode_file(const char *in, const char *out, int force, ShDecodeResult *r)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    ShNnDecoder *d = NULL;
    AVFrame *f = av_frame_alloc();
    Out o = { 0 };
    char tmp[4096] = "", why[200] = "";
    const char *ext = strrchr(out, '.');
    struct stat si, so;
    double t0 = sh_now();
    int ret;

    memset(r, 0, sizeof(*r));
    sh_log_install_av_bridge();
    if (!f)
        return AVERROR(ENOMEM);
    if (!ext || strchr(ext, '/')) {
        sh_log(SH_LOG_ERROR, out, "no extension to say what to write (.y4m, .mp4, .mkv, .mov)");
        ret = SH_ERROR_BAD_OPTION;
        goto end;
    }
    {
        const ShFormat *fmt;
        if (out_kind(ext + 1, &fmt) < 0) {
            sh_log(SH_LOG_ERROR, out, "decode writes .y4m, .mp4, .mkv or .mov, not %s", ext);
            ret = SH_ERROR_BAD_OPTION;
            goto end;
        }
    }
    if (stat(in, &si) == 0 && stat(out, &so) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
        sh_log(SH_LOG_ERROR, out, "is the input: never written over");
        ret = SH_ERROR_SAME_FILE;
        goto end;
    }
    if (!force && access(out, F_OK) == 0) {
        sh_log(SH_LOG_ERROR, out, "exists (--force replaces it)");
        ret = SH_ERROR_EXISTS;
        goto end;
    }
    if ((ret = av_file_map(in, &buf, &size, 0, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, in, "cannot read: %s", av_err2str(ret));
        r->input_error = 1;
        goto end;
    }
    if ((ret = sh_nn_decoder_open(&d, buf, size, 2, why, sizeof(why))) < 0) {
        sh_log(SH_LOG_ERROR, in, "%s", why);
        r->input_error = 1;
        goto end;
    }
    {
        const ShNnHeader *h = sh_nn_decoder_header(d);
        double render = 0;
        if ((ret = sh_temp_create_beside(tmp, sizeof(tmp), out)) < 0 || (ret = open_out(&o, tmp, ext + 1, h)) < 0)
            goto end;
        for (uint32_t i = 0; i < h->frames; i++) {
            double t = sh_now();
            if ((ret = sh_job_interrupted() ? SH_ERROR_INTERRUPTED : 0) < 0 || (ret = sh_nn_decoder_frame(d, i, f)) < 0)
                goto end;
            render += sh_now() - t;
            if ((ret = put(&o, f)) < 0)
                goto end;
        }
        if ((ret = close_out(&o)) < 0)
            goto end;
        r->width = h->model.width;
        r->height = h->model.height;
        r->fps = av_q2d(h->fps);
        r->frames = h->frames;
        r->duration = h->frames / r->fps;
        r->render_seconds = render;
    }
    if (stat(tmp, &so) == 0)
        r->bytes = so.st_size;
    if ((ret = sh_temp_commit(tmp, out, force, "decoding")) < 0)
        goto end;
    tmp[0] = 0;
    r->seconds = sh_now() - t0;
    ret = 0;
end:
    /* (what was found above was said there) */
    if (ret < 0 && !r->input_error && ret != SH_ERROR_BAD_OPTION && ret != SH_ERROR_EXISTS &&
        ret != SH_ERROR_SAME_FILE && ret != SH_ERROR_INTERRUPTED && ret != AVERROR_ENCODER_NOT_FOUND)
        sh_log(SH_LOG_ERROR, out, "decode failed: %s", av_err2str(ret));
    free_out(&o);
    if (tmp[0])
        sh_temp_remove(tmp);
    if (buf)
        av_file_unmap(buf, size);
    sh_nn_decoder_free(&d);
    av_frame_free(&f);
    return ret;
}
