/*
 * VP9 through libvpx. Two-pass VBR; the first-pass log comes back through
 * stats_out/stats_in (lavc.c keeps it in the file). libavcodec passes
 * libvpx the bitrate in whole kb/s (rounded): the job's time scale applies.
 *
 * Undershoot and overshoot percentages 0, as for libaom (docs/ENCODERS.md).
 * Speed: deadline good with cpu-used 5 for samples (cfg->fast), cpu-used 2
 * for the final encode (pass 1 of libvpx runs fast whatever is asked);
 * row multithreading, for 2 cores.
 * crf: libvpx's 0-63 scale with b:v 0 (constant quality); cfg->crf (x264's
 * scale) is mapped linearly by the fit in docs/ENCODERS.md. The floor's
 * constant quantiser is q 63 (qmin = qmax).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "encoders/encoder.h"
#include "shrink/shrink.h"

/* vp9 crf = VP9_CRF_A + VP9_CRF_B * (x264 crf): about the same bitrate (docs/ENCODERS.md). */
#define VP9_CRF_A (-6.35)
#define VP9_CRF_B 1.656

static int vp9_configure(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg)
{
    c->thread_count = 0;
    sh_lavc_vpx_rate(c, opts, cfg, VP9_CRF_A, VP9_CRF_B);
    av_dict_set(opts, "deadline", "good", 0);
    av_dict_set_int(opts, "cpu-used", cfg->fast ? 5 : 2, 0);
    av_dict_set_int(opts, "row-mt", 1, 0);
    return 0;
}

static const char *const vp9_stats[] = { "", NULL };

const ShEncoderDesc sh_encoder_vp9 = {
    .name = "vp9",
    .codec = "vp9",
    .type = AVMEDIA_TYPE_VIDEO,
    .lavc_name = "libvpx-vp9",
    .caps = SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_WHOLE_KBPS | SH_ENC_CAP_STATS_LAVC,
    .containers = "webm,matroska",
    .stats_files = vp9_stats,
    .speed_class = SH_SPEED_BALANCED,
    .rel_speed = 0.23,
    .max_time_den = 1000000000,      /* libvpx/libaom check g_timebase.den <= 1e9 */
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .sample_fmt = AV_SAMPLE_FMT_NONE,
    .configure = vp9_configure,
    .open = sh_lavc_open,
    .send_frame = sh_lavc_send_frame,
    .receive_packet = sh_lavc_receive_packet,
    .close = sh_lavc_close,
};
