/*
 * The solver's picture, as SVG text: for each candidate its measured samples
 * (the score, SSIM x temporal SSIM in dB, against the sample's bitrate on a
 * log scale), the line its prediction follows through them to its budget
 * (model.c: between two samples the line through them, outside a line from
 * the nearer one; drawn as the polyline samples -> prediction, which is that
 * line), the prediction there, the final-preset measurement where one was
 * made, the budget as a vertical line and the choice ringed. All from the
 * plan's data (ShJobResult.candidates): nothing is measured again.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>

#include <libavutil/bprint.h>
#include <libavutil/common.h>

#include "common/log.h"
#include "metrics/temporal.h"
#include "show/show.h"

#define PW 640                /* the plot area */
#define PH 360
#define LEFT 64
#define TOP 48
#define BOTTOM 48
#define RIGHT 24
#define LEGEND_LINE 18

static const char *const colours[] = {
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

typedef struct Axes {
    double x0, x1, y0, y1;    /* log2 bps, dB */
} Axes;

static double px(const Axes *a, double bps)
{
    return LEFT + (log2(bps) - a->x0) / (a->x1 - a->x0) * PW;
}

static double py(const Axes *a, double db)
{
    return TOP + PH - (db - a->y0) / (a->y1 - a->y0) * PH;
}

static void rate_text(char *buf, size_t len, double bps)
{
    if (bps >= 1e6)
        snprintf(buf, len, "%.3gM", bps / 1e6);
    else if (bps >= 1e3)
        snprintf(buf, len, "%.3gk", bps / 1e3);
    else
        snprintf(buf, len, "%.3g", bps);
}

static double sample_score(const ShCandidateInfo *c, int k)
{
    return c->sample_ssim[k] > 0 && c->sample_tssim[k] > 0 ? sh_quality_score_db(c->sample_ssim[k], c->sample_tssim[k])
                                                            : 0;
}

static void widen(Axes *a, double bps, double db, int *any)
{
    if (!(bps > 0) || !isfinite(db))
        return;
    if (!*any) {
        a->x0 = a->x1 = log2(bps);
        a->y0 = a->y1 = db;
        *any = 1;
        return;
    }
    a->x0 = FFMIN(a->x0, log2(bps));
    a->x1 = FFMAX(a->x1, log2(bps));
    a->y0 = FFMIN(a->y0, db);
    a->y1 = FFMAX(a->y1, db);
}

static void axes(AVBPrint *b, const Axes *a)
{
    static const double steps[] = { 0.25, 0.5, 1, 2, 5, 10, 20 };
    /* 1, 2, 5 times the powers of ten; more of them on a range of less than a decade and a half. */
    static const double coarse[] = { 1, 2, 5 }, fine[] = { 1, 1.5, 2, 3, 5, 7 };
    int nfine = (a->x1 - a->x0) * log10(2) < 1.5;
    const double *mult = nfine ? fine : coarse;
    double step = 20;
    char t[32];


    av_bprintf(b, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n",
               LEFT, TOP, PW, PH);
    /* Rates: 1, 2 and 5 times the powers of ten inside the range. */
    for (double dec = pow(10, floor(a->x0 * log10(2))); dec <= pow(2, a->x1); dec *= 10)
        for (int m = 0; m < (nfine ? 6 : 3); m++) {
            double v = dec * mult[m], x;
            if (log2(v) < a->x0 || log2(v) > a->x1)
                continue;
            x = px(a, v);
            rate_text(t, sizeof(t), v);
            av_bprintf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>"
                       "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
                       x, TOP, x, TOP + PH, x, TOP + PH + 16, t);
        }
    for (size_t i = 0; i < FF_ARRAY_ELEMS(steps); i++)
        if ((a->y1 - a->y0) / steps[i] <= 8) {
            step = steps[i];
            break;
        }
    for (double v = ceil(a->y0 / step) * step; v <= a->y1 + 1e-9; v += step)
        av_bprintf(b, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                   LEFT, py(a, v), LEFT + PW, py(a, v), LEFT - 6, py(a, v) + 4, v);
    av_bprintf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">video bitrate, b/s (log scale)</text>\n",
               LEFT + PW / 2, TOP + PH + 36);
    av_bprintf(b, "<text transform=\"translate(16,%d) rotate(-90)\" text-anchor=\"middle\">"
               "score, dB (SSIM x temporal SSIM)</text>\n", TOP + PH / 2);
}

int sh_show_plot(const ShJobResult *res, int64_t target, const char *dest, int force)
{
    AVBPrint b;
    Axes a = { 0 };
    int any = 0, n = res->ncandidates, height, ret;
    const ShCandidateInfo *chosen = res->chosen >= 0 && res->chosen < n ? &res->candidates[res->chosen] : NULL;
    double budget = chosen ? chosen->video_bitrate : (double)res->video_bitrate;
    char t[32];

    for (int i = 0; i < n; i++) {
        const ShCandidateInfo *c = &res->candidates[i];
        for (int k = 0; k < c->measures && k < 2; k++)
            widen(&a, c->sample_bitrate[k], sample_score(c, k), &any);
        if (c->score_db > 0)
            widen(&a, c->video_bitrate, c->score_db, &any);
        if (c->final_score_db > 0)
            widen(&a, c->video_bitrate, c->final_score_db, &any);
    }
    if (budget > 0)
        widen(&a, budget, any ? a.y0 : 0, &any);
    if (!any)
        a = (Axes){ 10, 20, 0, 20 };
    /* A little room around the points; a range of one value gets some width. */
    a.x0 -= a.x1 - a.x0 < 0.5 ? 1 : 0.2;
    a.x1 += a.x1 - a.x0 < 1.5 ? 1 : 0.2;
    a.y0 -= a.y1 - a.y0 < 1 ? 1 : 0.5;
    a.y1 += a.y1 - a.y0 < 2 ? 1 : 0.5;

    height = TOP + PH + BOTTOM + (n + 3) * LEGEND_LINE;
    av_bprint_init(&b, 0, AV_BPRINT_SIZE_UNLIMITED);
    av_bprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
               LEFT + PW + RIGHT, height, LEFT + PW + RIGHT, height);
    rate_text(t, sizeof(t), budget);
    av_bprintf(&b, "<text x=\"%d\" y=\"20\" font-size=\"14\">The solver's choice: %d candidate%s, target %lld B, "
               "video budget %s b/s</text>\n", LEFT, n, n == 1 ? "" : "s", (long long)target, t);
    axes(&b, &a);
    if (budget > 0)
        av_bprintf(&b, "<line class=\"budget\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" "
                   "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"><title>budget %.0f b/s</title></line>"
                   "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">budget</text>\n",
                   px(&a, budget), TOP, px(&a, budget), TOP + PH, budget, px(&a, budget), TOP - 4);
    if (!n)
        av_bprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no search: the bits-per-pixel rule chose "
                   "alone</text>\n", LEFT + PW / 2, TOP + PH / 2);
    for (int i = 0; i < n; i++) {
        const ShCandidateInfo *c = &res->candidates[i];
        const char *col = colours[i % FF_ARRAY_ELEMS(colours)], *enc = c->encoder ? c->encoder : "?";
        double xs[3], ys[3];
        int np = 0;
        av_bprintf(&b, "<g class=\"candidate\" data-encoder=\"%s\" data-width=\"%d\" data-height=\"%d\">\n",
                   enc, c->width, c->height);
        for (int k = 0; k < c->measures && k < 2; k++)
            if (c->sample_bitrate[k] > 0 && sample_score(c, k) > 0) {
                xs[np] = c->sample_bitrate[k];
                ys[np++] = sample_score(c, k);
            }
        if (c->video_bitrate > 0 && c->score_db > 0) {
            xs[np] = c->video_bitrate;
            ys[np++] = c->score_db;
        }
        for (int p = 1; p < np; p++)     /* by rate: the line runs left to right */
            for (int q = p; q > 0 && xs[q] < xs[q - 1]; q--) {
                FFSWAP(double, xs[q], xs[q - 1]);
                FFSWAP(double, ys[q], ys[q - 1]);
            }
        if (np > 1) {
            av_bprintf(&b, "<polyline class=\"fit\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s points=\"",
                       col, c->feasible ? "" : " stroke-dasharray=\"3 3\"");
            for (int p = 0; p < np; p++)
                av_bprintf(&b, "%s%.1f,%.1f", p ? " " : "", px(&a, xs[p]), py(&a, ys[p]));
            av_bprintf(&b, "\"/>\n");
        }
        for (int k = 0; k < c->measures && k < 2; k++)
            if (c->sample_bitrate[k] > 0 && sample_score(c, k) > 0)
                av_bprintf(&b, "<circle class=\"sample\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
                           "<title>%s %dx%d, sample at crf %.1f: %.0f b/s, score %.2f dB (SSIM %.4f, temporal %.4f)"
                           "</title></circle>\n",
                           px(&a, c->sample_bitrate[k]), py(&a, sample_score(c, k)), col, enc, c->width,
                           c->height, c->crf[k], c->sample_bitrate[k], sample_score(c, k), c->sample_ssim[k],
                           c->sample_tssim[k]);
        if (c->video_bitrate > 0 && c->score_db > 0)
            av_bprintf(&b, "<rect class=\"predicted\" x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" fill=\"%s\" "
                       "stroke=\"%s\"><title>%s %dx%d predicted at its budget: %.2f dB</title></rect>\n",
                       px(&a, c->video_bitrate) - 3.5, py(&a, c->score_db) - 3.5, c->feasible ? col : "white", col,
                       enc, c->width, c->height, c->score_db);
        if (c->final_score_db > 0)
            av_bprintf(&b, "<path class=\"final\" d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\" fill=\"%s\"><title>%s %dx%d "
                       "measured with its final preset: %.2f dB</title></path>\n",
                       px(&a, c->video_bitrate), py(&a, c->final_score_db) - 5, col, enc, c->width,
                       c->height, c->final_score_db);
        av_bprintf(&b, "</g>\n");
    }
    if (chosen && chosen->video_bitrate > 0) {
        double y = chosen->final_score_db > 0 ? chosen->final_score_db : chosen->score_db;
        av_bprintf(&b, "<circle class=\"chosen\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\" fill=\"none\" stroke=\"#000\" "
                   "stroke-width=\"2\"><title>chosen: %s %dx%d at %.3g fps</title></circle>\n",
                   px(&a, chosen->video_bitrate), py(&a, y), chosen->encoder ? chosen->encoder : "?", chosen->width, chosen->height,
                   chosen->fps);
    }
    /* The legend: one line a candidate, then what the marks are. */
    for (int i = 0; i < n; i++) {
        const ShCandidateInfo *c = &res->candidates[i];
        int y = TOP + PH + BOTTOM + i * LEGEND_LINE + 12;
        av_bprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                   "<text x=\"%d\" y=\"%d\">%s %dx%d %.3g fps: predicted %.2f dB%s%s</text>\n",
                   LEFT, y - 9, colours[i % FF_ARRAY_ELEMS(colours)], LEFT + 16, y, c->encoder ? c->encoder : "?",
                   c->width, c->height, c->fps, c->score_db, c->feasible ? "" : " (cannot reach the budget)",
                   i == res->chosen ? " - chosen" : "");
    }
    av_bprintf(&b, "<text x=\"%d\" y=\"%d\" fill=\"#444\">dots: samples measured; lines: the prediction; "
               "squares: predicted at the budget (hollow: out of reach);</text>\n"
               "<text x=\"%d\" y=\"%d\" fill=\"#444\">diamonds: measured again with the final preset; ring: the "
               "choice</text>\n", LEFT, TOP + PH + BOTTOM + n * LEGEND_LINE + 12, LEFT,
               TOP + PH + BOTTOM + (n + 1) * LEGEND_LINE + 12);
    av_bprintf(&b, "</svg>\n");
    if (!av_bprint_is_complete(&b)) {
        ret = AVERROR(ENOMEM);
        sh_log(SH_LOG_ERROR, dest, "out of memory writing the plot");
    } else {
        ret = sh_show_write_file(dest, b.str, b.len, force);
    }
    av_bprint_finalize(&b, NULL);
    return ret;
}
