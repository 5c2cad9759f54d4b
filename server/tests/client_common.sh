# Sourced by the scripts that run one of rochefort v0.5's own client suites
# against roche-serve (js_client.sh, java_client.sh). rochefort's code is not
# part of this repository: ROCHEFORT_SRC names a clone of
# https://github.com/jackdoe/rochefort with its tag v0.5; without it the test
# is skipped (exit 77). The client's files are copied from the tag into a
# temporary directory and run there unmodified.
#   needs ROCHEFORT_SRC; sets SERVE, work; start_serve BIND sets port and pid.
set -euo pipefail
SERVE=$(readlink -f "$1")
skip() { echo "skipped: $*"; exit 77; }
src=${ROCHEFORT_SRC:-}
if [ -z "$src" ]; then
    skip "ROCHEFORT_SRC is not set (a clone of https://github.com/jackdoe/rochefort)"
fi
git -C "$src" rev-parse --verify -q 'v0.5^{commit}' >/dev/null 2>&1 ||
    skip "ROCHEFORT_SRC ($src) is not a rochefort clone with tag v0.5"
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
# copy_client DIR: rochefort v0.5's clients/DIR into $work/DIR.
copy_client() {
    git -C "$src" archive v0.5 "clients/$1" | tar -x -C "$work"
    mv "$work/clients/$1" "$work/$1"
}
# start_serve BIND: roche-serve on a fresh store; sets pid and port.
start_serve() {
    : > "$work/log"
    "$SERVE" --root "$work/store" --bind "$1" 2> "$work/log" &
    pid=$!
    port=
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$work/log")
        [ -n "$port" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$port" ] || { cat "$work/log"; exit 1; }
}
# stop_serve: SIGTERM, which must exit 0.
stop_serve() {
    kill -TERM "$pid"
    wait "$pid"
    pid=
}
