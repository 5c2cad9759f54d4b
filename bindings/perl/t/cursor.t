use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

my $root = fresh_root();
my $db = Roche->open($root, buckets => 2);
$db->append('x', namespace => 'events');

subtest 'commit, get, list, delete' => sub {
    my @position = (17, (1 << 50) + 5, '18446744073709551615');
    is($db->cursor_commit('consumer-1', \@position, namespace => 'events'), undef, 'commit');
    is_deeply($db->cursor_get('consumer-1', namespace => 'events'), [17, (1 << 50) + 5, '18446744073709551615'],
              'get returns the offsets, the largest included');
    $db->cursor_commit('consumer-1', [40, 50], namespace => 'events');
    is_deeply($db->cursor_get('consumer-1', namespace => 'events'), [40, 50], 'a commit replaces the position');
    $db->cursor_commit('empty', [], namespace => 'events');
    is_deeply($db->cursor_get('empty', namespace => 'events'), [], 'no offsets is a position too');
    $db->cursor_commit($_, [9], namespace => 'events') for qw(zeta alpha Mid);
    is_deeply([$db->cursor_list(namespace => 'events')], [qw(Mid alpha consumer-1 empty zeta)], 'list, sorted');
    is($db->cursor_delete('alpha', namespace => 'events'), undef, 'delete');
    is_deeply([$db->cursor_list(namespace => 'events')], [qw(Mid consumer-1 empty zeta)], 'gone from the list');
    is_roche_error { $db->cursor_get('alpha', namespace => 'events') } ENOTFOUND, qr/\Acursor_get alpha: not found/,
        'get of a deleted cursor: ENOTFOUND';
    is_roche_error { $db->cursor_delete('alpha', namespace => 'events') } ENOTFOUND, undef, 'delete it again: ENOTFOUND';
};

subtest 'a missing cursor or namespace is ENOTFOUND' => sub {
    is_roche_error { $db->cursor_get('never', namespace => 'events') } ENOTFOUND, qr/not found/, 'get, no such cursor';
    is_roche_error { $db->cursor_commit('c', [1], namespace => 'nope') } ENOTFOUND, undef, 'commit, no such namespace';
    is_roche_error { $db->cursor_get('c', namespace => 'nope') } ENOTFOUND, undef, 'get, no such namespace';
    is_roche_error { $db->cursor_list(namespace => 'nope') } ENOTFOUND, undef, 'list, no such namespace';
    ok(!-e "$root/nope", 'nothing was made');
};

subtest 'the default namespace, and other namespaces have their own' => sub {
    $db->append('y');
    $db->cursor_commit('c', [3]);
    is_deeply($db->cursor_get('c', namespace => 'default'), [3], 'namespace undef is "default"');
    is_deeply([$db->cursor_list], ['c'], 'listed there');
    ok(!grep({ $_ eq 'c' } $db->cursor_list(namespace => 'events')), 'not in another namespace');
};

subtest 'a read-only handle commits cursors beside the writer' => sub {
    my $reader = Roche->open($root, read_only => 1);
    $reader->cursor_commit('ro', [5, 6], namespace => 'events');
    is_deeply($db->cursor_get('ro', namespace => 'events'), [5, 6], 'the writer reads it');
    $reader->cursor_delete('ro', namespace => 'events');
    $reader->close;
};

subtest 'a commit survives a reopen' => sub {
    $db->cursor_commit('durable', [1, 2], namespace => 'events');
    $db->close;
    $db = Roche->open($root);
    is_deeply($db->cursor_get('durable', namespace => 'events'), [1, 2], 'after close and open');
};

subtest 'bad arguments croak EINVAL' => sub {
    my @cases = (
        ['commit with no name',     sub { $db->cursor_commit(undef, [1], namespace => 'events') }, qr/cursor: undef is not a cursor name/],
        ['get with no name',        sub { $db->cursor_get(undef, namespace => 'events') }, qr/undef is not a cursor name/],
        ['delete with no name',     sub { $db->cursor_delete(undef, namespace => 'events') }, qr/undef is not a cursor name/],
        ['a name that is a ref',    sub { $db->cursor_get([], namespace => 'events') }, qr/cursor: a reference/],
        ['a name with "/"',         sub { $db->cursor_commit('a/b', [1], namespace => 'events') }, qr/\Acursor_commit a\/b: invalid argument/],
        ['a name with NUL',         sub { $db->cursor_get("a\0b", namespace => 'events') }, qr/NUL/],
        ['an empty name',           sub { $db->cursor_get('', namespace => 'events') }, qr/invalid argument/],
        ['a name of 201 bytes',     sub { $db->cursor_commit('k' x 201, [1], namespace => 'events') }, qr/200/],
        ['offsets not an array',    sub { $db->cursor_commit('c', 5, namespace => 'events') }, qr/array reference/],
        ['offsets undef',           sub { $db->cursor_commit('c', undef, namespace => 'events') }, qr/array reference/],
        ['an offset not a number',  sub { $db->cursor_commit('c', [1, 'x'], namespace => 'events') }, qr/offset 1: must be a non-negative integer/],
        ['a negative offset',       sub { $db->cursor_commit('c', [-1], namespace => 'events') }, qr/offset 0/],
        ['an undef offset',         sub { $db->cursor_commit('c', [undef], namespace => 'events') }, qr/offset 0/],
        ['an offset past 2**64-1',  sub { $db->cursor_commit('c', ['18446744073709551616'], namespace => 'events') }, qr/at most/],
        ['8192 offsets',            sub { $db->cursor_commit('c', [(0) x 8192], namespace => 'events') }, qr/more than 8191/],
        ['an unknown option',       sub { $db->cursor_list(namspace => 'events') }, qr/unknown option 'namspace'/],
    );
    for my $case (@cases) {
        my ($name, $call, $pattern) = @$case;
        is_roche_error { $call->() } EINVAL, $pattern, $name;
    }
    is_roche_error { $db->cursor_get('c', namespace => 'events') } ENOTFOUND, undef, 'no bad commit made the cursor';
    $db->cursor_commit('c', [(7) x 8191], namespace => 'events');
    is(scalar @{ $db->cursor_get('c', namespace => 'events') }, 8191, 'the largest position');
};

$db->close;

done_testing;
