/*
 * The shrink command: options, messages, signals. The batch, the results and
 * the progress line are in the other files of src/cli/ (see cli.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "cli/cli.h"
#include "shrink/shrink.h"
#include "shrink/size.h"

volatile sig_atomic_t cli_signal;

static void on_signal(int sig)
{
    if (cli_signal) {
        /* Second signal: no more waiting for the job to unwind. */
        sh_temp_cleanup_all();
        _exit(128 + sig);
    }
    cli_signal = sig;
    sh_job_interrupt();
}

void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Over a file-size limit (ulimit -f) a write fails with EFBIG, reported and cleaned up. */
    signal(SIGXFSZ, SIG_IGN);
}

void log_sink(void *opaque, ShLogLevel level, const char *file, const char *msg)
{
    Cli *cli = opaque;
    static const char *const names[] = { "error", "warning", "info", "verbose", "debug" };
    /* errors always; warnings unless -q; info and verbose with -v; debug with -vv */
    int need = level <= SH_LOG_ERROR ? -1 : level == SH_LOG_WARNING ? 0 : level <= SH_LOG_VERBOSE ? 1 : 2;
    if (cli->verbosity < need)
        return;
    char text[4 * 1024 + 4], name[SH_DISPLAY_MAX];
    progress_clear(&cli->progress);
    /* Messages quote names (and libav's lines, at -vv, anything): never a raw control
     * character. Buffers of our own: the solver's threads log too. */
    sh_display_into(text, sizeof(text), msg);
    if (file)
        fprintf(stderr, "shrink: %s: %s: %s\n", sh_display_into(name, sizeof(name), file), names[level], text);
    else
        fprintf(stderr, "shrink: %s: %s\n", names[level], text);
}

/* 1457664 -> "1,457,664": a byte count people can read. */
static const char *group_digits(char *buf, size_t len, int64_t v)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%lld", (long long)v), o = 0;
    for (int i = 0; i < n && o + 2 < (int)len; i++) {
        if (i && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = 0;
    return buf;
}

/* Words of s on lines of at most width columns, each after indent spaces. */
static void print_wrapped(FILE *f, const char *s, int indent, int width)
{
    int col = 0;
    while (*s) {
        int w = (int)strcspn(s, " ");
        if (col && col + 1 + w > width) {
            fputc('\n', f);
            col = 0;
        }
        if (!col)
            col = fprintf(f, "%*s", indent, "");
        else
            col += fprintf(f, " ");
        col += fprintf(f, "%.*s", w, s);
        s += w;
        s += strspn(s, " ");
    }
    fputc('\n', f);
}

/* The services of the table in force, as --help and --list-services show them. */
static void print_services(FILE *f, int provenance)
{
    const Preset *p;
    char size[32];
    int n;
    p = services_table(&n);
    for (int i = 0; i < n; i++, p++) {
        fprintf(f, "  %-9s %13s B, for a limit of %s", p->name, group_digits(size, sizeof(size), p->bytes), p->limit);
        if (provenance)
            fprintf(f, " (checked %s; %s%s", p->checked, p->source ? sh_display(p->source) : "built in",
                    p->source ? "" : ")");
        if (provenance && p->source)
            fprintf(f, ":%d)", p->line);
        fprintf(f, ":\n");
        print_wrapped(f, sh_display(p->basis), 14, 79);
    }
}

/* --list-services: the table in force and where each row came from (JSON with --json). */
static int list_services(const char *file, int json)
{
    const ServiceSource *src;
    const Preset *p;
    int n, ns;
    if (services_load(file) < 0)
        return EXIT_USAGE;
    p = services_table(&n);
    src = services_sources(&ns);
    if (json) {
        fputs("{\"services\":[", stdout);
        for (int i = 0; i < n; i++) {
            printf("%s{\"name\":", i ? "," : "");
            json_string(p[i].name);
            printf(",\"bytes\":%lld,\"label\":", (long long)p[i].bytes);
            json_string(p[i].limit);
            fputs(",\"basis\":", stdout);
            json_string(p[i].basis);
            fputs(",\"checked\":", stdout);
            json_string(p[i].checked);
            fputs(",\"source\":", stdout);
            json_string(p[i].source);
            json_name_bytes("source", p[i].source);
            if (p[i].source)
                printf(",\"line\":%d}", p[i].line);
            else
                fputs(",\"line\":null}", stdout);
        }
        fputs("],\"sources\":[{\"kind\":\"built-in\",\"path\":null,\"rows\":", stdout);
        printf("%d,\"checked\":\"%s\"}", services_builtin_count(), PRESETS_CHECKED);
        for (int i = 0; i < ns; i++) {
            printf(",{\"kind\":\"%s\",\"path\":", src[i].kind);
            json_string(src[i].path);
            json_name_bytes("path", src[i].path);
            if (src[i].rows >= 0)
                printf(",\"rows\":%d}", src[i].rows);
            else
                fputs(",\"rows\":null}", stdout);
        }
        fputs("]}\n", stdout);
        return EXIT_OK;
    }
    printf("Services for --for, the table in force (each source adds services and replaces\n"
           "earlier ones of the same name; format: docs/SERVICES.md):\n"
           "  built in: %d services, checked %s\n", services_builtin_count(), PRESETS_CHECKED);
    for (int i = 0; i < ns; i++)
        if (src[i].rows >= 0)
            printf("  %s: %s: %d service%s\n", src[i].kind, sh_display(src[i].path), src[i].rows,
                   src[i].rows == 1 ? "" : "s");
        else
            printf("  %s: %s: not present\n", src[i].kind, sh_display(src[i].path));
    printf("\n");
    print_services(stdout, 1);
    return EXIT_OK;
}

static void usage(FILE *f, const char *services)
{
    char codecs[256];
    fprintf(f,
"Usage: shrink INPUT... (--target SIZE | --for SERVICE) [options]\n"
"Fit videos into a size: each output is never larger than the target.\n"
"INPUT is a file or a directory (walked for video files, by extension).\n"
"\n"
"Target (one of):\n"
"  -t, --target SIZE     the ceiling for each output file: a size with a unit,\n"
"                        case-insensitive: B; k or KB = 1000; KiB = 1024;\n"
"                        M or MB = 1000^2; MiB = 1024^2; G or GB = 1000^3;\n"
"                        GiB = 1024^3 (1.44MB is fine; a bare number is bytes);\n"
"                        or N%% of each input's size (30%%)\n"
"      --for SERVICE     the target for a service's upload limit (see below), in\n"
"                        H.264 unless --codec or --format says otherwise\n"
"      --services FILE   more services, or other limits, for --for (after the\n"
"                        installed file and ~/.config/shrink/services;\n"
"                        docs/SERVICES.md)\n"
"      --list-services   print the services in force, where each comes from,\n"
"                        and exit\n"
"\n"
"Output:\n"
"  -o, --output FILE     where to write, for one input (default: INPUT's stem +\n"
"                        .shrunk.FORMAT, beside it); its extension sets the format\n"
"      --format FORMAT   mp4 (default), mov, mkv, webm, gif, or shn (the learned\n"
"                        codec's own file, experimental: docs/NEURAL.md)\n"
"      --codec NAME      the video encoder (default: auto, the solver picks):\n"
"                        %s\n"
"      --speed SPEED     fast, balanced (default) or best: how long the encoders\n"
"                        may take\n"
"      --outdir DIR      write every output into DIR (created if missing),\n"
"                        keeping the layout under a named directory\n"
"  -f, --force           replace an output that exists (never an input)\n"
"      --skip-existing   skip inputs whose output exists: a rerun resumes a batch\n"
"      --jobs N          N at a time: N files of a batch, or one film cut into\n"
"                        chunks encoded in parallel (docs/SCALE.md; also the\n"
"                        subcommands plan, encode-chunk and join)\n"
"      --skip-fitting    skip inputs that already fit (default: copy them as they\n"
"                        are, to STEM.shrunk.EXT: never bigger than the input)\n"
"\n"
"Trim and select:\n"
"      --start TIME      begin at TIME into the input (default: 0)\n"
"      --end TIME        stop at TIME into the input (default: its end)\n"
"      --duration TIME   stop TIME after the start (instead of --end)\n"
"                        TIME is seconds (90, 12.5) or [HH:]MM:SS[.mmm]\n"
"      --audio-track N   use the N-th audio stream of the file, from 1\n"
"                        (default: the best one)\n"
"      --no-audio        drop the audio whatever the budget\n"
"      --subs WHICH      text subtitle tracks to keep: all (default), none, or\n"
"                        N, the N-th subtitle stream of the file, from 1\n"
"\n"
"Picture and sound (default: the solver measures samples and chooses):\n"
"      --height N        output display height in pixels (2 to 16384)\n"
"      --max-height N    at most N pixels high\n"
"      --fps F           output frame rate, 0.001 to 1000 (frames are dropped,\n"
"                        never added)\n"
"      --min-fps F       at least F frames per second\n"
"      --audio-bitrate R Opus bitrate from 6k to 256k, e.g. 24k (default: about\n"
"                        12%% of the budget, 6k to 128k; none when it would take\n"
"                        over a third)\n"
"      --hdr MODE        HDR sources (PQ, HLG): tonemap (default) to SDR BT.709,\n"
"                        or keep (10-bit, BT.2020; not for GIF)\n"
"      --deinterlace M   auto (default: when the stream says interlaced), on, off\n"
"      --crop C          black bars: auto (default: found on frames spread over\n"
"                        the film, cut before scaling), off, or W:H:X:Y (the\n"
"                        W x H pixels at X,Y of the picture as shown)\n"
"      --roi M           faces get the bits: auto (default: faces looked for on\n"
"                        the samples, and given more of the bits where that\n"
"                        measures better, faces weighed with the whole\n"
"                        picture), faces (wherever found), off (docs/FACES.md)\n"
"      --time-limit T    the learned codec (--codec neural) fits for at most T\n"
"                        (seconds or [HH:]MM:SS; default 60 s + 2 s a second\n"
"                        of film, at most 30 minutes); 'shrink decode F -o\n"
"                        OUT.mp4|.y4m' plays its file back\n"
"      --no-search       plan by the bits-per-pixel rule alone: no sample\n"
"                        encodes, faster, the picture, rate and encoder the\n"
"                        rule's (video formats; a GIF is always fitted)\n"
"      --plan            print the solver's decision (candidates, predicted\n"
"                        quality and size) and write nothing\n"
"      --report          after encoding, measure the output against the source:\n"
"                        luma SSIM, temporal SSIM (of frame differences) and\n"
"                        PSNR at the display size (at most 720p), as the solver\n"
"                        predicts them (docs/SOLVER.md); and pictures: a\n"
"                        contact sheet (OUTPUT.sheet.png: source and output at\n"
"                        the same instants) and the solver's plot\n"
"                        (OUTPUT.plot.svg; with --plan, the plot alone)\n"
"      --report-dir DIR  write --report's pictures into DIR (created if\n"
"                        missing; implies --report)\n"
"\n"
"Scale out: one film in chunks, for GNU parallel, Slurm, Kubernetes\n"
"(docs/SCALE.md); --jobs N runs the same three steps on this machine:\n"
"  shrink plan INPUT --target SIZE -o PLAN [--chunks N | --chunk-length TIME]\n"
"        [--audio-output FILE] [trim, picture and sound options]\n"
"                        analyse once; write the plan and the film's audio\n"
"  shrink encode-chunk PLAN K -o FILE [--input INPUT]\n"
"                        encode chunk K alone (--list: the chunk numbers)\n"
"  shrink join PLAN CHUNK... -o OUTPUT [--force]\n"
"                        join without re-encoding; over the target: exit 4,\n"
"                        naming the chunks to redo and their budgets for\n"
"  shrink plan --rebalance PLAN K=BYTES...\n"
"\n"
"Messages:\n"
"      --json            print one JSON object per input on stdout (docs/JSON.md)\n"
"      --progress        show progress on stderr even when it is not a terminal\n"
"                        (default: only on a terminal)\n"
"      --no-progress     never show progress\n"
"  -q, --quiet           print nothing but errors (and --json's objects)\n"
"  -v, --verbose         print the plan and each encode on stderr (-vv: libav's\n"
"                        messages too)\n"
"  -h, --help            this help\n"
"  -V, --version         the version\n"
"\n"
"Services for --for (upload limits as commonly documented, checked %s;\n"
"shrink --list-services says where each comes from):\n",
            sh_codec_names(codecs, sizeof(codecs)), PRESETS_CHECKED);
    /* A bad services file is said on stderr; --help still lists the built-in ones. */
    services_load(services);
    print_services(f, 0);
    fprintf(f,
"\n"
"Exit codes: 0 done; 1 other failure; 2 usage error (also a trim outside the\n"
"input); 3 input unreadable or not a video (also no such audio track); 4 target\n"
"too small (the message says the smallest size that works); 5 encoder failure;\n"
"6 output cannot be written (exists, is the input, no room); 7 some inputs of a\n"
"batch failed (when all fail: the code they share, or 1); 128+N stopped by\n"
"signal N (130 Ctrl-C, 143 SIGTERM): no partial file is left and the rest of a\n"
"batch is not run.\n");
}

void option_error(char *const *argv, const char *shorts)
{
    const char *arg = argv[optind - 1];
    char opt[3] = { '-', (char)optopt, 0 };
    int is_long = arg[0] == '-' && arg[1] == '-';

    /* getopt's own message (opterr) would quote the word raw: a file named "-\e[2J" in a glob. */
    if (!optopt)
        fprintf(stderr, "shrink: error: unknown or ambiguous option '%s'\n", sh_display(arg));
    else if (is_long && strchr(arg, '='))
        fprintf(stderr, "shrink: error: option '%s' takes no value\n", sh_display(arg));
    else if (optopt >= 256 || strchr(shorts, optopt))
        fprintf(stderr, "shrink: error: option '%s' needs a value\n", sh_display(is_long ? arg : opt));
    else
        fprintf(stderr, "shrink: error: unknown option '%s'\n", sh_display(opt));
}

enum {
    OPT_OUTDIR = OPT_JOB_END,
    OPT_SKIP_EXISTING,
    OPT_SKIP_FITTING,
    OPT_JSON,
    OPT_PROGRESS,
    OPT_NO_PROGRESS,
    OPT_PLAN,
    OPT_REPORT,
    OPT_FORMAT,
    OPT_HDR,
    OPT_DEINTERLACE,
    OPT_JOBS,
    OPT_REPORT_DIR,
    OPT_LIST_SERVICES,
};

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        JOB_OPTIONS,
        { "output",        required_argument, NULL, 'o' },
        { "outdir",        required_argument, NULL, OPT_OUTDIR },
        { "force",         no_argument,       NULL, 'f' },
        { "skip-existing", no_argument,       NULL, OPT_SKIP_EXISTING },
        { "skip-fitting",  no_argument,       NULL, OPT_SKIP_FITTING },
        { "json",          no_argument,       NULL, OPT_JSON },
        { "progress",      no_argument,       NULL, OPT_PROGRESS },
        { "no-progress",   no_argument,       NULL, OPT_NO_PROGRESS },
        { "plan",          no_argument,       NULL, OPT_PLAN },
        { "report",        no_argument,       NULL, OPT_REPORT },
        { "format",        required_argument, NULL, OPT_FORMAT },
        { "hdr",           required_argument, NULL, OPT_HDR },
        { "deinterlace",   required_argument, NULL, OPT_DEINTERLACE },
        { "jobs",          required_argument, NULL, OPT_JOBS },
        { "report-dir",    required_argument, NULL, OPT_REPORT_DIR },
        { "list-services", no_argument,       NULL, OPT_LIST_SERVICES },
        { "help",          no_argument,       NULL, 'h' },
        { "version",       no_argument,       NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    Cli cli = { 0 };
    ShOptions *o = &cli.job;
    JobArgs ja = { 0 };
    const char *target, *preset;
    double duration;
    int progress = 0;         /* 1 --progress, -1 --no-progress */
    int list = 0;             /* --list-services */
    int c, ret;

    int optidx = 0;
    /* shrink plan|encode-chunk|join: scale-out subcommands (chunk.c). */
    if (argc > 1 && is_chunk_command(argv[1]))
        return chunk_main(argc - 1, argv + 1);
    /* shrink decode: the learned codec's file played back (decode.c). */
    if (argc > 1 && !strcmp(argv[1], "decode"))
        return decode_main(argc - 1, argv + 1);
    opterr = 0;     /* option_error says it */
    while ((c = getopt_long(argc, argv, "t:o:fqvhV", longopts, &optidx)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg)
                return usage_error("-o '': an empty file name");
            o->output = optarg;
            break;
        case OPT_OUTDIR:
            if (!*optarg)
                return usage_error("--outdir '': an empty directory name");
            cli.outdir = optarg;
            break;
        case 'f': o->force = 1; break;
        case OPT_SKIP_EXISTING: cli.skip_existing = 1; break;
        case OPT_JOBS:
            if (jobs_option(optarg, &cli.jobs) < 0)
                return EXIT_USAGE;
            break;
        case OPT_SKIP_FITTING: cli.skip_fitting = 1; break;
        case OPT_JSON: cli.json = 1; break;
        case OPT_PROGRESS: progress = 1; break;
        case OPT_NO_PROGRESS: progress = -1; break;
        case OPT_PLAN: o->plan_only = 1; break;
        case OPT_REPORT: o->report = 1; break;
        case OPT_REPORT_DIR:
            if (!*optarg)
                return usage_error("--report-dir '': an empty directory name");
            cli.report_dir = optarg;
            o->report = 1;
            break;
        case OPT_LIST_SERVICES: list = 1; break;
        case OPT_FORMAT:
            /* The library's one list of formats, not a copy of it. */
            if (!(o->format = sh_format_canonical(optarg)))
                return usage_error("--format '%s': one of %s", optarg, sh_format_list());
            break;
        case OPT_HDR:
            if (!strcmp(optarg, "tonemap"))
                o->hdr = SH_HDR_TONEMAP;
            else if (!strcmp(optarg, "keep"))
                o->hdr = SH_HDR_KEEP;
            else
                return usage_error("--hdr '%s': tonemap or keep", optarg);
            break;
        case OPT_DEINTERLACE:
            if (!strcmp(optarg, "auto"))
                o->deinterlace = SH_DEINTERLACE_AUTO;
            else if (!strcmp(optarg, "on"))
                o->deinterlace = SH_DEINTERLACE_ON;
            else if (!strcmp(optarg, "off"))
                o->deinterlace = SH_DEINTERLACE_OFF;
            else
                return usage_error("--deinterlace '%s': auto, on or off", optarg);
            break;
        case 'h': usage(stdout, ja.services); return EXIT_OK;
        case 'V':
            printf("shrink %s\nfaces: %s\n", SHRINK_VERSION,
                   sh_faces_detector() ? sh_faces_detector() : "off (built without a face detector)");
            return EXIT_OK;
        default:
            if ((ret = job_option(c, longopts[optidx].name, optarg, &cli, &ja)) > 0)
                break;
            if (ret < 0)
                return EXIT_USAGE;
            option_error(argv, "t:o:fqvhV");
            fprintf(stderr, "Try 'shrink --help'.\n");
            return EXIT_USAGE;
        }
    }

    target = ja.target;
    preset = ja.preset;
    duration = ja.duration;
    if (list)
        return optind < argc ? usage_error("--list-services takes no input") : list_services(ja.services, cli.json);
    /* A file given is checked even when --for does not need it: a mistake in it is said now. */
    if ((preset || ja.services) && services_load(ja.services) < 0)
        return EXIT_USAGE;
    if (optind >= argc)
        return usage_error("no input file");
    if (target && preset)
        return usage_error("--target and --for both set the target: give one");
    if (!target && !preset)
        return usage_error("--target SIZE or --for SERVICE is required (e.g. --target 25MB)");
    if (preset && !(cli.target.preset = preset_find(preset))) {
        const Preset *p;
        int n;
        fprintf(stderr, "shrink: error: --for '%s': not a service I know; these are:", sh_display(preset));
        p = services_table(&n);
        for (int i = 0; i < n; i++)
            fprintf(stderr, " %s", p[i].name);
        fprintf(stderr, "\n");
        return EXIT_USAGE;
    }
    if (target && (ret = target_parse(target, &cli.target)) < 0) {
        fprintf(stderr, "shrink: error: --target '%s': %s (e.g. 25MB, 8MiB, 500k, 30%%)\n", sh_display(target),
                ret == AVERROR(ERANGE) ? "too large" : "not a size");
        return EXIT_USAGE;
    }
    if (o->output) {
        struct stat sb;
        if (cli.outdir)
            return usage_error("-o names one output, --outdir a directory for them: give one");
        if (argc - optind > 1 || (stat(argv[optind], &sb) == 0 && S_ISDIR(sb.st_mode)))
            return usage_error("-o names one output: for several inputs use --outdir DIR");
    }
    if (o->force && cli.skip_existing)
        return usage_error("--force replaces outputs that exist, --skip-existing keeps them: give one");
    if (o->end > 0 && duration > 0)
        return usage_error("--end and --duration both set the end: give one");
    if (duration > 0)
        o->end = o->start + duration;
    if (o->end > 0 && o->end <= o->start) {
        fprintf(stderr, "shrink: error: --end %.3f s is not after --start %.3f s\nTry 'shrink --help'.\n",
                o->end, o->start);
        return EXIT_USAGE;
    }
    /* A few microseconds kept failed deep in the job (no frame decoded, or the encoder refusing the
     * bitrate); TIME is given to the millisecond. */
    if (o->end > 0 && o->end - o->start < TRIM_MIN_SECONDS)
        return usage_error("--end/--duration: the trim keeps %.6f s; keep at least 0.001 s", o->end - o->start);
    if (o->audio_track && o->no_audio)
        return usage_error("--audio-track picks the audio, --no-audio drops it: give one");

    if (cli.verbosity >= 0 && progress >= 0)
        cli.progress.mode = isatty(STDERR_FILENO) ? PROGRESS_TTY : progress > 0 ? PROGRESS_LINES : PROGRESS_OFF;
    sh_log_set_callback(log_sink, &cli);
    /* -vv: libav's verbose lines too, and what encoder libraries with a
     * logger of their own say (they read it from av_log's level). */
    if (cli.verbosity >= 2)
        av_log_set_level(AV_LOG_VERBOSE);
    install_signals();
    if (cli.outdir && (ret = make_dirs(cli.outdir)) < 0) {
        fprintf(stderr, "shrink: %s: error: cannot create the output directory: %s\n", sh_display(cli.outdir),
                av_err2str(ret));
        return EXIT_OUTPUT;
    }
    if (cli.report_dir && (ret = make_dirs(cli.report_dir)) < 0) {
        fprintf(stderr, "shrink: %s: error: cannot create the report's directory: %s\n",
                sh_display(cli.report_dir), av_err2str(ret));
        return EXIT_OUTPUT;
    }
    return batch_run(&cli, argv + optind, argc - optind);
}
