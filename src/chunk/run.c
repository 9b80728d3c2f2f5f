/*
 * One film through the three steps on one machine (--jobs N): plan into a
 * private temporary directory, the chunk encodes by the caller's engine,
 * join, and the one redo the join may ask for. The decisions (how many
 * chunks, what to redo at what budget, when to give up) are made here; the
 * caller only runs encodes (the CLI: its own binary's encode-chunk, N
 * processes at a time).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>

#include "chunk/chunk.h"
#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"

/* Chunks at most (each is a registered temporary file). */
#define SH_CHUNK_RUN_MAX 16
/* About this long each, and at least two a worker, so a slow chunk does not hold up the rest. */
#define SH_CHUNK_RUN_SECONDS 60

static void remove_dir_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path))
            unlink(path);
    }
    closedir(d);
}

int sh_chunk_join_redo(ShChunkPlan *plan, const char *plan_path, const char *plan_dir, char *const *files,
                       const char *output, int force, const ShChunkEngine *eng, ShChunkJoinResult *jr,
                       ShPhase *phase)
{
    int *which = NULL;
    int64_t *budget = NULL;
    int n, ret;

    *phase = SH_PHASE_OUTPUT;
    ret = sh_chunk_join(plan, plan_dir, files, plan->nchunks, output, force, jr);
    if (ret != SH_ERROR_REDO || !jr->nredo)
        goto end;
    /* The estimate of the joined container was short: once, the chunks it names at their new budgets. */
    n = jr->nredo;
    if (!(which = av_calloc(n, sizeof(*which))) || !(budget = av_calloc(n, sizeof(*budget)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int i = 0; i < n; i++) {
        which[i] = jr->redo[i].index;
        budget[i] = jr->redo[i].budget;
    }
    ret = sh_chunk_rebalance(plan, which, budget, n);
    sh_chunk_join_result_free(jr);
    if (ret < 0 || (ret = sh_chunk_plan_write(plan, plan_path)) < 0)
        goto end;
    *phase = SH_PHASE_ENCODE;
    if ((ret = eng->encode(eng->opaque, plan, plan_path, files, which, n, phase)) < 0)
        goto end;
    *phase = SH_PHASE_OUTPUT;
    ret = sh_chunk_join(plan, plan_dir, files, plan->nchunks, output, force, jr);
end:
    /* Twice over: the budgets cannot be met. */
    if (ret == SH_ERROR_REDO)
        ret = SH_ERROR_TARGET_TOO_SMALL;
    av_free(which);
    av_free(budget);
    return ret;
}

int sh_chunk_run_film(const ShOptions *o, const ShChunkEngine *eng, ShJobResult *res)
{
    ShChunkOptions so = { 0 };
    ShChunkPlan *plan = NULL;
    ShChunkJoinResult jr = { 0 };
    char dir[PATH_MAX] = "", plan_path[PATH_MAX] = "", audio_path[PATH_MAX] = "", (*chunk)[PATH_MAX] = NULL;
    char **names = NULL;
    int *which = NULL, ret;
    ShPhase phase = SH_PHASE_SETUP;
    double t0;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = ts.tv_sec + ts.tv_nsec / 1e9;
    /* Refuse now what the join's rename would refuse after all the encoding. */
    if ((ret = sh_output_check(o->input, o->output, o->force)) < 0)
        goto end;
    if ((ret = sh_temp_mkdir(dir, sizeof(dir))) < 0) {
        sh_log(SH_LOG_ERROR, NULL, "cannot create a temporary directory (TMPDIR): %s", av_err2str(ret));
        dir[0] = 0;
        goto end;
    }
    snprintf(plan_path, sizeof(plan_path), "%.4000s/plan.json", dir);
    snprintf(audio_path, sizeof(audio_path), "%.4000s/plan.audio.mp4", dir);
    if ((ret = sh_temp_register(plan_path)) < 0 || (ret = sh_temp_register(audio_path)) < 0)
        goto end;
    so.chunk_seconds = SH_CHUNK_RUN_SECONDS;
    so.min_chunks = FFMAX(eng->workers, 1) * 2;
    so.max_chunks = SH_CHUNK_RUN_MAX;
    so.audio_output = audio_path;
    phase = SH_PHASE_PLAN;
    if ((ret = sh_chunk_plan(o, &so, plan_path, &plan, res)) < 0) {
        phase = res->failed_phase ? res->failed_phase : SH_PHASE_INPUT;
        goto end;
    }
    if (!(chunk = av_calloc(plan->nchunks, sizeof(*chunk))) || !(names = av_calloc(plan->nchunks, sizeof(*names))) ||
        !(which = av_calloc(plan->nchunks, sizeof(*which)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int k = 0; k < plan->nchunks; k++) {
        snprintf(chunk[k], PATH_MAX, "%.4000s/chunk_%d.mp4", dir, k);
        names[k] = chunk[k];
        which[k] = k;
        if ((ret = sh_temp_register(chunk[k])) < 0)
            goto end;
    }
    phase = SH_PHASE_ENCODE;
    if ((ret = eng->encode(eng->opaque, plan, plan_path, names, which, plan->nchunks, &phase)) < 0)
        goto end;
    if ((ret = sh_chunk_join_redo(plan, plan_path, dir, names, o->output, o->force, eng, &jr, &phase)) < 0)
        goto end;
    res->bytes = jr.bytes;
    res->duration = plan->duration;
    res->attempts = plan->nchunks;
    snprintf(res->output, sizeof(res->output), "%s", o->output);
end:
    if (ret == SH_ERROR_EXISTS)
        phase = SH_PHASE_SETUP;
    if (dir[0]) {
        remove_dir_files(dir);
        if (chunk)
            for (int k = 0; k < plan->nchunks; k++)
                sh_temp_forget(chunk[k]);
        sh_temp_remove(plan_path);
        sh_temp_remove(audio_path);
        sh_temp_remove(dir);
    }
    sh_chunk_join_result_free(&jr);
    sh_chunk_plan_free(&plan);
    av_free(chunk);
    av_free(names);
    av_free(which);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    res->seconds = ts.tv_sec + ts.tv_nsec / 1e9 - t0;
    res->failed_phase = ret < 0 ? (ret == SH_ERROR_TARGET_TOO_SMALL ? SH_PHASE_PLAN : phase) : SH_PHASE_NONE;
    return ret;
}
