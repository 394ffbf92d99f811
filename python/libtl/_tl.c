/* libtl._tl: the CPython extension under the libtl Python package (python/libtl/__init__.py).
 *
 * A thin layer over the public C API (include/tl.h): the method registry and its parameter
 * descriptors (from which the Python estimators are generated), fitting a method on a task
 * (tl_model_fit) and applying it, the transfer protocol (tl_transfer_run) with its fitted
 * pipeline, and their .tlm files. Arrays come in through the buffer protocol, so a float64
 * C-contiguous numpy array reaches the library as a tl_mat view of its own memory (no copy, no
 * numpy C API needed); outputs are written into buffers the Python side allocates, or returned
 * as bytes. Every long call releases the GIL. A libtl failure raises libtl.LibtlError (a
 * ValueError) carrying tl_error_message() and the status name in its `status` attribute; the
 * message is thread-local in libtl, and a call keeps its thread while the GIL is released.
 *
 * Fitted objects are capsules ("libtl.model", "libtl.pipeline") freed by their destructors. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* the typed MMD parameters (tl/measure.h); the extension links libtl statically */
#define TL_STATIC_LINKING_ONLY

#include <math.h>
#include <pythread.h>
#include <string.h>

#include "tl.h"

static PyObject *LibtlError;

static PyObject *raise_tl(tl_status st) {
    const char *msg = tl_error_message();
    if (!msg || !*msg) msg = tl_status_name(st);
    if (st == TL_ERR_CANCELLED && PyErr_Occurred()) {
        /* stopped by the cancel hook (py_cancel): the exception a signal handler raised
         * (KeyboardInterrupt for Ctrl-C) stands, with libtl's word on where it stopped as a note */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyObject *r = value ? PyObject_CallMethod(value, "add_note", "s", msg) : NULL;
        if (!r) PyErr_Clear(); /* before Python 3.11: no notes */
        Py_XDECREF(r);
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    PyObject *e = PyObject_CallFunction(LibtlError, "s", msg);
    if (!e) return NULL;
    PyObject *s = PyUnicode_FromString(tl_status_name(st));
    if (s) {
        PyObject_SetAttrString(e, "status", s);
        Py_DECREF(s);
    }
    PyErr_SetObject(LibtlError, e);
    Py_DECREF(e);
    return NULL;
}

/* ---- arrays in ---- */

static int fmt_is(const Py_buffer *b, char c) {
    const char *f = b->format ? b->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    return f[0] == c && f[1] == '\0';
}

/* A 2-D float64 C-contiguous buffer as a tl_mat view (no copy). */
static int get_mat(PyObject *o, Py_buffer *b, tl_mat *m) {
    if (PyObject_GetBuffer(o, b, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    if (b->ndim != 2 || !fmt_is(b, 'd') || b->itemsize != sizeof(double)) {
        PyBuffer_Release(b);
        PyErr_SetString(PyExc_TypeError, "libtl: expected a 2-D float64 C-contiguous array");
        return -1;
    }
    m->rows = (size_t)b->shape[0];
    m->cols = (size_t)b->shape[1];
    m->ld = m->cols;
    m->data = b->buf;
    return 0;
}

static int get_vec(PyObject *o, Py_buffer *b, char fmt, size_t itemsize, int writable,
                   const char *what) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(o, b, flags) < 0) return -1;
    if (b->ndim != 1 || b->itemsize != (Py_ssize_t)itemsize ||
        !(fmt_is(b, fmt) || (fmt == 'L' && (fmt_is(b, 'Q') || fmt_is(b, 'N') || fmt_is(b, 'K'))) ||
          (fmt == 'i' && fmt_is(b, 'l') && itemsize == sizeof(long)))) {
        PyBuffer_Release(b);
        PyErr_Format(PyExc_TypeError, "libtl: %s: expected a 1-D array of '%c' items", what, fmt);
        return -1;
    }
    return 0;
}

/* Features: a dense 2-D float64 array, or ("csr", data, indices, indptr, rows, cols) with data
 * float64, indices int32, indptr uintp (size_t). bufs[3] are released by release_x. */
typedef struct {
    Py_buffer b[3];
    int n;
    tl_xmat x;
} xin;

static void release_x(xin *in) {
    for (int i = 0; i < in->n; i++) PyBuffer_Release(&in->b[i]);
    in->n = 0;
}

static int get_x(PyObject *o, xin *in) {
    memset(in, 0, sizeof *in);
    if (PyTuple_Check(o)) {
        PyObject *tag, *d, *ix, *ip;
        Py_ssize_t rows, cols;
        if (!PyArg_ParseTuple(o, "OOOOnn", &tag, &d, &ix, &ip, &rows, &cols)) return -1;
        if (rows < 0 || cols < 0) {
            PyErr_SetString(PyExc_ValueError, "libtl: negative CSR shape");
            return -1;
        }
        if (get_vec(d, &in->b[0], 'd', sizeof(double), 0, "CSR data") < 0) return -1;
        in->n = 1;
        if (get_vec(ix, &in->b[1], 'i', sizeof(int32_t), 0, "CSR indices") < 0) goto fail;
        in->n = 2;
        if (get_vec(ip, &in->b[2], 'L', sizeof(size_t), 0, "CSR indptr") < 0) goto fail;
        in->n = 3;
        if (in->b[2].shape[0] != rows + 1 || in->b[0].shape[0] != in->b[1].shape[0]) {
            PyErr_SetString(PyExc_ValueError, "libtl: inconsistent CSR arrays");
            goto fail;
        }
        tl_csr c;
        c.rows = (size_t)rows;
        c.cols = (size_t)cols;
        c.nnz = (size_t)in->b[0].shape[0];
        c.values = in->b[0].buf;
        c.indices = in->b[1].buf;
        c.indptr = in->b[2].buf;
        if (c.indptr[0] != 0 || c.indptr[c.rows] != c.nnz) {
            PyErr_SetString(PyExc_ValueError, "libtl: CSR indptr does not span the data");
            goto fail;
        }
        for (size_t r = 0; r < c.rows; r++)
            if (c.indptr[r] > c.indptr[r + 1]) {
                PyErr_SetString(PyExc_ValueError, "libtl: CSR indptr decreases");
                goto fail;
            }
        in->x = tl_xmat_from_csr(c);
        return 0;
    }
    tl_mat m;
    if (get_mat(o, &in->b[0], &m) < 0) return -1;
    in->n = 1;
    in->x = tl_xmat_from_dense(m);
    return 0;
fail:
    release_x(in);
    return -1;
}

/* A dataset of the features: dense rows read where they are (tl_dataset_wrap_dense: no copy; the
 * caller keeps the buffer until the dataset is freed), CSR rows copied (the library validates
 * and owns them). */
static tl_status dataset_of(const xin *in, const int *y, tl_dataset **out) {
    if (in->x.sparse) return tl_dataset_from_csr(in->x.csr, y, out);
    return tl_dataset_wrap_dense(in->x.dense, y, out);
}

/* ---- parameters ---- */

/* Sets every (name, text) of a dict on p. */
static int set_params(tl_params *p, PyObject *d) {
    if (!d || d == Py_None) return 0;
    PyObject *k, *v;
    Py_ssize_t pos = 0;
    while (PyDict_Next(d, &pos, &k, &v)) {
        const char *ks = PyUnicode_AsUTF8(k);
        if (!ks) return -1;
        PyObject *s = PyObject_Str(v);
        if (!s) return -1;
        const char *vs = PyUnicode_AsUTF8(s);
        if (!vs) {
            Py_DECREF(s);
            return -1;
        }
        tl_status st = tl_params_set(p, ks, vs);
        Py_DECREF(s);
        if (st != TL_OK) {
            raise_tl(st);
            return -1;
        }
    }
    return 0;
}

static tl_params *params_of(const char *name, int family, PyObject *d) {
    const tl_method *m = tl_method_find(name, family);
    if (!m) {
        raise_tl(TL_ERR_NOT_FOUND);
        return NULL;
    }
    tl_params *p = NULL;
    tl_status st = tl_params_create(m, &p);
    if (st != TL_OK) {
        raise_tl(st);
        return NULL;
    }
    if (set_params(p, d) < 0) {
        tl_params_free(p);
        return NULL;
    }
    return p;
}

static PyObject *params_dict(const tl_params *p) {
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    const tl_method *m = tl_params_method(p);
    for (size_t i = 0; i < tl_method_param_count(m); i++) {
        const tl_param_desc *pd = tl_method_param(m, i);
        PyObject *v = PyUnicode_FromString(tl_params_get(p, pd->name));
        if (!v || PyDict_SetItemString(d, pd->name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

/* ---- the registry ---- */

static PyObject *py_methods(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    PyObject *list = PyList_New(0);
    if (!list) return NULL;
    for (size_t i = 0; i < tl_method_count(); i++) {
        const tl_method *m = tl_method_at(i);
        PyObject *ps = PyList_New(0);
        if (!ps) goto fail;
        for (size_t j = 0; j < tl_method_param_count(m); j++) {
            const tl_param_desc *d = tl_method_param(m, j);
            PyObject *t = Py_BuildValue("(sssddzzz)", d->name, tl_param_type_name(d->type), d->def,
                                        d->lo, d->hi, d->choices, d->help, d->grid);
            if (!t || PyList_Append(ps, t) < 0) {
                Py_XDECREF(t);
                Py_DECREF(ps);
                goto fail;
            }
            Py_DECREF(t);
        }
        PyObject *e = Py_BuildValue("(ssIssN)", tl_method_name(m),
                                    tl_family_name(tl_method_family(m)), tl_method_needs(m),
                                    tl_method_summary(m), tl_method_reference(m), ps);
        if (!e || PyList_Append(list, e) < 0) {
            Py_XDECREF(e);
            goto fail;
        }
        Py_DECREF(e);
    }
    return list;
fail:
    Py_DECREF(list);
    return NULL;
}

/* Checks parameter values without fitting: None on success, LibtlError with the message. */
static PyObject *py_check_params(PyObject *self, PyObject *args) {
    (void)self;
    const char *name;
    PyObject *d;
    if (!PyArg_ParseTuple(args, "sO", &name, &d)) return NULL;
    tl_params *p = params_of(name, -1, d);
    if (!p) return NULL;
    PyObject *r = params_dict(p);
    tl_params_free(p);
    return r;
}

/* ---- tasks ---- */

typedef struct {
    tl_task *task;
    tl_dataset **sets;
    xin *rows; /* (n) the buffers each set reads (dense rows are not copied) */
    size_t n;
} task_in;

static void task_free(task_in *t) {
    tl_task_free(t->task);
    for (size_t i = 0; i < t->n; i++) {
        tl_dataset_free(t->sets[i]);
        release_x(&t->rows[i]);
    }
    PyMem_Free(t->sets);
    PyMem_Free(t->rows);
    memset(t, 0, sizeof *t);
}

/* An optional per-row vector o (None: absent) of `rows` items: 1 when present (release b), 0 for
 * None, -1 on a wrong type or length (raised, b released). */
static int row_vec(PyObject *o, Py_buffer *b, char fmt, size_t itemsize, const char *what,
                   size_t rows) {
    if (o == Py_None) return 0;
    if (get_vec(o, b, fmt, itemsize, 0, what) < 0) return -1;
    if ((size_t)b->shape[0] != rows) {
        PyErr_Format(PyExc_ValueError, "libtl: %zd %s for %zu rows", b->shape[0], what, rows);
        PyBuffer_Release(b);
        return -1;
    }
    return 1;
}

/* One dataset out of features X, labels y (int32 or None), regression targets (float64 or
 * None), sample weights (float64 or None) and class names (a sequence of str or None). The rows'
 * buffer goes to *rows_out (release_x it after freeing the dataset, which may read it). */
static int make_set(PyObject *X, PyObject *y, PyObject *targets, PyObject *weights,
                    PyObject *names, const char *name, tl_dataset **out, xin *rows_out) {
    xin in;
    Py_buffer yb = {0}, tb = {0}, wb = {0};
    int ok = 0, have_y = 0, have_t = 0, have_w = 0;
    tl_status st = TL_OK;
    *out = NULL;
    if (get_x(X, &in) < 0) return -1;
    size_t rows = tl_xmat_rows(in.x);
    if ((have_y = row_vec(y, &yb, 'i', sizeof(int), "labels", rows)) < 0 ||
        (have_t = row_vec(targets, &tb, 'd', sizeof(double), "targets", rows)) < 0 ||
        (have_w = row_vec(weights, &wb, 'd', sizeof(double), "sample weights", rows)) < 0)
        goto done;
    st = dataset_of(&in, have_y ? yb.buf : NULL, out);
    if (st == TL_OK && have_t) st = tl_dataset_set_targets(*out, tb.buf);
    if (st == TL_OK && have_w) st = tl_dataset_set_weights(*out, wb.buf);
    if (st == TL_OK) st = tl_dataset_set_name(*out, name);
    if (st == TL_OK && names != Py_None) {
        PyObject *keep = PySequence_List(names);
        if (!keep) goto done;
        Py_ssize_t k = PyList_Size(keep);
        const char **nm = PyMem_Calloc((size_t)k + 1, sizeof *nm);
        int bad = !nm;
        if (!nm) PyErr_NoMemory();
        for (Py_ssize_t j = 0; j < k && !bad; j++)
            if (!(nm[j] = PyUnicode_AsUTF8(PyList_GetItem(keep, j)))) bad = 1;
        if (!bad) st = tl_dataset_set_class_names(*out, nm, (size_t)k);
        PyMem_Free(nm);
        Py_DECREF(keep);
        if (bad) goto done;
    }
    if (st != TL_OK) {
        raise_tl(st);
        goto done;
    }
    ok = 1;
done:
    if (have_y > 0) PyBuffer_Release(&yb);
    if (have_t > 0) PyBuffer_Release(&tb);
    if (have_w > 0) PyBuffer_Release(&wb);
    if (!ok) {
        tl_dataset_free(*out);
        *out = NULL;
        release_x(&in);
    } else {
        *rows_out = in;
    }
    return ok ? 0 : -1;
}

/* domains: a list of (role, name, X, y, targets, weights, class names, labelled), each of y,
 * targets, weights, class names None when absent; labelled: None or (X, y) - a few labelled
 * rows of the domain (tl_task_set_labelled). */
static int task_of(PyObject *domains, task_in *t) {
    memset(t, 0, sizeof *t);
    if (!PyList_Check(domains)) {
        PyErr_SetString(PyExc_TypeError, "libtl: domains must be a list");
        return -1;
    }
    Py_ssize_t n = PyList_Size(domains);
    t->sets = PyMem_Calloc(2 * (size_t)n + 1, sizeof *t->sets);
    t->rows = PyMem_Calloc(2 * (size_t)n + 1, sizeof *t->rows);
    if (!t->sets || !t->rows) {
        PyMem_Free(t->sets);
        PyMem_Free(t->rows);
        t->sets = NULL;
        t->rows = NULL;
        PyErr_NoMemory();
        return -1;
    }
    tl_status st = tl_task_create(&t->task);
    if (st != TL_OK) {
        raise_tl(st);
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int role;
        const char *name;
        PyObject *X, *y, *targets, *weights, *names, *lab;
        size_t index;
        if (!PyArg_ParseTuple(PyList_GetItem(domains, i), "isOOOOOO", &role, &name, &X, &y,
                              &targets, &weights, &names, &lab))
            goto fail;
        if (make_set(X, y, targets, weights, names, name, &t->sets[t->n], &t->rows[t->n]) < 0)
            goto fail;
        st = tl_task_add(t->task, (tl_role)role, t->sets[t->n++], &index);
        if (st == TL_OK && lab != Py_None) {
            PyObject *lx, *ly;
            if (!PyArg_ParseTuple(lab, "OO", &lx, &ly)) goto fail;
            if (make_set(lx, ly, Py_None, Py_None, names, name, &t->sets[t->n], &t->rows[t->n]) <
                0)
                goto fail;
            st = tl_task_set_labelled(t->task, index, t->sets[t->n++]);
        }
        if (st != TL_OK) {
            raise_tl(st);
            goto fail;
        }
    }
    return 0;
fail:
    task_free(t);
    return -1;
}

/* A fitted method (KIND model) and a fitted pipeline (KIND pipeline) as Python capsules named
 * "libtl.KIND": KIND_of(capsule), KIND_capsule(handle) (takes it over; freed with the capsule),
 * and py_KIND_save(capsule, path) / py_KIND_load(path), the .tlm file the CLI reads and writes,
 * with the GIL released meanwhile. Written once for both kinds. */
#define HANDLE(KIND, TYPE)                                                                         \
    static void KIND##_destroy(PyObject *cap) {                                                    \
        TYPE##_free(PyCapsule_GetPointer(cap, "libtl." #KIND));                                    \
    }                                                                                              \
    static TYPE *KIND##_of(PyObject *cap) { return PyCapsule_GetPointer(cap, "libtl." #KIND); }    \
    static PyObject *KIND##_capsule(TYPE *h) {                                                     \
        PyObject *c = PyCapsule_New(h, "libtl." #KIND, KIND##_destroy);                            \
        if (!c) TYPE##_free(h);                                                                    \
        return c;                                                                                  \
    }                                                                                              \
    static PyObject *py_##KIND##_save(PyObject *self, PyObject *args) {                            \
        (void)self;                                                                                \
        PyObject *cap;                                                                             \
        const char *path;                                                                          \
        if (!PyArg_ParseTuple(args, "Os", &cap, &path)) return NULL;                               \
        TYPE *h = KIND##_of(cap);                                                                  \
        if (!h) return NULL;                                                                       \
        tl_status st;                                                                              \
        Py_BEGIN_ALLOW_THREADS st = tl_##KIND##_save(h, path);                                     \
        Py_END_ALLOW_THREADS if (st != TL_OK) return raise_tl(st);                                 \
        Py_RETURN_NONE;                                                                            \
    }                                                                                              \
    static PyObject *py_##KIND##_load(PyObject *self, PyObject *args) {                            \
        (void)self;                                                                                \
        const char *path;                                                                          \
        if (!PyArg_ParseTuple(args, "s", &path)) return NULL;                                      \
        TYPE *h = NULL;                                                                            \
        tl_status st;                                                                              \
        Py_BEGIN_ALLOW_THREADS st = tl_##KIND##_load(path, &h);                                    \
        Py_END_ALLOW_THREADS if (st != TL_OK) return raise_tl(st);                                 \
        return KIND##_capsule(h);                                                                  \
    }

/* ---- fitted methods ---- */

HANDLE(model, tl_model)

/* libtl's cancel hook (tl_ctx.cancel), polled between the steps of a long call that runs without
 * the GIL: takes the GIL back and runs Python's signal handlers (PyErr_CheckSignals; they run in
 * the main thread only, elsewhere this asks nothing). Ctrl-C's default handler raises
 * KeyboardInterrupt: the call then stops with TL_ERR_CANCELLED and raise_tl leaves that exception
 * to the caller. */
static int py_cancel(void *user) {
    (void)user;
    PyGILState_STATE g = PyGILState_Ensure();
    int stop = PyErr_CheckSignals() < 0;
    PyGILState_Release(g);
    return stop;
}

static tl_ctx ctx_of(unsigned long long seed, int threads) {
    tl_ctx c = tl_ctx_default();
    c.cancel = py_cancel;
    c.seed = seed;
    c.threads = threads;
    return c;
}

/* model_fit(method, params, learner or None, learner params, domains, seed, threads) */
static PyObject *py_model_fit(PyObject *self, PyObject *args) {
    (void)self;
    const char *name, *lname;
    PyObject *pd, *lpd, *domains;
    unsigned long long seed;
    int threads;
    if (!PyArg_ParseTuple(args, "sOzOOKi", &name, &pd, &lname, &lpd, &domains, &seed, &threads))
        return NULL;
    tl_params *p = params_of(name, -1, pd), *lp = NULL;
    if (!p) return NULL;
    if (lname && !(lp = params_of(lname, TL_FAMILY_LEARNER, lpd))) {
        tl_params_free(p);
        return NULL;
    }
    task_in t;
    if (task_of(domains, &t) < 0) {
        tl_params_free(p);
        tl_params_free(lp);
        return NULL;
    }
    tl_ctx ctx = ctx_of(seed, threads);
    tl_model *m = NULL;
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = tl_model_fit(p, lp, t.task, &ctx, &m);
    Py_END_ALLOW_THREADS
    /* the fitted model keeps no pointer into the task's rows (it saves and loads alone) */
    task_free(&t);
    tl_params_free(p);
    tl_params_free(lp);
    if (st != TL_OK) return raise_tl(st);
    return model_capsule(m);
}

static PyObject *mat_out(tl_mat *S) {
    PyObject *b = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(S->rows * S->cols * sizeof(double)));
    if (b) {
        char *dst = PyBytes_AS_STRING(b);
        for (size_t r = 0; r < S->rows; r++)
            memcpy(dst + r * S->cols * sizeof(double), S->data + r * S->ld,
                   S->cols * sizeof(double));
    }
    PyObject *res = b ? Py_BuildValue("(Nnn)", b, (Py_ssize_t)S->rows, (Py_ssize_t)S->cols) : NULL;
    tl_mat_free(S);
    return res;
}

/* model_transform(model, domain, X) -> (bytes, rows, cols) */
static PyObject *py_model_transform(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap, *X;
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "OnO", &cap, &d, &X)) return NULL;
    tl_model *m = model_of(cap);
    if (!m) return NULL;
    Py_buffer b;
    tl_mat in, out = {0, 0, 0, NULL};
    if (get_mat(X, &b, &in) < 0) return NULL;
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = tl_model_transform(m, (size_t)d, in, &out);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&b);
    if (st != TL_OK) return raise_tl(st);
    return mat_out(&out);
}

static PyObject *py_model_fit_weights(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap)) return NULL;
    tl_model *m = model_of(cap);
    if (!m) return NULL;
    size_t n = 0;
    const double *w = tl_model_fit_weights(m, &n);
    if (!w) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)w, (Py_ssize_t)(n * sizeof(double)));
}

/* Calls that take features and fill a caller's buffer: which = 0 weights (double), 1 predict
 * (int32), 2 scores (double, rows x classes). */
static PyObject *model_apply(PyObject *args, int which) {
    PyObject *cap, *X, *O;
    if (!PyArg_ParseTuple(args, "OOO", &cap, &X, &O)) return NULL;
    tl_model *m = model_of(cap);
    if (!m) return NULL;
    xin in;
    Py_buffer ob;
    if (get_x(X, &in) < 0) return NULL;
    size_t rows = tl_xmat_rows(in.x);
    tl_status st = TL_OK;
    if (which == 2) {
        tl_mat S;
        if (get_mat(O, &ob, &S) < 0) {
            release_x(&in);
            return NULL;
        }
        if (ob.readonly || S.rows != rows) {
            PyBuffer_Release(&ob);
            release_x(&in);
            PyErr_SetString(PyExc_ValueError, "libtl: bad score buffer");
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        st = tl_model_scores(m, in.x, S);
        Py_END_ALLOW_THREADS
    } else {
        if (get_vec(O, &ob, which ? 'i' : 'd', which ? sizeof(int) : sizeof(double), 1,
                    "output") < 0) {
            release_x(&in);
            return NULL;
        }
        if ((size_t)ob.shape[0] != rows) {
            PyBuffer_Release(&ob);
            release_x(&in);
            PyErr_SetString(PyExc_ValueError, "libtl: output length differs from the rows");
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        st = which ? tl_model_predict(m, in.x, ob.buf) : tl_model_weights(m, in.x, ob.buf);
        Py_END_ALLOW_THREADS
    }
    PyBuffer_Release(&ob);
    release_x(&in);
    if (st != TL_OK) return raise_tl(st);
    Py_RETURN_NONE;
}

static PyObject *py_model_weights(PyObject *s, PyObject *a) { (void)s; return model_apply(a, 0); }
static PyObject *py_model_predict(PyObject *s, PyObject *a) { (void)s; return model_apply(a, 1); }
static PyObject *py_model_scores(PyObject *s, PyObject *a) { (void)s; return model_apply(a, 2); }

static PyObject *int_list(const int *v, size_t n) {
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l) return NULL;
    for (size_t i = 0; i < n; i++) PyList_SET_ITEM(l, (Py_ssize_t)i, PyLong_FromLong(v[i]));
    return l;
}

/* model_about(model) -> (method name, params dict, dim, classes or None, info dict) */
static PyObject *py_model_about(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap)) return NULL;
    tl_model *m = model_of(cap);
    if (!m) return NULL;
    size_t k = 0;
    const int *cls = tl_model_classes(m, &k);
    PyObject *cl = cls ? int_list(cls, k) : (Py_INCREF(Py_None), Py_None);
    PyObject *info = PyDict_New();
    const char *key;
    double v;
    for (size_t i = 0; info && tl_model_info(m, i, &key, &v); i++) {
        PyObject *f = PyFloat_FromDouble(v);
        if (!f || PyDict_SetItemString(info, key, f) < 0) Py_CLEAR(info);
        Py_XDECREF(f);
    }
    PyObject *pd = params_dict(tl_model_params(m));
    if (!cl || !info || !pd) {
        Py_XDECREF(cl);
        Py_XDECREF(info);
        Py_XDECREF(pd);
        return NULL;
    }
    return Py_BuildValue("(sNnNN)", tl_method_name(tl_model_method(m)), pd,
                         (Py_ssize_t)tl_model_dim(m), cl, info);
}

static PyObject *py_model_input_dim(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "On", &cap, &d)) return NULL;
    tl_model *m = model_of(cap);
    if (!m) return NULL;
    return PyLong_FromSize_t(tl_model_input_dim(m, (size_t)d));
}

/* ---- the protocol and the fitted pipeline ---- */

HANDLE(pipeline, tl_pipeline)

/* transfer_run(domains, method or None, params, learner, learner params, preprocess,
 *              on_source, guard, seed, threads) -> (report JSON, pipeline) */
static PyObject *py_transfer_run(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *domains, *pd, *lpd;
    const char *mname, *lname, *pre;
    int on_source, guard, threads;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OzOsOsppKi", &domains, &mname, &pd, &lname, &lpd, &pre,
                          &on_source, &guard, &seed, &threads))
        return NULL;
    tl_params *p = NULL, *lp = NULL;
    if (mname && !(p = params_of(mname, -1, pd))) return NULL;
    if (!(lp = params_of(lname, TL_FAMILY_LEARNER, lpd))) {
        tl_params_free(p);
        return NULL;
    }
    tl_run_opts o = tl_run_opts_default();
    tl_status st = tl_preprocess_parse(pre, &o.preprocess);
    if (st != TL_OK) {
        tl_params_free(p);
        tl_params_free(lp);
        return raise_tl(st);
    }
    task_in t;
    if (task_of(domains, &t) < 0) {
        tl_params_free(p);
        tl_params_free(lp);
        return NULL;
    }
    tl_ctx ctx = ctx_of(seed, threads);
    o.learner = lp;
    o.preprocess_on_source = on_source;
    o.guard = guard;
    o.ctx = &ctx;
    o.in_place = true; /* the sets are this call's own (their dense rows borrowed: scaling copies) */
    tl_report *r = NULL;
    tl_pipeline *pipe = NULL;
    char *json = NULL;
    Py_BEGIN_ALLOW_THREADS
    st = tl_transfer_run(t.task, p, &o, &r, &pipe);
    if (st == TL_OK) st = tl_report_json(r, NULL, &json);
    Py_END_ALLOW_THREADS
    tl_report_free(r);
    task_free(&t);
    tl_params_free(p);
    tl_params_free(lp);
    if (st != TL_OK) {
        tl_pipeline_free(pipe);
        return raise_tl(st);
    }
    PyObject *js = PyUnicode_FromString(json);
    tl_free(json);
    if (!js) {
        tl_pipeline_free(pipe);
        return NULL;
    }
    return Py_BuildValue("(NN)", js, pipeline_capsule(pipe));
}

/* The rows as a dataset the pipeline takes (copied: the pipeline scales a copy anyway). */
static int pipe_rows(PyObject *X, tl_dataset **ds) {
    xin in;
    if (get_x(X, &in) < 0) return -1;
    tl_status st = in.x.sparse ? tl_dataset_from_csr(in.x.csr, NULL, ds)
                               : tl_dataset_from_dense(in.x.dense, NULL, ds);
    release_x(&in);
    if (st != TL_OK) {
        raise_tl(st);
        return -1;
    }
    return 0;
}

/* pipeline_predict(pipe, domain, X, out int32 or float64 (regression)) */
static PyObject *py_pipeline_predict(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap, *X, *O;
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "OnOO", &cap, &d, &X, &O)) return NULL;
    tl_pipeline *p = pipeline_of(cap);
    if (!p) return NULL;
    bool reg = tl_pipeline_is_regression(p);
    tl_dataset *ds = NULL;
    if (pipe_rows(X, &ds) < 0) return NULL;
    Py_buffer ob;
    if (get_vec(O, &ob, reg ? 'd' : 'i', reg ? sizeof(double) : sizeof(int), 1, "output") < 0) {
        tl_dataset_free(ds);
        return NULL;
    }
    if ((size_t)ob.shape[0] != tl_dataset_rows(ds)) {
        PyBuffer_Release(&ob);
        tl_dataset_free(ds);
        PyErr_SetString(PyExc_ValueError, "libtl: output length differs from the rows");
        return NULL;
    }
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = reg ? tl_pipeline_predict_values(p, (size_t)d, ds, ob.buf)
             : tl_pipeline_predict(p, (size_t)d, ds, ob.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&ob);
    tl_dataset_free(ds);
    if (st != TL_OK) return raise_tl(st);
    Py_RETURN_NONE;
}

/* pipeline_scores / pipeline_transform(pipe, domain, X) -> (bytes, rows, cols) */
static PyObject *pipeline_mat(PyObject *args, int scores) {
    PyObject *cap, *X;
    Py_ssize_t d;
    if (!PyArg_ParseTuple(args, "OnO", &cap, &d, &X)) return NULL;
    tl_pipeline *p = pipeline_of(cap);
    if (!p) return NULL;
    tl_dataset *ds = NULL;
    if (pipe_rows(X, &ds) < 0) return NULL;
    tl_mat S = {0, 0, 0, NULL};
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = scores ? tl_pipeline_scores(p, (size_t)d, ds, NULL, &S)
                : tl_pipeline_transform(p, (size_t)d, ds, &S);
    Py_END_ALLOW_THREADS
    tl_dataset_free(ds);
    if (st != TL_OK) return raise_tl(st);
    return mat_out(&S);
}

static PyObject *py_pipeline_scores(PyObject *s, PyObject *a) { (void)s; return pipeline_mat(a, 1); }
static PyObject *py_pipeline_transform(PyObject *s, PyObject *a) {
    (void)s;
    return pipeline_mat(a, 0);
}

/* pipeline_about(pipe) -> (method or None, domains, [input dims], classes or None,
 *                          class names or None, regression) */
static PyObject *py_pipeline_about(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap)) return NULL;
    tl_pipeline *p = pipeline_of(cap);
    if (!p) return NULL;
    size_t n = tl_pipeline_domains(p), k = 0, kn = 0;
    PyObject *dims = PyList_New((Py_ssize_t)n);
    if (!dims) return NULL;
    for (size_t i = 0; i < n; i++)
        PyList_SET_ITEM(dims, (Py_ssize_t)i, PyLong_FromSize_t(tl_pipeline_input_dim(p, i)));
    const int *cls = tl_pipeline_classes(p, &k);
    PyObject *cl = cls ? int_list(cls, k) : (Py_INCREF(Py_None), Py_None);
    const char *const *names = tl_pipeline_class_names(p, &kn);
    PyObject *nl;
    if (names) {
        nl = PyList_New((Py_ssize_t)kn);
        for (size_t i = 0; nl && i < kn; i++)
            PyList_SET_ITEM(nl, (Py_ssize_t)i, PyUnicode_FromString(names[i]));
    } else {
        Py_INCREF(Py_None);
        nl = Py_None;
    }
    const tl_model *m = tl_pipeline_model(p);
    return Py_BuildValue("(znNNNO)", m ? tl_method_name(tl_model_method(m)) : NULL, (Py_ssize_t)n,
                         dims, cl, nl, tl_pipeline_is_regression(p) ? Py_True : Py_False);
}

/* ---- neural networks: load, predict, embed, safetensors in and out ----
 * A network's inference workspace is mutable (tl_nn_forward takes tl_nn *), so each capsule
 * carries a lock: one call at a time per network while the GIL is released. */
typedef struct {
    tl_nn *nn;
    PyThread_type_lock lock;
} net_box;

static void net_destroy(PyObject *cap) {
    net_box *b = PyCapsule_GetPointer(cap, "libtl.nn");
    if (!b) return;
    tl_nn_free(b->nn);
    if (b->lock) PyThread_free_lock(b->lock);
    PyMem_Free(b);
}

static PyObject *net_capsule(tl_nn *nn) {
    net_box *b = PyMem_Calloc(1, sizeof *b);
    if (!b || !(b->lock = PyThread_allocate_lock())) {
        PyMem_Free(b);
        tl_nn_free(nn);
        return PyErr_NoMemory();
    }
    b->nn = nn;
    PyObject *c = PyCapsule_New(b, "libtl.nn", net_destroy);
    if (!c) {
        tl_nn_free(nn);
        PyThread_free_lock(b->lock);
        PyMem_Free(b);
    }
    return c;
}

static net_box *net_of(PyObject *cap) { return PyCapsule_GetPointer(cap, "libtl.nn"); }

/* nn_create(arch, c, h, w, seed) */
static PyObject *py_nn_create(PyObject *self, PyObject *args) {
    (void)self;
    const char *arch;
    Py_ssize_t c, h, w;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "snnnK", &arch, &c, &h, &w, &seed)) return NULL;
    if (c < 0 || h < 0 || w < 0) {
        PyErr_SetString(PyExc_ValueError, "libtl: negative input shape");
        return NULL;
    }
    tl_nn *nn = NULL;
    tl_status st = tl_nn_create(arch, (size_t)c, (size_t)h, (size_t)w, seed, &nn);
    if (st != TL_OK) return raise_tl(st);
    return net_capsule(nn);
}

/* nn_load(path): a network .tlm, or the network inside a fine-tuning pipeline's file */
static PyObject *py_nn_load(PyObject *self, PyObject *args) {
    (void)self;
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    tl_nn *nn = NULL;
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    st = tl_nn_load(path, &nn);
    Py_END_ALLOW_THREADS
    if (st != TL_OK) return raise_tl(st);
    return net_capsule(nn);
}

static PyObject *py_nn_save(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    const char *path;
    if (!PyArg_ParseTuple(args, "Os", &cap, &path)) return NULL;
    net_box *b = net_of(cap);
    if (!b) return NULL;
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(b->lock, WAIT_LOCK);
    st = tl_nn_save(b->nn, path);
    PyThread_release_lock(b->lock);
    Py_END_ALLOW_THREADS
    if (st != TL_OK) return raise_tl(st);
    Py_RETURN_NONE;
}

/* nn_about(net) -> (arch, (c, h, w), output dim, labels, label names or None, [layer names]) */
static PyObject *py_nn_about(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    if (!PyArg_ParseTuple(args, "O", &cap)) return NULL;
    net_box *b = net_of(cap);
    if (!b) return NULL;
    size_t sh[3];
    tl_nn_input_shape(b->nn, sh);
    size_t k = tl_nn_output_dim(b->nn);
    const int *lab = tl_nn_labels(b->nn);
    PyObject *labels = lab ? int_list(lab, k) : (Py_INCREF(Py_None), Py_None);
    PyObject *layers = PyList_New(0);
    for (size_t i = 0; layers && i < tl_nn_layer_count(b->nn); i++) {
        PyObject *n = PyUnicode_FromString(tl_nn_layer_name(b->nn, i));
        if (!n || PyList_Append(layers, n) < 0) Py_CLEAR(layers);
        Py_XDECREF(n);
    }
    if (!labels || !layers) {
        Py_XDECREF(labels);
        Py_XDECREF(layers);
        return NULL;
    }
    return Py_BuildValue("(s(nnn)nNzN)", tl_nn_arch(b->nn), (Py_ssize_t)sh[0], (Py_ssize_t)sh[1],
                         (Py_ssize_t)sh[2], (Py_ssize_t)k, labels, tl_nn_label_names(b->nn),
                         layers);
}

/* nn_run(net, what, X, layer) -> (bytes, rows, cols): what 0 logits, 1 probabilities, 2 labels
 * (int32 bytes), 3 the output of layer `layer` (-1: the embedding layer). X (n, c*h*w) float64
 * C-contiguous, normalised by the network's input norm on the way in (float32). */
static PyObject *py_nn_run(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap, *X;
    int what;
    Py_ssize_t layer;
    if (!PyArg_ParseTuple(args, "OiOn", &cap, &what, &X, &layer)) return NULL;
    net_box *b = net_of(cap);
    if (!b) return NULL;
    if (what == 3 && layer >= 0 && (size_t)layer >= tl_nn_layer_count(b->nn)) {
        PyErr_Format(PyExc_ValueError, "libtl: layer %zd does not exist (the network has %zu)",
                     layer, tl_nn_layer_count(b->nn));
        return NULL;
    }
    Py_buffer xb;
    tl_mat M;
    if (get_mat(X, &xb, &M) < 0) return NULL;
    tl_status st = TL_OK;
    float *x = NULL, *o = NULL;
    int *pred = NULL;
    size_t n = M.rows, cols = 0, li = 0;
    PyObject *res = NULL;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(b->lock, WAIT_LOCK);
    if (what == 3) {
        if (layer < 0) st = tl_nn_embed_layer(b->nn, &li);
        else li = (size_t)layer;
        if (st == TL_OK) {
            size_t sh[3];
            tl_nn_layer_shape(b->nn, li, sh);
            cols = sh[0] * sh[1] * sh[2];
        }
    } else {
        cols = what == 2 ? 1 : tl_nn_output_dim(b->nn);
    }
    size_t nin = 0, nout = 0;
    if (st == TL_OK && (tl_size_mul(n ? n : 1, tl_nn_input_dim(b->nn), &nin) ||
                        tl_size_mul(n ? n : 1, cols ? cols : 1, &nout)))
        st = TL_ERR_NOMEM;
    if (st == TL_OK && !(x = tl_malloc(nin * sizeof *x))) st = TL_ERR_NOMEM;
    if (st == TL_OK && what != 2 && !(o = tl_malloc(nout * sizeof *o))) st = TL_ERR_NOMEM;
    if (st == TL_OK && what == 2 && !(pred = tl_malloc((n ? n : 1) * sizeof *pred)))
        st = TL_ERR_NOMEM;
    if (st == TL_ERR_NOMEM) tl_error_clear(); /* the status name says it */
    if (st == TL_OK) st = tl_nn_input_from_mat(b->nn, M, x);
    if (st == TL_OK && n) {
        if (what == 0) st = tl_nn_forward(b->nn, x, n, o);
        else if (what == 1) st = tl_nn_predict_proba(b->nn, x, n, o);
        else if (what == 2) st = tl_nn_predict(b->nn, x, n, pred);
        else st = tl_nn_embed(b->nn, li, x, n, o);
    }
    PyThread_release_lock(b->lock);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&xb);
    if (st != TL_OK) {
        raise_tl(st);
    } else if (what == 2) {
        PyObject *by = PyBytes_FromStringAndSize((const char *)pred, (Py_ssize_t)(n * sizeof(int)));
        if (by) res = Py_BuildValue("(Nnn)", by, (Py_ssize_t)n, (Py_ssize_t)1);
    } else {
        /* float32 out, widened to float64 by the caller */
        PyObject *by = PyBytes_FromStringAndSize((const char *)o, (Py_ssize_t)(n * cols * sizeof(float)));
        if (by) res = Py_BuildValue("(Nnn)", by, (Py_ssize_t)n, (Py_ssize_t)cols);
    }
    tl_free(x);
    tl_free(o);
    tl_free(pred);
    return res;
}

/* nn_import(net, path, name_map or None, allow_missing) -> (loaded, missing, unexpected) */
static PyObject *py_nn_import(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    const char *path, *map;
    int allow;
    if (!PyArg_ParseTuple(args, "Oszp", &cap, &path, &map, &allow)) return NULL;
    net_box *b = net_of(cap);
    if (!b) return NULL;
    tl_nn_import_report r;
    memset(&r, 0, sizeof r);
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(b->lock, WAIT_LOCK);
    st = tl_nn_import_safetensors(b->nn, path, map, allow, &r);
    PyThread_release_lock(b->lock);
    Py_END_ALLOW_THREADS
    if (st != TL_OK) {
        tl_nn_import_report_free(&r);
        return raise_tl(st);
    }
    PyObject *res = Py_BuildValue("(nzz)", (Py_ssize_t)r.loaded, r.missing, r.unexpected);
    tl_nn_import_report_free(&r);
    return res;
}

/* nn_export(net, path, name_map or None) */
static PyObject *py_nn_export(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *cap;
    const char *path, *map;
    if (!PyArg_ParseTuple(args, "Osz", &cap, &path, &map)) return NULL;
    net_box *b = net_of(cap);
    if (!b) return NULL;
    tl_status st;
    Py_BEGIN_ALLOW_THREADS
    PyThread_acquire_lock(b->lock, WAIT_LOCK);
    st = tl_nn_export_safetensors(b->nn, path, map);
    PyThread_release_lock(b->lock);
    Py_END_ALLOW_THREADS
    if (st != TL_OK) return raise_tl(st);
    Py_RETURN_NONE;
}

/* nn_safetensors_arch(path) -> (arch, c, h, w) of a libtl export */
static PyObject *py_nn_safetensors_arch(PyObject *self, PyObject *args) {
    (void)self;
    const char *path;
    if (!PyArg_ParseTuple(args, "s", &path)) return NULL;
    char *arch = NULL;
    size_t c = 0, h = 0, w = 0;
    tl_status st = tl_nn_safetensors_arch(path, &arch, &c, &h, &w);
    if (st != TL_OK) return raise_tl(st);
    PyObject *r = Py_BuildValue("(snnn)", arch, (Py_ssize_t)c, (Py_ssize_t)h, (Py_ssize_t)w);
    tl_free(arch);
    return r;
}

/* ---- measures: the domains' distance before transferring (views of the arrays, no copy) ---- */

/* distance(kind, Xs, Xt, a, b, seed) -> (value, p_value, gamma); kind "mmd" (a: gamma <= 0:
 * median heuristic; b: permutations; linear kernel when a is NaN), "coral", "a-distance" (a: C,
 * b: folds). */
static PyObject *py_distance(PyObject *self, PyObject *args) {
    (void)self;
    const char *kind;
    PyObject *S, *T;
    double a;
    Py_ssize_t b;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "sOOdnK", &kind, &S, &T, &a, &b, &seed)) return NULL;
    if (b < 0) {
        PyErr_SetString(PyExc_ValueError, "libtl: negative count");
        return NULL;
    }
    xin s, t;
    if (get_x(S, &s) < 0) return NULL;
    if (get_x(T, &t) < 0) {
        release_x(&s);
        return NULL;
    }
    tl_status st = TL_OK;
    double v = 0, pv = NAN, g = NAN;
    int k = !strcmp(kind, "mmd") ? 0 : !strcmp(kind, "coral") ? 1 : !strcmp(kind, "a-distance") ? 2 : -1;
    if (k < 0) {
        release_x(&s);
        release_x(&t);
        PyErr_Format(PyExc_ValueError, "libtl: unknown distance '%s' (mmd, coral, a-distance)", kind);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    if (k == 0) {
        tl_mmd_params p = tl_mmd_params_default();
        if (isnan(a)) p.kernel = TL_KERNEL_LINEAR;
        else p.gamma = a;
        p.permutations = (size_t)b;
        p.seed = seed;
        tl_mmd_result r;
        st = tl_mmd(&p, s.x, t.x, &r);
        v = r.mmd2;
        pv = r.p_value;
        g = r.gamma;
    } else if (k == 1) {
        st = tl_coral_distance(s.x, t.x, &v);
    } else {
        st = tl_proxy_a_distance(s.x, t.x, (size_t)b, a, seed, &v);
    }
    Py_END_ALLOW_THREADS
    release_x(&s);
    release_x(&t);
    if (st != TL_OK) return raise_tl(st);
    return Py_BuildValue("(ddd)", v, pv, g);
}

/* guard_check(Xs, ys int32 or None, Xt, Zs, Zt, ws float64 or None, margin, min_correspondence,
 *             min_ess, seed) -> dict of the label-free evidence and the verdict (tl_guard_check
 * with its default learner, logreg C = 1) */
static PyObject *py_guard_check(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *o[6];
    double margin, minc, miness;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OOOOOOdddK", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &margin,
                          &minc, &miness, &seed))
        return NULL;
    xin x[4]; /* Xs, Xt, Zs, Zt */
    PyObject *xo[4] = {o[0], o[2], o[3], o[4]};
    Py_buffer yb, wb;
    int have_y = 0, have_w = 0, nx = 0;
    PyObject *res = NULL;
    for (; nx < 4; nx++)
        if (get_x(xo[nx], &x[nx]) < 0) goto done;
    if (o[1] != Py_None) {
        if (get_vec(o[1], &yb, 'i', sizeof(int), 0, "labels") < 0) goto done;
        have_y = 1;
        if ((size_t)yb.shape[0] != tl_xmat_rows(x[0].x)) {
            PyErr_SetString(PyExc_ValueError, "libtl: ys and Xs differ in rows");
            goto done;
        }
    }
    if (o[5] != Py_None) {
        if (get_vec(o[5], &wb, 'd', sizeof(double), 0, "weights") < 0) goto done;
        have_w = 1;
        if ((size_t)wb.shape[0] != tl_xmat_rows(x[0].x)) {
            PyErr_SetString(PyExc_ValueError, "libtl: weights and Xs differ in rows");
            goto done;
        }
    }
    tl_guard_params gp = tl_guard_params_default();
    gp.margin = margin;
    gp.min_correspondence = minc;
    gp.min_ess = miness;
    gp.seed = seed;
    tl_guard_report r;
    tl_status st = tl_guard_params_check(&gp);
    if (st == TL_OK) {
        Py_BEGIN_ALLOW_THREADS
        st = tl_guard_check(&gp, x[0].x, have_y ? yb.buf : NULL, x[1].x, x[2].x,
                            have_w ? wb.buf : NULL, x[3].x, &r);
        Py_END_ALLOW_THREADS
    }
    if (st != TL_OK) {
        raise_tl(st);
        goto done;
    }
    res = Py_BuildValue("{s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:d,s:O,s:s,s:s}", "mmd_before",
                        r.mmd_before, "mmd_after", r.mmd_after, "rv_before", r.rv_before,
                        "rv_after", r.rv_after, "agreement", r.agreement, "correspondence",
                        r.correspondence, "correspondence_p", r.correspondence_p,
                        "prediction_entropy", r.prediction_entropy, "ess", r.ess, "unrelated",
                        r.unrelated ? Py_True : Py_False, "verdict",
                        tl_guard_verdict_name(r.verdict), "reason", r.reason);
done:
    for (int i = 0; i < nx; i++) release_x(&x[i]);
    if (have_y) PyBuffer_Release(&yb);
    if (have_w) PyBuffer_Release(&wb);
    return res;
}

/* The address libtl sees for X's values (a dense float64 C-contiguous array: its own data,
 * since nothing is copied on the way in); for tests of the no-copy path. */
static PyObject *py_data_address(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *X;
    if (!PyArg_ParseTuple(args, "O", &X)) return NULL;
    xin in;
    if (get_x(X, &in) < 0) return NULL;
    const void *a = in.x.sparse ? (const void *)in.x.csr.values : (const void *)in.x.dense.data;
    release_x(&in);
    return PyLong_FromVoidPtr((void *)a);
}

/* count_allocations(fn) -> (fn's result, allocations, bytes, largest): fn() run with an
 * allocator that counts what libtl allocates meanwhile (malloc underneath, so memory allocated
 * before or after is freed as usual). Process-wide while it runs: for tests of the no-copy path,
 * with no other libtl call running. */
static size_t alloc_n, alloc_bytes, alloc_largest;
static size_t tally(size_t size) {
    alloc_n++;
    alloc_bytes += size;
    if (size > alloc_largest) alloc_largest = size;
    return size;
}
static void *count_alloc(void *u, size_t size) {
    (void)u;
    return malloc(tally(size));
}
static void *count_realloc(void *u, void *ptr, size_t size) {
    (void)u;
    return realloc(ptr, tally(size));
}
static void count_free(void *u, void *ptr) {
    (void)u;
    free(ptr);
}
static PyObject *py_count_allocations(PyObject *self, PyObject *fn) {
    (void)self;
    static const tl_allocator counting = {count_alloc, count_realloc, count_free, NULL};
    alloc_n = alloc_bytes = alloc_largest = 0;
    tl_allocator_set(&counting);
    PyObject *r = PyObject_CallNoArgs(fn);
    tl_allocator_set(NULL);
    if (!r) return NULL;
    return Py_BuildValue("(Nnnn)", r, (Py_ssize_t)alloc_n, (Py_ssize_t)alloc_bytes,
                         (Py_ssize_t)alloc_largest);
}

static PyObject *py_version(PyObject *self, PyObject *args) {
    (void)self;
    (void)args;
    return PyUnicode_FromString(tl_version());
}

static PyMethodDef methods[] = {
    {"methods", py_methods, METH_NOARGS, "The registry: (name, family, needs, summary, "
                                         "reference, [parameter descriptors])."},
    {"check_params", py_check_params, METH_VARARGS, "check_params(method, dict) -> values"},
    {"model_fit", py_model_fit, METH_VARARGS, "tl_model_fit"},
    {"model_transform", py_model_transform, METH_VARARGS, "tl_model_transform"},
    {"model_fit_weights", py_model_fit_weights, METH_VARARGS, "tl_model_fit_weights"},
    {"model_weights", py_model_weights, METH_VARARGS, "tl_model_weights"},
    {"model_predict", py_model_predict, METH_VARARGS, "tl_model_predict"},
    {"model_scores", py_model_scores, METH_VARARGS, "tl_model_scores"},
    {"model_about", py_model_about, METH_VARARGS, "method, params, dim, classes, info"},
    {"model_input_dim", py_model_input_dim, METH_VARARGS, "tl_model_input_dim"},
    {"model_save", py_model_save, METH_VARARGS, "tl_model_save"},
    {"model_load", py_model_load, METH_VARARGS, "tl_model_load"},
    {"transfer_run", py_transfer_run, METH_VARARGS, "tl_transfer_run"},
    {"pipeline_predict", py_pipeline_predict, METH_VARARGS, "tl_pipeline_predict"},
    {"pipeline_scores", py_pipeline_scores, METH_VARARGS, "tl_pipeline_scores"},
    {"pipeline_transform", py_pipeline_transform, METH_VARARGS, "tl_pipeline_transform"},
    {"pipeline_about", py_pipeline_about, METH_VARARGS, "method, domains, dims, classes, names"},
    {"pipeline_save", py_pipeline_save, METH_VARARGS, "tl_pipeline_save"},
    {"pipeline_load", py_pipeline_load, METH_VARARGS, "tl_pipeline_load"},
    {"nn_create", py_nn_create, METH_VARARGS, "tl_nn_create"},
    {"nn_load", py_nn_load, METH_VARARGS, "tl_nn_load"},
    {"nn_save", py_nn_save, METH_VARARGS, "tl_nn_save"},
    {"nn_about", py_nn_about, METH_VARARGS, "arch, shape, outputs, labels, names, layers"},
    {"nn_run", py_nn_run, METH_VARARGS, "logits / probabilities / labels / embedding"},
    {"nn_import", py_nn_import, METH_VARARGS, "tl_nn_import_safetensors"},
    {"nn_export", py_nn_export, METH_VARARGS, "tl_nn_export_safetensors"},
    {"nn_safetensors_arch", py_nn_safetensors_arch, METH_VARARGS, "tl_nn_safetensors_arch"},
    {"distance", py_distance, METH_VARARGS, "tl_mmd / tl_coral_distance / tl_proxy_a_distance"},
    {"guard_check", py_guard_check, METH_VARARGS, "tl_guard_check"},
    {"data_address", py_data_address, METH_VARARGS, "the address libtl reads X's values at"},
    {"count_allocations", py_count_allocations, METH_O,
     "count_allocations(fn) -> (fn(), allocations, bytes, largest) libtl made during fn()"},
    {"version", py_version, METH_NOARGS, "tl_version"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_tl",
                                    "libtl's C library (see libtl for the estimators)", -1,
                                    methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__tl(void) {
    PyObject *m = PyModule_Create(&module);
    if (!m) return NULL;
    LibtlError = PyErr_NewExceptionWithDoc("libtl.LibtlError",
                                           "A libtl failure; the message is libtl's, the "
                                           "`status` attribute its status name.",
                                           PyExc_ValueError, NULL);
    if (!LibtlError || PyModule_AddObject(m, "LibtlError", LibtlError) < 0) {
        Py_XDECREF(LibtlError);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(LibtlError);
    return m;
}
