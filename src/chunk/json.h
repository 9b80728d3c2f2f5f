/*
 * A small, strict JSON reader for the plan file: the whole text into a tree
 * (RFC 8259 without \u escapes beyond ASCII, nesting at most 16 deep), then
 * typed lookups that fail on a missing key or a wrong type.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CHUNK_JSON_H
#define SH_CHUNK_JSON_H

#include <stdint.h>
#include <stdio.h>

#include "common/text.h"

typedef enum ShJsonType {
    SH_JSON_NULL,
    SH_JSON_BOOL,
    SH_JSON_NUMBER,
    SH_JSON_STRING,
    SH_JSON_ARRAY,
    SH_JSON_OBJECT,
} ShJsonType;

typedef struct ShJson {
    ShJsonType type;
    int boolean;
    int is_int;               /* a number written without fraction or exponent */
    int64_t i;                /* exact when is_int */
    double d;
    char *s;                  /* string */
    int n, alloc;             /* array or object members */
    struct ShJson *items;
    char **keys;              /* object: one per item */
} ShJson;

/* Parse text (NUL-terminated). Returns 0 or AVERROR_INVALIDDATA; *where gets the byte offset of the error. */
int  sh_json_parse(ShJson **root, const char *text, size_t *where);
void sh_json_free(ShJson **root);

/* Members of an object; NULL when missing or not an object. */
const ShJson *sh_json_get(const ShJson *obj, const char *key);

/* Typed reads: 0, or AVERROR_INVALIDDATA when missing or of another type. */
int sh_json_int(const ShJson *obj, const char *key, int64_t *out);
int sh_json_num(const ShJson *obj, const char *key, double *out);
int sh_json_str(const ShJson *obj, const char *key, char *out, size_t len);
/* A file name: KEY_base64's bytes when present (a name that is not UTF-8), else KEY's string. */
int sh_json_path(const ShJson *obj, const char *key, char *out, size_t len);

/* Writing: sh_json_write_string and sh_json_write_base64 (common/text.h), shared with --json. */

#endif
