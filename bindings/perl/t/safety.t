use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Config;
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
        stat             => sub { $db->stat('default') },
        close_namespace  => sub { $db->close_namespace('default') },
        delete_namespace => sub { $db->delete_namespace('default') },
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
        ['stat of a bad name',        sub { $db->stat('a/b') }, qr/stat: /],
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
