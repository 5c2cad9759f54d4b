#!/bin/sh
# Builds and runs the benchmark and writes bench/results/: results.csv,
# results.md, chart.dat, chart.png, machine.txt and log.md (follow latency,
# retention pass).
#   bench/run.sh                       the issue's sizes (1 GiB store)
#   bench/run.sh --store-mib 256 ...   any roche_bench flag passes through
# Environment: BUILD (default build-bench), DATA (scratch space, default
# $BUILD/bench-data, removed afterwards), SKIP_APT=1 to skip apt-get.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
DATA=${DATA:-$BUILD/bench-data}
OUT=bench/results

if [ "${SKIP_APT:-0}" != 1 ]; then
  apt-get install -y --no-install-recommends cmake g++ make pkg-config zlib1g-dev libxxhash-dev \
    librocksdb-dev libleveldb-dev liblmdb-dev libsqlite3-dev gnuplot-nox
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROCHE_BUILD_BENCH=ON \
  -DROCHE_BUILD_TESTS=OFF -DROCHE_BUILD_EXAMPLES=OFF -DROCHE_BUILD_CLI=OFF \
  -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF
cmake --build "$BUILD" -j2 --target roche_bench roche_bench_log

mkdir -p "$OUT"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "kernel: $(uname -srm)"
  lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|L1d|L2|L3|CPU max MHz|Hypervisor)' || true
  free -h | head -2
  echo "filesystem of the data: $(df -hT "$(dirname "$DATA")" | tail -1)"
  echo "transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
  echo "compiler: $(c++ --version | head -1)"
  echo "peers (Debian packages):"
  dpkg-query -W -f='  ${Package} ${Version}\n' librocksdb-dev libleveldb-dev liblmdb-dev libsqlite3-dev 2>/dev/null
  echo "libroche: linked statically (roche_static), Release build"
  echo "load average before the run: $(cat /proc/loadavg)"
} > "$OUT/machine.txt"

status=0
"$BUILD/bench/roche_bench" --data "$DATA" --out "$OUT" "$@" || status=$?
# The log workloads (follow latency across processes, retention pass).
"$BUILD/bench/roche_bench_log" --data "$DATA/log" --out "$OUT/log.md" || status=$?
echo "load average after the run: $(cat /proc/loadavg)" >> "$OUT/machine.txt"
rm -rf "$DATA"
gnuplot -e "dir='$OUT'" bench/chart.gp
echo "results in $OUT/results.md"
exit $status
