#!/usr/bin/env bash
# Tests tests/abi/check.sh itself: builds libroche from a copy of the
# committed tree (git archive HEAD) in a temporary directory, alters the
# copy in ways that break or keep the ABI, and asserts what check.sh says
# of each. The product's sources are never touched.
#
#   tests/abi/selftest.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pristine"
git -C "$repo" archive --format=tar HEAD | tar -x -C "$work/pristine"
# Debug (-O0 -g) builds faster and has the same ABI.
cp -a "$work/pristine" "$work/src"
cmake -S "$work/src" -B "$work/build" -DCMAKE_BUILD_TYPE=Debug \
  -DROCHE_BUILD_TESTS=OFF -DBUILD_TESTING=OFF -DROCHE_BUILD_EXAMPLES=OFF -DROCHE_BUILD_CLI=OFF \
  -DROCHE_BUILD_SERVER=OFF -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF \
  -DROCHE_BUILD_PYTHON=OFF > "$work/configure.log"

failures=0
edited=
# variant NAME EXPECT(pass|fail) EDIT...: restore the pristine copy, apply
# the edits (each: FILE PYTHON-EXPRESSION over s, which must change s),
# rebuild libroche, run check.sh and compare its verdict with EXPECT.
variant() {
  local name=$1 expect=$2
  shift 2
  # Undo the last variant's edits; a plain cp gives the restored files a new
  # time, so make rebuilds what they feed.
  local f
  for f in $edited; do cp "$work/pristine/$f" "$work/src/$f"; done
  edited=
  while [ $# -gt 0 ]; do
    edited="$edited $1"
    python3 - "$work/src/$1" "$2" <<'PY'
import sys
path, expr = sys.argv[1], sys.argv[2]
s = open(path).read()
t = eval(expr, {"s": s})
if t == s:
    sys.exit(f"selftest: the edit {expr!r} changed nothing in {path}")
open(path, "w").write(t)
PY
    shift 2
  done
  # Configure again: CMake reads the version (and so the SONAME) from roche.h.
  if ! { cmake "$work/build" && cmake --build "$work/build" -j2 --target roche; } > "$work/build.log" 2>&1; then
    tail -20 "$work/build.log"
    echo "FAIL: variant '$name' did not build"
    failures=$((failures + 1))
    return
  fi
  local got=pass
  bash "$here/check.sh" "$work/build" > "$work/check.log" 2>&1 || got=fail
  if [ "$got" = "$expect" ]; then
    echo "ok: $name: check.sh says $got ($(grep -m1 -E '^(abi: (compatible|incompatible)|FAIL)' "$work/check.log"))"
  else
    cat "$work/check.log"
    echo "FAIL: $name: check.sh says $got, expected $expect"
    failures=$((failures + 1))
  fi
}

H=include/roche.h
C=libroche/c_api.cc
M=libroche/roche.map
variant "unchanged tree" pass
variant "a 0.1 function moved to node ROCHE_0.2" fail \
  $M "s.replace('    roche_sync;\n', '', 1).replace('    roche_view_release;\n', '    roche_view_release;\n    roche_sync;\n', 1)"
variant "a 0.1 function no longer exported" fail \
  $M "s.replace('    roche_sync;\n', '', 1)"
variant "a function added in node ROCHE_0.2" pass \
  $H "s.replace('ROCHE_API int roche_version_number(void);', 'ROCHE_API int roche_version_number(void);\nROCHE_API int roche_abi_selftest(void);', 1)" \
  $C "s.replace('int roche_version_number(void) {', 'int roche_abi_selftest(void) { return 1; }\nint roche_version_number(void) {', 1)" \
  $M "s.replace('    roche_view_release;\n', '    roche_view_release;\n    roche_abi_selftest;\n', 1)"
variant "a parameter of roche_options_set_buckets widened to 64 bits" fail \
  $H "s.replace('roche_options_set_buckets(roche_options *opts, uint32_t buckets)', 'roche_options_set_buckets(roche_options *opts, uint64_t buckets)', 1)" \
  $C "s.replace('roche_options_set_buckets(roche_options *opts, uint32_t buckets)', 'roche_options_set_buckets(roche_options *opts, uint64_t buckets)', 1)"
variant "a field inserted in the middle of roche_stat_info" fail \
  $H "s.replace('    uint32_t buckets;         /**< bucket files in the namespace */\n', '    uint32_t buckets;         /**< bucket files in the namespace */\n    uint64_t inserted;\n', 1)"
variant "the same field with the SONAME bumped (a major release)" pass \
  $H "s.replace('    uint32_t buckets;         /**< bucket files in the namespace */\n', '    uint32_t buckets;         /**< bucket files in the namespace */\n    uint64_t inserted;\n', 1).replace('#define ROCHE_VERSION_MAJOR 0', '#define ROCHE_VERSION_MAJOR 1', 1)"

if [ "$failures" -ne 0 ]; then
  echo "FAIL: $failures variant(s) of the ABI self-test"
  exit 1
fi
echo "abi selftest: check.sh passed the compatible variants and failed the broken ones"
