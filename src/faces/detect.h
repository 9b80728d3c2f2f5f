/*
 * Faces in a picture: the detector behind a small C interface, so the rest of
 * shrink never sees C++ or the library that finds them. Built with dlib's HOG
 * frontal-face detector (dlib.cc: no model file, found faces about 40 px and
 * up at the size track.c hands it), or without a detector (none.c), where
 * every call says faces are off.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_FACES_DETECT_H
#define SH_FACES_DETECT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A face: a box in pixels of the picture it was found in. */
typedef struct ShFaceBox {
    float x, y, w, h;
    float score;              /* the detector's confidence; > 0 */
} ShFaceBox;

typedef struct ShFaceDetector ShFaceDetector;

/* The detector this build has ("dlib HOG"), or NULL when it has none. */
const char *sh_faces_detector_name(void);

/* AVERROR(ENOSYS) when built without a detector; AVERROR(ENOMEM). */
int sh_face_detector_open(ShFaceDetector **d);

/*
 * Faces in an 8-bit gray picture of w x h, at most max of them, the most
 * confident first. upsample: look at the picture at twice its size too (finds
 * faces half as large, costs about 4x). Returns the number found (>= 0) or a
 * negative AVERROR.
 */
int sh_face_detector_run(ShFaceDetector *d, const uint8_t *gray, ptrdiff_t stride, int w, int h,
                         int upsample, ShFaceBox *out, int max);

void sh_face_detector_free(ShFaceDetector **d);

#ifdef __cplusplus
}
#endif

#endif
