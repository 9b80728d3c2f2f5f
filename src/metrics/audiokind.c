/*
 * Speech, music or silence: metrics/audiokind.h.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "metrics/audiokind.h"

/* A window is measured when this many of its frames have sound (100 ms):
 * the features of a silent second are those of its noise floor. */
#define AK_MIN_SOUND_FRAMES 5
/* A speech-like window: a third of its frames in gaps, and unvoiced
 * sounds among voiced ones. The track is speech when three quarters of its
 * windows with sound are speech-like, or half of them are and its mean
 * HZCRR is that of speech: sparse sound effects with silences between them
 * (Big Buck Bunny's 5.1 mix: 51% of its windows) have the gaps but not the
 * hiss, and a voice over a quiet music bed has the gaps in nearly every
 * window but less hiss on average. Measured in docs/SOLVER.md ("Audio's
 * share"): speech's mean HZCRR 0.147-0.21, the films' music 0.013-0.126;
 * no music track had more than 51% speech-like windows. */
#define AK_SPEECH_LSTER 0.3
#define AK_SPEECH_HZCRR 0.1
#define AK_SPEECH_SHARE 0.5
#define AK_SPEECH_MEAN_HZCRR 0.14
#define AK_SPEECH_SURE_SHARE 0.75
/* The track is silence when this share of its frames is silent. */
#define AK_SILENT_SHARE 0.97

static void end_window(ShAudioFeatures *f)
{
    double me = 0, mz = 0;
    int low = 0, high = 0, n = f->nframes;
    if (n == SH_AK_WINDOW && n - f->nsilent >= AK_MIN_SOUND_FRAMES) {
        for (int i = 0; i < n; i++) {
            me += f->energy[i];
            mz += f->zcr[i];
        }
        me /= n;
        mz /= n;
        for (int i = 0; i < n; i++) {
            low += f->energy[i] < 0.5 * me;
            high += f->zcr[i] > 1.5 * mz;
        }
        f->windows++;
        f->lster_sum += (double)low / n;
        f->hzcrr_sum += (double)high / n;
        f->speech_windows += (double)low / n >= AK_SPEECH_LSTER && (double)high / n >= AK_SPEECH_HZCRR;
    }
    f->nframes = f->nsilent = 0;
}

static void end_frame(ShAudioFeatures *f)
{
    double e = 0;
    int z = 0;
    for (int i = 0; i < SH_AK_FRAME; i++) {
        e += (double)f->buf[i] * f->buf[i];
        z += i && (f->buf[i] >= 0) != (f->buf[i - 1] >= 0);
    }
    e /= SH_AK_FRAME;
    f->energy[f->nframes] = e;
    f->zcr[f->nframes] = (double)z / (SH_AK_FRAME - 1);
    f->nframes++;
    f->frames++;
    /* RMS in dBFS: 10 log10(mean square). */
    if (e < pow(10, SH_AK_SILENCE_DB / 10)) {
        f->silent_frames++;
        f->nsilent++;
    }
    f->fill = 0;
    if (f->nframes == SH_AK_WINDOW)
        end_window(f);
}

void sh_audio_features_push(ShAudioFeatures *f, const float *x, int n)
{
    while (n > 0) {
        int k = n < SH_AK_FRAME - f->fill ? n : SH_AK_FRAME - f->fill;
        memcpy(f->buf + f->fill, x, k * sizeof(*x));
        f->fill += k;
        x += k;
        n -= k;
        if (f->fill == SH_AK_FRAME)
            end_frame(f);
    }
}

void sh_audio_features_break(ShAudioFeatures *f)
{
    f->fill = 0;
    f->nframes = f->nsilent = 0;
}

double sh_audio_features_silent_share(const ShAudioFeatures *f)
{
    return f->frames ? (double)f->silent_frames / f->frames : 0;
}

double sh_audio_features_lster(const ShAudioFeatures *f)
{
    return f->windows ? f->lster_sum / f->windows : 0;
}

double sh_audio_features_hzcrr(const ShAudioFeatures *f)
{
    return f->windows ? f->hzcrr_sum / f->windows : 0;
}

double sh_audio_features_speech_share(const ShAudioFeatures *f)
{
    return f->windows ? (double)f->speech_windows / f->windows : 0;
}

ShAudioKind sh_audio_features_kind(const ShAudioFeatures *f)
{
    if (f->frames < 2 * SH_AK_WINDOW)
        return SH_AUDIO_UNKNOWN;
    if (sh_audio_features_silent_share(f) >= AK_SILENT_SHARE || !f->windows)
        return SH_AUDIO_SILENCE;
    if (sh_audio_features_speech_share(f) >= AK_SPEECH_SURE_SHARE ||
        (sh_audio_features_speech_share(f) >= AK_SPEECH_SHARE && sh_audio_features_hzcrr(f) >= AK_SPEECH_MEAN_HZCRR))
        return SH_AUDIO_SPEECH;
    return SH_AUDIO_MUSIC;
}

const char *sh_audio_kind_name(ShAudioKind k)
{
    switch (k) {
    case SH_AUDIO_SPEECH: return "speech";
    case SH_AUDIO_MUSIC: return "music";
    case SH_AUDIO_SILENCE: return "silence";
    default: return NULL;
    }
}
