use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Config;
use POSIX ();
use File::Temp ();
use Roche;
use Roche::Error qw(:codes);

# Sum of the bucket files' sizes: after a close, exactly the records.
sub stored_bytes {
    my $dir = shift;
    my $total = 0;
    $total += -s $_ for glob("$dir/append.*.raw");
    return $total;
}

subtest 'close twice is harmless' => sub {
    my $db = Roche->open(fresh_root());
    ok(!$db->is_closed, 'open');
    is($db->close, undef, 'close');
    is($db->close, undef, 'close again');
    ok($db->is_closed, 'closed');
};

subtest 'every call after close croaks ECLOSED' => sub {
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('x');
    $db->close;
    my %calls = (
        append           => sub { $db->append('x') },
        append_many      => sub { $db->append_many(['x']) },
        get              => sub { $db->get($offset) },
        multi_get        => sub { $db->multi_get([$offset]) },
        scan             => sub { $db->scan },
        sync             => sub { $db->sync },
        namespaces       => sub { $db->namespaces },
        stat             => sub { $db->stat(namespace => 'default') },
        close_namespace  => sub { $db->close_namespace(namespace => 'default') },
        delete_namespace => sub { $db->delete_namespace(namespace => 'default') },
        follow           => sub { $db->follow },
        cursor_commit    => sub { $db->cursor_commit('c', [0]) },
        cursor_get       => sub { $db->cursor_get('c') },
        cursor_list      => sub { $db->cursor_list },
        cursor_delete    => sub { $db->cursor_delete('c') },
        retain           => sub { $db->retain(max_bytes => 1) },
        bucket_range     => sub { $db->bucket_range(0) },
    );
    for my $name (sort keys %calls) {
        is_roche_error { $calls{$name}->() } ECLOSED, qr/\A$name: the store is closed\z/, $name;
    }
};

subtest 'a scan of a closed store croaks instead of reading freed memory' => sub {
    my $db = Roche->open(fresh_root());
    $db->append_many([1 .. 10]);
    my $scan = $db->scan;
    ok(scalar($scan->next), 'the scan runs');
    $db->close;
    is_roche_error { $scan->next } ECLOSED, qr/closed/, 'next after the store closed';
    is_roche_error { $scan->next } ECLOSED, undef, 'and again';
    undef $scan;
    pass('the scan is destroyed without a crash');
};

subtest 'a scan keeps its store open; the last one out closes it' => sub {
    my $root = fresh_root();
    my $scan = do {
        my $db = Roche->open($root);
        $db->append_many([qw(a b c)]);
        $db->scan;
    };
    is_deeply([map { ($scan->next)[1] } 1 .. 3], [qw(a b c)], 'the scan reads after the store variable is gone');
    is_roche_error { Roche->open($root) } ELOCKED, undef, 'the store is still open';
    undef $scan;
    my $db = Roche->open($root);
    ok($db, 'the store closed with its last scan');
    $db->close;
};

subtest 'a follower of a closed store, or a closed follower, croaks ECLOSED' => sub {
    my $db = Roche->open(fresh_root());
    $db->append('x');
    my $f = $db->follow;
    my $closed = $db->follow;
    $closed->close;
    $closed->close;
    pass('close twice is harmless');
    $db->close;
    for my $case ([$f, qr/the store was closed under this follower/], [$closed, qr/the follower is closed/]) {
        my ($follower, $pattern) = @$case;
        is_roche_error { $follower->next } ECLOSED, qr/\Anext: $pattern/, 'next';
        is_roche_error { $follower->next(timeout => 0) } ECLOSED, $pattern, 'next with a timeout';
        is_roche_error { $follower->wake } ECLOSED, qr/\Awake: $pattern/, 'wake after free';
        is_roche_error { $follower->position } ECLOSED, $pattern, 'position';
        is_roche_error { $follower->commit('c') } ECLOSED, $pattern, 'commit';
        is_roche_error { $follower->iterator } ECLOSED, $pattern, 'iterator';
        ok($follower->is_closed, 'is_closed');
    }
    undef $f;
    undef $closed;
    pass('closed followers are destroyed without a crash');
};

subtest 'bad arguments to follow and its methods croak EINVAL' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    my $offset = $db->append('x', namespace => 'log');
    my $f = $db->follow(namespace => 'log');
    my @cases = (
        ['an unknown option',          sub { $db->follow(namespace => 'log', form => [0]) }, qr/unknown option 'form'/],
        ['from and cursor',            sub { $db->follow(namespace => 'log', from => [0], cursor => 'c') }, qr/not both/],
        ['from not an array',          sub { $db->follow(namespace => 'log', from => 0) }, qr/array reference/],
        ['from with a word',           sub { $db->follow(namespace => 'log', from => [0, 'abc']) }, qr/\Afollow: from: offset 1: must be a non-negative integer/],
        ['from with a negative',       sub { $db->follow(namespace => 'log', from => [-5]) }, qr/offset 0/],
        ['from with an undef',         sub { $db->follow(namespace => 'log', from => [undef]) }, qr/offset 0/],
        ['from with a fraction',       sub { $db->follow(namespace => 'log', from => [1.5]) }, qr/offset 0/],
        ['from with a reference',      sub { $db->follow(namespace => 'log', from => [[]]) }, qr/offset 0/],
        ['from with 8192 offsets',     sub { $db->follow(namespace => 'log', from => [(0) x 8192]) }, qr/more than 8191/],
        ['a bad cursor name',          sub { $db->follow(namespace => 'log', cursor => 'a/b') }, qr/\Afollow log from cursor a\/b: invalid argument/],
        ['a cursor name that is a ref', sub { $db->follow(namespace => 'log', cursor => {}) }, qr/cursor: a reference/],
        ['a bad namespace',            sub { $db->follow(namespace => 'a/b') }, qr/\Afollow a\/b: invalid argument/],
        ['a namespace with NUL',       sub { $db->follow(namespace => "a\0") }, qr/NUL/],
        ['next: a negative timeout',   sub { $f->next(timeout => -1) }, qr/\Anext: timeout: must be a number of seconds/],
        ['next: a word for a timeout', sub { $f->next(timeout => 'soon') }, qr/timeout: must be/],
        ['next: a reference timeout',  sub { $f->next(timeout => [1]) }, qr/timeout: must be/],
        ['next: NaN',                  sub { $f->next(timeout => 'nan' + 0) }, qr/timeout: must be/],
        ['next: an unknown option',    sub { $f->next(wait => 1) }, qr/unknown option 'wait'/],
        ['iterator: a bad timeout',    sub { $f->iterator(timeout => -2) }, qr/\Aiterator: timeout/],
        ['commit: no cursor',          sub { $f->commit }, qr/\Acommit: cursor: undef is not a cursor name/],
        ['commit: a bad cursor',       sub { $f->commit('.hidden') }, qr/\Acommit \.hidden: invalid argument/],
    );
    for my $case (@cases) {
        my ($name, $call, $pattern) = @$case;
        is_roche_error { $call->() } EINVAL, $pattern, $name;
    }
    is(($f->next(timeout => 0))[0], $offset, 'the follower still works');
    is_deeply([$db->follow(namespace => 'log', from_end => 1)->next(timeout => '0.01')], [], 'a timeout as a string');
    is_deeply([($db->follow(namespace => 'log', from => [])->next(timeout => 0))[0, 1]], [$offset, 'x'],
              'from => [] starts every bucket at its first record');
    is(($db->follow(namespace => 'log', from => ["$offset"])->next(timeout => 0))[1], 'x', 'offsets as digit strings');
    $db->close;
};

subtest 'a forked child cannot use the parent\'s follower and leaves it alone' => sub {
    my $db = Roche->open(fresh_root());
    $db->append('x');
    my $f = $db->follow;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my @codes = map { my $err = $_->(); ref $err ? $err->code : 0 }
                    sub { error_of { $f->next(timeout => 0) } }, sub { error_of { $f->wake } },
                    sub { error_of { $f->position } }, sub { error_of { $f->commit('c') } };
        my $fork_named = (error_of { $f->next }) =~ /before fork/;
        undef $f;    # DESTROY does not free the parent's follower
        POSIX::_exit(!grep({ $_ != EINVAL } @codes) && $fork_named ? 0 : 1);
    }
    waitpid $pid, 0;
    is($?, 0, 'the child got EINVAL naming fork from every call');
    is(($f->next(timeout => 0))[1], 'x', 'the parent\'s follower goes on');
    $db->close;
};

subtest 'DESTROY closes a store that was not closed' => sub {
    my $root = fresh_root();
    {
        my $db = Roche->open($root);
        $db->append('abc');
        $db->scan->next;    # a scan left open, too
    }
    is(stored_bytes("$root/default"), 16 + 3, 'files trimmed to their record, as close does');
    my $db = Roche->open($root);
    is(($db->scan->next)[1], 'abc', 'the lock is released and the record kept');
    $db->close;
};

subtest 'wrong arguments croak EINVAL' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root);
    my $offset = $db->append('x');
    my @cases = (
        ['append undef',              sub { $db->append(undef) },              qr/undef is not a value/],
        ['append a reference',        sub { $db->append([1]) },                qr/a reference is not a value/],
        ['append_many a scalar',      sub { $db->append_many('x') },           qr/array reference/],
        ['append_many with an undef', sub { $db->append_many(['x', undef]) },  qr/value 1: undef/],
        ['an unknown option',         sub { $db->append('x', nmespace => 1) }, qr/unknown option 'nmespace'/],
        ['a namespace that is a ref', sub { $db->get($offset, namespace => {}) }, qr/namespace: a reference/],
        ['namespace ".."',            sub { $db->append('x', namespace => '..') }, qr/\Aappend: invalid argument \(.+\)/],
        ['namespace "a/b"',           sub { $db->append('x', namespace => 'a/b') }, qr/'\/' is not allowed/],
        ['namespace ".hidden"',       sub { $db->append('x', namespace => '.hidden') }, qr/reserved/],
        ['a namespace of 256 bytes',  sub { $db->append('x', namespace => 'n' x 256) }, qr/append: /],
        ['stat of a bad name',        sub { $db->stat(namespace => 'a/b') }, qr/stat: /],
        ['open with no path',         sub { Roche->open(undef) }, qr/open: path: undef/],
        ['open with an empty path',   sub { Roche->open('') }, qr/open: the path is empty/],
        ['open with a misspelt option', sub { Roche->open($root, bucket => 2) }, qr/unknown option 'bucket'/],
        ['open with 0 buckets',       sub { Roche->open("$root-2", buckets => 0) }, qr/open /],
        ['open with 8192 buckets',    sub { Roche->open("$root-2", buckets => 8192) }, qr/open /],
        ['open with 2**32+1 buckets', sub { Roche->open("$root-2", buckets => 2**32 + 1) }, qr/at most 4294967295/],
        ['open with -1 buckets',      sub { Roche->open("$root-2", buckets => -1) }, qr/non-negative integer/],
        ['open with sync sometimes',  sub { Roche->open("$root-2", sync => 'sometimes') }, qr/sync must be/],
    );
    for my $case (@cases) {
        my ($name, $call, $pattern) = @$case;
        is_roche_error { $call->() } EINVAL, $pattern, $name;
    }
    ok(!-e "$root-2", 'no failed open created the store');
    is($db->get($offset), 'x', 'the store still works');
    $db->close;
};

subtest 'a store opened on a file is an I/O error' => sub {
    my $file = File::Temp->new;
    is_roche_error { Roche->open($file->filename) } EIO, qr/not a directory/, 'open';
};

subtest 'exit without close: END closes what is still open, even in cycles and globals' => sub {
    my ($root_a, $root_b) = (fresh_root(), fresh_root());
    my $script = <<'PERL';
use Roche;
our $db = Roche->open($ARGV[0]);
$db->append('global');
our $scan = $db->scan;
$scan->next;
my $cycle = { db => Roche->open($ARGV[1]) };
$cycle->{self} = $cycle;
$cycle->{scan} = $cycle->{db}->scan;
$cycle->{db}->append('cycle');
PERL
    my $stderr = File::Temp->new;
    my $status = system(perl_with_roche(), '-e', "open STDERR, '>', '$stderr'; $script", $root_a, $root_b);
    is($status, 0, 'perl exits normally');
    is(do { local (@ARGV, $/) = ("$stderr"); <> } // '', '', 'with nothing on stderr');
    is(stored_bytes("$root_a/default"), 16 + 6, 'a global store was closed (trimmed)');
    is(stored_bytes("$root_b/default"), 16 + 5, 'a store in a cycle was closed (trimmed)');
};

subtest 'a forked child cannot use the store and leaves it to the parent' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root);
    my $offset = $db->append('before fork');
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        my $err = error_of { $db->append('from the child') };
        exit(ref $err && $err->code == EINVAL && "$err" =~ /fork/ ? 0 : 1);    # END and DESTROY run
    }
    waitpid $pid, 0;
    is($?, 0, 'the child got EINVAL naming fork');
    is_roche_error { Roche->open($root) } ELOCKED, undef, 'the child left the lock alone';
    my $after = $db->append('after fork');
    is_deeply($db->multi_get([$offset, $after]), ['before fork', 'after fork'], 'the parent goes on');
    $db->close;
    is(stored_bytes("$root/default"), 2 * 16 + 11 + 10, 'nothing from the child in the files');
};

subtest 'a new thread does not inherit the store' => sub {
    plan skip_all => 'perl without ithreads' unless $Config{useithreads} && eval { require threads; 1 };
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('main');
    my $scan = $db->scan;
    my $seen = threads->create(sub { join ',', map { ref } $db, $scan })->join;
    is($seen, 'SCALAR,SCALAR', 'the thread sees no Roche objects, so it cannot close the handle a second time');
    is($db->get($offset), 'main', 'the store still works after the thread ended');
    is(($scan->next)[1], 'main', 'and its scan');
    $db->close;

    my $root = fresh_root();
    my @results = map { $_->join } map {
        my $n = $_;
        threads->create(sub {
            my $own = Roche->open("$root-$n");
            my $offset = $own->append("thread $n");
            my $mixed = grep {    # each failure's detail names this thread's own bad namespace
                my $err = error_of { $own->append('x', namespace => "t$n/$_") };
                "$err" !~ m{namespace "t$n/$_"};
            } 1 .. 500;
            my $value = $own->get($offset);
            $own->close;
            return "$value; $mixed mixed-up errors";
        });
    } 1 .. 2;
    is_deeply(\@results, ['thread 1; 0 mixed-up errors', 'thread 2; 0 mixed-up errors'],
              'threads open, use and close stores of their own, and read their own error details');
    my $after = Roche->open("$root-1");
    is(($after->scan->next)[1], 'thread 1', 'the main thread goes on using libroche after threads ended');
    $after->close;
};

done_testing;
