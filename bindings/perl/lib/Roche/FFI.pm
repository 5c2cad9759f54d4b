package Roche::FFI;

# The C API of include/roche.h, attached through FFI::Platypus. Internal:
# the Roche class is the way in, and nothing here is public API.

use strict;
use warnings;

use Config ();
use Cwd ();
use File::Basename ();
use File::Glob ();
use FFI::CheckLib ();
use FFI::Platypus 1.00;
use FFI::Platypus::DL qw(dlopen dlerror RTLD_PLATYPUS_DEFAULT);

our $VERSION = '0.1.0';

# The binding was written against this major version of roche.h.
use constant HEADER_MAJOR => 0;

# Return codes that are no error (roche.h); Roche::Error has the others.
use constant { OK => 0, DONE => 1 };

# roche_follow_open's flag.
use constant FOLLOW_FROM_END => 1;

# roche_options_set_format's formats.
use constant { FORMAT_ROCHE => 0, FORMAT_ROCHEFORT => 1 };

# Offsets and lengths are 64-bit; a Perl without 64-bit integers would
# silently round them.
die "Roche needs a perl with 64-bit integers (ivsize 8)\n" if $Config::Config{ivsize} < 8;

# Where libroche.so may be, first match wins: ROCHE_LIB (when set, nothing
# else is tried), a build tree of this checkout, the installed prefix that
# pkg-config knows, then whatever FFI::CheckLib and the system loader find.
sub library_candidates {
    my $explicit = $ENV{ROCHE_LIB};
    return ($explicit) if defined $explicit && length $explicit;
    return (build_tree_libraries(), pkg_config_libraries(), system_libraries());
}

# build/ (the README's) first, then any other build*/ tree, by name.
sub build_tree_libraries {
    my $checkout = checkout_root() // return ();
    my @trees = sort { ($a !~ m{/build/$}) <=> ($b !~ m{/build/$}) or $a cmp $b } File::Glob::bsd_glob("$checkout/build*/");
    return grep { -e } map { ("${_}libroche/libroche.so", "${_}libroche.so") } @trees;
}

# The libroche checkout this module sits in (from lib/ or from blib/lib/):
# the nearest directory above it that holds include/roche.h and
# bindings/perl (an installed copy finds none).
sub checkout_root {
    my $dir = Cwd::abs_path(File::Basename::dirname(__FILE__)) // return;
    for (1 .. 6) {
        $dir = File::Basename::dirname($dir);
        return $dir if -e "$dir/include/roche.h" && -d "$dir/bindings/perl";
    }
    return;
}

sub pkg_config_libraries {
    my $libdir = `pkg-config --variable=libdir roche 2>/dev/null`;
    return () if $? != 0 || !defined $libdir;
    chomp $libdir;
    return length $libdir ? ("$libdir/libroche.so.0") : ();
}

sub system_libraries {
    return (FFI::CheckLib::find_lib(lib => 'roche'), 'libroche.so.0');
}

# dlopen the first candidate that opens. The handle is never closed: it
# pins libroche in memory, so a store that global destruction reaches after
# FFI::Platypus has let go of the library can still be closed safely.
my $pinned;

sub load_library {
    my @failures;
    for my $candidate (library_candidates()) {
        $pinned = dlopen($candidate, RTLD_PLATYPUS_DEFAULT);
        return $candidate if $pinned;
        push @failures, "  $candidate: " . (dlerror() // 'cannot be opened');
    }
    die "Roche: libroche not found; set ROCHE_LIB to the path of libroche.so\n",
        map { "$_\n" } @failures;
}

my $ffi = FFI::Platypus->new(api => 1, lib => [load_library()]);

sub library_path { ($ffi->lib)[0] }

# Read the NUL-terminated string that starts at pointer.
sub string_at { $ffi->cast('opaque' => 'string', $_[0]) }

my @renamed = (
    [[roche_get_view => 'roche_get_view_fast'] => ['opaque', 'string', 'uint64', 'opaque', 'opaque', 'opaque'] => 'int'],
    [[roche_append => 'roche_append_fast'] => ['opaque', 'string', 'string', 'string', 'size_t', 'uint64*'] => 'int'],
    # Roche::Scan and Roche::Follow: the arrays are addresses of the batch's scratch string.
    [[roche_scan_next_batch => 'roche_scan_next_batch_fast'] => ['opaque', 'size_t', 'opaque', 'opaque', 'opaque', 'opaque', 'opaque'] => 'int'],
    [[roche_follow_next_batch => 'roche_follow_next_batch_fast'] => ['opaque', 'int', 'size_t', 'opaque', 'opaque', 'opaque', 'opaque', 'opaque'] => 'int'],
);

my %signatures = (
    roche_version         => [[] => 'string'],
    roche_version_number  => [[] => 'int'],
    roche_strerror        => [['int'] => 'string'],
    roche_last_error      => [[] => 'string'],
    roche_free            => [['opaque'] => 'void'],

    roche_options_new           => [[] => 'opaque'],
    roche_options_free          => [['opaque'] => 'void'],
    roche_options_set_buckets   => [['opaque', 'uint32'] => 'int'],
    roche_options_set_read_only => [['opaque', 'int'] => 'int'],
    roche_options_set_sync      => [['opaque', 'int'] => 'int'],
    roche_options_set_retention => [['opaque', 'uint64', 'uint64'] => 'int'],
    roche_options_set_sync_period_ms => [['opaque', 'uint32'] => 'int'],
    roche_options_set_max_open_files => [['opaque', 'uint32'] => 'int'],

    roche_open        => [['string', 'opaque', 'opaque*'] => 'int'],
    roche_close       => [['opaque'] => 'int'],
    roche_append      => [['opaque', 'string', 'string', 'opaque', 'size_t', 'uint64*'] => 'int'],
    roche_append_many => [['opaque', 'string', 'string', 'opaque', 'opaque', 'size_t', 'opaque'] => 'int'],
    roche_sync_namespace => [['opaque', 'string'] => 'int'],
    roche_sync           => [['opaque'] => 'int'],

    roche_get_view        => [['opaque', 'string', 'uint64', 'opaque*', 'opaque*', 'size_t*'] => 'int'],
    # The hot paths' signatures (Roche::get, Roche::append): get's outputs
    # go as addresses of words in a scratch string, read back with one
    # unpack ('Q/P', the length and the copy in one op); append's offset as
    # a uint64* into a new lexical, which FFI::Platypus 2 fills for less
    # than a scratch word and its unpack cost (measured); the value goes as
    # a 'string' (its bytes in place; the length is passed, so NULs are kept).

    roche_view_release    => [['opaque'] => 'void'],
    roche_multiget        => [['opaque', 'string', 'opaque', 'size_t', 'opaque*'] => 'int'],
    roche_values_count    => [['opaque'] => 'size_t'],
    roche_values_buffer   => [['opaque', 'size_t*'] => 'opaque'],
    roche_values_lengths  => [['opaque'] => 'opaque'],
    roche_values_statuses => [['opaque'] => 'opaque'],
    roche_values_free     => [['opaque'] => 'void'],

    roche_scan_open => [['opaque', 'string', 'uint64', 'opaque*'] => 'int'],
    roche_scan_next => [['opaque', 'uint64*', 'opaque*', 'size_t*', 'uint64*'] => 'int'],
    roche_scan_next_batch => [['opaque', 'size_t', 'opaque', 'opaque', 'opaque', 'opaque', 'opaque'] => 'int'],
    roche_scan_free => [['opaque'] => 'void'],

    roche_namespaces       => [['opaque', 'opaque*', 'size_t*'] => 'int'],
    roche_close_namespace  => [['opaque', 'string'] => 'int'],
    roche_delete_namespace => [['opaque', 'string'] => 'int'],
    roche_stat             => [['opaque', 'string', 'opaque'] => 'int'],

    roche_follow_open        => [['opaque', 'string', 'opaque', 'size_t', 'int', 'opaque*'] => 'int'],
    roche_follow_open_cursor => [['opaque', 'string', 'string', 'int', 'opaque*'] => 'int'],
    roche_follow_next        => [['opaque', 'int', 'uint64*', 'opaque*', 'size_t*', 'uint64*'] => 'int'],
    roche_follow_wake        => [['opaque'] => 'int'],
    roche_follow_position    => [['opaque', 'opaque', 'size_t', 'size_t*'] => 'int'],
    roche_follow_commit      => [['opaque', 'string'] => 'int'],
    roche_follow_free        => [['opaque'] => 'void'],

    roche_cursor_commit => [['opaque', 'string', 'string', 'opaque', 'size_t'] => 'int'],
    roche_cursor_get    => [['opaque', 'string', 'string', 'opaque*', 'size_t*'] => 'int'],
    roche_cursor_list   => [['opaque', 'string', 'opaque*', 'size_t*'] => 'int'],
    roche_cursor_delete => [['opaque', 'string', 'string'] => 'int'],

    roche_retain       => [['opaque', 'string', 'uint64', 'uint64', 'uint64*'] => 'int'],
    roche_bucket_range => [['opaque', 'string', 'uint32', 'uint64*', 'uint64*'] => 'int'],
);
$ffi->attach($_ => @{ $signatures{$_} }) for sort keys %signatures;
$ffi->attach(@$_) for @renamed;

# roche_get_into is younger than the rest: a libroche without it (an older
# one found first) still serves, and Roche::get reads through a view.
if ($ffi->find_symbol('roche_get_into')) {
    $ffi->attach(roche_get_into => ['opaque', 'string', 'uint64', 'opaque', 'size_t', 'size_t*'] => 'int');
    $ffi->attach([roche_get_into => 'roche_get_into_fast'] => ['opaque', 'string', 'uint64', 'opaque', 'size_t', 'opaque'] => 'int');
}

# So is roche_options_set_format: with a libroche without it the default
# format still opens, and Roche::open refuses format => 'rochefort'.
$ffi->attach(roche_options_set_format => ['opaque', 'int'] => 'int') if $ffi->find_symbol('roche_options_set_format');

# size_t[] travels as a packed string; this is its pack letter.
use constant SIZE_T_PACK => $Config::Config{sizesize} == 8 ? 'Q' : 'L';

my $major = int(roche_version_number() / 10000);
die sprintf("Roche: %s is libroche %s; this binding needs major version %d\n",
            $ffi->lib, roche_version(), HEADER_MAJOR)
    if $major != HEADER_MAJOR;

1;
