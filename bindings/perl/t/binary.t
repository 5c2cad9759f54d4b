use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

my $db = Roche->open(fresh_root());

subtest 'values are bytes, NULs and all' => sub {
    my @values = ("a\0b", "\0", "\0\0\0\0", join('', map { chr } 0 .. 255), "tail\0");
    for my $value (@values) {
        my $got = $db->get($db->append($value));
        is($got, $value, 'get returns every byte of ' . length($value) . ' bytes');
        ok(!utf8::is_utf8($got), 'as a byte string');
    }
    my $offsets = $db->append_many(\@values, namespace => 'many');
    is_deeply($db->multi_get($offsets, namespace => 'many'), \@values, 'append_many and multi_get too');
};

subtest 'empty values' => sub {
    my $offset = $db->append('');
    is($db->get($offset), '', 'an empty value comes back empty');
    my $offsets = $db->append_many(['', 'x', '', ''], namespace => 'empty');
    is_deeply($db->multi_get($offsets, namespace => 'empty'), ['', 'x', '', ''], 'empty values among others');
    my $only_empty = $db->append_many(['', ''], namespace => 'only-empty');
    is_deeply($db->multi_get($only_empty, namespace => 'only-empty'), ['', ''],
        'a multi_get whose values are all empty');
    my (undef, $value) = $db->scan(namespace => 'only-empty')->next;
    is($value, '', 'a scan returns an empty value');
};

subtest 'a large value' => sub {
    my $value = join '', map { pack 'N', $_ } 1 .. 256 * 1024;    # 1 MiB
    is($db->get($db->append($value)), $value, '1 MiB round trip');
};

# get copies the value out of the store (roche_get_into, into the
# binding's buffer, then into a scalar): the scalar it returned is the
# caller's own.
subtest 'a value from get outlives its namespace and the store' => sub {
    my $store = Roche->open(fresh_root());
    my $value = "\0kept\xff" x 20_000;    # over one page, NULs included
    my $closed = $store->get($store->append($value, namespace => 'c'), namespace => 'c');
    my $deleted = $store->get($store->append($value, namespace => 'd'), namespace => 'd');
    my $empty = $store->get($store->append('', namespace => 'd'), namespace => 'd');
    $store->close_namespace(namespace => 'c');
    $store->delete_namespace(namespace => 'd');
    $store->append('x' x 70_000, namespace => 'c');    # new mappings where the old ones were
    $store->close;
    is($closed, $value, 'after close_namespace and close');
    is($deleted, $value, 'after delete_namespace and close');
    is($empty, '', 'an empty value');
    ok(defined $empty && !utf8::is_utf8($empty), 'defined, a byte string');
    $closed .= 'mine';
    is($closed, "${value}mine", 'the caller may change it');
};

subtest 'an empty value from a read-only store' => sub {
    my $root = fresh_root();
    my $writer = Roche->open($root);
    my $offset = $writer->append('', namespace => 'e');
    $writer->close;
    my $reader = Roche->open($root, read_only => 1);
    my $got = $reader->get($offset, namespace => 'e');
    ok(defined $got && $got eq '', 'comes back as an empty string');
    $reader->close;
};

# get reads into a buffer the binding reuses (roche_get_into), grown for
# larger values and, past what it keeps, one of the value's own size: every
# scalar returned is the caller's own, whatever is read next, from a writer
# and from a read-only handle.
subtest 'get reads values of every size through one reused buffer' => sub {
    my $root = fresh_root();
    my @sizes = (0, 1, 100, 4095, 4096, 4097, 70_000, 262_144, 262_145, 1_000_000, 5, 0);
    my @values = map { my $n = $_; join '', map { chr(($_ * 131 + $n) % 256) } 1 .. $n } @sizes;
    my $writer = Roche->open($root);
    my @offsets = map { $writer->append($_, namespace => 'sizes') } @values;
    for my $store ($writer, Roche->open($root, read_only => 1)) {
        local $@ = 'before';
        my @reads = map { $store->get($_, namespace => 'sizes') } @offsets;
        is_deeply(\@reads, \@values, 'in order');
        is_deeply([map { $store->get($_, namespace => 'sizes') } reverse @offsets], [reverse @values], 'in reverse');
        is($@, 'before', 'get leaves $@ alone');
        $reads[2] .= 'mine';
        is($store->get($offsets[2], namespace => 'sizes'), $values[2], 'a changed result changes nothing else');
        is($reads[3], $values[3], 'nor an earlier result');
        is(error_of { $store->get($offsets[6] + 1, namespace => 'sizes') }->code, ECORRUPT, 'a failed get');
        is($store->get($offsets[7], namespace => 'sizes'), $values[7], 'the store reads on');
        ok(!utf8::is_utf8($reads[0]) && defined $reads[0], 'byte strings');
    }
    $writer->close;
};

# Without roche_get_into (an older libroche), get reads through a view.
# The copy is one unpack (no sub call that could die between the view
# and its release): every get releases its view once, empty values too.
subtest 'get releases its view' => sub {
    my $offset = $db->append('value', namespace => 'release');
    my @released;
    my $release = \&Roche::FFI::roche_view_release;
    {
        no warnings 'redefine';
        local *Roche::FFI::roche_view_release = sub { push @released, $_[0]; $release->(@_) };
        local $@ = 'before';
        is($db->_get_through_view($offset, namespace => 'release'), 'value', 'a value');
        is(scalar @released, 1, 'after one release');
        ok($released[0], 'of the view');
        @released = ();
        is($db->_get_through_view($db->append('', namespace => 'release'), namespace => 'release'), '', 'an empty value');
        is(scalar @released, 1, 'is released too');
        @released = ();
        ok(error_of { $db->_get_through_view($offset + 1, namespace => 'release') }, 'a failed get');
        is(scalar @released, 0, 'has no view to release');
        is($@, 'before', 'a get leaves $@ alone');
    }
    is($db->_get_through_view($offset, namespace => 'release'), 'value', 'the store reads on');
    is($db->get($offset, namespace => 'release'), 'value', 'and get after it');
};

# The handle is read in the call's own argument list: reading the offset
# (a tied scalar here, as a %SIG handler could) closes the store first,
# and the get says so instead of passing libroche the freed handle.
{
    package CloseOnFetch;
    sub TIESCALAR { my ($class, $store, $offset) = @_; bless [$store, $offset], $class }
    sub FETCH { $_[0][0]->close; $_[0][1] }
}
subtest 'a get through a view whose store closes meanwhile' => sub {
    my $store = Roche->open(fresh_root());
    tie my $offset, 'CloseOnFetch', $store, $store->append('value');
    is(error_of { $store->_get_through_view($offset) }->code, ECLOSED, 'the closed store is named');
};

# The same for every call that reads its arguments after it has looked at
# the handle: each says ECLOSED, and none passes libroche the freed handle
# (which crashed perl before).
subtest 'calls whose store closes while their arguments are read' => sub {
    my %calls = (
        'append with options' => sub { $_[0]->append($_[1], namespace => 'n') },
        'append_many'         => sub { $_[0]->append_many([$_[1]]) },
        'multi_get'           => sub { $_[0]->multi_get([$_[1]]) },
        'stat'                => sub { $_[0]->stat(namespace => $_[1]) },
        'sync of a namespace' => sub { $_[0]->sync(namespace => $_[1]) },
        'close_namespace'     => sub { $_[0]->close_namespace(namespace => $_[1]) },
        'delete_namespace'    => sub { $_[0]->delete_namespace(namespace => $_[1]) },
    );
    for my $name (sort keys %calls) {
        my $store = Roche->open(fresh_root());
        # An offset that exists, which is also a valid value and name.
        tie my $argument, 'CloseOnFetch', $store, $store->append('value');
        my $error = error_of { $calls{$name}->($store, $argument) };
        is($error && $error->code, ECLOSED, "$name: the closed store is named");
    }
};

subtest 'a libroche without roche_get_into' => sub {
    my $script = <<'PERL';
use FFI::Platypus;
my $find = \&FFI::Platypus::find_symbol;
{ no warnings 'redefine'; *FFI::Platypus::find_symbol = sub { $_[1] eq 'roche_get_into' ? undef : $find->(@_) }; }
require Roche;
my $db = Roche->open($ARGV[0]);
my $value = "\0value" x 1000;
print defined &Roche::FFI::roche_get_into_fast ? 'attached' : 'absent', ' ',
      ($db->get($db->append($value)) eq $value ? 'same' : 'different'), ' [', $db->get($db->append('')), "]\n";
$db->close;
PERL
    my $root = fresh_root();
    open my $child, '-|', perl_with_roche(), '-e', $script, $root or die "perl: $!";
    my $output = do { local $/; <$child> };
    close $child;
    is($output, "absent same []\n", 'loads, and get reads through views');
};

subtest 'numbers are stored as their digits' => sub {
    is($db->get($db->append(42)), '42', 'an integer');
    is($db->get($db->append(1.5)), '1.5', 'a float');
};

subtest 'strings with the utf8 flag: characters up to \xFF are stored as one byte each' => sub {
    my $latin1 = "caf\x{e9}";
    utf8::upgrade(my $flagged = $latin1);
    my $offset = $db->append($flagged);
    is($db->get($offset), "caf\xe9", 'stored as 4 bytes, the same as the byte string');
    ok(utf8::is_utf8($flagged), "the caller's string keeps its flag");
    my $offsets = $db->append_many([$flagged, "\xff"]);
    is_deeply($db->multi_get($offsets), ["caf\xe9", "\xff"], 'in append_many too');
};

subtest 'wide characters are refused, not guessed at' => sub {
    my $wide = "snow \x{2603}";
    is_roche_error { $db->append($wide) } EINVAL, qr/wide character.*encode/, 'append';
    is_roche_error { $db->append_many(['ok', $wide]) } EINVAL, qr/value 1: wide character/,
        'append_many names the value';
    is_roche_error { $db->append('x', namespace => "\x{2603}") } EINVAL, qr/namespace: wide/, 'a namespace';
    is_roche_error { $db->append('x', id => "\x{2603}") } EINVAL, qr/id: wide/, 'an id';
    is(scalar(() = $db->multi_get([0])), 1, 'the store still works');

    require Encode;
    my $offset = $db->append(Encode::encode('UTF-8', $wide), namespace => 'text');
    is(Encode::decode('UTF-8', $db->get($offset, namespace => 'text')), $wide, 'encoded text round-trips');
};

subtest 'a NUL in a name would cut it short: refused' => sub {
    is_roche_error { $db->append('x', namespace => "a\0b") } EINVAL, qr/namespace: a NUL byte/, 'namespace';
    is_roche_error { $db->append('x', id => "a\0b") } EINVAL, qr/id: a NUL byte/, 'id';
    ok(!-e $db->path . '/a', 'no namespace "a" was made');
};

$db->close;
done_testing;
