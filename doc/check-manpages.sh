#!/usr/bin/env bash
# Keeps the man pages from falling behind the code (ctest: doc_manpages):
# every command `roche --help` lists, and every long option it and each
# `roche COMMAND --help` print, must be in doc/roche.1.scd (serve's options
# in doc/roche-serve.1.scd), and every function roche.h declares must be in
# doc/libroche.3.scd.
#
#   doc/check-manpages.sh PATH/TO/roche
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PATH/TO/roche" >&2; exit 2; }
roche=$1
doc=$(cd "$(dirname "$0")" && pwd)
header=$doc/../include/roche.h
failures=0
missing() { echo "FAIL: $1"; failures=$((failures + 1)); }
# (grep -q reads here-strings, not pipes: with pipefail, a writer cut off
# by grep's early exit would fail the check.)
# The page sources escape '_' as '\_' and mark terms with '*'.
plain() { sed 's/\\_/_/g' "$1"; }

help=$("$roche" --help) || { echo "FAIL: $roche --help failed"; exit 1; }
commands=$(echo "$help" | sed -n '/^Commands:/,/^$/{s/^  \([a-z][a-z-]*\).*/\1/p}')
[ -n "$commands" ] || { echo "FAIL: no commands found in '$roche --help'"; exit 1; }
page=$(plain "$doc/roche.1.scd")
serve_page=$(plain "$doc/roche-serve.1.scd")
options=0
for cmd in $commands; do
  # A command is documented as a term of its own: "*cmd*" at a line's start.
  grep -q "^\*$cmd\*" <<< "$page" || missing "command '$cmd' (roche --help) is not documented in doc/roche.1.scd"
  target=$page where=roche.1.scd
  if [ "$cmd" = serve ]; then target=$serve_page where=roche-serve.1.scd; fi
  # serve's and kafka's help come from roche-serve and roche-kafka, built
  # only with libmicrohttpd and librdkafka.
  cmd_help=$("$roche" "$cmd" --help 2>&1) || { case $cmd in serve | kafka) continue ;; esac; missing "roche $cmd --help failed"; continue; }
  for opt in $(echo "$cmd_help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
    options=$((options + 1))
    grep -q -- "\*$opt\*" <<< "$target" || missing "option $opt of 'roche $cmd' is not documented in doc/$where"
  done
done
for opt in $(echo "$help" | grep -o -- '--[a-z][a-z-]*' | sort -u); do
  options=$((options + 1))
  grep -q -- "\*$opt\*" <<< "$page" || missing "global option $opt is not documented in doc/roche.1.scd"
done
functions=$(sed -n 's/^ROCHE_API [^(]*[ *]\(roche_[a-z0-9_]*\)(.*/\1/p' "$header")
api_page=$(plain "$doc/libroche.3.scd")
for fn in $functions; do
  grep -q "\*$fn\*(" <<< "$api_page" || missing "$fn (roche.h) is not in doc/libroche.3.scd"
done
[ "$failures" -eq 0 ] || exit 1
echo "man pages: $(echo $commands | wc -w) commands and $options options of roche, $(echo $functions | wc -w) functions of roche.h documented"
