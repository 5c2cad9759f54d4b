use strict;
use warnings;
use Test::More;
use Time::HiRes ();
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

# Scans fetch records in batches (roche_scan_next_batch: 64 first, then up
# to 1024 or about 1 MiB a call) and followers up to 128 a call
# (roche_follow_next_batch); both hand them out one by one.

# Value $i: its number, a NUL and $i % 7 more bytes; value 0 is empty.
sub value { my $i = shift; $i ? pack('Q<', $i) . "\0" . ('x' x ($i % 7)) : '' }

# $n records over $ids buckets; { offset => value }.
sub fill {
    my ($db, $ns, $n, $ids) = @_;
    $ids //= 4;
    return { map { ($db->append(value($_), id => 'id-' . $_ % $ids, namespace => $ns) => value($_)) } 0 .. $n - 1 };
}

sub drain {
    my $it = shift;
    my @records;
    while (my @record = $it->next) { push @records, \@record }
    return @records;
}

my $db = Roche->open(fresh_root(), buckets => 4);

subtest 'a scan at its batch boundaries: every record once, in order, values exact' => sub {
    for my $n (0, 1, 64, 65, 1024, 1025, 2051) {
        my $expected = fill($db, "n$n", $n);
        my @records = drain($db->scan(namespace => "n$n"));
        is_deeply([map { $_->[0] } @records], [sort { $a <=> $b } keys %$expected], "$n records in offset order");
        is_deeply({ map { ($_->[0] => $_->[1]) } @records }, $expected, "$n: each with its value");
        ok(!grep({ !$_->[2] } @records), "$n: each with its time");
    }
};

subtest 'resumed at last + 1: no gap, no repeat' => sub {
    my @offsets = sort { $a <=> $b } keys %{ fill($db, 'r', 300) };
    my $it = $db->scan(namespace => 'r');
    my @head = map { ($it->next)[0] } 1 .. 100;
    is_deeply(\@head, [@offsets[0 .. 99]], 'the first hundred');
    my @rest = map { $_->[0] } drain($db->scan(namespace => 'r', from => $head[-1] + 1));
    is_deeply(\@rest, [@offsets[100 .. 299]], 'the rest');
};

subtest 'large values come in smaller batches' => sub {
    my @values = map { chr($_) x (300 * 1024 + $_) } 0 .. 11;
    my @offsets = map { $db->append($_, namespace => 'big') } @values;
    my @records = drain($db->scan(namespace => 'big'));
    is_deeply([map { $_->[0] } @records], \@offsets, 'every record');
    ok(!grep({ $records[$_][1] ne $values[$_] } 0 .. 11), 'values exact');
};

subtest 'a scan ends while records are appended during it (also from a signal handler)' => sub {
    my $before = fill($db, 'busy', 3000);
    local $SIG{ALRM} = sub { $db->append('from a handler', namespace => 'busy') };
    Time::HiRes::ualarm(500, 500);
    my $it = $db->scan(namespace => 'busy');
    my (@seen, $appended);
    while (my ($offset) = $it->next) {
        push @seen, $offset;
        $db->append('more', namespace => 'busy') if $appended++ < 5000;
    }
    Time::HiRes::ualarm(0);
    my %seen = map { ($_ => 1) } @seen;
    ok(!grep({ !$seen{$_} } keys %$before), 'every record there before the scan');
    is_deeply(\@seen, [sort { $a <=> $b } @seen], 'in increasing order');
    is(scalar(keys %seen), scalar(@seen), 'none twice');
};

subtest 'close_namespace, delete_namespace or close end a scan mid-batch' => sub {
    for my $call (qw(close_namespace delete_namespace)) {
        fill($db, 'short', 50);
        my $it = $db->scan(namespace => 'short');
        ok(scalar($it->next), "$call: one record handed out, more fetched");
        $db->$call(namespace => 'short');
        is_roche_error { $it->next } ENOTFOUND, undef, "$call: the next one croaks, as libroche answers";
    }
    my @offsets = sort { $a <=> $b } keys %{ fill($db, 'kept', 20) };
    fill($db, 'other', 1);
    my $it = $db->scan(namespace => 'kept');
    my @seen = (($it->next)[0]);
    $db->close_namespace(namespace => 'other');
    push @seen, map { $_->[0] } drain($it);
    is_deeply(\@seen, \@offsets, "another namespace's close drops nothing");

    my $other = Roche->open(fresh_root());
    fill($other, 'c', 10);
    my $scan = $other->scan(namespace => 'c');
    $scan->next;
    $other->close;
    is_roche_error { $scan->next } ECLOSED, undef, 'the store closed: ECLOSED, not a fetched record';
};

subtest 'a signal handler that closes the store during scans never makes them read freed memory' => sub {
    for my $round (1 .. 20) {
        my $store = Roche->open(fresh_root());
        fill($store, 's', 3000);
        local $SIG{ALRM} = sub { $store->close };
        Time::HiRes::ualarm(100 + 37 * $round);
        my $err = error_of { my $it = $store->scan(namespace => 's'); 1 while $it->next };
        Time::HiRes::ualarm(0);
        ok(!defined $err || (ref $err && $err->code == ECLOSED), "round $round: the end or ECLOSED")
            or diag($err);
        $store->close;
    }
};

subtest 'a follower at its batch boundaries, with timeout and wake' => sub {
    for my $n (1, 128, 129, 300) {
        my $expected = fill($db, "f$n", $n);
        my $f = $db->follow(namespace => "f$n");
        my %seen;
        while (my ($offset, $value) = $f->next(timeout => 0)) {
            ok(!exists $seen{$offset}, 'no repeat') if exists $seen{$offset};
            $seen{$offset} = $value;
        }
        is_deeply(\%seen, $expected, "$n records, each once, values exact");
        my $started = Time::HiRes::time();
        is_deeply([$f->next(timeout => 0.05)], [], 'nothing new: the timeout');
        cmp_ok(Time::HiRes::time() - $started, '>=', 0.04, 'after waiting');
        local $SIG{ALRM} = sub { $f->wake };
        Time::HiRes::alarm(0.1);
        is_deeply([$f->next(timeout => 30)], [], 'a wake from a handler ends a wait');
        ok($f->woken, 'woken');
        $f->close;
    }
};

subtest 'a wake comes before records already fetched, which are not lost' => sub {
    my @offsets = sort { $a <=> $b } keys %{ fill($db, 'w', 10, 1) };
    my $f = $db->follow(namespace => 'w');
    is(($f->next(timeout => 0))[0], $offsets[0], 'one handed out, nine fetched');
    $f->wake;
    is_deeply([$f->next(timeout => 5)], [], 'the wake first');
    ok($f->woken, 'woken');
    my @rest;
    while (my ($offset) = $f->next(timeout => 0)) { push @rest, $offset }
    is_deeply(\@rest, [@offsets[1 .. 9]], 'then the records fetched, each once');
    ok(!$f->woken, 'and no second wake');
};

subtest 'position and commit count only the records handed out' => sub {
    my @offsets = sort { $a <=> $b } keys %{ fill($db, 'p', 300) };
    my $f = $db->follow(namespace => 'p');
    my @first = map { ($f->next(timeout => 0))[0] } 1 .. 100;
    my $position = $f->position;
    $f->commit('c');
    is_deeply($db->cursor_get('c', namespace => 'p'), $position, 'the cursor holds the position');
    my $g = $db->follow(namespace => 'p', from => $position);
    my @rest;
    while (my ($offset) = $g->next(timeout => 0)) { push @rest, $offset }
    is_deeply([sort { $a <=> $b } @first, @rest], \@offsets, 'restarted from it: no gap, no repeat');
    my $h = $db->follow(namespace => 'p', cursor => 'c');
    my $count = 0;
    $count++ while $h->next(timeout => 0);
    is($count, scalar @rest, 'from the cursor too');
};

$db->close;
done_testing;
