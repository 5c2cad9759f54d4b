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
    : > "$log"  # before the background job opens it: sed below may run first
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

# --format rochefort: rochefort v0.5's own data directory served as it is
# (no import): every offset it answered reads its value, ids (and no id,
# as "") go to rochefort's buckets, rochefort's scan framing lists them;
# the default format refuses the directory with a 500 and changes nothing.
fixture=$(cd "$(dirname "$0")/../../cli/tests/fixtures/rochefort-v0.5" && pwd)
cp -r "$fixture/data" "$work/rf"
sums() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum); }
sums "$work/rf" > "$work/rf.before"
start "$work/log4" serve --root "$work/rf" --bind 127.0.0.1:0
code=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port/get?namespace=events&offset=0")
[ "$code" = 500 ] && grep -q "ROCHE_FORMAT_ROCHEFORT" "$work/body" || fail "default format on rochefort's files: $code $(cat "$work/body")"
code=$(curl -s -o "$work/body" -w '%{http_code}' -XPOST --data-binary x "http://127.0.0.1:$port/append?namespace=events&id=a")
[ "$code" = 500 ] || fail "default format append on rochefort's files: $code"
kill -TERM "$pid"; wait "$pid" || fail "exit"
sums "$work/rf" | cmp -s - "$work/rf.before" || fail "the refused open changed the files"
start "$work/log5" serve --root "$work/rf" --bind 127.0.0.1:0 --format rochefort
while IFS=$'\t' read -r ns offset length file; do
    curl -sf "http://127.0.0.1:$port/get?namespace=$ns&offset=$offset" > "$work/got" || fail "get $ns $offset"
    cmp -s "$work/got" "$fixture/values/$file" || fail "$ns $offset: not rochefort's value"
done < <(grep -v '^#' "$fixture/manifest.tsv")
# ids a and big go to bucket 3 of 8, b and z to bucket 0 (as rochefort put them)
for id in a:3 big:3 b:0 z:0; do
    curl -sf -XPOST --data-binary "again ${id%:*}" "http://127.0.0.1:$port/append?namespace=events&id=${id%:*}" > "$work/ans"
    grep -q "\"file\":\"events/append.${id#*:}.raw\"" "$work/ans" || fail "id ${id%:*}: $(cat "$work/ans")"
done
noid=$(curl -sf -XPOST --data-binary "no id" "http://127.0.0.1:$port/append?namespace=events")
noid2=$(curl -sf -XPOST --data-binary "no id 2" "http://127.0.0.1:$port/append?namespace=events&id=")
[ "${noid#*\"file\"}" = "${noid2#*\"file\"}" ] || fail "no id and id= went to different buckets: $noid $noid2"
curl -sf "http://127.0.0.1:$port/scan?namespace=events" > "$work/scan"
[ "$(wc -c < "$work/scan")" = $((3 * 12 + 16 + 102400 + 1 + 4 * 12 + 7 + 9 + 7 + 7 + 2 * 12 + 5 + 7)) ] ||
    fail "scan: $(wc -c < "$work/scan") bytes"
kill -TERM "$pid"; wait "$pid" || fail "exit"
code=0; "$ROCHE" serve --format bogus 2> "$work/err" || code=$?
[ $code = 2 ] || fail "--format bogus: exit $code"

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
