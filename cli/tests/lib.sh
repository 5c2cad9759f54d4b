# Sourced by the cli tests: the tool under test, a scratch directory per
# test, and assertions that say what failed.
set -euo pipefail

ROCHE=${1:-${ROCHE:-}}
[ -x "$ROCHE" ] || { echo "usage: $0 PATH-TO-roche (or ROCHE=...)"; exit 2; }
ROCHE=$(readlink -f "$ROCHE")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export ROCHE_ROOT="$work/store"
checks=0

fail() {
    echo "FAIL: $*" >&2
    [ -s "$work/err" ] && { echo "--- stderr of the last command:" >&2; cat "$work/err" >&2; }
    exit 1
}

pass() { checks=$((checks + 1)); }

# run CODE ARGS...: runs roche with stdin passed through, stdout to
# $work/out and stderr to $work/err, and checks its exit status.
run() {
    local want=$1 got=0
    shift
    "$ROCHE" "$@" > "$work/out" 2> "$work/err" || got=$?
    [ "$got" = "$want" ] || fail "roche $* exited $got, expected $want"
    pass
}

# expect_out FILE-OR-STRING: the last command's stdout, byte for byte.
expect_out() {
    printf '%s' "$1" > "$work/want"
    cmp -s "$work/want" "$work/out" || {
        echo "--- expected:"; od -c "$work/want" | head -20
        echo "--- got:"; od -c "$work/out" | head -20
        fail "unexpected output"
    }
    pass
}

expect_out_file() {
    cmp -s "$1" "$work/out" || fail "output differs from $1"
    pass
}

# expect_err TEXT: the last command's stderr contains TEXT.
expect_err() {
    grep -qF -- "$1" "$work/err" || fail "stderr lacks '$1'"
    pass
}

expect_no_out() {
    [ ! -s "$work/out" ] || fail "expected no output, got: $(head -c 200 "$work/out")"
    pass
}

# A failure is one line, "roche: <message>", never a crash (status > 2).
expect_clean_failure() {
    head -1 "$work/err" | grep -q '^roche: ' || fail "stderr does not start with 'roche: '"
    pass
}

done_checks() { echo "$(basename "$0"): $checks checks passed"; }

# le32 N / le64 N: the integer as little-endian bytes, as printf escapes.
le() {
    local n=$1 bytes=$2 i out=""
    for ((i = 0; i < bytes; i++)); do
        out+=$(printf '\\%03o' $(((n >> (8 * i)) & 255)))
    done
    printf '%s' "$out"
}
le32() { le "$1" 4; }
le64() { le "$1" 8; }

# usage_error TEXT ARGS...: status 2, TEXT and the usage on stderr, no output.
usage_error() {
    local text=$1
    shift
    run 2 "$@" < /dev/null
    expect_err "roche: $text"
    expect_err "usage: roche"
    expect_no_out
}
