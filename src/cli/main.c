/*
 * The shrink command: options, messages, exit codes. The only part that prints.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shrink/shrink.h"
#include "shrink/size.h"

enum {
    EXIT_OK = 0,
    EXIT_FAILURE_OTHER = 1,
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,
    EXIT_TOO_SMALL = 4,
    EXIT_ENCODER = 5,
    EXIT_OUTPUT = 6,
};

typedef struct Cli {
    int verbosity;            /* -1 quiet, 0 normal, 1 verbose, 2 debug */
    int json;
} Cli;

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    if (got_signal) {
        /* Second signal: no more waiting for the job to unwind. */
        sh_temp_cleanup_all();
        _exit(128 + sig);
    }
    got_signal = sig;
    sh_job_interrupt();
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static void log_sink(void *opaque, ShLogLevel level, const char *file, const char *msg)
{
    const Cli *cli = opaque;
    static const char *const names[] = { "error", "warning", "info", "verbose", "debug" };
    /* errors always; warnings unless -q; info and verbose with -v; debug with -vv */
    int need = level <= SH_LOG_ERROR ? -1 : level == SH_LOG_WARNING ? 0 : level <= SH_LOG_VERBOSE ? 1 : 2;
    if (cli->verbosity < need)
        return;
    if (file)
        fprintf(stderr, "shrink: %s: %s: %s\n", file, names[level], msg);
    else
        fprintf(stderr, "shrink: %s: %s\n", names[level], msg);
}

static void usage(FILE *f)
{
    fprintf(f,
"Usage: shrink INPUT --target SIZE [options]\n"
"Fit a video into SIZE bytes: the output is never larger.\n"
"\n"
"  -t, --target SIZE   the ceiling for the output file (required)\n"
"                      units, case-insensitive: B; k or KB = 1000; KiB = 1024;\n"
"                      M or MB = 1000^2; MiB = 1024^2; G or GB = 1000^3; GiB = 1024^3\n"
"                      fractions are fine: 1.44MB, 0.5GiB; a bare number is bytes\n"
"  -o, --output FILE   where to write (default: INPUT's stem + .shrunk.mp4, beside it)\n"
"  -f, --force         replace FILE if it exists (never the input itself)\n"
"      --no-audio      drop the audio whatever the budget\n"
"      --json          print the result as one JSON object on stdout\n"
"  -q, --quiet         print nothing but errors\n"
"  -v, --verbose       print the plan and each encode attempt on stderr (-vv: libav too)\n"
"  -h, --help          this help\n"
"  -V, --version       the version\n"
"\n"
"Exit codes: 0 done; 1 other failure; 2 usage error; 3 input unreadable or not a\n"
"video; 4 target too small (the message says the smallest size that works);\n"
"5 encoder failure; 6 output cannot be written (exists, is the input, no room);\n"
"128+N killed by signal N (130 Ctrl-C, 143 SIGTERM): no partial file is left.\n");
}

static void json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void print_json(const ShOptions *o, const ShJobResult *r, int err)
{
    char ebuf[128];
    printf("{\"input\":");
    json_string(stdout, o->input);
    printf(",\"output\":");
    json_string(stdout, err ? NULL : r->output);
    printf(",\"target\":%lld,\"bytes\":%lld,\"ratio\":%.4f", (long long)o->target_bytes,
           (long long)r->bytes, o->target_bytes ? (double)r->bytes / o->target_bytes : 0);
    printf(",\"codec\":");
    json_string(stdout, r->codec);
    printf(",\"width\":%d,\"height\":%d,\"fps\":%.4f,\"duration\":%.3f", r->width, r->height, r->fps, r->duration);
    if (r->audio)
        printf(",\"audio\":{\"codec\":\"%s\",\"bitrate\":%d,\"channels\":%d}", r->audio_codec,
               r->audio_bitrate, r->audio_channels);
    else
        printf(",\"audio\":null");
    printf(",\"video_bitrate\":%lld,\"attempts\":%d,\"seconds\":%.2f", (long long)r->video_bitrate,
           r->attempts, r->seconds);
    if (err == SH_ERROR_TARGET_TOO_SMALL && r->min_bytes > 0)
        printf(",\"min_bytes\":%lld", (long long)r->min_bytes);
    printf(",\"error\":");
    json_string(stdout, err ? sh_strerror(err, ebuf, sizeof(ebuf)) : NULL);
    printf("}\n");
}

static void print_summary(const ShOptions *o, const ShJobResult *r)
{
    char got[32], tgt[32];
    printf("%s: %s of %s (%.1f%%), %s %dx%d %.3g fps", r->output,
           sh_size_format(got, sizeof(got), r->bytes), sh_size_format(tgt, sizeof(tgt), o->target_bytes),
           100.0 * r->bytes / o->target_bytes, r->codec, r->width, r->height, r->fps);
    if (r->audio)
        printf(", %s %d kb/s %s", r->audio_codec, r->audio_bitrate / 1000,
               r->audio_channels == 1 ? "mono" : "stereo");
    else
        printf(", no audio");
    printf(", %d encode%s, %.1f s\n", r->attempts, r->attempts == 1 ? "" : "s", r->seconds);
}

static int exit_code(int err, ShPhase phase)
{
    if (err >= 0)
        return EXIT_OK;
    if (err == SH_ERROR_INTERRUPTED)
        return 128 + (got_signal ? got_signal : SIGINT);
    if (err == SH_ERROR_TARGET_TOO_SMALL)
        return EXIT_TOO_SMALL;
    switch (phase) {
    case SH_PHASE_SETUP:
    case SH_PHASE_OUTPUT: return EXIT_OUTPUT;
    case SH_PHASE_INPUT:  return EXIT_INPUT;
    case SH_PHASE_ENCODE: return EXIT_ENCODER;
    default:              return EXIT_FAILURE_OTHER;
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "target",   required_argument, NULL, 't' },
        { "output",   required_argument, NULL, 'o' },
        { "force",    no_argument,       NULL, 'f' },
        { "no-audio", no_argument,       NULL, 'A' },
        { "json",     no_argument,       NULL, 'J' },
        { "quiet",    no_argument,       NULL, 'q' },
        { "verbose",  no_argument,       NULL, 'v' },
        { "help",     no_argument,       NULL, 'h' },
        { "version",  no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShOptions o = { 0 };
    ShJobResult r;
    const char *target = NULL;
    int c, ret;

    while ((c = getopt_long(argc, argv, "t:o:fqvhV", longopts, NULL)) != -1) {
        switch (c) {
        case 't': target = optarg; break;
        case 'o': o.output = optarg; break;
        case 'f': o.force = 1; break;
        case 'A': o.no_audio = 1; break;
        case 'J': cli.json = 1; break;
        case 'q': cli.verbosity = -1; break;
        case 'v': cli.verbosity++; break;
        case 'h': usage(stdout); return EXIT_OK;
        case 'V': printf("shrink %s\n", SHRINK_VERSION); return EXIT_OK;
        default:
            fprintf(stderr, "Try 'shrink --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "shrink: error: no input file\nTry 'shrink --help'.\n");
        return EXIT_USAGE;
    }
    if (argc - optind > 1) {
        fprintf(stderr, "shrink: error: one input file at a time\n");
        return EXIT_USAGE;
    }
    o.input = argv[optind];
    if (!target) {
        fprintf(stderr, "shrink: error: --target SIZE is required (e.g. --target 25MB)\n");
        return EXIT_USAGE;
    }
    if ((ret = sh_size_parse(target, &o.target_bytes)) < 0) {
        fprintf(stderr, "shrink: error: --target '%s': %s (e.g. 25MB, 8MiB, 500k)\n", target,
                ret == AVERROR(ERANGE) ? "too large" : "not a size");
        return EXIT_USAGE;
    }

    sh_log_set_callback(log_sink, &cli);
    install_signals();
    ret = sh_job_run(&o, &r);

    if (ret == SH_ERROR_TARGET_TOO_SMALL) {
        char tgt[32], min[32];
        if (r.min_bytes > 0)
            fprintf(stderr, "shrink: %s: error: target %s is too small; the smallest output that works is %s (--target %lld)\n",
                    o.input, sh_size_format(tgt, sizeof(tgt), o.target_bytes),
                    sh_size_format(min, sizeof(min), r.min_bytes), (long long)r.min_bytes);
        else
            fprintf(stderr, "shrink: %s: error: target %s is too small for this video\n", o.input,
                    sh_size_format(tgt, sizeof(tgt), o.target_bytes));
    } else if (ret == SH_ERROR_INTERRUPTED && cli.verbosity >= 0) {
        fprintf(stderr, "shrink: %s: interrupted; nothing was written\n", o.input);
    }
    if (cli.json)
        print_json(&o, &r, ret < 0 ? ret : 0);
    else if (ret >= 0 && cli.verbosity >= 0)
        print_summary(&o, &r);
    return exit_code(ret, r.failed_phase);
}
