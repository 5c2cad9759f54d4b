package io.roche;

/**
 * A bad argument: a namespace, id or cursor name libroche refuses (".",
 * "..", a '/', a leading '.', too long), a name Java cannot pass as it is
 * (a NUL character, a lone surrogate), a bucket count, bucket number,
 * duration, size or sync period out of range, a direct buffer's bounds.
 * Thrown for every such argument, whether the binding or libroche finds it
 * bad; {@link #code()} is {@link RocheException#EINVAL}. Nulls are
 * NullPointerException and an array slice out of its array's bounds is
 * IndexOutOfBoundsException, as everywhere in the JDK.
 */
public class InvalidArgumentException extends RocheException {
    private static final long serialVersionUID = 1L;

    InvalidArgumentException(String message) {
        super(RocheException.EINVAL, message);
    }
}
