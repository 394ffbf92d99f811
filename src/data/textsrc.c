/* Where the text readers' bytes come from: a file (mapped), standard input ("-", read to its
 * end), or either of them gzip-compressed (inflated whole with zlib).
 *
 * Why it is built this way: the CSV and svmlight parsers work on one buffer in a single pass
 * (tl_parse_csv / tl_parse_svmlight, also the fuzz targets), so every source is turned into a
 * buffer first and parsed exactly as a file would be. Compression is recognised by its magic
 * bytes (1f 8b), not by the name, so "data.csv.gz", a compressed file without the suffix and a
 * compressed stream on standard input all work, and a plain file named ".gz" is still read. The
 * inflated size is not trusted from the gzip trailer (it is modulo 2^32 and may lie): the output
 * grows geometrically as data actually arrives. Concatenated gzip members (as `cat a.gz b.gz`
 * makes) are read one after another, as gzip -d does. */
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset_internal.h"
#include "internal/check.h"

bool tl_spec_is_stdin(const char *path) { return path && strcmp(path, "-") == 0; }

tl_status tl_gunzip(const unsigned char *in, size_t len, const char *name, char **out,
                    size_t *out_len) {
    tl_status st = TL_OK;
    z_stream zs;
    bool init = false;
    char *buf = NULL;
    size_t cap = 0, have = 0;
    *out = NULL;
    *out_len = 0;
    memset(&zs, 0, sizeof zs);
    TL_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, TL_ERR_NOMEM,
             "%s: cannot initialise zlib", name);
    init = true;
    cap = len < ((size_t)1 << 26) ? 4 * len + 4096 : len;
    TL_ALLOC(buf, cap);
    size_t in_left = len;
    const unsigned char *next = in;
    for (;;) {
        if (zs.avail_in == 0 && in_left > 0) {
            size_t chunk = in_left < (1u << 30) ? in_left : (1u << 30);
            zs.next_in = (Bytef *)(uintptr_t)next;
            zs.avail_in = (uInt)chunk;
            next += chunk;
            in_left -= chunk;
        }
        if (have == cap) {
            TL_CHECK(cap <= SIZE_MAX / 2, TL_ERR_NOMEM, "%s: inflated data too large", name);
            char *g = tl_realloc(buf, cap * 2);
            TL_CHECK(g != NULL, TL_ERR_NOMEM, "%s: out of memory inflating gzip data (%zu bytes)",
                     name, cap * 2);
            buf = g;
            cap *= 2;
        }
        size_t want = cap - have < (1u << 30) ? cap - have : (1u << 30);
        zs.next_out = (Bytef *)(buf + have);
        zs.avail_out = (uInt)want;
        int r = inflate(&zs, Z_NO_FLUSH);
        have += want - zs.avail_out;
        if (r == Z_STREAM_END) {
            /* another member may follow; trailing zero padding ends it too */
            size_t rest = zs.avail_in + in_left;
            const unsigned char *p = zs.next_in;
            bool more = rest >= 2 && p[0] == 0x1f && p[1] == 0x8b;
            if (!more) {
                bool zeros = true;
                for (size_t k = 0; k < zs.avail_in && zeros; k++) zeros = p[k] == 0;
                TL_CHECK(zeros && in_left == 0, TL_ERR_FORMAT,
                         "%s: unexpected bytes after the gzip data", name);
                break;
            }
            TL_CHECK(inflateReset(&zs) == Z_OK, TL_ERR_FORMAT, "%s: corrupted gzip data", name);
            continue;
        }
        if (r == Z_MEM_ERROR) TL_CHECK(false, TL_ERR_NOMEM, "%s: out of memory inflating", name);
        if (r == Z_BUF_ERROR || (r == Z_OK && zs.avail_in == 0 && in_left == 0 && zs.avail_out))
            TL_CHECK(false, TL_ERR_FORMAT,
                     "%s: gzip data truncated (the compressed stream ends early)", name);
        TL_CHECK(r == Z_OK, TL_ERR_FORMAT, "%s: corrupted gzip data (%s)", name,
                 zs.msg ? zs.msg : "inflate failed");
    }
    *out = buf;
    *out_len = have;
    buf = NULL;
done:
    if (init) inflateEnd(&zs);
    tl_free(buf);
    return st;
}

static bool tl_ends_gz(const char *p) {
    size_t n = strlen(p);
    return n >= 3 && p[n - 3] == '.' && (p[n - 2] | 0x20) == 'g' && (p[n - 1] | 0x20) == 'z';
}

tl_status tl_textbuf_open(const char *path, tl_filebuf *fb, const char **shown) {
    tl_status st = TL_OK;
    char *plain = NULL;
    size_t plen = 0;
    const char *nm = tl_spec_is_stdin(path) ? "<stdin>" : path;
    memset(fb, 0, sizeof *fb);
    fb->data = "";
    if (shown) *shown = nm;
    if (tl_spec_is_stdin(path))
        TL_TRY(tl_filebuf_from_fd(STDIN_FILENO, "<stdin>", fb));
    else
        TL_TRY(tl_filebuf_open(path, fb));
    const unsigned char *b = (const unsigned char *)fb->data;
    if (fb->len >= 2 && b[0] == 0x1f && b[1] == 0x8b) {
        TL_TRY(tl_gunzip(b, fb->len, nm, &plain, &plen));
        tl_filebuf_close(fb);
        fb->heap = plain;
        fb->data = plain;
        fb->len = plen;
        plain = NULL;
    } else {
        TL_CHECK(!tl_ends_gz(path) || fb->len == 0, TL_ERR_FORMAT,
                 "%s: the name ends in .gz but the file is not gzip data", nm);
    }
done:
    tl_free(plain);
    if (st != TL_OK) {
        tl_filebuf_close(fb);
        fb->data = "";
    }
    return st;
}

tl_status tl_text_read_block(const char *path, const tl_load_opts *opts, tl_text_block_fn parse,
                             int part, int parts, size_t *total, tl_dataset **out) {
    tl_status st = TL_OK;
    tl_filebuf fb;
    const char *shown = path;
    *out = NULL;
    TL_TRY(tl_textbuf_open(path, &fb, &shown));
    st = parse(fb.data, fb.len, shown, opts, part, parts, total, out);
    tl_filebuf_close(&fb);
done:
    return st;
}
