/*
 * The shrink command's parts: options and targets (main.c, targets.c), the
 * batch (batch.c), result lines and JSON (report.c), the progress line
 * (progress.c). Only the CLI prints.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CLI_CLI_H
#define SH_CLI_CLI_H

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/protect.h"
#include "common/log.h"
#include "common/text.h"
#include "shrink/shrink.h"

/* Exit codes: --help, docs/shrink.1 and README.md list the same. */
enum {
    EXIT_OK = 0,
    EXIT_OTHER = 1,
    EXIT_USAGE = 2,
    EXIT_INPUT = 3,
    EXIT_TOO_SMALL = 4,
    EXIT_ENCODER = 5,
    EXIT_OUTPUT = 6,
    EXIT_PARTIAL = 7,       /* a batch where some inputs failed and some did not */
};

/* ---- targets.c ---- */

/* A service's upload limit, as a target. */
typedef struct Preset {
    const char *name;
    int64_t bytes;
    const char *limit;        /* the limit as the service states it */
    const char *basis;        /* why this many bytes: the margin taken, and where it comes from */
    const char *checked;      /* the date it was last checked, YYYY-MM-DD */
    const char *source;       /* the file it comes from (NULL: built in), and its line */
    int line;
} Preset;

/* When the built-in presets' limits were last checked against what is documented. */
#define PRESETS_CHECKED "2026-11-21"

/* ---- services.c: the table --for uses, as data (docs/SERVICES.md) ---- */

/* A file the table was read from. */
typedef struct ServiceSource {
    const char *path;
    const char *kind;         /* "installed", "user", "--services" */
    int rows;                 /* services it gave; -1: not present */
} ServiceSource;

/*
 * The table in force: the built-in services, then the installed file, the
 * user's and file (--services; NULL: none), each adding services and
 * replacing earlier ones of the same name. Once; later calls return the
 * first's result. Returns 0, or -1 after one line on stderr naming the file
 * and line at fault (exit with EXIT_USAGE).
 */
int services_load(const char *file);
const Preset *services_table(int *n);
const ServiceSource *services_sources(int *n);
int services_builtin_count(void);
/* A service of the table in force, by name (any case), or NULL. */
const Preset *preset_find(const char *name);

typedef struct Target {
    int64_t bytes;            /* > 0: this many bytes */
    double percent;           /* > 0: this share of each input's size */
    const Preset *preset;     /* --for: bytes come from it */
} Target;

/* "25MB", "8MiB", "500k" or "30%". Returns 0 or a negative AVERROR. */
int target_parse(const char *s, Target *t);
/* The ceiling for one input of this size (< 0: unknown). 0 when it cannot be known. */
int64_t target_for(const Target *t, int64_t input_size);
/* Seconds: "90", "1.5", "1:30", "01:02:03.250". Returns 0 or AVERROR(EINVAL). */
int time_parse(const char *s, double *seconds);
/* The shortest trim taken: TIME's millisecond (less the rounding of end - start). */
#define TRIM_MIN_SECONDS (0.001 - 1e-9)

/* ---- progress.c ---- */

typedef enum ProgressMode {
    PROGRESS_OFF = 0,
    PROGRESS_TTY,             /* one line on a terminal, redrawn in place */
    PROGRESS_LINES,           /* --progress on a pipe or file: a line a second */
} ProgressMode;

typedef struct Progress {
    ProgressMode mode;
    int shown;                /* a terminal line is on screen */
    double last;              /* when it was last drawn */
    char stage[32];           /* the stage last drawn: a new one is drawn at once */
    const char *name;         /* the input being worked on */
    int index, count;         /* its place in the batch, from 1 */
} Progress;

void progress_start(Progress *p, const char *name, int index, int count);
/* An ShProgressFn; opaque is the Progress. */
void progress_update(void *opaque, const ShProgress *sp);
/* Take the line off the screen: before anything else goes to stderr, and after each file. */
void progress_clear(Progress *p);

/* ---- the command ---- */

typedef struct Cli {
    int verbosity;            /* -1 quiet, 0 normal, 1 verbose, 2 debug */
    int jobs;                 /* --jobs N: files (or one film's chunks) at a time; 0 or 1: one */
    int json;
    int skip_existing, skip_fitting;
    const char *outdir;
    Target target;
    ShOptions job;            /* what every job shares; input, output and target are per file */
    Progress progress;
    const char *report_dir;   /* --report-dir: the report's pictures go there (NULL: beside the output) */
} Cli;

/* The signal that stopped us (0: none yet); set by main.c's handler. */
extern volatile sig_atomic_t cli_signal;

/* ---- batch.c ---- */

/* Every input named (files, directories walked) through a job each. Returns the exit code. */
int batch_run(Cli *cli, char *const *args, int nargs);
/* mkdir -p. Returns 0 or a negative AVERROR. */
int make_dirs(const char *path);

/* ---- report.c ---- */

typedef enum Action {
    ACTION_SHRUNK,
    ACTION_COPIED,            /* it already fitted: copied as it is */
    ACTION_SKIPPED_EXISTING,  /* --skip-existing: its output is there */
    ACTION_SKIPPED_FITTING,   /* --skip-fitting: it already fits */
    ACTION_FAILED,
} Action;

/* What became of one input: the result line and the JSON object are made from it. */
typedef struct Outcome {
    const char *input;
    const char *output;       /* NULL: none written */
    Action action;
    int64_t input_bytes;      /* -1: unknown */
    int64_t target;           /* 0: unknown */
    int err;                  /* < 0 on failure */
    const char *error;        /* message for err, when sh_strerror's is not the best */
    int exit_code;
    const ShJobResult *res;   /* NULL when no job ran */
    const char *sheet, *plot; /* --report's pictures written (NULL: none) */
} Outcome;

int exit_code_for(int err, ShPhase phase);
const char *action_name(Action a);
/* A JSON string (or null) on stdout, escaped. */
void json_string(const char *s);
/* After a name's string: ,"KEY_base64":"..." with its exact bytes when it is not UTF-8 (docs/JSON.md). */
void json_name_bytes(const char *key, const char *s);
/* One line on stdout per input: JSON with --json, else text (none with -q). */
void report_outcome(const Cli *cli, const Outcome *oc);

/* ---- options.c: what every command that makes a job takes (shrink, shrink plan) ---- */

enum {
    OPT_FOR = 256,
    OPT_START,
    OPT_END,
    OPT_DURATION,
    OPT_AUDIO_TRACK,
    OPT_NO_AUDIO,
    OPT_NO_SEARCH,
    OPT_SOLVER,
    OPT_CODEC,
    OPT_SPEED,
    OPT_CROP,
    OPT_SUBS,
    OPT_ROI,
    OPT_TIME_LIMIT,
    OPT_SERVICES,
    OPT_JOB_END,              /* a command's own options are numbered from here */
};

/* Their getopt_long entries, for a command's table (with -t, -q and -v in its short options). */
#define JOB_OPTIONS                                                     \
    { "target",        required_argument, NULL, 't' },                 \
    { "for",           required_argument, NULL, OPT_FOR },             \
    { "services",      required_argument, NULL, OPT_SERVICES },        \
    { "start",         required_argument, NULL, OPT_START },           \
    { "end",           required_argument, NULL, OPT_END },             \
    { "duration",      required_argument, NULL, OPT_DURATION },        \
    { "audio-track",   required_argument, NULL, OPT_AUDIO_TRACK },     \
    { "no-audio",      no_argument,       NULL, OPT_NO_AUDIO },        \
    { "subs",          required_argument, NULL, OPT_SUBS },            \
    { "height",        required_argument, NULL, OPT_SOLVER },          \
    { "max-height",    required_argument, NULL, OPT_SOLVER },          \
    { "fps",           required_argument, NULL, OPT_SOLVER },          \
    { "min-fps",       required_argument, NULL, OPT_SOLVER },          \
    { "audio-bitrate", required_argument, NULL, OPT_SOLVER },          \
    { "no-search",     no_argument,       NULL, OPT_NO_SEARCH },       \
    { "codec",         required_argument, NULL, OPT_CODEC },           \
    { "speed",         required_argument, NULL, OPT_SPEED },           \
    { "crop",          required_argument, NULL, OPT_CROP },            \
    { "roi",           required_argument, NULL, OPT_ROI },             \
    { "time-limit",    required_argument, NULL, OPT_TIME_LIMIT },      \
    { "quiet",         no_argument,       NULL, 'q' },                 \
    { "verbose",       no_argument,       NULL, 'v' }

/* What the options say that is not in cli->job yet: the command checks and applies it. */
typedef struct JobArgs {
    const char *target, *preset;
    double duration;          /* --duration: 0 when not given */
    const char *services;     /* --services FILE */
} JobArgs;

/*
 * getopt_long's c (name: the long option's, for OPT_SOLVER) into cli->job,
 * cli->verbosity or ja. Returns 1 when taken, 0 when c is not a job option,
 * -1 on a mistake (said on stderr: exit with EXIT_USAGE).
 */
int job_option(int c, const char *name, const char *arg, Cli *cli, JobArgs *ja);
/* "shrink: error: MSG" and the --help hint on stderr; returns EXIT_USAGE. */
int usage_error(const char *fmt, ...) SH_PRINTF(1, 2);

/* ---- main.c, for the subcommands ---- */

void install_signals(void);
/* getopt_long returned '?' (opterr 0; shorts: its optstring): what was wrong, on stderr, shown safely. */
void option_error(char *const *argv, const char *shorts);
/* An ShLogFn; opaque is the Cli. */
void log_sink(void *opaque, ShLogLevel level, const char *file, const char *msg);

/* ---- decode.c: shrink decode FILE -o OUT (docs/NEURAL.md) ---- */
int decode_main(int argc, char **argv);

/* ---- chunk.c: one film in chunks (docs/SCALE.md) ---- */

int is_chunk_command(const char *arg);
/* shrink plan|encode-chunk|join ...; argv[0] is the subcommand. Returns the exit code. */
int chunk_main(int argc, char **argv);

/* ---- jobs.c: --jobs N ---- */

/* --jobs N for one film: sh_chunk_run_film, cli->jobs chunk encodes at a time. As sh_job_run. */
int chunk_run_film(const Cli *cli, const ShOptions *o, ShJobResult *res);
/* Whether --jobs takes the chunked path for this one input (an MP4 output, no --plan or --report). */
int chunk_applies(const Cli *cli, const ShOptions *o);
/* One input of a batch, by index: its exit code, *action what became of it. */
typedef int (*ItemFn)(void *ctx, int index, Action *action);
/*
 * --jobs N over a batch: fn for each of n inputs in its own process, N at a
 * time (fewer when memory is short), result lines printed in input order.
 * codes[i] and actions[i] get each input's; a code of -1: not run (a signal
 * stopped the batch). Returns how many ran, or a negative error.
 */
int run_parallel(const Cli *cli, int n, ItemFn fn, void *ctx, int *codes, int *actions);
/* --jobs N: a whole number from 1. Returns 0 or -1 (said on stderr). */
int jobs_option(const char *arg, int *jobs);
/* A count option (--chunks, --audio-track): a whole number from 1 to max. Returns 0 or -1 (said on stderr). */
int count_option(const char *opt, const char *arg, int max, int *out);

/* ---- plan.c ---- */

/* --height, --max-height, --fps, --min-fps, --audio-bitrate (long option name, no dashes). */
int solver_option(const char *name, const char *arg, ShOptions *o);
/* --plan's output for one input: the candidates and the choice (JSON with --json). */
void print_plan(const Cli *cli, const Outcome *oc);
/* report.c: ,"crop":{..} or ,"crop":null */
void json_crop(const ShCrop *c);
/* ,"roi":{..} (faces and the bits), or ,"roi":null */
void json_roi(const ShJobResult *r);

/* ---- show.c: --report's pictures ---- */

typedef struct ShowNames {
    char sheet[4096], plot[4096];
    int want_sheet;           /* not for --plan: no output to show */
    int have_sheet, have_plot;
} ShowNames;

/* Name them after output (in --report-dir, under the walk's sub-directory sub,
 * NULL or "" or "a/b/") and check them before any work: never an input of the
 * run nor a file it wrote (written), an existing file only with --force.
 * Returns 0 or an exit code (said on stderr). */
int show_prepare(const Cli *cli, const ProtectList *inputs, const ProtectList *written, const char *input,
                 const char *sub, const char *output, ShowNames *sn);
/* Write them once the job is done. Returns 0 or a negative AVERROR (logged). */
int show_write(const Cli *cli, const ShOptions *o, const ShJobResult *res, int64_t target, ShowNames *sn);

#endif
