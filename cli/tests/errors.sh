#!/usr/bin/env bash
# Wrong flags exit 2 with the usage text; bad offsets, bad roots and other
# failures exit 1 with libroche's message; nothing crashes.
source "$(dirname "$0")/lib.sh"

# Help: every command, every flag it takes, on stdout with status 0.
run 0 --help
for cmd in append get multiget scan stat verify delete-namespace \
           --root --ns --buckets --read-only --version; do
    grep -qF -- "$cmd" out || fail "roche --help does not mention $cmd"
done
pass
run 0 -h
grep -q '^usage: roche' out || fail "-h prints no usage"
pass
check_help() {  # check_help CMD FLAG...
    local cmd=$1
    shift
    run 0 "$cmd" --help
    grep -q "^usage: roche $cmd" out || fail "roche $cmd --help has no usage line"
    for flag in "$@" --root --ns --buckets --read-only; do
        grep -qF -- "$flag" out || fail "roche $cmd --help does not mention $flag"
    done
    pass
}
check_help append --id --file --lines --null -0
check_help get
check_help multiget --format raw jsonl --encoding text hex base64
check_help scan --format raw jsonl tsv --encoding --from
check_help stat
check_help verify --no-progress
check_help delete-namespace
run 0 --version
grep -q '^roche [0-9]*\.[0-9]*\.[0-9]* (libroche [0-9.]*)$' out || fail "--version: $(cat out)"
pass

# Usage errors.
usage_error "no command given"
usage_error "unknown command 'fetch'" fetch
usage_error "unknown option '--bogus'" --bogus get 0
usage_error "unknown option '--bogus'" get --bogus 0
usage_error "unknown option '-x'" get -x 0
usage_error "unknown option '--lines'" get --lines 0
usage_error "unknown option '-0'" scan -0
usage_error "option '--root' needs a value" get 0 --root
usage_error "option '--format' needs a value" scan --format
usage_error "get: missing operand" get
usage_error "offset: 'abc' is not a decimal number" get abc
usage_error "offset: '-1' is not a decimal number" get -- -1
usage_error "offset: '18446744073709551616' is not a decimal number" get 18446744073709551616
usage_error "offset: '' is not a decimal number" multiget ''
usage_error "--from: '1x' is not a decimal number" scan --from 1x
usage_error "--buckets must be 1..8191" --buckets 0 append
usage_error "--buckets must be 1..8191" append --buckets 8192
usage_error "--buckets: 'many' is not a decimal number" --buckets many append
usage_error "--format must be one of raw, jsonl, not 'tsv'" multiget --format tsv 0
usage_error "--format must be one of raw, jsonl, tsv, not 'xml'" scan --format xml
usage_error "--encoding must be text, hex or base64, not 'rot13'" scan --encoding rot13
usage_error "--lines and --null exclude each other" append --lines --null
usage_error "append: unexpected operand 'value'" append value
usage_error "stat: unexpected operand 'x'" stat x
usage_error "delete-namespace: missing operand" delete-namespace
usage_error "delete-namespace: unexpected operand 'b'" delete-namespace a b
[ ! -e "$ROCHE_ROOT" ] || fail "a usage error created the store"
pass
# The command's own usage, not the global one.
run 2 scan --format xml
expect_err "usage: roche scan"

# Bad offsets: past the end, inside a record, in a bucket with no file, in a
# namespace that does not exist.
printf 'first\nsecond\n' | run 0 --buckets 1 append --lines
mapfile -t offs < out
run 1 get "$((offs[1] + 16 + 6))"
expect_err "roche: not found: "
expect_clean_failure
run 1 get 3
expect_err "roche: corrupt record: "
run 1 get $((5 << 50))
expect_err "roche: not found: "
run 1 get --ns nowhere 0
expect_err "roche: not found: "
# get writes what it read before the bad offset; multiget writes nothing.
run 1 get "${offs[0]}" 3 "${offs[1]}"
expect_out "first"
for format in raw jsonl; do
    run 1 multiget --format "$format" "${offs[0]}" 3 "${offs[1]}"
    expect_err "roche: corrupt record: offset 3"
    expect_no_out
done
printf '0 x\n' | run 1 multiget
expect_err "roche: invalid argument: stdin: offset: 'x' is not a decimal number"
run 1 scan --ns ../escape
expect_err "roche: invalid argument: "
printf 'v' | run 1 append --ns .hidden
expect_err "roche: invalid argument: "

# Bad roots: missing (read commands create nothing), a regular file, a path
# through a regular file.
for cmd in "get 0" "multiget 0" "scan" "stat" "verify"; do
    run 1 --root "$work/absent" $cmd
    expect_err "roche: not found: "
    expect_no_out
    [ ! -e "$work/absent" ] || fail "roche $cmd created a missing root"
done
pass
touch plain-file
run 1 --root plain-file get 0
expect_err "roche: "
expect_clean_failure
printf 'v' | run 1 --root plain-file append
expect_err "roche: I/O error: "
printf 'v' | run 1 --root plain-file/sub append
expect_err "roche: I/O error: "
run 1 --root '' stat
expect_err "roche: invalid argument: "

# Inputs that cannot be read.
run 1 append --file "$work/no-such-file"
expect_err "roche: I/O error: $work/no-such-file: No such file or directory"
run 1 append --file "$work"
expect_err "roche: I/O error: $work: Is a directory"

# Another writer holds the store: writes fail at once, reads and stat go on.
exec 9< "$ROCHE_ROOT"
flock -n 9 || fail "could not take the store lock (an flock on its root directory) for the test"
printf 'v' | run 1 append
expect_err "roche: store locked by another writer"
run 0 get "${offs[0]}"
expect_out "first"
run 0 stat
grep -q 'recovery cut  *not run (opened read-only)' out || fail "stat beside a writer: $(cat out)"
pass
exec 9>&-
printf 'v' | run 0 append

# A closed stdout is a failure with a message, not a crash.
"$ROCHE" get "${offs[0]}" >&- 2> err && fail "get to a closed stdout succeeded"
expect_err "roche: writing to stdout: "

done_checks
