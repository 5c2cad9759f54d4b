#!/usr/bin/env bash
# Writes the ABI baseline of a release: builds libroche (the library only,
# with debug info) from a commit of this repository in a temporary
# directory and records its public ABI with libabigail's abidw.
#
#   tests/abi/make-baseline.sh COMMIT OUT.abi [--map FILE]
#
# --map replaces the commit's libroche/roche.map by FILE before the build
# (used once, for 0.1.0: see README.md in this folder). The working tree is
# never touched. At a release: make-baseline.sh vX.Y.Z tests/abi/libroche-X.Y.Z.abi
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 COMMIT OUT.abi [--map FILE]" >&2; exit 2; }
commit=$1
out=$(realpath -m "$2")
map=
if [ "${3:-}" = --map ]; then map=$(realpath "$4"); fi
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/src"
git -C "$repo" archive --format=tar "$commit" | tar -x -C "$work/src"
[ -z "$map" ] || cp "$map" "$work/src/libroche/roche.map"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DROCHE_BUILD_TESTS=OFF -DBUILD_TESTING=OFF -DROCHE_BUILD_EXAMPLES=OFF -DROCHE_BUILD_CLI=OFF \
  -DROCHE_BUILD_SERVER=OFF -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF \
  -DROCHE_BUILD_PYTHON=OFF > "$work/configure.log"
cmake --build "$work/build" -j2 --target roche > "$work/build.log"
lib=$(find "$work/build" -name 'libroche.so.*.*.*' | head -1)
# The exported functions and the public types they reach (defined in
# include/), no build paths, so the
# file depends on the sources alone.
abidw --headers-dir "$work/src/include" --drop-private-types --no-corpus-path \
  --no-comp-dir-path --short-locs --exported-interfaces-only --out-file "$out" "$lib"
echo "wrote $out: $(git -C "$repo" rev-parse --short "$commit"), $(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p'), $(grep -c '<elf-symbol name=.roche_' "$out") roche_* symbols"
