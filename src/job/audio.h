/*
 * The audio path a job and scale-out's plan share: an encoder and the
 * resample stage that hands it frames of its size, at its rate and layout.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_AUDIO_H
#define SH_JOB_AUDIO_H

#include <stdint.h>

#include <libavutil/rational.h>

#include "encoders/encoder.h"
#include "solver/plan.h"
#include "stages/stage.h"

/*
 * Open desc at the budget's bitrate, channels and frame length, and a
 * resample stage from a stream in in_tb to it. origin (in_tb) becomes the
 * first sample; at most max_samples are let through (the video's end).
 * Errors are logged once, naming who.
 */
int sh_audio_path_open(ShEncoder **enc, ShStage **resample, const ShEncoderDesc *desc,
                       const ShAudioBudget *budget, int sample_rate, AVRational in_tb,
                       int64_t origin, int64_t max_samples, const char *who);

#endif
