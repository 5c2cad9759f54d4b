#!/usr/bin/env bash
# Installs the build into a scratch prefix and checks it as a user would:
# SONAME, exported symbols, pkg-config, and find_package(roche).
set -euo pipefail
build=$1
src=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" > /dev/null
lib=$(find "$work/prefix" -name 'libroche.so.*.*.*' | head -1)
[ -n "$lib" ] || { echo "FAIL: no libroche.so.X.Y.Z installed"; exit 1; }

soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = libroche.so.0 ] || { echo "FAIL: SONAME is '$soname'"; exit 1; }

leaked=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^roche_' | grep -v '^ROCHE_0$' || true)
[ -z "$leaked" ] || { echo "FAIL: symbols other than roche_* exported:"; echo "$leaked"; exit 1; }

pcdir=$(dirname "$(find "$work/prefix" -name roche.pc)")
cc -Wall -Werror -o "$work/pc_consumer" "$src/consumer/main.c" \
   $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs roche) -Wl,-rpath,"$(dirname "$lib")"
"$work/pc_consumer" "$work/store-pc"

cmake -S "$src/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
"$work/consumer/consumer" "$work/store-shared"
"$work/consumer/consumer_static" "$work/store-static"
echo "packaging: SONAME $soname, only roche_* exported, pkg-config and find_package consumers ran"
