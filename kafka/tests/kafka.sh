#!/usr/bin/env bash
# roche kafka mirror and restore against a real Apache Kafka broker
# (3.9.1, KRaft, on 127.0.0.1): a round trip of 1,000,000 records of 100 B,
# then the faults: the mirror killed, the broker killed, the restore
# killed, each in the middle of a run, with duplicates counted against the
# documented bound. Exit 77 ("skipped: ...") when no broker can be had.
#   kafka.sh ROCHE CACHE_DIR
set -euo pipefail
roche=$1
export KAFKA_CACHE=$2
here=$(cd "$(dirname "$0")" && pwd)
. "$here/broker.sh"
kafka_fetch

work=$(mktemp -d)
# A failure in the middle leaves no mirror or restore running.
trap 'kill -KILL $(jobs -p) 2> /dev/null || true; kafka_stop; rm -rf "$work"' EXIT
kafka_start
echo "broker up at $KAFKA_BOOTSTRAP"
root=$work/store
ROUND=${ROCHE_KAFKA_RECORDS:-1000000}

fail() { echo "FAIL: $*" >&2; exit 1; }
r() { "$roche" --root "$root" "$@"; }
k() { "$roche" --root "$root" kafka -b "$KAFKA_BOOTSTRAP" -q "$@"; }
# k in the background, its process id in $pid (the process itself, so a
# kill reaches roche-kafka: roche execs it in place).
k_bg() {
  "$roche" --root "$root" kafka -b "$KAFKA_BOOTSTRAP" -q "$@" &
  pid=$!
}
now_ms() { date +%s%3N; }
# N values of 100 bytes, unique, in order: the record number, zero-padded.
values() { awk -v a="$1" -v n="$2" 'BEGIN { for (i = a; i < a + n; i++) printf "%0100d\n", i }'; }
# Appends N values from START to namespace NS, spread over its 4 buckets.
fill() {
  local ns=$1 start=$2 n=$3 quarter=$(($3 / 4))
  local ids=(id1 id5 id0 id4)  # crc32(id) % 4 is 0, 1, 2, 3
  for b in 0 1 2 3; do
    values $((start + b * quarter)) "$quarter" | r --ns "$ns" --buckets 4 append --lines --id "${ids[$b]}" > /dev/null
  done
}
# Kills $pid with SIGKILL SECONDS after the command CHECK... first succeeds
# (polled every 50 ms, for up to 30 s), as a crash at that point would.
kill_after() {
  local seconds=$1
  shift
  for _ in $(seq 1 600); do
    "$@" && break
    sleep 0.05
  done
  sleep "$seconds"
  kill -KILL "$pid"
  wait "$pid" 2> /dev/null || true
}
has_cursor() { [ -f "$root/$1/cursor.$2" ]; }
# True once cursor $2 of namespace $1 is past the start of some bucket.
cursor_moved() {
  has_cursor "$1" "$2" && r --ns "$1" cursor get "$2" | tr ',' '\n' |
    awk -v P=1125899906842624 '$1 % P > 0 { moved = 1 } END { exit !moved }'
}
# True once namespace $1 holds at least $2 records (the live count, read-only).
has_at_least() {
  local n
  n=$(r --ns "$1" --read-only stat 2> /dev/null | awk '$1 == "records" { print $2 }')
  [ "${n:-0}" -ge "$2" ]
}
# offset, length, value of every record, in scan order
dump() { r --ns "$1" --read-only scan --format tsv | cut -f1,3,4; }
# How many records of NS come after the positions of its cursor CURSOR.
after_cursor() {
  local ns=$1 cursor=$2
  r --ns "$ns" cursor get "$cursor" > "$work/cursor.txt"
  r --ns "$ns" --read-only scan --format tsv | cut -f1 |
    awk -v P=1125899906842624 'NR == FNR { pos[int($1 / P)] = $1; next }
      { b = int($1 / P); if (!(b in pos) || $1 >= pos[b]) n++ } END { print n + 0 }' "$work/cursor.txt" -
}
# Restores TOPIC into a new namespace NS and prints how many values are
# there more than once (the topic's duplicates), checking each of the
# namespace SRC's values is there.
topic_duplicates() {
  local topic=$1 ns=$2 src=$3
  k --ns "$ns" restore -t "$topic" --group "check-$ns" --until-end
  r --ns "$src" --read-only scan --format tsv | cut -f4 | sort > "$work/want.txt"
  r --ns "$ns" --read-only scan --format tsv | cut -f4 | sort > "$work/got.txt"
  local missing
  missing=$(comm -23 "$work/want.txt" <(sort -u "$work/got.txt") | wc -l)
  [ "$missing" -eq 0 ] || fail "$topic: $missing records of $src are not in Kafka"
  [ "$(comm -13 <(sort -u "$work/want.txt") <(sort -u "$work/got.txt") | wc -l)" -eq 0 ] ||
    fail "$topic: Kafka holds records $src never had"
  echo $(($(wc -l < "$work/got.txt") - $(wc -l < "$work/want.txt")))
}

echo "== usage errors exit 2"
set +e
"$roche" --root "$root" kafka mirror -b "$KAFKA_BOOTSTRAP" > /dev/null 2>&1; [ $? -eq 2 ] || fail "no --topic: not status 2"
"$roche" --root "$root" kafka sideways -t x > /dev/null 2>&1; [ $? -eq 2 ] || fail "unknown command: not status 2"
"$roche" --root "$root" kafka mirror -t x -X no.such.property=1 > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad -X: not status 2"
"$roche" --root "$root" kafka restore -t x -b "$KAFKA_BOOTSTRAP" --cursor c > /dev/null 2>&1; [ $? -eq 2 ] || fail "--cursor on restore: not status 2"
"$roche" --root "$root" kafka restore -t no-such-topic -b "$KAFKA_BOOTSTRAP" -q > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "does not exist" "$work/err" || fail "restore of a missing topic: status $rc, $(cat "$work/err")"

echo "== round trip: $ROUND records of 100 B"
fill src 0 "$ROUND"
t0=$(now_ms)
k --ns src mirror -t round --partitions 4 --until-end
t1=$(now_ms)
k --ns copy restore -t round --until-end
t2=$(now_ms)
echo "mirror $((ROUND * 1000 / (t1 - t0 + 1))) records/s, restore $((ROUND * 1000 / (t2 - t1 + 1))) records/s"
dump src > "$work/src.txt"
dump copy > "$work/copy.txt"
[ "$(wc -l < "$work/src.txt")" -eq "$ROUND" ] || fail "the source holds $(wc -l < "$work/src.txt") records"
cmp -s "$work/src.txt" "$work/copy.txt" || fail "the restored namespace differs from the source (values, order or offsets)"
echo "every value, in order, at its own offset"
# Nothing new: a second run of each does nothing.
k --ns src mirror -t round --until-end
k --ns copy restore -t round --until-end
dump copy | cmp -s - "$work/src.txt" || fail "a second restore changed the namespace"

echo "== the mirror killed in the middle, then restarted"
fill m 0 400000
k_bg --ns m mirror -t mkill --partitions 4 --commit-interval 100
kill_after 0.1 cursor_moved m kafka-mirror.mkill  # after its first commit of acked records
bound=$(after_cursor m kafka-mirror.mkill)
echo "killed with $bound records after the committed cursor"
[ "$bound" -gt 0 ] && [ "$bound" -lt 400000 ] || fail "the mirror was not killed in the middle (bound $bound)"
k --ns m mirror -t mkill --until-end
dups=$(topic_duplicates mkill m-check m)
echo "duplicates: $dups (bound: $bound)"
[ "$dups" -le "$bound" ] || fail "mirror restart: $dups duplicates, more than the $bound records after the cursor"

echo "== the broker killed in the middle of a mirror, then restarted"
fill b 0 200000
k_bg --ns b mirror -t bkill --partitions 4 --until-end
sleep 0.5
kafka_kill
echo "broker killed"
sleep 2
kafka_restart
echo "broker restarted"
wait $pid || fail "the mirror failed across the broker restart"
dups=$(topic_duplicates bkill b-check b)
echo "duplicates: $dups (bound within one producer session: 0)"
[ "$dups" -eq 0 ] || fail "broker restart: $dups duplicates from one idempotent producer session"

# Restores topic "round" into namespace NS committing every INTERVAL ms,
# kills it with SIGKILL once NS holds AT_LEAST records, restarts it to the
# end, and checks every record is there once, in order, at its own offset.
restore_killed_and_restarted() {
  local ns=$1 interval=$2 at_least=$3
  k_bg --ns "$ns" restore -t round --commit-interval "$interval"
  kill_after 0 has_at_least "$ns" "$at_least"
  local killed_at
  killed_at=$(dump "$ns" | wc -l)
  echo "killed after $killed_at records"
  [ "$killed_at" -gt 0 ] && [ "$killed_at" -lt "$ROUND" ] || fail "the restore was not killed in the middle"
  k --ns "$ns" restore -t round --until-end 2> "$work/restore.err" || { cat "$work/restore.err"; fail "restore restart"; }
  dump "$ns" | cmp -s - "$work/src.txt" ||
    fail "after a restore restart the namespace differs from the topic: $(dump "$ns" | wc -l) records, lost or repeated"
}

echo "== the restore killed in the middle, then restarted"
# Killed once a tenth is in, not after a fixed time: a fast machine (or a
# smaller round) may otherwise finish first.
restore_killed_and_restarted r 100 $((ROUND / 10))
echo "exactly once: every record once, in order, at its own offset"

echo "== the restore killed before its first periodic commit, then restarted"
# An hour between commits: only what the restore commits before its first
# append tells the restart which of the bucket's records are its own.
restore_killed_and_restarted r0 3600000 1000
echo "exactly once, with no periodic commit before the kill"

echo "== restore into a namespace that has more buckets than the topic partitions"
printf first | r --ns wide --buckets 8 append > /dev/null
k --ns wide restore -t mkill --until-end
r --ns m --read-only scan --format tsv | cut -f4 | sort -u > "$work/want.txt"
r --ns wide --read-only scan --format tsv | cut -f4 | grep -v '^first$' | sort -u > "$work/got.txt"
cmp -s "$work/got.txt" "$work/want.txt" ||
  fail "restore into an 8-bucket namespace: $(wc -l < "$work/got.txt") distinct values, not $(wc -l < "$work/want.txt")"
echo "restored into 8 buckets"

echo "== SIGTERM: flush, commit, exit 0"
fill t 0 1000
k_bg --ns t mirror -t term --partitions 4
sleep 3
fill t 1000 1000
sleep 2
kill -TERM $pid
wait $pid || fail "the mirror's status after SIGTERM is $?"
[ "$(after_cursor t kafka-mirror.term)" -eq 0 ] || fail "after SIGTERM the cursor is not at the end"
echo "PASS"
