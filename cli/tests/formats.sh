#!/usr/bin/env bash
# Every output format of multiget and scan, checked byte for byte.
source "$(dirname "$0")/lib.sh"

# Six values that stress the encodings, in a one-bucket namespace so the
# offsets are file positions, in order.
printf 'hello' > v0
printf '\000\001\377' > v1
printf 'tab\there\nnl\\' > v2
printf 'say "\303\251"' > v3
: > v4
printf 'a\303(\001\177' > v5
t0=$(date +%s%N)
offs=()
for i in 0 1 2 3 4 5; do
    run 0 --buckets 1 append --file v$i
    offs+=("$(cat out)")
done
t1=$(date +%s%N)
pos=0
for i in 0 1 2 3 4 5; do
    [ "${offs[$i]}" = "$pos" ] || fail "value $i is at ${offs[$i]}, expected $pos"
    pos=$((pos + 16 + $(stat -c %s v$i)))
done
pass

# multiget, default: rochefort's [u32 len][value] per offset, in request
# order, duplicates included; offsets from arguments or from stdin.
: > want
for i in 3 0 1 4 0 5 2; do
    printf "$(le32 "$(stat -c %s v$i)")" >> want
    cat v$i >> want
done
order=("${offs[3]}" "${offs[0]}" "${offs[1]}" "${offs[4]}" "${offs[0]}" "${offs[5]}" "${offs[2]}")
run 0 multiget "${order[@]}"
expect_out_file want
printf '%s\n' "${order[@]}" | run 0 multiget --format raw
expect_out_file want
printf ' %s\t' "${order[@]}" | run 0 multiget
expect_out_file want
run 0 multiget < /dev/null
expect_no_out

# multiget --format jsonl, the value as text, hex and base64.
run 0 multiget --format jsonl "${offs[@]}"
expect_out "$(printf '%s\n' \
    '{"offset":'"${offs[0]}"',"length":5,"value":"hello"}' \
    '{"offset":'"${offs[1]}"',"length":3,"value":"\u0000\u0001\ufffd"}' \
    '{"offset":'"${offs[2]}"',"length":12,"value":"tab\there\nnl\\"}' \
    '{"offset":'"${offs[3]}"',"length":8,"value":"say \"é\""}' \
    '{"offset":'"${offs[4]}"',"length":0,"value":""}' \
    '{"offset":'"${offs[5]}"',"length":5,"value":"a\ufffd(\u0001'$'\177''"}')
"
run 0 multiget --format jsonl --encoding hex "${offs[1]}" "${offs[4]}" "${offs[0]}"
expect_out "$(printf '%s\n' \
    '{"offset":'"${offs[1]}"',"length":3,"value":"0001ff"}' \
    '{"offset":'"${offs[4]}"',"length":0,"value":""}' \
    '{"offset":'"${offs[0]}"',"length":5,"value":"68656c6c6f"}')
"
run 0 multiget --format jsonl --encoding base64 "${offs[@]}"
grep -qF '"value":"aGVsbG8="}' out || fail "base64 of hello is not aGVsbG8="
pass
for i in 0 1 2 3 4 5; do
    sed -n "$((i + 1))p" out | sed 's/.*"value":"\(.*\)"}$/\1/' | base64 -d > decoded
    cmp -s decoded v$i || fail "base64 of value $i does not decode to it"
done
pass

# scan, default: rochefort's [u32 len][u64 offset][value] stream.
: > want
for i in 0 1 2 3 4 5; do
    printf "$(le32 "$(stat -c %s v$i)")$(le64 "${offs[$i]}")" >> want
    cat v$i >> want
done
run 0 scan
expect_out_file want
run 0 scan --format raw
expect_out_file want

# scan --format jsonl and tsv carry the append time, in ns since the epoch.
run 0 scan --format jsonl
for t in $(sed 's/.*"time":\([0-9]*\),.*/\1/' out); do
    [ "$t" -ge "$t0" ] && [ "$t" -le "$t1" ] || fail "time $t is not between $t0 and $t1"
done
pass
sed 's/"time":[0-9]*,/"time":T,/' out > out.notime && mv out.notime out
expect_out "$(printf '%s\n' \
    '{"offset":'"${offs[0]}"',"time":T,"length":5,"value":"hello"}' \
    '{"offset":'"${offs[1]}"',"time":T,"length":3,"value":"\u0000\u0001\ufffd"}' \
    '{"offset":'"${offs[2]}"',"time":T,"length":12,"value":"tab\there\nnl\\"}' \
    '{"offset":'"${offs[3]}"',"time":T,"length":8,"value":"say \"é\""}' \
    '{"offset":'"${offs[4]}"',"time":T,"length":0,"value":""}' \
    '{"offset":'"${offs[5]}"',"time":T,"length":5,"value":"a\ufffd(\u0001'$'\177''"}')
"
run 0 scan --format tsv
cut -f2 out | while read -r t; do
    [ "$t" -ge "$t0" ] && [ "$t" -le "$t1" ] || fail "tsv time $t is not between $t0 and $t1"
done
pass
cut -f1,3,4 out > out.notime && mv out.notime out
expect_out "$(printf '%s\t%s\t%s\n' \
    "${offs[0]}" 5 'hello' \
    "${offs[1]}" 3 '\x00\x01'$'\377' \
    "${offs[2]}" 12 'tab\there\nnl\\' \
    "${offs[3]}" 8 'say "é"' \
    "${offs[4]}" 0 '' \
    "${offs[5]}" 5 'a'$'\303''(\x01\x7f')
"
run 0 scan --format tsv --encoding hex
cut -f1,3,4 out > out.notime && mv out.notime out
expect_out "$(printf '%s\t%s\t%s\n' "${offs[0]}" 5 68656c6c6f "${offs[1]}" 3 0001ff \
    "${offs[2]}" 12 74616209686572650a6e6c5c "${offs[3]}" 8 7361792022c3a922 \
    "${offs[4]}" 0 '' "${offs[5]}" 5 61c328017f)
"
run 0 scan --format tsv --encoding base64
for i in 0 1 2 3 4 5; do
    sed -n "$((i + 1))p" out | cut -f4 | base64 -d > decoded
    cmp -s decoded v$i || fail "tsv base64 of value $i does not decode to it"
done
pass

# --from: at a record's offset it starts there; one past it, at the next.
run 0 scan --format tsv --encoding hex --from "${offs[2]}"
[ "$(cut -f1 out | tr '\n' ' ')" = "${offs[2]} ${offs[3]} ${offs[4]} ${offs[5]} " ] ||
    fail "scan --from ${offs[2]} gave offsets $(cut -f1 out | tr '\n' ' ')"
pass
run 0 scan --format jsonl --from "$((offs[2] + 1))"
[ "$(wc -l < out)" = 3 ] && head -1 out | grep -q "\"offset\":${offs[3]}," ||
    fail "scan --from ${offs[2]}+1 does not resume at ${offs[3]}"
pass
run 0 scan --from "$pos"
expect_no_out
run 0 scan --ns missing
expect_no_out

done_checks
