use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

# Issue 17, "Bindings, round 2": what a new user writing against the
# README ran into.

subtest 'every namespace call takes namespace => ...' => sub {
    my $db = Roche->open(fresh_root());
    $db->append('x', namespace => 'k');
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    is($db->stat(namespace => 'k')->{records}, 1, 'stat');
    $db->close_namespace(namespace => 'k');
    $db->delete_namespace(namespace => 'k');
    ok(!grep({ $_ eq 'k' } $db->namespaces), 'close_namespace and delete_namespace');
    $db->append('d');
    is($db->stat->{records}, 1, 'no argument: the default namespace');
    is($db->stat(namespace => undef)->{records}, 1, 'namespace => undef: the default namespace');
    is_deeply(\@warnings, [], 'no warning');
    is_roche_error { $db->stat(space => 'k') } EINVAL, qr/unknown option 'space'/, 'an unknown option';
    $db->close;
};

subtest 'the positional namespace still works, with a deprecation warning' => sub {
    my $db = Roche->open(fresh_root());
    $db->append('x', namespace => 'p');
    my @warnings;
    local $SIG{__WARN__} = sub { push @warnings, @_ };
    is($db->stat('p')->{records}, 1, 'stat($ns)');
    $db->close_namespace('p');
    $db->delete_namespace('p');
    ok(!grep({ $_ eq 'p' } $db->namespaces), 'close_namespace($ns), delete_namespace($ns)');
    is(scalar @warnings, 3, 'one warning each');
    like($warnings[$_], qr/\ARoche: (stat|close_namespace|delete_namespace)\(\$ns\) is deprecated; use \1\(namespace => \$ns\).* at \Q${\ __FILE__}\E line \d+/,
         "warning $_ names the new form and the caller's line") for 0 .. 2;
    @warnings = ();
    {
        no warnings 'deprecated';
        $db->append('y', namespace => 'q');
        $db->stat('q');
    }
    is_deeply(\@warnings, [], "no warnings 'deprecated' silences it");
    $db->close;
};

subtest 'group commit and the bound on open files are open options' => sub {
    my $root = fresh_root();
    is_roche_error { Roche->open($root, sync => 'periodic', sync_period => 4000) } EINVAL,
        qr/sync period must be 1\.\.3600000 ms/, "a period libroche refuses: libroche's EINVAL";
    is_roche_error { Roche->open($root, sync_period => 1) } EINVAL, qr/sync_period goes with sync => 'periodic'/,
        'sync_period alone';
    is_roche_error { Roche->open($root, sync => 'periodic', sync_period => -1) } EINVAL, undef, 'a negative period';
    is_roche_error { Roche->open($root, max_open_files => 3) } EINVAL, undef, 'max_open_files below 4';
    ok(!-e $root, 'nothing was created');

    my $db = Roche->open($root, sync => 'periodic', sync_period => 0.01);
    my $offsets = [map { $db->append("v$_", namespace => 'g') } 0 .. 99];
    select(undef, undef, undef, 0.05);    # a few periods: the sync thread runs beside the appends
    $db->close;
    my $reader = Roche->open($root, read_only => 1);
    is_deeply($reader->multi_get($offsets, namespace => 'g'), [map { "v$_" } 0 .. 99], 'appends read back');
    $reader->close;

    SKIP: {
        skip 'no /proc/self/fd', 3 unless -d '/proc/self/fd';
        my $count_fds = sub { opendir my $dh, '/proc/self/fd' or die; my @fds = grep { !/^\./ } readdir $dh; scalar @fds };
        my $many = Roche->open(fresh_root(), max_open_files => 8, buckets => 1);
        my $before = $count_fds->();
        my @offsets = map { $many->append("value $_", namespace => "ns$_") } 0 .. 299;
        cmp_ok($count_fds->() - $before, '<=', 12, '300 namespaces hold at most the bound of descriptors');
        is(scalar(grep { $many->get($offsets[$_], namespace => "ns$_") eq "value $_" } 0 .. 299), 300,
           'every namespace reads back');
        is(scalar(() = $many->namespaces), 300, 'and is listed');
        $many->close;
    }
};

subtest 'a damaged value is ECORRUPT from every read' => sub {
    my $root = fresh_root();
    my $db = Roche->open($root, buckets => 1);
    my @offsets = map { $db->append($_, namespace => 'd') } qw(first second third);
    $db->close;
    open my $fh, '+<:raw', "$root/d/append.0.raw" or die "open: $!";
    seek $fh, $offsets[1] + 16, 0;    # the second record's value
    print $fh 'X';
    close $fh;
    $db = Roche->open($root, buckets => 1);
    is_roche_error { $db->get($offsets[1], namespace => 'd') } ECORRUPT, undef, 'get';
    is($db->get($offsets[0], namespace => 'd'), 'first', 'its neighbour reads');
    my $values = $db->multi_get(\@offsets, namespace => 'd');
    ok(ref $values->[1] && $values->[1]->code == ECORRUPT, 'multi_get: its slot');
    is($values->[1]->offset, $offsets[1], 'with its offset');
    my $scan = $db->scan(namespace => 'd');
    is(($scan->next)[1], 'first', 'scan: the record before');
    is_roche_error { $scan->next } ECORRUPT, undef, 'scan: the damaged one';
    is(($scan->next)[1], 'third', 'scan: goes on past it');
    $db->close;
};

subtest 'the hot paths: bad arguments, a closed store, a forked child' => sub {
    my $db = Roche->open(fresh_root());
    my $offset = $db->append('x');
    is_roche_error { $db->get(-1) } EINVAL, undef, 'a negative offset';
    # Numbers made as numbers take get's shortest check (perl 5.36 on):
    # only whole ones in range pass it, the rest croak as before.
    for my $bad ([1.5, '1.5'], [-1.0, '-1.0'], [-0.5, '-0.5'], [9**9**9, 'inf'], [-9**9**9, '-inf'],
                 [9**9**9 / 9**9**9, 'nan'], [2**64, '2**64'], [1e30, '1e30'], [-(2**63), '-(2**63)']) {
        is_roche_error { $db->get($bad->[0]) } EINVAL, undef, "get($bad->[1])";
    }
    is_roche_error { $db->get(1e19) } ENOTFOUND, undef, 'get(1e19): a whole float in range, bucket 8881';
    is($db->get($offset + 0.0), 'x', 'an offset made a float reads');
    is_roche_error { $db->get($offset, namespace => "nul\0") } EINVAL, undef, 'a NUL in the namespace';
    is_roche_error { $db->append('x', id => "nul\0") } EINVAL, undef, 'a NUL in the id';
    is_roche_error { $db->get($offset, space => 'x') } EINVAL, qr/unknown option/, 'an unknown option';
    is($db->get($db->append("a\0b")), "a\0b", 'NUL bytes in values');
    is($db->get($db->append('')), '', 'an empty value');
    # A %SIG handler that calls get in the middle of another get uses its
    # own scratch words.
    my $inner;
    {
        local $SIG{ALRM} = sub { $inner = $db->get($offset) };
        require Time::HiRes;
        Time::HiRes::ualarm(200, 200);
        my $ok = 1;
        for (1 .. 20_000) { $ok &&= $db->get($offset) eq 'x' }
        Time::HiRes::ualarm(0);
        ok($ok, 'gets interrupted by a handler that gets read their own values');
    }
    is($inner, 'x', 'and the handler read its own');
    {
        # The same, made certain: a get inside the native call of another
        # (as a handler between the call and the copy would run) of values
        # small and large, the large one growing the shared buffer.
        my %value_at = map { my $v = $_ x ($_ eq 'b' ? 100_000 : 50); ($db->append($v) => $v) } qw(a b c);
        my @offsets = sort keys %value_at;
        my $real = \&Roche::FFI::roche_get_into_fast;
        my $depth = 0;
        no warnings 'redefine';
        local *Roche::FFI::roche_get_into_fast = sub {
            my $rc = $real->(@_);
            if (!$depth++) {
                my $other = $offsets[($_[2] == $offsets[0]) + 1];
                is($db->get($other), $value_at{$other}, "a get inside the get of $_[2]");
            }
            $depth--;
            return $rc;
        };
        for my $offset (@offsets, reverse @offsets) {
            is($db->get($offset), $value_at{$offset}, "the outer get of $offset reads its own value");
        }
    }
    my $pid = open(my $child, '-|') // die "fork: $!";
    if (!$pid) {
        my @codes = map { my $err = error_of { $_->() }; ref $err ? $err->code : 'none' }
            (sub { $db->get($offset) }, sub { $db->append('y') });
        print "@codes";
        require POSIX;
        POSIX::_exit(0);
    }
    my $codes = <$child>;
    close $child;
    is($codes, join(' ', EINVAL, EINVAL), "a forked child gets libroche's EINVAL, and writes nothing");
    $db->close;
    is_roche_error { $db->get($offset) } ECLOSED, undef, 'get after close';
    is_roche_error { $db->append('x') } ECLOSED, undef, 'append after close';
};

subtest "format => 'rochefort': rochefort's header check, and the wrong format refused" => sub {
    my $root = fresh_root();
    for my $bad ('crc', '', 'ROCHEFORT', 1, [], { rochefort => 1 }) {
        is_roche_error { Roche->open($root, format => $bad) } EINVAL, qr/format must be 'roche' or 'rochefort'/,
            'format ' . (ref $bad || "'$bad'");
    }
    ok(!-e $root, 'nothing was created');

    # Written in rochefort's format: read back in it, refused by the default.
    my @values = ("bytes\0ok", '', 'x' x 5000);
    my $db = Roche->open($root, format => 'rochefort', buckets => 4);
    my @offsets = map { $db->append($values[$_], namespace => 'old', $_ % 2 ? (id => "user-$_") : ()) } 0 .. $#values;
    $db->close;
    for my $read_only (0, 1) {
        my $old = Roche->open($root, format => 'rochefort', read_only => $read_only);
        is_deeply([map { $old->get($_, namespace => 'old') } @offsets], \@values, "values round-trip (read_only $read_only)");
        is_deeply($old->multi_get(\@offsets, namespace => 'old'), \@values, 'multi_get');
        $old->close;
        my $wrong = Roche->open($root, read_only => $read_only);
        is_roche_error { $wrong->get($offsets[0], namespace => 'old') } ECORRUPT, qr/nothing was changed/,
            "the default format: get refused (read_only $read_only)";
        is_roche_error { $wrong->append('y', namespace => 'old') } ECORRUPT, undef, 'append refused' unless $read_only;
        is_roche_error { $wrong->scan(namespace => 'old')->next } ECORRUPT, undef, 'scan refused';
        $wrong->close;
    }
    $db = Roche->open($root, format => undef);    # undef: the default, as for sync
    my $new = $db->append('new', namespace => 'new');
    $db->close;

    # And the other way round: a default-format namespace refused in rochefort's.
    my $wrong = Roche->open($root, format => 'rochefort');
    is_roche_error { $wrong->get($new, namespace => 'new') } ECORRUPT, qr/nothing was changed/,
        "format => 'rochefort' refuses a default-format namespace";
    is($wrong->get($offsets[0], namespace => 'old'), $values[0], 'and reads its own');
    $wrong->close;
    $db = Roche->open($root, format => 'roche');
    is($db->get($new, namespace => 'new'), 'new', "format => 'roche' is the default");
    $db->close;
};

subtest 'a libroche without roche_options_set_format' => sub {
    my $script = <<'PERL';
use FFI::Platypus;
my $find = \&FFI::Platypus::find_symbol;
{ no warnings 'redefine'; *FFI::Platypus::find_symbol = sub { $_[1] eq 'roche_options_set_format' ? undef : $find->(@_) }; }
require Roche;
my $ok = eval { Roche->open($ARGV[0], format => 'rochefort'); 1 };
print $ok ? 'opened' : $@->code, ' ', (-e $ARGV[0] ? 'created' : 'nothing'), ' ';
my $db = Roche->open($ARGV[0], format => 'roche');
print $db->get($db->append('value')), "\n";
$db->close;
PERL
    my $root = fresh_root();
    open my $child, '-|', perl_with_roche(), '-e', $script, $root or die "perl: $!";
    my $output = do { local $/; <$child> };
    close $child;
    is($output, ENOTSUP . " nothing value\n", "format => 'rochefort' croaks ENOTSUP, the default opens");
};

done_testing;
