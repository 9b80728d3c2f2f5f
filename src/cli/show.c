/*
 * --report's pictures for one input: their names (beside the output, or in
 * --report-dir under the input's directory relative to the walked one, as
 * --outdir places outputs, named after it: OUT.sheet.png and OUT.plot.svg),
 * the checks before any work (never an input of the run, nor a picture an
 * earlier input of the run wrote; an existing file only with --force), and
 * writing them once the job is done (src/show/).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "show/show.h"

static int name_for(char *buf, size_t len, const Cli *cli, const char *sub, const char *output, const char *suffix)
{
    const char *base = strrchr(output, '/');
    int n;
    /* The walk's sub-directory kept: a/x.mp4 and b/x.mp4 of one walk both
     * make x.shrunk.mp4, and their pictures must not meet in one name. */
    if (cli->report_dir)
        n = snprintf(buf, len, "%s%s%s%s%s", cli->report_dir,
                     cli->report_dir[strlen(cli->report_dir) - 1] == '/' ? "" : "/", sub ? sub : "",
                     base ? base + 1 : output, suffix);
    else
        n = snprintf(buf, len, "%s%s", output, suffix);
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

int show_prepare(const Cli *cli, const ProtectList *inputs, const ProtectList *written, const char *input,
                 const char *sub, const char *output, ShowNames *sn)
{
    const char *names[2];
    struct stat sb;

    memset(sn, 0, sizeof(*sn));
    if (name_for(sn->sheet, sizeof(sn->sheet), cli, sub, output, ".sheet.png") < 0 ||
        name_for(sn->plot, sizeof(sn->plot), cli, sub, output, ".plot.svg") < 0) {
        fprintf(stderr, "shrink: %s: error: the report's file names would be too long\n", sh_display(input));
        return EXIT_OUTPUT;
    }
    sn->want_sheet = !cli->job.plan_only;
    names[0] = sn->want_sheet ? sn->sheet : NULL;
    names[1] = sn->plot;
    for (int i = 0; i < 2; i++) {
        const char *hit;
        if (!names[i])
            continue;
        if ((hit = protect_find(inputs, names[i]))) {
            fprintf(stderr, "shrink: %s: error: the report's %s %s would replace the input %s; refusing "
                    "(an input is never replaced)\n", sh_display(input), i ? "plot" : "sheet", sh_display(names[i]),
                    sh_display(hit));
            return EXIT_OUTPUT;
        }
        /* --force replaces what was there before the run, never what the run made. */
        if ((hit = protect_find(written, names[i]))) {
            fprintf(stderr, "shrink: %s: error: the report's %s %s was written from an earlier input; "
                    "use --report-dir elsewhere or rename one\n", sh_display(input), i ? "plot" : "sheet",
                    sh_display(names[i]));
            return EXIT_OUTPUT;
        }
        if (!cli->job.force && lstat(names[i], &sb) == 0) {
            fprintf(stderr, "shrink: %s: error: the report's %s %s exists; use --force to replace it\n",
                    sh_display(input), i ? "plot" : "sheet", sh_display(names[i]));
            return EXIT_OUTPUT;
        }
    }
    return 0;
}

int show_write(const Cli *cli, const ShOptions *o, const ShJobResult *res, int64_t target, ShowNames *sn)
{
    ShSheetInfo si;
    int ret;
    if (cli->report_dir) {
        /* the walk's sub-directory under it (name_for), made as --outdir's are */
        char dir[sizeof(sn->plot)];
        const char *slash = strrchr(sn->plot, '/');
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - sn->plot) : 0, sn->plot);
        if (*dir && (ret = make_dirs(dir)) < 0) {
            sh_log(SH_LOG_ERROR, dir, "cannot make the report's directory: %s", av_err2str(ret));
            return ret;
        }
    }
    if (sn->want_sheet) {
        if ((ret = sh_show_sheet(o, res, sn->sheet, o->force, &si)) < 0)
            return ret;
        sn->have_sheet = 1;
    }
    if ((ret = sh_show_plot(res, target, sn->plot, o->force)) < 0)
        return ret;
    sn->have_plot = 1;
    return 0;
}
