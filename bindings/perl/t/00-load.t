use strict;
use warnings;
use Test::More;

use_ok('Roche');

like(Roche->library_version, qr/\A0\.\d+\.\d+\z/, 'the loaded libroche has the major version the binding expects');
ok(-e Roche->library_path || Roche->library_path =~ /\Alibroche/, 'library_path names what was loaded')
    or diag(Roche->library_path);
diag('libroche ' . Roche->library_version . ' from ' . Roche->library_path);

done_testing;
