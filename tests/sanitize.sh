#!/bin/sh
# Builds the C library and tests under ASan+UBSan (build-asan/) and under
# TSan (build-tsan/), and runs the C, reliability and CLI suites in both,
# with the reliability rounds reduced to fit CI.
#   ROCHE_CRASH_ROUNDS   crash test kills per build (default here 20)
#   ROCHE_PROC_RECORDS   records of the many-process test (default here 5000)
#   ROCHE_SANITIZERS     which builds to run (default "asan tsan")
# Exits non-zero when a build or a test fails.
set -u
cd "$(dirname "$0")/.."
export ROCHE_CRASH_ROUNDS="${ROCHE_CRASH_ROUNDS:-20}"
export ROCHE_PROC_RECORDS="${ROCHE_PROC_RECORDS:-5000}"
# Any report fails the test that caused it.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

run() { # name sanitizers
  build="build-$1"
  echo "== $1: -fsanitize=$2"
  CFLAGS=-fno-sanitize-recover=all CXXFLAGS=-fno-sanitize-recover=all \
    cmake -S . -B "$build" -DROCHE_SANITIZE="$2" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF \
      -DROCHE_BUILD_BENCH=OFF -DROCHE_BUILD_FUZZ=OFF >/dev/null &&
    cmake --build "$build" -j2 >/dev/null &&
    (cd "$build" && ctest -L 'c|reliability|cli' --output-on-failure)
}

status=0
for s in ${ROCHE_SANITIZERS:-asan tsan}; do
  case $s in
    asan) run asan address,undefined || status=1 ;;
    tsan) run tsan thread || status=1 ;;
    *) echo "unknown sanitizer build: $s" >&2; status=1 ;;
  esac
done
exit $status
