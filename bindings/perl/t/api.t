use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

my $root = fresh_root();

subtest 'append and get, in the default namespace and a named one' => sub {
    my $db = Roche->open($root);
    my $first = $db->append('first');
    my $second = $db->append('second');
    isnt($first, $second, 'each append has its own offset');
    is($db->get($first), 'first', 'get returns the value at an offset');
    is($db->get($second), 'second');

    my $event = $db->append('login', namespace => 'events', id => 'user-42');
    is($db->get($event, namespace => 'events'), 'login', 'a named namespace');
    is_roche_error { $db->get($event, namespace => 'nowhere') } ENOTFOUND, qr/not found/,
        'a namespace that does not exist';
    is_deeply([$db->namespaces], ['default', 'events'], 'namespaces lists both, sorted');
    $db->close;
};

subtest 'ids keep their records in one bucket, in order' => sub {
    my $db = Roche->open($root, buckets => 8);
    my @offsets = map { $db->append("v$_", id => 'user-7', namespace => 'ids') } 1 .. 5;
    my %buckets = map { ($_ >> 50) => 1 } @offsets;
    is(scalar keys %buckets, 1, 'one bucket for one id');
    is_deeply(\@offsets, [sort { $a <=> $b } @offsets], 'offsets grow');
    $db->close;
};

subtest 'append_many returns the offsets of its values, in order' => sub {
    my $db = Roche->open($root);
    my $offsets = $db->append_many([qw(a bb ccc)], namespace => 'batch');
    is(scalar @$offsets, 3, 'one offset per value');
    is_deeply([map { $db->get($_, namespace => 'batch') } @$offsets], [qw(a bb ccc)], 'each value at its offset');
    is_deeply($db->append_many([], namespace => 'batch'), [], 'an empty batch');
    $db->close;
};

subtest 'multi_get answers in request order, duplicates included' => sub {
    my $db = Roche->open($root);
    my $offsets = $db->append_many([map { "item $_" } 0 .. 99], namespace => 'many');
    my @request = (reverse(@$offsets), $offsets->[5], $offsets->[5]);
    my $values = $db->multi_get(\@request, namespace => 'many');
    is_deeply($values, [(map { "item $_" } reverse 0 .. 99), 'item 5', 'item 5'], 'values in request order');
    is_deeply($db->multi_get([], namespace => 'many'), [], 'no offsets, no values');
    $db->close;
};

subtest 'data survives close and reopen, with another bucket count' => sub {
    my $db = Roche->open($root, buckets => 2);
    my $offset = $db->append('kept', namespace => 'reopen');
    $db->close;
    $db = Roche->open($root, buckets => 16);
    is($db->get($offset, namespace => 'reopen'), 'kept', 'reopened store reads the old offset');
    $db->close;
};

subtest 'sync, stat, close_namespace and delete_namespace' => sub {
    my $db = Roche->open($root, sync => 'always');
    my $offset = $db->append('x' x 10, namespace => 'life');
    is($db->sync, undef, 'sync of every namespace');
    is($db->sync(namespace => 'life'), undef, 'sync of one namespace');

    my $stat = $db->stat(namespace => 'life');
    is($stat->{records}, 1, 'stat counts records');
    is($stat->{bytes}, 16 + 10, 'stat counts bytes, headers included');
    ok($stat->{newest_ns} > 1_600_000_000 * 1e9, 'stat has the append time in ns');

    $db->close_namespace(namespace => 'life');
    is($db->get($offset, namespace => 'life'), 'x' x 10, 'a closed namespace opens again on use');
    $db->delete_namespace(namespace => 'life');
    is_roche_error { $db->get($offset, namespace => 'life') } ENOTFOUND, undef, 'a deleted namespace is gone';
    ok(!-e "$root/life", 'its directory is removed');
    is_roche_error { $db->delete_namespace(namespace => 'life') } ENOTFOUND, undef, 'deleting it again';
    $db->close;
};

subtest 'read-only handles read beside the writer and refuse writes' => sub {
    my $writer = Roche->open($root);
    my $offset = $writer->append('shared', namespace => 'ro');
    my $reader = Roche->open($root, read_only => 1);
    is($reader->get($offset, namespace => 'ro'), 'shared', 'the reader sees the writer\'s append');
    is_roche_error { $reader->append('no', namespace => 'ro') } EREADONLY, qr/read-only/, 'append on a reader';
    is_roche_error { Roche->open($root) } ELOCKED, qr/\Aopen \Q$root\E: /, 'a second writer is locked out';
    $reader->close;
    $writer->close;
    is_roche_error { Roche->open("$root/absent", read_only => 1) } ENOTFOUND, undef,
        'read-only open of a missing store';
};

subtest 'Roche::Error carries code, name and message' => sub {
    my $db = Roche->open($root);
    my $err = error_of { $db->get(12345) };
    isa_ok($err, 'Roche::Error');
    is($err->code, ENOTFOUND, 'code is libroche\'s');
    is($err->name, 'ENOTFOUND', 'name');
    like($err->message, qr/\Aget 12345: not found/, 'message says which call and libroche\'s text');
    is("$err", $err->message, 'stringifies to the message');
    ok($err ? 1 : 0, 'an error is true');
    is(Roche::Error->new(-1, 'x')->name, 'E-1', 'an unknown code still has a name');
    $db->close;
};

done_testing;
