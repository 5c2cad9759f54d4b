use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

# The rows of tests/reliability/BINDINGS.md that the other test files do
# not cover; each subtest names its section and row. Rows covered
# elsewhere are listed where their section would be.

use Config;
use File::Temp ();
use Math::BigInt;
use Roche;
use Roche::Error qw(:codes);

# After a failure, the store takes one more append and gives it back.
sub still_works {
    my ($db, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $value = "still works after $name";
    my $offset = eval { $db->append($value) };
    is(defined $offset ? $db->get($offset) : "append failed: $@", $value, "the store still works after $name");
}

# Records in a namespace (0 when it has no directory): "nothing written".
sub records {
    my ($db, $ns) = @_;
    return -d $db->path . '/' . ($ns // 'default') ? $db->stat(namespace => $ns)->{records} : 0;
}

# The warnings the block raised, and what it died with.
sub warnings_and_error (&) {
    my $code = shift;
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    my $err = &error_of($code);
    return (\@warnings, $err);
}

# ---- 1. Missing values ----------------------------------------------------
# open with root undef: safety.t ("open with no path"). get with offset
# undef and multi_get with one element undef: multi_get.t ("offsets that
# are no offset").

subtest '1. open: options undef are the defaults; an undef in place of the options is an error' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => undef, read_only => undef, sync => undef);
    my $offset = $db->append('defaults');
    is($db->stat(namespace => undef)->{buckets}, 8, 'buckets => undef is libroche\'s default, 8');
    is($db->get($offset), 'defaults', 'read_only => undef is a writer');
    $db->close;

    my $other = fresh_root();
    for my $case ([undef, 'undef'], [{}, 'a hash reference']) {
        my ($options, $name) = @$case;
        my ($warnings, $err) = warnings_and_error { Roche->open($other, $options) };
        ok(ref $err && $err->isa('Roche::Error'), "open(\$root, $name) croaks a Roche::Error");
        is(ref $err && $err->code, EINVAL, '... EINVAL');
        like("$err", qr/\Aopen: unknown option/, '... naming the options');
        ok(!-e $other, '... and creates no store');
    }
    $db = Roche->open($root);
    still_works($db, 'bad open options');
    $db->close;
};

subtest '1. append: value undef writes nothing; namespace and id undef are the defaults' => sub {
    my $db = Roche->open(fresh_root(), buckets => 8);
    # EINVAL for an undef value is safety.t's; here: nothing is written.
    is_roche_error { $db->append(undef, namespace => 'undef-value') } EINVAL, qr/undef is not a value/, 'append undef';
    ok(!-e $db->path . '/undef-value', 'nothing written: not even the namespace directory');
    is($db->get($db->append('', namespace => 'undef-value'), namespace => 'undef-value'), '',
       'an empty string is a valid, empty value');

    my $plain = $db->append('plain');
    my $ns_undef = $db->append('ns undef', namespace => undef);
    is($db->get($ns_undef), 'ns undef', 'namespace => undef writes to the default namespace');
    is($db->get($ns_undef, namespace => 'default'), 'ns undef', '... which is "default"');

    my $id_undef = $db->append('id undef', id => undef);
    my $many = $db->append_many(['m1', 'm2'], id => undef, namespace => undef);
    is_deeply([map { $_ >> 50 } $id_undef, @$many], [($plain >> 50) x 3],
              'id => undef: the bucket of an append without id (this thread\'s)');
    my $with_id = $db->append('with id', id => 'k2');
    isnt($with_id >> 50, $plain >> 50, 'while an id picks its own bucket (so the check above can fail)');
    is_deeply($db->multi_get([$id_undef, @$many]), ['id undef', 'm1', 'm2'], 'all read back');
    $db->close;
};

subtest '1. append_many: the list undef, or one element undef: an error before anything is written' => sub {
    my $db = Roche->open(fresh_root());
    is_roche_error { $db->append_many(undef) } EINVAL, qr/\Aappend_many: values must be an array reference/, 'the list undef';
    is_roche_error { $db->append_many(['first', undef, 'third'], namespace => 'batch') } EINVAL,
        qr/value 1: undef/, 'one element undef';
    is(records($db, 'batch'), 0, 'nothing of the batch was written, not even the values before the undef');
    still_works($db, 'append_many with undef');
    $db->close;
};

subtest '1. multi_get: the list undef is an error, not a partial result' => sub {
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('x');
    is_roche_error { $db->multi_get(undef) } EINVAL, qr/\Amulti_get: offsets must be an array reference/, 'the list undef';
    still_works($db, 'multi_get undef');
    $db->close;
};

subtest '1. scan: namespace undef is the default namespace' => sub {
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('in default');
    $db->append('elsewhere', namespace => 'other');
    my $scan = $db->scan(namespace => undef);
    is_deeply([($scan->next)[0, 1]], [$offset, 'in default'], 'the default namespace\'s record');
    is_deeply([$scan->next], [], 'and only that one');
    $db->close;
};

# ---- 2. A closed store ----------------------------------------------------
# Every call after close (ECLOSED), close twice, a scan left open when the
# store closes, a handle left to DESTROY or to exit (files trimmed), and
# append in a child of fork(): safety.t. Below: the other calls in the
# child.

subtest '2. fork: every call of the parent\'s store in the child is an error, and writes nothing' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root);
    my $offsets = $db->append_many([map { "parent $_" } 1 .. 3]);
    my $scan = $db->scan;
    $scan->next;
    my $size = -s "$root/default/append." . ($offsets->[0] >> 50) . '.raw';

    pipe my $reader, my $writer or die "pipe: $!";
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        close $reader;
        my %calls = (
            get              => sub { $db->get($offsets->[0]) },
            multi_get        => sub { $db->multi_get($offsets) },
            scan             => sub { $db->scan },
            append_many      => sub { $db->append_many(['child']) },
            sync             => sub { $db->sync },
            sync_namespace   => sub { $db->sync(namespace => 'default') },
            stat             => sub { $db->stat(namespace => undef) },
            namespaces       => sub { $db->namespaces },
            close_namespace  => sub { $db->close_namespace(namespace => 'default') },
            delete_namespace => sub { $db->delete_namespace(namespace => 'default') },
        );
        for my $name (sort keys %calls) {
            my $err = error_of { $calls{$name}->() };
            printf $writer "%s %s %s\n", $name, ref $err ? $err->code : defined $err ? 'plain' : 'ok',
                ref $err && "$err" =~ /fork/ ? 'fork' : '-';
        }
        my $close = error_of { $db->close };
        print $writer 'close ', (defined $close ? "error $close" : 'ok'), "\n";
        close $writer;
        exit 0;
    }
    close $writer;
    my %child = map { /\A(\S+) (.*)\z/ } map { chomp; $_ } <$reader>;
    waitpid $pid, 0;
    is($?, 0, 'the child ran every call and exited normally');
    for my $name (qw(append_many close_namespace delete_namespace get multi_get scan stat sync sync_namespace)) {
        is($child{$name}, EINVAL . ' fork', "child: $name croaks EINVAL naming fork()");
    }
    is($child{namespaces}, EINVAL . ' fork', 'child: namespaces croaks EINVAL naming fork()');
    is($child{close}, 'ok', 'child: close frees its copy of the handle quietly');

    is(-s "$root/default/append." . ($offsets->[0] >> 50) . '.raw', $size,
       'the bucket file is untouched (not trimmed by the child\'s close)');
    is(($scan->next)[1], 'parent 2', 'the parent\'s scan goes on');
    is_deeply($db->multi_get($offsets), [map { "parent $_" } 1 .. 3], 'the parent\'s records are all there');
    is($db->stat(namespace => undef)->{records}, 3, 'and nothing from the child');
    still_works($db, 'the child\'s calls');
    undef $scan;
    $db->close;
};

# ---- 3. Bad offsets -------------------------------------------------------
# Past the end of a bucket, a bucket with no file (100 << 50), inside a
# record, negative, a string of digits over 2**64-1, a namespace that does
# not exist, a multi_get of good and bad offsets: multi_get.t (2**64-1 in a
# multi_get too). A scan from past every bucket: scan.t.

subtest '3. a bucket number above 8191 is not found, whether written 1 << 63 or 2**63' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    my $good = $db->append('good');
    # Perl holds 2**63 as a float, 1 << 63 as an integer: the same offset.
    for my $case ([1 << 63, '1 << 63'], [2**63, '2**63 (a float)'], ['9223372036854775808', 'a string']) {
        my ($offset, $name) = @$case;
        is_roche_error { $db->get($offset) } ENOTFOUND, qr/bucket 8192 .* has no file/, "get $name";
    }
    my $values = eval { $db->multi_get([2**63, $good, 1 << 63, '18446744073709551615']) } // ["died: $@"];
    is_deeply([map { ref $_ ? $_->code : $_ } @$values], [ENOTFOUND, 'good', ENOTFOUND, ENOTFOUND],
              'multi_get: the good offset has its value, the others are not found');
    still_works($db, 'offsets above the last bucket');
    $db->close;
};

subtest '3. offsets that are whole floats are read exactly; floats past 2**64-1 are refused' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    my ($in_bucket_1) = grep { $_ >> 50 == 1 } map { $db->append("v$_", id => "id-$_") } 1 .. 20;
    ok(defined $in_bucket_1, 'a record in bucket 1');
    is($in_bucket_1, 1 << 50, '... at offset 1 << 50, its first');
    is(eval { $db->get(2**50) } // "died: $@", $db->get($in_bucket_1), 'get(2**50) reads it (2**50 is a float in Perl)');
    is_deeply(eval { $db->multi_get([2**50]) } // "died: $@", [$db->get($in_bucket_1)], 'multi_get too');
    is(eval { ($db->scan(from => 2**50)->next)[0] } // "died: $@", $in_bucket_1, 'and a scan from it starts there');

    for my $case ([2**64, '2**64'], [2**70, '2**70'], [9**9**9, 'inf']) {
        my ($offset, $name) = @$case;
        is_roche_error { $db->get($offset) } EINVAL, qr/offset: must be at most 18446744073709551615/, "get $name";
        is_roche_error { $db->multi_get([1, $offset]) } EINVAL, qr/offset 1: must be at most/, "multi_get $name";
    }
    for my $case ([-2**63, '-2**63 (float)'], [-(1 << 62), '-(1 << 62)'], [1.5e15 + 0.5, 'a fraction'],
                  [-9**9**9, '-inf'], [-sin(9**9**9), 'nan']) {
        my ($offset, $name) = @$case;
        is_roche_error { $db->get($offset) } EINVAL, qr/offset: must be a non-negative integer/, "get $name";
        is_roche_error { $db->multi_get([1, $offset]) } EINVAL, qr/offset 1: must be a non-negative/, "multi_get $name";
    }
    is(2**53 + 0.5, 2**53, '(2**53 + 0.5 is 2**53 already in Perl: a float past 2**53 holds no fraction)');
    is_roche_error { $db->get('9.22337203685478e+18') } EINVAL, qr/non-negative integer/,
        'a float printed as a string is refused: its digits were rounded';
    still_works($db, 'float offsets');
    $db->close;
};

subtest '3. offsets larger than 2**64-1 as big integers (Math::BigInt) are errors' => sub {
    my $db = Roche->open(fresh_root());
    for my $big (Math::BigInt->new('18446744073709551616'), Math::BigInt->new(2)**100) {
        is_roche_error { $db->get($big) } EINVAL, qr/\Aget: offset: must be a non-negative integer/, "get $big";
        is_roche_error { $db->multi_get([0, $big]) } EINVAL, qr/offset 1/, "multi_get $big";
        is_roche_error { $db->scan(from => $big) } EINVAL, qr/\Ascan: from/, "scan from $big";
    }
    still_works($db, 'big integers');
    $db->close;
};

subtest '3. a scan from any bad offset starts at the first record at or after it, or is empty' => sub {
    my $db = Roche->open(fresh_root(), buckets => 2);
    my @in = map { $db->append("v$_", id => "id-$_") } 1 .. 20;
    my @b0 = sort { $a <=> $b } grep { $_ >> 50 == 0 } @in;
    my @b1 = sort { $a <=> $b } grep { $_ >> 50 == 1 } @in;
    ok(@b0 > 1 && @b1 > 1, 'records in both buckets');
    my $end_of_b0 = $b0[-1] + 16 + length $db->get($b0[-1]);

    my %first = (
        'inside a record (offset + 1)'          => [$b0[0] + 1, $b0[1]],
        'the end of bucket 0'                   => [$end_of_b0, $b1[0]],
        'far past the end of bucket 0'          => [(1 << 50) - 1, $b1[0]],
        'a bucket with no file (100 << 50)'     => [100 << 50, undef],
        'a bucket above 8191 (1 << 63)'         => [1 << 63, undef],
        'a bucket above 8191 (2**63, a float)'  => [2**63, undef],
        '2**64-1'                               => ['18446744073709551615', undef],
    );
    for my $name (sort keys %first) {
        my ($from, $expected) = @{ $first{$name} };
        my @records;
        my $err = error_of {
            my $scan = $db->scan(from => $from);
            while (my ($offset) = $scan->next) { push @records, $offset }
        };
        is($err, undef, "scan from $name: no error");
        is($records[0], $expected, "scan from $name: " . (defined $expected ? 'starts at the next record' : 'empty'));
    }
    my $scan = $db->scan(namespace => 'absent', from => $b0[0] + 1);
    is_deeply([$scan->next], [], 'scan of a namespace that does not exist, from inside a record: empty');
    # Offsets that are no offset are the type errors of rows 3 and 5 (EINVAL), not scans.
    is_roche_error { $db->scan(from => '18446744073709551616') } EINVAL, qr/scan: from: must be at most/, 'scan from 2**64';
    still_works($db, 'scans from bad offsets');
    $db->close;
};

# ---- 4. Huge and odd values -----------------------------------------------
# NUL bytes, empty values, 1 MiB and wide characters: binary.t.

subtest '4. a value of 64 MiB round-trips byte for byte' => sub {
    my $db = Roche->open(fresh_root());
    my $value = '';
    $value .= pack 'N*', $_ * 65536 .. $_ * 65536 + 65535 for 0 .. 255;    # every 4 bytes different
    is(length $value, 64 << 20, '64 MiB');
    my $offset = $db->append($value);
    my $got = $db->get($offset);
    is(length $got, length $value, 'get returns 64 MiB');
    ok($got eq $value, 'byte for byte') or do {
        my $at = 0;
        $at++ while $at < length $value && substr($got, $at, 1) eq substr($value, $at, 1);
        diag("first difference at byte $at");
    };
    undef $got;
    is($db->stat(namespace => undef)->{bytes}, 16 + (64 << 20), 'one record of 64 MiB');
    $db->close;
};

subtest '4. a value over 4 GiB - 1 is too big, nothing is written, nothing is copied' => sub {
    plan skip_all => 'needs Linux (MAP_ANONYMOUS | MAP_NORESERVE) and 64-bit pointers'
        unless $^O eq 'linux' && $Config{ptrsize} == 8;
    plan skip_all => 'FFI::Platypus::Buffer has no window() (FFI::Platypus 1.28 or later)'
        unless FFI::Platypus::Buffer->can('window');
    plan skip_all => 'sh cannot set a data size limit (ulimit -d)'
        unless system('sh', '-c', 'ulimit -d 262144') == 0;
    my $root = fresh_root();
    my $db = Roche->open($root);
    my $before = $db->append('before');
    $db->close;

    # The child maps 4 GiB of address space, read-only and never touched,
    # so no memory is allocated, and looks at it as a Perl string (a
    # window). A data limit of 256 MiB turns any copy of it (by the binding
    # or by the test) into "Out of memory!" and a failed exit, instead of
    # gigabytes allocated. The list for append_many is made of aliases
    # (sub { \@_ }), since [ ... ] would copy.
    my $script = <<'PERL';
use strict; use warnings;
use FFI::Platypus 1.00;
use FFI::Platypus::Buffer qw(window);
use Roche;
my $libc = FFI::Platypus->new(api => 1, lib => [undef]);
my $size = 2**32;    # 4 GiB: one byte over the most a record holds
# PROT_READ; MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE
my $address = $libc->function(mmap => ['opaque', 'size_t', 'int', 'int', 'int', 'off_t'] => 'opaque')
                   ->call(undef, $size, 0x1, 0x02 | 0x20 | 0x4000, -1, 0);
die "mmap failed\n" if !$address || $address == 2**64 - 1;
window(my $huge, $address, $size);
my $db = Roche->open($ARGV[0]);
my @calls = (
    append             => sub { $db->append($huge) },
    append_namespace   => sub { $db->append($huge, namespace => 'big', id => 'x') },
    append_many        => sub { $db->append_many(sub { \@_ }->('small', $huge, 'after')) },
    append_many_ns     => sub { $db->append_many(sub { \@_ }->($huge), namespace => 'big') },
);
while (my ($name, $call) = splice @calls, 0, 2) {
    my $ok = eval { $call->(); 1 };
    print "$name ", ($ok ? 'ok' : ref $@ ? $@->code . " $@" : "plain $@"), "\n";
}
print 'length ', length($huge), "\n";
PERL
    my $file = File::Temp->new(SUFFIX => '.pl');
    print $file $script;
    close $file;
    open my $child, '-|', 'sh', '-c', 'ulimit -d 262144 && exec "$0" "$@" 2>&1', perl_with_roche(), "$file", $root
        or die "sh: $!";
    my @lines = <$child>;
    close $child;
    is($?, 0, 'the child exits normally: no copy of the 4 GiB hit the 256 MiB limit') or diag(@lines);
    my %result = map { /\A(\S+) (.*)\z/ } map { chomp; $_ } @lines;
    is($result{length}, 2**32, 'the value is 4 GiB long');
    like($result{append}, qr/\A${\ ETOOBIG} append: value too big \(value of 4294967296 bytes/,
         'append: ETOOBIG, and libroche saw all 4294967296 bytes (no length cut to 32 bits)');
    like($result{append_namespace}, qr/\A${\ ETOOBIG} append: value too big/, 'append with namespace and id: ETOOBIG');
    like($result{append_many}, qr/\A${\ ETOOBIG} append_many: value 1: value too big \(value of 4294967296 bytes/,
         'append_many: ETOOBIG naming the value');
    like($result{append_many_ns}, qr/\A${\ ETOOBIG} append_many: value 0: value too big/, 'append_many in a namespace: ETOOBIG');

    $db = Roche->open($root);
    is_deeply([$db->namespaces], ['default'], 'no namespace was created');
    is($db->stat(namespace => undef)->{records}, 1, 'nothing was written: not the value, not the small values around it');
    is($db->get($before), 'before', 'the record from before is intact');
    still_works($db, 'values too big');
    $db->close;
};

# ---- 5. Wrong types -------------------------------------------------------
# Offsets as a non-numeric string, '' or a fraction, and an unblessed
# reference: multi_get.t. Values as an array of strings: safety.t (append
# [1]). Namespaces "..", "a/b", ".hidden", 256 bytes, a reference: safety.t.
# buckets 0, -1 and 8192: safety.t. Perl has one scalar type for strings
# and numbers: a number given as a value is stored as its digits (binary.t,
# as the POD documents), and as a namespace it names the namespace of those
# digits (below).

subtest '5. an offset that is an object, overloaded or not, is an error' => sub {
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('x');
    for my $object (bless({}, 'Some::Class'), Math::BigInt->new($offset)) {
        my $name = ref $object;
        is_roche_error { $db->get($object) } EINVAL, qr/\Aget: offset: must be a non-negative integer/, "get: a $name";
        is_roche_error { $db->multi_get([$offset, $object]) } EINVAL, qr/offset 1/, "multi_get: a $name";
        is_roche_error { $db->scan(from => $object) } EINVAL, qr/scan: from/, "scan from a $name";
    }
    still_works($db, 'object offsets');
    $db->close;
};

subtest '5. a value that is a hash or an object is an error, and nothing is written' => sub {
    my $db = Roche->open(fresh_root());
    for my $value ({ a => 1 }, bless({}, 'Some::Class'), \'scalar ref', sub { 'code' }) {
        is_roche_error { $db->append($value, namespace => 'typed') } EINVAL, qr/\Aappend: value: a reference/,
            'append ' . ref $value;
        is_roche_error { $db->append_many(['ok', $value], namespace => 'typed') } EINVAL,
            qr/\Aappend_many: value 1: a reference/, 'append_many with a ' . ref $value;
    }
    is_roche_error { $db->append_many({ a => 1 }) } EINVAL, qr/array reference/, 'append_many of a hash';
    is(records($db, 'typed'), 0, 'nothing written');
    still_works($db, 'values of the wrong type');
    $db->close;
};

subtest '5. a namespace that is an object is an error; a number names the namespace of its digits' => sub {
    my $db = Roche->open(fresh_root());
    my $object = bless {}, 'Some::Class';
    is_roche_error { $db->append('x', namespace => $object) } EINVAL, qr/\Aappend: namespace: a reference/, 'append';
    is_roche_error { $db->scan(namespace => $object) } EINVAL, qr/\Ascan: namespace: a reference/, 'scan';
    is_roche_error { $db->stat(namespace => $object) } EINVAL, qr/\Astat: namespace: a reference/, 'stat';
    is_roche_error { $db->delete_namespace(namespace => $object) } EINVAL, qr/\Adelete_namespace: namespace: a reference/,
        'delete_namespace';
    my $offset = $db->append('in 7', namespace => 7);
    is($db->get($offset, namespace => '7'), 'in 7', 'namespace 7 is the namespace "7"');
    is_deeply([$db->namespaces], ['7'], 'the only namespace made');
    still_works($db, 'namespaces of the wrong type');
    $db->close;
};

subtest '5. namespace names: "" is the default; "." and the others are EINVAL, and nothing is made outside root' => sub {
    my $parent = File::Temp::tempdir('roche-perl-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $db = Roche->open("$parent/store");
    my $offset = $db->append('in ""', namespace => '');
    is($db->get($offset), 'in ""', 'append to namespace "" writes to the default namespace');
    is($db->get($offset, namespace => ''), 'in ""', 'get from ""');
    is(($db->scan(namespace => '')->next)[1], 'in ""', 'scan of ""');
    is($db->stat(namespace => '')->{records}, 1, 'stat of ""');
    is_deeply([$db->namespaces], ['default'], 'no namespace named ""');

    my $longest = 'n' x 255;
    is($db->get($db->append('255', namespace => $longest), namespace => $longest), '255', 'a name of 255 bytes is valid');

    for my $name ('.', '..', '../escape', '/tmp', 'a/b', '.hidden', 'n' x 256) {
        my $shown = length $name > 20 ? length($name) . ' bytes' : "\"$name\"";
        is_roche_error { $db->append('x', namespace => $name) } EINVAL, qr/\Aappend: invalid argument \(/, "append to $shown";
        is_roche_error { $db->get(0, namespace => $name) } EINVAL, qr/\Aget 0: invalid argument/, "get from $shown";
        is_roche_error { $db->scan(namespace => $name) } EINVAL, qr/\Ascan: invalid argument/, "scan of $shown";
    }
    is_roche_error { $db->append('x', namespace => '.') } EINVAL, qr/namespace "\.": names starting with '\.' are reserved/,
        '"." is refused as a reserved name, with libroche\'s detail';
    opendir my $dir, $parent or die "$parent: $!";
    is_deeply([sort grep { !/\A\.\.?\z/ } readdir $dir], ['store'], 'nothing was made beside the store');
    is_deeply([sort $db->namespaces], [sort 'default', $longest], 'nor inside it');
    still_works($db, 'bad namespace names');
    $db->close;
};

subtest '5. buckets: a string is an error at the option, before open' => sub {
    my $root = fresh_root();
    for my $buckets ('eight', '8 buckets', '', 1.5, [8]) {
        is_roche_error { Roche->open($root, buckets => $buckets) } EINVAL,
            qr/\Aopen: buckets: must be a non-negative integer/, "buckets => '$buckets'";
    }
    # 0 and 8192 are safety.t's; here: the message names the option.
    is_roche_error { Roche->open($root, buckets => 8192) } EINVAL, qr/buckets must be between 1 and 8191, not 8192/,
        'buckets => 8192 names the option';
    ok(!-e $root, 'no store was created');
    my $db = Roche->open($root, buckets => '3');
    still_works($db, 'bad bucket counts');
    is($db->stat(namespace => undef)->{buckets}, 3, 'a count given as a string of digits is a count');
    $db->close;
};

# ---- 6. Threads -----------------------------------------------------------
# Each thread's own last error: safety.t (2 threads x 500 failures, each
# naming its own namespace). Close while another thread is in a call: a
# thread gets no copy of a store (CLONE_SKIP, see the POD's SAFETY), so no
# other thread can be in a call on it; safety.t checks the thread sees none.

subtest '6. appends from several threads at once, then get of every offset' => sub {
    plan skip_all => 'perl without ithreads' unless $Config{useithreads} && eval { require threads; require threads::shared; 1 };
    my $base = fresh_root();
    my $main = Roche->open($base);
    my $main_offset = $main->append('main');

    # One writer per store: each thread opens its own and appends; all of
    # them start together, behind a gate.
    my $go = 0;
    threads::shared::share(\$go);    # by reference: threads::shared came at run time, after the prototypes
    my $threads = 4;
    my @workers = map {
        my $n = $_;
        threads->create({ context => 'list' }, sub {
            my $db = Roche->open("$base-$n", buckets => 4);
            my $locked = error_of { Roche->open($base) };
            { lock $go; threads::shared::cond_wait(\$go) until $go; }
            my @offsets = map { $db->append("thread $n value $_") } 1 .. 300;
            push @offsets, @{ $db->append_many([map { "thread $n batch $_" } 1 .. 100]) };
            # get in the thread, through its own scratch slot (CLONE), grown for a large value
            my $large = $db->append("L$n" x 10_000);
            my $read = $db->get($offsets[0]) eq "thread $n value 1" && $db->get($large) eq "L$n" x 10_000;
            $db->close;
            return (ref $locked ? $locked->code : 'no error', $read ? 'read' : 'misread', @offsets);
        });
    } 1 .. $threads;
    { lock $go; $go = 1; threads::shared::cond_broadcast(\$go); }
    my %offsets = map { my $n = $_; ($n => [$workers[$n - 1]->join]) } 1 .. $threads;

    for my $n (1 .. $threads) {
        my ($locked, $read, @offsets) = @{ $offsets{$n} };
        is($locked, ELOCKED, "thread $n: the main thread's store is locked to it (one writer)");
        is($read, 'read', "thread $n: get in the thread reads back");
        is(scalar @offsets, 400, "thread $n: 400 offsets");
        my $db = Roche->open("$base-$n", read_only => 1);
        is_deeply($db->multi_get(\@offsets),
                  [(map { "thread $n value $_" } 1 .. 300), map { "thread $n batch $_" } 1 .. 100],
                  "thread $n: every offset reads back its value");
        $db->close;
    }
    is($main->get($main_offset), 'main', 'the main thread\'s store is untouched');
    still_works($main, 'the threads');
    $main->close;
};

done_testing;
