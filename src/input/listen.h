/*
 * What the sound track is: speech, music or silence (metrics/audiokind.h),
 * measured on stretches of it spread over the film.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_LISTEN_H
#define SH_INPUT_LISTEN_H

#include "input/input.h"
#include "metrics/audiokind.h"

/* Up to this many stretches of this many seconds, spread over the range;
 * a range no longer than all of them together is read straight through. */
#define SH_LISTEN_STRETCHES 24
#define SH_LISTEN_SECONDS 2.0

/*
 * Open path again, decode its audio (track: as ShOptions.audio_track) over
 * info's range (range_start, duration: as the job's input describes it),
 * downmixed to mono 16 kHz, into *feat (zeroed first), and say the kind
 * (UNKNOWN when under 2 s of audio could be read). Video is not decoded.
 * Where the file cannot seek, the stretches heard up to there decide.
 * Returns 0 or a negative error (logged); an input without audio is 0 and
 * UNKNOWN.
 */
int sh_input_listen(const char *path, const ShInputInfo *info, int track, ShAudioFeatures *feat,
                    ShAudioKind *kind);

#endif
