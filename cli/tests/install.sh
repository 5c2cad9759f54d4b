#!/usr/bin/env bash
# cmake --install puts roche in bin/, next to the library in lib/, and the
# installed tool finds that library wherever the prefix is.
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
tool="$work/prefix/bin/roche"
[ -x "$tool" ] || { echo "FAIL: no bin/roche installed"; exit 1; }
lib=$(ldd "$tool" | awk '/libroche\.so/ {print $3}')
case "$lib" in
    "$work/prefix/"*) ;;
    *) echo "FAIL: the installed roche loads libroche from '$lib', not the prefix"; exit 1 ;;
esac
offsets=$(printf 'x\ny\n' | "$tool" --root "$work/store" append --lines)
got=$("$tool" --root "$work/store" get $offsets)
[ "$got" = xy ] || { echo "FAIL: installed roche round trip gave '$got'"; exit 1; }
echo "install.sh: bin/roche installed, loads $(basename "$lib") from the prefix, round trip ok"
