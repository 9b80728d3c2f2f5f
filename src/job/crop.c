/*
 * The job's crop: a plan's, the user's, or the bars found on the film
 * (input/cropdetect.c), set on the input before anything sizes the picture,
 * so the solver, the decode pass, GIF and every re-opening of the input see
 * only the picture that remains.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>

#include "common/log.h"
#include "job/state.h"

int sh_job_crop(Job *j, const ShJobPlan *given)
{
    const ShOptions *o = j->opt;
    ShCrop c = { 0 };
    int ret;

    if (given) {
        /* The plan's: every chunk of it crops the same. */
        c = given->crop;
    } else if (o->crop_mode == SH_CROP_MANUAL) {
        c = o->crop;
    } else if (o->crop_mode == SH_CROP_AUTO) {
        ret = sh_input_detect_crop(j->input, sh_input_info(j->in), &c);
        if (ret == AVERROR(ENOMEM))
            return ret;
        if ((ret = sh_job_check_interrupt()) < 0)
            return ret;
        if (ret < 0)
            c = (ShCrop){ 0 };  /* said where it failed; the film is shrunk whole */
    }
    if (!c.width)
        return 0;
    if ((ret = sh_input_set_crop(j->in, &c)) < 0)
        return ret;
    c = j->crop = sh_input_info(j->in)->crop;
    if (c.width)
        sh_log(SH_LOG_VERBOSE, j->input, "cropped to %dx%d at %d,%d (as displayed)", c.width, c.height, c.x, c.y);
    return 0;
}
