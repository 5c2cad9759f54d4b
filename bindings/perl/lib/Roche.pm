package Roche;

use strict;
use warnings;

use FFI::Platypus::Buffer qw(buffer_to_scalar scalar_to_buffer scalar_to_pointer);
use Scalar::Util qw(refaddr weaken);

use Roche::FFI;
use Roche::Error qw(:codes);
use Roche::Scan;

our $VERSION = '0.1.0';

use constant OK => Roche::FFI::OK;

my %SYNC_POLICIES = (never => 0, always => 1);
my $MAX_OFFSET = '18446744073709551615';

# Every store still open, held weakly: END closes them before global
# destruction, which destroys objects in no particular order.
my %open_stores;

END {
    for my $store (grep { defined } values %open_stores) {
        local $@;
        eval { $store->close; 1 } or warn "Roche: closing $store->{path} at exit: $@\n";
    }
}

# Each thread starts without the stores of its parent: a clone would close
# the parent's handle a second time.
sub CLONE_SKIP { 1 }

sub library_version { Roche::FFI::roche_version() }

sub library_path { Roche::FFI::library_path() }

sub open {
    my ($class, $path, %options) = @_;
    _check_options(\%options, 'open', qw(buckets read_only sync));
    _check_bytes($path, 'open: path');
    _invalid('open', 'the path is empty') unless length $path;
    _check_no_nul($path, 'open: path');
    my $sync = _sync_policy($options{sync});
    my $buckets = defined $options{buckets} ? _check_uint($options{buckets}, 'open: buckets', 0xFFFFFFFF) : undef;

    my $opts = Roche::FFI::roche_options_new() // Roche::Error->throw(ENOMEM, 'open: out of memory');
    my $rc = defined $buckets ? Roche::FFI::roche_options_set_buckets($opts, $buckets) : OK;
    $rc ||= Roche::FFI::roche_options_set_read_only($opts, $options{read_only} ? 1 : 0);
    $rc ||= Roche::FFI::roche_options_set_sync($opts, $sync);
    my $handle;
    $rc ||= Roche::FFI::roche_open($path, $opts, \$handle);
    Roche::FFI::roche_options_free($opts);
    _fail($rc, "open $path") if $rc != OK;

    my $self = bless { handle => $handle, path => $path, scans => {} }, $class;
    weaken($open_stores{ refaddr $self } = $self);
    return $self;
}

sub path { $_[0]{path} }

sub is_closed { !defined $_[0]{handle} }

# Free the open scans (libroche wants them gone first), then the handle.
sub close {
    my $self = shift;
    my $handle = delete $self->{handle} // return;
    delete $open_stores{ refaddr $self };
    $_->_release for grep { defined } values %{ $self->{scans} };
    %{ $self->{scans} } = ();
    my $rc = Roche::FFI::roche_close($handle);
    _fail($rc, 'close') if $rc != OK;
    return;
}

sub DESTROY {
    my $self = shift;
    return unless defined $self->{handle};
    local ($@, $!, $?);
    eval { $self->close; 1 } or warn "Roche: closing $self->{path} on DESTROY: $@\n";
}

sub append {
    my ($self, $value, %options) = @_;
    my $db = $self->{handle} // _closed('append');
    my ($ns, $id) = _target(\%options, 'append');
    _check_bytes($value, 'append: value');
    my ($data, $len) = scalar_to_buffer($value);
    my $rc = Roche::FFI::roche_append($db, $ns, $id, $data, $len, \my $offset);
    _fail($rc, 'append') if $rc != OK;
    return $offset;
}

sub append_many {
    my ($self, $values, %options) = @_;
    my $db = $self->{handle} // _closed('append_many');
    my ($ns, $id) = _target(\%options, 'append_many');
    _invalid('append_many', 'values must be an array reference') unless ref $values eq 'ARRAY';
    my @values = @$values;
    _check_bytes($values[$_], "append_many: value $_") for 0 .. $#values;
    my $data = join '', @values;
    my $lens = pack Roche::FFI::SIZE_T_PACK . '*', map { length } @values;
    my $offsets = "\0" x (8 * @values);
    my $rc = Roche::FFI::roche_append_many($db, $ns, $id, scalar_to_pointer($data),
                                           scalar_to_pointer($lens), scalar(@values),
                                           scalar_to_pointer($offsets));
    _fail($rc, 'append_many') if $rc != OK;
    return [unpack 'Q*', $offsets];
}

sub get {
    my ($self, $offset, %options) = @_;
    my $db = $self->{handle} // _closed('get');
    my ($ns) = _target(\%options, 'get', 'namespace');
    _check_offset($offset, 'get: offset');
    my $rc = Roche::FFI::roche_get($db, $ns, $offset, \my $data, \my $len);
    _fail($rc, "get $offset") if $rc != OK;
    my $value = $len ? buffer_to_scalar($data, $len) : '';
    Roche::FFI::roche_free($data);
    return $value;
}

# The whole result is read in three bulk copies (values, lengths,
# statuses), whatever the number of offsets.
sub multi_get {
    my ($self, $offsets, %options) = @_;
    my $db = $self->{handle} // _closed('multi_get');
    my ($ns) = _target(\%options, 'multi_get', 'namespace');
    _invalid('multi_get', 'offsets must be an array reference') unless ref $offsets eq 'ARRAY';
    my $count = @$offsets;
    return [] unless $count;
    _check_offset($offsets->[$_], "multi_get: offset $_") for 0 .. $count - 1;
    my $request = pack 'Q*', @$offsets;

    my $rc = Roche::FFI::roche_multiget($db, $ns, scalar_to_pointer($request), $count, \my $result);
    _fail($rc, 'multi_get') if $rc != OK;
    my $buffer = Roche::FFI::roche_values_buffer($result, \my $size);
    my $bytes = $size ? buffer_to_scalar($buffer, $size) : '';
    my @lengths = unpack 'Q*', buffer_to_scalar(Roche::FFI::roche_values_lengths($result), 8 * $count);
    my @statuses = unpack 'l*', buffer_to_scalar(Roche::FFI::roche_values_statuses($result), 4 * $count);
    Roche::FFI::roche_values_free($result);

    my @values = unpack join('', map { "a$_" } @lengths), $bytes;
    for my $i (grep { $statuses[$_] != OK } 0 .. $count - 1) {
        $values[$i] = Roche::Error->new($statuses[$i], "multi_get: offset $offsets->[$i]: "
                                                       . Roche::FFI::roche_strerror($statuses[$i]));
    }
    return \@values;
}

sub scan {
    my ($self, %options) = @_;
    my $db = $self->{handle} // _closed('scan');
    my ($ns, $from) = _target(\%options, 'scan', qw(namespace from));
    $from //= 0;
    _check_offset($from, 'scan: from');
    my $rc = Roche::FFI::roche_scan_open($db, $ns, $from, \my $iterator);
    _fail($rc, 'scan') if $rc != OK;
    my $scan = Roche::Scan->_new($self, $iterator);
    weaken($self->{scans}{ refaddr $scan } = $scan);
    return $scan;
}

sub _forget_scan { delete $_[0]{scans}{ $_[1] } }

sub sync {
    my ($self, %options) = @_;
    my $db = $self->{handle} // _closed('sync');
    my ($ns) = _target(\%options, 'sync', 'namespace');
    my $rc = exists $options{namespace} ? Roche::FFI::roche_sync_namespace($db, $ns)
                                        : Roche::FFI::roche_sync($db);
    _fail($rc, 'sync') if $rc != OK;
    return;
}

sub namespaces {
    my $self = shift;
    my $db = $self->{handle} // _closed('namespaces');
    my $rc = Roche::FFI::roche_namespaces($db, \my $names, \my $count);
    _fail($rc, 'namespaces') if $rc != OK;
    my @names;
    for (my ($i, $at) = (0, $names); $i < $count; $i++) {
        push @names, Roche::FFI::string_at($at);
        $at += length($names[-1]) + 1;
    }
    Roche::FFI::roche_free($names);
    return @names;
}

sub close_namespace { _namespace_call($_[0], 'close_namespace', $_[1], \&Roche::FFI::roche_close_namespace) }

sub delete_namespace { _namespace_call($_[0], 'delete_namespace', $_[1], \&Roche::FFI::roche_delete_namespace) }

my @STAT_FIELDS = qw(buckets records bytes oldest_ns newest_ns damaged_ranges damaged_bytes recovered_bytes);

sub stat {
    my ($self, $ns) = @_;
    my $db = $self->{handle} // _closed('stat');
    _check_name($ns, 'stat: namespace');
    my $info = pack 'LLQ7', 1, 0, (0) x 7;    # roche_stat_info, ROCHE_STAT_VERSION 1
    my $rc = Roche::FFI::roche_stat($db, $ns, scalar_to_pointer($info));
    _fail($rc, 'stat') if $rc != OK;
    my (undef, @values) = unpack 'LLQ7', $info;
    my %stat;
    @stat{@STAT_FIELDS} = @values;
    return \%stat;
}

# ---- helpers ------------------------------------------------------------

sub _namespace_call {
    my ($self, $what, $ns, $call) = @_;
    my $db = $self->{handle} // _closed($what);
    _check_name($ns, "$what: namespace");
    my $rc = $call->($db, $ns);
    _fail($rc, $what) if $rc != OK;
    return;
}

# Croak with libroche's text for code and the detail of this thread's
# failure, read right after the failing call.
sub _fail {
    my ($code, $what) = @_;
    my $detail = Roche::FFI::roche_last_error();
    my $message = "$what: " . Roche::FFI::roche_strerror($code);
    $message .= " ($detail)" if length $detail;
    Roche::Error->throw($code, $message);
}

sub _invalid { Roche::Error->throw(EINVAL, "$_[0]: $_[1]") }

sub _closed { Roche::Error->throw(ECLOSED, "$_[0]: the store is closed") }

# The named options of a call, in order; unknown names croak.
sub _target {
    my ($options, $what, @known) = @_;
    @known = qw(namespace id) unless @known;
    _check_options($options, $what, @known);
    _check_name($options->{$_}, "$what: $_") for grep { $_ ne 'from' } @known;
    return @$options{@known};
}

sub _check_options {
    my ($options, $what, @known) = @_;
    my %known = map { $_ => 1 } @known;
    my @unknown = grep { !$known{$_} } sort keys %$options;
    _invalid($what, "unknown option '@unknown' (known: @known)") if @unknown;
}

# Values are byte strings. A string holding characters above 0xFF has no
# byte form: it is refused, not guessed at. Fixes $_[0] in place: the
# caller passes its own copy.
sub _check_bytes {
    my $what = $_[1];
    _invalid($what, 'undef is not a value') unless defined $_[0];
    _invalid($what, 'a reference is not a value') if ref $_[0];
    return unless utf8::is_utf8($_[0]);
    utf8::downgrade($_[0], 1)
        or _invalid($what, 'wide character (above \x{FF}); encode text to bytes first, '
                           . 'for example with Encode::encode("UTF-8", $text)');
}

# Namespaces and ids: undef means libroche's default; otherwise bytes as
# for values, without NUL, which would cut a C string short.
sub _check_name {
    return unless defined $_[0];
    _check_bytes($_[0], $_[1]);
    _check_no_nul($_[0], $_[1]);
}

sub _check_no_nul {
    _invalid($_[1], 'a NUL byte is not allowed') if index($_[0], "\0") >= 0;
}

sub _check_uint {
    my ($value, $what, $max) = @_;
    _invalid($what, 'must be a non-negative integer')
        unless defined $value && !ref $value && $value =~ /\A[0-9]+\z/;
    _invalid($what, "must be at most $max") if _digits_above($value, $max);
    return $value;
}

# Offsets are integers in 0 .. 2**64-1: a negative number, a fraction or a
# string of digits past the top would otherwise be wrapped or rounded.
sub _check_offset {
    my ($offset, $what) = @_;
    return if defined $offset && !ref $offset && $offset =~ /\A[0-9]{1,19}\z/;    # below 10**19
    _check_uint($offset, $what, $MAX_OFFSET);
}

sub _digits_above {
    my ($digits, $max) = @_;
    $digits =~ s/\A0+(?=.)//;
    return length $digits > length $max || (length $digits == length $max && $digits gt $max);
}

sub _sync_policy {
    my $sync = shift // 'never';
    return $SYNC_POLICIES{$sync} // _invalid('open', "sync must be 'never' or 'always', not '$sync'");
}

1;
