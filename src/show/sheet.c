/*
 * The contact sheet: the source and the output at the same instants, side
 * by side, a row per instant spread over the film. Each is shown at its own
 * display size (the source's capped at SHEET_MAX_H high, the output shrunk
 * by the same factor, so their sizes compare as they are); each output frame
 * is labelled with the luma SSIM against the source's frame at that instant,
 * both at the output's size. Both files are read through src/input/ (the one
 * way a file is opened) and seeked, not decoded whole.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "input/input.h"
#include "metrics/metrics.h"
#include "neural/reader.h"
#include "show/show.h"
#include "stages/stage.h"

#define SHEET_MAX_H 360       /* the source's picture on the sheet, at most */
#define SHEET_MAX_W 640
#define MARGIN 8
#define GAP 8
#define SCALE 2               /* font pixels */
#define LINE_H ((SH_FONT_H + 3) * SCALE)
#define BG 0x202020
#define FG 0xf0f0f0
#define DIM 0xa0a0a0

typedef struct Side {
    ShInput *in;
    ShNnReader *nn;           /* the learned codec's file instead (docs/NEURAL.md) */
    const ShInputInfo *info;
    AVFrame *held, *next, *rgb, *gray;
    ShStage *to_rgb, *to_gray;
    int64_t origin;           /* video_tb: time 0 */
    double half;              /* half a frame, seconds: timestamps' slack */
    int seekable;
    int cell_w, cell_h;       /* coded orientation, on the sheet */
    int disp_w, disp_h;       /* as shown */
} Side;

static int side_open(Side *s, const char *path, const ShOptions *o, const ShCrop *crop, int tonemap)
{
    const ShInputInfo *in;
    int ret;
    if (!o && (ret = sh_nn_reader_open(&s->nn, path)) < 0)
        return ret;
    if (!s->nn && (ret = sh_input_open(&s->in, path)) < 0)
        return ret;
    if (s->in)
        sh_input_want_audio(s->in, 0);
    if (o && ((ret = sh_input_set_picture(s->in, tonemap ? SH_HDR_TONEMAP : o->hdr, o->deinterlace)) < 0 ||
              (crop->width && (ret = sh_input_set_crop(s->in, crop)) < 0)))
        return ret;
    s->info = in = s->nn ? sh_nn_reader_info(s->nn) : sh_input_info(s->in);
    s->origin = in->video_start + (o ? llrint(o->start / av_q2d(in->video_tb)) : 0);
    s->half = in->frame_rate.num > 0 && in->frame_rate.den > 0 ? 0.5 / av_q2d(in->frame_rate) : 0.02;
    s->seekable = 1;
    if (!(s->held = av_frame_alloc()) || !(s->next = av_frame_alloc()) || !(s->rgb = av_frame_alloc()) ||
        !(s->gray = av_frame_alloc()))
        return AVERROR(ENOMEM);
    return 0;
}

static void side_close(Side *s)
{
    sh_nn_reader_free(&s->nn);
    sh_input_close(&s->in);
    av_frame_free(&s->held);
    av_frame_free(&s->next);
    av_frame_free(&s->rgb);
    av_frame_free(&s->gray);
    sh_stage_free(&s->to_rgb);
    sh_stage_free(&s->to_gray);
}

static int read_video(Side *s, AVFrame *f)
{
    enum AVMediaType type;
    int ret;
    if (s->nn)
        return sh_nn_reader_read(s->nn, f);
    while ((ret = sh_input_read(s->in, f, &type)) >= 0 && type != AVMEDIA_TYPE_VIDEO)
        av_frame_unref(f);
    return ret;
}

/*
 * s->held becomes the picture on screen at t seconds (the last frame from
 * t on, or the first one when t is before it). Seeks where the file allows,
 * else reads on (the instants only move forward).
 */
static int grab(Side *s, double t)
{
    double tb = av_q2d(s->info->video_tb);
    int ret;
    if (s->seekable && t > 1) {
        if (s->nn) {
            sh_nn_reader_seek(s->nn, s->origin + (int64_t)((t - 1) / tb));
            av_frame_unref(s->next);
            av_frame_unref(s->held);
        } else if (sh_input_seek(s->in, s->origin + (int64_t)((t - 1) / tb)) < 0) {
            s->seekable = 0;
        } else {
            av_frame_unref(s->next);
            av_frame_unref(s->held);
        }
    }
    for (;;) {
        double tf;
        if (!s->next->buf[0]) {
            if ((ret = read_video(s, s->next)) == AVERROR_EOF)
                break;
            if (ret < 0)
                return ret;
        }
        tf = (s->next->pts - s->origin) * tb;
        if (tf > t + s->half && s->held->buf[0])
            break;
        av_frame_unref(s->held);
        av_frame_move_ref(s->held, s->next);
        if (tf > t + s->half)
            break;
    }
    return s->held->buf[0] ? 0 : AVERROR_EOF;
}

/* held through a scale stage (made at the first frame) into out. */
static int convert(Side *s, ShStage **st, int w, int h, enum AVPixelFormat fmt, AVFrame *out)
{
    int ret;
    if (!*st) {
        ShStreamInfo si = { .type = AVMEDIA_TYPE_VIDEO, .time_base = s->info->video_tb, .width = s->held->width,
                            .height = s->held->height, .pix_fmt = s->held->format, .sar = s->info->sar };
        ShStageArgs sa = { .width = w, .height = h, .pix_fmt = fmt };
        if ((ret = sh_stage_create(st, "scale", &si, &sa)) < 0)
            return ret;
    }
    av_frame_unref(out);
    if ((ret = sh_stage_send(*st, s->held)) < 0)
        return ret;
    return sh_stage_receive(*st, out);
}

static void cell_size(Side *s, double factor)
{
    const ShInputInfo *in = s->info;
    int swap = in->rotation == 90 || in->rotation == 270, w, h;
    sh_scale_dims(in->width, in->height, in->sar, in->rotation, 0, &w, &h);
    sh_scale_dims(in->width, in->height, in->sar, in->rotation, (int)lrint((swap ? w : h) * factor), &s->cell_w,
                  &s->cell_h);
    s->disp_w = swap ? s->cell_h : s->cell_w;
    s->disp_h = swap ? s->cell_w : s->cell_h;
}

static void clock_text(char *buf, size_t len, double t)
{
    int m = (int)(t / 60);
    snprintf(buf, len, "%d:%04.1f", m, t - 60 * m);
}

int sh_show_sheet(const ShOptions *o, const ShJobResult *res, const char *dest, int force, ShSheetInfo *info)
{
    Side src = { 0 }, out = { 0 };
    ShImage im = { 0 };
    char line[4][96];
    int tonemap = res->codec && !strcmp(res->codec, "gif");
    int gray_w, gray_h, col0, col1, row_h, title_h, lw = 0, y;
    double factor, duration;

    int ret;
    memset(info, 0, sizeof(*info));
    if ((ret = side_open(&src, o->input, o, &res->crop, tonemap)) < 0 ||
        (ret = side_open(&out, res->output, NULL, NULL, 0)) < 0)
        goto end;
    {
        int w, h;
        sh_scale_dims(src.info->width, src.info->height, src.info->sar, src.info->rotation, 0, &w, &h);
        if (src.info->rotation == 90 || src.info->rotation == 270)
            FFSWAP(int, w, h);
        factor = FFMIN3(1.0, (double)SHEET_MAX_H / h, (double)SHEET_MAX_W / w);
    }
    cell_size(&src, factor);
    cell_size(&out, factor);
    /* SSIM where the output's pixels are: its own size, in coded orientation (the
     * output keeps the source's display matrix, so the two are turned alike). */
    sh_scale_dims(out.info->width, out.info->height, out.info->sar, 0, 0, &gray_w, &gray_h);
    duration = res->duration > 0 ? res->duration : out.info->duration;

    snprintf(line[0], sizeof(line[0]), "SOURCE %dX%d (LEFT), OUTPUT %dX%d (RIGHT), SAME SCALE", src.disp_w,
             src.disp_h, gray_w, gray_h);
    snprintf(line[1], sizeof(line[1]), "SSIM: LUMA, OUTPUT VS SOURCE AT %dX%d", gray_w, gray_h);
    for (int i = 0; i < 2; i++)
        lw = FFMAX(lw, sh_text_width(line[i], SCALE));
    col0 = FFMAX(src.disp_w, sh_text_width("SOURCE AT 00:00.0", SCALE));
    col1 = FFMAX(out.disp_w, sh_text_width("SSIM 0.0000 (00.0 DB)", SCALE));
    row_h = FFMAX(src.disp_h, out.disp_h) + 2 * LINE_H + GAP;
    title_h = 2 * LINE_H + GAP;
    if ((ret = sh_image_alloc(&im, 2 * MARGIN + FFMAX(col0 + GAP + col1, lw),
                              2 * MARGIN + title_h + SH_SHEET_ROWS * row_h, BG)) < 0)
        goto end;
    sh_image_text(&im, MARGIN, MARGIN, SCALE, FG, line[0]);
    sh_image_text(&im, MARGIN, MARGIN + LINE_H, SCALE, DIM, line[1]);
    y = MARGIN + title_h;
    for (int r = 0; r < SH_SHEET_ROWS; r++, y += row_h) {
        double t = duration * (r + 0.5) / SH_SHEET_ROWS;
        int lab = y + FFMAX(src.disp_h, out.disp_h) + 2, have_src, have_out;
        char clock[32];
        ShQuality q = { 0 };

        have_src = (ret = grab(&src, t)) >= 0;
        if (ret < 0 && ret != AVERROR_EOF)
            goto end;
        have_out = (ret = grab(&out, t)) >= 0;
        if (ret < 0 && ret != AVERROR_EOF)
            goto end;
        clock_text(clock, sizeof(clock), t);
        snprintf(line[0], sizeof(line[0]), "SOURCE AT %s", clock);
        snprintf(line[1], sizeof(line[1]), "OUTPUT AT %s", clock);
        if (have_src && (ret = convert(&src, &src.to_rgb, src.cell_w, src.cell_h, AV_PIX_FMT_RGB24, src.rgb)) < 0)
            goto end;
        if (have_out && (ret = convert(&out, &out.to_rgb, out.cell_w, out.cell_h, AV_PIX_FMT_RGB24, out.rgb)) < 0)
            goto end;
        if (have_src && have_out && src.info->rotation == out.info->rotation &&
            ((ret = convert(&src, &src.to_gray, gray_w, gray_h, AV_PIX_FMT_GRAY8, src.gray)) < 0 ||
             (ret = convert(&out, &out.to_gray, gray_w, gray_h, AV_PIX_FMT_GRAY8, out.gray)) < 0 ||
             (ret = sh_quality_frame(src.gray, out.gray, &q)) < 0))
            goto end;
        info->ssim[r] = q.ssim;
        if (q.ssim > 0)
            snprintf(line[2], sizeof(line[2]), "SSIM %.4f (%.1f DB)", q.ssim, sh_ssim_db(q.ssim));
        else
            snprintf(line[2], sizeof(line[2]), "SSIM NOT MEASURED");
        if (have_src)
            sh_image_blit(&im, MARGIN, y, src.rgb, src.info->rotation);
        else
            sh_image_text(&im, MARGIN, y, SCALE, DIM, "NO FRAME");
        if (have_out)
            sh_image_blit(&im, MARGIN + col0 + GAP, y, out.rgb, out.info->rotation);
        else
            sh_image_text(&im, MARGIN + col0 + GAP, y, SCALE, DIM, "NO FRAME");
        sh_image_text(&im, MARGIN, lab, SCALE, FG, line[0]);
        sh_image_text(&im, MARGIN + col0 + GAP, lab, SCALE, FG, line[1]);
        sh_image_text(&im, MARGIN + col0 + GAP, lab + LINE_H, SCALE, FG, line[2]);
    }
    info->rows = SH_SHEET_ROWS;
    info->width = im.width;
    info->height = im.height;
    ret = sh_image_write_png(&im, dest, force);
end:
    sh_image_free(&im);
    side_close(&src);
    side_close(&out);
    return ret;
}
