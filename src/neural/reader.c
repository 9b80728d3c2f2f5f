/*
 * The learned codec's file read frame by frame, as an input (reader.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/file.h>
#include <libavutil/mem.h>

#include "common/log.h"
#include "neural/decode.h"
#include "neural/reader.h"

struct ShNnReader {
    ShNnDecoder *d;
    uint8_t *map;
    size_t size;
    uint32_t next, frames;
    ShInputInfo info;
};

int sh_nn_reader_open(ShNnReader **pr, const char *path)
{
    ShNnReader *r;
    const ShNnHeader *h;
    char why[160];
    int ret;
    *pr = NULL;
    if (!(r = av_mallocz(sizeof(*r))))
        return AVERROR(ENOMEM);
    if (av_file_map(path, &r->map, &r->size, 0, NULL) < 0 || r->size < 4 || memcmp(r->map, SH_NN_MAGIC, 4)) {
        sh_nn_reader_free(&r);
        return 0;
    }
    if ((ret = sh_nn_decoder_open(&r->d, r->map, r->size, 2, why, sizeof(why))) < 0) {
        sh_log(SH_LOG_ERROR, path, "%s", why);
        sh_nn_reader_free(&r);
        return ret;
    }
    h = sh_nn_decoder_header(r->d);
    r->frames = h->frames;
    r->info.width = r->info.full_width = h->model.width;
    r->info.height = r->info.full_height = h->model.height;
    r->info.sar = (AVRational){ 1, 1 };
    r->info.frame_rate = h->fps;
    r->info.video_tb = av_inv_q(h->fps);
    r->info.duration = h->frames / av_q2d(h->fps);
    r->info.bit_depth = 8;
    *pr = r;
    return 1;
}

const ShInputInfo *sh_nn_reader_info(const ShNnReader *r)
{
    return &r->info;
}

int sh_nn_reader_read(ShNnReader *r, AVFrame *f)
{
    if (r->next >= r->frames)
        return AVERROR_EOF;
    return sh_nn_decoder_frame(r->d, r->next++, f);
}

void sh_nn_reader_seek(ShNnReader *r, int64_t pts)
{
    r->next = (uint32_t)av_clip64(pts, 0, r->frames);
}

void sh_nn_reader_free(ShNnReader **pr)
{
    ShNnReader *r = *pr;
    if (!r)
        return;
    sh_nn_decoder_free(&r->d);
    if (r->map)
        av_file_unmap(r->map, r->size);
    av_freep(pr);
}
