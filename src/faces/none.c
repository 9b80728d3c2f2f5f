/*
 * A build without a face detector: faces are off, and every caller is told so
 * by AVERROR(ENOSYS) (the job says it once, in words).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>

#include <libavutil/error.h>

#include "faces/detect.h"

const char *sh_faces_detector_name(void)
{
    return NULL;
}

int sh_face_detector_open(ShFaceDetector **d)
{
    *d = NULL;
    return AVERROR(ENOSYS);
}

int sh_face_detector_run(ShFaceDetector *d, const uint8_t *gray, ptrdiff_t stride, int w, int h,
                         int upsample, ShFaceBox *out, int max)
{
    (void)d, (void)gray, (void)stride, (void)w, (void)h, (void)upsample, (void)out, (void)max;
    return AVERROR(ENOSYS);
}

void sh_face_detector_free(ShFaceDetector **d)
{
    if (d)
        *d = NULL;
}
