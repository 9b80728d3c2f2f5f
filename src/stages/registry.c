/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "stages/stage.h"

extern const ShStageDesc sh_stage_fps;
extern const ShStageDesc sh_stage_scale;
extern const ShStageDesc sh_stage_resample;
extern const ShStageDesc sh_stage_palette;
extern const ShStageDesc sh_stage_deinterlace;
extern const ShStageDesc sh_stage_tonemap;

static const ShStageDesc *const stage_table[] = {
    &sh_stage_fps,
    &sh_stage_scale,
    &sh_stage_resample,
    &sh_stage_palette,
    &sh_stage_deinterlace,
    &sh_stage_tonemap,
    NULL,
};

const ShStageDesc *sh_stage_find(const char *name)
{
    for (int i = 0; stage_table[i]; i++)
        if (!strcmp(stage_table[i]->name, name))
            return stage_table[i];
    return NULL;
}

int sh_stage_create(ShStage **pst, const char *name, const ShStreamInfo *in, const ShStageArgs *args)
{
    const ShStageDesc *desc = sh_stage_find(name);
    ShStage *st;
    int ret;

    if (!desc || desc->type != in->type)
        return AVERROR(EINVAL);
    st = av_mallocz(sizeof(*st));
    if (!st)
        return AVERROR(ENOMEM);
    st->desc = desc;
    st->in = *in;
    st->out = *in;
    if (desc->priv_size && !(st->priv = av_mallocz(desc->priv_size))) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if ((ret = desc->init(st->priv, &st->in, &st->out, args)) < 0)
        goto fail;
    *pst = st;
    return 0;
fail:
    sh_stage_free(&st);
    return ret;
}

int sh_stage_send(ShStage *st, const AVFrame *in)
{
    return st->desc->send(st->priv, in);
}

int sh_stage_receive(ShStage *st, AVFrame *out)
{
    return st->desc->receive(st->priv, out);
}

void sh_stage_free(ShStage **pst)
{
    ShStage *st = *pst;
    if (!st)
        return;
    if (st->priv && st->desc->uninit)
        st->desc->uninit(st->priv);
    av_freep(&st->priv);
    av_freep(pst);
}
