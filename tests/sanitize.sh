#!/bin/sh
# Builds the C library and tests under ASan+UBSan (build-asan/) and under
# TSan (build-tsan/), and runs the C, reliability and CLI suites in both,
# with the reliability rounds reduced to fit CI, and the Kafka bridge in the
# ASan build.
#   ROCHE_CRASH_ROUNDS   crash test kills per build (default here 20)
#   ROCHE_PROC_RECORDS   records of the many-process test (default here 5000)
#   ROCHE_SANITIZERS     which builds to run (default "asan tsan")
#   ROCHE_KAFKA_RECORDS  records of the Kafka bridge's round trip under ASan
#                        (default here 200000)
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

# The Kafka bridge under ASan+UBSan, with a smaller round trip, against the
# broker the main build fetched (build/kafka-broker) when it is there. Not
# under TSan: librdkafka's own threads are not instrumented.
kafka_asan() {
  if [ ! -x build-asan/cli/roche-kafka ]; then
    echo "kafka_bridge under asan: skipped (roche-kafka not built: librdkafka missing)"
    return 0
  fi
  cache=build/kafka-broker
  [ -f "$cache/jars/.complete" ] || cache=build-asan/kafka-broker
  log=build-asan/kafka_bridge.log
  ROCHE_KAFKA_RECORDS="${ROCHE_KAFKA_RECORDS:-200000}" \
    bash kafka/tests/kafka.sh build-asan/cli/roche "$cache" > "$log" 2>&1
  rc=$?
  case $rc in
    0) echo "kafka_bridge under asan: passed" ;;
    77) echo "kafka_bridge under asan: $(grep -m1 skipped "$log")"; rc=0 ;;
    *) tail -40 "$log"; echo "kafka_bridge under asan: FAILED (status $rc, log $log)" ;;
  esac
  return $rc
}

status=0
for s in ${ROCHE_SANITIZERS:-asan tsan}; do
  case $s in
    asan) { run asan address,undefined && kafka_asan; } || status=1 ;;
    tsan) run tsan thread || status=1 ;;
    *) echo "unknown sanitizer build: $s" >&2; status=1 ;;
  esac
done
exit $status
