/*
 * HEVC through libx265. Two-pass ABR like x264 (x265 keeps its first-pass
 * log in files beside stats_path, as x264 does). libavcodec hands x265 the
 * bitrate in whole kb/s, truncated: the job's time scale applies
 * (SH_ENC_CAP_WHOLE_KBPS), and the VUI timing is put right afterwards.
 *
 * Presets: samples (cfg->fast) ultrafast, the final encode medium.
 * crf: x265's own crf has nearly x264's scale (the rate halves every ~5.9
 * instead of ~6.4); cfg->crf is taken as x264's and mapped by the fit
 * measured in docs/ENCODERS.md, so the solver's rate model holds.
 * x265 logs to stderr itself, not through av_log: log-level=error keeps it
 * quiet, and info=0 drops its ~2 KB options SEI.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include <libavutil/common.h>

#include "common/log.h"
#include "encoders/encoder.h"
#include "shrink/shrink.h"

/* x265 crf = X265_CRF_A + X265_CRF_B * (x264 crf): about the same bitrate (docs/ENCODERS.md). */
#define X265_CRF_A 0.09
#define X265_CRF_B 0.911

static int x265_configure(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg)
{
    char params[4200];   /* a path (PATH_MAX) and a few options */
    int n;

    if (cfg->qp >= 0) {
        av_dict_set_int(opts, "qp", FFMIN(cfg->qp, 51), 0);
        c->bit_rate = 0;
    } else if (cfg->crf > 0) {
        char v[32];
        snprintf(v, sizeof(v), "%.2f", av_clipd(X265_CRF_A + X265_CRF_B * cfg->crf, 0, 51));
        av_dict_set(opts, "crf", v, 0);
        c->bit_rate = 0;
    }
    n = snprintf(params, sizeof(params), "log-level=error:info=0");
    /* x265 3.5's cuTree writes past its lookahead buffers on tiny pictures
     * (valgrind, 42x24 in the extreme range): no cuTree below 128 px. */
    if (cfg->width < 128 || cfg->height < 128)
        n += snprintf(params + n, sizeof(params) - n, ":cutree=0");
    if (cfg->stats_path && cfg->pass) {
        /* x265-params is ':'-separated: a path with one cannot be said. */
        if (strchr(cfg->stats_path, ':')) {
            sh_log(SH_LOG_ERROR, cfg->stats_path, "x265 cannot take a pass log path with ':' (set TMPDIR)");
            return AVERROR(EINVAL);
        }
        n += snprintf(params + n, sizeof(params) - n, ":pass=%d:stats=%s", cfg->pass, cfg->stats_path);
    }
    if (n < 0 || (size_t)n >= sizeof(params))
        return AVERROR(ENAMETOOLONG);
    av_dict_set(opts, "x265-params", params, 0);
    av_dict_set(opts, "preset", cfg->fast ? "ultrafast" : "medium", 0);
    return 0;
}

/* x265 writes the frame rate it was given into the VPS/VUI timing: with a time scale, put the real one back. */
static int x265_bsf(const ShEncoderConfig *cfg, char *buf, size_t len)
{
    if (cfg->time_scale <= 1 || cfg->frame_rate.num <= 0 || cfg->frame_rate.den <= 0)
        return 0;
    return snprintf(buf, len, "hevc_metadata=tick_rate=%d/%d", cfg->frame_rate.num, cfg->frame_rate.den) < (int)len
           ? 1 : AVERROR(EINVAL);
}

static const char *const x265_stats[] = { "", ".cutree", ".temp", ".cutree.temp", NULL };

const ShEncoderDesc sh_encoder_x265 = {
    .name = "x265",
    .codec = "hevc",
    .type = AVMEDIA_TYPE_VIDEO,
    .lavc_name = "libx265",
    .caps = SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_WHOLE_KBPS | SH_ENC_CAP_ROI,
    .containers = "mp4,mov,matroska",
    /* libx265 3.5 refuses a side under 16 px ("Image size is too small"):
     * the floor of a portrait film is 10x16. */
    .min_size = 16,
    .stats_files = x265_stats,
    .speed_class = SH_SPEED_BEST,
    .rel_speed = 0.45,
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .sample_fmt = AV_SAMPLE_FMT_NONE,
    .configure = x265_configure,
    .bsf = x265_bsf,
    .open = sh_lavc_open,
    .send_frame = sh_lavc_send_frame,
    .receive_packet = sh_lavc_receive_packet,
    .close = sh_lavc_close,
};
