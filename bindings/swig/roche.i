/*
 * roche.i - one SWIG interface, two uses:
 *
 * - Python (SWIGPYTHON): the low-level module roche.native of the
 *   production Python binding (bindings/python). SWIG generates the
 *   module, its types, argument parsing and keyword arguments; the typemaps
 *   below convert values in (any buffer), values out (bytes, or a pinned
 *   view), offset arrays both ways, names, and return codes (a roche.Error
 *   subclass); the small C block guards each call (closed store, fork,
 *   one thread per iterator) and releases the GIL around libroche.
 *
 * - Java (SWIGJAVA): the spike behind the measurement that chose the Java
 *   glue (see README.md here and bindings/java/README.md). It wraps the hot
 *   paths only (open, close, append, get) with SWIG's own typemaps wherever
 *   SWIG has one, so the generated JNI code is what a user of SWIG would
 *   get. It is not a second Java API: the product's binding is the
 *   hand-written one in bindings/java.
 */
#ifdef SWIGPYTHON
%module(package="roche") native
#else
%module RocheSwig
#endif

%{
#include "roche.h"
%}

#ifdef SWIGJAVA
/* The generated class loads its JNI module, as the hand-written one does. */
%pragma(java) jniclasscode=%{
  static { System.loadLibrary("roche_swig"); }
%}

%include <stdint.i>
%include <various.i>
%include <cpointer.i>
%include <typemaps.i>

/* Offsets are u64 in C; in Java a long, as the hand-written binding does,
   rather than SWIG's default java.math.BigInteger. */
%apply long long { uint64_t };
%apply long long *OUTPUT { uint64_t *offset };

/* A value in: SWIG's stock byte[] typemap (pins the array for the call). */
%apply (char *STRING, size_t LENGTH) { (const void *data, size_t len) };

/* A value out: SWIG has no stock typemap for a buffer the callee allocates,
   so this one is written by hand, as any SWIG user would have to: the
   caller passes byte[1][] and receives the value in element 0. */
%typemap(jni) (void **data, size_t *len) "jobjectArray"
%typemap(jtype) (void **data, size_t *len) "byte[][]"
%typemap(jstype) (void **data, size_t *len) "byte[][]"
%typemap(javain) (void **data, size_t *len) "$javainput"
%typemap(in) (void **data, size_t *len) (void *value = NULL, size_t value_len = 0) {
  if (!$input || JCALL1(GetArrayLength, jenv, $input) < 1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "needs a byte[1][]");
    return $null;
  }
  $1 = &value;
  $2 = &value_len;
}
%typemap(argout) (void **data, size_t *len) {
  if (value$argnum) {
    jbyteArray bytes = JCALL1(NewByteArray, jenv, (jsize)value_len$argnum);
    if (bytes) {
      JCALL4(SetByteArrayRegion, jenv, bytes, 0, (jsize)value_len$argnum,
             (const jbyte *)value$argnum);
      JCALL3(SetObjectArrayElement, jenv, $input, 0, bytes);
    }
  }
}
%typemap(freearg) (void **data, size_t *len) "roche_free(value$argnum);"

/* The handle comes back through roche_db **: a pointer cell from cpointer.i. */
%pointer_functions(roche_db *, roche_db_cell);

typedef struct roche_db roche_db;
typedef struct roche_options roche_options;

int roche_open(const char *root, const roche_options *opts, roche_db **out);
int roche_close(roche_db *db);
int roche_append(roche_db *db, const char *ns, const char *id,
                 const void *data, size_t len, uint64_t *offset);
int roche_get(roche_db *db, const char *ns, uint64_t offset, void **data, size_t *len);
const char *roche_last_error(void);
#endif /* SWIGJAVA */

#ifdef SWIGPYTHON
/* ======================================================================
 * Python: the low-level module roche.native (bindings/python wraps it).
 *
 * Everything below is one of three things: C helpers that guard a call
 * and release the GIL around libroche (rp_*), typemaps that convert
 * arguments and results, and the declarations SWIG generates the module
 * from (the Store, Scan, Follower and View types and their methods).
 * Every function returning rp_rc reports failure through that code alone;
 * the out typemap turns it into the roche.Error subclass for the code,
 * built by the Python layer's factory (roche._errors), so libroche's
 * codes are mapped in one place.
 * ====================================================================== */
%feature("kwargs");

%{
#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Codes of the binding's own, positive so they never meet libroche's. */
#define RP_ECLOSED 2  /* the store (or iterator) is closed */
#define RP_EFORKED 3  /* the store was opened by the parent of this fork */
#define RP_EBUSY 4    /* an iterator used by two threads at once */

typedef int rp_rc;
typedef const char *rp_name;
typedef const char *rp_req_name; /* None refused */

/* A fork bumps the generation in the child: every handle opened before it
   then refuses calls there, and is never closed or freed by the child. */
static unsigned long rp_generation;
static void rp_after_fork_child(void) { rp_generation++; }

static PyObject *rp_error_factory; /* roche._errors.make(code, detail, offset) */
static PyObject *rp_record_type;   /* roche.Record, a namedtuple */

/* The record a failure is about, for the error object (get, followers). */
static __thread int rp_err_has_offset;
static __thread uint64_t rp_err_offset;

static PyObject *rp_error_object(int code, const char *detail, int has_offset, uint64_t offset) {
    if (!rp_error_factory) {
        PyErr_SetString(PyExc_RuntimeError, "roche.native: errors not registered (import roche)");
        return NULL;
    }
    PyObject *text = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "replace");
    PyObject *at = has_offset ? PyLong_FromUnsignedLongLong(offset) : (Py_INCREF(Py_None), Py_None);
    PyObject *e = (text && at) ? PyObject_CallFunction(rp_error_factory, "iOO", code, text, at) : NULL;
    Py_XDECREF(text);
    Py_XDECREF(at);
    return e;
}

/* Raise the exception for code (read libroche's detail first: it is the
   calling thread's, and this is that thread, right after the call). */
static void rp_raise(int code) {
    const char *detail = code < 0 ? roche_last_error() : "";
    int has_offset = rp_err_has_offset;
    rp_err_has_offset = 0;
    PyObject *e = rp_error_object(code, detail, has_offset, rp_err_offset);
    if (e) {
        PyErr_SetObject((PyObject *)Py_TYPE(e), e);
        Py_DECREF(e);
    }
}

static void rp_raise_at(int code, uint64_t offset) {
    rp_err_has_offset = 1;
    rp_err_offset = offset;
    rp_raise(code);
}

/* Wait, without the GIL, until a counter another thread drops reaches 0.
   The counters only change under the GIL. */
static void rp_wait_zero(const long *counter) {
    while (*counter) {
        Py_BEGIN_ALLOW_THREADS
        usleep(100);
        Py_END_ALLOW_THREADS
    }
}

typedef struct rp_iter rp_iter;

/* An open store. busy counts the calls in flight (they run without the
   GIL); close waits for them, frees the iterators, then closes. refs
   counts the owners of this struct: the Python object and each iterator. */
typedef struct Store {
    roche_db *db;
    unsigned long generation;
    bool closed;
    int read_only;
    long busy;
    long refs;
    rp_iter *iters;
} Store;

struct rp_iter {
    Store *store;
    rp_iter *prev, *next;
    roche_scan *scan;     /* one of these two */
    roche_follow *follow;
    long busy;            /* a thread is inside a call on it */
    int closing;          /* close() asked: the call in flight ends */
    int dead;             /* freed in libroche */
};

typedef struct Scan { rp_iter it; } Scan;
typedef struct Follower { rp_iter it; } Follower;

/* A value pinned in the store's mapping (roche_get_view), exposed through
   the buffer protocol: memoryview(view) reads it in place. */
typedef struct View {
    roche_view *view;
    const void *data;
    size_t len;
    unsigned long generation;
} View;

static inline int rp_enter(Store *s) {
    if (s->generation != rp_generation) return RP_EFORKED;
    if (s->closed || !s->db) return RP_ECLOSED;
    s->busy++;
    return 0;
}
static inline void rp_leave(Store *s) { s->busy--; }

static void rp_store_unref(Store *s) {
    if (--s->refs == 0) free(s);
}

/* Free an iterator in libroche (GIL held, nothing in flight on it). */
static void rp_iter_free(rp_iter *it) {
    if (it->dead) return;
    it->dead = 1;
    Store *s = it->store;
    if (it->prev) it->prev->next = it->next; else s->iters = it->next;
    if (it->next) it->next->prev = it->prev;
    it->prev = it->next = NULL;
    roche_scan *scan = it->scan;
    roche_follow *follow = it->follow;
    it->scan = NULL;
    it->follow = NULL;
    if (s->generation != rp_generation) return; /* the parent's: leave it */
    Py_BEGIN_ALLOW_THREADS
    roche_scan_free(scan);
    roche_follow_free(follow);
    Py_END_ALLOW_THREADS
}

static rp_iter *rp_iter_new(Store *s, size_t size) {
    rp_iter *it = calloc(1, size);
    if (!it) return NULL;
    it->store = s;
    s->refs++;
    it->next = s->iters;
    if (s->iters) s->iters->prev = it;
    s->iters = it;
    return it;
}

static void rp_iter_close(rp_iter *it) {
    if (it->dead) return;
    it->closing = 1;
    if (it->busy && it->follow) roche_follow_wake(it->follow);
    rp_wait_zero(&it->busy);
    rp_iter_free(it);
}

static void rp_iter_destroy(rp_iter *it) {
    rp_iter_close(it);
    Store *s = it->store;
    free(it);
    rp_store_unref(s);
}

static rp_rc rp_store_close(Store *s) {
    if (s->closed) return ROCHE_OK;
    s->closed = 1;
    if (s->generation != rp_generation) return ROCHE_OK; /* the parent's: never touch it */
    for (rp_iter *it = s->iters; it; it = it->next)
        if (it->follow) roche_follow_wake(it->follow);
    rp_wait_zero(&s->busy);
    while (s->iters) rp_iter_free(s->iters);
    roche_db *db = s->db;
    s->db = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = roche_close(db);
    Py_END_ALLOW_THREADS
    return rc;
}

/* Start an iterator call: the store must be usable, the iterator open and
   idle. On success both are marked busy. */
static int rp_iter_enter(rp_iter *it) {
    if (it->busy) return RP_EBUSY;
    if (it->dead || it->closing) return it->store->generation != rp_generation ? RP_EFORKED : RP_ECLOSED;
    int rc = rp_enter(it->store);
    if (rc) return rc;
    it->busy = 1;
    return 0;
}
static void rp_iter_leave(rp_iter *it) {
    it->busy = 0;
    rp_leave(it->store);
}

/* ---- records, as roche.Record (a namedtuple) built without Python code ---- */
static PyObject *rp_record(uint64_t offset, const void *data, size_t len, uint64_t time_ns) {
    PyObject *o = PyLong_FromUnsignedLongLong(offset);
    PyObject *v = PyBytes_FromStringAndSize((const char *)data, (Py_ssize_t)len);
    PyObject *t = PyLong_FromUnsignedLongLong(time_ns);
    PyObject *r = NULL;
    if (o && v && t) {
        PyTypeObject *type = rp_record_type ? (PyTypeObject *)rp_record_type : &PyTuple_Type;
        r = type == &PyTuple_Type ? PyTuple_New(3) : type->tp_alloc(type, 3);
    }
    if (!r) {
        Py_XDECREF(o);
        Py_XDECREF(v);
        Py_XDECREF(t);
        return NULL;
    }
    PyTuple_SET_ITEM(r, 0, o);
    PyTuple_SET_ITEM(r, 1, v);
    PyTuple_SET_ITEM(r, 2, t);
    return r;
}

static PyObject *rp_records(size_t count, const uint64_t *offsets, const void **data,
                            const size_t *lens, const uint64_t *times) {
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (!list) return NULL;
    for (size_t i = 0; i < count; i++) {
        PyObject *r = rp_record(offsets[i], data[i], lens[i], times[i]);
        if (!r) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, r);
    }
    return list;
}

/* ---- argument types the typemaps fill ---- */

/* A value in: any object with the buffer protocol, read in place. */
typedef struct rp_buf {
    const void *data;
    size_t len;
    Py_buffer view;
    int held;
} rp_buf;

static int rp_buf_get(PyObject *o, rp_buf *b, const char *what) {
    if (PyBytes_CheckExact(o)) {
        b->data = PyBytes_AS_STRING(o);
        b->len = (size_t)PyBytes_GET_SIZE(o);
        return 0;
    }
    if (!PyObject_CheckBuffer(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be a bytes-like object (bytes, bytearray, "
                     "memoryview, array, numpy array), not %.100s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    if (PyObject_GetBuffer(o, &b->view, PyBUF_SIMPLE) < 0) return -1;
    b->held = 1;
    b->data = b->view.buf;
    b->len = (size_t)b->view.len;
    return 0;
}
static void rp_buf_release(rp_buf *b) {
    if (b->held) PyBuffer_Release(&b->view);
    b->held = 0;
}

/* Many values in: packed back to back (the layout roche_append_many
   takes), read from each buffer in place. */
typedef struct rp_pack {
    char *data;
    size_t *lens;
    size_t count;
    char small_data[4096];
    size_t small_lens[64];
} rp_pack;

static void rp_pack_free(rp_pack *p) {
    if (p->data != p->small_data) free(p->data);
    if (p->lens != p->small_lens) free(p->lens);
    p->data = NULL;
    p->lens = NULL;
}

static int rp_pack_fill(PyObject *seq_in, rp_pack *p) {
    p->data = p->small_data;
    p->lens = p->small_lens;
    p->count = 0;
    if (PyBytes_Check(seq_in) || PyByteArray_Check(seq_in) || PyUnicode_Check(seq_in) ||
        PyMemoryView_Check(seq_in)) {
        PyErr_SetString(PyExc_TypeError, "values must be a sequence of bytes-like objects, "
                                         "not one bytes-like object");
        return -1;
    }
    PyObject *seq = PySequence_Fast(seq_in, "values must be a sequence of bytes-like objects");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if ((size_t)n > sizeof p->small_lens / sizeof p->small_lens[0]) {
        p->lens = malloc((size_t)n * sizeof *p->lens);
        if (!p->lens) goto nomem;
    }
    size_t total = 0;
    int err = 0;
    /* Lengths first: every one is checked before anything is copied. */
    for (Py_ssize_t i = 0; i < n && !err; i++) {
        PyObject *o = items[i];
        if (PyBytes_CheckExact(o)) {
            p->lens[i] = (size_t)PyBytes_GET_SIZE(o);
        } else {
            rp_buf b = {0};
            if (rp_buf_get(o, &b, "each value") < 0) { err = 1; break; }
            p->lens[i] = b.len;
            rp_buf_release(&b);
        }
        if (p->lens[i] > ROCHE_MAX_VALUE) {
            rp_raise(ROCHE_ETOOBIG);
            err = 1;
        }
        total += p->lens[i];
    }
    if (err) goto fail;
    if (total > sizeof p->small_data) {
        p->data = malloc(total);
        if (!p->data) goto nomem;
    }
    char *at = p->data;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        if (PyBytes_CheckExact(o)) {
            memcpy(at, PyBytes_AS_STRING(o), p->lens[i]);
        } else {
            rp_buf b = {0};
            if (rp_buf_get(o, &b, "each value") < 0) goto fail;
            if (b.len != p->lens[i]) {
                rp_buf_release(&b);
                PyErr_SetString(PyExc_RuntimeError, "a value changed size during append_many");
                goto fail;
            }
            memcpy(at, b.data, b.len);
            rp_buf_release(&b);
        }
        at += p->lens[i];
    }
    p->count = (size_t)n;
    Py_DECREF(seq);
    return 0;
nomem:
    PyErr_NoMemory();
fail:
    Py_DECREF(seq);
    rp_pack_free(p);
    return -1;
}

/* Offsets, in and out. */
typedef struct rp_u64s {
    uint64_t *v;
    size_t n;
    int given;           /* in: not None */
    uint64_t small[64];
    uint64_t *owned;     /* out: libroche's allocation (roche_free) */
} rp_u64s;

static int rp_u64(PyObject *o, uint64_t *out, const char *what) {
    if (!PyLong_Check(o)) {
        if (PyFloat_Check(o) || !PyIndex_Check(o)) {
            PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(o)->tp_name);
            return -1;
        }
        PyObject *i = PyNumber_Index(o);
        if (!i) return -1;
        int rc = rp_u64(i, out, what);
        Py_DECREF(i);
        return rc;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Format(PyExc_OverflowError, "%s must be in 0..2**64-1", what);
        return -1;
    }
    *out = v;
    return 0;
}

static int rp_u64s_fill(PyObject *seq_in, rp_u64s *u, int none_ok) {
    u->v = u->small;
    u->n = 0;
    u->given = 0;
    if (seq_in == Py_None && none_ok) return 0;
    if (PyLong_Check(seq_in) || PyUnicode_Check(seq_in) || PyBytes_Check(seq_in)) {
        PyErr_Format(PyExc_TypeError, "offsets must be a sequence of ints, not %.100s",
                     Py_TYPE(seq_in)->tp_name);
        return -1;
    }
    PyObject *seq = PySequence_Fast(seq_in, "offsets must be a sequence of ints");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if ((size_t)n > sizeof u->small / sizeof u->small[0]) {
        u->v = malloc((size_t)n * sizeof *u->v);
        if (!u->v) {
            Py_DECREF(seq);
            PyErr_NoMemory();
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (rp_u64(items[i], &u->v[i], "an offset") < 0) {
            Py_DECREF(seq);
            if (u->v != u->small) free(u->v);
            u->v = NULL;
            return -1;
        }
    }
    Py_DECREF(seq);
    u->n = (size_t)n;
    u->given = 1;
    return 0;
}

static void rp_u64s_free(rp_u64s *u) {
    if (u->v && u->v != u->small && u->v != u->owned) free(u->v);
    roche_free(u->owned);
    u->v = NULL;
    u->owned = NULL;
}

static PyObject *rp_u64s_list(const rp_u64s *u) {
    PyObject *list = PyList_New((Py_ssize_t)u->n);
    if (!list) return NULL;
    for (size_t i = 0; i < u->n; i++) {
        PyObject *o = PyLong_FromUnsignedLongLong(u->v[i]);
        if (!o) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, o);
    }
    return list;
}

/* A name (namespace, id, cursor) or path in: str (UTF-8, or the file
   system encoding for surrogates), bytes or os.PathLike; None is NULL. */
static int rp_name_get(PyObject *o, const char **out, PyObject **keep, const char *what) {
    *keep = NULL;
    if (o == Py_None) {
        *out = NULL;
        return 0;
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (s) {
            if ((size_t)n != strlen(s)) {
                PyErr_Format(PyExc_ValueError, "%s must not contain a NUL character", what);
                return -1;
            }
            *out = s;
            return 0;
        }
        PyErr_Clear(); /* lone surrogates: the file system encoding below */
    } else if (!PyBytes_Check(o) && !PyObject_HasAttrString(o, "__fspath__")) {
        PyErr_Format(PyExc_TypeError, "%s must be a str or bytes, not %.100s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    if (!PyUnicode_FSConverter(o, keep)) return -1; /* refuses NUL: ValueError */
    *out = PyBytes_AS_STRING(*keep);
    return 0;
}

static PyObject *rp_names_list(const char *names, size_t count) {
    PyObject *list = PyList_New((Py_ssize_t)count);
    if (!list) return NULL;
    const char *at = names;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(at);
        PyObject *s = PyUnicode_DecodeFSDefaultAndSize(at, (Py_ssize_t)n);
        if (!s) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
        at += n + 1;
    }
    return list;
}

typedef struct rp_names {
    char *names;
    size_t count;
} rp_names;

typedef struct rp_bytes_out { /* a value out, pinned until copied */
    roche_view *view;
    const void *data;
    size_t len;
} rp_bytes_out;

typedef struct rp_values_out {
    roche_values *values;
    const uint64_t *offsets;
} rp_values_out;

typedef roche_stat_info rp_stat;

/* ---- Store ---- */

static Store *new_Store(rp_name path, uint32_t buckets, int read_only, int sync,
                        uint32_t sync_period_ms, uint32_t max_open_files,
                        uint64_t retention_max_age_ms, uint64_t retention_max_bytes, int format) {
    if (!path) {
        PyErr_SetString(PyExc_TypeError, "path must be a str, bytes or os.PathLike, not None");
        return NULL;
    }
    roche_options *opts = roche_options_new();
    if (!opts) return (Store *)PyErr_NoMemory();
    int rc = ROCHE_OK;
    if (buckets) rc = roche_options_set_buckets(opts, buckets);
    if (!rc) rc = roche_options_set_read_only(opts, read_only);
    if (!rc) rc = roche_options_set_sync(opts, sync);
    if (!rc && sync_period_ms) rc = roche_options_set_sync_period_ms(opts, sync_period_ms);
    if (!rc && max_open_files) rc = roche_options_set_max_open_files(opts, max_open_files);
    if (!rc && (retention_max_age_ms || retention_max_bytes))
        rc = roche_options_set_retention(opts, retention_max_age_ms, retention_max_bytes);
    /* libroche judges the code: an unknown one is its EINVAL, with its detail. */
    if (!rc) rc = roche_options_set_format(opts, format);
    roche_db *db = NULL;
    if (!rc) {
        Py_BEGIN_ALLOW_THREADS
        rc = roche_open(path, opts, &db);
        Py_END_ALLOW_THREADS
    }
    roche_options_free(opts);
    Store *s = rc ? NULL : calloc(1, sizeof *s);
    if (!s) {
        if (!rc) {
            roche_close(db);
            return (Store *)PyErr_NoMemory();
        }
        rp_raise(rc);
        return NULL;
    }
    s->db = db;
    s->generation = rp_generation;
    s->read_only = read_only;
    s->refs = 1;
    return s;
}

static void delete_Store(Store *s) {
    rp_store_close(s);
    rp_store_unref(s);
}

static rp_rc Store_close(Store *s) { return rp_store_close(s); }

static bool Store_closed_get(Store *s) { return s->closed || s->generation != rp_generation; }

#define RP_CALL(s, call)              \
    do {                              \
        rc = rp_enter(s);             \
        if (rc) return rc;            \
        Py_BEGIN_ALLOW_THREADS        \
        rc = (call);                  \
        Py_END_ALLOW_THREADS          \
        rp_leave(s);                  \
    } while (0)

static rp_rc Store_append(Store *s, uint64_t *offset, rp_buf *value, rp_name id, rp_name namespace) {
    int rc;
    RP_CALL(s, roche_append(s->db, namespace, id, value->data, value->len, offset));
    return rc;
}

static rp_rc Store_append_many(Store *s, rp_u64s *offsets, rp_pack *values, rp_name id, rp_name namespace) {
    int rc;
    offsets->n = values->count;
    offsets->v = values->count <= sizeof offsets->small / sizeof offsets->small[0]
                     ? offsets->small : malloc(values->count * sizeof *offsets->v);
    if (!offsets->v) return ROCHE_ENOMEM;
    RP_CALL(s, roche_append_many(s->db, namespace, id, values->data, values->lens, values->count,
                                 offsets->v));
    return rc;
}

static rp_rc Store_get(Store *s, rp_bytes_out *value, uint64_t offset, rp_name namespace) {
    int rc;
    RP_CALL(s, roche_get_view(s->db, namespace, offset, &value->view, &value->data, &value->len));
    if (rc < 0) {
        rp_err_has_offset = 1;
        rp_err_offset = offset;
    }
    return rc;
}

static View *Store_get_view(Store *s, uint64_t offset, rp_name namespace) {
    View *v = calloc(1, sizeof *v);
    if (!v) return (View *)PyErr_NoMemory();
    int rc;
    do {
        rc = rp_enter(s);
        if (rc) break;
        Py_BEGIN_ALLOW_THREADS
        rc = roche_get_view(s->db, namespace, offset, &v->view, &v->data, &v->len);
        Py_END_ALLOW_THREADS
        rp_leave(s);
    } while (0);
    if (rc) {
        free(v);
        if (rc < 0) rp_raise_at(rc, offset); else rp_raise(rc);
        return NULL;
    }
    v->generation = rp_generation;
    return v;
}

static rp_rc Store_multi_get(Store *s, rp_values_out *values, rp_u64s *offsets, rp_name namespace) {
    int rc;
    values->offsets = offsets->v;
    RP_CALL(s, roche_multiget(s->db, namespace, offsets->v, offsets->n, &values->values));
    return rc;
}

static rp_rc Store_sync(Store *s, rp_name namespace) {
    int rc;
    if (namespace) RP_CALL(s, roche_sync_namespace(s->db, namespace));
    else RP_CALL(s, roche_sync(s->db));
    return rc;
}

static rp_rc Store_namespaces(Store *s, rp_names *names) {
    int rc;
    RP_CALL(s, roche_namespaces(s->db, &names->names, &names->count));
    return rc;
}

static rp_rc Store_stat(Store *s, rp_stat *info, rp_name namespace) {
    int rc;
    info->version = ROCHE_STAT_VERSION;
    RP_CALL(s, roche_stat(s->db, namespace, info));
    return rc;
}

static rp_rc Store_close_namespace(Store *s, rp_name namespace) {
    int rc;
    RP_CALL(s, roche_close_namespace(s->db, namespace));
    return rc;
}

static rp_rc Store_delete_namespace(Store *s, rp_name namespace) {
    int rc;
    RP_CALL(s, roche_delete_namespace(s->db, namespace));
    return rc;
}

static rp_rc Store_commit_cursor(Store *s, rp_name name, rp_u64s *offsets, rp_name namespace) {
    int rc;
    if (!name) return ROCHE_EINVAL;
    RP_CALL(s, roche_cursor_commit(s->db, namespace, name, offsets->v, offsets->n));
    return rc;
}

static rp_rc Store_cursor(Store *s, rp_u64s *offsets, rp_name name, rp_name namespace) {
    int rc;
    if (!name) return ROCHE_EINVAL;
    RP_CALL(s, roche_cursor_get(s->db, namespace, name, &offsets->owned, &offsets->n));
    offsets->v = offsets->owned;
    return rc;
}

static rp_rc Store_cursors(Store *s, rp_names *names, rp_name namespace) {
    int rc;
    RP_CALL(s, roche_cursor_list(s->db, namespace, &names->names, &names->count));
    return rc;
}

static rp_rc Store_delete_cursor(Store *s, rp_name name, rp_name namespace) {
    int rc;
    if (!name) return ROCHE_EINVAL;
    RP_CALL(s, roche_cursor_delete(s->db, namespace, name));
    return rc;
}

static rp_rc Store_retain(Store *s, uint64_t *freed, rp_name namespace, uint64_t older_than_ns,
                          uint64_t max_bytes) {
    int rc;
    RP_CALL(s, roche_retain(s->db, namespace, older_than_ns, max_bytes, freed));
    return rc;
}

static rp_rc Store_bucket_range(Store *s, uint64_t *first, uint64_t *end, uint32_t bucket,
                                rp_name namespace) {
    int rc;
    RP_CALL(s, roche_bucket_range(s->db, namespace, bucket, first, end));
    return rc;
}

static Scan *Store_scan_open(Store *s, rp_name namespace, uint64_t from_offset) {
    int rc = rp_enter(s);
    if (rc) {
        rp_raise(rc);
        return NULL;
    }
    roche_scan *scan = NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = roche_scan_open(s->db, namespace, from_offset, &scan);
    Py_END_ALLOW_THREADS
    rp_leave(s);
    Scan *sc = rc ? NULL : (Scan *)rp_iter_new(s, sizeof(Scan));
    if (!sc) {
        if (rc) rp_raise(rc); else PyErr_NoMemory();
        roche_scan_free(scan);
        return NULL;
    }
    sc->it.scan = scan;
    return sc;
}

static Follower *Store_follow_open(Store *s, rp_name namespace, rp_u64s *position, rp_name cursor,
                                   int flags) {
    int rc = rp_enter(s);
    if (rc) {
        rp_raise(rc);
        return NULL;
    }
    roche_follow *f = NULL;
    Py_BEGIN_ALLOW_THREADS
    if (cursor) rc = roche_follow_open_cursor(s->db, namespace, cursor, flags, &f);
    else rc = roche_follow_open(s->db, namespace, position->v, position->n, flags, &f);
    Py_END_ALLOW_THREADS
    rp_leave(s);
    Follower *fo = rc ? NULL : (Follower *)rp_iter_new(s, sizeof(Follower));
    if (!fo) {
        if (rc) rp_raise(rc); else PyErr_NoMemory();
        roche_follow_free(f);
        return NULL;
    }
    fo->it.follow = f;
    return fo;
}

/* ---- Scan ---- */

#define RP_BATCH_MAX 1024

static void delete_Scan(Scan *sc) { rp_iter_destroy(&sc->it); }
static void Scan_close(Scan *sc) { rp_iter_close(&sc->it); }

static PyObject *Scan_next_batch(Scan *sc, size_t max) {
    rp_iter *it = &sc->it;
    int rc = rp_iter_enter(it);
    if (rc) {
        rp_raise(rc);
        return NULL;
    }
    if (max == 0) max = 1;
    if (max > RP_BATCH_MAX) max = RP_BATCH_MAX;
    uint64_t offsets[RP_BATCH_MAX], times[RP_BATCH_MAX];
    const void *data[RP_BATCH_MAX];
    size_t lens[RP_BATCH_MAX], count = 0;
    Py_BEGIN_ALLOW_THREADS
    rc = roche_scan_next_batch(it->scan, max, offsets, data, lens, times, &count);
    Py_END_ALLOW_THREADS
    PyObject *result = NULL;
    if (rc == ROCHE_OK || rc == ROCHE_DONE) result = rp_records(count, offsets, data, lens, times);
    else if (rc == ROCHE_ECORRUPT && count == 1) rp_raise_at(rc, offsets[0]);
    else rp_raise(rc);
    rp_iter_leave(it);
    return result;
}

/* ---- Follower ---- */

#define RP_SLICE_MS 100 /* a wait is cut in slices so signals (Ctrl-C) get in */

static void delete_Follower(Follower *fo) { rp_iter_destroy(&fo->it); }
static void Follower_close(Follower *fo) { rp_iter_close(&fo->it); }

static double rp_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Up to max records; waits up to timeout_ms (-1: until one comes, or
   wake(), or close) and returns [] when nothing came in time. */
static PyObject *Follower_next_batch(Follower *fo, int timeout_ms, size_t max) {
    rp_iter *it = &fo->it;
    if (max == 0) max = 1;
    if (max > RP_BATCH_MAX) max = RP_BATCH_MAX;
    uint64_t offsets[RP_BATCH_MAX], times[RP_BATCH_MAX];
    const void *data[RP_BATCH_MAX];
    size_t lens[RP_BATCH_MAX];
    double deadline = timeout_ms >= 0 ? rp_now() + timeout_ms / 1000.0 : 0;
    for (;;) {
        int rc = rp_iter_enter(it);
        if (rc) {
            rp_raise(rc);
            return NULL;
        }
        int slice = RP_SLICE_MS;
        if (timeout_ms >= 0) {
            double left = (deadline - rp_now()) * 1000.0;
            slice = left <= 0 ? 0 : left < RP_SLICE_MS ? (int)left + 1 : RP_SLICE_MS;
        }
        size_t count = 0;
        Py_BEGIN_ALLOW_THREADS
        rc = roche_follow_next_batch(it->follow, slice, max, offsets, data, lens, times, &count);
        Py_END_ALLOW_THREADS
        PyObject *result = NULL;
        int closed = it->closing || it->store->closed;
        if (rc == ROCHE_OK) {
            result = rp_records(count, offsets, data, lens, times);
        } else if (closed && (rc == ROCHE_ECANCELED || rc == ROCHE_ETIMEDOUT)) {
            rp_raise(RP_ECLOSED);
        } else if (rc == ROCHE_ETIMEDOUT) {
            rp_iter_leave(it);
            if (PyErr_CheckSignals() < 0) return NULL;
            if (timeout_ms >= 0 && rp_now() >= deadline) return PyList_New(0);
            continue;
        } else if ((rc == ROCHE_ECORRUPT || rc == ROCHE_EDROPPED) && count == 1) {
            rp_raise_at(rc, offsets[0]);
        } else {
            rp_raise(rc);
        }
        rp_iter_leave(it);
        return result;
    }
}

/* Wake the follower's wait (from any thread): it raises roche.Canceled, or
   the next one does. The GIL is held, so a close cannot free it meanwhile. */
static rp_rc Follower_wake(Follower *fo) {
    rp_iter *it = &fo->it;
    if (it->dead || it->closing) return it->store->generation != rp_generation ? RP_EFORKED : RP_ECLOSED;
    if (it->store->generation != rp_generation) return RP_EFORKED;
    return roche_follow_wake(it->follow);
}

static rp_rc Follower_position(Follower *fo, rp_u64s *offsets) {
    rp_iter *it = &fo->it;
    int rc = rp_iter_enter(it);
    if (rc) return rc;
    size_t n = 0;
    rc = roche_follow_position(it->follow, NULL, 0, &n);
    if (!rc) {
        offsets->v = n <= sizeof offsets->small / sizeof offsets->small[0] ? offsets->small
                                                                          : malloc(n * sizeof(uint64_t));
        if (!offsets->v) rc = ROCHE_ENOMEM;
        else rc = roche_follow_position(it->follow, offsets->v, n, &offsets->n);
        if (offsets->n > n) offsets->n = n;
    }
    rp_iter_leave(it);
    return rc;
}

/* ---- View ---- */

static void delete_View(View *v) {
    if (v->generation == rp_generation) roche_view_release(v->view);
    free(v);
}
static size_t View___len__(View *v) { return v->len; }

static int rp_view_getbuffer(PyObject *self, Py_buffer *buffer, int flags) {
    SwigPyObject *sobj = SWIG_Python_GetSwigThis(self);
    View *v = sobj ? (View *)sobj->ptr : NULL;
    if (!v) {
        PyErr_SetString(PyExc_BufferError, "roche.native.View: no value");
        return -1;
    }
    return PyBuffer_FillInfo(buffer, self, (void *)v->data, (Py_ssize_t)v->len, 1, flags);
}

/* ---- module ---- */

static PyObject *register_types(PyObject *error_factory, PyObject *record_type) {
    if (!PyCallable_Check(error_factory) || !PyType_Check(record_type) ||
        !PyType_IsSubtype((PyTypeObject *)record_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "register_types(callable, tuple subclass)");
        return NULL;
    }
    Py_INCREF(error_factory);
    Py_INCREF(record_type);
    Py_XDECREF(rp_error_factory);
    Py_XDECREF(rp_record_type);
    rp_error_factory = error_factory;
    rp_record_type = record_type;
    Py_RETURN_NONE;
}

static const char *version(void) { return roche_version(); }
static const char *strerror_(int code) { return roche_strerror(code); }
%}

%init %{
    pthread_atfork(NULL, NULL, rp_after_fork_child);
%}

/* ---- typemaps ---- */

%typemap(out) rp_rc {
    if ($1 != ROCHE_OK) {
        rp_raise($1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}

%typemap(out) PyObject * {
    if (!$1) SWIG_fail;
    $result = $1;
}

%typemap(out) Scan *, Follower *, View *, Store * {
    if (!$1) SWIG_fail;
    $result = SWIG_NewPointerObj(SWIG_as_voidptr($1), $descriptor, $owner | %newpointer_flags);
}

%typemap(in) rp_name (PyObject *keep = NULL) {
    if (rp_name_get($input, &$1, &keep, "$1_name") < 0) SWIG_fail;
}
%typemap(freearg) rp_name "Py_XDECREF(keep$argnum);";

/* a name that must be given (cursor names): None is a TypeError */
%typemap(in) rp_req_name (PyObject *keep = NULL) {
    if ($input == Py_None) {
        PyErr_SetString(PyExc_TypeError, "$1_name must be a str, not None");
        SWIG_fail;
    }
    if (rp_name_get($input, &$1, &keep, "$1_name") < 0) SWIG_fail;
}
%typemap(freearg) rp_req_name "Py_XDECREF(keep$argnum);";
%typemap(typecheck) rp_name "$1 = 1;";

%typemap(in) uint64_t {
    if (rp_u64($input, &$1, "$1_name") < 0) SWIG_fail;
}

%typemap(in) rp_buf *value (rp_buf buf = {0}) {
    if (rp_buf_get($input, &buf, "value") < 0) SWIG_fail;
    $1 = &buf;
}
%typemap(freearg) rp_buf *value "rp_buf_release(&buf$argnum);";

%typemap(in) rp_pack *values (rp_pack pack) {
    pack.data = NULL;
    pack.lens = NULL;
    if (rp_pack_fill($input, &pack) < 0) SWIG_fail;
    $1 = &pack;
}
%typemap(freearg) rp_pack *values "rp_pack_free(&pack$argnum);";

/* offsets in: a sequence of ints (position may be None) */
%typemap(in) rp_u64s *offsets (rp_u64s u = {0}), rp_u64s *position (rp_u64s u = {0}) {
    if (rp_u64s_fill($input, &u, "$1_name"[0] == 'p') < 0) SWIG_fail;
    $1 = &u;
}
%typemap(freearg) rp_u64s *offsets, rp_u64s *position "rp_u64s_free(&u$argnum);";

/* offsets out: a list of ints */
%typemap(in, numinputs=0) rp_u64s *OUT (rp_u64s u = {0}) "$1 = &u;";
%typemap(argout) rp_u64s *OUT {
    PyObject *list = rp_u64s_list($1);
    if (!list) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, list);
}
%typemap(freearg) rp_u64s *OUT "rp_u64s_free(&u$argnum);";

%typemap(in, numinputs=0) uint64_t *OUT (uint64_t v = 0) "$1 = &v;";
%typemap(argout) uint64_t *OUT {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(*$1));
}

/* a value out: bytes, copied once from the pinned record */
%typemap(in, numinputs=0) rp_bytes_out *OUT (rp_bytes_out out = {0}) "$1 = &out;";
%typemap(argout) rp_bytes_out *OUT {
    PyObject *bytes = PyBytes_FromStringAndSize((const char *)$1->data, (Py_ssize_t)$1->len);
    if (!bytes) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, bytes);
}
%typemap(freearg) rp_bytes_out *OUT "roche_view_release(out$argnum.view);";

/* multi_get out: a list holding bytes, or the error of that item */
%typemap(in, numinputs=0) rp_values_out *OUT (rp_values_out out = {0}) "$1 = &out;";
%typemap(argout) rp_values_out *OUT {
    size_t n = roche_values_count($1->values), size = 0;
    const char *at = (const char *)roche_values_buffer($1->values, &size);
    const uint64_t *lens = roche_values_lengths($1->values);
    const int32_t *statuses = roche_values_statuses($1->values);
    PyObject *list = PyList_New((Py_ssize_t)n);
    if (!list) SWIG_fail;
    for (size_t i = 0; i < n; i++) {
        PyObject *item = statuses[i] == ROCHE_OK
            ? PyBytes_FromStringAndSize(at, (Py_ssize_t)lens[i])
            : rp_error_object(statuses[i], "", 1, $1->offsets[i]);
        if (!item) {
            Py_DECREF(list);
            SWIG_fail;
        }
        at += lens[i];
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    $result = SWIG_Python_AppendOutput($result, list);
}
%typemap(freearg) rp_values_out *OUT "roche_values_free(out$argnum.values);";

/* names out: a list of str */
%typemap(in, numinputs=0) rp_names *OUT (rp_names out = {0}) "$1 = &out;";
%typemap(argout) rp_names *OUT {
    PyObject *list = rp_names_list($1->names, $1->count);
    if (!list) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, list);
}
%typemap(freearg) rp_names *OUT "roche_free(out$argnum.names);";

/* stat out: a tuple, in roche_stat_info's order (roche.Stat names it) */
%typemap(in, numinputs=0) rp_stat *OUT (rp_stat info) "memset(&info, 0, sizeof info); $1 = &info;";
%typemap(argout) rp_stat *OUT {
    PyObject *t = Py_BuildValue("(IKKKKKKKKK)", $1->buckets,
        (unsigned long long)$1->records, (unsigned long long)$1->bytes,
        (unsigned long long)$1->oldest_ns, (unsigned long long)$1->newest_ns,
        (unsigned long long)$1->damaged_ranges, (unsigned long long)$1->damaged_bytes,
        (unsigned long long)$1->recovered_bytes, (unsigned long long)$1->dropped_records,
        (unsigned long long)$1->dropped_bytes);
    if (!t) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, t);
}

%apply rp_u64s *OUT { rp_u64s *offsets_out };
%apply uint64_t *OUT { uint64_t *offset, uint64_t *freed, uint64_t *first, uint64_t *end };
%apply rp_bytes_out *OUT { rp_bytes_out *value_out };
%apply rp_values_out *OUT { rp_values_out *values_out };
%apply rp_names *OUT { rp_names *names_out };
%apply rp_stat *OUT { rp_stat *info_out };

%include <stdint.i>

/* ---- the module ---- */

%constant int OK = ROCHE_OK;
%constant int EINVAL = ROCHE_EINVAL;
%constant int ENOTFOUND = ROCHE_ENOTFOUND;
%constant int ECORRUPT = ROCHE_ECORRUPT;
%constant int EIO = ROCHE_EIO;
%constant int ENOMEM = ROCHE_ENOMEM;
%constant int ETOOBIG = ROCHE_ETOOBIG;
%constant int ELOCKED = ROCHE_ELOCKED;
%constant int EREADONLY = ROCHE_EREADONLY;
%constant int EINTERNAL = ROCHE_EINTERNAL;
%constant int ETIMEDOUT = ROCHE_ETIMEDOUT;
%constant int ECANCELED = ROCHE_ECANCELED;
%constant int EDROPPED = ROCHE_EDROPPED;
%constant int ENOTSUP = ROCHE_ENOTSUP;
%constant int ECLOSED = RP_ECLOSED;
%constant int EFORKED = RP_EFORKED;
%constant int EBUSY = RP_EBUSY;
%constant unsigned long long MAX_VALUE = ROCHE_MAX_VALUE;
%constant int MAX_BUCKETS = ROCHE_MAX_BUCKETS;
%constant int DEFAULT_BUCKETS = ROCHE_DEFAULT_BUCKETS;
%constant int OFFSET_BITS = ROCHE_OFFSET_BITS;
%constant int SYNC_NEVER = ROCHE_SYNC_NEVER;
%constant int SYNC_ALWAYS = ROCHE_SYNC_ALWAYS;
%constant int SYNC_PERIODIC = ROCHE_SYNC_PERIODIC;
%constant int FORMAT_ROCHE = ROCHE_FORMAT_ROCHE;
%constant int FORMAT_ROCHEFORT = ROCHE_FORMAT_ROCHEFORT;
%constant int FOLLOW_FROM_END = ROCHE_FOLLOW_FROM_END;

%feature("python:bf_getbuffer", functype="getbufferproc") View "rp_view_getbuffer";

%feature("docstring") Store::append
"append(value, id=None, namespace=None) -> int

Append one value (any bytes-like object, read in place) and return its
offset. An id chooses the bucket (one id's values stay in order); without
one each thread has its own bucket. Namespace None is \"default\".";
%feature("docstring") Store::append_many
"append_many(values, id=None, namespace=None) -> list[int]

Append a sequence of bytes-like values in one call, to one bucket, one
after the other; return their offsets. Every length is checked first.";
%feature("docstring") Store::get
"get(offset, namespace=None) -> bytes

The value at offset, copied once from the store's mapping. Raises
roche.NotFound, roche.Corrupt (no record starts there, or damaged) or
roche.Dropped (retention), with error.offset set.";
%feature("docstring") Store::multi_get
"multi_get(offsets, namespace=None) -> list[bytes | roche.Error]

The values at many offsets in one call, in request order: a bad offset's
slot holds the roche.Error a get would raise; the others are unaffected.";
%feature("docstring") Store::sync
"sync(namespace=None)

fsync one namespace, or every namespace this store has open: every append
that returned before the call survives a machine crash.";
%feature("docstring") Store::namespaces "namespaces() -> list[str]\n\nThe namespaces under the root, sorted.";
%feature("docstring") Store::close_namespace
"close_namespace(namespace)\n\nTrim, unmap and close one namespace's files; the next call opens it again.";
%feature("docstring") Store::delete_namespace
"delete_namespace(namespace)\n\nClose a namespace and delete its directory; its offsets become NotFound.";
%feature("docstring") Store::commit_cursor
"commit_cursor(name, offsets, namespace=None)\n\nSave a position (one offset per bucket) under a cursor name.";
%feature("docstring") Store::cursor "cursor(name, namespace=None) -> list[int]\n\nA cursor's offsets; NotFound if none.";
%feature("docstring") Store::cursors "cursors(namespace=None) -> list[str]\n\nThe namespace's cursor names, sorted.";
%feature("docstring") Store::delete_cursor "delete_cursor(name, namespace=None)\n\nDelete a cursor; NotFound if none.";
%feature("docstring") Store::close
"close()

Wait for calls in flight on other threads, end follower waits, free the
store's scans and followers, trim and close the files, release the lock.
A second close is a no-op; every other call afterwards raises roche.Closed.";

%newobject Store::scan_open;
%newobject Store::follow_open;
%newobject Store::get_view;

typedef struct Store {} Store;
typedef struct Scan {} Scan;
typedef struct Follower {} Follower;
typedef struct View {} View;

%extend Store {
    Store(rp_name path, uint32_t buckets = 0, int read_only = 0, int sync = 0,
          uint32_t sync_period_ms = 0, uint32_t max_open_files = 0,
          uint64_t retention_max_age_ms = 0, uint64_t retention_max_bytes = 0, int format = 0);
    ~Store();
    rp_rc close();
    %immutable;
    bool closed;
    %mutable;
    rp_rc append(uint64_t *offset, rp_buf *value, rp_name id = NULL, rp_name namespace = NULL);
    rp_rc append_many(rp_u64s *offsets_out, rp_pack *values, rp_name id = NULL,
                      rp_name namespace = NULL);
    rp_rc get(rp_bytes_out *value_out, uint64_t offset, rp_name namespace = NULL);
    View *get_view(uint64_t offset, rp_name namespace = NULL);
    rp_rc multi_get(rp_values_out *values_out, rp_u64s *offsets, rp_name namespace = NULL);
    rp_rc sync(rp_name namespace = NULL);
    rp_rc namespaces(rp_names *names_out);
    rp_rc stat(rp_stat *info_out, rp_name namespace = NULL);
    rp_rc close_namespace(rp_name namespace = NULL);
    rp_rc delete_namespace(rp_name namespace = NULL);
    rp_rc commit_cursor(rp_req_name name, rp_u64s *offsets, rp_name namespace = NULL);
    rp_rc cursor(rp_u64s *offsets_out, rp_req_name name, rp_name namespace = NULL);
    rp_rc cursors(rp_names *names_out, rp_name namespace = NULL);
    rp_rc delete_cursor(rp_req_name name, rp_name namespace = NULL);
    rp_rc retain(uint64_t *freed, rp_name namespace, uint64_t older_than_ns, uint64_t max_bytes);
    rp_rc bucket_range(uint64_t *first, uint64_t *end, uint32_t bucket, rp_name namespace = NULL);
    Scan *scan_open(rp_name namespace = NULL, uint64_t from_offset = 0);
    Follower *follow_open(rp_name namespace, rp_u64s *position, rp_name cursor, int flags);
}

%extend Scan {
    ~Scan();
    void close();
    PyObject *next_batch(size_t max);
}

%extend Follower {
    ~Follower();
    void close();
    PyObject *next_batch(int timeout_ms, size_t max);
    rp_rc wake();
    rp_rc position(rp_u64s *offsets_out);
}

%extend View {
    ~View();
    size_t __len__();
}

PyObject *register_types(PyObject *error_factory, PyObject *record_type);
const char *version(void);
%rename(strerror) strerror_;
const char *strerror_(int code);
#endif /* SWIGPYTHON */
