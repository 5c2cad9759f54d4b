#!/bin/bash
# A mixed fleet on one data directory: rochefort v0.5 itself and libroche in
# rochefort's format (roche --store-format rochefort, roche serve --format
# rochefort) take turns on a copy of the fixture rochefort v0.5 wrote, each
# reading every record the others appended at the offset they answered,
# then `roche import` converts the result.
#   rochefort_fleet.sh PATH-TO-roche
# Needs a rochefort v0.5 binary in $ROCHEFORT_BIN (built from its v0.5 tag
# as cli/tests/fixtures/rochefort-v0.5/README.md says; its code is not in
# this repository); skipped (exit 77) without one.
set -euo pipefail
ROCHE=$(readlink -f "$1")
skip() { echo "skipped: $*"; exit 77; }
rf=${ROCHEFORT_BIN:-}
[ -n "$rf" ] || skip "ROCHEFORT_BIN is not set (a rochefort v0.5 binary)"
[ -x "$rf" ] || skip "ROCHEFORT_BIN ($rf) is not executable"
fixture=$(cd "$(dirname "$0")/../../cli/tests/fixtures/rochefort-v0.5" && pwd)
work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
data=$work/data
cp -r "$fixture/data" "$data"
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port

# The records every side must read: namespace, offset, value file.
: > "$work/expect"
n=0
grep -v '^#' "$fixture/manifest.tsv" | while IFS=$'\t' read -r ns offset length file; do
    printf '%s\t%s\t%s\n' "$ns" "$offset" "$fixture/values/$file" >> "$work/expect"
done
# remember NS OFFSET VALUE: one more record to read back everywhere.
remember() {
    n=$((n + 1))
    printf '%s' "$3" > "$work/v$n"
    printf '%s\t%s\t%s\n' "$1" "$2" "$work/v$n" >> "$work/expect"
}
offset_of() { sed -n 's/.*"offset":\([0-9]*\),.*/\1/p' "$1"; }

# Reads every remembered record through rochefort's or roche serve's /get.
check_http() {
    while IFS=$'\t' read -r ns offset file; do
        curl -sf "$url/get?namespace=$ns&offset=$offset" > "$work/got" || fail "$1: get $ns $offset"
        cmp -s "$work/got" "$file" || fail "$1: $ns $offset is not its value"
    done < "$work/expect"
    # and rochefort's scan framing lists each of them once
    for ns in default events; do
        curl -sf "$url/scan?namespace=$ns" > "$work/scan.$ns"
        want=$(awk -F'\t' -v ns="$ns" '$1 == ns' "$work/expect" | wc -l)
        got=$(/usr/bin/python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read(); i = n = 0
while i < len(d):
    l, = struct.unpack_from("<I", d, i); i += 12 + l; n += 1
print(n)' "$work/scan.$ns")
        [ "$got" = "$want" ] || fail "$1: scan of $ns lists $got records, not $want"
    done
}
check_cli() {
    while IFS=$'\t' read -r ns offset file; do
        "$ROCHE" --root "$data" "$@" --ns "$ns" get "$offset" > "$work/got" || fail "roche $*: get $ns $offset"
        cmp -s "$work/got" "$file" || fail "roche $*: $ns $offset is not its value"
    done < "$work/expect"
}
wait_up() {
    for _ in $(seq 100); do
        curl -s -o /dev/null "$url/get?offset=0" && return 0
        kill -0 "$pid" 2>/dev/null || fail "$1 exited"
        sleep 0.05
    done
    fail "$1 did not start"
}
start_rochefort() {
    "$rf" -root "$data" -bind "127.0.0.1:$port" -buckets 8 > "$work/rf.log" 2>&1 &
    pid=$!
    wait_up rochefort
}
start_roche_serve() {
    "$ROCHE" serve --root "$data" --bind "127.0.0.1:$port" --buckets 8 --format rochefort 2> "$work/serve.log" &
    pid=$!
    wait_up "roche serve"
}
stop() {
    kill -TERM "$pid"
    wait "$pid" || fail "exit status $? after SIGTERM"
    pid=
}

# 1. roche, in rochefort's format, appends to rochefort's directory.
for id in a b big z; do
    printf 'roche one %s' "$id" > "$work/val"
    off=$("$ROCHE" --root "$data" --store-format rochefort --ns events append --id "$id" --file "$work/val")
    remember events "$off" "roche one $id"
done
check_cli --store-format rochefort

# 2. rochefort reads it all, and appends.
start_rochefort
check_http rochefort
for id in a b c big z q ""; do
    curl -sf -XPOST --data-binary "rochefort two $id" "$url/append?namespace=events&id=$id" > "$work/ans"
    remember events "$(offset_of "$work/ans")" "rochefort two $id"
    curl -sf -XPOST --data-binary "rochefort two $id" "$url/append?namespace=default&id=$id" > "$work/ans"
    remember default "$(offset_of "$work/ans")" "rochefort two $id"
done
stop

# 3. roche serve, in rochefort's format, picks rochefort's appends up and
#    appends (to the same buckets rochefort would have).
start_roche_serve
check_http "roche serve"
for id in a b c big z q ""; do
    curl -sf -XPOST --data-binary "roche three $id" "$url/append?namespace=events&id=$id" > "$work/ans"
    remember events "$(offset_of "$work/ans")" "roche three $id"
done
stop
"$ROCHE" --root "$data" --store-format rochefort verify > "$work/verify" || fail "verify: $(cat "$work/verify")"
grep -q "; 0 damaged ranges" "$work/verify" || fail "verify: $(cat "$work/verify")"

# 4. rochefort again: everything, its own records and both of roche's.
start_rochefort
check_http "rochefort again"
curl -sf -XPOST --data-binary "rochefort four" "$url/append?namespace=events&id=big" > "$work/ans"
remember events "$(offset_of "$work/ans")" "rochefort four"
stop

# 5. The default format refuses the directory; import converts it, and
#    every offset any of them answered reads back.
"$ROCHE" --root "$data" --ns events get 0 > /dev/null 2> "$work/err" && fail "the default format read it"
grep -q "ROCHE_FORMAT_ROCHEFORT" "$work/err" || fail "no hint: $(cat "$work/err")"
"$ROCHE" import --from-rochefort "$data" > "$work/import" || fail "import: $(cat "$work/import")"
check_cli
echo "rochefort fleet: $(wc -l < "$work/expect") records read back by rochefort v0.5, roche and roche serve, then imported"
