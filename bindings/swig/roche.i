/*
 * roche.i - the SWIG interface behind the measurement that chose the Java
 * glue (see README.md here and bindings/java/README.md).
 *
 * It wraps the hot paths only (open, close, append, get) with SWIG's own
 * typemaps wherever SWIG has one, so the generated JNI code is what a user
 * of SWIG would get. It is not a second Java API: the product's binding is
 * the hand-written one in bindings/java.
 */
%module RocheSwig

%{
#include "roche.h"
%}

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
