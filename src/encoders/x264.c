/*
 * H.264 through libx264. Two-pass ABR: the only x264 mode that lands on a
 * size (FACTS: +-0.3% on long clips, +-2% on a minute). libavcodec hands
 * x264 the bitrate in whole kb/s, so the job scales time for a finer step
 * (SH_ENC_CAP_WHOLE_KBPS) and the SPS timing is put right afterwards.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>

#include <libavutil/opt.h>

#include "encoders/encoder.h"
#include "shrink/shrink.h"

static int x264_configure(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg)
{
    c->thread_count = 0;
    if (cfg->qp >= 0) {
        av_dict_set_int(opts, "qp", cfg->qp, 0);
        c->bit_rate = 0;
    } else if (cfg->crf > 0) {
        char v[32];
        snprintf(v, sizeof(v), "%.2f", cfg->crf);
        av_dict_set(opts, "crf", v, 0);
        c->bit_rate = 0;
    }
    if (cfg->stats_path && cfg->pass)
        av_dict_set(opts, "passlogfile", cfg->stats_path, 0);
    /* Samples are measured with a quick preset: the ranking of candidates
     * holds across presets, and the solver calibrates the rate difference. */
    av_dict_set(opts, "preset", cfg->fast ? "veryfast" : "medium", 0);
    /* The lookahead holds ~3.3 bytes a pixel per frame (measured: 245 MB for
     * 30 frames of 1080x2280): at medium's 40 frames a 1080p or larger
     * picture alone would break the job's 512 MiB bound, so above a
     * megapixel it gets 48 MiB. Up to a megapixel (720p) the rest of the job
     * is small enough for 128 MiB: medium's full 40 frames, which its
     * macroblock tree needs (16 frames at 720p cost Sintel at 400 kb/s
     * SSIM; docs/ARCHITECTURE.md). */
    if (cfg->width > 0 && cfg->height > 0) {
        int64_t pixels = (int64_t)cfg->width * cfg->height;
        int64_t frames = ((int64_t)(pixels <= 1000000 ? 128 : 48) << 20) / (pixels * 33 / 10);
        if (frames < (cfg->fast ? 10 : 40))   /* the presets' own lookahead */
            av_dict_set_int(opts, "rc-lookahead", FFMAX(frames, 4), 0);
    }
    if (cfg->time_scale > 1 && cfg->pass) {
        /* With time scaled k-fold, two things in x264's rate control scale
         * with it that must not: its tolerance buffer (2 x ratetol x bitrate
         * bits, k times too loose) and, in pass 2, its long-term correction,
         * which waits for the first second of frames (k seconds). Both left
         * as they were, a clip of a few seconds landed up to 28% over at
         * 20 kb/s. So: ratetol / k, and pass 2 gets the real frame rate (it
         * plans from pass 1's log and the time stamps, not from the rate;
         * pass 1's one-pass ABR needs rate and bitrate on one time scale). */
        char v[48];
        snprintf(v, sizeof(v), "ratetol=%.6f", 1.0 / cfg->time_scale);
        av_dict_set(opts, "x264-params", v, 0);
        if (cfg->pass == 2 && cfg->frame_rate.num > 0 && cfg->frame_rate.den > 0)
            c->framerate = cfg->frame_rate;
    }
    return 0;
}

/*
 * x264 writes its version and every option as an SEI (~650 B): in a file of a
 * few KB that is a sixth of it, and no decoder needs it, so SEI NAL units
 * (type 6) go; x264 makes no other SEI in this configuration (no HRD, no
 * intra refresh, no open GOP). It also writes the time base it was given into
 * the SPS timing info: with a time scale, put the real one back.
 */
static int x264_bsf(const ShEncoderConfig *cfg, char *buf, size_t len)
{
    int n = snprintf(buf, len, "filter_units=remove_types=6");
    if (cfg->time_scale > 1 && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, ",h264_metadata=tick_rate=%d/%d", 2 * cfg->time_base.den, cfg->time_base.num);
    return n >= 0 && (size_t)n < len ? 1 : AVERROR(EINVAL);
}

static const char *const x264_stats[] = { "", ".mbtree", ".temp", ".mbtree.temp", NULL };

const ShEncoderDesc sh_encoder_x264 = {
    .name = "x264",
    .codec = "h264",
    .type = AVMEDIA_TYPE_VIDEO,
    .lavc_name = "libx264",
    .caps = SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_WHOLE_KBPS | SH_ENC_CAP_PLAYS_EVERYWHERE |
            SH_ENC_CAP_JOINS_CHUNKS | SH_ENC_CAP_ROI,
    .containers = "mp4,mov,matroska",
    /* ratecontrol.c: "requested bitrate is too low. estimated minimum is N kbps" */
    .rate_floor_msg = "bitrate is too low",
    .stats_files = x264_stats,
    .speed_class = SH_SPEED_FAST,
    .rel_speed = 1.0,
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .sample_fmt = AV_SAMPLE_FMT_NONE,
    .configure = x264_configure,
    .bsf = x264_bsf,
    .open = sh_lavc_open,
    .send_frame = sh_lavc_send_frame,
    .receive_packet = sh_lavc_receive_packet,
    .close = sh_lavc_close,
};
