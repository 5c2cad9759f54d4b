#!/usr/bin/env bash
# Values go in through the shell and come back out byte for byte.
source "$(dirname "$0")/lib.sh"

# Lines in, offsets out, values back with get.
printf 'a\nb\n' | run 0 append --lines
mapfile -t offsets < out
[ "${#offsets[@]}" = 2 ] || fail "append --lines printed ${#offsets[@]} offsets"
run 0 get "${offsets[@]}"
expect_out "ab"
run 0 get "${offsets[1]}" "${offsets[0]}" "${offsets[1]}"
expect_out "bab"

# Every byte value, through stdin and through --file.
printf "$(printf '\\%03o' $(seq 0 255))" > all-bytes
[ "$(stat -c %s all-bytes)" = 256 ] || fail "all-bytes is not 256 bytes"
run 0 append < all-bytes
stdin_off=$(cat out)
run 0 get "$stdin_off"
expect_out_file all-bytes
run 0 append --file all-bytes
run 0 get "$(cat out)"
expect_out_file all-bytes

# A value of only newlines and NULs is not split without a batch flag.
printf '\n\0\n' > seps
run 0 append < seps
run 0 get "$(cat out)"
expect_out_file seps

# Empty values: from empty stdin, and empty items in batches.
run 0 append < /dev/null
run 0 get "$(cat out)"
expect_no_out
printf 'x\0\0y\0' | run 0 append --null
mapfile -t nul_offsets < out
[ "${#nul_offsets[@]}" = 3 ] || fail "append --null printed ${#nul_offsets[@]} offsets, want 3"
for i in 0 1 2; do
    run 0 get "${nul_offsets[$i]}"
    expect_out "$(printf 'x\n\ny' | sed -n "$((i + 1))p")"
done
# -0 is --null; a last item without its terminator counts; no input, no items.
printf 'p\0q' | run 0 append -0
[ "$(wc -l < out)" = 2 ] || fail "append -0 of 'p\\0q' did not print 2 offsets"
printf 'one\n\nthree' | run 0 append --lines
mapfile -t line_offsets < out
[ "${#line_offsets[@]}" = 3 ] || fail "3 lines without a final newline gave ${#line_offsets[@]} offsets"
run 0 get "${line_offsets[@]}"
expect_out "onethree"
run 0 append --lines < /dev/null
expect_no_out

# --id keeps one id's records in one bucket, in order.
printf 'r1\nr2\nr3\n' | run 0 --buckets 16 append --ns ids --lines --id user-42
mapfile -t id_offsets < out
printf 'r4' | run 0 append --ns ids --id user-42
id_offsets+=("$(cat out)")
bucket=$((id_offsets[0] >> 50))
prev=-1
for off in "${id_offsets[@]}"; do
    [ $((off >> 50)) = "$bucket" ] || fail "id user-42 went to buckets $bucket and $((off >> 50))"
    [ "$off" -gt "$prev" ] || fail "offsets of one id are not increasing"
    prev=$off
done
run 0 get --ns ids "${id_offsets[@]}"
expect_out "r1r2r3r4"
# Appending without --buckets keeps the namespace's 16 buckets.
run 0 stat --ns ids
grep -q '^  buckets  *16$' out || fail "namespace ids lost its 16 buckets: $(cat out)"
pass

# --ns separates namespaces; the offset of one is not a record of another.
printf 'elsewhere' | run 0 append --ns other
other_off=$(cat out)
run 0 get --ns other "$other_off"
expect_out "elsewhere"

# Global options go before or after the command; --root beats $ROCHE_ROOT,
# and ./roche-data is the default without either.
printf 'rooted' | run 0 --root "$work/second" append
second_off=$(cat out)
run 0 get "$second_off" --root "$work/second"
expect_out "rooted"
(
    unset ROCHE_ROOT
    mkdir cwd && cd cwd
    printf 'here' | "$ROCHE" append > ../out
    [ -d roche-data/default ] || fail "no ./roche-data/default without --root or \$ROCHE_ROOT"
    "$ROCHE" get "$(cat ../out)" > ../got
    [ "$(cat ../got)" = here ] || fail "get in ./roche-data returned '$(cat ../got)'"
)
pass

# stat counts what went in: 3 records of 16-byte headers plus values.
printf 'aa\nbbb\nc\n' | run 0 --root "$work/counted" --buckets 2 append --lines
run 0 --root "$work/counted" stat
grep -q '^namespace default$' out || fail "stat lacks the namespace"
grep -q '^  buckets  *2$' out || fail "stat: buckets is not 2"
grep -q '^  records  *3$' out || fail "stat: records is not 3"
grep -q "^  bytes  *$((3 * 16 + 6))$" out || fail "stat: bytes is not 54"
grep -q '^  damaged ranges  *0$' out || fail "stat: damage in a fresh store"
grep -q '^  recovery cut  *0 bytes$' out || fail "stat: recovery cut in a fresh store"
grep -qE '^  oldest  *[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z$' out || fail "stat: no oldest time"
pass
run 0 stat
grep -q '^store .*: 3 namespaces$' out || fail "stat without --ns does not list 3 namespaces"
for ns in default ids other; do grep -q "^namespace $ns$" out || fail "stat lacks $ns"; done
pass

# --read-only: reads work, writes fail with libroche's message.
run 0 --read-only get "${offsets[0]}"
expect_out "a"
printf 'no' | run 1 --read-only append
expect_err "roche: store is read-only"

# delete-namespace removes it and its offsets.
run 0 delete-namespace other
[ ! -e "$ROCHE_ROOT/other" ] || fail "delete-namespace left the directory"
run 1 get --ns other "$other_off"
expect_err "roche: not found"
run 1 delete-namespace other
expect_err "roche: not found"

done_checks
