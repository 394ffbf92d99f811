/* The one way libtl writes a file (tl_wfile, declared in tl/core.h).
 *
 * A regular file, or a name that does not exist yet, is replaced atomically: the bytes go to a
 * temporary file made beside it by mkstemp ("<name>.tmp.XXXXXX", in the same folder, so that the
 * rename cannot cross a file system); commit flushes, fsyncs and closes it, renames it over the
 * name and fsyncs the folder so that the rename itself reaches the disk. A reader - or whoever
 * looks after a crash or a SIGKILL at any instant - finds the old file or the new one, never a
 * part of one; at worst a stray temporary is left under its own name. The new file gets the mode
 * of the one it replaces, else 0666 less the umask (what open(2) would have given).
 *
 * A symbolic link is kept: its chain is followed to the end and that file is replaced the same
 * way, beside it (a dangling link gets its target created).
 *
 * Anything else is written through, never replaced, since replacing it would break it: a
 * descriptor alias (/dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N - the descriptor is
 * duplicated, so the bytes go where the process's own output goes, at its offset, even when the
 * shell opened a regular file there), a FIFO, a character or block device, a socket's path. There
 * commit only flushes, and abort closes: what was written stays written.
 *
 * Why one object around a FILE *: every writer (CSV rows, NPY headers, container buffers, training
 * logs) already writes through stdio; it keeps doing so and only the frame around it - open,
 * commit or abort - is shared. The end comes in two steps (finish, then commit) so that a caller
 * writing several files (an .npy and its labels) learns of a write error in any of them before the
 * first is renamed into place. Every message names the path as the caller gave it, and the file
 * written when a link led elsewhere. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal/check.h"
#include "internal/util.h"

#define WF_MAX_LINKS 40 /* as the kernel's own limit on a chain of symbolic links */

struct tl_wfile {
    FILE *f;      /* NULL once finished */
    char *path;   /* as given, for messages */
    char *target; /* the file that commit replaces (the end of a link chain); NULL: a stream */
    char *tmp;    /* the temporary beside target; NULL for a stream, or once renamed / removed */
    bool finished;
    tl_status status; /* of finish, returned again by commit */
};

/* " (writing <target>)" when a link led from path to another file, else "". */
static const char *wf_via(const tl_wfile *w, char *buf, size_t cap) {
    buf[0] = '\0';
    if (w->target && strcmp(w->target, w->path) != 0)
        snprintf(buf, cap, " (writing %s)", w->target);
    return buf;
}

/* The descriptor that path names when it is an entry of this process's descriptor folder
 * (/proc/<pid>/fd/N, reached as /dev/fd/N, /proc/self/fd/N or /proc/thread-self/fd/N), else -1. */
static int wf_fd_alias(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) return -1;
    long n = 0;
    for (const char *c = slash + 1; *c; c++) {
        if (*c < '0' || *c > '9' || n > 100000000L) return -1;
        n = n * 10 + (*c - '0');
    }
    char dir[4096], real[4096], own[64];
    size_t dl = (size_t)(slash - path);
    if (dl == 0) return -1;
    if (dl >= sizeof dir) return -1;
    memcpy(dir, path, dl);
    dir[dl] = '\0';
    if (!realpath(dir, real)) return -1;
    int ol = snprintf(own, sizeof own, "/proc/%ld/", (long)getpid());
    if (strncmp(real, own, (size_t)ol) != 0) return -1;
    const char *rest = real + ol;
    if (strcmp(rest, "fd") == 0) return (int)n;
    if (strncmp(rest, "task/", 5) == 0) { /* /proc/<pid>/task/<tid>/fd: a thread's, same table */
        rest += 5;
        while (*rest >= '0' && *rest <= '9') rest++;
        if (strcmp(rest, "/fd") == 0) return (int)n;
    }
    return -1;
}

/* Follows path's symbolic links. Sets *target (tl_malloc'd) to the file at the end of the chain,
 * which may not exist yet, or *fd to the descriptor when the chain reaches a descriptor alias
 * (*target NULL then). */
static tl_status wf_resolve(const char *path, char **target, int *fd) {
    tl_status st = TL_OK;
    char *p = NULL, *link = NULL;
    *target = NULL;
    *fd = -1;
    p = tli_strdup(path);
    TL_CHECK(p, TL_ERR_NOMEM, "%s: out of memory", path);
    for (int hop = 0;; hop++) {
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            TL_CHECK(errno == ENOENT, TL_ERR_IO, "%s: cannot write %s: %s", path, p,
                     strerror(errno));
            break; /* a new file */
        }
        if (!S_ISLNK(sb.st_mode)) break;
        if ((*fd = wf_fd_alias(p)) >= 0) {
            tl_free(p);
            return TL_OK;
        }
        TL_CHECK(hop < WF_MAX_LINKS, TL_ERR_IO, "%s: too many levels of symbolic links", path);
        size_t cap = (size_t)sb.st_size + 2 > 256 ? (size_t)sb.st_size + 2 : 256;
        ssize_t n;
        for (;;) { /* st_size can be 0 (procfs) or stale: grow until the text fits */
            TL_ALLOC(link, cap);
            n = readlink(p, link, cap);
            TL_CHECK(n >= 0, TL_ERR_IO, "%s: cannot read the link %s: %s", path, p,
                     strerror(errno));
            if ((size_t)n < cap) break;
            tl_free(link);
            link = NULL;
            TL_CHECK(cap < ((size_t)1 << 20), TL_ERR_IO, "%s: the link %s is too long", path, p);
            cap *= 2;
        }
        link[n] = '\0';
        if (link[0] != '/') { /* relative to the folder that holds the link */
            const char *slash = strrchr(p, '/');
            if (slash) {
                size_t dl = (size_t)(slash - p) + 1, ll = (size_t)n + 1;
                char *j = NULL;
                TL_ALLOC(j, dl + ll);
                memcpy(j, p, dl);
                memcpy(j + dl, link, ll);
                tl_free(link);
                link = j;
            }
        }
        tl_free(p);
        p = link;
        link = NULL;
    }
    *target = p;
    p = NULL;
done:
    tl_free(p);
    tl_free(link);
    return st;
}

/* The process's umask, read without changing it (umask(2) can only be read by setting it, which
 * would race with other threads); 022 when /proc is not there. */
static mode_t wf_umask(void) {
    unsigned u = 022;
    FILE *f = fopen("/proc/self/status", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "Umask: %o", &u) == 1) break;
        fclose(f);
    }
    return (mode_t)(u & 0777);
}

static void wf_free(tl_wfile *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    if (w->tmp) unlink(w->tmp);
    tl_free(w->tmp);
    tl_free(w->target);
    tl_free(w->path);
    tl_free(w);
}

tl_status tl_wfile_open(const char *path, tl_wfile **out) {
    tl_status st = TL_OK;
    tl_wfile *w = NULL;
    int fd = -1, alias = -1;
    char via[4200];
    TL_CHECK(out, TL_ERR_INVALID_ARG, "wfile_open: out is NULL");
    *out = NULL;
    TL_CHECK(path && path[0], TL_ERR_INVALID_ARG, "wfile_open: empty output path");
    TL_CALLOC(w, 1);
    w->path = tli_strdup(path);
    TL_CHECK(w->path, TL_ERR_NOMEM, "%s: out of memory", path);
    TL_TRY(wf_resolve(path, &w->target, &alias));
    if (alias >= 0) {
        /* what the process wrote there through stdio comes first */
        if (alias == STDOUT_FILENO) fflush(stdout);
        if (alias == STDERR_FILENO) fflush(stderr);
        fd = fcntl(alias, F_DUPFD_CLOEXEC, 0);
        TL_CHECK(fd >= 0, TL_ERR_IO, "%s: descriptor %d is not open for writing: %s", path, alias,
                 strerror(errno));
    } else {
        struct stat sb;
        bool exists = stat(w->target, &sb) == 0;
        TL_CHECK(!exists || !S_ISDIR(sb.st_mode), TL_ERR_IO, "%s: is a directory, not a file%s", path,
                 wf_via(w, via, sizeof via));
        if (exists && !S_ISREG(sb.st_mode)) {
            /* FIFO, device, ...: written through (a FIFO's open waits for its reader) */
            fd = open(w->target, O_WRONLY | O_NOCTTY | O_CLOEXEC);
            TL_CHECK(fd >= 0, TL_ERR_IO, "%s: cannot open for writing%s: %s", path,
                     wf_via(w, via, sizeof via), strerror(errno));
            tl_free(w->target);
            w->target = NULL;
        } else {
            static const char suffix[] = ".tmp.XXXXXX";
            size_t n = strlen(w->target);
            TL_ALLOC(w->tmp, n + sizeof suffix);
            memcpy(w->tmp, w->target, n);
            memcpy(w->tmp + n, suffix, sizeof suffix);
            fd = mkostemp(w->tmp, O_CLOEXEC);
            if (fd < 0) {
                int e = errno;
                tl_free(w->tmp);
                w->tmp = NULL;
                st = tl_fail(TL_ERR_IO, "%s: cannot create a temporary file beside it%s: %s",
                             path, wf_via(w, via, sizeof via), strerror(e));
                goto done;
            }
            /* mkstemp makes 0600: give the mode of the file replaced, else open(2)'s default */
            mode_t mode = exists ? (sb.st_mode & 07777) : (0666 & ~wf_umask());
            (void)fchmod(fd, mode);
        }
    }
    w->f = fdopen(fd, "wb");
    TL_CHECK(w->f, TL_ERR_IO, "%s: cannot open a stream on it: %s", path, strerror(errno));
    fd = -1;
    setvbuf(w->f, NULL, _IOFBF, (size_t)1 << 16);
    *out = w;
    w = NULL;
done:
    if (fd >= 0) close(fd);
    wf_free(w); /* removes the temporary when one was made */
    return st;
}

FILE *tl_wfile_stream(tl_wfile *w) { return w ? w->f : NULL; }

const char *tl_wfile_path(const tl_wfile *w) { return w ? w->path : ""; }

bool tl_wfile_is_stream(const tl_wfile *w) { return w && !w->target; }

tl_status tl_wfile_write(tl_wfile *w, const void *data, size_t n) {
    if (!w || !w->f || (n && !data))
        return tl_fail(TL_ERR_INVALID_ARG, "wfile_write: %s", !w ? "NULL writer"
                                                               : !w->f ? "already finished"
                                                                       : "NULL data");
    if (n && fwrite(data, 1, n, w->f) != n)
        return tl_fail(TL_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    return TL_OK;
}

tl_status tl_wfile_finish(tl_wfile *w) {
    if (!w) return tl_fail(TL_ERR_INVALID_ARG, "wfile_finish: NULL writer");
    if (w->finished) return w->status;
    tl_status st = TL_OK;
    int bad = ferror(w->f), e = 0;
    if (fflush(w->f) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        st = tl_fail(TL_ERR_IO, "%s: write failed%s%s", w->path, e ? ": " : "",
                     e ? strerror(e) : "");
    } else if (w->tmp && fsync(fileno(w->f)) != 0 && errno != EINVAL) {
        st = tl_fail(TL_ERR_IO, "%s: fsync failed: %s", w->path, strerror(errno));
    }
    if (fclose(w->f) != 0 && st == TL_OK)
        st = tl_fail(TL_ERR_IO, "%s: close failed: %s", w->path, strerror(errno));
    w->f = NULL;
    w->finished = true;
    w->status = st;
    if (st != TL_OK && w->tmp) { /* nothing of it will be renamed into place */
        unlink(w->tmp);
        tl_free(w->tmp);
        w->tmp = NULL;
    }
    return st;
}

/* fsync the folder holding path, so a rename in it is on disk (best effort: some file systems
 * refuse to fsync a folder, and the data themselves are already synced). */
static void wf_sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        if (dl >= sizeof dir) return;
        memcpy(dir, path, dl);
        dir[dl] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)fsync(fd);
    close(fd);
}

/* The thread's open batch (tl_wfile_batch_begin): finished files waiting for their rename. */
static _Thread_local struct {
    bool open;
    tl_wfile **w;
    size_t n, cap;
} wf_batch;

tl_status tl_wfile_commit(tl_wfile *w) {
    if (!w) return tl_fail(TL_ERR_INVALID_ARG, "wfile_commit: NULL writer");
    tl_status st = tl_wfile_finish(w);
    if (st == TL_OK && w->tmp && wf_batch.open) { /* renamed with the rest of the batch */
        if (wf_batch.n == wf_batch.cap) {
            size_t cap = wf_batch.cap ? 2 * wf_batch.cap : 8;
            tl_wfile **g = tl_realloc(wf_batch.w, cap * sizeof *g);
            if (!g) {
                wf_free(w);
                return tl_fail(TL_ERR_NOMEM, "%s: out of memory", w->path);
            }
            wf_batch.w = g;
            wf_batch.cap = cap;
        }
        wf_batch.w[wf_batch.n++] = w;
        return TL_OK;
    }
    if (st == TL_OK && w->tmp) {
        if (rename(w->tmp, w->target) != 0) {
            char via[4200];
            st = tl_fail(TL_ERR_IO, "%s: cannot rename the temporary file into place%s: %s",
                         w->path, wf_via(w, via, sizeof via), strerror(errno));
        } else {
            tl_free(w->tmp);
            w->tmp = NULL;
            wf_sync_dir(w->target);
        }
    }
    wf_free(w);
    return st;
}

void tl_wfile_abort(tl_wfile *w) { wf_free(w); }

void tl_wfile_batch_begin(void) {
    tl_wfile_batch_abort();
    wf_batch.open = true;
}

tl_status tl_wfile_batch_commit(void) {
    tl_status st = TL_OK;
    size_t n = wf_batch.n;
    wf_batch.open = false;
    wf_batch.n = 0;
    for (size_t i = 0; i < n; i++) {
        tl_status s = tl_wfile_commit(wf_batch.w[i]); /* the rename (already finished) */
        if (st == TL_OK) st = s;
    }
    tl_free(wf_batch.w);
    wf_batch.w = NULL;
    wf_batch.cap = 0;
    return st;
}

void tl_wfile_batch_abort(void) {
    for (size_t i = 0; i < wf_batch.n; i++) wf_free(wf_batch.w[i]);
    tl_free(wf_batch.w);
    memset(&wf_batch, 0, sizeof wf_batch);
}

tl_status tl_wfile_check(const char *path) {
    tl_status st = TL_OK;
    char *target = NULL;
    int alias = -1;
    TL_CHECK(path && path[0], TL_ERR_INVALID_ARG, "empty output path");
    TL_TRY(wf_resolve(path, &target, &alias));
    if (alias >= 0) goto done; /* the process's own descriptor */
    struct stat sb;
    if (stat(target, &sb) == 0) {
        TL_CHECK(!S_ISDIR(sb.st_mode), TL_ERR_IO, "%s: is a folder, not a file", path);
        if (!S_ISREG(sb.st_mode)) goto done; /* a stream: written through */
    }
    const char *slash = strrchr(target, '/');
    char *dir = slash ? tli_strdup(target) : tli_strdup(".");
    TL_CHECK(dir, TL_ERR_NOMEM, "%s: out of memory", path);
    if (slash) dir[slash == target ? 1 : slash - target] = '\0';
    bool is_dir = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    int e = is_dir && access(dir, W_OK | X_OK) != 0 ? errno : 0;
    tl_free(dir);
    TL_CHECK(is_dir, TL_ERR_IO, "%s: cannot write: its folder does not exist", path);
    TL_CHECK(e == 0, TL_ERR_IO, "%s: cannot write in its folder: %s", path, strerror(e));
done:
    tl_free(target);
    return st;
}
