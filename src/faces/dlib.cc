/*
 * dlib's HOG frontal-face detector (Dalal-Triggs features, a linear SVM over
 * an image pyramid, 80x80 windows; trained into the library, so no model file
 * to install or find). Chosen over OpenCV's cascades for the product: 11 Debian
 * packages against OpenCV's 113, no data file to locate, and the bench's
 * independent check (OpenCV's Haar cascade, tests/bench/bench_faces.py) is then
 * truly another detector. Measured on 640x360 frames of the shared clips, 2
 * cores: 15 ms a frame as it is, 64 ms looking at twice the size too, which is
 * what finds a 40 px webcam inset (docs/FACES.md).
 * No C++ exception crosses into C: each becomes an AVERROR.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <algorithm>
#include <new>
#include <sstream>
#include <string>
#include <vector>

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

extern "C" {
#include <libavutil/error.h>

/* The model's serialised bytes (model.c, made by model_gen.cc at build time). */
extern const size_t sh_face_model_size;
extern const unsigned char sh_face_model[];
}

#include "faces/detect.h"

struct ShFaceDetector {
    dlib::frontal_face_detector det;
    dlib::array2d<unsigned char> img;
};

extern "C" const char *sh_faces_detector_name(void)
{
    return "dlib HOG";
}

extern "C" int sh_face_detector_open(ShFaceDetector **d)
{
    *d = NULL;
    try {
        std::istringstream in(std::string(reinterpret_cast<const char *>(sh_face_model), sh_face_model_size));
        ShFaceDetector *n = new ShFaceDetector;
        try {
            dlib::deserialize(n->det, in);
        } catch (...) {
            delete n;
            throw;
        }
        *d = n;
    } catch (const std::bad_alloc &) {
        return AVERROR(ENOMEM);
    } catch (...) {
        return AVERROR_EXTERNAL;
    }
    return 0;
}

extern "C" int sh_face_detector_run(ShFaceDetector *d, const uint8_t *gray, ptrdiff_t stride, int w, int h,
                                    int upsample, ShFaceBox *out, int max)
{
    if (!d || !gray || w <= 0 || h <= 0 || max < 0)
        return AVERROR(EINVAL);
    try {
        std::vector<dlib::rect_detection> found;
        double scale = 1;
        d->img.set_size(h, w);
        for (int y = 0; y < h; y++)
            std::copy(gray + y * stride, gray + y * stride + w, &d->img[y][0]);
        if (upsample) {
            dlib::pyramid_up(d->img);
            scale = 0.5;
        }
        d->det(d->img, found, 0.0);
        std::sort(found.begin(), found.end(),
                  [](const dlib::rect_detection &a, const dlib::rect_detection &b) {
                      return a.detection_confidence > b.detection_confidence;
                  });
        int n = 0;
        for (const auto &r : found) {
            if (n == max)
                break;
            const dlib::rectangle &b = r.rect;
            out[n].x = (float)(b.left() * scale);
            out[n].y = (float)(b.top() * scale);
            out[n].w = (float)(b.width() * scale);
            out[n].h = (float)(b.height() * scale);
            out[n].score = (float)r.detection_confidence;
            n++;
        }
        return n;
    } catch (const std::bad_alloc &) {
        return AVERROR(ENOMEM);
    } catch (...) {
        return AVERROR_EXTERNAL;
    }
}

extern "C" void sh_face_detector_free(ShFaceDetector **d)
{
    if (!d)
        return;
    delete *d;
    *d = NULL;
}
