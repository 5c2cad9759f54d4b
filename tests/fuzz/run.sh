#!/bin/sh
# Configures a clang build with libFuzzer and ASan+UBSan (build-fuzz/),
# builds the fuzz targets and runs each for a time box over the committed
# corpus, printing the executions per target.
#   ROCHE_FUZZ_SECONDS  seconds per target (default 20)
#   ROCHE_FUZZ_BUILD    build directory (default build-fuzz)
#   ROCHE_FUZZ_SEED     libFuzzer's -seed (default 1: CI runs the same inputs
#                       every time; 0 lets libFuzzer pick one)
# A failing target prints the end of its log, and its input is kept as
# $build/tests/fuzz/crash-* (reproduce: fuzz_<target> <that file>).
# Longer runs: ROCHE_FUZZ_SECONDS=3600 tests/fuzz/run.sh
set -eu
cd "$(dirname "$0")/../.."
seconds=${ROCHE_FUZZ_SECONDS:-20}
seed=${ROCHE_FUZZ_SEED:-1}
build=${ROCHE_FUZZ_BUILD:-build-fuzz}

CC=clang CXX=clang++ cmake -S . -B "$build" -DROCHE_BUILD_FUZZ=ON \
  -DROCHE_SANITIZE=address,undefined,fuzzer-no-link \
  -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF \
  -DROCHE_BUILD_CLI=OFF -DROCHE_BUILD_EXAMPLES=OFF -DROCHE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target fuzz_open fuzz_read fuzz_companion fuzz_serve >/dev/null

status=0
for target in open read companion serve; do
  work="$build/tests/fuzz/corpus-work/$target"
  mkdir -p "$work"
  log="$build/tests/fuzz/fuzz_$target.log"
  if "$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" -max_len=65536 -seed="$seed" \
       -artifact_prefix="$build/tests/fuzz/" -print_final_stats=1 \
       "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_$target: $result, ${runs:-?} executions in ${seconds}s (log: $log)"
  if [ $result = FAILED ]; then
    grep -v -e '^#' -e '^INFO' -e 'NEW_FUNC' -e 'Uses:' "$log" | tail -n 60
  fi
done
exit $status
