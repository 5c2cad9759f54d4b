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

# Exported: roche_* functions, each under a version node of roche.map
# (ROCHE_0.1, ROCHE_0.2, ...), and the nodes themselves.
exported=$(nm -D --defined-only "$lib" | awk '{print $3}')
leaked=$(echo "$exported" | grep -Ev '^roche_[a-z0-9_]+@@?ROCHE_[0-9]+\.[0-9]+$|^ROCHE_[0-9]+\.[0-9]+$' || true)
[ -z "$leaked" ] || { echo "FAIL: symbols other than versioned roche_* exported:"; echo "$leaked"; exit 1; }
echo "$exported" | grep -qx 'roche_open@@ROCHE_0.1' || { echo "FAIL: roche_open is not in node ROCHE_0.1"; exit 1; }
nodes=$(echo "$exported" | grep -E '^ROCHE_[0-9]+\.[0-9]+$' | sort -V | tr '\n' ' ')
# Every function roche.h declares is exported (one missing from roche.map
# would be hidden), and nothing else.
header=$(find "$work/prefix" -name roche.h | head -1)
declared=$(sed -n 's/^ROCHE_API [^(]*[ *]\(roche_[a-z0-9_]*\)(.*/\1/p' "$header" | sort)
defined=$(echo "$exported" | sed -n 's/^\(roche_[a-z0-9_]*\)@.*/\1/p' | sort)
if [ "$declared" != "$defined" ]; then
  echo "FAIL: roche.h and the exported symbols differ (< only declared, > only exported):"
  diff <(echo "$declared") <(echo "$defined") || true
  exit 1
fi

pcdir=$(dirname "$(find "$work/prefix" -name roche.pc)")
cc -Wall -Werror -o "$work/pc_consumer" "$src/consumer/main.c" \
   $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs roche) -Wl,-rpath,"$(dirname "$lib")"
"$work/pc_consumer" "$work/store-pc"

cmake -S "$src/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" > /dev/null
cmake --build "$work/consumer" > /dev/null
"$work/consumer/consumer" "$work/store-shared"
"$work/consumer/consumer_static" "$work/store-static"
echo "packaging: SONAME $soname, the $(echo "$declared" | wc -l) functions of roche.h exported under ${nodes}and nothing else, pkg-config and find_package consumers ran"
