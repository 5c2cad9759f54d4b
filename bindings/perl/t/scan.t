use strict;
use warnings;
use Test::More;
use lib 't/lib';
use RocheTest;

use Roche;
use Roche::Error qw(:codes);

my $db = Roche->open(fresh_root(), buckets => 4);
my $before = time;
my @values = map { "record $_\0" } 0 .. 49;
my @offsets;
push @offsets, @{ $db->append_many([@values[$_ * 10 .. $_ * 10 + 9]], namespace => 'log', id => "id-$_") } for 0 .. 4;
$db->append('elsewhere', namespace => 'other');
my %value_at = map { ($offsets[$_] => $values[$_]) } 0 .. $#offsets;

sub drain {
    my $scan = shift;
    my @records;
    while (my ($offset, $value, $time) = $scan->next) {
        push @records, [$offset, $value, $time];
    }
    return @records;
}

subtest 'a scan returns every record of its namespace once, in offset order' => sub {
    my @records = drain($db->scan(namespace => 'log'));
    is(scalar @records, 50, 'all 50 records');
    is_deeply([map { $_->[0] } @records], [sort { $a <=> $b } @offsets], 'in increasing offset order');
    is_deeply({ map { ($_->[0] => $_->[1]) } @records }, \%value_at, 'each with its value, NULs kept');
    my @times = map { $_->[2] } @records;
    ok(!grep({ $_ < ($before - 5) * 1e9 || $_ > (time + 5) * 1e9 } @times), 'times are ns since the epoch, now');
};

subtest 'resumable from an offset' => sub {
    my @sorted = sort { $a <=> $b } @offsets;
    my $scan = $db->scan(namespace => 'log');
    my @head = map { [$scan->next] } 1 .. 20;
    my $last = $head[-1][0];
    is($last, $sorted[19], 'twenty records in');
    my @rest = drain($db->scan(namespace => 'log', from => $last + 1));
    is_deeply([map { $_->[0] } @rest], [@sorted[20 .. 49]], 'from => last + 1 picks up after it');
    my @from_exact = drain($db->scan(namespace => 'log', from => $sorted[30]));
    is($from_exact[0][0], $sorted[30], 'from is inclusive');
    is_deeply([drain($db->scan(namespace => 'log', from => (4 << 50)))], [], 'from past every bucket');
};

subtest 'the end is sticky' => sub {
    my $scan = $db->scan(namespace => 'other');
    is(($scan->next)[1], 'elsewhere', 'the one record');
    is_deeply([$scan->next], [], 'then the end');
    is_deeply([$scan->next], [], 'and the end again');
};

subtest 'empty and missing namespaces scan as empty' => sub {
    is_deeply([drain($db->scan(namespace => 'nothing-here'))], [], 'a namespace that does not exist');
    ok(!-e $db->path . '/nothing-here', 'scanning it creates nothing');
    is_deeply([drain($db->scan)], [], 'the default namespace, never written');
};

subtest 'two scans of one namespace are independent' => sub {
    my $one = $db->scan(namespace => 'log');
    my $two = $db->scan(namespace => 'log');
    my @first_of_one = $one->next;
    is_deeply([$two->next], \@first_of_one, 'both start at the first record');
    is_deeply([map { $_->[0] } drain($two)], [map { $_->[0] } drain($one)], 'and go on alike');
};

subtest 'a namespace closed or deleted under a scan ends it with an error' => sub {
    for my $call (qw(close_namespace delete_namespace)) {
        $db->append_many([1 .. 10], namespace => 'short-lived');
        my $scan = $db->scan(namespace => 'short-lived');
        ok(scalar($scan->next), "$call: the scan runs");
        $db->$call(namespace => 'short-lived');
        is_roche_error { $scan->next } ENOTFOUND, qr/closed during scan/, "$call: next croaks";
    }
};

subtest 'bad scan arguments croak' => sub {
    is_roche_error { $db->scan(namespace => 'log', from => -1) } EINVAL, qr/scan: from/, 'a negative from';
    is_roche_error { $db->scan(namespace => '..') } EINVAL, qr/\Ascan: /, 'a bad namespace name';
    is_roche_error { $db->scan(nmespace => 'log') } EINVAL, qr/unknown option 'nmespace'/, 'a misspelt option';
};

$db->close;
done_testing;
