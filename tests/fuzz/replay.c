/*
 * Run a fuzz harness without libFuzzer: each FILE (or every file in each
 * DIRECTORY) is passed once to LLVMFuzzerTestOneInput. Built with any
 * compiler, so the normal suite replays the kept inputs (tests/fuzz/corpus/)
 * as regression tests. A crash kills the process: the caller sees it.
 * Usage: fuzz_NAME_replay FILE|DIRECTORY...
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
        !(buf = malloc(n ? (size_t)n : 1)) || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", path);
        if (f)
            fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    fprintf(stderr, "replay: %s (%ld bytes)\n", path, n);
    LLVMFuzzerTestOneInput(buf, (size_t)n);
    free(buf);
    return 1;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int count = 0, bad = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        DIR *d;
        struct dirent *e;
        char **names = NULL;
        int n = 0;
        if (stat(argv[i], &sb) < 0) {
            fprintf(stderr, "%s: no such file\n", argv[i]);
            bad++;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            int r = replay_file(argv[i]);
            count += r > 0;
            bad += r < 0;
            continue;
        }
        if (!(d = opendir(argv[i]))) {
            bad++;
            continue;
        }
        while ((e = readdir(d))) {
            char **grown;
            if (e->d_name[0] == '.')
                continue;
            if (!(grown = realloc(names, (n + 1) * sizeof(*names))))
                break;
            names = grown;
            if (!(names[n] = malloc(strlen(argv[i]) + strlen(e->d_name) + 2)))
                break;
            sprintf(names[n++], "%s/%s", argv[i], e->d_name);
        }
        closedir(d);
        if (n)
            qsort(names, n, sizeof(*names), cmp);
        for (int k = 0; k < n; k++) {
            int r = replay_file(names[k]);
            count += r > 0;
            bad += r < 0;
            free(names[k]);
        }
        free(names);
    }
    printf("%d inputs replayed\n", count);
    return bad ? 1 : 0;
}
