package RocheTest;

# Shared by the tests: fresh stores and checks on Roche::Error.

use strict;
use warnings;

use Exporter 'import';
use Cwd ();
use File::Basename ();
use File::Spec ();
use File::Temp ();
use Test::More;

our @EXPORT = qw(fresh_root error_of is_roche_error perl_with_roche);

# A store path under a temporary directory removed at exit.
sub fresh_root {
    return File::Temp::tempdir('roche-perl-XXXXXX', TMPDIR => 1, CLEANUP => 1) . '/store';
}

# What the block died with, or undef when it did not die.
sub error_of (&) {
    my $code = shift;
    local $@;
    return eval { $code->(); 1 } ? undef : $@;
}

# The block croaks a Roche::Error with this code (and a message matching
# the pattern, when one is given).
sub is_roche_error (&$;$$) {
    my ($code, $expected, $pattern, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $err = &error_of($code);
    $name //= "croaks code $expected";
    return fail("$name: did not croak") unless defined $err;
    return fail("$name: croaked a plain '$err'") unless ref $err && $err->isa('Roche::Error');
    return is($err->code, $expected, $name) && (!$pattern || like("$err", $pattern, "$name: message"));
}

# The command that runs perl with this distribution's lib/ (ROCHE_LIB
# travels in the environment, as it does for the test itself).
sub perl_with_roche {
    my $lib = Cwd::abs_path(File::Spec->catdir(File::Basename::dirname(__FILE__), '..', '..', 'lib'));
    return ($^X, "-I$lib");
}

1;
