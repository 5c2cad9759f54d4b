use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

my $db = Roche->open(fresh_root(), buckets => 2);
my $offsets = $db->append_many(['first', 'second value', ''], namespace => 'ns', id => 'one-bucket');
my ($first, $second, $empty) = @$offsets;
my $bucket = $first >> 50;
my $other_bucket = 1 - $bucket;
my $no_bucket = 100 << 50;

subtest 'bad offsets fail alone, as Roche::Error objects in their slots' => sub {
    my @request = ($first, 1_000_000, $second, $first + 1, $no_bucket, $empty, $empty + 16);
    my $values = $db->multi_get(\@request, namespace => 'ns');
    is(scalar @$values, scalar @request, 'one slot per offset');
    is($values->[0], 'first', 'a good offset');
    is($values->[2], 'second value', 'a good offset after a bad one');
    is($values->[5], '', 'an empty value after bad ones');

    my %expected = (1 => ENOTFOUND, 3 => ECORRUPT, 4 => ENOTFOUND, 6 => ENOTFOUND);
    for my $slot (sort keys %expected) {
        my $err = $values->[$slot];
        isa_ok($err, 'Roche::Error', "slot $slot");
        is($err->code, $expected{$slot}, "slot $slot has the code get would croak with");
        like("$err", qr/\Amulti_get: offset $request[$slot]: /, "slot $slot names its offset");
    }
    is_deeply([map { ref($_) ? 'error' : 'value' } @$values],
              [qw(value error value error error value error)], 'values and errors, nothing else');

    for my $slot (sort keys %expected) {
        is_roche_error { $db->get($request[$slot], namespace => 'ns') } $expected{$slot}, undef,
            "get of slot $slot agrees";
    }
};

subtest 'every offset bad' => sub {
    my $values = $db->multi_get([$first + 5, $second - 1], namespace => 'ns');
    is_deeply([map { $_->code } @$values], [ECORRUPT, ECORRUPT], 'offsets inside records');
    $values = $db->multi_get([$first, $second], namespace => 'absent');
    is_deeply([map { $_->code } @$values], [ENOTFOUND, ENOTFOUND], 'a namespace that does not exist');
};

subtest 'offsets that are no offset croak for the whole call' => sub {
    for my $case ([-1, 'negative'], ['12abc', 'not digits'], [1.5, 'a fraction'], [undef, 'undef'],
                  [[], 'a reference'], ['18446744073709551616', 'past 2**64-1'], ['', 'empty']) {
        my ($bad, $name) = @$case;
        is_roche_error { $db->multi_get([$first, $bad], namespace => 'ns') } EINVAL, qr/offset 1/, "multi_get: $name";
        is_roche_error { $db->get($bad, namespace => 'ns') } EINVAL, undef, "get: $name";
    }
    is_roche_error { $db->multi_get($first, namespace => 'ns') } EINVAL, qr/array reference/,
        'a scalar where the array reference goes';
};

subtest 'the largest offsets are valid questions' => sub {
    my $values = $db->multi_get(['18446744073709551615', '0' x 20 . ($first + 1), '0' x 20 . $second], namespace => 'ns');
    is($values->[0]->code, ENOTFOUND, '2**64-1 is not found');
    is($values->[1]->code, ECORRUPT, 'leading zeros are read as the number...');
    is($values->[2], 'second value', '...however many there are');
};

$db->close;
done_testing;
