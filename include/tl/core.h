/* libtl core: status codes, error detail, allocator, RNG, run context (threads, seed, logging,
 * progress), version, and the file writer every save goes through (tl_wfile). Everything else
 * in libtl builds on these few types.
 *
 * Errors follow the LAPACKE/zstd pattern: every fallible function returns a tl_status, results come
 * back through out-parameters, and the human-readable detail of the last failure on this thread
 * (file, line, parameter, shapes) is available from tl_error_message(). Status values are pinned:
 * new ones are appended, never renumbered. */
#ifndef TL_CORE_H
#define TL_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of these headers (tl_version() gives the library's): major.minor.patch; the shared
 * library's SONAME carries the major number. */
#define TL_VERSION_MAJOR 0
#define TL_VERSION_MINOR 1
#define TL_VERSION_PATCH 0
#define TL_VERSION_STRING "0.1.0"

/* What every call that can fail returns: TL_OK, or the kind of failure (tl_error_message() has
 * the details). */
typedef enum {
    TL_OK = 0,              /* success */
    TL_ERR_NOMEM = 1,       /* an allocation failed or a size overflowed */
    TL_ERR_INVALID_ARG = 2, /* a parameter is out of range or inconsistent */
    TL_ERR_IO = 3,          /* a file could not be opened, read or written */
    TL_ERR_FORMAT = 4,      /* a file's contents are malformed, truncated or corrupted */
    TL_ERR_SHAPE = 5,       /* dimensions do not agree */
    TL_ERR_NONFINITE = 6,   /* NaN or Inf in input data */
    TL_ERR_NOT_FOUND = 7,   /* a named variable, column or layer does not exist */
    TL_ERR_LINALG = 8,      /* a factorisation failed (not SPD, no convergence) */
    TL_ERR_UNSUPPORTED = 9, /* a valid request this build or format cannot serve */
    TL_ERR_LABEL = 10,      /* labels missing, unknown or inconsistent */
    TL_ERR_EMPTY = 11,      /* an empty data set or domain */
    TL_ERR_STATE = 12,      /* an object used in the wrong state (e.g. predict before fit) */
    TL_ERR_CANCELLED = 13   /* the run context's cancel callback asked the call to stop */
} tl_status;

/* Short fixed name of a status ("out of memory", "bad format", ...). Never NULL. */
const char *tl_status_name(tl_status s);
/* Detail of the most recent failure on the calling thread, e.g.
 * "data.csv:17: expected 785 columns, found 784". Empty string if none. Never NULL. */
const char *tl_error_message(void);
void tl_error_clear(void);

/* ---- allocator: every byte libtl allocates goes through these (tests inject failures) ---- */
/* A replacement allocator: the three functions and the pointer handed to each. */
typedef struct {
    void *(*alloc)(void *user, size_t size);              /* malloc's contract */
    void *(*realloc)(void *user, void *ptr, size_t size); /* realloc's contract */
    void (*free)(void *user, void *ptr);                  /* free's contract; ptr may be NULL */
    void *user;                                           /* passed to each call */
} tl_allocator;

/* Replace the allocator (process-wide; set it once, before creating any libtl object).
 * NULL restores malloc/realloc/free. */
void tl_allocator_set(const tl_allocator *a);
void *tl_malloc(size_t size);            /* NULL on failure or size 0 */
void *tl_calloc(size_t n, size_t size);  /* overflow-checked, zeroed */
void *tl_realloc(void *ptr, size_t size); /* realloc through the allocator */
void tl_free(void *ptr);                 /* NULL-safe */
/* a*b with overflow check: returns 0 and sets *out on success, -1 on overflow. */
int tl_size_mul(size_t a, size_t b, size_t *out);

/* ---- processes of a job (MPI in src/dist/; the code below it sees only this) ---- */
/* The rows [*lo, *hi) of n that part `part` of `parts` holds: contiguous blocks cut at
 * floor(n part / parts), the blocks of parts 0, 1, ... end to end being the n rows. */
void tl_block_range(size_t n, int part, int parts, size_t *lo, size_t *hi);
/* A group of processes each holding a block of the rows of the same data (tl_dist_kcomm fills
 * one from MPI): what the statistical methods need to run on rows no process holds all of. */
typedef struct tl_comm {
    int rank; /* this process, 0..size-1 */
    int size; /* processes */
    /* buf (n doubles) := its sum over the processes, in place */
    tl_status (*sum)(void *user, double *buf, size_t n);
    /* buf (bytes) := process root's buf */
    tl_status (*bcast)(void *user, void *buf, size_t bytes, int root);
    /* all (the sum of bytes[]) := the processes' `mine` (bytes[rank] each) end to end, in rank
       order */
    tl_status (*gather)(void *user, const void *mine, void *all, const size_t *bytes);
    void *user; /* passed to each call */
} tl_comm;

/* ---- RNG: xoshiro256** seeded by splitmix64. Value type, no hidden state. ---- */
/* The generator's state (copy it to fork a stream). */
typedef struct {
    uint64_t s[4]; /* xoshiro256** state */
} tl_rng;
void tl_rng_seed(tl_rng *r, uint64_t seed); /* the state from a seed (any value, 0 included) */
uint64_t tl_rng_u64(tl_rng *r);             /* 64 random bits */
double tl_rng_uniform(tl_rng *r);                 /* [0, 1) */
double tl_rng_normal(tl_rng *r);                  /* N(0, 1) */
size_t tl_rng_below(tl_rng *r, size_t n);         /* uniform in [0, n), unbiased */
void tl_rng_shuffle(tl_rng *r, size_t *idx, size_t n); /* Fisher-Yates over idx (n) */

/* ---- run context: seed, threads, log and progress callbacks (no global mutable state) ---- */
/* How much a log message matters. */
typedef enum {
    TL_LOG_DEBUG = 0, /* detail for developers */
    TL_LOG_INFO = 1,  /* progress of a run */
    TL_LOG_WARN = 2,  /* something the user should know: a result may be off */
    TL_LOG_ERROR = 3  /* a failure */
} tl_log_level;
/* Receives each log line (no trailing newline). */
typedef void (*tl_log_fn)(void *user, tl_log_level level, const char *message);
/* fraction in [0,1]; stage names what is running ("knn", "epoch 3/10", ...) */
typedef void (*tl_progress_fn)(void *user, const char *stage, double fraction);
/* Asked between the steps of a long call - each round of JDA/TCA/BDA, each solver round of KMM,
 * each batch of a network's training - from the calling
 * thread: non-zero stops the call, which frees what it made and returns TL_ERR_CANCELLED ("cancelled
 * in round 3 of 10" names where). A host sets it from its interrupt handling (the Python binding:
 * Ctrl-C raises KeyboardInterrupt); steps inside one BLAS/LAPACK call are not interrupted. */
typedef int (*tl_cancel_fn)(void *user);

/* The run context every long call takes: its seed, threads and callbacks. */
typedef struct {
    uint64_t seed;           /* default 42 */
    int threads;             /* BLAS + libtl threads; 0 = leave as is */
    tl_log_level log_level;  /* messages below this are dropped; default TL_LOG_WARN */
    tl_log_fn log;           /* NULL: library stays silent */
    tl_progress_fn progress; /* NULL: no progress reports */
    void *user;              /* passed to log, progress and cancel */
    tl_cancel_fn cancel;     /* NULL: never cancelled (added last: a program that sets its fields
                                from tl_ctx_default() gets NULL) */
} tl_ctx;

tl_ctx tl_ctx_default(void); /* seed 42, threads as they are, silent */
/* Applies ctx->threads to OpenBLAS (no-op if 0). */
void tl_ctx_apply_threads(const tl_ctx *ctx);
/* printf-style logging through ctx (NULL ctx or NULL ctx->log: nothing). */
void tl_log(const tl_ctx *ctx, tl_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Reports progress through ctx (NULL ctx or NULL ctx->progress: nothing). */
void tl_progress(const tl_ctx *ctx, const char *stage, double fraction);

const char *tl_version(void); /* the library's version, "0.1.0" */

/* ---- writing files: tl_wfile, the one way libtl writes a file ---- */
/* A regular file (or a new name) is replaced atomically: the bytes go to a temporary file beside
 * it ("<name>.tmp.XXXXXX"), which commit fsyncs and renames over the name, so whoever reads it -
 * even after a crash or a SIGKILL in the middle of a save - finds the old file or the new one,
 * never a part. The new file keeps the mode of the one it replaces. A symbolic link stays a link:
 * the file at the end of its chain is replaced the same way, beside that file.
 * Streams are written through instead: /dev/stdout, /dev/stderr, /dev/fd/N (the descriptor
 * itself), FIFOs, terminals and other devices. There nothing can be rolled back: abort only
 * closes, and what was written stays written.
 * Every error message names the path. One writer is for one thread.
 *   tl_wfile *w;  TL_TRY(tl_wfile_open(path, &w));
 *   fprintf(tl_wfile_stream(w), ...);          (or tl_wfile_write)
 *   st = tl_wfile_commit(w);                   (or tl_wfile_abort(w) on any failure)
 * Several files in place together (an .npy and its labels): finish every one, then commit every
 * one, aborting the rest if one fails. */
typedef struct tl_wfile tl_wfile;
/* Opens path for writing (follows symbolic links; TL_ERR_IO naming the path when the folder is
 * missing or not writable, path is a folder, or a stream cannot be opened). Opening a FIFO waits
 * for its reader. *out is NULL on failure. */
tl_status tl_wfile_open(const char *path, tl_wfile **out);
/* The stream to write to (binary, buffered); NULL once finished. A write error through it is
 * reported by finish / commit; tl_wfile_write reports it at once. */
FILE *tl_wfile_stream(tl_wfile *w);
/* n bytes of data; TL_ERR_IO naming the path. */
tl_status tl_wfile_write(tl_wfile *w, const void *data, size_t n);
/* The path as given to tl_wfile_open. */
const char *tl_wfile_path(const tl_wfile *w);
/* true when the destination is written through (a stream), false when commit replaces a file. */
bool tl_wfile_is_stream(const tl_wfile *w);
/* First half of commit: flush, fsync, close; reports any write error. The file is not yet in
 * place. Afterwards only commit or abort. Calling it again returns the same status. */
tl_status tl_wfile_finish(tl_wfile *w);
/* Finishes (when not yet done) and renames the file into place; frees w whatever happens. On
 * failure the temporary file is removed and the file at the path is the one that was there. */
tl_status tl_wfile_commit(tl_wfile *w);
/* Removes the temporary file and frees w; the file at the path is untouched. NULL-safe. */
void tl_wfile_abort(tl_wfile *w);

/* Several saves as one, on the calling thread: after tl_wfile_batch_begin, a commit of a file
 * that is replaced (not a stream) only finishes it; tl_wfile_batch_commit then renames them all
 * into place, tl_wfile_batch_abort removes them all and leaves every path as it was. So a command
 * that writes a model, a pipeline and the embedded rows leaves all of them or none (streams are
 * written through as ever). Any save function of the library takes part without knowing. */
void tl_wfile_batch_begin(void);
tl_status tl_wfile_batch_commit(void);
void tl_wfile_batch_abort(void);
/* Whether path can be written, without writing: TL_ERR_IO naming it when it is a folder, its
 * folder is missing or not writable. Streams and descriptors pass. For checking the outputs of a
 * long job before it starts. */
tl_status tl_wfile_check(const char *path);

#ifdef __cplusplus
}
#endif
#endif
