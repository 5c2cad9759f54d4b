#!/usr/bin/env bash
# roche cursor: set, get, list and delete a namespace's cursors, beside a
# live writer too; usage errors exit 2, failures 1 with libroche's message.
source "$(dirname "$0")/lib.sh"

# Help.
run 0 --help
grep -qF "cursor" out || fail "roche --help does not mention cursor"
pass
run 0 cursor --help
grep -q '^usage: roche cursor' out || fail "roche cursor --help has no usage line"
for word in list get set delete --ns --root --read-only; do
    grep -qF -- "$word" out || fail "roche cursor --help does not mention $word"
done
pass

# The namespace must exist: cursors never make one.
run 1 cursor set c 1
expect_err "roche: not found"
expect_clean_failure
printf 'v' | run 0 append
printf 'w' | run 0 --ns other append

# Set and get; set again overwrites.
run 0 cursor set reader 10 20 18446744073709551615
expect_no_out
run 0 cursor get reader
expect_out "10
20
18446744073709551615
"
run 0 cursor set reader 11
run 0 cursor get reader
expect_out "11
"

# List: sorted, one per line, per namespace.
run 0 cursor set alpha 1
run 0 cursor set Zed 2
run 0 cursor list
expect_out "Zed
alpha
reader
"
run 0 --ns other cursor list
expect_no_out
run 0 cursor --ns other set mine 5
run 0 --ns other cursor list
expect_out "mine
"
run 0 --ns other cursor get mine
expect_out "5
"

# Delete.
run 0 cursor delete alpha
expect_no_out
run 0 cursor list
expect_out "Zed
reader
"
run 1 cursor get alpha
expect_err "roche: not found"
expect_clean_failure
run 1 cursor delete alpha
expect_err "roche: not found"
[ -f "$ROCHE_ROOT/default/cursor.reader" ] || fail "no cursor file where the format says"
pass

# Failures: bad names, too many offsets, a missing store.
run 1 cursor set .hidden 1
expect_err "names starting with '.' are reserved"
expect_clean_failure
run 1 cursor set a/b 1
expect_err "'/' is not allowed"
run 1 cursor get "$(printf 'k%.0s' $(seq 201))"
expect_err "longer than 200 bytes"
run 1 cursor set many $(seq 8192)
expect_err "at most 8191 offsets"
run 1 --root "$work/nothing-here" cursor list
expect_err "roche: not found"
[ ! -e "$work/nothing-here" ] || fail "cursor list created a store"
pass

# Usage errors.
usage_error "cursor: unknown subcommand 'move'" cursor move
usage_error "cursor: missing operand" cursor
usage_error "cursor get: missing operand" cursor get
usage_error "cursor set: missing operand" cursor set reader
usage_error "cursor delete: missing operand" cursor delete
usage_error "cursor list: unexpected operand 'x'" cursor list x
usage_error "cursor get: unexpected operand 'b'" cursor get a b
usage_error "offset: 'abc' is not a decimal number" cursor set reader 1 abc
usage_error "unknown option '--bogus'" cursor list --bogus
run 0 cursor get reader
expect_out "11
"

# Beside a live writer: the tool reads and commits cursors read-only.
mkfifo hold.in
"${ROCHE_HOLD_WRITER:?set by ctest}" "$work/live" alpha < hold.in > hold.out &
exec 8> hold.in  # the writer holds the store until this closes
for _ in $(seq 100); do grep -q ready hold.out && break; sleep 0.1; done
grep -q ready hold.out || fail "hold_writer did not start"
pass
run 0 --root "$work/live" cursor set live 3 4
run 0 --root "$work/live" cursor get live
expect_out "3
4
"
run 0 --root "$work/live" --read-only cursor list
expect_out "live
"
run 0 --root "$work/live" cursor delete live
exec 8>&-
wait $! || fail "hold_writer failed to close the store"
pass

done_checks
