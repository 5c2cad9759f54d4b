package Roche::Scan;

# A scan of one namespace, made by Roche::scan; see Roche's POD.

use strict;
use warnings;

use Scalar::Util qw(refaddr);

use Roche::Error qw(ECLOSED ECORRUPT);

use constant OK => Roche::FFI::OK;

our $VERSION = '0.1.0';

sub CLONE_SKIP { 1 }

# Records come from libroche in batches (roche_scan_next_batch): the first
# asks for FIRST records, the next ones for up to MAX, or fewer when the
# values are large (about BYTES a batch). The batch's arrays live in a
# scratch string of the scan's own ({buf}, at address {at}): offsets, data
# pointers, lengths, times, then the count. The values are copied out
# (unpack 'P') in the very statement that makes the call, as Roche::Follow
# does: perl runs %SIG handlers only between statements, so none can close
# the store, which frees the iterator and unmaps the values, in between.
use constant { MAX => 1024, FIRST => 64, BYTES => 1 << 20 };
use constant { DATA_AT => 8 * MAX, LENS_AT => 16 * MAX, TIMES_AT => 24 * MAX, COUNT_AT => 32 * MAX };

# The scan holds its store (strongly): the store cannot be destroyed, and
# its handle closed, while the native iterator is still alive.
sub _new {
    my ($class, $store, $iterator, $ns) = @_;
    my $self = bless { store => $store, iterator => $iterator, done => 0, pid => $$,
                       namespace => (defined $ns && length $ns ? $ns : 'default'),
                       buf => "\0" x (COUNT_AT + 8), want => FIRST,
                       flat => [], n => 0, next => 0 }, $class;
    vec($self->{buf}, 0, 8) = 0;    # a buffer of its own, shared with no other scalar: libroche writes into it
    $self->{at} = unpack 'Q', pack 'P', $self->{buf};
    return $self;
}

# The next record as (offset, value, time in ns since the epoch), or the
# empty list at the end (and every time after that). The fetched records
# lie flat in {flat}, three items each, {n} of them; closing the store, or
# the namespace through it, sets {n} to 0, so that the next call asks
# libroche (ECLOSED, ENOTFOUND), and so does a forked child (EINVAL).
sub next {
    my $i = $_[0]{next};
    if ($i < $_[0]{n} && $$ == $_[0]{pid}) {
        $_[0]{next} = $i + 1;
        return @{ $_[0]{flat} }[3 * $i, 3 * $i + 1, 3 * $i + 2];
    }
    return if $_[0]{done};
    return $_[0]->_fetch;
}

# Up to {want} records from libroche, kept; the first of them returned.
sub _fetch {
    my $self = shift;
    my ($at, $want, $rc, $n, @lens, @values) = ($self->{at}, $self->{want});
    $self->{n} = $self->{next} = 0;
    {
        # One statement: the call, then the copy of every value it returned.
        no warnings 'uninitialized';
        $rc = Roche::FFI::roche_scan_next_batch_fast($self->{iterator}, $want, $at, $at + DATA_AT,
                                                     $at + LENS_AT, $at + TIMES_AT, $at + COUNT_AT),
            $n = unpack('@' . COUNT_AT . ' Q', $self->{buf}) * ($rc == OK),
            @lens = unpack('@' . LENS_AT . " Q$n", $self->{buf}),
            @values = unpack(join('', map "P$_", @lens), substr($self->{buf}, DATA_AT, 8 * $n));
    }
    if ($rc != OK) {
        if ($rc == Roche::FFI::DONE) {
            $self->{done} = 1;
            $self->_release;
            return;
        }
        Roche::Error->throw(ECLOSED, 'scan: the store was closed under this scan') unless defined $self->{iterator};
        Roche::_fail($rc, 'scan', $rc == ECORRUPT ? unpack('Q', $self->{buf}) : undef);
    }
    defined or $_ = '' for @values;    # an empty value may come as NULL
    my @offsets = unpack "Q$n", $self->{buf};
    my @times = unpack '@' . TIMES_AT . " Q$n", $self->{buf};
    $self->{flat} = [map { ($offsets[$_], $values[$_], $times[$_]) } 0 .. $n - 1];
    $self->{n} = $n;
    $self->{next} = 1;
    my $bytes = 0;
    $bytes += $_ for @lens;
    my $average = int($bytes / $n) || 1;
    $self->{want} = $average >= BYTES ? 1 : BYTES / $average > MAX ? MAX : int(BYTES / $average);
    return ($offsets[0], $values[0], $times[0]);
}

# close_namespace or delete_namespace of ns through the store: the records
# fetched are dropped, and the next call is libroche's answer (ENOTFOUND).
sub _namespace_closed {
    my ($self, $ns) = @_;
    $self->{n} = 0 if (defined $ns && length $ns ? $ns : 'default') eq $self->{namespace};
}

# Free the native iterator now; the store does this to its scans before
# it closes.
sub _release {
    my $self = shift;
    $self->{n} = 0;    # nothing fetched is handed out after this
    my $iterator = delete $self->{iterator} // return;
    Roche::FFI::roche_scan_free($iterator);
}

sub DESTROY {
    my $self = shift;
    $self->_release;
    $self->{store}->_forget_scan(refaddr $self) if $self->{store};
}

1;

__END__

=head1 NAME

Roche::Scan - an iterator over the records of a namespace

=head1 SYNOPSIS

    my $it = $db->scan(namespace => 'events', from => 0);
    while (my ($offset, $value, $time_ns) = $it->next) { ... }

=head1 DESCRIPTION

Made by L<Roche/scan>. C<next> returns the next record, then the empty list
at the end. Records are fetched from libroche in batches (up to 1024, or
about 1 MiB of values, a call) and handed out one by one. The native iterator is freed at the end, when the scan object
goes, or when its store closes (C<next> then croaks C<ECLOSED>).

=cut
