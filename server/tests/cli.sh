#!/bin/bash
# `roche serve`: the roche tool runs roche-serve with its arguments;
# rochefort's flag spellings, the default bind, usage errors, SIGTERM.
#   cli.sh PATH-TO-roche
set -euo pipefail
ROCHE=$(readlink -f "$1")
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -s "$work/err" ] && cat "$work/err" >&2; exit 1; }

# start LOG ARGS...: runs roche ARGS in the background, waits for its
# listening line and sets $pid and $port.
start() {
    local log=$1
    shift
    "$ROCHE" "$@" 2> "$log" &
    pid=$!
    pids+=("$pid")
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "roche $* exited: $(cat "$log")"
        sleep 0.05
    done
    fail "roche $* did not start: $(cat "$log")"
}

# Help and usage errors.
"$ROCHE" serve --help > "$work/out" || fail "serve --help"
grep -q -- "--bind" "$work/out" || fail "serve --help has no --bind"
"$ROCHE" --help | grep -q "serve" || fail "roche --help lists no serve"
code=0; "$ROCHE" serve --bogus 2> "$work/err" || code=$?
[ $code = 2 ] || fail "unknown option: exit $code, not 2"
grep -q "unknown option '--bogus'" "$work/err" || fail "unknown option message"
code=0; "$ROCHE" serve --buckets 0 2> "$work/err" || code=$?
[ $code = 2 ] || fail "--buckets 0: exit $code"
code=0; "$ROCHE" serve --bind 127.0.0.1:99999 2> "$work/err" || code=$?
[ $code = 2 ] || fail "bad port: exit $code"
code=0; ROCHE_SERVE=$work/missing "$ROCHE" serve 2> "$work/err" || code=$?
[ $code = 1 ] && grep -q "cannot run" "$work/err" || fail "missing roche-serve: exit $code"

# rochefort's spellings: -root, -bind, -buckets.
start "$work/log1" serve -root "$work/store" -bind 127.0.0.1:0 -buckets 3
for i in $(seq 40); do
    curl -sf -XPOST --data-binary "v$i" "http://127.0.0.1:$port/append?id=id$i" >> "$work/appends"
    echo >> "$work/appends"
done
buckets=$(sed 's/.*"file":"default\/append\.\([0-9]*\)\.raw".*/\1/' "$work/appends" | sort -u | tr '\n' ' ')
[ "$buckets" = "0 1 2 " ] || fail "-buckets 3: files in buckets '$buckets'"
off=$(sed -n '7s/.*"offset":\([0-9]*\),.*/\1/p' "$work/appends")
[ "$(curl -sf "http://127.0.0.1:$port/get?offset=$off")" = v7 ] || fail "get"
kill -TERM "$pid"
code=0; wait "$pid" || code=$?
[ $code = 0 ] || fail "SIGTERM: exit $code"
grep -q "stopped" "$work/log1" || fail "no 'stopped' line"

# Global options before the command pass through; the store is the same.
start "$work/log2" --root "$work/store" serve --bind 127.0.0.1:0
[ "$(curl -sf "http://127.0.0.1:$port/get?offset=$off")" = v7 ] || fail "get after restart"
# A second writer on the same store is refused.
code=0; "$ROCHE" serve --root "$work/store" --bind 127.0.0.1:0 2> "$work/err" || code=$?
[ $code = 1 ] && grep -q locked "$work/err" || fail "second writer: exit $code"
kill -INT "$pid"
code=0; wait "$pid" || code=$?
[ $code = 0 ] || fail "SIGINT: exit $code"

# The default bind is 127.0.0.1:8000 (when that port is free here).
if ! (exec 3<>/dev/tcp/127.0.0.1/8000) 2>/dev/null; then
    start "$work/log3" serve --root "$work/store"
    grep -q "listening on http://127.0.0.1:8000 " "$work/log3" || fail "default bind: $(cat "$work/log3")"
    kill -TERM "$pid"
    wait "$pid" || fail "default bind: exit"
else
    echo "port 8000 busy: default bind not checked"
fi
echo "serve cli tests passed"
