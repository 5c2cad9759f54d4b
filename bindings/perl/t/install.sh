#!/bin/sh
# `perl Makefile.PL && make && make test && make install` of the Perl
# binding from a clean copy of the committed tree, into a temporary prefix
# (INSTALL_BASE; nothing system-wide), then a tiny program that loads the
# installed copy: once finding libroche through ROCHE_LIB, once through the
# system loader (LD_LIBRARY_PATH), as an installed libroche would be found.
#   ROCHE_LIB  the libroche.so to use (ctest sets it)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${ROCHE_LIB:?set ROCHE_LIB to the path of libroche.so}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$here/../committed_tree.sh"
src="$tmp/src"
copy_committed_tree "$here" "$src"
cd "$src"
run() { "$@" >"$tmp/step.log" 2>&1 || { cat "$tmp/step.log"; echo "failed: $*" >&2; exit 1; }; }
run perl Makefile.PL INSTALL_BASE="$tmp/prefix"
run make
run make test
run make install

cd "$tmp"
program='
use strict; use warnings;
use File::Temp ();
use Roche;
my $where = $INC{"Roche.pm"};
die "loaded $where, not the installed copy\n" unless index($where, "$ENV{PREFIX}/") == 0;
my $root = File::Temp::tempdir(CLEANUP => 1);
my $db = Roche->open($root);
my $offset = $db->append("installed", namespace => "events");
die "get\n" unless $db->get($offset, namespace => "events") eq "installed";
die "stat\n" unless $db->stat(namespace => "events")->{records} == 1;
$db->close;
print "ok $Roche::VERSION with libroche ", Roche->library_version, " from ", Roche->library_path, "\n";
'
export PREFIX="$tmp/prefix"
perl -I"$tmp/prefix/lib/perl5" -e "$program"
env -u ROCHE_LIB LD_LIBRARY_PATH="$(dirname "$ROCHE_LIB")" perl -I"$tmp/prefix/lib/perl5" -e "$program"
