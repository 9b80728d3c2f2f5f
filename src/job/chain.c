/*
 * A chain of stages run frame by frame (chain.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>

#include "common/log.h"
#include "job/chain.h"

static int stage_failed(const char *file, const ShStage *st, int ret)
{
    sh_log(SH_LOG_ERROR, file, "%s stage failed: %s", st->desc->name, av_err2str(ret));
    return ret;
}

int sh_chain_run(ShStage **chain, int n, const AVFrame *in, AVFrame *tmp, const char *file,
                 ShFrameSink sink, void *opaque)
{
    int ret = sh_stage_send(chain[0], in);
    if (ret < 0)
        return stage_failed(file, chain[0], ret);
    for (;;) {
        ret = sh_stage_receive(chain[0], tmp);
        if (ret == AVERROR(EAGAIN))
            return 0;
        if (ret == AVERROR_EOF) {
            if (n > 1)
                return sh_chain_run(chain + 1, n - 1, NULL, tmp, file, sink, opaque);
            return sink(opaque, NULL);
        }
        if (ret < 0)
            return stage_failed(file, chain[0], ret);
        if (n > 1) {
            AVFrame *f = av_frame_clone(tmp);
            av_frame_unref(tmp);
            if (!f)
                return AVERROR(ENOMEM);
            ret = sh_chain_run(chain + 1, n - 1, f, tmp, file, sink, opaque);
            av_frame_free(&f);
        } else {
            ret = sink(opaque, tmp);
            av_frame_unref(tmp);
        }
        if (ret < 0)
            return ret;
    }
}
