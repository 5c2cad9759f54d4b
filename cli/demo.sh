#!/usr/bin/env bash
# The roche tool in a pipeline, on a scratch store: lines in, offsets out,
# values back, then the store inspected. Each command is echoed before it runs.
set -euo pipefail
roche() { "$ROCHE_BIN" "$@"; }
ROCHE_BIN=$(readlink -f "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export ROCHE_ROOT="$work/store"

show() {
    echo "\$ $*"
    eval "$@"
}

show "printf 'a\\nb\\n' | roche append --lines | tee offsets"
show "roche get \$(cat offsets); echo"
show "printf 'hello\\0world\\0' | roche append --null --id greeting --ns demo"
show "roche scan --format tsv"
show "roche multiget --format jsonl --encoding base64 < offsets"
show "roche stat --ns default"
show "roche verify"
