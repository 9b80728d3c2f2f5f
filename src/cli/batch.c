/*
 * The batch: every input named on the command line, directories walked for
 * video files, each through one job. One bad file does not stop the others;
 * a signal does, once the current job has cleaned up.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "cli/cli.h"
#include "cli/protect.h"
#include "shrink/size.h"

/* Deeper than this is a loop the inode check missed (or not worth walking). */
#define WALK_MAX_DEPTH 64

/* What a directory walk picks up, by extension (case-insensitive). */
static const char *const video_extensions[] = {
    "3g2", "3gp", "asf", "avi", "divx", "f4v", "flv", "m2t", "m2ts", "m2v", "m4v", "mkv", "mov",
    "mp4", "mpeg", "mpg", "mts", "mxf", "ogv", "qt", "rm", "rmvb", "ts", "vob", "webm", "wmv",
    NULL,
};

typedef struct Item {
    char *path;               /* as named, or as found under a named directory */
    char *sub;                /* found in a walk: its directory under the named one ("" or "a/b/") */
    int empty_dir;            /* a named directory without one video file in it */
} Item;

typedef struct FileId {
    dev_t dev;
    ino_t ino;
} FileId;

typedef struct Batch {
    Item *items;
    int nitems, items_alloc;
    FileId *dirs, *files;     /* directories walked and inputs taken, to take each once */
    int ndirs, dirs_alloc, nfiles, files_alloc;
    ProtectList written;      /* outputs and pictures of this run: a later input may not replace one */
    ProtectList inputs;       /* every input of the run: no output may replace one */
} Batch;

static int grow(void *pptr, int *alloc, int n, size_t size)
{
    void *p;
    int want;
    if (n < *alloc)
        return 0;
    want = *alloc ? *alloc * 2 : 16;
    if (!(p = av_realloc_array(*(void **)pptr, want, size)))
        return AVERROR(ENOMEM);
    *(void **)pptr = p;
    *alloc = want;
    return 0;
}

/* Returns 1 when the id was new (and is now remembered), 0 when seen, < 0 on error. */
static int remember(FileId **ids, int *n, int *alloc, const struct stat *sb)
{
    for (int i = 0; i < *n; i++)
        if ((*ids)[i].dev == sb->st_dev && (*ids)[i].ino == sb->st_ino)
            return 0;
    if (grow(ids, alloc, *n, sizeof(**ids)) < 0)
        return AVERROR(ENOMEM);
    (*ids)[(*n)++] = (FileId){ sb->st_dev, sb->st_ino };
    return 1;
}

static int add_item(Batch *b, const char *path, const char *sub, int empty_dir)
{
    Item *it;
    if (grow(&b->items, &b->items_alloc, b->nitems, sizeof(*b->items)) < 0)
        return AVERROR(ENOMEM);
    it = &b->items[b->nitems];
    memset(it, 0, sizeof(*it));
    if (!(it->path = av_strdup(path)) || (sub && !(it->sub = av_strdup(sub)))) {
        av_freep(&it->path);
        return AVERROR(ENOMEM);
    }
    it->empty_dir = empty_dir;
    b->nitems++;
    return 0;
}

static const char *extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && dot != name ? dot + 1 : NULL;
}

static int is_video_name(const char *name)
{
    const char *ext = extension(name);
    if (!ext)
        return 0;
    for (const char *const *e = video_extensions; *e; e++)
        if (!strcasecmp(ext, *e))
            return 1;
    return 0;
}

/* STEM.shrunk.EXT: our own output, which a walk must not shrink again on a rerun. */
static int is_shrink_output(const char *name)
{
    const char *ext = extension(name);
    size_t stem = ext ? (size_t)(ext - 1 - name) : strlen(name);
    return stem >= 7 && !strncmp(name + stem - 7, ".shrunk", 7);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int join(char *out, size_t len, const char *dir, const char *name)
{
    size_t n = strlen(dir);
    int r = snprintf(out, len, "%s%s%s", dir, n && dir[n - 1] != '/' ? "/" : "", name);
    return r < 0 || (size_t)r >= len ? AVERROR(ENAMETOOLONG) : 0;
}

static void warn(const Cli *cli, const char *path, const char *msg)
{
    if (cli->verbosity >= 0)
        fprintf(stderr, "shrink: %s: warning: %s\n", sh_display(path), sh_display(msg));
}

/*
 * Files in name order (byte order, whatever the locale), each directory's
 * entries sorted and walked in place. Symbolic links are followed, but a
 * directory already walked (a link loop, or named twice) is not walked
 * again; names starting with a dot are skipped.
 */
static int walk(Cli *cli, Batch *b, const char *dir, const char *sub, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char **names = NULL;
    int n = 0, alloc = 0, ret = 0;

    if (!d) {
        warn(cli, dir, "cannot read this directory; skipped");
        return 0;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if ((ret = grow(&names, &alloc, n, sizeof(*names))) < 0 || !(names[n] = av_strdup(de->d_name))) {
            ret = AVERROR(ENOMEM);
            goto end;
        }
        n++;
    }
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX], subdir[PATH_MAX];
        struct stat sb;
        if (join(path, sizeof(path), dir, names[i]) < 0 || stat(path, &sb) < 0)
            continue;   /* a dangling link, or a name too long to open */
        if (S_ISDIR(sb.st_mode)) {
            if (depth >= WALK_MAX_DEPTH || (ret = remember(&b->dirs, &b->ndirs, &b->dirs_alloc, &sb)) == 0)
                continue;
            if (ret < 0)
                goto end;
            if (snprintf(subdir, sizeof(subdir), "%s%s/", sub, names[i]) >= (int)sizeof(subdir))
                continue;
            if ((ret = walk(cli, b, path, subdir, depth + 1)) < 0)
                goto end;
        } else if (S_ISREG(sb.st_mode) && is_video_name(names[i]) && !is_shrink_output(names[i])) {
            if ((ret = remember(&b->files, &b->nfiles, &b->files_alloc, &sb)) < 0)
                goto end;
            if (ret && (ret = add_item(b, path, sub, 0)) < 0)
                goto end;
        }
    }
    ret = 0;
end:
    for (int i = 0; i < n; i++)
        av_free(names[i]);
    av_free(names);
    closedir(d);
    return ret;
}

static int collect(Cli *cli, Batch *b, char *const *args, int nargs)
{
    int ret;
    for (int i = 0; i < nargs; i++) {
        struct stat sb;
        int before = b->nitems;
        if (stat(args[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if ((ret = remember(&b->dirs, &b->ndirs, &b->dirs_alloc, &sb)) < 0 ||
                (ret && (ret = walk(cli, b, args[i], "", 0)) < 0))
                return ret;
            if (b->nitems == before && (ret = add_item(b, args[i], NULL, 1)) < 0)
                return ret;
            continue;
        }
        /* Named files are taken as they are (any extension), once each. */
        if (stat(args[i], &sb) == 0 && (ret = remember(&b->files, &b->nfiles, &b->files_alloc, &sb)) <= 0) {
            if (ret < 0)
                return ret;
            continue;
        }
        if ((ret = add_item(b, args[i], NULL, 0)) < 0)
            return ret;
    }
    return 0;
}

static void batch_free(Batch *b)
{
    for (int i = 0; i < b->nitems; i++) {
        av_free(b->items[i].path);
        av_free(b->items[i].sub);
    }
    av_free(b->items);
    av_free(b->dirs);
    av_free(b->files);
    protect_free(&b->written);
    protect_free(&b->inputs);
}

int make_dirs(const char *path)
{
    char buf[PATH_MAX];
    size_t n = strlen(path);
    struct stat sb;
    if (!n || n >= sizeof(buf))
        return AVERROR(ENAMETOOLONG);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) < 0 && errno != EEXIST)
                return AVERROR(errno);
            if (stat(buf, &sb) < 0)
                return AVERROR(errno);
            if (!S_ISDIR(sb.st_mode))
                return AVERROR(ENOTDIR);
            *p = c;
            if (!c)
                return 0;
        }
    }
}

/*
 * The output for an input: -o as given; else STEM.shrunk.FORMAT (mp4), or
 * STEM.shrunk.EXT for a copy (a copy keeps its container), beside the input
 * or in --outdir, under the input's directory relative to the walked one.
 * *dir gets the part of the path that --outdir may have to create.
 */
static int output_name(const Cli *cli, const Item *it, int copy, char *out, size_t len, size_t *dirlen)
{
    const char *slash = strrchr(it->path, '/');
    const char *base = slash ? slash + 1 : it->path;
    const char *ext = extension(base);
    int stem = ext ? (int)(ext - 1 - base) : (int)strlen(base);
    char dir[PATH_MAX];
    int n;

    *dirlen = 0;
    if (cli->job.output) {
        n = snprintf(out, len, "%s", cli->job.output);
        return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
    }
    if (cli->outdir) {
        if ((n = join(dir, sizeof(dir), cli->outdir, it->sub ? it->sub : "")) < 0)
            return n;
        *dirlen = strlen(dir);
    } else {
        /* Beside the input: its directory part as written ("" for a bare name). */
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - it->path + 1) : 0, it->path);
    }
    /* --format's names are their extensions (main.c checked and lower-cased it). */
    n = snprintf(out, len, "%s%.*s.shrunk.%s", dir, stem, base,
                 copy ? (ext ? ext : "") : cli->job.format ? cli->job.format :
                 sh_codec_format(cli->job.codec) ? sh_codec_format(cli->job.codec) : "mp4");
    if (copy && !ext && n > 0)
        out[--n] = 0;   /* no extension to keep: no dot either */
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

/* -o named for another container (x.gif for an MP4) converts: a copy would keep the input's bytes. */
static int other_extension(const char *input, const char *output)
{
    const char *os = output ? strrchr(output, '/') : NULL, *is = strrchr(input, '/');
    const char *oe = output ? extension(os ? os + 1 : output) : NULL, *ie = extension(is ? is + 1 : input);
    return oe && (!ie || strcasecmp(oe, ie));
}

/* Anything asked of the content (a trim, a stream, a size, a rate) rules out a plain copy. */
static int changes_content(const ShOptions *o)
{
    return o->start > 0 || o->end > 0 || o->audio_track > 0 || o->no_audio || o->subs || o->height > 0 ||
           o->format || (o->codec && strcmp(o->codec, "auto")) ||
           o->max_height > 0 || o->fps > 0 || o->min_fps > 0 || o->audio_bitrate > 0 || o->plan_only ||
           o->report;
}

static void log_error(Cli *cli, const char *file, const char *msg)
{
    progress_clear(&cli->progress);
    fprintf(stderr, "shrink: %s: error: %s\n", sh_display(file), sh_display(msg));
}

/* One input, start to result line. Returns its exit code; *action says what became of it. */
static int run_item(Cli *cli, Batch *b, const Item *it, int index, ShJobResult *res, Action *action)
{
    ShOptions o = cli->job;
    Outcome oc = { .input = it->path, .input_bytes = -1, .action = ACTION_FAILED };
    ShowNames sn = { 0 };
    char output[PATH_MAX], ebuf[128];
    const char *hit;
    struct stat sb;
    size_t dirlen;
    int fits = 0, copy = 0, ret;

    oc.target = target_for(&cli->target, -1);   /* known now unless it is a share of the input */
    if (it->empty_dir) {
        oc.err = AVERROR(ENOENT);
        oc.error = "no video files in this directory";
        log_error(cli, it->path, oc.error);
        oc.exit_code = EXIT_INPUT;
        goto done;
    }
    if (stat(it->path, &sb) < 0) {
        oc.err = AVERROR(errno);
        log_error(cli, it->path, av_make_error_string(ebuf, sizeof(ebuf), oc.err));
        oc.exit_code = EXIT_INPUT;
        goto done;
    }
    if (S_ISREG(sb.st_mode))
        oc.input_bytes = sb.st_size;
    if (!(oc.target = target_for(&cli->target, oc.input_bytes))) {
        oc.err = AVERROR(EINVAL);
        oc.error = "a share of the input's size needs a regular file";
        log_error(cli, it->path, oc.error);
        oc.exit_code = EXIT_USAGE;
        goto done;
    }
    /* Never bigger than the input: what fits is copied (or skipped); with a
     * trim or any other change the input's size is the ceiling. */
    fits = oc.input_bytes >= 0 && oc.input_bytes <= oc.target;
    copy = fits && !changes_content(&o) && !other_extension(it->path, o.output);
    if (fits && !copy)
        oc.target = oc.input_bytes;
    /* A service's limit is for a video its players show inline: H.264 plays
     * everywhere, AV1 does not (yet) on every phone. --codec or --format
     * still choose. */
    if (cli->target.preset && !o.codec && !o.format)
        o.codec = sh_codec_plays_everywhere();
    if (copy && cli->skip_fitting) {
        oc.action = ACTION_SKIPPED_FITTING;
        goto done;
    }
    if ((ret = output_name(cli, it, copy, output, sizeof(output), &dirlen)) < 0) {
        oc.err = ret;
        log_error(cli, it->path, "the output's name would be too long");
        oc.exit_code = EXIT_OUTPUT;
        goto done;
    }
    if (cli->skip_existing && stat(output, &sb) == 0 && S_ISREG(sb.st_mode)) {
        oc.action = ACTION_SKIPPED_EXISTING;
        oc.output = output;
        goto done;
    }
    /* Any input of the run, before or after this one, by any path or link:
     * the item fails (6), the batch goes on. */
    if (!o.plan_only && (hit = protect_find(&b->inputs, output))) {
        char msg[2 * PATH_MAX + 128];
        oc.err = SH_ERROR_SAME_FILE;
        oc.error = "its output would replace an input of this run";
        snprintf(msg, sizeof(msg), "its output %s is %s%s; refusing to replace it (an input is never replaced)",
                 output, strcmp(hit, it->path) ? "the input " : "the input itself", strcmp(hit, it->path) ? hit : "");
        log_error(cli, it->path, msg);
        oc.exit_code = EXIT_OUTPUT;
        goto done;
    }
    if (protect_find(&b->written, output)) {
        oc.err = SH_ERROR_EXISTS;
        oc.error = "its output is also an earlier input's output";
        fprintf(stderr, "shrink: %s: error: %s was written from an earlier input; use -o or rename one\n",
                sh_display(it->path), sh_display(output));
        oc.exit_code = EXIT_OUTPUT;
        goto done;
    }
    if (o.report && !copy &&
        (oc.exit_code = show_prepare(cli, &b->inputs, &b->written, it->path, it->sub, output, &sn))) {
        oc.err = SH_ERROR_EXISTS;
        oc.error = "a file of its report is in the way";
        goto done;
    }
    if (dirlen) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)dirlen, output);
        if ((ret = make_dirs(dir)) < 0) {
            oc.err = ret;
            log_error(cli, dir, av_make_error_string(ebuf, sizeof(ebuf), ret));
            oc.exit_code = EXIT_OUTPUT;
            goto done;
        }
    }

    o.input = it->path;
    o.output = output;
    o.target_bytes = oc.target;
    if (cli->progress.mode != PROGRESS_OFF) {
        o.progress = progress_update;
        o.progress_opaque = &cli->progress;
    }
    progress_start(&cli->progress, it->path, index + 1, b->nitems);
    /* --jobs N for one film: its chunks in parallel (chunk.c), the same pieces as shrink plan/encode-chunk/join. */
    ret = copy ? sh_job_copy(&o, res) : b->nitems == 1 && chunk_applies(cli, &o) ? chunk_run_film(cli, &o, res)
               : sh_job_run(&o, res);
    progress_clear(&cli->progress);
    oc.res = res;
    oc.err = ret;
    oc.exit_code = exit_code_for(ret, res->failed_phase);
    if (ret >= 0) {
        oc.action = copy ? ACTION_COPIED : ACTION_SHRUNK;
        oc.output = res->output;
        protect_add_copy(&b->written, output);
        /* The output is there; pictures that cannot be written fail the item (6), not the output. */
        if (o.report && !copy && (oc.err = show_write(cli, &o, res, oc.target, &sn)) < 0) {
            oc.error = "the report's pictures could not be written";
            oc.exit_code = EXIT_OUTPUT;
        }
        if (sn.have_sheet)
            protect_add_copy(&b->written, sn.sheet);
        if (sn.have_plot)
            protect_add_copy(&b->written, sn.plot);
        oc.sheet = sn.have_sheet ? sn.sheet : NULL;
        oc.plot = sn.have_plot ? sn.plot : NULL;
    } else if (ret == SH_ERROR_TARGET_TOO_SMALL) {
        char tgt[32], min[32];
        if (res->min_bytes > 0)
            fprintf(stderr, "shrink: %s: error: target %s is too small; the smallest output that works is %s (--target %lld)\n",
                    sh_display(it->path), sh_size_format(tgt, sizeof(tgt), oc.target),
                    sh_size_format(min, sizeof(min), res->min_bytes), (long long)res->min_bytes);
        else
            fprintf(stderr, "shrink: %s: error: target %s is too small for this video\n", sh_display(it->path),
                    sh_size_format(tgt, sizeof(tgt), oc.target));
    } else if (ret == SH_ERROR_INTERRUPTED && cli->verbosity >= 0) {
        fprintf(stderr, "shrink: %s: interrupted; nothing was written\n", sh_display(it->path));
    }
done:
    if (oc.err >= 0)
        oc.exit_code = EXIT_OK;
    report_outcome(cli, &oc);
    *action = oc.action;
    return oc.exit_code;
}

/* An input a signal kept from starting: its own result line (and JSON object), so that a
 * script reading the results learns of every input it gave, done or not. */
static void report_not_run(Cli *cli, const Item *it, int sig)
{
    Outcome oc = { .input = it->path, .input_bytes = -1, .action = ACTION_FAILED,
                   .err = SH_ERROR_INTERRUPTED, .exit_code = 128 + sig };
    oc.target = target_for(&cli->target, -1);
    if (cli->verbosity >= 0)
        fprintf(stderr, "shrink: %s: interrupted before it started; nothing was written\n", sh_display(it->path));
    report_outcome(cli, &oc);
}

typedef struct ParallelCtx {
    Cli *cli;
    Batch *b;
    ShJobResult *res;
} ParallelCtx;

static int run_indexed(void *opaque, int i, Action *action)
{
    ParallelCtx *p = opaque;
    return run_item(p->cli, p->b, &p->b->items[i], i, p->res, action);
}

/*
 * --jobs N: N inputs at a time, each in its own process (chunk.c's
 * run_parallel), results in input order. Outputs written by the run are
 * not shared between the processes: two inputs with one output name meet
 * at the rename, which refuses the second (exit 6), as for a file that
 * appeared meanwhile. Returns 0, or the exit code that ends the batch.
 */
static int run_batch_parallel(Cli *cli, Batch *b, ShJobResult *res, int *count, int *first_code, int *same_code)
{
    ParallelCtx ctx = { cli, b, res };
    int *codes = av_calloc(b->nitems, sizeof(*codes)), *actions = av_calloc(b->nitems, sizeof(*actions));
    int ret = 0, i;

    if (!codes || !actions || run_parallel(cli, b->nitems, run_indexed, &ctx, codes, actions) < 0) {
        fprintf(stderr, "shrink: error: cannot run jobs in parallel: %s\n", strerror(errno));
        ret = EXIT_OTHER;
        goto end;
    }
    for (i = 0; i < b->nitems && codes[i] >= 0; i++) {
        if (codes[i] >= 128 && !ret)
            ret = codes[i];
        count[actions[i]]++;
        if (codes[i] && *first_code < 0)
            *first_code = codes[i];
        else if (codes[i] && codes[i] != *first_code)
            *same_code = 0;
    }
    /* Inputs a signal kept from starting: the batch was stopped. */
    if (!ret && i < b->nitems && cli_signal)
        ret = 128 + cli_signal;
end:
    av_free(codes);
    av_free(actions);
    return ret;
}

int batch_run(Cli *cli, char *const *args, int nargs)
{
    Batch b = { 0 };
    ShJobResult *res = av_malloc(sizeof(*res));
    int count[ACTION_FAILED + 1] = { 0 };
    int first_code = -1, same_code = 1, done, ret;

    if (!res || (ret = collect(cli, &b, args, nargs)) < 0) {
        fprintf(stderr, "shrink: error: out of memory\n");
        ret = EXIT_OTHER;
        goto end;
    }
    for (int i = 0; i < b.nitems; i++)
        if (!b.items[i].empty_dir && protect_add(&b.inputs, b.items[i].path) < 0) {
            fprintf(stderr, "shrink: error: out of memory\n");
            ret = EXIT_OTHER;
            goto end;
        }
    if (cli->jobs > 1 && b.nitems > 1) {
        cli->progress.mode = PROGRESS_OFF;   /* N jobs cannot share one line */
        if ((ret = run_batch_parallel(cli, &b, res, count, &first_code, &same_code)))
            goto end;
    }
    for (done = 0; done < b.nitems && !(cli->jobs > 1 && b.nitems > 1); done++) {
        Action action;
        int code, i = done;
        /* A job clears the library's interrupt flag when it starts: a signal
         * between two jobs is only seen here. */
        if (cli_signal)
            break;
        code = run_item(cli, &b, &b.items[i], i, res, &action);
        if (code >= 128) {
            for (int k = i + 1; k < b.nitems; k++)
                report_not_run(cli, &b.items[k], code - 128);
            ret = code;
            goto end;
        }
        count[action]++;
        if (code && first_code < 0)
            first_code = code;
        else if (code && code != first_code)
            same_code = 0;
    }
    /* A signal that came after the last job had put its output in place
     * (its result line says done) leaves nothing undone: the run's code, as
     * that line says. One that stopped the batch before an input: 128 + N. */
    if (cli_signal && done < b.nitems && !(cli->jobs > 1 && b.nitems > 1)) {
        for (int k = done; k < b.nitems; k++)
            report_not_run(cli, &b.items[k], cli_signal);
        ret = 128 + cli_signal;
        goto end;
    }
    if (b.nitems > 1 && cli->verbosity >= 0)
        fprintf(stderr, "shrink: %d inputs: %d shrunk, %d copied, %d skipped, %d failed\n", b.nitems,
                count[ACTION_SHRUNK], count[ACTION_COPIED],
                count[ACTION_SKIPPED_EXISTING] + count[ACTION_SKIPPED_FITTING], count[ACTION_FAILED]);
    /* None failed: 0; some: 7; all: the code they share, or 1 when they differ. */
    if (!count[ACTION_FAILED])
        ret = EXIT_OK;
    else if (count[ACTION_FAILED] < b.nitems)
        ret = EXIT_PARTIAL;
    else
        ret = same_code ? first_code : EXIT_OTHER;
end:
    batch_free(&b);
    av_free(res);
    return ret;
}
