/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/error.h>

#include "common/log.h"
#include "job/audio.h"

int sh_audio_path_open(ShEncoder **enc, ShStage **resample, const ShEncoderDesc *desc,
                       const ShAudioBudget *budget, int sample_rate, AVRational in_tb,
                       int64_t origin, int64_t max_samples, const char *who)
{
    ShEncoderConfig ec = { 0 };
    ShStreamInfo in = { 0 };
    ShStageArgs ra = { 0 };
    int ret;

    ec.sample_rate = sample_rate;
    ec.channels = budget->channels;
    ec.sample_fmt = desc->sample_fmt;
    ec.frame_ms = budget->frame_ms;
    ec.bitrate = budget->bitrate;
    ec.audio_kind = budget->kind;
    ec.qp = -1;
    if ((ret = sh_encoder_open(enc, desc, &ec)) < 0) {
        sh_log(SH_LOG_ERROR, who, "cannot open the %s encoder: %s", desc->name, av_err2str(ret));
        return ret;
    }
    in.type = AVMEDIA_TYPE_AUDIO;
    in.time_base = in_tb;
    ra.sample_rate = sample_rate;
    ra.channels = budget->channels;
    ra.sample_fmt = desc->sample_fmt;
    ra.frame_size = (*enc)->frame_size;
    ra.origin = origin;
    ra.max_samples = max_samples;
    if ((ret = sh_stage_create(resample, "resample", &in, &ra)) < 0) {
        sh_log(SH_LOG_ERROR, who, "cannot set up the audio resampler: %s", av_err2str(ret));
        sh_encoder_free(enc);
    }
    return ret;
}
