/*
 * AV1 through libaom. Two-pass VBR with the undershoot and overshoot
 * percentages at 0: by default libaom lands 6-13% over the target, with
 * them at 0 within about 1% (FACTS). libavcodec passes libaom the bitrate
 * in whole kb/s (rounded): the job's time scale applies. The first-pass
 * log comes back through stats_out/stats_in (lavc.c keeps it in the file).
 *
 * Speed: cpu-used 8 for samples (cfg->fast), 6 for the final encode; row
 * multithreading and two tile columns from 256 px wide, for 2 cores.
 * crf: libaom's 0-63 scale with end-usage q (bit_rate 0); cfg->crf (x264's
 * scale) is mapped linearly by the fit in docs/ENCODERS.md. The floor's
 * constant quantiser is q 63 (qmin = qmax).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "encoders/encoder.h"
#include "shrink/shrink.h"

/* aom crf = AOM_CRF_A + AOM_CRF_B * (x264 crf): about the same bitrate (docs/ENCODERS.md). */
#define AOM_CRF_A (-15.36)
#define AOM_CRF_B 1.843

static int aom_configure(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg)
{
    c->thread_count = 0;
    sh_lavc_vpx_rate(c, opts, cfg, AOM_CRF_A, AOM_CRF_B);
    av_dict_set_int(opts, "cpu-used", cfg->fast ? 8 : 6, 0);
    av_dict_set_int(opts, "row-mt", 1, 0);
    if (cfg->width >= 256)
        av_dict_set_int(opts, "tile-columns", 1, 0);
    return 0;
}

static const char *const aom_stats[] = { "", NULL };

const ShEncoderDesc sh_encoder_aom = {
    .name = "aom",
    .codec = "av1",
    .type = AVMEDIA_TYPE_VIDEO,
    .lavc_name = "libaom-av1",
    .caps = SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_WHOLE_KBPS | SH_ENC_CAP_STATS_LAVC,
    .containers = "mp4,webm,matroska",
    .stats_files = aom_stats,
    .speed_class = SH_SPEED_BEST,
    .rel_speed = 0.14,
    .max_time_den = 1000000000,      /* libvpx/libaom check g_timebase.den <= 1e9 */
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .sample_fmt = AV_SAMPLE_FMT_NONE,
    .configure = aom_configure,
    .open = sh_lavc_open,
    .send_frame = sh_lavc_send_frame,
    .receive_packet = sh_lavc_receive_packet,
    .close = sh_lavc_close,
};
