#!/bin/bash
# roche kafka mirror and restore against a local Apache Kafka 3.9.1 broker
# (KRaft, one node, on the same 2 cores), beside Kafka's own
# kafka-producer-perf-test on the same broker in the same run.
# Writes bench/results/kafka.md.
#   bench/kafka.sh
# Environment: BUILD (default build-bench-kafka), RECORDS (1000000; 100-byte
# values, spread over 4 buckets and 4 partitions), ROUNDS (3; the table
# gives medians), SKIP_APT=1 to skip apt-get.
# Rows: mirror records/s (roche kafka mirror --until-end of a namespace of
# RECORDS records into a new topic, from start to exit, including the
# flush and the cursor's last commit); restore records/s (roche kafka
# restore --until-end of that topic into a new namespace, including the
# last sync and commit); anchor: kafka-producer-perf-test
# (org.apache.kafka.tools.ProducerPerformance) producing RECORDS records of
# 100 B with acks=all and idempotence, as the mirror's producer does.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench-kafka}
RECORDS=${RECORDS:-1000000}
ROUNDS=${ROUNDS:-3}
OUT=bench/results/kafka.md

if [ "${SKIP_APT:-0}" != 1 ]; then
  need=()
  dpkg -s librdkafka-dev > /dev/null 2>&1 || need+=(librdkafka-dev)
  command -v mvn > /dev/null || need+=(maven)
  command -v java > /dev/null || need+=(openjdk-17-jdk-headless)
  if [ ${#need[@]} -gt 0 ]; then apt-get install -y --no-install-recommends "${need[@]}"; fi
fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF \
  -DROCHE_BUILD_PERL=OFF -DROCHE_BUILD_PYTHON=OFF -DROCHE_BUILD_SERVER=OFF -DROCHE_BUILD_TESTS=OFF \
  -DROCHE_BUILD_EXAMPLES=OFF > /dev/null
cmake --build "$BUILD" -j2 --target roche_cli roche_kafka > /dev/null
roche=$PWD/$BUILD/cli/roche
export KAFKA_CACHE=$PWD/$BUILD/kafka-broker
. kafka/tests/broker.sh
kafka_fetch
work=$(mktemp -d)
trap 'kafka_stop; rm -rf "$work"' EXIT
kafka_start
root=$work/store
ids=(id1 id5 id0 id4)  # crc32(id) % 4 is 0, 1, 2, 3
quarter=$((RECORDS / 4))
for b in 0 1 2 3; do
  awk -v a=$((b * quarter)) -v n=$quarter 'BEGIN { for (i = a; i < a + n; i++) printf "%0100d\n", i }' |
    "$roche" --root "$root" --ns src --buckets 4 append --lines --id "${ids[$b]}" > /dev/null
done
now_ms() { date +%s%3N; }
rate() { echo $((RECORDS * 1000 / ($2 - $1))); }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
k() { "$roche" --root "$root" kafka -b "$KAFKA_BOOTSTRAP" -q "$@"; }

# A first topic warms the broker (group coordinator, producer ids).
k --ns src mirror -t warmup --partitions 4 --until-end --cursor warmup
mirror=() restore=() perf=()
for round in $(seq 1 "$ROUNDS"); do
  t0=$(now_ms)
  k --ns src mirror -t "bench$round" --partitions 4 --until-end --cursor "bench$round"
  t1=$(now_ms)
  k --ns "copy$round" restore -t "bench$round" --until-end
  t2=$(now_ms)
  mirror+=("$(rate "$t0" "$t1")")
  restore+=("$(rate "$t1" "$t2")")
  line=$(java -Xmx512m -cp "$KAFKA_CACHE/jars/*" -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
    org.apache.kafka.tools.ProducerPerformance --topic "perf$round" --num-records "$RECORDS" \
    --record-size 100 --throughput -1 \
    --producer-props bootstrap.servers="$KAFKA_BOOTSTRAP" acks=all enable.idempotence=true linger.ms=5 2> /dev/null |
    tail -1)
  perf+=("$(echo "$line" | sed -n 's/^[0-9]* records sent, \([0-9.]*\) records\/sec.*/\1/p' | cut -d. -f1)")
  echo "round $round: mirror ${mirror[-1]}/s, restore ${restore[-1]}/s, kafka-producer-perf-test ${perf[-1]}/s"
done
m=$(printf '%s\n' "${mirror[@]}" | median)
r=$(printf '%s\n' "${restore[@]}" | median)
p=$(printf '%s\n' "${perf[@]}" | median)
{
  echo "# roche kafka: mirror and restore throughput"
  echo
  echo "Measured $(date -u +%Y-%m-%d) by bench/kafka.sh on $(nproc) cores, a local Apache Kafka 3.9.1"
  echo "broker (KRaft, one node) on the same cores. $RECORDS records of 100 B, 4 buckets,"
  echo "4 partitions; medians of $ROUNDS rounds (each: a new topic and a new namespace)."
  echo
  echo "| what | records/s (median) | rounds | vs kafka-producer-perf-test |"
  echo "|---|---:|---|---:|"
  echo "| roche kafka mirror --until-end | $m | ${mirror[*]} | $(awk -v a="$m" -v b="$p" 'BEGIN { printf "%.2f", a / b }') |"
  echo "| roche kafka restore --until-end | $r | ${restore[*]} | $(awk -v a="$r" -v b="$p" 'BEGIN { printf "%.2f", a / b }') |"
  echo "| kafka-producer-perf-test (acks=all, idempotent, linger.ms=5) | $p | ${perf[*]} | 1.00 |"
  echo
  echo "Goal: at least 200,000 records/s each way."
} > "$OUT"
cat "$OUT"
