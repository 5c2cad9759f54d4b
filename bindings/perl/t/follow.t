use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use POSIX ();
use Time::HiRes ();
use Roche;
use Roche::Error qw(:codes);

sub now { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# Every record the follower has now, as [offset, value, time].
sub drain {
    my $f = shift;
    my @records;
    while (my @record = $f->next(timeout => 0)) {
        push @records, \@record;
    }
    return @records;
}

# Value i of a run: "v<i>" padded to a length that varies with i.
sub value_of { my $i = shift; "v$i" . ('.' x ($i % 37)) }

subtest 'records that exist, then new ones; a timeout returns the empty list' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1);
    my @offsets = map { $db->append($_, namespace => 'log') } 'a', 'bb';
    my $f = $db->follow(namespace => 'log');
    isa_ok($f, 'Roche::Follow');
    is($f->namespace, 'log', 'namespace');
    my ($offset, $value, $time) = $f->next(timeout => 0);
    is_deeply([$offset, $value], [$offsets[0], 'a'], 'the first record');
    ok($time > 1e18, 'with its time in ns since the epoch');
    is_deeply([($f->next(timeout => 0))[0, 1]], [$offsets[1], 'bb'], 'the second');
    is_deeply([$f->next(timeout => 0)], [], 'then nothing, at once');
    my $t0 = now();
    is_deeply([$f->next(timeout => 0.25)], [], 'nothing within 0.25 s');
    cmp_ok(now() - $t0, '>=', 0.24, 'it waited its timeout');
    ok(!$f->woken, 'a timeout is no wake');
    is(scalar($f->next(timeout => 0)), undef, 'undef in scalar context');
    my $new = $db->append("ccc\0", namespace => 'log');
    is_deeply([($f->next)[0, 1]], [$new, "ccc\0"], 'a new record, bytes kept');
    is_deeply($f->position, [$new + 16 + 4], 'position: the offset after the last record, per bucket');
    my $empty = $db->append('', namespace => 'log');
    is_deeply([($f->next(timeout => 1))[0, 1]], [$empty, ''], 'an empty value');
    $f->close;
    ok($f->is_closed, 'closed');
    $db->close;
};

subtest 'an idle wait sleeps: no CPU, in slices or not' => sub {
    my $db = Roche->open(fresh_root());
    my $f = $db->follow(namespace => 'log');
    my @before = times;
    my $t0 = now();
    is_deeply([$f->next(timeout => 0.6)], [], 'nothing for 0.6 s');
    my @after = times;
    my $cpu = $after[0] - $before[0] + $after[1] - $before[1];
    cmp_ok(now() - $t0, '>=', 0.59, 'it waited');
    cmp_ok($cpu, '<', 0.1, "and used almost no CPU ($cpu s)");
    $db->close;
};

subtest 'the iterator form ends when a wait times out' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    $db->append("r$_", id => "id$_", namespace => 'log') for 1 .. 6;
    my $it = $db->follow(namespace => 'log')->iterator(timeout => 0.1);
    my @values;
    while (my ($offset, $value) = $it->()) { push @values, $value }
    is_deeply([sort @values], [map { "r$_" } 1 .. 6], 'every record, then the end');
    $db->close;
};

subtest 'from_end skips what exists; buckets made later start at their first record' => sub {
    my $db = Roche->open(fresh_root(), buckets => 4);
    $db->append('old', id => 'a', namespace => 'log');
    my $f = $db->follow(namespace => 'log', from_end => 1);
    is_deeply([drain($f)], [], 'nothing old');
    $db->append($_, id => $_, namespace => 'log') for qw(a b c d e f);
    is_deeply([sort map { $_->[1] } drain($f)], [qw(a b c d e f)], 'every new record, none of the old');
    $db->close;
};

subtest 'a follower in another process (fork) reads every record once, in order per bucket' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 8);
    $db->append('v0', id => 'k0', namespace => 'log');    # the namespace exists
    my $count = 3000;
    pipe(my $ready_r, my $ready_w) or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        # Only what this process opens is used; _exit leaves the parent's store alone.
        close $ready_r;
        my $status = eval {
            my $reader = Roche->open($root, read_only => 1);
            my $f = $reader->follow(namespace => 'log');
            syswrite $ready_w, 'r';
            my (%next_at, %last_seq);
            for (0 .. $count) {
                my ($offset, $value) = $f->next(timeout => 30) or return 13;    # timed out
                my $bucket = $offset >> 50;
                return 15 if ($next_at{$bucket} // $offset & (2**50 - 1)) != ($offset & (2**50 - 1));    # a gap or a repeat
                $next_at{$bucket} = ($offset & (2**50 - 1)) + 16 + length $value;
                my ($seq) = $value =~ /\Av(\d+)/ or return 16;
                return 17 if $value ne value_of($seq);
                return 18 if exists $last_seq{$bucket} && $seq <= $last_seq{$bucket};    # out of order
                $last_seq{$bucket} = $seq;
            }
            return 19 if $f->next(timeout => 0);    # one too many
            $f->close;
            $reader->close;
            0;
        } // 20;
        POSIX::_exit($status);
    }
    close $ready_w;
    sysread($ready_r, my $byte, 1) or die 'the child did not start';
    Time::HiRes::sleep(0.2);    # the child waits, asleep
    for my $i (1 .. $count) {
        $db->append(value_of($i), id => 'k' . $i % 5, namespace => 'log');    # buckets made while it follows
        Time::HiRes::sleep(0.002) if $i % 500 == 0;
    }
    waitpid $pid, 0;
    is($? >> 8, 0, "the child read all $count + 1 records, no gap, no repeat, no disorder");
    $db->close;
};

subtest 'a wait ends for an append from another process' => sub {
    my $root = fresh_root();
    Roche->open($root, buckets => 1)->append('x', namespace => 'log');    # closed: no reference kept
    my $reader = Roche->open($root, read_only => 1);
    my $f = $reader->follow(namespace => 'log', from_end => 1);
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        Time::HiRes::sleep(0.2);
        my $ok = eval { my $w = Roche->open($root); $w->append('late', namespace => 'log'); $w->close; 1 };
        POSIX::_exit($ok ? 0 : 1);
    }
    my $t0 = now();
    is(($f->next(timeout => 30))[1], 'late', 'the record of the other process');
    cmp_ok(now() - $t0, '<', 10, 'rung by the append, not found when the timeout ran out');
    waitpid $pid, 0;
    is($?, 0, 'the writer appended');
    $reader->close;
};

subtest 'wake from a signal handler ends a wait with no timeout' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    my $f = $db->follow(namespace => 'log');
    local $SIG{ALRM} = sub { $f->wake };
    my $t0 = now();
    Time::HiRes::alarm(0.3);
    is_deeply([$f->next], [], 'next returns the empty list');
    my $waited = now() - $t0;
    ok($f->woken, 'woken tells it was a wake');
    cmp_ok($waited, '>=', 0.25, 'after the alarm');
    cmp_ok($waited, '<', 5, 'soon after it');

    $f->wake;    # with no one waiting: kept for the next call
    is_deeply([$f->next(timeout => 10)], [], 'a wake made before next ends it at once');
    ok($f->woken, 'woken');
    is_deeply([$f->next(timeout => 0)], [], 'once per wake');
    ok(!$f->woken, 'and then a timeout again');

    my $offset = $db->append('after', namespace => 'log');
    is(($f->next(timeout => 1))[0], $offset, 'the follower goes on after a wake');
    $db->close;
};

subtest 'a signal from another process: the handler wakes the follower' => sub {
    my $db = Roche->open(fresh_root());
    my $f = $db->follow(namespace => 'log');
    local $SIG{USR1} = sub { $f->wake };
    my $parent = $$;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        Time::HiRes::sleep(0.2);
        kill USR1 => $parent;
        POSIX::_exit(0);
    }
    my $t0 = now();
    is_deeply([$f->next(timeout => 30)], [], 'next ends');
    ok($f->woken, 'by the wake');
    cmp_ok(now() - $t0, '<', 10, 'long before its timeout');
    waitpid $pid, 0;
    $db->close;
};

subtest 'a signal handler may die out of a wait, or close the follower or its store' => sub {
    my $db = Roche->open(fresh_root());
    my $f = $db->follow(namespace => 'log');
    {
        local $SIG{ALRM} = sub { die "stop\n" };
        Time::HiRes::alarm(0.2);
        is(error_of { $f->next }, "stop\n", 'the die of the handler comes out of next');
    }
    my $offset = $db->append('still', namespace => 'log');
    is(($f->next(timeout => 1))[0], $offset, 'the follower still works');
    {
        local $SIG{ALRM} = sub { $f->close };
        Time::HiRes::alarm(0.2);
        is_roche_error { $f->next } ECLOSED, qr/\Anext: the follower is closed\z/, 'closed by the handler';
    }
    my $g = $db->follow(namespace => 'log', from_end => 1);
    {
        local $SIG{ALRM} = sub { $db->close };
        Time::HiRes::alarm(0.2);
        is_roche_error { $g->next } ECLOSED, qr/the store was closed under this follower/, 'store closed by the handler';
    }
    ok($db->is_closed, 'the store is closed');
};

subtest 'restart from the position: nothing missed, nothing twice' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 4);
    $db->append(value_of($_), id => 'id' . $_ % 7, namespace => 'log') for 1 .. 400;
    my $f = $db->follow(namespace => 'log');
    my %seen;
    for (1 .. 150) {
        my (undef, $value) = $f->next(timeout => 0);
        $seen{ ($value =~ /\Av(\d+)/)[0] }++;
    }
    my $position = $f->position;
    is(scalar @$position, 4, 'one offset per bucket');
    $f->commit('reader');
    $db->close;    # frees the follower too
    ok($f->is_closed, 'closing the store freed the follower');
    is_roche_error { $f->position } ECLOSED, qr/the store was closed/, 'which croaks after';

    $db = Roche->open($root, buckets => 4);
    $db->append(value_of($_), id => 'x', namespace => 'log') for 401 .. 500;
    my %after;
    $after{ ($_->[1] =~ /\Av(\d+)/)[0] }++ for drain($db->follow(namespace => 'log', from => $position));
    my @wrong = grep { ($seen{$_} // 0) + ($after{$_} // 0) != 1 } 1 .. 500;
    is_deeply(\@wrong, [], 'from the position: every record exactly once');

    my %by_cursor;
    $by_cursor{ ($_->[1] =~ /\Av(\d+)/)[0] }++ for drain($db->follow(namespace => 'log', cursor => 'reader'));
    is_deeply(\%by_cursor, \%after, 'from the cursor the follower committed: the same records');
    my $new = $db->follow(namespace => 'log', cursor => 'no-such-cursor');
    is(scalar(() = drain($new)), 500, 'a cursor that does not exist starts at the first record');
    $db->close;
};

subtest 'a follower outlives closes of its namespace; a delete ends it' => sub {
    my $db = Roche->open(fresh_root(), buckets => 1);
    $db->append('one', namespace => 'log');
    my $f = $db->follow(namespace => 'log');
    is(($f->next(timeout => 0))[1], 'one', 'one');
    $db->close_namespace(namespace => 'log');
    $db->append('two', namespace => 'log');
    is(($f->next(timeout => 1))[1], 'two', 'two, after close_namespace');
    $db->delete_namespace(namespace => 'log');
    is_roche_error { $f->next(timeout => 1) } ENOTFOUND, qr/\Anext: not found/, 'deleted: ENOTFOUND';
    $db->close;
};

subtest 'a follower starts before the first append; a read-only handle cannot' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 2);
    my $f = $db->follow(namespace => 'fresh');
    my $offset = $db->append('first', namespace => 'fresh');
    is(($f->next(timeout => 1))[0], $offset, 'the first record of a namespace made after the follower');
    my $reader = Roche->open($root, read_only => 1);
    is_roche_error { $reader->follow(namespace => 'nothing') } ENOTFOUND, qr/\Afollow nothing: not found/,
        'read-only: ENOTFOUND for a namespace that does not exist';
    $reader->close;
    $db->close;
};

subtest 'the follower keeps its store alive; DESTROY frees it' => sub {
    my $root = fresh_root();
    my $f = do {
        my $db = Roche->open($root);
        $db->append('kept');
        $db->follow;
    };
    is(($f->next(timeout => 0))[1], 'kept', 'the follower reads after the store variable is gone');
    is($f->namespace, 'default', 'namespace undef is "default"');
    is_roche_error { Roche->open($root) } ELOCKED, undef, 'the store is still open';
    undef $f;
    my $db = Roche->open($root);
    ok($db, 'the store closed with its last follower');
    $db->close;
};

done_testing;
