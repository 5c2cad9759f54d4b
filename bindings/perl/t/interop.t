use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

# roche_interop is the C side (tests/interop.c); CMake passes its path.
my $interop = $ENV{ROCHE_INTEROP};
plan skip_all => 'set ROCHE_INTEROP to the roche_interop program (ctest does)'
    unless defined $interop && -x $interop;

# Run roche_interop and return its output lines; croak on failure.
sub interop {
    open my $out, '-|', $interop, @_ or die "$interop: $!";
    chomp(my @lines = <$out>);
    close $out or die "roche_interop @_[0 .. 2] failed: exit " . ($? >> 8) . "\n";
    return @lines;
}

my @values = ("plain", "", "nul\0inside", "\0", join('', map { chr } 0 .. 255), "\xff\xfe");

subtest 'written from Perl, read from C' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 3);
    my $offsets = $db->append_many([@values[0 .. 2]], namespace => 'p2c');
    push @$offsets, map { $db->append($values[$_], namespace => 'p2c', id => "id-$_") } 3 .. 5;

    is_deeply([interop('read', $root, 'p2c', @$offsets)], [map { unpack 'H*', $_ } @values],
              'C reads every value, beside the open Perl writer');
    $db->close;
    is_deeply([interop('read', $root, 'p2c', @$offsets)], [map { unpack 'H*', $_ } @values],
              'and after Perl closed the store');
    my ($bad) = interop('read', $root, 'p2c', $offsets->[0] + 1);
    is($bad, 'ERR ' . ECORRUPT, 'C reports the code Perl would for a bad offset');
};

subtest 'written from C, read from Perl' => sub {
    my $root = fresh_root();
    my @offsets = interop('write', $root, 'c2p', map { unpack 'H*', $_ } @values);
    is(scalar @offsets, scalar @values, 'C printed one offset per value');

    my $db = Roche->open($root, read_only => 1);
    is_deeply([map { $db->get($_, namespace => 'c2p') } @offsets], \@values, 'get');
    is_deeply($db->multi_get(\@offsets, namespace => 'c2p'), \@values, 'multi_get');
    my (%scanned, @record);
    my $scan = $db->scan(namespace => 'c2p');
    $scanned{ $record[0] } = $record[1] while (@record = $scan->next);
    is_deeply(\%scanned, { map { ($offsets[$_] => $values[$_]) } 0 .. $#values }, 'scan');
    $db->close;
};

done_testing;
