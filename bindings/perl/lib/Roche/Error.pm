package Roche::Error;

# What Roche croaks with: libroche's return code and a message. See the
# ERRORS section of Roche's POD.

use strict;
use warnings;

use Carp ();
use Exporter 'import';
use overload
    '""'     => sub { $_[0]{message} },
    bool     => sub { 1 },
    fallback => 1;

our $VERSION = '0.1.0';

# libroche's codes (roche.h), and ECLOSED, this binding's own code for a
# store (or a scan or follower of a store) that was closed; libroche never
# returns it.
my %CODES = (
    EINVAL    => -30901,
    ENOTFOUND => -30902,
    ECORRUPT  => -30903,
    EIO       => -30904,
    ENOMEM    => -30905,
    ETOOBIG   => -30906,
    ELOCKED   => -30907,
    EREADONLY => -30908,
    EINTERNAL => -30909,
    ETIMEDOUT => -30910,
    ECANCELED => -30911,
    EDROPPED  => -30912,
    ENOTSUP   => -30913,
    ECLOSED   => -30999,
);
my %NAMES = reverse %CODES;

require constant;
constant->import(\%CODES);

our @EXPORT_OK = sort keys %CODES;
our %EXPORT_TAGS = (codes => \@EXPORT_OK);

# An error about one record may carry its offset. EDROPPED is always a
# Roche::Error::Dropped, whoever makes it.
sub new {
    my ($class, $code, $message, $offset) = @_;
    $class = 'Roche::Error::Dropped' if $class eq __PACKAGE__ && defined $code && $code == $CODES{EDROPPED};
    return bless { code => $code, message => $message, offset => $offset }, $class;
}

# Croak a new error. croak passes an object through untouched, so the
# message carries no " at FILE line N" suffix.
sub throw {
    my $class = shift;
    Carp::croak($class->new(@_));
}

sub code    { $_[0]{code} }
sub message { $_[0]{message} }
sub offset  { $_[0]{offset} }

# The code's symbolic name ("ENOTFOUND"), or "E<code>" for a code this
# version does not know.
sub name { $NAMES{ $_[0]{code} } // "E$_[0]{code}" }

# Records dropped by retention: a get of a dropped offset, or a follower
# that had not read them yet (offset: where it was in that bucket).
package Roche::Error::Dropped;

our @ISA = ('Roche::Error');
our $VERSION = '0.1.0';

1;

__END__

=head1 NAME

Roche::Error - what Roche croaks with

=head1 SYNOPSIS

    use Roche::Error qw(:codes);

    eval { $db->get($offset) };
    if (ref $@ && $@->isa('Roche::Error') && $@->code == ENOTFOUND) { ... }
    if (ref $@ && $@->isa('Roche::Error::Dropped')) { print $@->offset, "\n" }
    print "$@\n";    # the message

=head1 DESCRIPTION

An object with C<code> (libroche's negative C<ROCHE_E*> code, or
C<ECLOSED>, this binding's code for a closed store), C<name> (C<"ENOTFOUND">),
C<message> and, for an error about one record, C<offset> (otherwise undef);
it stringifies to the message. The constants C<EINVAL>, C<ENOTFOUND>,
C<ECORRUPT>, C<EIO>, C<ENOMEM>, C<ETOOBIG>, C<ELOCKED>, C<EREADONLY>,
C<EINTERNAL>, C<ETIMEDOUT>, C<ECANCELED>, C<EDROPPED>, C<ENOTSUP> and
C<ECLOSED> are exported on request, or all at once with C<:codes>.

An C<EDROPPED> error (records dropped by retention) is a
B<Roche::Error::Dropped>, a subclass, so it can be told apart with C<isa>;
its C<offset> is the offset asked for (C<get>), or where a follower was in
the bucket that lost records. See L<Roche/ERRORS>.

=cut
