#!/usr/bin/env bash
# roche tail and roche retain: records as they come (tail -f ended by
# SIGINT and SIGTERM, at exit status 0), starting from offsets, the end or a
# cursor that tail commits to; retain by age and by size, and its usage
# errors.
source "$(dirname "$0")/lib.sh"

# tail without -f: what is there, in scan's formats.
printf 'one' | run 0 --buckets 1 append
printf 'two' | run 0 append
run 0 tail --format tsv
[ "$(cut -f4 out | tr '\n' ' ')" = "one two " ] || fail "tail printed $(cat out)"
pass
run 0 tail --from 19 --format tsv
[ "$(cut -f4 out)" = "two" ] || fail "tail --from 19 printed $(cat out)"
pass
run 0 tail --from-end
expect_no_out

# tail -f: new records appear while it runs; SIGINT ends it cleanly and
# the cursor holds the position after what it wrote.
for sig in INT TERM; do
    "$ROCHE" tail -f --from-end --cursor "c$sig" --format tsv > "$work/tail.out" 2> "$work/tail.err" &
    pid=$!
    sleep 0.5
    printf "new$sig" | "$ROCHE" append > /dev/null
    for _ in $(seq 50); do grep -q "new$sig" "$work/tail.out" && break; sleep 0.1; done
    grep -q "new$sig" "$work/tail.out" || fail "tail -f did not print new$sig"
    pass
    kill -$sig $pid
    status=0
    wait $pid || status=$?
    [ $status = 0 ] || fail "tail -f ended by SIG$sig exited $status: $(cat "$work/tail.err")"
    pass
    run 0 cursor get "c$sig"
    [ -s out ] || fail "tail --cursor committed nothing"
    pass
done

# Starting from the cursor prints nothing already seen.
printf 'after' | run 0 append
run 0 tail --cursor cINT --format tsv
[ "$(cut -f4 out | tr '\n' ' ')" = "newTERM after " ] || fail "tail --cursor printed $(cat out)"
pass
run 0 tail --cursor cINT --format tsv
expect_no_out

# retain: by size (the newest records stay), then by age.
run 0 retain --max-bytes 40
grep -q "^default: dropped" out || fail "retain printed $(cat out)"
pass
run 0 tail --format tsv
[ "$(cut -f4 out | tr '\n' ' ')" = "after " ] || fail "after retain --max-bytes 40 tail printed $(cat out)"
pass
run 0 stat
grep -q "dropped.*records" out || fail "stat does not report dropped records"
pass
grep -q "first kept *bucket 0 at [1-9]" out || fail "stat does not report the first record kept: $(cat out)"
pass
# What retention dropped is not damage.
head -c 9000 /dev/urandom > big
for _ in 1 2 3; do run 0 --ns big --buckets 1 append --file big; done
run 0 --ns big retain --max-bytes 10000
run 0 --ns big verify --no-progress
grep -q "0 damaged ranges" out || fail "verify after retention: $(cat out)"
pass
sleep 1.1
run 0 retain --older-than 1s
run 0 tail
expect_no_out

# Usage errors: status 2.
for args in "retain" "retain --older-than 7x" "retain --max-bytes 0" "retain --max-bytes 99999999999999999999T" \
            "tail --from x" "tail --from 1 --cursor c"; do
    run 2 $args
    expect_err "usage: roche"
done
echo "log: $checks checks passed"
