/*
 * Scale out (docs/SCALE.md): the subcommands that cut one film into chunks
 * for any engine to run. They parse, call src/chunk/ and print; --jobs N
 * for one film runs the same three steps with the same code (jobs.c).
 *
 *   shrink plan IN --target SIZE -o plan.json [--chunks N | --chunk-length T]
 *   shrink plan --rebalance plan.json K=BYTES...
 *   shrink encode-chunk plan.json K -o chunk_K.mp4 [--input IN]
 *   shrink encode-chunk plan.json --list
 *   shrink join plan.json chunk_*.mp4 -o OUT [--force]
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/mem.h>

#include "chunk/chunk.h"
#include "cli/cli.h"
#include "shrink/size.h"

static int chunk_usage(const char *fmt, const char *arg)
{
    fputs("shrink: error: ", stderr);
    fprintf(stderr, fmt, sh_display(arg));
    fputs("\nTry 'shrink --help' (and docs/SCALE.md).\n", stderr);
    return EXIT_USAGE;
}

static int chunk_exit_code(int err, ShPhase phase)
{
    if (err == SH_ERROR_PLAN_INPUT)
        return EXIT_INPUT;
    if (err == SH_ERROR_REDO)
        return EXIT_TOO_SMALL;
    return exit_code_for(err, phase);
}

static void start_logging(Cli *cli)
{
    sh_log_set_callback(log_sink, cli);
    install_signals();
}

/* The directory part of a path, for files named relative to the plan. */
static void dir_of(char *out, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* ---- shrink plan ---- */

static int rebalance(Cli *cli, const char *plan_path, char **args, int nargs)
{
    ShChunkPlan *plan = NULL;
    int *idx = av_calloc(FFMAX(nargs, 1), sizeof(*idx));
    int64_t *budget = av_calloc(FFMAX(nargs, 1), sizeof(*budget));
    int ret, code = EXIT_OK;

    if (!idx || !budget) {
        code = EXIT_OTHER;
        goto end;
    }
    for (int i = 0; i < nargs; i++) {
        char *eq = strchr(args[i], '='), *end;
        long k;
        errno = 0;
        k = strtol(args[i], &end, 10);
        if (!eq || end != eq || errno || k < 0 || k > INT_MAX || sh_size_parse(eq + 1, &budget[i]) < 0) {
            code = chunk_usage("'%s': give chunks to redo as K=BYTES (from shrink join's message)", args[i]);
            goto end;
        }
        idx[i] = (int)k;
    }
    start_logging(cli);
    if ((ret = sh_chunk_plan_read(&plan, plan_path)) < 0) {
        code = EXIT_INPUT;
        goto end;
    }
    if ((ret = sh_chunk_rebalance(plan, idx, budget, nargs)) < 0) {
        code = EXIT_USAGE;
        goto end;
    }
    if ((ret = sh_chunk_plan_write(plan, plan_path)) < 0) {
        code = EXIT_OUTPUT;
        goto end;
    }
    if (cli->verbosity >= 0) {
        printf("%s: ", sh_display(plan_path));
        for (int i = 0; i < nargs; i++)
            printf("%schunk %d now %lld bytes", i ? ", " : "", idx[i], (long long)budget[i]);
        printf("; encode %s again, then join\n", nargs > 1 ? "them" : "it");
    }
end:
    sh_chunk_plan_free(&plan);
    av_free(idx);
    av_free(budget);
    return code;
}

enum {
    SOPT_CHUNKS = OPT_JOB_END,
    SOPT_CHUNK_LENGTH,
    SOPT_AUDIO_OUTPUT,
    SOPT_REBALANCE,
    SOPT_INPUT,
    SOPT_LIST,
};

static int cmd_plan(int argc, char **argv)
{
    static const struct option longopts[] = {
        JOB_OPTIONS,
        { "output",        required_argument, NULL, 'o' },
        { "chunks",        required_argument, NULL, SOPT_CHUNKS },
        { "chunk-length",  required_argument, NULL, SOPT_CHUNK_LENGTH },
        { "audio-output",  required_argument, NULL, SOPT_AUDIO_OUTPUT },
        { "rebalance",     required_argument, NULL, SOPT_REBALANCE },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShOptions *o = &cli.job;
    ShChunkOptions so = { 0 };
    ShChunkPlan *plan = NULL;
    ShJobResult *res = NULL;
    JobArgs ja = { 0 };
    const char *target, *preset, *plan_path = NULL, *rebalance_path = NULL;
    double duration;
    int64_t input_size = -1;
    struct stat sb;
    int c, optidx = 0, ret, code;

    opterr = 0;     /* option_error says it */
    while ((c = getopt_long(argc, argv, "t:o:qv", longopts, &optidx)) != -1) {
        switch (c) {
        case 'o': plan_path = optarg; break;
        case SOPT_CHUNKS:
            if (count_option("--chunks", optarg, SH_CHUNK_MAX, &so.chunks) < 0)
                return EXIT_USAGE;
            break;
        case SOPT_CHUNK_LENGTH:
            if (time_parse(optarg, &so.chunk_seconds) < 0 || !(so.chunk_seconds >= 1))
                return chunk_usage("--chunk-length '%s': a time of at least 1 s", optarg);
            break;
        case SOPT_AUDIO_OUTPUT: so.audio_output = optarg; break;
        case SOPT_REBALANCE: rebalance_path = optarg; break;
        default:
            if ((ret = job_option(c, longopts[optidx].name, optarg, &cli, &ja)) > 0)
                break;
            if (ret < 0)
                return EXIT_USAGE;
            option_error(argv, "t:o:qv");
            return chunk_usage("%s", "shrink plan: bad option");
        }
    }
    target = ja.target;
    preset = ja.preset;
    duration = ja.duration;
    if (rebalance_path)
        return rebalance(&cli, rebalance_path, argv + optind, argc - optind);
    if (optind != argc - 1)
        return chunk_usage("%s", "shrink plan takes one input file");
    o->input = argv[optind];
    if (!plan_path)
        return chunk_usage("%s", "shrink plan: -o PLAN.json is required");
    if (!!target == !!preset)
        return chunk_usage("%s", "shrink plan: give one of --target SIZE or --for SERVICE");
    if (preset && services_load(ja.services) < 0)
        return EXIT_USAGE;
    if (preset && !(cli.target.preset = preset_find(preset)))
        return chunk_usage("--for '%s': not a service I know (see shrink --list-services)", preset);
    if (target && target_parse(target, &cli.target) < 0)
        return chunk_usage("--target '%s': not a size (e.g. 25MB, 8MiB, 500k, 30%%)", target);
    if (so.chunks && so.chunk_seconds > 0)
        return chunk_usage("%s", "--chunks and --chunk-length both set the cut: give one");
    if (o->end > 0 && duration > 0)
        return chunk_usage("%s", "--end and --duration both set the end: give one");
    if (duration > 0)
        o->end = o->start + duration;
    if (o->end > 0 && o->end <= o->start)
        return chunk_usage("%s", "--end is not after --start");
    if (o->end > 0 && o->end - o->start < TRIM_MIN_SECONDS)
        return chunk_usage("%s", "--end/--duration: the trim keeps less than 0.001 s");
    if (stat(o->input, &sb) == 0 && S_ISREG(sb.st_mode))
        input_size = sb.st_size;
    if ((o->target_bytes = target_for(&cli.target, input_size)) <= 0)
        return chunk_usage("'%s': a share of the input's size needs a regular file", o->input);

    start_logging(&cli);
    if (!(res = av_mallocz(sizeof(*res)))) {
        code = EXIT_OTHER;
        goto end;
    }
    ret = sh_chunk_plan(o, &so, plan_path, &plan, res);
    code = chunk_exit_code(ret, res->failed_phase);
    if (ret < 0) {
        if (ret == SH_ERROR_INTERRUPTED && cli.verbosity >= 0)
            fprintf(stderr, "shrink: %s: interrupted; no plan was written\n", sh_display(o->input));
        goto end;
    }
    if (cli.verbosity >= 0) {
        char t[32], a[32];
        printf("%s: %d chunk%s (0-%d) of %s %s %dx%d %.4g fps, audio %s; target %s\n", sh_display(plan_path), plan->nchunks,
               plan->nchunks > 1 ? "s" : "", plan->nchunks - 1, sh_display(o->input), plan->encoder, plan->width,
               plan->height, av_q2d(plan->fps),
               plan->audio_path[0] ? sh_size_format(a, sizeof(a), plan->audio_bytes) : "none",
               sh_size_format(t, sizeof(t), plan->target_bytes));
        if (cli.verbosity > 0)
            for (int k = 0; k < plan->nchunks; k++)
                printf("  chunk %d: %.3f-%.3f s%s, weight %.4f, budget %lld bytes\n", k, plan->chunks[k].start_s,
                       plan->chunks[k].end_s, plan->chunks[k].keyframe ? " (keyframe)" : "", plan->chunks[k].weight,
                       (long long)plan->chunks[k].budget);
    }
end:
    sh_chunk_plan_free(&plan);
    av_free(res);
    return code;
}

/* ---- shrink encode-chunk ---- */

static int cmd_encode_chunk(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output",  required_argument, NULL, 'o' },
        { "input",   required_argument, NULL, SOPT_INPUT },
        { "list",    no_argument,       NULL, SOPT_LIST },
        { "quiet",   no_argument,       NULL, 'q' },
        { "verbose", no_argument,       NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShChunkPlan *plan = NULL;
    ShJobResult *res = NULL;
    const char *output = NULL, *input = NULL;
    int list = 0, k = -1, c, ret, code;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qv", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case SOPT_INPUT: input = optarg; break;
        case SOPT_LIST: list = 1; break;
        case 'q': cli.verbosity = -1; break;
        case 'v': cli.verbosity++; break;
        default: option_error(argv, "o:qv"); return chunk_usage("%s", "shrink encode-chunk: bad option");
        }
    }
    if (optind >= argc)
        return chunk_usage("%s", "shrink encode-chunk PLAN K -o FILE (or PLAN --list)");
    if (!list) {
        char *end;
        long v;
        if (optind + 2 != argc)
            return chunk_usage("%s", "shrink encode-chunk PLAN K -o FILE: one plan and one chunk number");
        errno = 0;
        v = strtol(argv[optind + 1], &end, 10);
        if (end == argv[optind + 1] || *end || errno || v < 0 || v >= SH_CHUNK_MAX)
            return chunk_usage("chunk '%s': a chunk number, from 0", argv[optind + 1]);
        k = (int)v;
        if (!output)
            return chunk_usage("%s", "shrink encode-chunk: -o FILE is required");
    }
    start_logging(&cli);
    if (sh_chunk_plan_read(&plan, argv[optind]) < 0) {
        code = EXIT_INPUT;
        goto end;
    }
    if (list) {
        for (int i = 0; i < plan->nchunks; i++)
            printf("%d\n", i);
        code = EXIT_OK;
        goto end;
    }
    if (k >= plan->nchunks) {
        code = chunk_usage("chunk '%s': past the plan's last chunk", argv[optind + 1]);
        goto end;
    }
    if (!(res = av_mallocz(sizeof(*res)))) {
        code = EXIT_OTHER;
        goto end;
    }
    ret = sh_chunk_encode(plan, k, input, output, res);
    code = chunk_exit_code(ret, ret == SH_ERROR_PLAN_INPUT ? SH_PHASE_INPUT : res->failed_phase);
    if (ret < 0) {
        if (ret == SH_ERROR_TARGET_TOO_SMALL && res->min_bytes > 0)
            fprintf(stderr, "shrink: %s: error: chunk %d's budget of %lld bytes is too small; the smallest it "
                    "can be made in is %lld: plan again with a larger target\n", sh_display(output), k,
                    (long long)plan->chunks[k].budget, (long long)res->min_bytes);
        else if (ret == SH_ERROR_TARGET_TOO_SMALL)
            fprintf(stderr, "shrink: %s: error: chunk %d's budget of %lld bytes is too small for it: plan again "
                    "with a larger target\n", sh_display(output), k, (long long)plan->chunks[k].budget);
        goto end;
    }
    if (cli.verbosity >= 0) {
        char got[32], tgt[32];
        printf("%s: chunk %d, %s of %s (%.1f%%), %.3f-%.3f s, %d encode%s, %.1f s\n", sh_display(output), k,
               sh_size_format(got, sizeof(got), res->bytes), sh_size_format(tgt, sizeof(tgt), plan->chunks[k].budget),
               100.0 * res->bytes / plan->chunks[k].budget, plan->chunks[k].start_s,
               k == plan->nchunks - 1 ? plan->chunks[0].start_s + plan->duration : plan->chunks[k].end_s,
               res->attempts, res->attempts == 1 ? "" : "s", res->seconds);
    }
end:
    sh_chunk_plan_free(&plan);
    av_free(res);
    return code;
}

/* ---- shrink join ---- */

static void print_redo(const char *plan_path, const ShChunkJoinResult *jr)
{
    fprintf(stderr, "shrink: join: encode again:");
    for (int i = 0; i < jr->nredo; i++)
        fprintf(stderr, "%s chunk %d (%lld bytes, budget %lld)", i ? "," : "", jr->redo[i].index,
                (long long)jr->redo[i].bytes, (long long)jr->redo[i].budget);
    fprintf(stderr, "\nshrink: join: shrink plan --rebalance %s", sh_display(plan_path));
    for (int i = 0; i < jr->nredo; i++)
        fprintf(stderr, " %d=%lld", jr->redo[i].index, (long long)jr->redo[i].budget);
    fprintf(stderr, "\n");
}

static int cmd_join(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output",  required_argument, NULL, 'o' },
        { "force",   no_argument,       NULL, 'f' },
        { "quiet",   no_argument,       NULL, 'q' },
        { "verbose", no_argument,       NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShChunkPlan *plan = NULL;
    ShChunkJoinResult jr = { 0 };
    const char *output = NULL;
    char dir[PATH_MAX];
    int force = 0, c, ret, code;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:fqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'f': force = 1; break;
        case 'q': cli.verbosity = -1; break;
        case 'v': cli.verbosity++; break;
        default: option_error(argv, "o:fqv"); return chunk_usage("%s", "shrink join: bad option");
        }
    }
    if (optind + 1 >= argc || !output)
        return chunk_usage("%s", "shrink join PLAN CHUNK... -o FILE");
    start_logging(&cli);
    if (sh_chunk_plan_read(&plan, argv[optind]) < 0) {
        code = EXIT_INPUT;
        goto end;
    }
    dir_of(dir, sizeof(dir), argv[optind]);
    ret = sh_chunk_join(plan, dir, argv + optind + 1, argc - optind - 1, output, force, &jr);
    if (ret == SH_ERROR_REDO)
        print_redo(argv[optind], &jr);
    code = ret >= 0 ? EXIT_OK : ret == SH_ERROR_EXISTS ? EXIT_OUTPUT : ret == SH_ERROR_INTERRUPTED
         ? 128 + (cli_signal ? cli_signal : SIGINT) : ret == SH_ERROR_REDO ? EXIT_TOO_SMALL
         : jr.video_packets || ret == AVERROR(ENOSPC) || ret == AVERROR(EACCES) ? EXIT_OUTPUT : EXIT_INPUT;
    if (ret >= 0 && cli.verbosity >= 0) {
        char got[32], tgt[32];
        printf("%s: %s of %s (%.1f%%), %d chunks joined, %s %dx%d %.4g fps, %s, %.3f s\n", sh_display(output),
               sh_size_format(got, sizeof(got), jr.bytes), sh_size_format(tgt, sizeof(tgt), plan->target_bytes),
               100.0 * jr.bytes / plan->target_bytes, plan->nchunks, plan->codec, plan->width, plan->height,
               av_q2d(plan->fps), plan->audio_path[0] ? "opus" : "no audio", plan->duration);
    }
end:
    sh_chunk_join_result_free(&jr);
    sh_chunk_plan_free(&plan);
    return code;
}

int chunk_main(int argc, char **argv)
{
    /* argv[0] is the subcommand: getopt starts after it. */
    if (!strcmp(argv[0], "plan"))
        return cmd_plan(argc, argv);
    if (!strcmp(argv[0], "encode-chunk"))
        return cmd_encode_chunk(argc, argv);
    return cmd_join(argc, argv);
}

int is_chunk_command(const char *arg)
{
    return !strcmp(arg, "plan") || !strcmp(arg, "encode-chunk") || !strcmp(arg, "join");
}

