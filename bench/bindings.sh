#!/bin/sh
# Measures the bindings and writes bench/results/bindings.csv, which the
# next bench/run.sh copies into results.md:
#   language,workload,ops_per_s,ratio_to_c
# Each binding's own bench target runs the same loops (100-byte values;
# batches of 1000 for append_many and multiget). Java's target measures its
# own C baseline in the same process run; Perl's runs the same loops in C
# beside the Perl ones, and that C run is the baseline for Ruby too (Ruby's
# target has none of its own), so Ruby and Perl run back to back. Python's
# target runs the same C loops first (the same baseline program) and then
# py-lmdb's put and get, whose rows (language py-lmdb) are set beside C's
# append and get.
# "scan" is a full scan of the namespace the appends wrote (Ruby's "each"),
# records per second, each value copied into the language; its C figure is
# roche_scan_next_batch, 1024 records a call, each value copied out once.
# Each binding row also reports "noop", the rate of an attached C function
# that does nothing (roche_version_number): the floor of one call from that
# language. Perl and Ruby also report "noop_get" and "noop_append": no-op C
# functions with the six arguments of roche_get_into and roche_append
# (bench/bindings_noop.c), attached and called as the binding calls those,
# the floor beside which its single get and append are read.
#   BUILD  a configured build tree with the bindings on (default: build)
#   LANGS  the bindings to measure (default: "java perl ruby python"); Ruby
#          needs perl (its C baseline)
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=bench/results
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

LANGS=${LANGS:-java perl ruby python}
for lang in java perl ruby python; do
  case " $LANGS " in *" $lang "*) ;; *) : >"$tmp/$lang.log"; continue ;; esac
  cmake --build "$BUILD" --target "bench-$lang" >"$tmp/$lang.log" 2>&1 ||
    { cat "$tmp/$lang.log" >&2; echo "bench-$lang failed" >&2; exit 1; }
done

# "<name> ... <N> ops/s" lines, named by workload, for one language.
pick() { # log section-pattern
  awk -v section="$2" '
    /^C, libroche directly:/ { in_c = 1; next }
    /^Perl, through Roche:/  { in_c = 0; next }
    /^Python, through roche:/ { in_c = 0; next }
    {
      lang = ""
      if ($1 == "c" || $1 == "java") { lang = $1; sub(/^(c|java) +/, "") }
      else lang = in_c ? "c" : "binding"
      if (section == "java" && lang != "java") next
      if (section == "c" && lang != "c") next
      if (section == "binding" && lang != "binding") next
      if (section == "lmdb" && lang != "binding") next
      w = ""
      if ($0 ~ /^append \(100 B\)/) w = "append"
      else if ($0 ~ /^(appendMany|append_many)/) w = "append_many"
      else if ($0 ~ /^get /) w = "get"
      else if ($0 ~ /^(multiGet|multi_get)/) w = "multiget"
      else if ($0 ~ /^noop call/) w = "noop"
      else if ($0 ~ /^noop6 call, as get/) w = "noop_get"
      else if ($0 ~ /^noop6 call, as append/) w = "noop_append"
      else if ($0 ~ /^(scan|each) +[0-9]/) w = "scan"
      else if (section == "lmdb" && $0 ~ /^lmdb put \(100 B\)/) w = "append"
      else if (section == "lmdb" && $0 ~ /^lmdb put \([0-9]+ per txn\)/) w = "append_many"
      else if (section == "lmdb" && $0 ~ /^lmdb get /) w = "get"
      if (section == "lmdb" && $0 !~ /^lmdb /) next
      if (section != "lmdb" && $0 ~ /^lmdb /) next
      if (section == "lmdb") lang = "lmdb"
      if (w == "") next
      for (i = 2; i <= NF; i++) if ($i == "ops/s") print w, $(i - 1)
    }' "$1"
}

pick "$tmp/java.log" c >"$tmp/c-java"
pick "$tmp/java.log" java >"$tmp/java"
pick "$tmp/perl.log" c >"$tmp/c-perl"
pick "$tmp/perl.log" binding >"$tmp/perl"
pick "$tmp/ruby.log" binding >"$tmp/ruby"
pick "$tmp/python.log" c >"$tmp/c-python"
pick "$tmp/python.log" binding >"$tmp/python"
pick "$tmp/python.log" lmdb >"$tmp/lmdb"

mkdir -p "$OUT"
{
  echo "language,workload,ops_per_s,ratio_to_c"
  for pair in "Java c-java java" "Perl c-perl perl" "Ruby c-perl ruby" "Python c-python python" \
              "py-lmdb c-python lmdb"; do
    set -- $pair
    measured=$(echo "$3" | sed 's/^lmdb$/python/')
    case " $LANGS " in
      *" $measured "*) ;;
      *) # not measured this run: keep its rows from the last one
        [ -f "$OUT/bindings.csv" ] && grep "^$1," "$OUT/bindings.csv" || true
        continue ;;
    esac
    awk -v lang="$1" 'NR == FNR { c[$1] = $2; next }
      ($1 in c) && c[$1] > 0 { printf "%s,%s,%d,%.2f\n", lang, $1, $2, $2 / c[$1]; next }
      $1 ~ /^noop/ { printf "%s,%s,%d,\n", lang, $1, $2 }' \
      "$tmp/$2" "$tmp/$3"
  done
} >"$tmp/bindings.csv"
mv "$tmp/bindings.csv" "$OUT/bindings.csv"
cat "$OUT/bindings.csv"
