/*
 * Fuzz the command line: shrink's real main() (src/cli/main.c, built with
 * -Dmain=sh_cli_main) on an argv cut from the input at NUL bytes, and the
 * CLI's own parsers (target_parse, time_parse) on each argument. The batch
 * and the output-directory creation are replaced at link time
 * (-Wl,--wrap=batch_run,--wrap=make_dirs): nothing is read, written or
 * encoded; the stand-in checks what the parser handed over.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define MAX_ARGS 24

int sh_cli_main(int argc, char **argv);
int __wrap_batch_run(Cli *cli, char *const *args, int nargs);
int __wrap_make_dirs(const char *path);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What main() promises the batch: inputs, a target, sane trims. */
int __wrap_batch_run(Cli *cli, char *const *args, int nargs)
{
    const ShOptions *o = &cli->job;
    CHECK(nargs >= 1);
    for (int i = 0; i < nargs; i++)
        CHECK(args[i] != NULL);
    CHECK(cli->target.bytes > 0 || cli->target.percent > 0 || cli->target.preset);
    CHECK(!(cli->target.percent > 100));
    if (cli->target.preset)
        CHECK(cli->target.preset->bytes > 0 && cli->target.preset->name);
    CHECK(isfinite(o->start) && o->start >= 0);
    CHECK(isfinite(o->end) && o->end >= 0);
    CHECK(o->end == 0 || o->end - o->start >= TRIM_MIN_SECONDS);
    CHECK(o->audio_track >= 0 && o->audio_track <= 1000);
    CHECK(!(o->audio_track && o->no_audio));
    CHECK(o->subs >= SH_SUBS_NONE && o->subs <= 1000);
    CHECK(!(o->force && cli->skip_existing));
    /* solver constraints: 0 is "free", anything else within what --help says */
    CHECK(o->height == 0 || (o->height >= 2 && o->height <= 16384));
    CHECK(o->max_height == 0 || (o->max_height >= 2 && o->max_height <= 16384));
    CHECK(o->fps == 0 || (o->fps >= 0.001 && o->fps <= 1000));
    CHECK(o->min_fps == 0 || (o->min_fps >= 0.001 && o->min_fps <= 1000));
    /* what libopus takes for any source: 256k per channel, and a mono source stays mono */
    CHECK(o->audio_bitrate == 0 || (o->audio_bitrate >= 6000 && o->audio_bitrate <= 256000));
    CHECK(!(o->output && cli->outdir));
    CHECK(cli->verbosity >= -1);
    return EXIT_OK;
}

int __wrap_make_dirs(const char *path)
{
    CHECK(path != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf, *argv[MAX_ARGS + 2];
    int argc = 0, ret;
    size_t i, start = 0;

    if (size > 4096)
        return 0;
    if (!(buf = malloc(size + 1)))
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    argv[argc++] = "shrink";
    for (i = 0; i <= size && argc < MAX_ARGS + 1; i++) {
        if (buf[i])
            continue;
        if (i > start || start < size)
            argv[argc++] = buf + start;
        start = i + 1;
    }
    argv[argc] = NULL;

    /* The pieces main() uses, on every argument. */
    for (int a = 1; a < argc; a++) {
        Target t;
        double s = -1;
        if (target_parse(argv[a], &t) == 0) {
            CHECK(t.bytes > 0 || (t.percent > 0 && t.percent <= 100));
            CHECK(target_for(&t, 1000) > 0 && target_for(&t, -1) >= 0);
        }
        if (time_parse(argv[a], &s) == 0)
            CHECK(isfinite(s) && s >= 0);
        preset_find(argv[a]);
    }

    optind = 0;               /* glibc: start getopt afresh */
    ret = sh_cli_main(argc, argv);
    CHECK(ret >= 0 && ret <= 7);
    cli_signal = 0;
    free(buf);
    return 0;
}
