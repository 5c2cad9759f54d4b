package Roche;

use strict;
use warnings;

use FFI::Platypus::Buffer qw(buffer_to_scalar scalar_to_buffer scalar_to_pointer);
use Scalar::Util qw(refaddr weaken);

use Roche::FFI;
use Roche::Error qw(:codes);
use Roche::Scan;
use Roche::Follow;

our $VERSION = '0.1.0';

use constant OK => Roche::FFI::OK;
use constant MAX_VALUE => 0xFFFFFFFF;    # ROCHE_MAX_VALUE: a record's length is a u32
use constant MAX_BUCKETS => 8191;        # ROCHE_MAX_BUCKETS

my %SYNC_POLICIES = (never => 0, always => 1, periodic => 2);
my %FORMATS = (roche => Roche::FFI::FORMAT_ROCHE, rochefort => Roche::FFI::FORMAT_ROCHEFORT);
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
    my ($buckets, $read_only, $sync, $retention, $sync_period, $max_open_files, $format)
        = _options(\%options, 'open', qw(buckets read_only sync retention sync_period max_open_files format));
    _invalid('open', "sync_period goes with sync => 'periodic'") if defined $sync_period && ($sync // '') ne 'periodic';
    my $period_ms;
    if (defined $sync_period) {
        _invalid('open', 'sync_period must be a number of seconds')
            if ref $sync_period || !Scalar::Util::looks_like_number($sync_period) || $sync_period != $sync_period
               || $sync_period < 0 || $sync_period == 9**9**9;
        $period_ms = int($sync_period * 1000 + 0.999999);
        _invalid('open', 'sync_period is too large') if $period_ms > 0xFFFFFFFF;    # libroche checks 1..3600000
    }
    _check_uint($max_open_files, 'open', 'max_open_files', 0xFFFFFFFF) if defined $max_open_files;
    _check_bytes($path, 'open', 'path');
    _invalid('open', 'the path is empty') unless length $path;
    _check_no_nul($path, 'open', 'path');
    $sync = _sync_policy($sync);
    $format = _format($format);
    _check_uint($buckets, 'open', 'buckets', 0xFFFFFFFF) if defined $buckets;
    my ($max_age_ms, $max_bytes) = _retention($retention);

    my $opts = Roche::FFI::roche_options_new() // Roche::Error->throw(ENOMEM, 'open: out of memory');
    my $rc = defined $buckets ? Roche::FFI::roche_options_set_buckets($opts, $buckets) : OK;
    $rc ||= Roche::FFI::roche_options_set_read_only($opts, $read_only ? 1 : 0);
    $rc ||= Roche::FFI::roche_options_set_sync($opts, $sync);
    $rc ||= Roche::FFI::roche_options_set_retention($opts, $max_age_ms, $max_bytes) if defined $retention;
    $rc ||= Roche::FFI::roche_options_set_sync_period_ms($opts, $period_ms) if defined $period_ms;
    $rc ||= Roche::FFI::roche_options_set_max_open_files($opts, $max_open_files) if defined $max_open_files;
    $rc ||= Roche::FFI::roche_options_set_format($opts, $format) if $format != Roche::FFI::FORMAT_ROCHE;
    my $handle;
    $rc ||= Roche::FFI::roche_open($path, $opts, \$handle);
    Roche::FFI::roche_options_free($opts);
    _fail($rc, "open $path") if $rc != OK;

    my $self = bless { handle => $handle, path => $path, scans => {}, followers => {} }, $class;
    weaken($open_stores{ refaddr $self } = $self);
    return $self;
}

sub path { $_[0]{path} }

sub is_closed { !defined $_[0]{handle} }

# Free the open scans and followers (libroche wants them gone first), then
# the handle.
sub close {
    my $self = shift;
    my $handle = delete $self->{handle} // return;
    delete $open_stores{ refaddr $self };
    $_->_release for grep { defined } values %{ $self->{scans} };
    %{ $self->{scans} } = ();
    $_->_release('store') for grep { defined } values %{ $self->{followers} };
    %{ $self->{followers} } = ();
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

# get's scratch: [$words, their address, $buffer, its size, its address].
# The words are a length and the buffer's address, so one unpack ('Q/P':
# a length, then that many bytes at a pointer) copies a value out of the
# buffer. Neither string is ever copied in Perl, so neither ever shares
# its memory with another scalar: libroche writes into it in place.
#
# Every get uses the one slot $SLOT. A %SIG handler that calls get in the
# middle of another (Perl runs handlers between ops) would write into it
# too: each get counts itself in $GETS, and one that finds the count moved
# by the time it has copied its value out reads again (_get_slow), into a
# slot of its own. That is cheaper than taking a slot from a pool and
# giving it back, as get did: about 80 ns of its 850 with a no-op
# libroche (measured). Each get holds $SLOT in a lexical across its call,
# so a handler that grows $SLOT cannot free the buffer libroche is writing
# into. New ithreads make their own slot (their copies of the strings live
# at other addresses).
#
# _get_through_view (a libroche without roche_get_into) uses only the
# words, from a pool: @VIEW_SLOTS.
use constant VALUE_BUFFER_START => 4096;          # get's buffer, to begin with
use constant VALUE_BUFFER_KEPT  => 256 * 1024;    # the most $SLOT's buffer grows to

my ($SLOT, $GETS, @VIEW_SLOTS);

sub CLONE {
    $SLOT = _new_slot($SLOT->[3]);
    @VIEW_SLOTS = ();
}

sub _new_slot {
    my $size = shift // VALUE_BUFFER_START;
    my $slot = [undef, 0, "\0" x $size, $size, 0];
    $slot->[4] = unpack 'Q', pack 'P', $slot->[2];
    # Words 2 to 4 are _get_through_view's (length, data, view).
    $slot->[0] = pack 'Q5', 0, $slot->[4], 0, 0, 0;
    $slot->[1] = unpack 'Q', pack 'P', $slot->[0];
    return $slot;
}
$SLOT = _new_slot();
$GETS = 0;

# Whether get's offset can go to libroche as it is, without _check_offset:
# 1 to 19 ASCII digits, or, from perl 5.36 on, a number made as one (as
# append returns them) that is whole and in 0 .. 10**19 - 1. The digits
# test prints a number into a new string first, which cost a third of
# get's own time; builtin::created_as_number tells a number from a string
# without printing it (and is false for references and strings, which
# then take the digits test). Anything else goes to _check_offset, which
# accepts the rest of what is valid (leading zeros, whole floats up to
# 2**64 - 1) and croaks for the others.
use constant NUMBER_FLAGS => defined &builtin::created_as_number;
no if NUMBER_FLAGS, warnings => 'experimental::builtin';

# The hot path, when there are no options and the value is a plain byte
# string (the usual call): one FFI call, the offset written by libroche
# into a new lexical (FFI::Platypus's uint64*, cheaper here than a scratch
# word and its unpack, and every call's own, so a %SIG handler's append
# cannot overwrite it). The value is read where it lies ($_[1] aliases the
# caller's scalar). The handle is read in the call's own argument list, so
# a %SIG handler that closes the store cannot run between the read and the
# call (libroche answers a closed store's NULL with EINVAL, reported as
# ECLOSED). Everything else goes to _append_checked.
sub append {
    return &_append_checked if @_ > 2 || !defined $_[1] || ref $_[1] || utf8::is_utf8($_[1]);
    my $rc = Roche::FFI::roche_append_fast($_[0]{handle}, undef, undef, $_[1], length $_[1], \my $offset);
    return $offset if $rc == OK;
    _closed('append') unless defined $_[0]{handle};
    _fail($rc, 'append');
}

# append with options, or with a value that needs checking.
sub _append_checked {
    $_[0]{handle} // _closed('append');
    my ($ns, $id);
    if (@_ > 2) {
        my (undef, undef, %options) = @_;
        ($ns, $id) = _options(\%options, 'append', qw(namespace id));
    }
    # Read where it lies, as in append. A copy would double a large value
    # that Perl cannot share by copy on write (one mapped from a file,
    # say), and for one over 4 GiB - 1 it would allocate gigabytes only for
    # libroche to answer ETOOBIG. Only a utf8-flagged or invalid value is
    # copied, to be checked and downgraded.
    my $value = \$_[1];
    if (!defined $$value || ref $$value || utf8::is_utf8($$value)) {
        _check_bytes(my $copy = $$value, 'append', 'value');
        $value = \$copy;
    }
    my $rc = Roche::FFI::roche_append_fast($_[0]{handle}, $ns, $id, $$value, length $$value, \my $offset);
    $_[0]{handle} // _closed('append');
    _fail($rc, 'append') if $rc != OK;
    return $offset;
}

sub append_many {
    my ($self, $values, %options) = @_;
    $self->{handle} // _closed('append_many');
    my ($ns, $id) = _options(\%options, 'append_many', qw(namespace id));
    _invalid('append_many', 'values must be an array reference') unless ref $values eq 'ARRAY';
    # The caller's values are used as they are (no copy, as in append),
    # unless one needs checking and downgrading: then all are copied.
    if (grep { !defined || ref || utf8::is_utf8($_) } @$values) {    # the rare case, value by value
        my @values = @$values;
        _check_bytes($values[$_], 'append_many', "value $_") for 0 .. $#values;
        $values = \@values;
    }
    my $lens = pack Roche::FFI::SIZE_T_PACK . '*', map { length } @$values;
    # A value over 4 GiB - 1 (the record's length field is 32 bits) would
    # be joined, gigabytes copied, only to be refused. When the lengths
    # allow one (their sum, a checksum at C speed, is over), libroche is
    # asked about that value alone: it refuses it before writing anything,
    # so nothing of the batch is written, and its answer is passed on.
    if (unpack('%64' . Roche::FFI::SIZE_T_PACK . '*', $lens) > MAX_VALUE) {
        my ($too_big) = grep { length $values->[$_] > MAX_VALUE } 0 .. $#$values;
        if (defined $too_big) {
            my $rc = Roche::FFI::roche_append($self->{handle}, $ns, $id, scalar_to_buffer($values->[$too_big]), undef);
            $self->{handle} // _closed('append_many');
            _fail($rc, "append_many: value $too_big") if $rc != OK;
            Roche::Error->throw(EINTERNAL, "append_many: value $too_big: libroche stored over 4 GiB - 1");
        }
    }
    my $data = join '', @$values;
    my $offsets = "\0" x (8 * @$values);
    my $rc = Roche::FFI::roche_append_many($self->{handle}, $ns, $id, scalar_to_pointer($data),
                                           scalar_to_pointer($lens), scalar(@$values),
                                           scalar_to_pointer($offsets));
    $self->{handle} // _closed('append_many');
    _fail($rc, 'append_many') if $rc != OK;
    return [unpack 'Q*', $offsets];
}

# The hot path, as append: no options and an offset that needs no more
# checking (NUMBER_FLAGS). roche_get_into copies the value into $SLOT's
# buffer and writes its length into its first word; one unpack ('Q/P')
# copies it out into the scalar returned. The handle is read in the call's
# argument list, as in append. Anything but a value read undisturbed (a
# failure, a value larger than the buffer, another get meanwhile) is read
# again by _get_slow, which reports failures.
sub get {
    my $offset = $_[1];
    return &_get_checked
        if @_ > 2 || !(NUMBER_FLAGS && builtin::created_as_number($offset)
                       ? $offset >= 0 && $offset < 1e19 && $offset == int $offset
                       : defined $offset && !ref $offset && length $offset && length($offset) < 20
                         && !($offset =~ tr/0-9//c));
    my $slot = $SLOT;
    my $gets = ++$GETS;
    if (Roche::FFI::roche_get_into_fast($_[0]{handle}, undef, $offset, $slot->[4], $slot->[3], $slot->[1]) == OK) {
        my $value = unpack 'Q/P', $slot->[0];
        return $value if $gets == $GETS;
    }
    return _get_slow($_[0], undef, $offset);
}

# get with options, or with an offset that needs checking; then as get.
sub _get_checked {
    $_[0]{handle} // _closed('get');
    my $offset = $_[1];
    my $ns;
    if (@_ > 2) {
        my (undef, undef, %options) = @_;
        ($ns) = _options(\%options, 'get', 'namespace');
    }
    _check_offset($offset, 'get', 'offset');
    my $slot = $SLOT;
    my $gets = ++$GETS;
    if (Roche::FFI::roche_get_into_fast($_[0]{handle}, $ns, $offset, $slot->[4], $slot->[3], $slot->[1]) == OK) {
        my $value = unpack 'Q/P', $slot->[0];
        return $value if $gets == $GETS;
    }
    return _get_slow($_[0], $ns, $offset);
}

# get's other cases, read again: a failure (croaked, with the detail read
# right after the call), a value larger than the buffer (ETOOBIG, its
# length in the first word), or a %SIG handler's get that used $SLOT
# meanwhile. Up to VALUE_BUFFER_KEPT, $SLOT is replaced by a slot with a
# buffer large enough (a power of two); past it, a slot of the value's
# size is used once. After a handler's get, this read goes on in a slot of
# its own, which no other get uses, so it ends. Read again until it fits:
# the length cannot change for one offset, unless the namespace was
# deleted and made again meanwhile. The handle is read in each call's
# argument list.
sub _get_slow {
    my ($self, $ns, $offset) = @_;
    my ($slot, $own) = ($SLOT, 0);
    while (1) {
        my $gets = ++$GETS;
        my $rc = Roche::FFI::roche_get_into_fast($self->{handle}, $ns, $offset, $slot->[4], $slot->[3], $slot->[1]);
        if ($rc != OK && $rc != ETOOBIG) {
            _closed('get') unless defined $self->{handle};
            _fail($rc, "get $offset", $offset);
        }
        my $value = $rc == OK ? unpack('Q/P', $slot->[0]) : unpack('Q', $slot->[0]);    # or the length it needs
        if (!$own && $gets != $GETS) {
            ($slot, $own) = (_new_slot($slot->[3]), 1);
            next;
        }
        return $value if $rc == OK;
        if ($value <= VALUE_BUFFER_KEPT && !$own) {
            my $grown = $slot->[3];
            $grown *= 2 while $grown < $value;
            $SLOT = $slot = _new_slot($grown);
        } else {
            ($slot, $own) = (_new_slot($value), 1);
        }
    }
}

# get with a libroche that has no roche_get_into. roche_get_view writes the
# length, the data pointer and the view into the slot's words 2 to 4 in
# that order, so one unpack ('Q/P': a length, then that many bytes at a
# pointer) copies the value, once, from the store's mapping, and gives the
# view to release.
sub _get_through_view {
    $_[0]{handle} // _closed('get');
    my $offset = $_[1];
    my $ns;
    if (@_ > 2) {
        my (undef, undef, %options) = @_;
        ($ns) = _options(\%options, 'get', 'namespace');
    }
    _check_offset($offset, 'get', 'offset') unless defined $offset && !ref $offset && $offset =~ /\A[0-9]{1,19}\z/;
    my $slot = pop(@VIEW_SLOTS) // _new_slot(0);
    my $at = $slot->[1];
    # The handle is read here, in the call's own arguments, as in get:
    # reading the offset (or a %SIG handler before this line) may have
    # closed the store.
    my $rc = Roche::FFI::roche_get_view_fast($_[0]{handle}, $ns, $offset, $at + 32, $at + 24, $at + 16);
    if ($rc != OK) {
        push @VIEW_SLOTS, $slot;
        _closed('get') unless defined $_[0]{handle};
        _fail($rc, "get $offset", $offset);
    }
    my ($value, $view) = unpack 'x16 Q/P Q', $slot->[0];
    Roche::FFI::roche_view_release($view);
    push @VIEW_SLOTS, $slot;
    return $value;
}
{
    no warnings 'redefine';
    *get = \&_get_through_view unless defined &Roche::FFI::roche_get_into_fast;
}

# The whole result is read in three bulk copies (values, lengths,
# statuses), whatever the number of offsets.
sub multi_get {
    my ($self, $offsets, %options) = @_;
    $self->{handle} // _closed('multi_get');
    my ($ns) = _options(\%options, 'multi_get', 'namespace');
    _invalid('multi_get', 'offsets must be an array reference') unless ref $offsets eq 'ARRAY';
    my $count = @$offsets;
    return [] unless $count;
    my $request = _pack_offsets($offsets, 'multi_get');

    my $rc = Roche::FFI::roche_multiget($self->{handle}, $ns, scalar_to_pointer($request), $count, \my $result);
    $self->{handle} // _closed('multi_get');
    _fail($rc, 'multi_get') if $rc != OK;
    my $buffer = Roche::FFI::roche_values_buffer($result, \my $size);
    my $bytes = $size ? buffer_to_scalar($buffer, $size) : '';
    my @lengths = unpack 'Q*', buffer_to_scalar(Roche::FFI::roche_values_lengths($result), 8 * $count);
    my $statuses = buffer_to_scalar(Roche::FFI::roche_values_statuses($result), 4 * $count);
    Roche::FFI::roche_values_free($result);

    my @values = unpack 'a' . join('a', @lengths), $bytes;
    return \@values if $statuses eq "\0" x length $statuses;    # all OK: the usual case
    my @statuses = unpack 'l*', $statuses;
    for my $i (grep { $statuses[$_] != OK } 0 .. $count - 1) {
        $values[$i] = Roche::Error->new($statuses[$i], "multi_get: offset $offsets->[$i]: "
                                                       . Roche::FFI::roche_strerror($statuses[$i]), $offsets->[$i]);
    }
    return \@values;
}

sub scan {
    my ($self, %options) = @_;
    $self->{handle} // _closed('scan');
    my ($ns, $from) = _options(\%options, 'scan', qw(namespace from));
    $from //= 0;
    _check_offset($from, 'scan', 'from');
    # Registered before the native iterator is made into it, as a follower
    # is (see follow): a %SIG handler that closes the store frees it first.
    my $scan = Roche::Scan->_new($self, undef, $ns);
    weaken($self->{scans}{ refaddr $scan } = $scan);
    my $rc = Roche::FFI::roche_scan_open($self->{handle}, $ns, $from, \$scan->{iterator});
    $self->{handle} // _closed('scan');
    _fail($rc, 'scan') if $rc != OK;
    return $scan;
}

sub _forget_scan { delete $_[0]{scans}{ $_[1] } }

# The follower is registered before libroche makes the native one, which
# is stored into it by the call itself (and the handle read in the same
# statement): a signal handler that closes the store at any point frees
# the follower first, or the call gets no handle (EINVAL, reported as
# ECLOSED).
sub follow {
    my ($self, %options) = @_;
    $self->{handle} // _closed('follow');
    my ($ns, $from, $cursor, $from_end) = _options(\%options, 'follow', qw(namespace from cursor from_end));
    _invalid('follow', "give 'from' or 'cursor', not both") if defined $from && defined $cursor;
    my $flags = $from_end ? Roche::FFI::FOLLOW_FROM_END : 0;
    my ($positions, $count) = (undef, 0);
    if (defined $from) {
        _invalid('follow', 'from must be an array reference of offsets (one per bucket)') unless ref $from eq 'ARRAY';
        _invalid('follow', 'from: more than ' . MAX_BUCKETS . ' offsets') if @$from > MAX_BUCKETS;
        $positions = _pack_offsets($from, 'follow: from');
        $count = @$from;
    }
    _check_cursor($cursor, 'follow') if defined $cursor;
    my $follower = Roche::Follow->_new($self, $ns // 'default');
    weaken($self->{followers}{ refaddr $follower } = $follower);
    my $from_pointer = $count ? scalar_to_pointer($positions) : undef;    # not in the call: a sub call and ?: handle signals
    my $rc = defined $cursor
        ? Roche::FFI::roche_follow_open_cursor($self->{handle}, $ns, $cursor, $flags, \$follower->{follower})
        : Roche::FFI::roche_follow_open($self->{handle}, $ns, $from_pointer, $count, $flags, \$follower->{follower});
    $self->{handle} // _closed('follow');
    _fail($rc, 'follow ' . ($ns // 'default') . (defined $cursor ? " from cursor $cursor" : '')) if $rc != OK;
    return $follower;
}

sub _forget_follower { delete $_[0]{followers}{ $_[1] } }

# ---- cursors ------------------------------------------------------------

sub cursor_commit {
    my ($self, $name, $offsets, %options) = @_;
    $self->{handle} // _closed('cursor_commit');
    my ($ns) = _options(\%options, 'cursor_commit', 'namespace');
    _check_cursor($name, 'cursor_commit');
    _invalid('cursor_commit', 'offsets must be an array reference (one offset per bucket)') unless ref $offsets eq 'ARRAY';
    _invalid('cursor_commit', 'more than ' . MAX_BUCKETS . ' offsets') if @$offsets > MAX_BUCKETS;
    my $packed = _pack_offsets($offsets, 'cursor_commit');
    my $pointer = @$offsets ? scalar_to_pointer($packed) : undef;
    my $rc = Roche::FFI::roche_cursor_commit($self->{handle}, $ns, $name, $pointer, scalar @$offsets);
    $self->{handle} // _closed('cursor_commit');
    _fail($rc, "cursor_commit $name") if $rc != OK;
    return;
}

sub cursor_get {
    my ($self, $name, %options) = @_;
    $self->{handle} // _closed('cursor_get');
    my ($ns) = _options(\%options, 'cursor_get', 'namespace');
    _check_cursor($name, 'cursor_get');
    my ($offsets, $count) = (undef, 0);
    my $rc = Roche::FFI::roche_cursor_get($self->{handle}, $ns, $name, \$offsets, \$count);
    $self->{handle} // _closed('cursor_get');
    _fail($rc, "cursor_get $name") if $rc != OK;
    my @offsets = $count ? unpack('Q*', buffer_to_scalar($offsets, 8 * $count)) : ();
    Roche::FFI::roche_free($offsets);
    return \@offsets;
}

sub cursor_list {
    my ($self, %options) = @_;
    $self->{handle} // _closed('cursor_list');
    my ($ns) = _options(\%options, 'cursor_list', 'namespace');
    my ($names, $count) = (undef, 0);
    my $rc = Roche::FFI::roche_cursor_list($self->{handle}, $ns, \$names, \$count);
    $self->{handle} // _closed('cursor_list');
    _fail($rc, 'cursor_list') if $rc != OK;
    return _names_at($names, $count);
}

sub cursor_delete {
    my ($self, $name, %options) = @_;
    $self->{handle} // _closed('cursor_delete');
    my ($ns) = _options(\%options, 'cursor_delete', 'namespace');
    _check_cursor($name, 'cursor_delete');
    my $rc = Roche::FFI::roche_cursor_delete($self->{handle}, $ns, $name);
    $self->{handle} // _closed('cursor_delete');
    _fail($rc, "cursor_delete $name") if $rc != OK;
    return;
}

# ---- retention ----------------------------------------------------------

sub retain {
    my ($self, %options) = @_;
    $self->{handle} // _closed('retain');
    my ($ns, $older_than_ns, $max_bytes) = _options(\%options, 'retain', qw(namespace older_than_ns max_bytes));
    $older_than_ns //= 0;
    $max_bytes //= 0;
    _check_offset($older_than_ns, 'retain', 'older_than_ns');
    _check_offset($max_bytes, 'retain', 'max_bytes');
    my $freed = 0;
    my $rc = Roche::FFI::roche_retain($self->{handle}, $ns, $older_than_ns, $max_bytes, \$freed);
    $self->{handle} // _closed('retain');
    _fail($rc, 'retain ' . ($ns // 'default')) if $rc != OK;
    return $freed;
}

sub bucket_range {
    my ($self, $bucket, %options) = @_;
    $self->{handle} // _closed('bucket_range');
    my ($ns) = _options(\%options, 'bucket_range', 'namespace');
    _check_uint($bucket, 'bucket_range', 'bucket', 0xFFFFFFFF);    # libroche says which are past the last
    my ($first, $end) = (0, 0);
    my $rc = Roche::FFI::roche_bucket_range($self->{handle}, $ns, $bucket, \$first, \$end);
    $self->{handle} // _closed('bucket_range');
    _fail($rc, "bucket_range $bucket") if $rc != OK;
    return ($first, $end);
}

sub sync {
    my ($self, %options) = @_;
    $self->{handle} // _closed('sync');
    my $one = exists $options{namespace};
    my ($ns) = _options(\%options, 'sync', 'namespace');
    my $rc = $one ? Roche::FFI::roche_sync_namespace($self->{handle}, $ns) : Roche::FFI::roche_sync($self->{handle});
    $self->{handle} // _closed('sync');
    _fail($rc, 'sync') if $rc != OK;
    return;
}

sub namespaces {
    my $self = shift;
    my $db = $self->{handle} // _closed('namespaces');
    my $rc = Roche::FFI::roche_namespaces($db, \my $names, \my $count);
    _fail($rc, 'namespaces') if $rc != OK;
    return _names_at($names, $count);
}

# count NUL-terminated names back to back at pointer names, which is freed.
sub _names_at {
    my ($names, $count) = @_;
    my @names;
    for (my ($i, $at) = (0, $names); $i < $count; $i++) {
        push @names, Roche::FFI::string_at($at);
        $at += length($names[-1]) + 1;
    }
    Roche::FFI::roche_free($names);
    return @names;
}

sub close_namespace {
    my $self = shift;
    _namespace_call($self, 'close_namespace', _namespace_arg('close_namespace', @_), \&Roche::FFI::roche_close_namespace);
}

sub delete_namespace {
    my $self = shift;
    _namespace_call($self, 'delete_namespace', _namespace_arg('delete_namespace', @_), \&Roche::FFI::roche_delete_namespace);
}

# The namespace of stat, close_namespace and delete_namespace: named
# (namespace => $ns) as in every other call, or, deprecated for one minor
# version, the one positional argument (a warning in the 'deprecated'
# category, which 'no warnings "deprecated"' silences).
sub _namespace_arg {
    my $what = shift;
    return undef unless @_;
    if (@_ == 1) {
        warnings::warnif('deprecated',
                         "Roche: $what(\$ns) is deprecated; use $what(namespace => \$ns) (removed in the next minor version)");
        return $_[0];
    }
    my %options = @_;
    my ($ns) = _options(\%options, $what, 'namespace');
    return $ns;
}

my @STAT_FIELDS = qw(buckets records bytes oldest_ns newest_ns damaged_ranges damaged_bytes recovered_bytes
                     dropped_records dropped_bytes);

sub stat {
    my $self = shift;
    $self->{handle} // _closed('stat');
    my $ns = _namespace_arg('stat', @_);
    _check_name($ns, 'stat', 'namespace');
    my $info = pack 'LLQ9', 2, 0, (0) x 9;    # roche_stat_info, ROCHE_STAT_VERSION 2
    my $rc = Roche::FFI::roche_stat($self->{handle}, $ns, scalar_to_pointer($info));
    $self->{handle} // _closed('stat');
    _fail($rc, 'stat') if $rc != OK;
    my (undef, @values) = unpack 'LLQ9', $info;
    my %stat;
    @stat{@STAT_FIELDS} = @values;
    return \%stat;
}

# ---- helpers ------------------------------------------------------------

sub _namespace_call {
    my ($self, $what, $ns, $call) = @_;
    $self->{handle} // _closed($what);
    _check_name($ns, $what, 'namespace');
    my $rc = $call->($self->{handle}, $ns);
    $self->{handle} // _closed($what);
    _fail($rc, $what) if $rc != OK;
    # Scans of the namespace closed or deleted drop the records they fetched.
    $_->_namespace_closed($ns) for grep { defined } values %{ $self->{scans} };
    return;
}

# Croak with libroche's text for code and the detail of this thread's
# failure, read right after the failing call; offset, when the failure is
# about one record (EDROPPED is a Roche::Error::Dropped).
sub _fail {
    my ($code, $what, $offset) = @_;
    my $detail = Roche::FFI::roche_last_error();
    my $message = "$what: " . Roche::FFI::roche_strerror($code);
    $message .= " ($detail)" if length $detail;
    Roche::Error->throw($code, $message, $offset);
}

sub _invalid { Roche::Error->throw(EINVAL, "$_[0]: $_[1]") }

sub _closed { Roche::Error->throw(ECLOSED, "$_[0]: the store is closed") }

# The named options of a call, in the order asked for; any other name
# croaks. Namespaces and ids are checked as names.
sub _options {
    return () unless %{ $_[0] };    # the usual call: no options, all undef
    my ($options, $what, @names) = @_;
    my @values = delete @$options{@names};
    _invalid($what, "unknown option '" . join(' ', sort keys %$options) . "' (known: @names)") if %$options;
    for my $i (grep { defined $values[$_] } 0 .. $#names) {
        _check_name($values[$i], $what, $names[$i]) if $names[$i] eq 'namespace' || $names[$i] eq 'id';
    }
    return @values;
}

# Values are byte strings. A string holding characters above 0xFF has no
# byte form: it is refused, not guessed at. Fixes $_[0] in place: the
# caller passes its own copy. ($what and $label name the argument in the
# message, built only on failure.)
sub _check_bytes {
    my (undef, $what, $label) = @_;
    _invalid("$what: $label", 'undef is not a value') unless defined $_[0];
    _invalid("$what: $label", 'a reference is not a value') if ref $_[0];
    return unless utf8::is_utf8($_[0]);
    utf8::downgrade($_[0], 1)
        or _invalid("$what: $label", 'wide character (above \x{FF}); encode text to bytes first, '
                                     . 'for example with Encode::encode("UTF-8", $text)');
}

# Namespaces and ids: undef means libroche's default; otherwise bytes as
# for values, without NUL, which would cut a C string short.
sub _check_name {
    return unless defined $_[0];
    _check_bytes(@_);
    _check_no_nul(@_);
}

sub _check_no_nul {
    _invalid("$_[1]: $_[2]", 'a NUL byte is not allowed') if index($_[0], "\0") >= 0;
}

sub _check_uint {
    my ($value, $what, $label, $max) = @_;
    _invalid("$what: $label", 'must be a non-negative integer')
        unless defined $value && !ref $value && $value =~ /\A[0-9]+\z/;
    _invalid("$what: $label", "must be at most $max") if _digits_above($value, $max);
}

# Offsets are integers in 0 .. 2**64-1: a negative number, a fraction or a
# string of digits past the top would otherwise be wrapped or rounded.
sub _check_offset {
    my ($offset, $what, $label) = @_;
    return if defined $offset && !ref $offset && $offset =~ /\A[0-9]{1,19}\z/;    # below 10**19
    return if _whole_float($_[0], $what, $label);    # the caller's, not the copy the match just printed
    _check_uint($offset, $what, $label, $MAX_OFFSET);
}

# True for a float that holds a whole number in 0 .. 2**64-1, such as
# 2**50, the first offset of bucket 1. Perl prints a float with 15
# significant digits ("1.12589990684262e+15"), which the digits test above
# refuses, yet the float itself is exact and converts to uint64 exactly.
# Only a number made as a float counts: a string such as "9.2e+18" stays
# refused, since its digits were rounded when it was printed. (Before perl
# 5.36, printing a number marks it as a string too: hence $_[0], the
# caller's own scalar, is looked at, never a copy that was printed.)
sub _whole_float {
    my (undef, $what, $label) = @_;
    return 0 if !defined $_[0] || ref $_[0];
    require B;
    my $flags = B::svref_2object(\$_[0])->FLAGS;
    return 0 unless ($flags & B::SVf_NOK()) && !($flags & B::SVf_POK());
    my $offset = $_[0];
    return 0 unless $offset >= 0 && $offset == int $offset;    # no negative, fraction or NaN
    _invalid("$what: $label", "must be at most $MAX_OFFSET") if $offset >= 18446744073709551616;   # 2**64, and inf
    return 1;
}

# Offsets as a uint64_t array. Every offset that reads back as it was
# written is a valid one; only when one does not are they checked one by
# one, for the message (or for leading zeros and whole floats, which are
# valid). An object whose overloading prints the number it packs as
# (Math::BigInt) would read back the same: references are looked for
# apart, so multi_get refuses what get refuses. $what names the call.
sub _pack_offsets {
    my ($offsets, $what) = @_;
    no warnings qw(numeric uninitialized);
    my $request = eval { pack 'Q*', @$offsets } // '';    # pack dies on Inf and NaN: checked below
    if (join(',', unpack 'Q*', $request) ne join(',', @$offsets) || grep { ref } @$offsets) {
        _check_offset($offsets->[$_], $what, "offset $_") for 0 .. $#$offsets;
    }
    return $request;
}

sub _digits_above {
    my ($digits, $max) = @_;
    $digits =~ s/\A0+(?=.)//;
    return length $digits > length $max || (length $digits == length $max && $digits gt $max);
}

# Cursor names: as namespaces (libroche checks the rest), but never undef.
sub _check_cursor {
    my ($name, $what) = @_;
    _invalid("$what: cursor", 'undef is not a cursor name') unless defined $name;
    _check_name($name, $what, 'cursor');
}

# The retention open option: { max_age => seconds, max_bytes => bytes },
# as libroche's milliseconds and bytes (0: no limit).
sub _retention {
    my $retention = shift // return (0, 0);
    _invalid('open', 'retention must be a hash reference: { max_age => $seconds, max_bytes => $bytes }')
        unless ref $retention eq 'HASH';
    my %limits = %$retention;
    my ($max_age, $max_bytes) = delete @limits{qw(max_age max_bytes)};
    _invalid('open', "retention: unknown key '" . join(' ', sort keys %limits) . "' (known: max_age max_bytes)")
        if %limits;
    my $max_age_ms = 0;
    if (defined $max_age) {
        _invalid('open', 'retention: max_age must be a number of seconds, 0 or more')
            if ref $max_age || !Scalar::Util::looks_like_number($max_age) || !($max_age >= 0) || $max_age == 9**9**9;
        $max_age_ms = int($max_age * 1000 + 0.5);
        $max_age_ms = 1 if $max_age_ms == 0 && $max_age > 0;    # a limit, however short, is no "off"
        _invalid('open', 'retention: max_age is too large') if $max_age_ms >= 2**64;
    }
    $max_bytes //= 0;
    _check_offset($max_bytes, 'open', 'retention: max_bytes');
    return ($max_age_ms, $max_bytes);
}

sub _sync_policy {
    my $sync = shift // 'never';
    return $SYNC_POLICIES{$sync} // _invalid('open', "sync must be 'never' or 'always', not '$sync'");
}

# The format option as libroche's constant; undef is the default. A
# libroche too old to know roche_options_set_format() has only the default.
sub _format {
    my $format = shift // 'roche';
    my $code = ref $format ? undef : $FORMATS{$format};
    _invalid('open', "format must be 'roche' or 'rochefort', not '$format'") unless defined $code;
    Roche::Error->throw(ENOTSUP, "open: format => '$format': " . Roche::FFI::library_path()
                                 . ' has no roche_options_set_format()')
        if $code != Roche::FFI::FORMAT_ROCHE && !defined &Roche::FFI::roche_options_set_format;
    return $code;
}

1;

__END__

=head1 NAME

Roche - libroche, rochefort's append-only blob store, from Perl

=head1 SYNOPSIS

    use Roche;
    use Roche::Error qw(:codes);

    my $db = Roche->open('/var/lib/store', buckets => 8);

    my $offset = $db->append("bytes\0ok", id => 'user-42', namespace => 'events');
    my $value  = $db->get($offset, namespace => 'events');        # "bytes\0ok"

    my $offsets = $db->append_many(['a', 'b', 'c'], namespace => 'events');
    my $values  = $db->multi_get([@$offsets, 123], namespace => 'events');
    # ['a', 'b', 'c', Roche::Error (ENOTFOUND)]

    my $it = $db->scan(namespace => 'events');
    while (my ($offset, $value, $time_ns) = $it->next) { ... }
    my $rest = $db->scan(namespace => 'events', from => $last_seen + 1);

    # A log: follow a namespace, remember where a consumer stopped, drop the oldest.
    my $f = $db->follow(namespace => 'events', cursor => 'billing');
    while (my ($offset, $value, $time_ns) = $f->next(timeout => 5)) {
        ...;
        $f->commit('billing');
    }
    $db->retain(namespace => 'events', max_bytes => 2**30);    # bytes freed

    $db->sync;
    $db->close_namespace(namespace => 'events');
    $db->delete_namespace(namespace => 'events');
    $db->close;

    eval { $db->get($offset) };
    print $@->code == ECLOSED ? "closed\n" : "$@\n";

=head1 DESCRIPTION

Roche calls F<libroche.so> through L<FFI::Platypus>; there is nothing to
compile. A store is a directory; namespaces are its subdirectories, each
holding bucket files. C<append> writes a value at the end of a bucket file
and returns its I<offset>, C<(bucket E<lt>E<lt> 50) | position>, which stays
valid forever: across closes, crashes and reopens with another bucket count.

=head2 Finding libroche

The first match wins: the C<ROCHE_LIB> environment variable (a path to
F<libroche.so>; when it is set nothing else is tried), a F<build*/> tree of
the checkout this module sits in (F<build/> first), the install prefix that
C<pkg-config --variable=libdir roche> reports, then L<FFI::CheckLib> and the
system loader (F<libroche.so.0>). C<< Roche->library_path >> says which file
was loaded, C<< Roche->library_version >> its version.

=head1 METHODS

=head2 open

    my $db = Roche->open($path, buckets => 8, read_only => 0, sync => 'never');

Opens the store at C<$path>, creating it unless C<read_only>. One writer
per store: a second writer, in this process or another, croaks C<ELOCKED>.
Read-only handles take no lock and see the writer's appends.

=over

=item buckets

Bucket files per namespace, 1 to 8191 (libroche's default is 8). A
namespace never loses buckets: a smaller number is ignored for one that
exists.

=item read_only

True to open without the writer lock; writes croak C<EREADONLY>.

=item sync

C<'never'> (the default, as in rochefort) or C<'always'> (each append is on
disk before it returns).

=item format

The check every record header carries: C<'roche'> (the default, zlib's
CRC-32) or C<'rochefort'> (rochefort v0.5's, so that a rochefort server and
this store can take turns on one data directory; ids then go to
rochefort's buckets). Every handle on a store must use the format its
records were written in: a namespace in the other one croaks C<ECORRUPT>
at its first use, and nothing is changed. See
C<roche_options_set_format()> in F<roche.h>.

=item retention

C<< { max_age => $seconds, max_bytes => $bytes } >> (either may be left out
or 0: no limit): the writer applies L</retain> to every namespace it has
open, about once a second, dropping records older than C<max_age> seconds
and then the oldest until each namespace holds at most C<max_bytes>.
C<max_age> may be fractional; it is kept in milliseconds.

=back

=head2 append

    my $offset = $db->append($value, namespace => $ns, id => $id);

Appends C<$value> and returns its offset. The value is read where it lies,
not copied (unless it must be downgraded, see L</DATA RULES>). A value over
4 GiB - 1 croaks C<ETOOBIG>, here and in C<append_many>, and nothing is
written. C<namespace> defaults to libroche's C<"default">. With an C<id>,
the bucket is C<crc32(id) % buckets>, so one id's values stay in one file,
in order.

=head2 append_many

    my $offsets = $db->append_many(\@values, namespace => $ns, id => $id);

Appends every value in one call, into one bucket, and returns an array
reference of their offsets, in order. Much faster than C<append> in a loop.

=head2 get

    my $value = $db->get($offset, namespace => $ns);

The value at C<$offset>, as a byte string, read in one libroche call
(C<roche_get_into>) into a buffer the binding reuses, then copied once;
the string is the caller's own. Croaks
C<ENOTFOUND> (no such namespace, bucket or offset past the end) or
C<ECORRUPT> (no valid record starts there).

=head2 multi_get

    my $values = $db->multi_get(\@offsets, namespace => $ns);

One value per offset, in request order, duplicates allowed, read in one
call. B<A bad offset does not fail the call>: its slot holds the
L<Roche::Error> that C<get> would croak with (code and libroche's text);
every other slot holds a plain string. Pick the failures out with
C<grep { ref } @$values>. Arguments that are no offset at all (see
L</Offsets>) croak for the whole call.

=head2 scan

    my $it = $db->scan(namespace => $ns, from => $offset);
    while (my ($offset, $value, $time_ns) = $it->next) { ... }

An iterator over every record of the namespace whose offset is at least
C<from> (default 0), in increasing offset order. C<next> returns the
offset, the value and the append time in nanoseconds since the epoch, then
the empty list at the end (and on every call after that). To resume, pass
C<< from => $last_offset + 1 >>. A missing namespace scans as empty. A scan
keeps its store alive; closing the store ends its scans, whose C<next> then
croaks C<ECLOSED>.

=head2 sync

    $db->sync;                       # every namespace this handle has open
    $db->sync(namespace => $ns);     # one

fsyncs bucket files.

=head2 namespaces

    my @names = $db->namespaces;     # sorted

=head2 stat

    my $stat = $db->stat(namespace => $ns);

A hash reference: C<buckets>, C<records>, C<bytes> (headers included),
C<oldest_ns>, C<newest_ns>, C<damaged_ranges>, C<damaged_bytes>,
C<recovered_bytes>, C<dropped_records> and C<dropped_bytes> (what retention
dropped). Walks the namespace.

=head2 close_namespace, delete_namespace

    $db->close_namespace(namespace => $ns);   # trim and close its files; reopened on next use
    $db->delete_namespace(namespace => $ns);  # remove it, files and all

The positional forms, C<stat($ns)> and so on, are deprecated (a warning in
the C<deprecated> category) and go in the next minor version.

=head2 close, is_closed, path

    $db->close;

Closes the store: frees its scans and followers, trims the bucket files
and releases the lock. Closing twice is harmless. Every other method of a
closed store croaks C<ECLOSED>.

=head1 FOLLOWING A NAMESPACE, CURSORS, RETENTION

These make a namespace a log, as a Kafka topic is: a follower reads records
as they are appended, by this process or another; a cursor remembers where
a named consumer stopped; retention drops the oldest records and gives
their disk space back.

A follower reads every bucket of the namespace, each in offset order, once
each, with no gaps, including buckets made after it started. Records of
different buckets are not ordered with respect to each other. Its
I<position> is one offset per bucket, where it goes on in that bucket; a
follower started again from its position (or from a cursor it committed)
misses nothing and sees nothing twice.

=head2 follow

    my $f = $db->follow(namespace => $ns);                      # every record kept, then new ones
    my $f = $db->follow(namespace => $ns, from => $position);   # one offset per bucket
    my $f = $db->follow(namespace => $ns, cursor => 'billing'); # the position a cursor holds
    my $f = $db->follow(namespace => $ns, from_end => 1);       # only what is appended from now on

Returns a L<Roche::Follow>. C<from> is an array reference of offsets, one
per bucket, as C<position> returns (a bucket not named starts at its first
record, or at its end with C<from_end>; buckets made later start at their
first record). C<cursor> starts from the cursor's position; a cursor that
does not exist yet starts as if none were given. C<from> and C<cursor> do
not mix. A writable handle creates the namespace, so a follower may start
before the first append; a read-only handle croaks C<ENOTFOUND> then. The
follower keeps its store alive (as a scan does); closing the store frees
it, and its methods then croak C<ECLOSED>. It outlives
C<close_namespace>.

=head2 Roche::Follow methods

=over

=item next

    my ($offset, $value, $time_ns) = $f->next(timeout => $seconds);
    while (my ($offset, $value, $time_ns) = $f->next(timeout => 5)) { ... }

The next record, as C<Roche::Scan>'s C<next> gives it: the offset, the value
(a byte string, the follower's own copy) and the append time in ns since
the epoch. When every bucket is at its end, it waits: up to C<timeout>
seconds (fractions allowed; C<0> returns at once; C<undef>, the default,
waits until a record comes). It returns the empty list (undef in scalar
context) when the time ran out, or when C<wake> was called; C<woken> says
which. The wait sleeps (a futex rung by the writer after each append, in
this process or another): an idle follower uses no CPU.

It croaks a B<Roche::Error::Dropped> (C<EDROPPED>) when retention dropped
records it had not read yet; its C<offset> is where the follower was in
that bucket, and the next call goes on at the bucket's first record kept.
A damaged record croaks C<ECORRUPT> with its C<offset>, and the next call
goes on past it. A deleted namespace croaks C<ENOTFOUND>.

=item iterator

    my $it = $f->iterator(timeout => 5);
    while (my ($offset, $value, $time_ns) = $it->()) { ... }    # ends after 5 s with nothing new

A code reference that calls C<next> with this timeout.

=item wake, woken

    local $SIG{TERM} = sub { $f->wake };
    while (my @record = $f->next) { ... }     # ends on SIGTERM
    print "stopped\n" if $f->woken;

Ends the wait of C<next> at once (or the next wait, when none is under way;
once per call): C<next> returns the empty list and C<woken> is true until
the next C<next>. Perl threads are rare, so C<wake> is for a C<%SIG>
handler (an C<alarm>, a C<SIGTERM> from a supervisor or another process).
Perl runs those handlers only between its own operations, never inside a
native call, so C<next> waits in slices of at most 100 ms: a handler runs
within 100 ms of its signal, and may call C<wake>, or C<die> out of
C<next>, or even close the follower or its store (C<next> then croaks
C<ECLOSED>). The slices cost nothing measurable: about 10 calls a second
while idle.

=item position

    my $position = $f->position;      # [offset per bucket]

Where the follower goes on in each bucket: the offset after the last record
it returned. Pass it to C<< follow(from => ...) >>, or keep it in a cursor.

=item commit

    $f->commit('billing');

Commits the position to a cursor of the namespace (as C<cursor_commit>).

=item close, is_closed, namespace

Frees the native follower now (C<DESTROY> does it otherwise). Closing twice
is harmless; every other call on a closed follower croaks C<ECLOSED>.

=back

=head2 cursor_commit, cursor_get, cursor_list, cursor_delete

    $db->cursor_commit('billing', $position, namespace => $ns);
    my $position = $db->cursor_get('billing', namespace => $ns);    # [offsets]
    my @names = $db->cursor_list(namespace => $ns);                 # sorted
    $db->cursor_delete('billing', namespace => $ns);

A cursor is a named position in a namespace (one offset per bucket, at
most 8191), kept in a file of the namespace. A commit replaces the position
in one step: a crash leaves the old one or the new one, never a torn one.
It is on disk when it returns under C<< sync => 'always' >>, otherwise after
the next C<sync>. Names follow the rules of namespaces, up to 200 bytes.
Read-only handles may commit and delete cursors too. C<cursor_get> of a
cursor that does not exist croaks C<ENOTFOUND>, as do all four for a
namespace that does not exist.

=head2 retain

    my $freed = $db->retain(namespace => $ns, older_than_ns => $time_ns, max_bytes => $bytes);

Drops, in every bucket of the namespace, the records older than
C<older_than_ns> (a time in ns since the epoch, an integer; 0 or left out:
no age limit), then, oldest first across buckets, as many more as needed
for the records kept to total at most C<max_bytes> (headers included; 0 or
left out: no size limit). Returns the bytes of the records dropped. What a
bucket drops is a prefix (records of one C<append_many> share one time;
the size limit still keeps as many of the newest of them as fit). Offsets of the records kept do not change; a C<get>
of a dropped one croaks a B<Roche::Error::Dropped>, scans start at the
first record kept, and a follower that had not read them is told once.
Disk space is freed in place (holes punched in the files): where the file
system cannot do that, C<retain> croaks C<ENOTSUP> and drops nothing. A
read-only handle croaks C<EREADONLY>.

=head2 bucket_range

    my ($first, $end) = $db->bucket_range($bucket, namespace => $ns);

The offset of the bucket's first record kept, and the offset where its
next record will go (equal when it holds none). A bucket with no file has
both at its offset 0, C<< $bucket << 50 >>.

=head1 DATA RULES

=head2 Values and names are bytes

Values are stored byte for byte: NUL bytes and empty values are fine, and
values come back as byte strings. A string with Perl's utf8 flag is stored
as its characters when all of them are below 256 (so C<"caf\x{e9}"> is four
bytes, flag or no flag). B<A string holding a character above 0xFF is
refused> with C<EINVAL>: encode text first, for example with
C<Encode::encode('UTF-8', $text)>, and decode what C<get> returns. The same
rule holds for namespaces, ids and the store's path, which additionally
must not contain a NUL byte. C<undef> and references are not values
(C<EINVAL>); numbers are stored as their digits.

=head2 Offsets

An offset is an integer from 0 to 2**64-1, as a number or a string of
digits. A number may be a float that holds a whole number, as C<2**50> or
C<2**63> are in Perl; it is read exactly. (Before perl 5.36, printing a
float makes it a string too, and it is then read as the string it printed
as, "1.12589990684262e+15", which is refused; C<multi_get> prints its
offsets to check them, so there it takes whole numbers only as integers.)
Anything else (negative, fractional, non-numeric, undef, too large, a
reference or an object, even Math::BigInt) croaks C<EINVAL>, rather than
being wrapped or rounded.

=head1 ERRORS

Every failure croaks a L<Roche::Error> object:

    $err->code       # libroche's negative code, e.g. Roche::Error::ENOTFOUND
    $err->name       # "ENOTFOUND"
    $err->message    # "get 42: not found (offset 42 is past the end of ...)"
    "$err"           # the message

The message names the call, gives libroche's text for the code and, in
brackets, the detail of this failure (a path, an errno text). The codes,
exported by C<use Roche::Error qw(:codes)>, are libroche's C<EINVAL>,
C<ENOTFOUND>, C<ECORRUPT>, C<EIO>, C<ENOMEM>, C<ETOOBIG>, C<ELOCKED>,
C<EREADONLY>, C<EINTERNAL>, C<ETIMEDOUT>, C<ECANCELED>, C<EDROPPED>,
C<ENOTSUP>, and this binding's own C<ECLOSED> (-30999) for a closed store
or follower. Wrong arguments (unknown options, bad types, wide characters,
bad offsets, bad timeouts) are C<EINVAL> too. C<next> reports a timeout and
a wake by returning the empty list, not with C<ETIMEDOUT> or C<ECANCELED>.

C<EDROPPED> comes as a B<Roche::Error::Dropped>, a subclass, with the offset
concerned in C<< $err->offset >> (also set for a follower's C<ECORRUPT>):

    eval { $db->get($offset) };
    warn 'dropped at ', $@->offset, "\n" if ref $@ && $@->isa('Roche::Error::Dropped');

=head1 SAFETY

=over

=item *

A store that is not closed is closed when its last reference goes
(C<DESTROY>), or at exit by an C<END> block before global destruction; its
scans are freed first. The library stays loaded until the process ends, so
no close can call into unloaded code.

=item *

After C<fork>, the child cannot use the parent's store (C<EINVAL>, from
libroche) and leaves its files and lock alone when it exits. The parent's
followers croak C<EINVAL> in the child too, and are not freed there.

=item *

Signal handlers may use followers and stores: C<next> waits in slices, and
reads the follower's handle and copies a record within one statement, so a
handler that closes the follower or the store between two statements
leaves nothing dangling.

=item *

A new ithread does not inherit stores, scans or followers (C<CLONE_SKIP>):
open the store in the thread that uses it.

=back

=head1 SEE ALSO

F<include/roche.h>, the C API this module wraps;
F<examples/perl/example.pl>.

=cut
