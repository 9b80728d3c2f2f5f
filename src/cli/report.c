/*
 * What became of each input: exit codes, the result line, the JSON object
 * (the schema is docs/JSON.md). Results go to stdout, one line per input;
 * diagnostics never do.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "cli/cli.h"
#include "shrink/size.h"

int exit_code_for(int err, ShPhase phase)
{
    if (err >= 0)
        return EXIT_OK;
    if (err == SH_ERROR_INTERRUPTED)
        return 128 + (cli_signal ? cli_signal : SIGINT);
    if (err == SH_ERROR_TARGET_TOO_SMALL)
        return EXIT_TOO_SMALL;
    if (err == SH_ERROR_BAD_RANGE || err == SH_ERROR_BAD_OPTION)
        return EXIT_USAGE;
    /* A full disk, TMPDIR or the output's, whatever was being written: not the input's fault. */
    if (err == AVERROR(ENOSPC) || err == AVERROR(EDQUOT))
        return EXIT_OUTPUT;
    switch (phase) {
    case SH_PHASE_SETUP:
    case SH_PHASE_OUTPUT: return EXIT_OUTPUT;
    case SH_PHASE_INPUT:  return EXIT_INPUT;
    case SH_PHASE_ENCODE: return EXIT_ENCODER;
    default:              return EXIT_OTHER;
    }
}

const char *action_name(Action a)
{
    static const char *const names[] = {
        [ACTION_SHRUNK] = "shrunk",
        [ACTION_COPIED] = "copied",
        [ACTION_SKIPPED_EXISTING] = "skipped-existing",
        [ACTION_SKIPPED_FITTING] = "skipped-fitting",
        [ACTION_FAILED] = "failed",
    };
    return names[a];
}

static const char *error_text(const Outcome *oc, char *buf, size_t len)
{
    if (oc->err >= 0)
        return NULL;
    return oc->error ? oc->error : sh_strerror(oc->err, buf, len);
}

/* ---- JSON ---- */

void json_string(const char *s)
{
    sh_json_write_string(stdout, s);
}

static void json_key(const char *key)
{
    printf(",\"%s\":", key);
}

/* Counts and sizes: null when unknown (0 or less). */
static void json_count(const char *key, int64_t v)
{
    json_key(key);
    if (v > 0)
        printf("%lld", (long long)v);
    else
        fputs("null", stdout);
}

static void json_value(const char *fmt, double v)
{
    if (v > 0 && isfinite(v))
        printf(fmt, v);
    else
        fputs("null", stdout);
}

static void json_real(const char *key, const char *fmt, double v)
{
    json_key(key);
    json_value(fmt, v);
}

/* {"ssim":..,"temporal_ssim":..,"psnr":..}, or null when none is known (0). */
static void json_quality(const char *key, double ssim, double tssim, double psnr)
{
    json_key(key);
    if (!(ssim > 0 && isfinite(ssim)) && !(tssim > 0 && isfinite(tssim)) && !(psnr > 0 && isfinite(psnr))) {
        fputs("null", stdout);
        return;
    }
    fputs("{\"ssim\":", stdout);
    json_value("%.6f", ssim);
    fputs(",\"temporal_ssim\":", stdout);
    json_value("%.6f", tssim);
    fputs(",\"psnr\":", stdout);
    json_value("%.3f", psnr);
    putchar('}');
}

/* {"width":..,"height":..,"x":..,"y":..} of the source kept, or null: none cropped. */
void json_crop(const ShCrop *c)
{
    fputs(",\"crop\":", stdout);
    if (c && c->width)
        printf("{\"width\":%d,\"height\":%d,\"x\":%d,\"y\":%d}", c->width, c->height, c->x, c->y);
    else
        fputs("null", stdout);
}

/* ,"roi":{...}: faces and the bits (docs/JSON.md). */
void json_roi(const ShJobResult *r)
{
    fputs(",\"roi\":", stdout);
    if (!r || !r->roi_mode) {
        fputs("null", stdout);
        return;
    }
    fputs("{\"mode\":", stdout);
    json_string(r->roi_mode);
    json_key("detector");
    json_string(sh_faces_detector());
    json_key("looks");
    r->roi_looks >= 0 ? printf("%d", r->roi_looks) : fputs("null", stdout);
    json_key("looks_with_faces");
    r->roi_looks >= 0 ? printf("%d", r->roi_faces) : fputs("null", stdout);
    json_real("share", "%.4f", r->roi_looks > 0 && r->roi_faces > 0 ? r->roi_share : 0);
    json_key("regions");
    fputs(r->roi_strength > 0 ? "true" : "false", stdout);
    json_real("strength", "%.3f", r->roi_strength);
    json_real("predicted_face_ssim_db", "%.3f", r->roi_face_db[r->roi_strength > 0]);
    json_real("predicted_face_ssim_db_without", "%.3f", r->roi_face_db[0]);
    json_real("predicted_score_db", "%.3f", r->roi_score_db[r->roi_strength > 0]);
    json_real("predicted_score_db_without", "%.3f", r->roi_score_db[0]);
    json_real("measured_face_ssim", "%.6f", r->measured_face_ssim);
    json_real("detect_seconds", "%.3f", r->roi_looks >= 0 ? r->roi_detect_seconds : 0);
    json_key("reason");
    json_string(r->roi_reason[0] ? r->roi_reason : NULL);
    putchar('}');
}

void json_name_bytes(const char *key, const char *s)
{
    if (!s || sh_utf8_valid(s))
        return;
    printf(",\"%s_base64\":", key);
    sh_json_write_base64(stdout, s);
}

static void print_json(const Cli *cli, const Outcome *oc)
{
    /* Stream details only for a file that is there: not for a failure's plan. */
    const ShJobResult *r = oc->output && oc->err >= 0 ? oc->res : NULL;
    int64_t bytes = r ? r->bytes : 0;
    char ebuf[128];

    fputs("{\"input\":", stdout);
    json_string(oc->input);
    json_name_bytes("input", oc->input);
    json_key("output");
    json_string(oc->output);
    json_name_bytes("output", oc->output);
    json_key("action");
    json_string(action_name(oc->action));
    json_key("preset");
    json_string(cli->target.preset ? cli->target.preset->name : NULL);
    json_count("target", oc->target);
    json_count("input_bytes", oc->input_bytes);
    json_count("bytes", bytes);
    json_real("ratio", "%.4f", bytes > 0 && oc->target > 0 ? (double)bytes / oc->target : 0);
    json_key("codec");
    json_string(r ? r->codec : NULL);
    json_key("encoder");
    json_string(r ? r->encoder : NULL);
    json_count("width", r ? r->width : 0);
    json_count("height", r ? r->height : 0);
    json_real("fps", "%.4f", r ? r->fps : 0);
    json_crop(r ? &r->crop : NULL);
    json_real("duration", "%.3f", r ? r->duration : 0);
    json_key("audio");
    if (r && r->audio) {
        fputs("{\"codec\":", stdout);
        json_string(r->audio_codec);
        json_count("bitrate", r->audio_bitrate);
        json_count("channels", r->audio_channels);
        putchar('}');
    } else {
        fputs("null", stdout);
    }
    /* What the sound is and why the output has it or not (docs/SOLVER.md). */
    json_key("audio_kind");
    json_string(r ? r->audio_kind : NULL);
    json_key("audio_reason");
    json_string(r && r->audio_reason[0] ? r->audio_reason : NULL);
    json_key("subtitles");
    printf("%d", r ? r->subtitles : 0);
    json_roi(r);
    json_count("video_bitrate", r ? r->video_bitrate : 0);
    json_quality("predicted", r ? r->predicted_ssim : 0, r ? r->predicted_tssim : 0, r ? r->predicted_psnr : 0);
    json_quality("measured", r ? r->measured_ssim : 0, r ? r->measured_tssim : 0, r ? r->measured_psnr : 0);
    /* --report's pictures (docs/SHOW.md): null when none was written. */
    json_key("sheet");
    json_string(oc->sheet);
    json_name_bytes("sheet", oc->sheet);
    json_key("plot");
    json_string(oc->plot);
    json_name_bytes("plot", oc->plot);
    json_key("visually_lossless");
    fputs(r && r->visually_lossless ? "true" : "false", stdout);
    json_key("attempts");
    printf("%d", oc->res ? oc->res->attempts : 0);
    json_key("seconds");
    if (oc->res)
        printf("%.2f", oc->res->seconds);
    else
        fputs("null", stdout);
    /* The search's share of them: the rest is the decode pass and the encodes. */
    json_real("search_seconds", "%.2f", oc->res && oc->res->searched ? oc->res->solver_seconds : 0);
    /* Long films: the time planned against, and the chosen encoder's predicted time (null: not weighed). */
    json_real("decode_seconds", "%.2f", r ? r->decode_seconds : 0);
    json_real("time_budget", "%.1f", r ? r->time_budget : 0);
    json_real("expected_seconds", "%.1f", r ? r->expected_seconds : 0);
    json_key("encoder_preset");
    json_string(r && r->encoder ? (r->quick_preset ? "quick" : "final") : NULL);
    if (oc->err == SH_ERROR_TARGET_TOO_SMALL && oc->res && oc->res->min_bytes > 0)
        printf(",\"min_bytes\":%lld", (long long)oc->res->min_bytes);
    json_key("exit");
    printf("%d", oc->exit_code);
    json_key("error");
    json_string(error_text(oc, ebuf, sizeof(ebuf)));
    fputs("}\n", stdout);
}

/* ---- text ---- */

static void print_text(const Outcome *oc)
{
    const ShJobResult *r = oc->res;
    char got[32], tgt[32], ebuf[128];

    switch (oc->action) {
    case ACTION_SHRUNK:
        printf("%s: %s of %s (%.1f%%), %s %dx%d %.3g fps", sh_display(oc->output),
               sh_size_format(got, sizeof(got), r->bytes), sh_size_format(tgt, sizeof(tgt), oc->target),
               100.0 * r->bytes / oc->target, r->codec, r->width, r->height, r->fps);
        if (r->crop.width)
            printf(" (cropped to %dx%d at %d,%d)", r->crop.width, r->crop.height, r->crop.x, r->crop.y);
        if (r->audio)
            printf(", %s %d kb/s %s", r->audio_codec, r->audio_bitrate / 1000,
                   r->audio_channels == 1 ? "mono" : "stereo");
        else
            printf(", no audio%s%s%s", r->audio_reason[0] ? " (" : "", r->audio_reason, r->audio_reason[0] ? ")" : "");
        printf(", %d encode%s, %.1f s", r->attempts, r->attempts == 1 ? "" : "s", r->seconds);
        /* Measured (--report, or an output short of the target): what it shows. */
        if (r->measured_ssim > 0)
            printf("; measured SSIM %.4f, temporal SSIM %.4f, PSNR %.2f dB", r->measured_ssim, r->measured_tssim,
                   r->measured_psnr);
        if (r->visually_lossless)
            printf("; visually lossless: more bytes would buy nothing");
        if (oc->sheet || oc->plot)
            printf("; pictures: %s%s%s", oc->sheet ? sh_display(oc->sheet) : "", oc->sheet && oc->plot ? ", " : "",
                   oc->plot ? sh_display(oc->plot) : "");
        putchar('\n');
        break;
    case ACTION_COPIED:
        printf("%s: %s of %s (%.1f%%), copied: %s already fits\n", sh_display(oc->output),
               sh_size_format(got, sizeof(got), r->bytes), sh_size_format(tgt, sizeof(tgt), oc->target),
               100.0 * r->bytes / oc->target, sh_display(oc->input));
        break;
    case ACTION_SKIPPED_EXISTING:
        printf("%s: skipped: %s exists\n", sh_display(oc->input), sh_display(oc->output));
        break;
    case ACTION_SKIPPED_FITTING:
        printf("%s: skipped: %s already fits in %s\n", sh_display(oc->input),
               sh_size_format(got, sizeof(got), oc->input_bytes), sh_size_format(tgt, sizeof(tgt), oc->target));
        break;
    case ACTION_FAILED:
        printf("%s: failed: %s (exit %d)\n", sh_display(oc->input), sh_display(error_text(oc, ebuf, sizeof(ebuf))),
               oc->exit_code);
        break;
    }
}

void report_outcome(const Cli *cli, const Outcome *oc)
{
    if (cli->job.plan_only && oc->res && oc->err >= 0 && oc->action == ACTION_SHRUNK) {
        print_plan(cli, oc);
        fflush(stdout);
        return;
    }
    if (cli->json)
        print_json(cli, oc);
    else if (cli->verbosity >= 0)
        print_text(oc);
    fflush(stdout);
}
