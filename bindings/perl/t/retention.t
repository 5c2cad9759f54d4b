use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Time::HiRes ();
use Roche;
use Roche::Error qw(:codes);

my $VALUE = 'z' x 2000;
my $RECORD = 16 + length $VALUE;

# Twenty records in bucket 0 of 'log', appended one by one (a batch shares
# one time, which retention does not split).
sub twenty {
    my $db = shift;
    return [map { $db->append($VALUE, namespace => 'log') } 1 .. 20];
}

subtest 'retain drops the oldest records; a get of one croaks Roche::Error::Dropped' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1);
    my $off = twenty($db);
    is($db->retain(namespace => 'log'), 0, 'no limits: nothing freed');
    is($db->retain(namespace => 'log', max_bytes => 5 * $RECORD), 15 * $RECORD, 'keep the newest 5: bytes freed');
    is($db->retain(namespace => 'log', max_bytes => 5 * $RECORD), 0, 'again: nothing more');
    is_deeply([$db->bucket_range(0, namespace => 'log')], [$off->[15], $off->[19] + $RECORD],
              'bucket_range: the first record kept and the end');
    is_deeply([$db->bucket_range(1, namespace => 'log')], [1 << 50, 1 << 50], 'a bucket with no file: its offset 0, twice');

    my $err = error_of { $db->get($off->[3], namespace => 'log') };
    isa_ok($err, 'Roche::Error::Dropped', 'the error');
    isa_ok($err, 'Roche::Error', 'the error');
    is($err->code, EDROPPED, 'code EDROPPED');
    is($err->name, 'EDROPPED', 'name');
    is($err->offset, $off->[3], 'offset: the one asked for');
    like("$err", qr/\Aget \d+: dropped by retention/, 'message');
    is($db->get($off->[15], namespace => 'log'), $VALUE, 'the first record kept reads');

    my $values = $db->multi_get([$off->[0], $off->[19]], namespace => 'log');
    isa_ok($values->[0], 'Roche::Error::Dropped', 'multi_get: the dropped slot');
    is($values->[0]->offset, $off->[0], 'with its offset');
    is($values->[1], $VALUE, 'and the kept one');

    my $stat = $db->stat(namespace => 'log');
    is($stat->{dropped_records}, 15, 'stat: dropped_records');
    is($stat->{dropped_bytes}, 15 * $RECORD, 'stat: dropped_bytes');
    is($stat->{records}, 5, 'stat: records kept');
    my @scanned;
    my $scan = $db->scan(namespace => 'log');
    while (my ($offset) = $scan->next) { push @scanned, $offset }
    is_deeply(\@scanned, [@$off[15 .. 19]], 'a scan starts at the first record kept');
    $db->close;
};

subtest 'retain by age' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1);
    my $old = twenty($db);
    Time::HiRes::sleep(0.05);
    my $cut = sprintf '%.0f', Time::HiRes::time() * 1e9;
    my $new = $db->append('new', namespace => 'log');
    is($db->retain(namespace => 'log', older_than_ns => $cut), 20 * $RECORD, 'every record older than the cut');
    is_deeply([$db->bucket_range(0, namespace => 'log')], [$new, $new + 16 + 3], 'the new record is kept');
    $db->close;
};

subtest 'a follower learns of records dropped before it read them, and goes on' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1);
    # Records a follower fetched in a batch are handed out even if retention
    # drops them since: it fetches record 0 alone, before the others exist.
    my $off = [$db->append($VALUE, namespace => 'log')];
    my $f = $db->follow(namespace => 'log');
    is(($f->next(timeout => 0))[0], $off->[0], 'the follower read record 0');
    push @$off, map { $db->append($VALUE, namespace => 'log') } 2 .. 20;
    $db->retain(namespace => 'log', max_bytes => 5 * $RECORD);
    my $err = error_of { $f->next(timeout => 0) };
    isa_ok($err, 'Roche::Error::Dropped', 'next croaks');
    is($err->offset, $off->[1], 'offset: where the follower was');
    like("$err", qr/\Anext: dropped by retention/, 'message');
    is_deeply([map { ($f->next(timeout => 0))[0] } 15 .. 19], [@$off[15 .. 19]], 'then the records kept, in order');
    is_deeply([$f->next(timeout => 0)], [], 'and nothing more');

    my $g = $db->follow(namespace => 'log', from => [$off->[3]]);
    $err = error_of { $g->next(timeout => 0) };
    ok(ref $err && $err->isa('Roche::Error::Dropped') && $err->offset == $off->[3],
       'a follower started below the first record kept is told, with its start');
    is(($g->next(timeout => 0))[0], $off->[15], 'and goes on at the first record kept');
    is(($db->follow(namespace => 'log')->next(timeout => 0))[0], $off->[15],
       'a follower from the start begins at the first record kept, silently');
    $db->close;
};

subtest 'retention as an open option: the writer applies it about once a second' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1, retention => { max_bytes => 5 * $RECORD, max_age => 3600 });
    my $off = twenty($db);
    my $deadline = Time::HiRes::time() + 10;
    my $first;
    until ((($first) = $db->bucket_range(0, namespace => 'log')) && $first == $off->[15]) {
        last if Time::HiRes::time() > $deadline;
        Time::HiRes::sleep(0.1);
    }
    is($first, $off->[15], 'the oldest 15 records were dropped');
    is_roche_error { $db->get($off->[0], namespace => 'log') } EDROPPED, qr/dropped/, 'and read as dropped';
    $db->close;
};

subtest 'errors: read-only, missing namespace, bad arguments; ENOTSUP is known' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 1);
    twenty($db);
    my $reader = Roche->open($root, read_only => 1);
    is_roche_error { $reader->retain(namespace => 'log', max_bytes => 1) } EREADONLY, qr/\Aretain log: /, 'read-only';
    $reader->close;
    is_roche_error { $db->retain(namespace => 'nope', max_bytes => 1) } ENOTFOUND, undef, 'no such namespace';
    is_roche_error { $db->bucket_range(0, namespace => 'nope') } ENOTFOUND, undef, 'bucket_range: no such namespace';
    my @cases = (
        ['retain: max_bytes -1',        sub { $db->retain(namespace => 'log', max_bytes => -1) }, qr/max_bytes: must be a non-negative integer/],
        ['retain: older_than_ns "x"',   sub { $db->retain(namespace => 'log', older_than_ns => 'x') }, qr/older_than_ns/],
        ['retain: older_than_ns a ref', sub { $db->retain(namespace => 'log', older_than_ns => []) }, qr/older_than_ns/],
        ['retain: an unknown option',   sub { $db->retain(namespace => 'log', max_age => 1) }, qr/unknown option 'max_age'/],
        ['bucket_range: undef',         sub { $db->bucket_range(undef, namespace => 'log') }, qr/bucket: must be/],
        ['bucket_range: -1',            sub { $db->bucket_range(-1, namespace => 'log') }, qr/bucket: must be/],
        ['bucket_range: 2**32',         sub { $db->bucket_range(2**32, namespace => 'log') }, qr/at most 4294967295/],
        ['bucket_range: 8191',          sub { $db->bucket_range(8191, namespace => 'log') }, qr/past the last/],
        ['open: retention not a hash',  sub { Roche->open("$root-2", retention => 5) }, qr/retention must be a hash reference/],
        ['open: retention unknown key', sub { Roche->open("$root-2", retention => { max_size => 5 }) }, qr/unknown key 'max_size'/],
        ['open: max_age -1',            sub { Roche->open("$root-2", retention => { max_age => -1 }) }, qr/max_age must be/],
        ['open: max_age "soon"',        sub { Roche->open("$root-2", retention => { max_age => 'soon' }) }, qr/max_age must be/],
        ['open: max_bytes 1.5',         sub { Roche->open("$root-2", retention => { max_bytes => 1.5 }) }, qr/max_bytes/],
    );
    for my $case (@cases) {
        my ($name, $call, $pattern) = @$case;
        is_roche_error { $call->() } EINVAL, $pattern, $name;
    }
    ok(!-e "$root-2", 'no failed open made a store');
    is(ENOTSUP, -30913, 'ENOTSUP is exported');
    is(Roche::Error->new(ENOTSUP, 'retain log: not supported by the file system')->name, 'ENOTSUP',
       'and named (retain croaks it where the file system cannot punch holes)');
    $db->close;
};

done_testing;
