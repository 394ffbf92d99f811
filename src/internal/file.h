/* Reading a whole input file, the one way (src/core/file.c): a path that names a folder is
 * refused as "PATH: is a directory, not a file" before anything is allocated, a regular file is
 * read at its size, and a stream (a pipe, /dev/stdin, a FIFO) is read to its end. Readers that
 * take a size from fseek/ftell get LONG_MAX for a folder on Linux and then ask for 2^63 bytes;
 * these helpers are what they should call instead. */
#ifndef TL_INTERNAL_FILE_H
#define TL_INTERNAL_FILE_H

#include <stdio.h>

#include "tl/core.h"

/* TL_OK when path can be read as a file; TL_ERR_IO "PATH: is a directory, not a file" for a
 * folder, "PATH: cannot open: <why>" when it cannot be opened or stat'ed. Nothing is kept open. */
tl_status tli_file_check(const char *path);
/* The same check on an open stream (fstat of its descriptor). */
tl_status tli_file_check_stream(FILE *f, const char *path);
/* The whole file into *buf (tl_malloc'd, one spare zero byte after the *len bytes; free with
 * tl_free). TL_ERR_IO for a folder or a failed read, TL_ERR_NOMEM when it does not fit. */
tl_status tli_file_read_all(const char *path, unsigned char **buf, size_t *len);

#endif
