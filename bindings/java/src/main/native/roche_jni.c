/*
 * roche_jni.c - the JNI glue between io.roche.Native and roche.h.
 *
 * Every entry point either returns a result or leaves exactly one pending
 * Java exception (a RocheException built by RocheException.of, or the
 * OutOfMemoryError of a failed JNI allocation) and returns at once.
 * Arrays are copied with Get/Set<Type>ArrayRegion; nothing holds a critical
 * section across a libroche call, so a blocked append never stalls the GC.
 */
#include <jni.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "roche.h"

/* Values up to this size are copied to the stack rather than malloc'ed. */
#define STACK_BYTES 4096

static jclass exception_class;   /* io.roche.RocheException */
static jmethodID exception_of;   /* static RocheException of(int, String, long) */
static jclass byte_array_class;  /* byte[] */
static jclass view_class;        /* io.roche.ValueView */
static jmethodID view_init;      /* ValueView(long, ByteBuffer) */

static jclass global_class(JNIEnv *env, const char *name) {
    jclass local = (*env)->FindClass(env, name);
    if (!local) return NULL;
    jclass global = (*env)->NewGlobalRef(env, local);
    (*env)->DeleteLocalRef(env, local);
    return global;
}

JNIEXPORT jint JNICALL JNI_OnLoad(JavaVM *vm, void *reserved) {
    (void)reserved;
    JNIEnv *env;
    if ((*vm)->GetEnv(vm, (void **)&env, JNI_VERSION_1_8) != JNI_OK) return JNI_ERR;
    exception_class = global_class(env, "io/roche/RocheException");
    byte_array_class = global_class(env, "[B");
    view_class = global_class(env, "io/roche/ValueView");
    if (!exception_class || !byte_array_class || !view_class) return JNI_ERR;
    exception_of = (*env)->GetStaticMethodID(env, exception_class, "of",
                                             "(ILjava/lang/String;J)Lio/roche/RocheException;");
    view_init = (*env)->GetMethodID(env, view_class, "<init>", "(JLjava/nio/ByteBuffer;)V");
    if (!exception_of || !view_init) return JNI_ERR;
    return JNI_VERSION_1_8;
}

/* Throw the RocheException for code, with libroche's detail for this thread,
 * about offset (-1: none; a DroppedException carries it).
 * The detail may hold any bytes (paths); NewStringUTF wants modified UTF-8,
 * so bytes outside ASCII become '?'. */
static void throw_code_at(JNIEnv *env, int code, jlong offset) {
    char message[1024];
    const char *detail = roche_last_error();
    if (detail[0])
        snprintf(message, sizeof message, "%s: %s", roche_strerror(code), detail);
    else
        snprintf(message, sizeof message, "%s", roche_strerror(code));
    for (char *c = message; *c; c++)
        if ((unsigned char)*c >= 0x80 || (unsigned char)*c < 0x20) *c = '?';
    jstring text = (*env)->NewStringUTF(env, message);
    if (!text) return; /* OutOfMemoryError pending */
    jobject exception = (*env)->CallStaticObjectMethod(env, exception_class, exception_of, code, text, offset);
    if ((*env)->ExceptionCheck(env)) return; /* of() itself failed: that one propagates */
    (*env)->Throw(env, (jthrowable)exception);
}

static void throw_code(JNIEnv *env, int code) {
    throw_code_at(env, code, -1);
}

static void throw_oom(JNIEnv *env) {
    jclass oom = (*env)->FindClass(env, "java/lang/OutOfMemoryError");
    if (oom) (*env)->ThrowNew(env, oom, "libroche: native allocation failed");
}

/* A copy of a Java byte[], on the stack when small. An array of NULL
 * gives data NULL. Returns 0, or -1 with an exception pending. */
typedef struct {
    char stack[STACK_BYTES];
    char *data;
    char *heap;
} bytes;

static int bytes_copy(JNIEnv *env, jbyteArray array, jint from, jint length, bytes *b) {
    b->heap = NULL;
    b->data = NULL;
    if (!array) return 0;
    if ((size_t)length <= sizeof b->stack) {
        b->data = b->stack;
    } else {
        b->data = b->heap = malloc((size_t)length);
        if (!b->heap) {
            throw_oom(env);
            return -1;
        }
    }
    (*env)->GetByteArrayRegion(env, array, from, length, (jbyte *)b->data);
    return (*env)->ExceptionCheck(env) ? -1 : 0;
}

static int bytes_copy_all(JNIEnv *env, jbyteArray array, bytes *b) {
    jint length = array ? (*env)->GetArrayLength(env, array) : 0;
    return bytes_copy(env, array, 0, length, b);
}

static void bytes_free(bytes *b) {
    free(b->heap);
}

/* A new byte[] holding data[0, len). NULL with an exception pending on failure. */
static jbyteArray new_bytes(JNIEnv *env, const void *data, size_t len) {
    if (len > INT32_MAX - 8) {
        throw_code(env, ROCHE_ETOOBIG);
        return NULL;
    }
    jbyteArray array = (*env)->NewByteArray(env, (jsize)len);
    if (array && len) (*env)->SetByteArrayRegion(env, array, 0, (jsize)len, (const jbyte *)data);
    return array;
}

/* Names back to back ("a\0b\0"), as roche_namespaces() and roche_cursor_list()
 * hand them out, in one byte[]; Roche.unpack splits it. */
static jbyteArray packed_names(JNIEnv *env, char *names, size_t count) {
    size_t size = 0;
    for (size_t i = 0; i < count; i++) size += strlen(names + size) + 1;
    jbyteArray packed = new_bytes(env, names, size);
    roche_free(names);
    return packed;
}

static roche_db *db_of(jlong handle) {
    return (roche_db *)(intptr_t)handle;
}

JNIEXPORT jstring JNICALL Java_io_roche_Native_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return (*env)->NewStringUTF(env, roche_version());
}

JNIEXPORT jint JNICALL Java_io_roche_Native_versionNumber(JNIEnv *env, jclass cls) {
    (void)env, (void)cls;
    return roche_version_number();
}

JNIEXPORT jstring JNICALL Java_io_roche_Native_strerror(JNIEnv *env, jclass cls, jint code) {
    (void)cls;
    return (*env)->NewStringUTF(env, roche_strerror(code));
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_open(JNIEnv *env, jclass cls, jbyteArray root,
                                                  jint buckets, jboolean read_only, jint sync,
                                                  jint sync_period_ms, jint max_open_files,
                                                  jlong retention_age_ms, jlong retention_bytes,
                                                  jint format) {
    (void)cls;
    bytes path;
    if (bytes_copy_all(env, root, &path) < 0) return 0;
    roche_options *opts = roche_options_new();
    roche_db *db = NULL;
    int rc = opts ? ROCHE_OK : ROCHE_ENOMEM;
    if (rc == ROCHE_OK) rc = roche_options_set_buckets(opts, (uint32_t)buckets);
    if (rc == ROCHE_OK) rc = roche_options_set_read_only(opts, read_only);
    if (rc == ROCHE_OK) rc = roche_options_set_sync(opts, sync);
    if (rc == ROCHE_OK && sync_period_ms > 0)
        rc = roche_options_set_sync_period_ms(opts, (uint32_t)sync_period_ms);
    if (rc == ROCHE_OK && max_open_files > 0)
        rc = roche_options_set_max_open_files(opts, (uint32_t)max_open_files);
    if (rc == ROCHE_OK)
        rc = roche_options_set_retention(opts, (uint64_t)retention_age_ms, (uint64_t)retention_bytes);
    /* libroche judges the code: an unknown one is its EINVAL, as from C. */
    if (rc == ROCHE_OK) rc = roche_options_set_format(opts, format);
    if (rc == ROCHE_OK) rc = roche_open(path.data, opts, &db);
    roche_options_free(opts);
    bytes_free(&path);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)(intptr_t)db;
}

JNIEXPORT void JNICALL Java_io_roche_Native_close(JNIEnv *env, jclass cls, jlong db) {
    (void)cls;
    int rc = roche_close(db_of(db));
    if (rc != ROCHE_OK) throw_code(env, rc);
}

/* ns and id arrive NUL-terminated (Roche.cString), or NULL. */
typedef struct {
    bytes ns, id;
} names;

static int names_copy(JNIEnv *env, jbyteArray ns, jbyteArray id, names *n) {
    n->id.heap = NULL;
    if (bytes_copy_all(env, ns, &n->ns) < 0) return -1;
    if (bytes_copy_all(env, id, &n->id) < 0) {
        bytes_free(&n->ns);
        return -1;
    }
    return 0;
}

static void names_free(names *n) {
    bytes_free(&n->ns);
    bytes_free(&n->id);
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_append(JNIEnv *env, jclass cls, jlong db, jbyteArray ns,
                                                    jbyteArray id, jbyteArray value, jint from,
                                                    jint length) {
    (void)cls;
    names n;
    bytes v;
    if (names_copy(env, ns, id, &n) < 0) return -1;
    if (bytes_copy(env, value, from, length, &v) < 0) {
        names_free(&n);
        return -1;
    }
    uint64_t offset = 0;
    int rc = roche_append(db_of(db), n.ns.data, n.id.data, v.data, (size_t)length, &offset);
    bytes_free(&v);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)offset;
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_appendDirect(JNIEnv *env, jclass cls, jlong db,
                                                          jbyteArray ns, jbyteArray id,
                                                          jobject buffer, jint position,
                                                          jint length) {
    (void)cls;
    char *base = (*env)->GetDirectBufferAddress(env, buffer);
    jlong capacity = (*env)->GetDirectBufferCapacity(env, buffer);
    /* An empty mapping (FileChannel.map of 0 bytes) is a direct buffer with
     * no address: with capacity 0 it can only hold the empty value, which
     * libroche takes as data NULL, len 0. */
    if ((!base && capacity != 0) || capacity < 0 || position < 0 || length < 0 ||
        (jlong)position + length > capacity) {
        throw_code(env, ROCHE_EINVAL);
        return -1;
    }
    names n;
    if (names_copy(env, ns, id, &n) < 0) return -1;
    uint64_t offset = 0;
    int rc = roche_append(db_of(db), n.ns.data, n.id.data, base ? base + position : NULL,
                          (size_t)length, &offset);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)offset;
}

JNIEXPORT jlongArray JNICALL Java_io_roche_Native_appendMany(JNIEnv *env, jclass cls, jlong db,
                                                             jbyteArray ns, jbyteArray id,
                                                             jbyteArray data, jintArray lengths) {
    (void)cls;
    jsize count = (*env)->GetArrayLength(env, lengths);
    jlongArray result = (*env)->NewLongArray(env, count);
    if (!result) return NULL;
    size_t *lens = malloc(sizeof *lens * (size_t)count + 1);
    uint64_t *offsets = malloc(sizeof *offsets * (size_t)count + 1);
    jint *ints = malloc(sizeof *ints * (size_t)count + 1);
    names n;
    int rc = ROCHE_ENOMEM;
    if (lens && offsets && ints && names_copy(env, ns, id, &n) == 0) {
        (*env)->GetIntArrayRegion(env, lengths, 0, count, ints);
        for (jsize i = 0; i < count; i++) lens[i] = (size_t)ints[i];
        /* A batch is large: read it in place rather than copy it. The
         * critical section spans one append_many, which makes no JNI call
         * and only copies into the bucket's mapping. */
        void *values = (*env)->GetPrimitiveArrayCritical(env, data, NULL);
        if (values) {
            rc = roche_append_many(db_of(db), n.ns.data, n.id.data, values, lens,
                                   (size_t)count, offsets);
            (*env)->ReleasePrimitiveArrayCritical(env, data, values, JNI_ABORT);
            if (rc == ROCHE_OK) {
                /* jlong and uint64_t share a layout for offsets below 2^63. */
                (*env)->SetLongArrayRegion(env, result, 0, count, (const jlong *)offsets);
            }
        }
        names_free(&n);
    }
    free(ints);
    free(offsets);
    free(lens);
    if ((*env)->ExceptionCheck(env)) return NULL;
    if (rc != ROCHE_OK) {
        if (rc == ROCHE_ENOMEM && !(lens && offsets && ints)) throw_oom(env);
        else throw_code(env, rc);
        return NULL;
    }
    return result;
}

/* The calls that take only a namespace: the name crosses, the code comes
 * back as an exception. */
static void on_namespace(JNIEnv *env, jlong db, jbyteArray ns, int (*op)(roche_db *, const char *)) {
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return;
    int rc = op(db_of(db), n.ns.data);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT void JNICALL Java_io_roche_Native_sync(JNIEnv *env, jclass cls, jlong db) {
    (void)cls;
    int rc = roche_sync(db_of(db));
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT void JNICALL Java_io_roche_Native_syncNamespace(JNIEnv *env, jclass cls, jlong db,
                                                          jbyteArray ns) {
    (void)cls;
    on_namespace(env, db, ns, roche_sync_namespace);
}

JNIEXPORT jbyteArray JNICALL Java_io_roche_Native_get(JNIEnv *env, jclass cls, jlong db,
                                                      jbyteArray ns, jlong offset) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return NULL;
    void *data = NULL;
    size_t len = 0;
    int rc = roche_get(db_of(db), n.ns.data, (uint64_t)offset, &data, &len);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code_at(env, rc, offset);
        return NULL;
    }
    jbyteArray value = new_bytes(env, data, len);
    roche_free(data);
    return value;
}

/* A ValueView over the value in place: a direct ByteBuffer on libroche's
 * pinned bytes (its mapping, or a read-only handle's copy) and the pin.
 * The ValueView owns the pin once constructed; until then a failure here
 * releases it, so every path leaves exactly one owner or none. */
JNIEXPORT jobject JNICALL Java_io_roche_Native_getView(JNIEnv *env, jclass cls, jlong db,
                                                       jbyteArray ns, jlong offset) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return NULL;
    roche_view *view = NULL;
    const void *data = NULL;
    size_t len = 0;
    int rc = roche_get_view(db_of(db), n.ns.data, (uint64_t)offset, &view, &data, &len);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code_at(env, rc, offset);
        return NULL;
    }
    /* A ByteBuffer's capacity is an int. */
    if (len > INT32_MAX) {
        roche_view_release(view);
        throw_code(env, ROCHE_ETOOBIG);
        return NULL;
    }
    /* JNI wants a writable address; the ValueView hands out only read-only
     * duplicates of this buffer, so nothing ever writes through it. */
    jobject buffer = (*env)->NewDirectByteBuffer(env, (void *)data, (jlong)len);
    jobject result = NULL;
    if (buffer) {
        result = (*env)->NewObject(env, view_class, view_init, (jlong)(intptr_t)view, buffer);
        (*env)->DeleteLocalRef(env, buffer);
    }
    if (!result) {
        roche_view_release(view);
        if (!(*env)->ExceptionCheck(env)) throw_oom(env);
        return NULL;
    }
    return result;
}

JNIEXPORT void JNICALL Java_io_roche_Native_viewRelease(JNIEnv *env, jclass cls, jlong handle) {
    (void)env, (void)cls;
    roche_view_release((roche_view *)(intptr_t)handle);
}

/* Fill a byte[][] from a multiget result; failed items stay null. */
static jobjectArray values_to_java(JNIEnv *env, const roche_values *values, jintArray statuses) {
    size_t count = roche_values_count(values), size = 0;
    const char *buffer = roche_values_buffer(values, &size);
    const uint64_t *lengths = roche_values_lengths(values);
    const int32_t *codes = roche_values_statuses(values);
    jobjectArray result = (*env)->NewObjectArray(env, (jsize)count, byte_array_class, NULL);
    if (!result) return NULL;
    jint status[256];
    for (size_t i = 0, at = 0; i < count; i++) {
        status[i % 256] = codes[i];
        if (codes[i] == ROCHE_OK) {
            if (lengths[i] > INT32_MAX - 8) {
                status[i % 256] = ROCHE_ETOOBIG;
            } else {
                jbyteArray value = new_bytes(env, buffer + at, lengths[i]);
                if (!value) return NULL;
                (*env)->SetObjectArrayElement(env, result, (jsize)i, value);
                (*env)->DeleteLocalRef(env, value);
            }
            at += lengths[i];
        }
        if (i % 256 == 255 || i + 1 == count)
            (*env)->SetIntArrayRegion(env, statuses, (jsize)(i - i % 256), (jsize)(i % 256 + 1), status);
    }
    return result;
}

JNIEXPORT jobjectArray JNICALL Java_io_roche_Native_multiGet(JNIEnv *env, jclass cls, jlong db,
                                                             jbyteArray ns, jlongArray offsets,
                                                             jintArray statuses) {
    (void)cls;
    jsize count = (*env)->GetArrayLength(env, offsets);
    uint64_t *wanted = malloc(sizeof *wanted * (size_t)count + 1);
    if (!wanted) {
        throw_oom(env);
        return NULL;
    }
    (*env)->GetLongArrayRegion(env, offsets, 0, count, (jlong *)wanted);
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) {
        free(wanted);
        return NULL;
    }
    roche_values *values = NULL;
    int rc = roche_multiget(db_of(db), n.ns.data, wanted, (size_t)count, &values);
    names_free(&n);
    free(wanted);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    jobjectArray result = values_to_java(env, values, statuses);
    roche_values_free(values);
    return result;
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_scanOpen(JNIEnv *env, jclass cls, jlong db,
                                                      jbyteArray ns, jlong from) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return 0;
    roche_scan *scan = NULL;
    int rc = roche_scan_open(db_of(db), n.ns.data, (uint64_t)from, &scan);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)(intptr_t)scan;
}

/* Up to max records of a batch call (roche_scan_next_batch or
 * roche_follow_next_batch) as a byte[][] of their values, with their
 * offsets in meta[0, n) and times in meta[max, max + n): one JNI call for
 * the batch, the Records built in Java. A value too large for a Java array
 * is a null slot (the Java side throws ETOOBIG when it comes to it, so the
 * records around it are not lost). */
typedef struct {
    uint64_t *offsets, *times;
    const void **data;
    size_t *lens;
} batch_arrays;

/* The arrays for max records, on the heap. 0, or -1 with an exception pending. */
static int batch_alloc(JNIEnv *env, jint max, jlongArray meta, batch_arrays *b) {
    if (max < 1 || (*env)->GetArrayLength(env, meta) < 2 * (jlong)max) {
        throw_code(env, ROCHE_EINVAL);
        return -1;
    }
    size_t n = (size_t)max;
    b->offsets = malloc(sizeof *b->offsets * n);
    b->times = malloc(sizeof *b->times * n);
    b->data = malloc(sizeof *b->data * n);
    b->lens = malloc(sizeof *b->lens * n);
    if (!b->offsets || !b->times || !b->data || !b->lens) {
        free(b->offsets), free(b->times), free(b->data), free(b->lens);
        throw_oom(env);
        return -1;
    }
    return 0;
}

static void batch_free(batch_arrays *b) {
    free(b->offsets), free(b->times), free(b->data), free(b->lens);
}

/* The byte[][] of count records, offsets and times into meta. NULL with an
 * exception pending on failure. */
static jobjectArray batch_to_java(JNIEnv *env, const batch_arrays *b, size_t count, jint max,
                                  jlongArray meta) {
    jobjectArray values = (*env)->NewObjectArray(env, (jsize)count, byte_array_class, NULL);
    if (!values) return NULL;
    for (size_t i = 0; i < count; i++) {
        if (b->lens[i] > INT32_MAX - 8) continue; /* null: ETOOBIG at its turn */
        jbyteArray value = (*env)->NewByteArray(env, (jsize)b->lens[i]);
        if (!value) return NULL;
        if (b->lens[i])
            (*env)->SetByteArrayRegion(env, value, 0, (jsize)b->lens[i], (const jbyte *)b->data[i]);
        (*env)->SetObjectArrayElement(env, values, (jsize)i, value);
        (*env)->DeleteLocalRef(env, value);
    }
    /* jlong and uint64_t share a layout for offsets and times below 2^63. */
    (*env)->SetLongArrayRegion(env, meta, 0, (jsize)count, (const jlong *)b->offsets);
    (*env)->SetLongArrayRegion(env, meta, max, (jsize)count, (const jlong *)b->times);
    return values;
}

JNIEXPORT jobjectArray JNICALL Java_io_roche_Native_scanNextBatch(JNIEnv *env, jclass cls, jlong handle,
                                                                  jint max, jlongArray meta) {
    (void)cls;
    batch_arrays b;
    if (batch_alloc(env, max, meta, &b) < 0) return NULL;
    size_t count = 0;
    int rc = roche_scan_next_batch((roche_scan *)(intptr_t)handle, (size_t)max, b.offsets, b.data, b.lens,
                                   b.times, &count);
    jobjectArray result = NULL;
    if (rc == ROCHE_OK) {
        result = batch_to_java(env, &b, count, max, meta);
    } else if (rc != ROCHE_DONE) {
        throw_code_at(env, rc, rc == ROCHE_ECORRUPT && count ? (jlong)b.offsets[0] : -1);
    }
    batch_free(&b);
    return result;
}

JNIEXPORT void JNICALL Java_io_roche_Native_scanFree(JNIEnv *env, jclass cls, jlong handle) {
    (void)env, (void)cls;
    roche_scan_free((roche_scan *)(intptr_t)handle);
}

JNIEXPORT jbyteArray JNICALL Java_io_roche_Native_namespaces(JNIEnv *env, jclass cls, jlong db) {
    (void)cls;
    char *names = NULL;
    size_t count = 0;
    int rc = roche_namespaces(db_of(db), &names, &count);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    return packed_names(env, names, count);
}

JNIEXPORT void JNICALL Java_io_roche_Native_closeNamespace(JNIEnv *env, jclass cls, jlong db,
                                                           jbyteArray ns) {
    (void)cls;
    on_namespace(env, db, ns, roche_close_namespace);
}

JNIEXPORT void JNICALL Java_io_roche_Native_deleteNamespace(JNIEnv *env, jclass cls, jlong db,
                                                            jbyteArray ns) {
    (void)cls;
    on_namespace(env, db, ns, roche_delete_namespace);
}

JNIEXPORT jlongArray JNICALL Java_io_roche_Native_stat(JNIEnv *env, jclass cls, jlong db,
                                                       jbyteArray ns) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return NULL;
    roche_stat_info info;
    memset(&info, 0, sizeof info);
    info.version = ROCHE_STAT_VERSION;
    int rc = roche_stat(db_of(db), n.ns.data, &info);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    jlong fields[] = {info.buckets, (jlong)info.records, (jlong)info.bytes, (jlong)info.oldest_ns,
                      (jlong)info.newest_ns, (jlong)info.damaged_ranges, (jlong)info.damaged_bytes,
                      (jlong)info.recovered_bytes, (jlong)info.dropped_records, (jlong)info.dropped_bytes};
    jsize count = (jsize)(sizeof fields / sizeof *fields);
    jlongArray result = (*env)->NewLongArray(env, count);
    if (result) (*env)->SetLongArrayRegion(env, result, 0, count, fields);
    return result;
}

/* ------------------------------------------------------------------------
 * Following, cursors, retention
 * ------------------------------------------------------------------------ */

static roche_follow *follow_of(jlong handle) {
    return (roche_follow *)(intptr_t)handle;
}

/* A copy of a Java long[] (offsets: jlong and uint64_t share a layout for
 * offsets below 2^63), never NULL on success. NULL with an exception
 * pending on failure. */
static uint64_t *offsets_copy(JNIEnv *env, jlongArray array, size_t *count) {
    jsize n = array ? (*env)->GetArrayLength(env, array) : 0;
    uint64_t *copy = malloc(sizeof *copy * (size_t)n + 1);
    if (!copy) {
        throw_oom(env);
        return NULL;
    }
    if (n) (*env)->GetLongArrayRegion(env, array, 0, n, (jlong *)copy);
    if ((*env)->ExceptionCheck(env)) {
        free(copy);
        return NULL;
    }
    *count = (size_t)n;
    return copy;
}

/* A new long[] holding offsets[0, count). NULL with an exception pending on failure. */
static jlongArray new_offsets(JNIEnv *env, const uint64_t *offsets, size_t count) {
    if (count > INT32_MAX) {
        throw_code(env, ROCHE_ETOOBIG);
        return NULL;
    }
    jlongArray array = (*env)->NewLongArray(env, (jsize)count);
    if (array && count) (*env)->SetLongArrayRegion(env, array, 0, (jsize)count, (const jlong *)offsets);
    return array;
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_followOpen(JNIEnv *env, jclass cls, jlong db,
                                                        jbyteArray ns, jlongArray from,
                                                        jboolean from_end) {
    (void)cls;
    size_t count = 0;
    uint64_t *positions = offsets_copy(env, from, &count);
    if (!positions) return 0;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) {
        free(positions);
        return 0;
    }
    roche_follow *follow = NULL;
    int rc = roche_follow_open(db_of(db), n.ns.data, positions, count,
                               from_end ? ROCHE_FOLLOW_FROM_END : 0, &follow);
    names_free(&n);
    free(positions);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)(intptr_t)follow;
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_followOpenCursor(JNIEnv *env, jclass cls, jlong db,
                                                              jbyteArray ns, jbyteArray cursor,
                                                              jboolean from_end) {
    (void)cls;
    names n;
    if (names_copy(env, ns, cursor, &n) < 0) return 0;
    roche_follow *follow = NULL;
    int rc = roche_follow_open_cursor(db_of(db), n.ns.data, n.id.data,
                                      from_end ? ROCHE_FOLLOW_FROM_END : 0, &follow);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)(intptr_t)follow;
}

/* Up to max records as scanNextBatch, or NULL with no exception for
 * ROCHE_ETIMEDOUT; waits as roche_follow_next. Every other code is thrown;
 * a damaged or dropped record's offset goes with it. */
JNIEXPORT jobjectArray JNICALL Java_io_roche_Native_followNextBatch(JNIEnv *env, jclass cls, jlong handle,
                                                                    jint timeout_ms, jint max,
                                                                    jlongArray meta) {
    (void)cls;
    batch_arrays b;
    if (batch_alloc(env, max, meta, &b) < 0) return NULL;
    size_t count = 0;
    int rc = roche_follow_next_batch(follow_of(handle), timeout_ms, (size_t)max, b.offsets, b.data, b.lens,
                                     b.times, &count);
    jobjectArray result = NULL;
    if (rc == ROCHE_OK) {
        result = batch_to_java(env, &b, count, max, meta);
    } else if (rc != ROCHE_ETIMEDOUT) {
        int located = (rc == ROCHE_EDROPPED || rc == ROCHE_ECORRUPT) && count;
        throw_code_at(env, rc, located ? (jlong)b.offsets[0] : -1);
    }
    batch_free(&b);
    return result;
}

JNIEXPORT void JNICALL Java_io_roche_Native_followWake(JNIEnv *env, jclass cls, jlong handle) {
    (void)cls;
    int rc = roche_follow_wake(follow_of(handle));
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT jlongArray JNICALL Java_io_roche_Native_followPosition(JNIEnv *env, jclass cls,
                                                                 jlong handle) {
    (void)cls;
    size_t capacity = 0, count = 0;
    uint64_t *offsets = NULL;
    int rc = roche_follow_position(follow_of(handle), NULL, 0, &count);
    /* The namespace may gain buckets between the two calls: ask again. */
    while (rc == ROCHE_OK && count > capacity) {
        free(offsets);
        capacity = count;
        offsets = malloc(sizeof *offsets * capacity);
        if (!offsets) {
            throw_oom(env);
            return NULL;
        }
        rc = roche_follow_position(follow_of(handle), offsets, capacity, &count);
    }
    jlongArray result = NULL;
    if (rc != ROCHE_OK) throw_code(env, rc);
    else result = new_offsets(env, offsets, count);
    free(offsets);
    return result;
}

JNIEXPORT void JNICALL Java_io_roche_Native_followCommit(JNIEnv *env, jclass cls, jlong handle,
                                                         jbyteArray cursor) {
    (void)cls;
    names n;
    if (names_copy(env, NULL, cursor, &n) < 0) return;
    int rc = roche_follow_commit(follow_of(handle), n.id.data);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT void JNICALL Java_io_roche_Native_followFree(JNIEnv *env, jclass cls, jlong handle) {
    (void)env, (void)cls;
    roche_follow_free(follow_of(handle));
}

JNIEXPORT void JNICALL Java_io_roche_Native_cursorCommit(JNIEnv *env, jclass cls, jlong db,
                                                         jbyteArray ns, jbyteArray name,
                                                         jlongArray offsets) {
    (void)cls;
    size_t count = 0;
    uint64_t *positions = offsets_copy(env, offsets, &count);
    if (!positions) return;
    names n;
    if (names_copy(env, ns, name, &n) < 0) {
        free(positions);
        return;
    }
    int rc = roche_cursor_commit(db_of(db), n.ns.data, n.id.data, positions, count);
    names_free(&n);
    free(positions);
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT jlongArray JNICALL Java_io_roche_Native_cursorGet(JNIEnv *env, jclass cls, jlong db,
                                                            jbyteArray ns, jbyteArray name) {
    (void)cls;
    names n;
    if (names_copy(env, ns, name, &n) < 0) return NULL;
    uint64_t *offsets = NULL;
    size_t count = 0;
    int rc = roche_cursor_get(db_of(db), n.ns.data, n.id.data, &offsets, &count);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    jlongArray result = new_offsets(env, offsets, count);
    roche_free(offsets);
    return result;
}

JNIEXPORT jbyteArray JNICALL Java_io_roche_Native_cursorList(JNIEnv *env, jclass cls, jlong db,
                                                             jbyteArray ns) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return NULL;
    char *list = NULL;
    size_t count = 0;
    int rc = roche_cursor_list(db_of(db), n.ns.data, &list, &count);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    return packed_names(env, list, count);
}

JNIEXPORT void JNICALL Java_io_roche_Native_cursorDelete(JNIEnv *env, jclass cls, jlong db,
                                                         jbyteArray ns, jbyteArray name) {
    (void)cls;
    names n;
    if (names_copy(env, ns, name, &n) < 0) return;
    int rc = roche_cursor_delete(db_of(db), n.ns.data, n.id.data);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
}

JNIEXPORT jlong JNICALL Java_io_roche_Native_retain(JNIEnv *env, jclass cls, jlong db,
                                                    jbyteArray ns, jlong older_than_ns,
                                                    jlong max_bytes) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return 0;
    uint64_t freed = 0;
    int rc = roche_retain(db_of(db), n.ns.data, (uint64_t)older_than_ns, (uint64_t)max_bytes, &freed);
    names_free(&n);
    if (rc != ROCHE_OK) throw_code(env, rc);
    return (jlong)freed;
}

JNIEXPORT jlongArray JNICALL Java_io_roche_Native_bucketRange(JNIEnv *env, jclass cls, jlong db,
                                                              jbyteArray ns, jint bucket) {
    (void)cls;
    names n;
    if (names_copy(env, ns, NULL, &n) < 0) return NULL;
    uint64_t range[2] = {0, 0};
    int rc = roche_bucket_range(db_of(db), n.ns.data, (uint32_t)bucket, &range[0], &range[1]);
    names_free(&n);
    if (rc != ROCHE_OK) {
        throw_code(env, rc);
        return NULL;
    }
    return new_offsets(env, range, 2);
}
