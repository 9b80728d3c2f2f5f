/*
 * The job's sound: what the track is (input/listen.c), for the audio
 * budget (solver/plan.c, sh_budget_audio_kind), and why the output has its
 * audio or not, for the result.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "input/listen.h"
#include "job/state.h"

int sh_job_listen(Job *j)
{
    const ShOptions *o = j->opt;
    ShAudioFeatures feat;
    ShAudioKind kind;
    int ret;

    j->audio_kind = SH_AUDIO_UNKNOWN;
    if (!j->info->has_audio || o->no_audio)
        return 0;
    ret = sh_input_listen(j->input, j->info, o->audio_track, &feat, &kind);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if ((ret = sh_job_check_interrupt()) < 0)
        return ret;
    j->audio_kind = kind;
    return 0;
}

void sh_job_audio_reason(const Job *j, ShJobResult *r)
{
    const ShAudioBudget *a = &j->plan.audio;
    const char *kind = sh_audio_kind_name(j->audio_kind);
    char *s = r->audio_reason, rate[16];
    size_t n = sizeof(r->audio_reason);

    r->audio_kind = kind;
    s[0] = 0;
    snprintf(rate, sizeof(rate), a->bitrate % 1000 ? "%.1f kb/s" : "%.0f kb/s", a->bitrate / 1000.0);
    if (!j->info)
        return;       /* failed before the input was read: nothing was decided */
    if (!j->info->has_audio)
        snprintf(s, n, "the source has no audio");
    else if (j->opt->no_audio)
        snprintf(s, n, "--no-audio");
    else if (!j->plan.venc)
        return;       /* no plan (GIF fits its own, without sound) */
    else if (j->plan.venc->caps & SH_ENC_CAP_WHOLE_FILM)
        snprintf(s, n, "dropped: the %s format carries no sound", j->plan.venc->name);
    else if (j->plan.aenc && !j->final_audio && j->final_rung.width && j->final_rung.width == j->plan.floor.width &&
             j->final_rung.height == j->plan.floor.height && !av_cmp_q(j->final_rung.fps, j->plan.floor.fps))
        snprintf(s, n, "dropped: only the smallest file this solver makes, which has no audio, fits");
    else if (j->plan.aenc && j->audio_fixed)
        snprintf(s, n, "kept at %s: --audio-bitrate", rate);
    else if (j->plan.aenc && j->audio_kind == SH_AUDIO_SPEECH)
        snprintf(s, n, "speech: kept at %s %s, in Opus's voice mode", rate, a->channels == 1 ? "mono" : "stereo");
    else if (j->plan.aenc && j->audio_kind == SH_AUDIO_SILENCE)
        snprintf(s, n, "silence: kept for about 2.2 kb/s (asked %s)", rate);
    else if (j->plan.aenc)
        snprintf(s, n, "%s%skept at %s, audio's share of the rate", kind ? kind : "", kind ? ": " : "", rate);
    else if (j->audio_kind == SH_AUDIO_SPEECH)
        snprintf(s, n, "speech: dropped: 6 kb/s, its least, would be more than half of the rate");
    else if (j->audio_kind == SH_AUDIO_SILENCE)
        snprintf(s, n, "silence: dropped: nothing to hear, and its 2.2 kb/s would be more than 12%% of the rate");
    else
        snprintf(s, n, "%s%sdropped: 6 kb/s, its least, would be more than a third of the rate", kind ? kind : "",
                 kind ? ": " : "");
}
