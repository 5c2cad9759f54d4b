use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Cwd ();
use File::Path ();
use File::Temp ();
use Roche;

# Where libroche is found, checked in a scratch checkout: a copy of lib/
# (and of blib/lib/, as make installs it for make test) whose only
# neighbours are the ones each case sets up.
my $real_library = Cwd::abs_path(Roche->library_path);
plan skip_all => 'the loaded libroche has no path to link to' unless defined $real_library && -e $real_library;

my $scratch = File::Temp::tempdir('roche-loader-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $checkout = "$scratch/checkout";
File::Path::make_path("$checkout/include", "$checkout/bindings/perl/blib", "$scratch/pkgconfig", "$scratch/prefix/lib");
for my $copy ('lib', 'blib/lib') {
    system('cp', '-R', Cwd::abs_path('lib'), "$checkout/bindings/perl/$copy") == 0 or die "cp failed\n";
}
open my $header, '>', "$checkout/include/roche.h" or die $!;    # marks the checkout's root
close $header;

# The library perl loads, and what went wrong, with this environment.
sub load_with {
    my ($lib, %env) = @_ % 2 ? @_ : ('lib', @_);
    local %ENV = %ENV;
    delete $ENV{ROCHE_LIB};
    $ENV{PKG_CONFIG_LIBDIR} = "$scratch/pkgconfig";    # only the .pc files of this test
    $ENV{PKG_CONFIG_PATH} = '';
    @ENV{ keys %env } = values %env;
    my $output = `$^X -I$checkout/bindings/perl/$lib -MRoche -e 'print Roche->library_path' 2>&1`;
    return ($? == 0, $output);
}

subtest 'ROCHE_LIB wins, and is the only candidate when set' => sub {
    my ($loaded, $path) = load_with(ROCHE_LIB => $real_library);
    ok($loaded, 'loads');
    is($path, $real_library, 'from ROCHE_LIB');
    ($loaded, my $output) = load_with(ROCHE_LIB => "$scratch/missing/libroche.so");
    ok(!$loaded, 'a ROCHE_LIB that does not exist fails to load...');
    like($output, qr/libroche not found; set ROCHE_LIB.*\n.*\Q$scratch\E\/missing\/libroche\.so/,
         '...saying so and naming the path tried');
    unlike($output, qr/libroche\.so\.0/, '...without trying anything else');
};

subtest 'an installed prefix, through pkg-config' => sub {
    plan skip_all => 'no pkg-config on this machine' unless system('pkg-config --version >/dev/null 2>&1') == 0;
    symlink $real_library, "$scratch/prefix/lib/libroche.so.0" or die "symlink: $!";
    open my $pc, '>', "$scratch/pkgconfig/roche.pc" or die $!;
    print $pc "prefix=$scratch/prefix\nlibdir=\${prefix}/lib\n\nName: roche\nDescription: test\nVersion: 0.1.0\n";
    close $pc;
    my ($loaded, $path) = load_with();
    ok($loaded, 'loads') or diag($path);
    is($path, "$scratch/prefix/lib/libroche.so.0", 'from pkg-config\'s libdir');
};

subtest 'a build tree of the checkout comes before pkg-config' => sub {
    File::Path::make_path("$checkout/build-other/libroche", "$checkout/build/libroche");
    symlink $real_library, "$checkout/build-other/libroche/libroche.so" or die "symlink: $!";
    my ($loaded, $path) = load_with();
    is($path, "$checkout/build-other/libroche/libroche.so", 'any build*/ tree');
    symlink $real_library, "$checkout/build/libroche/libroche.so" or die "symlink: $!";
    ($loaded, $path) = load_with();
    is($path, "$checkout/build/libroche/libroche.so", 'build/ first, as the README builds there');
    ($loaded, $path) = load_with('blib/lib');
    is($path, "$checkout/build/libroche/libroche.so", 'from blib/lib too');
};

done_testing;
