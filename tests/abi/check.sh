#!/usr/bin/env bash
# Compares the ABI of a freshly built libroche.so with the baseline of the
# last release (the newest tests/abi/libroche-X.Y.Z.abi), with libabigail's
# abidiff, counting only the types of include/roche.h: the library is
# written out as the baseline was (abidw --headers-dir, public types only)
# and the two are compared. (abidiff --headers-dir2 on the library itself
# would also filter out a parameter changed from one <stdint.h> type to
# another, as a change of types outside the public headers.)
#
#   tests/abi/check.sh BUILD_DIR
#
# Passes on no change and on added functions (a minor release). Fails on
# any other change (a function removed, moved to another version node, its
# signature or a public struct changed) unless the SONAME changed too (a
# major release), minus the changes tests/abi/suppressions.abignore allows.
# BUILD_DIR needs debug info (the default RelWithDebInfo, or Debug).
# The policy: doc/ABI.md.
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
build=$1
command -v abidiff > /dev/null || { echo "FAIL: abidiff not found (apt-get install abigail-tools)"; exit 1; }
baseline=$(ls "$here"/libroche-*.abi 2> /dev/null | sort -V | tail -1)
[ -n "$baseline" ] || { echo "FAIL: no baseline libroche-*.abi in $here"; exit 1; }
lib=$(readlink -f "$build/libroche/libroche.so" || true)
[ -f "$lib" ] || { echo "FAIL: no libroche/libroche.so.X.Y.Z under $build (build target roche first)"; exit 1; }
# The header of the tree that was built (the self-test builds altered copies).
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$build/CMakeCache.txt" 2> /dev/null)
[ -f "$src/include/roche.h" ] || { echo "FAIL: no include/roche.h beside $build's sources ('$src')"; exit 1; }

old_soname=$(sed -n "1s/.* soname='\([^']*\)'.*/\1/p" "$baseline")
new_soname=$(readelf -d "$lib" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
base=$(basename "$baseline")
echo "abi: $base ($old_soname) against $lib ($new_soname)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! readelf -S "$lib" | grep -q '\.debug_info'; then
  echo "FAIL: $lib has no debug info; configure with -DCMAKE_BUILD_TYPE=RelWithDebInfo (the default) or Debug"
  exit 1
fi
# The same options as tests/abi/make-baseline.sh.
abidw --headers-dir "$src/include" --drop-private-types --no-corpus-path \
  --no-comp-dir-path --short-locs --exported-interfaces-only --out-file "$work/new.abi" "$lib" ||
  { echo "FAIL: abidw could not read $lib"; exit 1; }
report=$work/report
diff_args=(--suppressions "$here/suppressions.abignore" --no-show-locs)
# The verdict ignores added functions; the report shows them.
abidiff "${diff_args[@]}" --no-added-syms "$baseline" "$work/new.abi" > "$report" 2>&1
status=$?
if [ $((status & 3)) -ne 0 ]; then
  cat "$report"
  echo "FAIL: abidiff could not compare (status $status)"
  exit 1
fi
abidiff "${diff_args[@]}" "$baseline" "$work/new.abi" | sed -n '/^Functions changes summary/p;/^Variables changes summary/p;/\[A\]/p'
if [ "$status" -eq 0 ]; then
  echo "abi: compatible with $base (nothing removed or changed)"
  exit 0
fi
cat "$report"
if [ "$old_soname" != "$new_soname" ]; then
  echo "abi: incompatible with $base, allowed: the SONAME changed ($old_soname -> $new_soname); write the new baseline at the release (doc/ABI.md)"
  exit 0
fi
echo "FAIL: the ABI of $new_soname changed incompatibly since $base (abidiff status $status)."
echo "      Keep the old signature (add a new function to the next node of libroche/roche.map),"
echo "      or make it a major release: see doc/ABI.md."
exit 1
