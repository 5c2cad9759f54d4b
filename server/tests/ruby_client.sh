#!/bin/bash
# rochefort v0.5's own Ruby client test suite (clients/ruby: rest-client and
# minitest, Debian ruby-rest-client ruby-minitest) against roche-serve.
# rochefort's code is not part of this repository: point ROCHEFORT_SRC at a
# clone of https://github.com/jackdoe/rochefort; without it the test is
# skipped (exit 77).   ruby_client.sh PATH-TO-roche-serve
set -euo pipefail
SERVE=$(readlink -f "$1")
src=${ROCHEFORT_SRC:-}
if [ -z "$src" ] || ! git -C "$src" rev-parse --verify -q v0.5 >/dev/null 2>&1; then
    echo "ROCHEFORT_SRC is not a rochefort clone with tag v0.5: skipped"
    exit 77
fi
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/lib" "$work/test"
git -C "$src" show v0.5:clients/ruby/lib/rochefort.rb > "$work/lib/rochefort.rb"
git -C "$src" show v0.5:clients/ruby/test/test_rochefort.rb > "$work/test/test_rochefort.rb"
"$SERVE" --root "$work/store" --bind 127.0.0.1:0 2> "$work/log" &
pid=$!
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$work/log")
    [ -n "$port" ] && break
    sleep 0.05
done
[ -n "$port" ] || { cat "$work/log"; exit 1; }
ROCHEFORT_TEST="http://127.0.0.1:$port/" ruby -I"$work/lib" "$work/test/test_rochefort.rb"
kill -TERM "$pid"
wait "$pid"
pid=
