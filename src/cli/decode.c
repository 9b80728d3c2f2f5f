/*
 * shrink decode FILE -o OUT: the learned codec's file played back to a file
 * any player takes (docs/NEURAL.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "shrink/neural.h"
#include "shrink/size.h"

static int decode_usage(const char *msg)
{
    fprintf(stderr, "shrink: error: %s\nUsage: shrink decode FILE.shn -o OUT.y4m|OUT.mp4|OUT.mkv|OUT.mov "
            "[--force] [--quiet] [--json]\n", msg);
    return EXIT_USAGE;
}

int decode_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output",  required_argument, NULL, 'o' },
        { "force",   no_argument,       NULL, 'f' },
        { "quiet",   no_argument,       NULL, 'q' },
        { "verbose", no_argument,       NULL, 'v' },
        { "json",    no_argument,       NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShDecodeResult r;
    const char *output = NULL;
    int force = 0, json = 0, c, ret;

    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:fqv", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'f': force = 1; break;
        case 'q': cli.verbosity = -1; break;
        case 'v': cli.verbosity++; break;
        case 'j': json = 1; break;
        default: option_error(argv, "o:fqv"); return decode_usage("shrink decode: bad option");
        }
    }
    if (optind + 1 != argc || !output || !*output)
        return decode_usage("shrink decode takes one file and -o OUT");
    sh_log_set_callback(log_sink, &cli);
    install_signals();
    ret = sh_neural_decode_file(argv[optind], output, force, &r);
    if (ret == SH_ERROR_INTERRUPTED)
        return 128 + (cli_signal ? cli_signal : SIGINT);
    if (ret < 0)
        return r.input_error || ret == AVERROR_INVALIDDATA ? EXIT_INPUT : ret == SH_ERROR_BAD_OPTION ? EXIT_USAGE
                                                                                                   : EXIT_OUTPUT;
    if (json) {
        printf("{\"input\":");
        json_string(argv[optind]);
        printf(",\"output\":");
        json_string(output);
        printf(",\"width\":%d,\"height\":%d,\"fps\":%.6g,\"frames\":%lld,\"duration\":%.3f,\"bytes\":%lld,"
               "\"seconds\":%.3f,\"render_seconds\":%.6f,\"realtime\":%.2f}\n",
               r.width, r.height, r.fps, (long long)r.frames, r.duration, (long long)r.bytes, r.seconds,
               r.render_seconds, r.render_seconds > 0 ? r.duration / r.render_seconds : 0);
    } else if (cli.verbosity >= 0) {
        char got[32];
        printf("%s: %s, %dx%d %.4g fps, %lld frames, %.3f s; rendered %.1fx real time\n", sh_display(output),
               sh_size_format(got, sizeof(got), r.bytes), r.width, r.height, r.fps, (long long)r.frames,
               r.duration, r.render_seconds > 0 ? r.duration / r.render_seconds : 0);
    }
    return EXIT_OK;
}
