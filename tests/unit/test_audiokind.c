/*
 * Unit tests: speech, music or silence from cheap features (src/metrics/audiokind.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Synthetic signals whose features are known by construction: digital
 * silence; a steady tone (every frame has the same energy and about the
 * same zero crossings: LSTER and HZCRR 0); "syllables" (a voiced tone, an
 * unvoiced noise burst, a gap, 300 ms each: LSTER about a third, HZCRR
 * about a sixth); gaps without hiss (not speech); the -50 dBFS silence threshold from both sides; chunking
 * that does not change anything; a break that drops a partial window.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics/audiokind.h"

#define SECONDS(s) ((int)((s) * SH_AK_RATE))
#define PI 3.14159265358979323846

static float *tone(int n, double hz, double rms_db)
{
    float *x = malloc(n * sizeof(*x));
    double amp = pow(10, rms_db / 20) * sqrt(2.0);
    assert_non_null(x);
    for (int i = 0; i < n; i++)
        x[i] = (float)(amp * sin(2 * PI * hz * i / SH_AK_RATE));
    return x;
}

/* 150 ms of a 150 Hz voiced tone, 50 ms of white noise, 100 ms of silence, again and again. */
static float *syllables(int n)
{
    float *x = calloc(n, sizeof(*x));
    unsigned seed = 1;
    assert_non_null(x);
    for (int i = 0; i < n; i++) {
        int at = i % SECONDS(0.3);
        if (at < SECONDS(0.15)) {
            x[i] = (float)(0.3 * sin(2 * PI * 150 * i / SH_AK_RATE));
        } else if (at < SECONDS(0.2)) {
            seed = seed * 1103515245 + 12345;
            x[i] = (float)(0.5 * ((seed >> 16 & 0x7fff) / 16384.0 - 1));
        }
    }
    return x;
}

static ShAudioFeatures features(const float *x, int n)
{
    ShAudioFeatures f;
    memset(&f, 0, sizeof(f));
    sh_audio_features_push(&f, x, n);
    return f;
}

static void test_silence(void **state)
{
    float *x = calloc(SECONDS(3), sizeof(*x));
    ShAudioFeatures f;
    (void)state;
    assert_non_null(x);
    f = features(x, SECONDS(3));
    assert_int_equal(f.frames, 150);
    assert_int_equal(f.silent_frames, 150);
    assert_int_equal(f.windows, 0);
    assert_true(sh_audio_features_silent_share(&f) == 1.0);
    assert_int_equal(sh_audio_features_kind(&f), SH_AUDIO_SILENCE);
    assert_string_equal(sh_audio_kind_name(SH_AUDIO_SILENCE), "silence");
    free(x);
}

/* A steady tone: no frame under half the mean energy, none with 1.5x the mean crossings. */
static void test_steady_tone_is_music(void **state)
{
    float *x = tone(SECONDS(3), 440, -12);
    ShAudioFeatures f;
    (void)state;
    f = features(x, SECONDS(3));
    assert_int_equal(f.frames, 150);
    assert_int_equal(f.silent_frames, 0);
    assert_int_equal(f.windows, 3);
    assert_true(sh_audio_features_lster(&f) == 0);
    assert_true(sh_audio_features_hzcrr(&f) == 0);
    assert_int_equal(sh_audio_features_kind(&f), SH_AUDIO_MUSIC);
    assert_string_equal(sh_audio_kind_name(SH_AUDIO_MUSIC), "music");
    free(x);
}

static void test_syllables_are_speech(void **state)
{
    float *x = syllables(SECONDS(6));
    ShAudioFeatures f;
    (void)state;
    f = features(x, SECONDS(6));
    assert_int_equal(f.windows, 6);
    /* 5 of each 15 frames are the gap (all of a window's silent frames are low). */
    if (fabs(sh_audio_features_lster(&f) - 1.0 / 3) > 0.03)
        fail_msg("LSTER %.3f, want about 0.333", sh_audio_features_lster(&f));
    /* 2.5 of each 15 frames are noise, with far more crossings than the mean. */
    if (fabs(sh_audio_features_hzcrr(&f) - 1.0 / 6) > 0.04)
        fail_msg("HZCRR %.3f, want about 0.167", sh_audio_features_hzcrr(&f));
    assert_true(sh_audio_features_speech_share(&f) == 1.0);
    assert_int_equal(sh_audio_features_kind(&f), SH_AUDIO_SPEECH);
    assert_string_equal(sh_audio_kind_name(SH_AUDIO_SPEECH), "speech");
    free(x);
}

/* Gaps without hiss (sparse effects between quiet stretches, as Big Buck
 * Bunny's 5.1 mix has): a 300 Hz tone, 200 ms on, 100 ms of a 100 Hz hum
 * at -60 dBFS. Speech's LSTER, but no unvoiced sounds: music. */
static void test_gaps_without_hiss_are_not_speech(void **state)
{
    int n = SECONDS(6);
    float *x = tone(n, 300, -12), *hum = tone(n, 100, -60);
    ShAudioFeatures f;
    (void)state;
    for (int i = 0; i < n; i++)
        if (i % SECONDS(0.3) >= SECONDS(0.2))
            x[i] = hum[i];
    f = features(x, n);
    assert_int_equal(f.windows, 6);
    if (fabs(sh_audio_features_lster(&f) - 1.0 / 3) > 0.03)
        fail_msg("LSTER %.3f, want about 0.333", sh_audio_features_lster(&f));
    if (sh_audio_features_hzcrr(&f) > 0.05)
        fail_msg("HZCRR %.3f, want under 0.05", sh_audio_features_hzcrr(&f));
    assert_int_equal(sh_audio_features_kind(&f), SH_AUDIO_MUSIC);
    free(x);
    free(hum);
}

/* The decision on the measured tracks' own totals (docs/SOLVER.md). */
static ShAudioKind decide(int windows, int speechlike, double mean_hzcrr)
{
    ShAudioFeatures f;
    memset(&f, 0, sizeof(f));
    f.frames = windows * SH_AK_WINDOW;
    f.windows = windows;
    f.speech_windows = speechlike;
    f.hzcrr_sum = mean_hzcrr * windows;
    f.lster_sum = 0.4 * windows;
    return sh_audio_features_kind(&f);
}

static void test_decision(void **state)
{
    (void)state;
    assert_int_equal(decide(44, 27, 0.171), SH_AUDIO_SPEECH);   /* EBU channel id: 61% */
    assert_int_equal(decide(9, 5, 0.147), SH_AUDIO_SPEECH);     /* liveportrait: 56% */
    assert_int_equal(decide(16, 15, 0.138), SH_AUDIO_SPEECH);   /* a voice over a music bed 17 dB under: 94% */
    assert_int_equal(decide(45, 23, 0.126), SH_AUDIO_MUSIC);    /* Big Buck Bunny 5.1: gaps, no hiss */
    assert_int_equal(decide(16, 10, 0.104), SH_AUDIO_MUSIC);    /* the same bed 8 dB under the voice: 62% */
    assert_int_equal(decide(46, 13, 0.121), SH_AUDIO_MUSIC);    /* Sintel's trailer: 28% */
    assert_int_equal(decide(46, 13, 0.2), SH_AUDIO_MUSIC);      /* hiss without the gaps */
}

/* -50 dBFS RMS is the line: a tone 5 dB above is sound, 5 dB below is silence. */
static void test_silence_threshold(void **state)
{
    float *loud = tone(SECONDS(2), 1000, -45), *quiet = tone(SECONDS(2), 1000, -55);
    ShAudioFeatures a, b;
    (void)state;
    a = features(loud, SECONDS(2));
    b = features(quiet, SECONDS(2));
    assert_int_equal(a.silent_frames, 0);
    assert_int_equal(b.silent_frames, 100);
    assert_int_equal(sh_audio_features_kind(&a), SH_AUDIO_MUSIC);
    assert_int_equal(sh_audio_features_kind(&b), SH_AUDIO_SILENCE);
    free(loud);
    free(quiet);
}

/* Under 2 s is not enough to say. */
static void test_too_short(void **state)
{
    float *x = syllables(SECONDS(1.9));
    ShAudioFeatures f;
    (void)state;
    f = features(x, SECONDS(1.9));
    assert_int_equal(sh_audio_features_kind(&f), SH_AUDIO_UNKNOWN);
    assert_null(sh_audio_kind_name(SH_AUDIO_UNKNOWN));
    free(x);
}

/* Fed in odd pieces, the features are the same. */
static void test_chunking(void **state)
{
    int n = SECONDS(4);
    float *x = syllables(n);
    ShAudioFeatures whole = features(x, n), parts;
    (void)state;
    memset(&parts, 0, sizeof(parts));
    for (int at = 0, k = 1; at < n; at += k, k = k * 7 % 997 + 1)
        sh_audio_features_push(&parts, x + at, k < n - at ? k : n - at);
    assert_int_equal(parts.frames, whole.frames);
    assert_int_equal(parts.windows, whole.windows);
    assert_true(parts.lster_sum == whole.lster_sum);
    assert_true(parts.hzcrr_sum == whole.hzcrr_sum);
    free(x);
}

/* A break drops the partial frame and window: 1.5 s, a break, 1.5 s make two frames' worth of
 * 75 frames each but no second window of the first stretch. */
static void test_break(void **state)
{
    float *x = tone(SECONDS(1.5), 440, -12);
    ShAudioFeatures f;
    (void)state;
    memset(&f, 0, sizeof(f));
    sh_audio_features_push(&f, x, SECONDS(1.5));
    sh_audio_features_break(&f);
    sh_audio_features_push(&f, x, SECONDS(1.5));
    assert_int_equal(f.frames, 150);
    assert_int_equal(f.windows, 2);   /* one whole second from each stretch */
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silence),
        cmocka_unit_test(test_steady_tone_is_music),
        cmocka_unit_test(test_syllables_are_speech),
        cmocka_unit_test(test_gaps_without_hiss_are_not_speech),
        cmocka_unit_test(test_decision),
        cmocka_unit_test(test_silence_threshold),
        cmocka_unit_test(test_too_short),
        cmocka_unit_test(test_chunking),
        cmocka_unit_test(test_break),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
