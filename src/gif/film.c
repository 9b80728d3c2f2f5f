/*
 * The GIF fitter's film: the decode pass (fps -> scale into the frame
 * cache) and one whole-film encode from the cache through the gif encoder
 * into the muxer.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "common/log.h"
#include "common/temp.h"
#include "gif/fitter.h"
#include "job/source.h"
#include "output/mux.h"

int sh_gif_decode_film(Fitter *f, AVRational cache_fps, int cache_height, Film *film)
{
    ShPaletteJob *ctx = f->ctx;
    const ShInputInfo *info = f->info;
    ShRung rung;
    ShStage *chain[2] = { NULL, NULL };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc(), *tmp2 = av_frame_alloc();
    enum AVMediaType type;
    int ret, ended = 0;

    if (!frame || !tmp || !tmp2) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, cache_height,
                  &film->cache_w, &film->cache_h);
    film->tb = info->video_tb;
    film->origin = info->range_start;
    film->display_h = cache_height;
    film->fps = cache_fps;
    rung = (ShRung){ film->cache_w, film->cache_h, cache_fps };
    /* The job's decode chain: fps, then scale (dropped frames cost nothing). */
    if ((ret = sh_video_chain_create(chain, info, &rung, AV_PIX_FMT_YUV420P)) < 0 ||
        (ret = sh_frame_cache_open(&film->cache, film->cache_w, film->cache_h, AV_PIX_FMT_YUV420P,
                                   GIF_CACHE_MEM)) < 0)
        goto end;
    sh_input_want_audio(ctx->in, 0);
    for (;;) {
        ret = sh_input_read(ctx->in, frame, &type);
        if (ret == AVERROR_EOF && !ended) {
            ended = 1;
            ret = sh_stage_send(chain[0], NULL);
        } else if (ret < 0) {
            break;
        } else if (type != AVMEDIA_TYPE_VIDEO) {
            av_frame_unref(frame);
            continue;
        } else {
            ret = sh_stage_send(chain[0], frame);
            av_frame_unref(frame);
        }
        /* fps -> scale -> cache: each stage holds one frame at most */
        while (ret >= 0 && (ret = sh_stage_receive(chain[0], tmp)) >= 0) {
            if ((ret = sh_stage_send(chain[1], tmp)) >= 0 && (ret = sh_stage_receive(chain[1], tmp2)) >= 0 &&
                (ret = sh_gif_faces_frame(f, tmp2)) >= 0)
                ret = sh_frame_cache_put(film->cache, tmp2);
            av_frame_unref(tmp);
            av_frame_unref(tmp2);
        }
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0 && ret != AVERROR(EAGAIN))
            goto end;
        if ((ret = sh_gif_interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, ctx->input, "decoding for the GIF failed: %s", av_err2str(ret));
        goto end;
    }
    {
        const ShInputStats *st = sh_input_stats(ctx->in);
        if (!sh_frame_cache_count(film->cache)) {
            sh_log(SH_LOG_ERROR, ctx->input, "no video frame could be decoded");
            ret = AVERROR_INVALIDDATA;
            goto end;
        }
        film->duration = (st->end_pts - film->origin) * av_q2d(info->video_tb);
    }
    ret = 0;
end:
    sh_stage_free(&chain[0]);
    sh_stage_free(&chain[1]);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    av_frame_free(&tmp2);
    return ret;
}

/*
 * The encoder's packets into the muxer. A failure of the muxer is the
 * output's (no room, say); it said why.
 */
static int write_packets(ShPaletteJob *ctx, ShEncoder *enc, ShMuxer *mx, AVPacket *pkt)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
        if ((ret = sh_mux_write(mx, 0, pkt)) < 0) {
            ctx->output_failed = 1;
            return ret;
        }
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, ctx->input, "the GIF encoder failed: %s", av_err2str(ret));
    return ret;
}

/*
 * One whole-film encode from the cache into a new temporary file: the
 * palettised frames through the gif encoder (send/receive) into the muxer,
 * as any encode. Each frame lasts until the next one shown, the last until
 * the end of the film.
 */
int sh_gif_encode_film(Fitter *f, Film *film, const Config *c, char *path, size_t path_len,
                       int64_t *bytes, int *colors)
{
    ShPaletteJob *ctx = f->ctx;
    const ShEncoderDesc *d = f->enc;
    ShEncoderConfig ec = { 0 };
    ShEncoder *enc = NULL;
    ShMuxer *mx = NULL;
    Chain ch = { 0 };
    AVFrame *frame = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    uint8_t pal[256 * 3];
    struct stat sb;
    int64_t n = sh_frame_cache_count(film->cache), end_cs = llrint(film->duration * 100);
    int64_t *shown = av_malloc_array(FFMAX(n, 1), sizeof(*shown));
    int64_t *next_cs = av_malloc_array(FFMAX(n, 1), sizeof(*next_cs));
    int npal = 0, ret;

    path[0] = 0;
    if (!frame || !pkt || !shown || !next_cs) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (!d) {
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    /* The cache may hold a faster rate than this encode's (room for a
     * correction upwards): the frames to show are chosen from it. */
    for (int64_t i = 0; i < n; i++)
        shown[i] = -1;
    sh_gif_choose_frames(film->cache, film->origin, film->origin + llrint(film->duration / av_q2d(film->tb)), film->tb,
                  c->fps, shown);
    for (int64_t i = n - 1, next = end_cs; i >= 0; i--) {
        next_cs[i] = next;
        if (shown[i] >= 0)
            next = sh_gif_slot_cs(shown[i], c->fps);
    }
    if (c->k.global) {
        /* The clip palette from frames spread over those shown. */
        if ((ret = sh_gif_clip_palette(film->cache, shown, c, film->cache_w, film->cache_h, film->tb,
                                GIF_PALETTE_FRAMES, f->faces, f->face_outside, pal)) < 0)
            goto end;
        npal = ret;
    }
    if ((ret = sh_gif_chain_open(&ch, c, film->cache_w, film->cache_h, film->tb, f->rotation,
                          c->k.global ? pal : NULL, npal)) < 0)
        goto end;
    ch.faces = f->faces;
    ch.face_outside = f->face_outside;
    *colors = ch.colors;
    ec.width = c->gif_w;
    ec.height = c->gif_h;
    ec.pix_fmt = AV_PIX_FMT_PAL8;
    ec.time_base = (AVRational){ 1, 100 };
    ec.colors = ch.colors;
    ec.palette = c->k.global ? ch.pal : NULL;
    ec.lossy = c->k.lossy;
    if ((ret = sh_encoder_open(&enc, d, &ec)) < 0) {
        sh_log(SH_LOG_ERROR, ctx->input, "cannot open the GIF encoder: %s", av_err2str(ret));
        goto end;
    }
    ctx->output_failed = 1;
    if ((ret = sh_temp_create_beside(path, path_len, ctx->output)) < 0) {
        sh_log(SH_LOG_ERROR, ctx->output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_mux_open(&mx, path, "gif")) < 0 ||
        (ret = sh_mux_add_stream(mx, enc->par, enc->time_base, NULL)) < 0 ||
        (ret = sh_mux_write_header(mx)) < 0)
        goto end;
    ctx->output_failed = 0;
    if ((ret = sh_frame_cache_rewind(film->cache)) < 0)
        goto end;
    for (int64_t i = 0; (ret = sh_frame_cache_get(film->cache, frame)) >= 0; i++) {
        if (shown[i] < 0) {
            av_frame_unref(frame);
            continue;
        }
        ret = sh_gif_chain_scale(&ch, frame);
        av_frame_unref(frame);
        if (ret < 0 || (ret = sh_gif_chain_palette(&ch)) < 0)
            goto end;
        ch.pal8->pts = sh_gif_slot_cs(shown[i], c->fps);
        ch.pal8->pkt_duration = next_cs[i] - ch.pal8->pts;
        if ((ret = sh_encoder_send_frame(enc, ch.pal8)) < 0) {
            sh_log(SH_LOG_ERROR, ctx->input, "the GIF encoder failed: %s", av_err2str(ret));
            goto end;
        }
        if ((ret = write_packets(ctx, enc, mx, pkt)) < 0 || (ret = sh_gif_interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, NULL, "frame cache: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_encoder_send_frame(enc, NULL)) < 0 || (ret = write_packets(ctx, enc, mx, pkt)) < 0)
        goto end;
    ctx->output_failed = 1;
    if ((ret = sh_mux_finish(mx)) < 0)
        goto end;
    if (stat(path, &sb) < 0) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, ctx->output, "writing the GIF failed: %s", av_err2str(ret));
        goto end;
    }
    ctx->output_failed = 0;
    *bytes = sb.st_size;
    ret = 0;
end:
    av_free(shown);
    av_free(next_cs);
    sh_mux_free(&mx);
    sh_encoder_free(&enc);
    sh_gif_chain_free(&ch);
    av_packet_free(&pkt);
    av_frame_free(&frame);
    if (ret < 0 && path[0]) {
        sh_temp_remove(path);
        path[0] = 0;
    }
    return ret;
}

