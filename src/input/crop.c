/*
 * The input's crop: a rectangle of the picture, given as displayed, kept
 * in coded orientation, cut from each video frame by moving its data
 * pointers (av_frame_apply_cropping: no copy).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/frame.h>

#include "common/log.h"
#include "input/stream.h"

/*
 * The displayed rectangle c in a coded picture of w x h shown turned
 * clockwise by rot: the pixels off each side of the coded picture. A coded
 * pixel (cx, cy) is shown at (h-1-cy, cx) turned 90, (w-1-cx, h-1-cy) at
 * 180 and (cy, w-1-cx) at 270.
 */
static void to_coded(const ShCrop *c, int w, int h, int rot, int *l, int *t, int *r, int *b)
{
    int dw = rot == 90 || rot == 270 ? h : w, dh = rot == 90 || rot == 270 ? w : h;
    int left = c->x, top = c->y, right = dw - c->x - c->width, bottom = dh - c->y - c->height;
    switch (rot) {
    case 90:  *l = top;    *t = right;  *r = bottom; *b = left;   break;
    case 180: *l = right;  *t = bottom; *r = left;   *b = top;    break;
    case 270: *l = bottom; *t = left;   *r = top;    *b = right;  break;
    default:  *l = left;   *t = top;    *r = right;  *b = bottom; break;
    }
}

void sh_input_crop_from_coded(const ShInputInfo *info, int l, int t, int r, int b, ShCrop *c)
{
    int swap = info->rotation == 90 || info->rotation == 270;
    int dw = swap ? info->full_height : info->full_width, dh = swap ? info->full_width : info->full_height;
    int left, top;
    switch (info->rotation) {
    case 90:  left = b; top = l; break;
    case 180: left = r; top = b; break;
    case 270: left = t; top = r; break;
    default:  left = l; top = t; break;
    }
    c->x = left;
    c->y = top;
    c->width = dw - (swap ? t + b : l + r);
    c->height = dh - (swap ? l + r : t + b);
}

int sh_input_set_crop(ShInput *in, const ShCrop *given)
{
    ShInputInfo *info = &in->info;
    int swap = info->rotation == 90 || info->rotation == 270;
    int dw = swap ? info->full_height : info->full_width, dh = swap ? info->full_width : info->full_height;
    ShCrop c = *given;
    int l, t, r, b;

    info->crop = (ShCrop){ 0 };
    info->width = info->full_width;
    info->height = info->full_height;
    in->crop_l = in->crop_t = in->crop_r = in->crop_b = 0;
    if (!c.width && !c.height)
        return 0;
    if (c.width <= 0 || c.height <= 0 || c.x < 0 || c.y < 0 ||
        (int64_t)c.x + c.width > dw || (int64_t)c.y + c.height > dh) {
        sh_log(SH_LOG_ERROR, info->path, "the crop %dx%d at %d,%d is not inside the picture (%dx%d as displayed)",
               c.width, c.height, c.x, c.y, dw, dh);
        return SH_ERROR_BAD_OPTION;
    }
    /* 4:2:0 chroma: even offsets and sizes (an odd width loses its last column). */
    c.x &= ~1;
    c.y &= ~1;
    c.width = FFMIN(c.width & ~1, (dw - c.x) & ~1);
    c.height = FFMIN(c.height & ~1, (dh - c.y) & ~1);
    if (c.width < 2 || c.height < 2) {
        sh_log(SH_LOG_ERROR, info->path, "the crop %dx%d at %d,%d leaves no picture (at least 2x2, even)",
               given->width, given->height, given->x, given->y);
        return SH_ERROR_BAD_OPTION;
    }
    if (c.width == dw && c.height == dh)
        return 0;
    to_coded(&c, info->full_width, info->full_height, info->rotation, &l, &t, &r, &b);
    in->crop_l = l;
    in->crop_t = t;
    in->crop_r = r;
    in->crop_b = b;
    info->crop = c;
    info->width = info->full_width - l - r;
    info->height = info->full_height - t - b;
    return 0;
}

int sh_input_crop_frame(ShInput *in, AVFrame *f)
{
    int ret;
    if (f->width != in->info.full_width || f->height != in->info.full_height)
        return 0;   /* another size mid-stream: the scaler copes with it whole */
    f->crop_left = in->crop_l;
    f->crop_top = in->crop_t;
    f->crop_right = in->crop_r;
    f->crop_bottom = in->crop_b;
    /* Unaligned: exactly these pixels (aligned, libavutil may keep some of
     * the left bar to keep the pointers' alignment). */
    if ((ret = av_frame_apply_cropping(f, AV_FRAME_CROP_UNALIGNED)) < 0) {
        sh_log(SH_LOG_ERROR, in->info.path, "cannot crop a %dx%d frame: %s", f->width, f->height, av_err2str(ret));
        av_frame_unref(f);
    }
    return ret;
}
