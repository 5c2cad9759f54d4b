package Roche::Scan;

# A scan of one namespace, made by Roche::scan; see Roche's POD.

use strict;
use warnings;

use FFI::Platypus::Buffer qw(buffer_to_scalar);
use Scalar::Util qw(refaddr);

use Roche::Error qw(ECLOSED);

our $VERSION = '0.1.0';

sub CLONE_SKIP { 1 }

# The scan holds its store (strongly): the store cannot be destroyed, and
# its handle closed, while the native iterator is still alive.
sub _new {
    my ($class, $store, $iterator) = @_;
    return bless { store => $store, iterator => $iterator, done => 0 }, $class;
}

# The next record as (offset, value, time in ns since the epoch), or the
# empty list at the end (and every time after that).
sub next {
    my $self = shift;
    return if $self->{done};
    my $iterator = $self->{iterator}
        // Roche::Error->throw(ECLOSED, 'scan: the store was closed under this scan');
    my $rc = Roche::FFI::roche_scan_next($iterator, \my $offset, \my $data, \my $len, \my $time);
    if ($rc == Roche::FFI::DONE) {
        $self->{done} = 1;
        $self->_release;
        return;
    }
    Roche::_fail($rc, 'scan') if $rc != Roche::FFI::OK;
    return ($offset, $len ? buffer_to_scalar($data, $len) : '', $time);
}

# Free the native iterator now; the store does this to its scans before
# it closes.
sub _release {
    my $self = shift;
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
at the end. The native iterator is freed at the end, when the scan object
goes, or when its store closes (C<next> then croaks C<ECLOSED>).

=cut
