/*
 * Output formats: the name a user gives (--format, or -o's extension), the
 * libavformat muxer behind it and the extension of a default output name.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_OUTPUT_FORMAT_H
#define SH_OUTPUT_FORMAT_H

typedef struct ShFormat {
    const char *name;         /* "mp4", "mkv", ... as --format takes it */
    const char *muxer;        /* libavformat muxer name, as encoders list containers */
    const char *ext;          /* for default output names, without the dot */
} ShFormat;

/* By --format name or by extension (case-insensitive, "m4v" is mp4). NULL: unknown. */
const ShFormat *sh_format_find(const char *name);

/*
 * The format of a job: --format if given, else the output path's extension,
 * else mp4. Logs and returns SH_ERROR_BAD_OPTION for an unknown name or an
 * extension that contradicts --format.
 */
int sh_format_resolve(const char *format, const char *output, const ShFormat **out);

/* The names --format takes, space-separated, for messages and --help. */
const char *sh_format_names(void);

#endif
