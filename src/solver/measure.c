/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>

#include <libavcodec/avcodec.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "common/clock.h"
#include "common/log.h"
#include "faces/score.h"
#include "input/spool.h"
#include "metrics/temporal.h"
#include "solver/measure.h"
#include "stages/stage.h"

static int drain(ShEncoder *enc, AVPacket *pkt, ShPacketSpool *l)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
        ret = sh_spool_put(l, pkt);
        av_packet_unref(pkt);
        if (ret < 0)
            return ret;
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : ret;
}

/* Encode the sample at the rung: master -> fps -> scale -> encoder -> packets. */
static int encode_sample(const ShSample *s, const ShEncoderDesc *desc, const ShRung *rung,
                         double crf, int fast, double roi, ShPacketSpool *out, AVCodecParameters *par,
                         ShMeasure *m)
{
    ShStreamInfo si = { .type = AVMEDIA_TYPE_VIDEO, .time_base = s->time_base, .width = s->master_w,
                        .height = s->master_h, .pix_fmt = AV_PIX_FMT_YUV420P, .sar = { 1, 1 } };
    ShStageArgs sa = { .fps = rung->fps, .width = rung->width, .height = rung->height,
                       .pix_fmt = desc->pix_fmt };
    ShEncoderConfig cfg = { 0 };
    ShStage *fps = NULL, *scale = NULL;
    ShEncoder *enc = NULL;
    AVFrame *f = av_frame_alloc(), *g = av_frame_alloc(), *h = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    int64_t next = 0;
    int ret, eof = 0, seg = 0;
    double t0, opening = 0;

    cfg.width = rung->width;
    cfg.height = rung->height;
    cfg.pix_fmt = desc->pix_fmt;
    cfg.time_base = s->time_base;
    cfg.frame_rate = rung->fps;
    cfg.qp = -1;
    cfg.crf = crf;
    cfg.fast = fast;
    if (!f || !g || !h || !pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_stage_create(&fps, "fps", &si, &sa)) < 0 ||
        (ret = sh_stage_create(&scale, "scale", &fps->out, &sa)) < 0 ||
        (ret = sh_encoder_open(&enc, desc, &cfg)) < 0)
        goto end;
    t0 = sh_now();
    while (!eof) {
        if (s->interrupted && s->interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        ret = sh_frame_cache_read(s->master, next++, f);
        if (ret == AVERROR_EOF)
            eof = 1;
        else if (ret < 0)
            goto end;
        if ((ret = sh_stage_send(fps, eof ? NULL : f)) < 0)
            goto end;
        av_frame_unref(f);
        while ((ret = sh_stage_receive(fps, g)) >= 0) {
            ret = sh_stage_send(scale, g);
            av_frame_unref(g);
            if (ret < 0 || (ret = sh_stage_receive(scale, h)) < 0)
                goto end;
            /* Each segment starts with a keyframe: the segments are cut
             * together, and the film has one per GOP, not per cut of the
             * sample (film_bytes() adds that share back). x264 takes the
             * request (measured). SVT-AV1 1.4 through FFmpeg 5.1 ignores it
             * and puts no keyframe at a cut either (scd or not: measured),
             * so it predicted across the joins and was scored on a sample
             * far harder for it than the film (Big Buck Bunny: SVT-AV1
             * 0.007 over x264 on joined segments, 0.048 on the whole film):
             * such an encoder gets a new session per segment. */
            h->pict_type = AV_PICTURE_TYPE_NONE;
            if (seg < s->segments && h->pts >= s->seg_start[seg]) {
                if (seg > 0 && (desc->caps & SH_ENC_CAP_NO_FORCED_KEY)) {
                    if ((ret = sh_encoder_send_frame(enc, NULL)) < 0 || (ret = drain(enc, pkt, out)) < 0)
                        goto end;
                    sh_encoder_free(&enc);
                    opening -= sh_now();
                    ret = sh_encoder_open(&enc, desc, &cfg);
                    opening += sh_now();
                    if (ret < 0)
                        goto end;
                }
                h->pict_type = AV_PICTURE_TYPE_I;
                while (seg < s->segments && h->pts >= s->seg_start[seg])
                    seg++;
            }
            if (roi > 0 && s->faces) {
                ShFaceRegion r[SH_FACES_MAX];
                int n = sh_face_track_at(s->faces, h->pts, r, SH_FACES_MAX);
                if ((ret = sh_face_regions_attach(h, r, n, roi)) < 0)
                    goto end;
            }
            ret = sh_encoder_send_frame(enc, h);
            av_frame_unref(h);
            m->enc_frames++;
            if (ret < 0 || (ret = drain(enc, pkt, out)) < 0)
                goto end;
        }
        if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            goto end;
    }
    if ((ret = sh_encoder_send_frame(enc, NULL)) < 0 || (ret = drain(enc, pkt, out)) < 0)
        goto end;
    m->enc_seconds = FFMAX(sh_now() - t0 - opening, 0);
    ret = avcodec_parameters_copy(par, enc->par);
end:
    sh_stage_free(&fps);
    sh_stage_free(&scale);
    sh_encoder_free(&enc);
    av_frame_free(&f);
    av_frame_free(&g);
    av_frame_free(&h);
    av_packet_free(&pkt);
    return ret;
}

typedef struct Scorer {
    const ShSample *s;
    ShStage *up;              /* decoded picture -> evaluation size, gray */
    AVFrame *shown;           /* what a viewer sees now (eval size) */
    AVFrame *ref, *tmp;
    int64_t next_ref;         /* the sample is shared: each scorer keeps its own place */
    int seg;                  /* the segment of the last reference frame scored */
    ShQualityAcc acc, facc;
    ShTemporalAcc tacc;
} Scorer;

/* Inside the faces on ref: 0 and the quality, or 1 when ref has none to score. */
static int score_faces(const Scorer *sc, ShQuality *fq)
{
    ShFaceRegion r[SH_FACES_MAX];
    int n = sc->s->faces ? sh_face_track_at(sc->s->faces, sc->ref->pts, r, SH_FACES_MAX) : 0;
    return n ? sh_quality_regions(sc->ref, sc->shown, r, n, fq) : 1;
}

/* Score reference frames up to (not including) time `until` against the shown picture. */
static int score_until(Scorer *sc, int64_t until)
{
    int ret;
    for (;;) {
        if (!sc->ref->buf[0]) {
            ret = sh_frame_cache_read(sc->s->ref, sc->next_ref, sc->ref);
            if (ret == AVERROR_EOF)
                return 0;
            if (ret < 0)
                return ret;
            sc->next_ref++;
        }
        if (sc->ref->pts >= until)
            return 0;
        if (sc->shown->buf[0]) {
            ShQuality q;
            /* Segments are cut together: no difference across a cut. */
            while (sc->seg + 1 < sc->s->segments && sc->ref->pts >= sc->s->seg_measure[sc->seg + 1]) {
                sc->seg++;
                sh_temporal_break(&sc->tacc);
            }
            if ((ret = sh_quality_frame(sc->ref, sc->shown, &q)) < 0 ||
                (ret = sh_temporal_add(&sc->tacc, sc->ref, sc->shown)) < 0)
                return ret;
            sh_quality_acc_add(&sc->acc, &q);
            if (!score_faces(sc, &q))
                sh_quality_acc_add(&sc->facc, &q);
        }
        av_frame_unref(sc->ref);
    }
}

static int show(Scorer *sc, AVFrame *decoded)
{
    int64_t pts = decoded->best_effort_timestamp;
    int ret;
    /* Everything before this picture's time saw the previous one. */
    if ((ret = score_until(sc, pts)) < 0)
        return ret;
    decoded->pts = pts;
    decoded->sample_aspect_ratio = (AVRational){ 1, 1 };
    if ((ret = sh_stage_send(sc->up, decoded)) < 0)
        return ret;
    av_frame_unref(sc->shown);
    return sh_stage_receive(sc->up, sc->shown);
}

/*
 * The bytes the counted part of the sample would cost inside the film. The
 * warm-ups are not counted, but they hold the keyframe each segment starts
 * with; the film has one every GOP (x264's default: 250 frames), so that
 * share of keyframe cost is added back. Keyframes inside the counted part
 * (real scene cuts) count as they are.
 */
static int64_t film_bytes(const ShSample *s, const ShPacketSpool *pl)
{
    int64_t counted = 0, ncounted = 0, key = 0, nkey = 0, other = 0, nother = 0;
    for (int64_t i = 0; i < sh_spool_count(pl); i++) {
        int64_t pts;
        int flags, size, in_count = 0;
        sh_spool_info(pl, i, &pts, NULL, NULL, &flags, &size);
        for (int k = 0; k < s->segments; k++)
            if (pts >= s->seg_measure[k] && pts < s->seg_end[k])
                in_count = 1;
        if (flags & AV_PKT_FLAG_KEY) {
            key += size;
            nkey++;
        } else {
            other += size;
            nother++;
        }
        if (in_count) {
            counted += size;
            ncounted++;
        }
    }
    if (nkey && nother)
        counted += (int64_t)(ncounted / 250.0 * FFMAX((double)key / nkey - (double)other / nother, 0));
    return counted;
}

int sh_measure_candidate(const ShSample *s, const ShEncoderDesc *desc, const ShRung *rung,
                         double crf, int fast, double roi, ShMeasure *m)
{
    ShPacketSpool *pl = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVCodecParameters *par = avcodec_parameters_alloc();
    AVCodecContext *dec = NULL;
    const AVCodec *codec;
    Scorer sc = { .s = s };
    AVFrame *d = av_frame_alloc();
    ShStreamInfo ui = { .type = AVMEDIA_TYPE_VIDEO, .time_base = s->time_base,
                        .width = rung->width, .height = rung->height, .sar = { 1, 1 } };
    ShStageArgs ua = { .width = s->eval_w, .height = s->eval_h, .pix_fmt = AV_PIX_FMT_GRAY8 };
    int ret;

    sc.shown = av_frame_alloc();
    sc.ref = av_frame_alloc();
    if (!par || !d || !sc.shown || !sc.ref) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (!pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* A sample's packets stay in memory: a few hundred frames at most. */
    if ((ret = sh_spool_open(&pl, SIZE_MAX)) < 0 ||
        (ret = encode_sample(s, desc, rung, crf, fast, roi, pl, par, m)) < 0)
        goto end;
    codec = avcodec_find_decoder(par->codec_id);
    if (!codec || !(dec = avcodec_alloc_context3(codec))) {
        ret = AVERROR_DECODER_NOT_FOUND;
        goto end;
    }
    if ((ret = avcodec_parameters_to_context(dec, par)) < 0)
        goto end;
    dec->pkt_timebase = s->time_base;
    dec->thread_count = 1;
    if ((ret = avcodec_open2(dec, codec, NULL)) < 0 ||
        (ret = sh_stage_create(&sc.up, "scale", &ui, &ua)) < 0)
        goto end;
    for (int64_t i = 0; i <= sh_spool_count(pl); i++) {
        int last = i == sh_spool_count(pl);
        if (!last && (ret = sh_spool_get(pl, pkt)) < 0)
            goto end;
        ret = avcodec_send_packet(dec, last ? NULL : pkt);
        av_packet_unref(pkt);
        if (ret < 0)
            goto end;
        while ((ret = avcodec_receive_frame(dec, d)) >= 0) {
            ret = show(&sc, d);
            av_frame_unref(d);
            if (ret < 0)
                goto end;
        }
        if (ret != AVERROR(EAGAIN) && ret != AVERROR_EOF)
            goto end;
    }
    /* The last picture stays up to the end of the sample. */
    if ((ret = score_until(&sc, INT64_MAX)) < 0 ||
        (ret = sh_quality_acc_result(&sc.acc, &m->q)) < 0)
        goto end;
    m->face_frames = sc.facc.frames;
    if (sc.facc.frames)
        sh_quality_acc_result(&sc.facc, &m->face);
    /* A sample of single frames has no differences: nothing moves, nothing judders. */
    if (sh_temporal_result(&sc.tacc, &m->tssim) < 0)
        m->tssim = 1;
    m->crf = crf;
    /* At least a bit a second: the rate models take its logarithm. */
    m->bps = FFMAX(film_bytes(s, pl) * 8.0 / s->seconds / s->difficulty, 1);
end:
    sh_spool_free(&pl);
    av_packet_free(&pkt);
    avcodec_parameters_free(&par);
    avcodec_free_context(&dec);
    sh_stage_free(&sc.up);
    sh_temporal_free(&sc.tacc);
    av_frame_free(&sc.shown);
    av_frame_free(&sc.ref);
    av_frame_free(&d);
    return ret;
}
