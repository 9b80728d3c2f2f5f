/*
 * The solver's options (--height, --max-height, --fps, --min-fps,
 * --audio-bitrate) and --plan's output: the candidates measured, their
 * predictions, the choice.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdlib.h>

#include "cli/cli.h"
#include "shrink/size.h"

/*
 * The ranges the job can honour, so that a value outside is a usage error
 * naming them rather than a failure deep in an encoder. libopus (through
 * FFmpeg 5.1) takes 500 b/s to 256 kb/s per channel and a mono source gives
 * a mono output: 256k is the most every input can take; shrink raises
 * anything under 6k to 6k. Frame rates: frames are only dropped, so a rate
 * past the source's is the source's; below one frame in 1000 s the rate
 * stops being representable (1e-300 failed with no message). Heights are
 * capped at the source's, and no encoder goes past 16384.
 */
#define AUDIO_BPS_MIN 6000
#define AUDIO_BPS_MAX 256000
#define FPS_MIN 0.001
#define FPS_MAX 1000
#define HEIGHT_MAX 16384

int solver_option(const char *name, const char *arg, ShOptions *o)
{
    char *end;
    double v;
    int64_t bits;
    int fps = !strcmp(name, "fps") || !strcmp(name, "min-fps");

    if (!strcmp(name, "audio-bitrate")) {
        /* 24k, 24000: the size units, read as bits per second */
        if (sh_size_parse(arg, &bits) < 0 || bits < AUDIO_BPS_MIN || bits > AUDIO_BPS_MAX) {
            fprintf(stderr, "shrink: error: --audio-bitrate '%s': an Opus bitrate from 6k to 256k (e.g. 24k; "
                    "libopus takes at most 256k per channel, and a mono source stays mono)\n", sh_display(arg));
            return AVERROR(EINVAL);
        }
        o->audio_bitrate = (int)bits;
        return 0;
    }
    v = strtod(arg, &end);
    if (fps && (end == arg || *end || !(v >= FPS_MIN && v <= FPS_MAX))) {
        fprintf(stderr, "shrink: error: --%s '%s': a frame rate from 0.001 to 1000 frames per second\n", name,
                sh_display(arg));
        return AVERROR(EINVAL);
    }
    if (!fps && (end == arg || *end || !(v >= 2 && v <= HEIGHT_MAX) || v != (int)v)) {
        /* 0.5 used to truncate to 0, which means "free": say so instead. */
        fprintf(stderr, "shrink: error: --%s '%s': a whole number of pixels from 2 to 16384\n", name,
                sh_display(arg));
        return AVERROR(EINVAL);
    }
    if (!strcmp(name, "height"))
        o->height = (int)v;
    else if (!strcmp(name, "max-height"))
        o->max_height = (int)v;
    else if (!strcmp(name, "fps"))
        o->fps = v;
    else if (!strcmp(name, "min-fps"))
        o->min_fps = v;
    else
        return AVERROR(EINVAL);
    return 0;
}

static void plan_json(const Outcome *oc, const ShJobResult *r)
{
    printf("{\"input\":");
    json_string(oc->input);
    json_name_bytes("input", oc->input);
    printf(",\"target\":%lld,\"duration\":%.3f,\"searched\":%s,\"eval\":[%d,%d],\"sample_seconds\":%.2f,"
           "\"sample_encodes\":%d,\"solver_seconds\":%.2f,\"candidates\":[",
           (long long)oc->target, r->duration, r->searched ? "true" : "false", r->eval_width, r->eval_height,
           r->sample_seconds, r->sample_encodes, r->solver_seconds);
    for (int i = 0; i < r->ncandidates; i++) {
        const ShCandidateInfo *c = &r->candidates[i];
        printf("%s{\"encoder\":", i ? "," : "");
        json_string(c->encoder ? c->encoder : "");
        printf(",\"width\":%d,\"height\":%d,\"fps\":%.4f,\"video_bitrate\":%.0f,\"feasible\":%s,"
               "\"predicted_score_db\":%.3f,\"predicted_ssim\":%.5f,\"predicted_temporal_ssim\":%.5f,"
               "\"predicted_psnr\":%.3f,\"speed_cost_db\":%.3f,",
               c->width, c->height, c->fps, c->video_bitrate, c->feasible ? "true" : "false",
               c->score_db, c->ssim, c->tssim, c->psnr, c->speed_cost_db);
        if (c->frame_seconds[0] > 0 || c->frame_seconds[1] > 0)
            printf("\"frame_seconds\":[%.6f,%.6f],\"expected_seconds\":[%.1f,%.1f],", c->frame_seconds[0],
                   c->frame_seconds[1], c->expected_seconds[0], c->expected_seconds[1]);
        if (c->quick_score_db > 0)
            printf("\"quick_score_db\":%.3f,", c->quick_score_db);
        if (c->final_ssim > 0)
            printf("\"final_score_db\":%.3f,\"final_ssim\":%.5f,\"final_temporal_ssim\":%.5f,\"final_psnr\":%.3f,",
                   c->final_score_db, c->final_ssim, c->final_tssim, c->final_psnr);
        if (c->face_db[0] > 0)
            printf("\"face_ssim_db\":%.3f,", c->face_db[0]);
        if (c->face_db[1] > 0)
            printf("\"face_ssim_db_regions\":%.3f,", c->face_db[1]);
        printf("\"samples\":[");
        for (int k = 0; k < c->measures; k++)
            printf("%s{\"crf\":%.2f,\"bitrate\":%.0f,\"ssim\":%.5f,\"temporal_ssim\":%.5f,\"psnr\":%.3f}",
                   k ? "," : "", c->crf[k], c->sample_bitrate[k], c->sample_ssim[k], c->sample_tssim[k],
                   c->sample_psnr[k]);
        printf("]}");
    }
    printf("],\"chosen\":{\"encoder\":");
    json_string(r->encoder ? r->encoder : "");
    printf(",\"codec\":");
    json_string(r->codec ? r->codec : "");
    printf(",\"width\":%d,\"height\":%d,\"fps\":%.4f,\"video_bitrate\":%lld",
           r->width, r->height, r->fps, (long long)r->video_bitrate);
    json_crop(&r->crop);
    printf(",\"audio\":");
    if (r->audio)
        printf("{\"codec\":\"%s\",\"bitrate\":%d,\"channels\":%d}", r->audio_codec, r->audio_bitrate,
               r->audio_channels);
    else
        printf("null");
    printf(",\"audio_kind\":");
    json_string(r->audio_kind);
    printf(",\"audio_reason\":");
    json_string(r->audio_reason[0] ? r->audio_reason : NULL);
    printf(",\"preset\":\"%s\",\"predicted_bytes\":%lld,\"predicted_ssim\":%.5f,\"predicted_temporal_ssim\":%.5f,"
           "\"predicted_psnr\":%.3f,\"expected_seconds\":%.1f},\"decode_seconds\":%.2f,\"time_budget\":%.1f",
           r->quick_preset ? "quick" : "final", (long long)oc->target, r->predicted_ssim, r->predicted_tssim,
           r->predicted_psnr, r->expected_seconds, r->decode_seconds, r->time_budget);
    json_roi(r);
    /* --plan --report: the solver's picture (docs/SHOW.md). */
    printf(",\"plot\":");
    json_string(oc->plot);
    json_name_bytes("plot", oc->plot);
    printf("}\n");
}

/* What the faces are and whether they get the bits (docs/FACES.md). */
static void print_faces(const ShJobResult *r)
{
    if (!r->roi_mode)
        return;
    printf("faces: ");
    if (r->roi_looks > 0)
        printf("%d of %d looks at the samples found a face%s", r->roi_faces, r->roi_looks, r->roi_faces ? "" : ";");
    if (r->roi_looks > 0 && r->roi_faces > 0)
        printf(" (%.0f%% of the picture), ", 100 * r->roi_share);
    else if (r->roi_looks > 0)
        printf(" ");
    printf("regions %s\n", r->roi_reason[0] ? r->roi_reason : "off");
}

void print_plan(const Cli *cli, const Outcome *oc)
{
    const ShJobResult *r = oc->res;
    char t[32];

    if (cli->json) {
        plan_json(oc, r);
        return;
    }
    if (cli->verbosity < 0)
        return;
    printf("%s -> at most %s", sh_display(oc->input), sh_size_format(t, sizeof(t), oc->target));
    /* GIF's fitter has no bitrate, predicts no PSNR and does not time its
     * search: what it does not know is left out, not printed as 0. */
    if (r->searched && r->solver_seconds > 0)
        printf("; quality (luma SSIM, temporal SSIM, PSNR) predicted at %dx%d from %.1f s of samples (%d encodes, %.1f s)\n",
               r->eval_width, r->eval_height, r->sample_seconds, r->sample_encodes, r->solver_seconds);
    else if (r->searched)
        printf("; quality (luma SSIM) predicted at %dx%d from %.1f s of samples (%d encodes)\n",
               r->eval_width, r->eval_height, r->sample_seconds, r->sample_encodes);
    else
        printf("; no search: --no-search, or --height, --fps and --codec all given, or the target is below every\n"
               "  picture's floor, or the input is too short to sample\n");
    if (r->ncandidates)
        printf("  %-8s %-11s %7s %10s %8s %8s %7s %7s %7s\n", "encoder", "picture", "fps", "video b/s", "SSIM",
               "temporal", "PSNR", "score", "final");
    for (int i = 0; i < r->ncandidates; i++) {
        const ShCandidateInfo *c = &r->candidates[i];
        char fin[16] = "";
        if (c->final_ssim > 0)
            snprintf(fin, sizeof(fin), "%.2f", c->final_score_db);
        printf("  %-8s %5dx%-5d %7.3g %10.0f %8.4f %8.4f %7.2f %7.2f %7s%s\n", c->encoder ? c->encoder : "?", c->width,
               c->height, c->fps, c->video_bitrate, c->ssim, c->tssim, c->psnr, c->score_db, fin,
               i == r->chosen ? "  <- chosen" : c->feasible ? "" : "  (cannot reach it)");
    }
    if (r->ncandidates)
        printf("  (SSIM, temporal SSIM, PSNR, score: the search's quick presets; the score is both SSIMs\n"
               "   together in dB, what the solver ranks by; final: the score of each encoder's best rung\n"
               "   again with its final preset, which decides)\n");
    if (r->time_budget > 0) {
        printf("time: one decode of the film %.0f s, the budget %.0f s (%.3g decodes)", r->decode_seconds,
               r->time_budget, r->time_budget / r->decode_seconds);
        for (int i = 0, n = 0; i < r->ncandidates; i++) {
            const ShCandidateInfo *c = &r->candidates[i];
            for (int p = 0; p < 2; p++)
                if (c->expected_seconds[p] > 0)
                    printf("%s%s %dx%d %s preset: score %.2f, ~%.0f s", n++ ? "; " : "\n  ", c->encoder,
                           c->width, c->height, p ? "quick" : "final", p ? c->quick_score_db : c->final_score_db,
                           c->expected_seconds[p]);
        }
        printf("\n");
    }
    print_faces(r);
    printf("chosen: %s %dx%d at %.3g fps%s, ", r->encoder ? r->encoder : "?", r->width, r->height, r->fps,
           r->quick_preset ? " (quick preset)" : "");
    if (r->crop.width)
        printf("cropped to %dx%d at %d,%d, ", r->crop.width, r->crop.height, r->crop.x, r->crop.y);
    if (r->video_bitrate > 0)
        printf("video %lld b/s, ", (long long)r->video_bitrate);
    if (r->audio)
        printf("%s %d b/s %s", r->audio_codec, r->audio_bitrate, r->audio_channels == 1 ? "mono" : "stereo");
    else
        printf("no audio");
    if (r->audio_reason[0])
        printf(" (%s)", r->audio_reason);
    if (r->predicted_ssim > 0 && r->predicted_tssim > 0 && r->predicted_psnr > 0)
        printf("; predicted SSIM %.4f, temporal SSIM %.4f, PSNR %.2f dB", r->predicted_ssim, r->predicted_tssim,
               r->predicted_psnr);
    else if (r->predicted_ssim > 0 && r->predicted_psnr > 0)
        printf("; predicted SSIM %.4f, PSNR %.2f dB", r->predicted_ssim, r->predicted_psnr);
    else if (r->predicted_ssim > 0)
        printf("; predicted SSIM %.4f", r->predicted_ssim);
    if (r->expected_seconds > 0)
        printf("; expected time ~%.0f min (%.1f x one decode)", r->expected_seconds / 60,
               r->expected_seconds / r->decode_seconds);
    printf("\n");
    if (oc->plot)
        printf("plot: %s\n", sh_display(oc->plot));
}
