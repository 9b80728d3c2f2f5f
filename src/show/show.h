/*
 * --report's pictures: the contact sheet (source and output side by side at
 * the same instants, PNG through libavcodec's encoder) and the solver's
 * picture (each candidate's measured points and rate-quality line, the
 * budget, the choice: SVG). Each is written to a temporary file beside its
 * destination and renamed into place only when complete (docs/SHOW.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_SHOW_SHOW_H
#define SH_SHOW_SHOW_H

#include <stdint.h>

#include <libavutil/frame.h>

#include "shrink/shrink.h"

/* How many instants (rows) the sheet shows. */
#define SH_SHEET_ROWS 4

/* What the sheet drew, for the caller's message. */
typedef struct ShSheetInfo {
    int width, height;        /* of the PNG */
    int rows;
    double ssim[SH_SHEET_ROWS];   /* the output's luma SSIM at each instant (0: not measured) */
} ShSheetInfo;

/*
 * The contact sheet of o->input (trimmed by o->start/o->end, its picture as
 * the job saw it: o->hdr, o->deinterlace, res->crop) against res->output,
 * SH_SHEET_ROWS instants spread over res->duration, to dest (an existing
 * dest is replaced only with force). Logs; returns 0 or a negative AVERROR.
 */
int sh_show_sheet(const ShOptions *o, const ShJobResult *res, const char *dest, int force, ShSheetInfo *info);

/*
 * The solver's picture of res (its candidates, their measured samples and
 * the line the prediction follows, the budget, the choice) as SVG to dest.
 * Logs; returns 0 or a negative AVERROR.
 */
int sh_show_plot(const ShJobResult *res, int64_t target, const char *dest, int force);

/* ---- image.c: an RGB canvas, the built-in font, PNG and file writing ---- */

typedef struct ShImage {
    int width, height;
    uint8_t *rgb;             /* width * 3 bytes a row */
} ShImage;

int sh_image_alloc(ShImage *im, int width, int height, uint32_t rgb);
void sh_image_free(ShImage *im);
void sh_image_fill(ShImage *im, int x, int y, int w, int h, uint32_t rgb);
/* An RGB24 frame at x, y, turned clockwise by rotation (0, 90, 180, 270). */
void sh_image_blit(ShImage *im, int x, int y, const AVFrame *rgb24, int rotation);
/* Text in the built-in 5x7 font (letters shown as capitals; a character it
 * has no glyph for is '?'), each pixel scale x scale. Returns the width. */
int sh_image_text(ShImage *im, int x, int y, int scale, uint32_t rgb, const char *s);
int sh_text_width(const char *s, int scale);
#define SH_FONT_H 7
/* The glyph rows of c (bit 4 is the left column), or NULL when the font lacks it. */
const uint8_t *sh_font_glyph(int c);

/* PNG (libavcodec's encoder) to dest through a temporary file. */
int sh_image_write_png(const ShImage *im, const char *dest, int force);
/* len bytes to dest through a temporary file. */
int sh_show_write_file(const char *dest, const void *data, size_t len, int force);

#endif
