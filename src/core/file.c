/* The helpers of internal/file.h: the folder check every reader of a named file needs, and a
 * whole-file read that takes a regular file's size from fstat (never from fseek/ftell, which
 * report LONG_MAX for a folder on Linux: "out of memory allocating 9223372036854775807 bytes")
 * and reads any other stream to its end. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "internal/check.h"
#include "internal/file.h"

static tl_status check_stat(const struct stat *sb, const char *path) {
    if (S_ISDIR(sb->st_mode)) return tl_fail(TL_ERR_IO, "%s: is a directory, not a file", path);
    return TL_OK;
}

tl_status tli_file_check(const char *path) {
    struct stat sb;
    if (!path) return tl_fail(TL_ERR_INVALID_ARG, "NULL path");
    if (stat(path, &sb) != 0) return tl_fail(TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return check_stat(&sb, path);
}

tl_status tli_file_check_stream(FILE *f, const char *path) {
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0)
        return tl_fail(TL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    return check_stat(&sb, path);
}

tl_status tli_file_read_all(const char *path, unsigned char **buf, size_t *len) {
    tl_status st = TL_OK;
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;
    FILE *f = NULL;
    TL_CHECK(path && buf && len, TL_ERR_INVALID_ARG, "read_all: NULL argument");
    *buf = NULL;
    *len = 0;
    f = fopen(path, "rb");
    TL_CHECK(f, TL_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    TL_CHECK(fstat(fileno(f), &sb) == 0, TL_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    TL_TRY(check_stat(&sb, path));
    if (S_ISREG(sb.st_mode)) {
        TL_CHECK(sb.st_size >= 0 && (unsigned long long)sb.st_size < (unsigned long long)SIZE_MAX,
                 TL_ERR_NOMEM, "%s: file too large to read", path);
        cap = (size_t)sb.st_size + 1;
    }
    if (cap < 4096) cap = 4096;
    TL_ALLOC(b, cap);
    for (;;) {
        size_t want = cap - 1 - n, got = want ? fread(b + n, 1, want, f) : 0;
        n += got;
        if (got < want) break; /* the end (or an error, checked below) */
        int c = fgetc(f);      /* full: a stream, or a file that grew - is there more? */
        if (c == EOF) break;
        TL_CHECK(cap <= SIZE_MAX / 2, TL_ERR_NOMEM, "%s: file too large to read", path);
        unsigned char *nb = tl_realloc(b, cap * 2);
        TL_CHECK(nb, TL_ERR_NOMEM, "%s: out of memory reading the file", path);
        b = nb;
        cap *= 2;
        b[n++] = (unsigned char)c;
    }
    TL_CHECK(!ferror(f), TL_ERR_IO, "%s: read failed: %s", path, strerror(errno));
    b[n] = 0;
    *buf = b;
    *len = n;
    b = NULL;
done:
    if (f) fclose(f);
    tl_free(b);
    return st;
}
