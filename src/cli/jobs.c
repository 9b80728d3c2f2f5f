/*
 * --jobs N: one film's chunks in parallel processes (the library decides
 * the cut, the budgets and the redo: src/chunk/run.c; this file only runs
 * the encodes), or the inputs of a batch, each in its own process.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavutil/mem.h>

#include "chunk/chunk.h"
#include "cli/cli.h"
#include "common/temp.h"
#include "common/tmpspace.h"

extern char **environ;

int count_option(const char *opt, const char *arg, int max, int *out)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(arg, &end, 10);
    if (end == arg || *end || errno || v < 1 || v > max) {
        fprintf(stderr, "shrink: error: %s '%s': a whole number from 1 to %d\n", opt, sh_display(arg), max);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* ---- --jobs N for one film: the chunk encodes, in processes of this binary ---- */

/* A child's exit code back into an error and the phase it stands for. */
static int child_error(int code, ShPhase *phase)
{
    switch (code) {
    case EXIT_INPUT:     *phase = SH_PHASE_INPUT;  return AVERROR_INVALIDDATA;
    case EXIT_TOO_SMALL: *phase = SH_PHASE_PLAN;   return SH_ERROR_TARGET_TOO_SMALL;
    case EXIT_ENCODER:   *phase = SH_PHASE_ENCODE; return AVERROR_EXTERNAL;
    case EXIT_OUTPUT:    *phase = SH_PHASE_OUTPUT; return AVERROR(EIO);
    case EXIT_USAGE:     *phase = SH_PHASE_SETUP;  return SH_ERROR_BAD_OPTION;
    default:
        *phase = SH_PHASE_NONE;
        return code >= 128 ? SH_ERROR_INTERRUPTED : AVERROR_EXTERNAL;
    }
}

/* Pass the signal on to the children still running (a terminal's Ctrl-C
 * reached them already; a kill did not). */
static void pass_signal(const pid_t *pid, int n)
{
    for (int i = 0; i < n; i++)
        if (pid[i] > 0)
            kill(pid[i], cli_signal);
}

/*
 * Wait for one of the n children in pid[] and clear its slot. Returns the
 * slot (-3 for a child not in the list), -1 when interrupted (a signal of
 * ours is passed on to the children first: wait again), -2 when none is left.
 */
static int wait_child(pid_t *pid, int n, int *status)
{
    pid_t done = waitpid(-1, status, 0);
    if (done < 0) {
        if (errno == EINTR && cli_signal)
            pass_signal(pid, n);
        return errno == ECHILD ? -2 : -1;
    }
    for (int i = 0; i < n; i++)
        if (pid[i] == done) {
            pid[i] = 0;
            return i;
        }
    return -3;
}

typedef struct Engine {
    const Cli *cli;
    int bound_set;
} Engine;

/* An ShChunkEngine's encode: encode-chunk for each of the chunks, cli->jobs at a time. Returns 0 or the first failure. */
static int encode_chunks(void *opaque, const ShChunkPlan *plan, const char *plan_path, char *const *files,
                         const int *which, int n, ShPhase *phase)
{
    Engine *eng = opaque;
    const Cli *cli = eng->cli;
    pid_t *pid;
    posix_spawn_file_actions_t fa;
    int next = 0, running = 0, ret = 0;

    if (!eng->bound_set) {
        /* The chunk encodes running at once share the bound on temporary disk. */
        int64_t bound;
        int given;
        char v[32];
        if ((ret = sh_tmp_bound(plan->target_bytes, &bound, &given)) < 0) {
            *phase = SH_PHASE_PLAN;
            return ret;
        }
        snprintf(v, sizeof(v), "%lld", (long long)FFMAX(bound / FFMAX(cli->jobs, 1), 1));
        setenv("SHRINK_TMP_MAX", v, 1);
        eng->bound_set = 1;
    }
    if (!(pid = av_calloc(FFMAX(n, 1), sizeof(*pid))))
        return AVERROR(ENOMEM);
    /* Their result lines are not ours (stdout is the batch's); their messages are (stderr). */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    while (next < n || running) {
        int status, code;
        int slot;
        while (!ret && !cli_signal && next < n && running < cli->jobs) {
            char num[16];
            char *args[] = { "shrink", "encode-chunk", (char *)plan_path, num, "-o", files[which[next]],
                             cli->verbosity > 0 ? "-v" : "-q", NULL };
            snprintf(num, sizeof(num), "%d", which[next]);
            /* The same binary, whatever PATH says: the one code path for every engine. */
            if ((code = posix_spawn(&pid[next], "/proc/self/exe", &fa, NULL, args, environ))) {
                fprintf(stderr, "shrink: error: cannot start a chunk encode: %s\n", strerror(code));
                ret = AVERROR(code);
                break;
            }
            next++;
            running++;
        }
        if (!running)
            break;
        if ((slot = wait_child(pid, next, &status)) == -2)
            break;
        if (slot == -1)
            continue;
        running--;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code && !ret)
            ret = child_error(code, phase);
    }
    posix_spawn_file_actions_destroy(&fa);
    av_free(pid);
    if (cli_signal)
        ret = SH_ERROR_INTERRUPTED;
    return ret;
}

int chunk_run_film(const Cli *cli, const ShOptions *o, ShJobResult *res)
{
    Engine e = { .cli = cli };
    ShChunkEngine eng = { .encode = encode_chunks, .opaque = &e, .workers = cli->jobs };
    return sh_chunk_run_film(o, &eng, res);
}

int jobs_option(const char *arg, int *jobs)
{
    return count_option("--jobs", arg, 256, jobs);
}

int chunk_applies(const Cli *cli, const ShOptions *o)
{
    const char *ext = o->output ? strrchr(o->output, '.') : NULL;
    /* Chunks are MP4 and joined into MP4; --plan and --report are the whole-film job's. */
    return cli->jobs > 1 && !o->plan_only && !o->report && ext && !strcasecmp(ext, ".mp4") &&
           (!o->format || !strcmp(o->format, "mp4"));
}

/* ---- --jobs N over a batch: each input in its own process ---- */

/*
 * Peak memory planned for one job: 397 MB measured for a 720p film (frame
 * cache 96 MiB, x264's lookahead and references, libav); the cache spills
 * to disk beyond its bound, so a longer film does not need more. --jobs is
 * lowered so that jobs x this stays within MemAvailable.
 */
#define JOB_MEMORY ((int64_t)640 << 20)

static int jobs_for_memory(const Cli *cli, int want)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[128];
    long long kb = -1;
    int n;
    if (!f)
        return want;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
            break;
    fclose(f);
    if (kb <= 0)
        return want;
    n = (int)FFMAX(1, FFMIN(want, kb * 1024 / JOB_MEMORY));
    if (n < want && cli->verbosity >= 0)
        fprintf(stderr, "shrink: warning: --jobs %d: %lld MB of memory available, %d jobs at a time\n", want,
                kb / 1024, n);
    return n;
}

int run_parallel(const Cli *cli, int n, ItemFn fn, void *ctx, int *codes, int *actions)
{
    pid_t *pid = av_calloc(FFMAX(n, 1), sizeof(*pid));
    FILE **out = av_calloc(FFMAX(n, 1), sizeof(*out));
    /* Shared with the children: each writes its own code and action there. */
    int *shared = mmap(NULL, sizeof(int) * 2 * FFMAX(n, 1), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int jobs = jobs_for_memory(cli, cli->jobs), next = 0, running = 0, printed = 0, ret = 0;

    /* The jobs running at once share the bound on temporary disk. */
    sh_tmp_set_share(jobs);

    if (!pid || !out || shared == MAP_FAILED) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int i = 0; i < 2 * n; i++)
        shared[i] = -1;
    while (printed < n) {
        int status;
        int slot;
        while (!cli_signal && next < n && running < jobs) {
            if (!(out[next] = sh_temp_anon())) {
                ret = AVERROR(errno);
                goto wait_all;
            }
            fflush(stdout);
            fflush(stderr);
            if ((pid[next] = fork()) < 0) {
                ret = AVERROR(errno);
                goto wait_all;
            }
            if (!pid[next]) {
                /* The child: its result line into its file, printed in input order by the parent. */
                Action action = ACTION_FAILED;
                int code;
                dup2(fileno(out[next]), STDOUT_FILENO);
                code = fn(ctx, next, &action);
                fflush(stdout);
                shared[2 * next] = code;
                shared[2 * next + 1] = action;
                _exit(0);
            }
            next++;
            running++;
        }
        /* Results in input order, as soon as all before them are in. */
        while (printed < next && !pid[printed]) {
            char buf[4096];
            size_t got;
            rewind(out[printed]);
            while ((got = fread(buf, 1, sizeof(buf), out[printed])) > 0)
                fwrite(buf, 1, got, stdout);
            fflush(stdout);
            fclose(out[printed]);
            out[printed] = NULL;
            codes[printed] = shared[2 * printed] >= 0 ? shared[2 * printed] : EXIT_OTHER;
            actions[printed] = shared[2 * printed + 1] >= 0 ? shared[2 * printed + 1] : ACTION_FAILED;
            printed++;
        }
        if (printed == n || (!running && (cli_signal || next == n)))
            break;
        if ((slot = wait_child(pid, next, &status)) == -2)
            break;
        if (slot == -1)
            continue;
        if (slot >= 0 && !WIFEXITED(status) && shared[2 * slot] < 0)
            shared[2 * slot] = 128 + WTERMSIG(status);
        running--;
    }
    goto end;
wait_all:
    while (running > 0 && waitpid(-1, NULL, 0) > 0)
        running--;
end:
    for (int i = 0; out && i < n; i++)
        if (out[i])
            fclose(out[i]);
    if (shared != MAP_FAILED && shared) {
        for (int i = printed; i < n; i++) {
            codes[i] = -1;     /* not run */
            actions[i] = ACTION_FAILED;
        }
        munmap(shared, sizeof(int) * 2 * FFMAX(n, 1));
    }
    av_free(pid);
    av_free(out);
    return ret < 0 ? ret : printed;
}
