package Roche::Follow;

# A follower of one namespace, made by Roche::follow; see Roche's POD.

use strict;
use warnings;

use FFI::Platypus::Buffer qw(scalar_to_pointer);
use POSIX ();
use Scalar::Util qw(looks_like_number refaddr);
use Time::HiRes ();

use Roche::Error qw(ECLOSED EINVAL ETIMEDOUT ECANCELED EDROPPED ECORRUPT);

our $VERSION = '0.1.0';

# A wait is made of native waits of at most this long: between two, perl
# runs the %SIG handlers of signals that came (perl runs them only between
# its own ops, never inside a native call), so a handler may call wake, or
# die. The follower uses no CPU meanwhile: 10 calls a second.
use constant SLICE_MS => 100;

use constant OK => Roche::FFI::OK;

# Signal handlers and the native follower. A handler may run between any
# two statements and may close the follower or its store, which frees it.
# So each native call reads $self->{follower} in its own argument list
# (undef passes NULL, which libroche refuses with EINVAL, and the closed
# follower is then reported), and the record is copied out in the same
# statement as the call that returns it: perl dispatches signals at
# statement boundaries and in branches (&&, ?:, if), none of which such a
# statement holds after the handle is read, and no call to a perl sub
# either, whose first statement would be a boundary (unpack 'P' is what
# buffer_to_scalar does).

sub CLONE_SKIP { 1 }

# The follower holds its store (strongly), as a scan does: the store's
# handle stays open while the native follower is alive. Made before the
# native follower (Roche::follow fills {follower}), so the store can
# always free it first.
#
# Records come in batches of up to MAX (roche_follow_next_batch), into a
# scratch string laid out as Roche::Scan's, and are handed out one by one;
# position and commit count only those handed out.
use constant MAX => 128;
use constant { DATA_AT => 8 * MAX, LENS_AT => 16 * MAX, TIMES_AT => 24 * MAX, COUNT_AT => 32 * MAX };

sub _new {
    my ($class, $store, $ns) = @_;
    my $self = bless { store => $store, follower => undef, namespace => $ns, pid => $$, woken => 0,
                       closed_by => 'store', buf => "\0" x (COUNT_AT + 8),
                       offsets => [], values => [], times => [], next => 0 }, $class;
    vec($self->{buf}, 0, 8) = 0;    # a buffer of its own, shared with no other scalar: libroche writes into it
    $self->{at} = unpack 'Q', pack 'P', $self->{buf};
    return $self;
}

sub namespace { $_[0]{namespace} }

sub is_closed { !defined $_[0]{follower} }

sub woken { $_[0]{woken} }

# The next record as (offset, value, time in ns since the epoch); the
# empty list when nothing new came within timeout seconds (undef: wait
# until a record comes), or when wake was called (woken is then true).
sub next {
    my ($self, %options) = @_;
    $self->_check('next');
    my ($timeout) = Roche::_options(\%options, 'next', 'timeout');
    my $deadline = _deadline($timeout, 'next');
    $self->{woken} = 0;
    my $i = $self->{next};
    if ($i < @{ $self->{values} }) {
        # Fetched before. A wake that came since is reported first, as
        # libroche reports a wake before records; its native wake then ends
        # the next native call, which looks again.
        if ($self->{wake_pending}) {
            $self->{wake_pending} = 0;
            $self->{eat_cancel} = 1;
            $self->{woken} = 1;
            return;
        }
        $self->{next} = $i + 1;
        return ($self->{offsets}[$i], $self->{values}[$i], $self->{times}[$i]);
    }
    my $at = $self->{at};
    while (1) {
        my $wait = SLICE_MS;
        if (defined $deadline) {
            my $left = $deadline - _now();
            $wait = $left <= 0 ? 0 : $left * 1000 >= SLICE_MS ? SLICE_MS : POSIX::ceil($left * 1000);
        }
        my ($rc, $n, @lens, @values);
        {
            # One statement: the call, then the copy of every value it
            # returned (unless the call failed).
            no warnings 'uninitialized';
            $rc = Roche::FFI::roche_follow_next_batch_fast($self->{follower}, $wait, MAX, $at, $at + DATA_AT,
                                                           $at + LENS_AT, $at + TIMES_AT, $at + COUNT_AT),
                $n = unpack('@' . COUNT_AT . ' Q', $self->{buf}) * ($rc == OK),
                @lens = unpack('@' . LENS_AT . " Q$n", $self->{buf}),
                @values = unpack(join('', map "P$_", @lens), substr($self->{buf}, DATA_AT, 8 * $n));
        }
        if ($rc == OK) {
            defined or $_ = '' for @values;    # an empty value may come as NULL
            $self->{values} = \@values;
            $self->{offsets} = [unpack "Q$n", $self->{buf}];
            $self->{times} = [unpack '@' . TIMES_AT . " Q$n", $self->{buf}];
            $self->{next} = 1;
            return ($self->{offsets}[0], $values[0], $self->{times}[0]);
        }
        if ($rc == ETIMEDOUT) {
            return if defined $deadline && _now() >= $deadline;
            next;    # pending signals are handled here, between two waits
        }
        if ($rc == ECANCELED) {
            $self->{wake_pending} = 0;
            next if delete $self->{eat_cancel};    # that wake was reported already
            $self->{woken} = 1;
            return;
        }
        $self->_check('next');    # closed by a signal handler: ECLOSED
        # A dropped or damaged record names its offset; the next call goes on past it.
        my $count = unpack '@' . COUNT_AT . ' Q', $self->{buf};
        Roche::_fail($rc, 'next', ($rc == EDROPPED || $rc == ECORRUPT) && $count ? unpack('Q', $self->{buf}) : undef);
    }
}

# A code reference that calls next with this timeout: the iterator form.
sub iterator {
    my ($self, %options) = @_;
    $self->_check('iterator');
    my ($timeout) = Roche::_options(\%options, 'iterator', 'timeout');
    _deadline($timeout, 'iterator');
    return sub { $self->next(timeout => $timeout) };
}

# Ends the wait of next now (or the next wait, if none is under way):
# next returns the empty list and woken is true.
sub wake {
    my $self = shift;
    $self->_check('wake');
    $self->{wake_pending} = 1;
    my $rc = Roche::FFI::roche_follow_wake($self->{follower});
    $self->_check('wake');
    Roche::_fail($rc, 'wake') if $rc != OK;
    return;
}

# One offset per bucket: where the follower goes on in each.
sub position {
    my $self = shift;
    $self->_check('position');
    my $count = 0;
    my $rc = Roche::FFI::roche_follow_position($self->{follower}, undef, 0, \$count);
    my $offsets = "\0" x (8 * $count);
    my $pointer = scalar_to_pointer($offsets);    # not in the call's arguments: a sub call handles signals
    $rc ||= Roche::FFI::roche_follow_position($self->{follower}, $pointer, $count, \$count) if $count;
    $self->_check('position');
    Roche::_fail($rc, 'position') if $rc != OK;
    my @position = unpack "Q$count", $offsets;
    # Each bucket with records fetched and not handed out goes on at the
    # first of them (a bucket's records come in order).
    my %seen;
    for my $offset (@{ $self->{offsets} }[$self->{next} .. $#{ $self->{values} }]) {
        my $bucket = $offset >> 50;
        $position[$bucket] = $offset if $bucket < $count && !$seen{$bucket}++;
    }
    return \@position;
}

# Commit the position to a cursor of the namespace.
sub commit {
    my ($self, $cursor) = @_;
    $self->_check('commit');
    Roche::_check_cursor($cursor, 'commit');
    if ($self->{next} < @{ $self->{values} }) {    # records fetched and not handed out: commit the position
        my $position = $self->position;
        my $packed = pack 'Q*', @$position;
        my $pointer = scalar_to_pointer($packed);
        my $rc = Roche::FFI::roche_cursor_commit($self->{store}{handle}, $self->{namespace}, $cursor, $pointer,
                                                  scalar @$position);
        $self->_check('commit');
        Roche::_fail($rc, "commit $cursor") if $rc != OK;
        return;
    }
    my $rc = Roche::FFI::roche_follow_commit($self->{follower}, $cursor);
    $self->_check('commit');
    Roche::_fail($rc, "commit $cursor") if $rc != OK;
    return;
}

# Free the native follower now; calls after this croak ECLOSED.
sub close {
    my $self = shift;
    $self->_release('follower');
    $self->{store}->_forget_follower(refaddr $self) if $self->{store};
    return;
}

# ---- internals ----------------------------------------------------------

# Croak unless the follower can be used: not closed, and in the process
# that made it (after fork the child's copy belongs to the parent's store).
sub _check {
    my ($self, $what) = @_;
    Roche::Error->throw(EINVAL, "$what: this follower was made in process $self->{pid}, before fork(); "
                               . 'open the store and follow again in this process') if $$ != $self->{pid};
    return if defined $self->{follower};
    Roche::Error->throw(ECLOSED, $self->{closed_by} eq 'store'
                        ? "$what: the store was closed under this follower" : "$what: the follower is closed");
}

sub _now { Time::HiRes::clock_gettime(Time::HiRes::CLOCK_MONOTONIC()) }

# When a wait of timeout seconds ends (on the monotonic clock), or undef
# for none: timeout undef or infinite.
sub _deadline {
    my ($timeout, $what) = @_;
    return undef unless defined $timeout;
    Roche::Error->throw(EINVAL, "$what: timeout: must be a number of seconds, 0 or more (undef: no limit)")
        if ref $timeout || !looks_like_number($timeout) || !($timeout >= 0);    # NaN fails >= 0
    return undef if $timeout == 9**9**9;
    return _now() + $timeout;
}

# Free the native follower; the store does this to its followers before
# it closes (why: 'store'). Taken and freed in one statement, so a signal
# handler cannot close the store in between. Not in a child of fork: the
# copy there belongs to the parent's store, which the child leaves alone.
sub _release {
    my ($self, $why) = @_;
    return unless defined $self->{follower};
    $self->{closed_by} = $why;
    return delete $self->{follower} if $$ != $self->{pid};
    Roche::FFI::roche_follow_free(delete $self->{follower});
}

sub DESTROY {
    my $self = shift;
    $self->_release('follower');
    $self->{store}->_forget_follower(refaddr $self) if $self->{store} && $$ == $self->{pid};
}

1;

__END__

=head1 NAME

Roche::Follow - a follower of a namespace: its records as they are appended

=head1 SYNOPSIS

    my $f = $db->follow(namespace => 'events', cursor => 'billing');
    local $SIG{TERM} = sub { $f->wake };
    while (my ($offset, $value, $time_ns) = $f->next) {    # waits; ends on wake
        ...;
        $f->commit('billing');
    }

    my ($offset, $value) = $f->next(timeout => 1.5);       # empty list after 1.5 s
    my $it = $f->iterator(timeout => 5);
    while (my ($offset, $value) = $it->()) { ... }          # until 5 s pass with nothing new

=head1 DESCRIPTION

Made by L<Roche/follow>; see there for C<next>, C<iterator>, C<wake>,
C<woken>, C<position>, C<commit>, C<close> and C<is_closed>.

=cut
