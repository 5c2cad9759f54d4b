package Roche::Scan;

# A scan of one namespace, made by Roche::scan; see Roche's POD.

use strict;
use warnings;

use List::Util ();
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
# (unpack 'P') by a statement that first checks the store is still open:
# perl runs %SIG handlers only between statements, and one that closes the
# store frees the iterator, and the values with it.
use constant { MAX => 1024, FIRST => 64, BYTES => 1 << 20 };
use constant { DATA_AT => 8 * MAX, LENS_AT => 16 * MAX, TIMES_AT => 24 * MAX, COUNT_AT => 32 * MAX };

# The unpack template of record i of a batch, around its length: its
# offset, its value (P: the bytes at the data pointer), its time, so that
# one unpack gives the records flat, three items each.
my (@BEFORE_LENGTH, @AFTER_LENGTH, %TEMPLATES);
for my $i (0 .. MAX - 1) {
    $BEFORE_LENGTH[$i] = '@' . 8 * $i . ' Q @' . (DATA_AT + 8 * $i) . ' P';
    $AFTER_LENGTH[$i] = ' @' . (TIMES_AT + 8 * $i) . ' Q ';
}

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
    my ($at, $want, $rc, $n) = ($self->{at}, $self->{want});
    $self->{n} = $self->{next} = 0;
    {
        no warnings 'uninitialized';    # a closed store's iterator is undef: libroche's EINVAL
        $rc = Roche::FFI::roche_scan_next_batch_fast($self->{iterator}, $want, $at, $at + DATA_AT,
                                                     $at + LENS_AT, $at + TIMES_AT, $at + COUNT_AT);
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
    $n = unpack '@' . COUNT_AT . ' Q', $self->{buf};
    my $lengths = substr $self->{buf}, LENS_AT, 8 * $n;
    my $batch = $TEMPLATES{$lengths} // _template($lengths, $n);
    # One statement: the store still open (a %SIG handler may have closed
    # it since the call, which frees the iterator and the values with it),
    # then the copy of every record.
    my @flat = unpack $batch->[0] x defined($self->{iterator}), $self->{buf};
    Roche::Error->throw(ECLOSED, 'scan: the store was closed under this scan') unless @flat;
    defined or $_ = '' for $batch->[1] ? @flat[map 3 * $_ + 1, 0 .. $n - 1] : ();    # an empty value may come as NULL
    $self->{flat} = \@flat;
    $self->{n} = $n;
    $self->{next} = 1;
    my $average = int($batch->[2] / $n) || 1;
    $self->{want} = $average >= BYTES ? 1 : BYTES / $average > MAX ? MAX : int(BYTES / $average);
    return @flat[0, 1, 2];
}

# The unpack template of a batch, by its lengths (packed, as libroche wrote
# them): [template, whether a value is empty, bytes]. Kept for the next
# batch of the same lengths (values of one size: each full batch).
sub _template {
    my ($lengths, $n) = @_;
    my @lens = unpack "Q$n", $lengths;
    %TEMPLATES = () if keys %TEMPLATES >= 16;
    return $TEMPLATES{$lengths} = [join('', map $BEFORE_LENGTH[$_] . $lens[$_] . $AFTER_LENGTH[$_], 0 .. $n - 1),
                                   !List::Util::min(@lens), List::Util::sum(@lens)];
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
