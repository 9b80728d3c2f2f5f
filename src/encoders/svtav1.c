/*
 * AV1 through SVT-AV1. FFmpeg 5.1's wrapper has no two-pass: one-pass VBR
 * (a bitrate without maxrate makes the wrapper choose rc 1). Its size is
 * 80-111% of the bitrate asked, by content (FACTS: +1-3% on a minute,
 * -17..-20% on ten; its capped CRF is no hard cap and its CBR overshoots),
 * but preset 12's error over the same film is preset 10's within 2% (11 of
 * 12 films and rates measured, 5% at the other) in half the time: so the
 * decode pass runs preset 12 as a probe and the first real encode asks for
 * the bitrate corrected by it (SH_ENC_CAP_PROBE_PASS, docs/ENCODERS.md).
 * undershoot-pct/overshoot-pct 0 would make it land within about 3%, but
 * cost 0.001 SSIM at the same size (about 8% of the bits): not used.
 * It takes the bitrate in bits per second: no time scale needed. It
 * refuses pictures smaller than 64 px either way.
 *
 * Presets: 12 for samples (cfg->fast), 10 for the final encode: on Big Buck
 * Bunny at 88 kb/s, 8 / 10 / 12 measured SSIM 0.900 / 0.896 / 0.887 at 28 /
 * 13 / 7 CPU seconds (x264 medium's two passes: 0.847, 10 s); 8 doubled
 * the time for 0.004 (docs/ENCODERS.md).
 * crf: SVT's 0-63 scale; cfg->crf (x264's scale) is mapped linearly by the
 * fit in docs/ENCODERS.md. The floor's constant quantiser is qp 63.
 * SVT-AV1 logs to stdout/stderr itself, not through av_log: SVT_LOG=0
 * (fatal only; 1, errors, at -vv) unless the user set it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <pthread.h>
#include <stdlib.h>

#include <math.h>

#include <libavutil/common.h>
#include <libavutil/log.h>

#include "encoders/encoder.h"
#include "shrink/shrink.h"

/* svt crf = SVT_CRF_A + SVT_CRF_B * (x264 crf): about the same bitrate (docs/ENCODERS.md). */
#define SVT_CRF_A (-9.95)
#define SVT_CRF_B 1.700

static void quiet_svt(void)
{
    /* 0: fatal only. Its "errors" include refusals shrink reports itself
     * (one line) and works around; -vv (libav at VERBOSE) shows them. */
    setenv("SVT_LOG", av_log_get_level() >= AV_LOG_VERBOSE ? "1" : "0", 0);
}

static int svt_configure(AVCodecContext *c, AVDictionary **opts, const ShEncoderConfig *cfg)
{
    /* Once: the solver opens encoders on several threads, and setenv must
     * not race another thread's getenv (SVT reads it as it opens). */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, quiet_svt);
    if (cfg->qp >= 0) {
        av_dict_set_int(opts, "qp", (int)lrint(FFMIN(cfg->qp, 51) * 63.0 / 51), 0);
        c->bit_rate = 0;
    } else if (cfg->crf > 0) {
        av_dict_set_int(opts, "crf", (int)lrint(av_clipd(SVT_CRF_A + SVT_CRF_B * cfg->crf, 1, 63)), 0);
        c->bit_rate = 0;
    }
    av_dict_set_int(opts, "preset", cfg->fast ? 12 : 10, 0);
    return 0;
}

/*
 * SVT-AV1 1.4's handle init and deinit share library-global state: two
 * sessions closed at once on two threads (the solver measures rungs in
 * parallel) freed the same block twice (ASan: double free in
 * svt_av1_enc_deinit_handle, seen as rare segfaults under load). Opening and
 * closing are taken one at a time; encoding itself still runs in parallel.
 */
static pthread_mutex_t svt_handle_lock = PTHREAD_MUTEX_INITIALIZER;

static int svt_open(ShEncoder *enc, const ShEncoderConfig *cfg)
{
    int ret;
    pthread_mutex_lock(&svt_handle_lock);
    ret = sh_lavc_open(enc, cfg);
    pthread_mutex_unlock(&svt_handle_lock);
    return ret;
}

static void svt_close(ShEncoder *enc)
{
    pthread_mutex_lock(&svt_handle_lock);
    sh_lavc_close(enc);
    pthread_mutex_unlock(&svt_handle_lock);
}

const ShEncoderDesc sh_encoder_svtav1 = {
    .name = "svt-av1",
    .codec = "av1",
    .type = AVMEDIA_TYPE_VIDEO,
    .lavc_name = "libsvtav1",
    /* Its sessions of one configuration write the same sequence header
     * (av1C) whatever the bitrate: their streams join as they are. */
    .caps = SH_ENC_CAP_NO_FORCED_KEY | SH_ENC_CAP_PROBE_PASS | SH_ENC_CAP_EOS_TO_CLOSE | SH_ENC_CAP_JOINS_CHUNKS,
    .containers = "mp4,webm,matroska",
    .min_size = 64,
    /* SVT-AV1 1.4.1 refuses more than 100,000 kb/s ("The target bit rate
     * must be between [0, 100000] kbps") and a frame rate over 240 or
     * under 1/256 (its Q8 rate rounds to 0: "should be greater than 0"). */
    .max_bitrate = 100000000,
    .min_fps = { 1, 256 },
    .max_fps = { 240, 1 },
    .speed_class = SH_SPEED_BALANCED,
    .rel_speed = 0.6,
    .pix_fmt = AV_PIX_FMT_YUV420P,
    .sample_fmt = AV_SAMPLE_FMT_NONE,
    .configure = svt_configure,
    .open = svt_open,
    .send_frame = sh_lavc_send_frame,
    .receive_packet = sh_lavc_receive_packet,
    .close = svt_close,
};
