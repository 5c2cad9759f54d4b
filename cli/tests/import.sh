#!/usr/bin/env bash
# import --from-rochefort: a data directory written by rochefort v0.5 itself
# (fixtures/rochefort-v0.5, see its README) becomes a libroche store in
# place: every offset rochefort returned reads back its value, only the
# 4-byte checks change, dry runs and re-runs change nothing, a killed import
# finishes on a re-run, and a damaged record stops the walk of its bucket
# without touching what follows it.
source "$(dirname "$0")/lib.sh"

fixture="$(cd "$(dirname "$0")" && pwd)/fixtures/rochefort-v0.5"
writer=${ROCHEFORT_WRITER:?set by ctest: the path of roche_cli_rochefort_writer}
rf="$work/rf"

fresh() { rm -rf "$rf"; cp -r "$fixture/data" "$rf"; }

# sums DIR: one line per file (bucket files and anything else), path and hash.
sums() { (cd "$1" && find . -type f | sort | xargs sha256sum); }

# The manifest without its comment line: namespace, offset, length, file.
manifest() { grep -v '^#' "$fixture/manifest.tsv"; }

# --- Without import: --store-format rochefort reads and appends in place;
# the default format refuses the directory and changes nothing.
fresh
sums "$rf" > fresh.sums
run 1 --root "$rf" --ns events get 0
expect_err "roche_options_set_format(ROCHE_FORMAT_ROCHEFORT)"
expect_err "roche import --from-rochefort"
printf 'x' | run 1 --root "$rf" --ns events append --id a
run 1 --root "$rf" verify
sums "$rf" | cmp -s - fresh.sums || fail "a refused open changed the store"
pass
while IFS=$'\t' read -r ns offset length file; do
    run 0 --root "$rf" --store-format rochefort --ns "$ns" get "$offset"
    expect_out_file "$fixture/values/$file"
done < <(manifest)
printf 'in place' | run 0 --root "$rf" --ns events --store-format rochefort append --id a
[ "$(($(cat out) >> 50))" = 3 ] || fail "id a is not in rochefort's bucket 3"
run 0 --root "$rf" --store-format rochefort verify
expect_out "verified 2 namespaces: 8 records, 102600 bytes; 0 damaged ranges (0 bytes)
"
run 2 import --from-rochefort "$rf" --store-format rochefort
expect_err "does not apply"
run 2 --root "$rf" --store-format bogus stat

# --- That store (companions made in rochefort's format), with records
# rochefort appended after libroche closed it, converts too: checked
# through the library first, its companions dropped, every header
# converted, the companions built again.
"$writer" "$rf" events 8 16 > /dev/null
run 0 --root "$rf" --store-format rochefort --ns events stat   # a writable open indexes them
run 0 --root "$rf" --store-format rochefort verify
expect_out "verified 2 namespaces: 24 records, 102990 bytes; 0 damaged ranges (0 bytes)
"
sums "$rf" > compat.sums
run 0 import --from-rochefort "$rf" --dry-run
expect_out "dry run: would convert 24 records, 0 already converted, in 2 namespaces (16 bucket files); nothing written
"
sums "$rf" | cmp -s - compat.sums || fail "a dry run changed the store"
pass
run 0 import --from-rochefort "$rf"
expect_out "converted 24 records, 0 already converted, in 2 namespaces (16 bucket files)
verified 2 namespaces: 24 records, 102990 bytes; 0 damaged ranges (0 bytes)
"
while IFS=$'\t' read -r ns offset length file; do
    run 0 --root "$rf" --ns "$ns" get "$offset"
    expect_out_file "$fixture/values/$file"
done < <(manifest)
run 1 --root "$rf" --store-format rochefort --ns events get 0
expect_err "roche_options_set_format(ROCHE_FORMAT_ROCHE)"
# A value damaged under a companion in rochefort's format stops the import
# before anything changes.
fresh
run 0 --root "$rf" --store-format rochefort stat
printf 'X' | dd of="$rf/events/append.3.raw" bs=1 seek=$((32 + 16 + 500)) conv=notrunc status=none
sums "$rf" > damaged.sums
run 1 import --from-rochefort "$rf"
expect_err "1 damaged record"
sums "$rf" | cmp -s - damaged.sums || fail "an import refused for damage changed the store"
pass

# --- Dry run: reports, writes nothing.
fresh
run 0 import --from-rochefort "$rf" --dry-run
expect_out "dry run: would convert 7 records, 0 already converted, in 2 namespaces (16 bucket files); nothing written
"
diff -r "$fixture/data" "$rf" > /dev/null || fail "a dry run changed the store"
pass

# --- The import.
run 0 import --from-rochefort "$rf"
expect_out "converted 7 records, 0 already converted, in 2 namespaces (16 bucket files)
verified 2 namespaces: 7 records, 102576 bytes; 0 damaged ranges (0 bytes)
"

# Every offset rochefort returned reads its value back, byte for byte.
while IFS=$'\t' read -r ns offset length file; do
    run 0 --root "$rf" --ns "$ns" get "$offset"
    expect_out_file "$fixture/values/$file"
    [ "$(wc -c < "$work/out")" = "$length" ] || fail "$ns $offset: length"
done < <(manifest)
run 0 --root "$rf" verify
expect_out "verified 2 namespaces: 7 records, 102576 bytes; 0 damaged ranges (0 bytes)
"

# Only the checks changed: with bytes 12..15 of every record header blanked
# in both, each bucket file is the same as rochefort wrote it. (The manifest
# lists every record of the fixture.)
mkdir -p blank/a blank/b
for raw in "$fixture"/data/*/append.*.raw; do
    rel=${raw#"$fixture/data/"}
    cp "$raw" "blank/a/${rel//\//_}"
    head -c "$(wc -c < "$raw")" "$rf/$rel" > "blank/b/${rel//\//_}"  # libroche may reserve space past it
done
while IFS=$'\t' read -r ns offset length file; do
    bucket=$((offset >> 50)) pos=$((offset & ((1 << 50) - 1)))
    for side in a b; do
        dd if=/dev/zero of="blank/$side/${ns}_append.$bucket.raw" bs=1 seek=$((pos + 12)) count=4 \
            conv=notrunc status=none
    done
done < <(manifest)
diff -r blank/a blank/b > /dev/null || fail "the import changed more than the checks"
pass
cmp -s "$fixture/data/events/append.3.raw" "$rf/events/append.3.raw" &&
    fail "the import changed nothing"
pass

# A re-run converts nothing more and changes no byte.
sums "$rf" > before.sums
run 0 import --from-rochefort "$rf"/
expect_out "converted 0 records, 0 already converted, in 2 namespaces (16 bucket files)
skipped 16 bucket files libroche already owns (a companion append.<n>.idx is beside each)
verified 2 namespaces: 7 records, 102576 bytes; 0 damaged ranges (0 bytes)
"
sums "$rf" | cmp -s - before.sums || fail "a re-run changed the store"
pass

# The store is a libroche store now: it takes appends.
printf 'after' | run 0 --root "$rf" --ns events append
run 0 --root "$rf" --ns events get "$(cat out)"
expect_out "after"

# --- One namespace only.
fresh
run 0 import --from-rochefort "$rf" --ns events
expect_out "converted 3 records, 0 already converted, in 1 namespace (8 bucket files)
verified 1 namespace: 3 records, 102465 bytes; 0 damaged ranges (0 bytes)
"
diff -r "$fixture/data/default" "$rf/default" > /dev/null || fail "--ns events changed default"
pass
run 0 import --from-rochefort "$rf" --dry-run
expect_out "dry run: would convert 4 records, 0 already converted, in 2 namespaces (16 bucket files); nothing written
skipped 8 bucket files libroche already owns (a companion append.<n>.idx is beside each)
"

# --- Space reserved past the last record (zeros) is no tail.
fresh
truncate -s +4096 "$rf/default/append.3.raw"
run 0 import --from-rochefort "$rf" --ns default
expect_out "converted 4 records, 0 already converted, in 1 namespace (8 bucket files)
verified 1 namespace: 4 records, 111 bytes; 0 damaged ranges (0 bytes)
"

# --- A damaged record in the middle of default's bucket 3 (records at 0,
# 32 and 63 of 95 bytes; a byte of the second one's time flipped): the walk
# converts the first, reports 32..95 and leaves those bytes as they are; the
# other buckets are converted; the store is not opened for writing (that
# would cut the tail), so no companion appears.
fresh
printf '\125' | dd of="$rf/default/append.3.raw" bs=1 seek=$((32 + 5)) conv=notrunc status=none
cp "$rf/default/append.3.raw" damaged.raw
run 1 import --from-rochefort "$rf"
expect_out "not converted: default bucket 3 bytes 32..95 (63 bytes): no rochefort or libroche record at 32
converted 5 records, 0 already converted, in 2 namespaces (16 bucket files)
"
expect_err "roche: corrupt record: 1 tail not converted (63 bytes); left as they are, and the store was not opened for writing (that would cut them)"
cmp -s <(tail -c +33 damaged.raw) <(tail -c +33 "$rf/default/append.3.raw") ||
    fail "the import changed bytes past the damaged record"
pass
[ -z "$(find "$rf" -name '*.idx')" ] || fail "the store was opened for writing despite a tail"
pass
# The records before the damage and in the other namespace read (headers
# checked; no companion yet).
run 0 --root "$rf" --read-only get 3377699720527872
expect_out_file "$fixture/values/v1"
run 0 --root "$rf" --read-only --ns events get 3377699720527904
expect_out_file "$fixture/values/v4"
# A re-run finds the same tail and nothing more to convert.
run 1 import --from-rochefort "$rf"
expect_out "not converted: default bucket 3 bytes 32..95 (63 bytes): no rochefort or libroche record at 32
converted 0 records, 5 already converted, in 2 namespaces (16 bucket files)
"
run 1 import --from-rochefort "$rf" --dry-run
expect_err "1 tail not converted (63 bytes); an import would leave them as they are"

# --- A crash mid-way: the test hook kills the import with SIGKILL right
# after its 1000th rewrite; a dry run then sees both kinds of check, and a
# re-run converts the rest and every record reads back.
big="$work/big"
"$writer" "$big" default 4 20000 --list | sort > big.want
# The installed tool has no hook: the same variable changes nothing there.
ROCHE_IMPORT_CRASH_AFTER=1000 "$ROCHE" import --from-rochefort "$big" --dry-run > out 2> err || fail "dry run with the variable set"
grep -q "would convert 20000 records" out || fail "the installed tool obeyed the test hook: $(cat out)"
ROCHE_IMPORT_CRASH_AFTER=1000 "${ROCHE_HOOKED:?the test-hook build of roche}" import --from-rochefort "$big" > out 2> err && fail "no crash"
run 0 import --from-rochefort "$big" --dry-run
expect_out "dry run: would convert 19000 records, 1000 already converted, in 1 namespace (4 bucket files); nothing written
"
run 0 import --from-rochefort "$big"
expect_out "converted 19000 records, 1000 already converted, in 1 namespace (4 bucket files)
verified 1 namespace: 20000 records, 548890 bytes; 0 damaged ranges (0 bytes)
"
run 0 --root "$big" scan --format tsv
cut -f1,4 out | sort | cmp -s - big.want || fail "after a crash and a re-run, scan differs"
pass

# And a real SIGKILL at an arbitrary moment of a larger import (wherever it
# lands, even after the end), then a re-run.
rm -rf "$big"
"$writer" "$big" default 4 600000 --list | sort > big.want
"$ROCHE" import --from-rochefort "$big" --no-progress > out 2> err &
pid=$!
sleep 0.3
kill -KILL "$pid" 2> /dev/null || true
wait "$pid" 2> /dev/null || true
run 0 import --from-rochefort "$big" --dry-run
echo "killed import: $(head -1 out)"
run 0 import --from-rochefort "$big"
grep -q '^verified 1 namespace: 600000 records, [0-9]* bytes; 0 damaged ranges (0 bytes)$' out ||
    fail "after a SIGKILL and a re-run: $(cat out)"
pass
run 0 --root "$big" scan --format tsv
cut -f1,4 out | sort | cmp -s - big.want || fail "after a SIGKILL and a re-run, scan differs"
pass
rm -rf "$big"

# --- Another writer has the store: the import refuses before changing it.
fresh
mkfifo hold.in
"${ROCHE_HOLD_WRITER:?set by ctest}" "$rf" < hold.in > hold.out 2>&1 &
exec 8> hold.in
for _ in $(seq 100); do grep -q ready hold.out && break; sleep 0.1; done
grep -q ready hold.out || fail "hold_writer did not start"
pass
run 1 import --from-rochefort "$rf"
expect_err "another handle has it open for writing"
exec 8>&-
wait
for raw in "$fixture"/data/*/append.*.raw; do
    cmp -s "$raw" "$rf/${raw#"$fixture/data/"}" || fail "a refused import changed $raw"
done
pass

# --- Usage errors (2) and failures (1).
run 2 import
expect_err "roche: import: --from-rochefort DIR is required"
expect_err "usage: roche import"
run 2 import --from-rochefort
expect_err "needs a value"
run 2 import --from-rochefort "$rf" extra
expect_err "unexpected operand 'extra'"
run 2 --root "$rf" import --from-rochefort "$rf"
expect_err "--root is not used"
run 2 import --from-rochefort "$rf" --bogus
expect_err "unknown option '--bogus'"
run 2 import --from-rochefort "$rf" --read-only
expect_err "--read-only"
run 1 import --from-rochefort "$work/nowhere"
expect_clean_failure
expect_err "no such directory"
fresh
run 1 import --from-rochefort "$rf" --ns nosuch
expect_clean_failure
expect_err "no namespace 'nosuch'"
diff -r "$fixture/data" "$rf" > /dev/null || fail "a failed import changed the store"
pass
run 0 import --help
grep -q -- '--dry-run' out || fail "import --help lacks --dry-run"
pass

done_checks
