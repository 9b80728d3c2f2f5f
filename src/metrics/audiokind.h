/*
 * What a sound track is (speech, music, silence), from classic cheap
 * features of mono samples at 16 kHz in 20 ms frames, over 1 s windows:
 *   - silence: frames under SH_AK_SILENCE_DB dBFS (RMS);
 *   - the low short-time-energy ratio (LSTER): the share of a window's
 *     frames whose energy is under half the window's mean. Speech has a gap
 *     between syllables several times a second; music rarely falls silent;
 *   - the high zero-crossing-rate ratio (HZCRR): the share of frames whose
 *     zero-crossing rate is over 1.5 times the window's mean. Speech
 *     alternates voiced (few crossings) and unvoiced (many) sounds.
 * (L. Lu, H.-J. Zhang, H. Jiang, "Content analysis for audio classification
 * and segmentation", IEEE Trans. Speech Audio Process. 10(7), 2002.)
 * The thresholds were measured on shrink's test clips: docs/SOLVER.md,
 * "Audio's share". Pure functions: no allocation, no printing.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_METRICS_AUDIOKIND_H
#define SH_METRICS_AUDIOKIND_H

#include <stdint.h>

/* What the sound is; 0: not measured (the budget treats it as music). */
typedef enum ShAudioKind {
    SH_AUDIO_UNKNOWN = 0,
    SH_AUDIO_SPEECH,
    SH_AUDIO_MUSIC,           /* music, or any other steady sound: not speech, not silence */
    SH_AUDIO_SILENCE,
} ShAudioKind;

#define SH_AK_RATE 16000              /* samples per second the features expect */
#define SH_AK_FRAME 320               /* 20 ms */
#define SH_AK_WINDOW 50               /* frames in a 1 s window */
#define SH_AK_SILENCE_DB (-50.0)      /* a frame under this RMS is silent */

/* Start from a zeroed struct. */
typedef struct ShAudioFeatures {
    /* totals */
    int64_t frames;           /* 20 ms frames seen */
    int64_t silent_frames;
    int windows;              /* 1 s windows with sound (not mostly silent), measured */
    double lster_sum, hzcrr_sum;  /* over those windows */
    int speech_windows;       /* of them, LSTER and HZCRR both as speech has them */
    /* the frame and the window being filled */
    float buf[SH_AK_FRAME];
    int fill;
    double energy[SH_AK_WINDOW], zcr[SH_AK_WINDOW];
    int nframes, nsilent;
} ShAudioFeatures;

/* Feed n mono samples (16 kHz, full scale +-1). */
void sh_audio_features_push(ShAudioFeatures *f, const float *x, int n);
/* The next samples do not follow the last ones (another sampled stretch):
 * the partial frame and window are dropped. */
void sh_audio_features_break(ShAudioFeatures *f);

/* Averages over what was fed (0 where nothing was). */
double sh_audio_features_silent_share(const ShAudioFeatures *f);
double sh_audio_features_lster(const ShAudioFeatures *f);
double sh_audio_features_hzcrr(const ShAudioFeatures *f);
double sh_audio_features_speech_share(const ShAudioFeatures *f);

/* The kind the features say (UNKNOWN when under 2 s was fed). */
ShAudioKind sh_audio_features_kind(const ShAudioFeatures *f);

/* "speech", "music", "silence", or NULL for UNKNOWN. */
const char *sh_audio_kind_name(ShAudioKind k);

#endif
