/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include <strings.h>

#include <libavutil/error.h>

#include "common/log.h"
#include "encoders/encoder.h"
#include "output/format.h"
#include "shrink/shrink.h"

static const ShFormat formats[] = {
    { "mp4",  "mp4",      "mp4"  },
    { "mov",  "mov",      "mov"  },
    { "mkv",  "matroska", "mkv"  },
    { "webm", "webm",     "webm" },
    { "gif",  "gif",      "gif"  },
    { "shn",  "shn",      "shn"  },   /* the learned codec's own file (docs/NEURAL.md) */
};

static const struct { const char *alias, *name; } aliases[] = {
    { "m4v", "mp4" }, { "matroska", "mkv" },
};

const ShFormat *sh_format_find(const char *name)
{
    for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
        if (!strcasecmp(name, aliases[i].alias))
            name = aliases[i].name;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcasecmp(name, formats[i].name))
            return &formats[i];
    return NULL;
}

const char *sh_format_names(void)
{
    return "mp4 mov mkv webm gif shn";
}

const char *sh_format_canonical(const char *name)
{
    const ShFormat *f = name ? sh_format_find(name) : NULL;
    return f ? f->name : NULL;
}

const char *sh_format_list(void)
{
    return sh_format_names();
}

const char *sh_codec_format(const char *codec)
{
    const ShEncoderDesc *d = codec && strcmp(codec, "auto") ? sh_encoder_find(codec) : NULL;
    const ShFormat *f;
    char mux[32];
    if (!d || !sh_encoder_default_container(d, mux, sizeof(mux)) || !(f = sh_format_find(mux)))
        return NULL;
    return f->name;
}

/* The extension of the last path component, or NULL. */
static const char *extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    return dot && dot != base && dot[1] ? dot + 1 : NULL;
}

int sh_format_resolve(const char *format, const char *output, const ShFormat **out)
{
    const ShFormat *f = NULL, *by_ext = NULL;
    const char *ext = output ? extension(output) : NULL;

    if (ext)
        by_ext = sh_format_find(ext);
    if (format) {
        if (!(f = sh_format_find(format))) {
            sh_log(SH_LOG_ERROR, NULL, "--format %s: not a format I write (%s)", format, sh_format_names());
            return SH_ERROR_BAD_OPTION;
        }
        if (by_ext && by_ext != f) {
            sh_log(SH_LOG_ERROR, output, "the extension says %s but --format says %s", by_ext->name, f->name);
            return SH_ERROR_BAD_OPTION;
        }
    } else if (ext) {
        if (!(f = by_ext)) {
            sh_log(SH_LOG_ERROR, output, "extension .%s: not a format I write (%s); use --format", ext,
                   sh_format_names());
            return SH_ERROR_BAD_OPTION;
        }
    } else {
        f = sh_format_find("mp4");
    }
    *out = f;
    return 0;
}
