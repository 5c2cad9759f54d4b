#!/usr/bin/perl
# Perl-side throughput of Roche: operations (values) per second for single
# calls and for batched calls, 100-byte values, one thread.
#   ROCHE_LIB=build/libroche/libroche.so perl -Ibindings/perl/lib bindings/perl/bench/bench.pl [COUNT] [BATCH]
use strict;
use warnings;

use File::Temp ();
use List::Util qw(shuffle);
use Time::HiRes qw(clock_gettime CLOCK_MONOTONIC);
use FFI::Platypus 1.00;
use Roche;

my $count = shift // 200_000;
my $batch = shift // 1000;
my $value = 'v' x 100;

sub measure {
    my ($label, $operations, $code) = @_;
    my $started = clock_gettime(CLOCK_MONOTONIC);
    $code->();
    my $seconds = clock_gettime(CLOCK_MONOTONIC) - $started;
    printf "%-28s %10d ops %8.3f s %12.0f ops/s\n", $label, $operations, $seconds, $operations / $seconds;
}

my $root = File::Temp::tempdir('roche-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $db = Roche->open($root);
my @offsets;
measure('append (100 B)', $count, sub { push @offsets, $db->append($value) for 1 .. $count });

my @values = ($value) x $batch;
measure("append_many ($batch x 100 B)", $count, sub {
    $db->append_many(\@values, namespace => 'batched') for 1 .. $count / $batch;
});

srand 1;
my @shuffled = shuffle @offsets;
measure('get', $count, sub { $db->get($_) for @shuffled });
measure("multi_get ($batch per call)", $count, sub {
    for (my $i = 0; $i < @shuffled; $i += $batch) {
        $db->multi_get([@shuffled[$i .. ($i + $batch < @shuffled ? $i + $batch : @shuffled) - 1]]);
    }
});
measure('scan', $count, sub {
    my $scan = $db->scan;
    1 while $scan->next;
});
# The floor of any single call: an attached function that does nothing.
measure('noop call (roche_version_number)', $count, sub { Roche::FFI::roche_version_number() for 1 .. $count });
# The floor of get's and append's calls: functions that do nothing, with
# their signatures, attached and called as Roche attaches and calls
# roche_get_into and roche_append (bench/bindings_noop.c; the build sets
# ROCHE_BENCH_NOOP).
if (my $noop = $ENV{ROCHE_BENCH_NOOP}) {
    my $ffi = FFI::Platypus->new(api => 1, lib => [$noop]);
    my $get = $ffi->function(roche_bench_noop_get => ['opaque', 'string', 'uint64', 'opaque', 'size_t', 'opaque'] => 'int');
    my $append = $ffi->function(roche_bench_noop_append => ['opaque', 'string', 'string', 'string', 'size_t', 'uint64*'] => 'int');
    $get->attach('main::noop_get');
    $append->attach('main::noop_append');
    my ($handle, $scratch) = ($db->{handle}, "\0" x 16);
    my $at = unpack 'Q', pack 'P', $scratch;
    measure('noop6 call, as get', $count, sub { main::noop_get($handle, undef, $_, $at, 4096, $at) for @shuffled });
    measure('noop6 call, as append', $count, sub { main::noop_append($handle, undef, undef, $value, 100, \my $offset) for 1 .. $count });
}
$db->close;
