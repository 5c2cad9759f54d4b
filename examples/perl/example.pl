#!/usr/bin/perl
# A tour of the Roche module. Run it with the demo command, or by hand:
#   ROCHE_LIB=build/libroche/libroche.so perl -Ibindings/perl/lib examples/perl/example.pl [ROOT]
use strict;
use warnings;

use File::Temp ();
use POSIX ();
use Roche;

my $root = shift // File::Temp::tempdir('roche-example-XXXXXX', TMPDIR => 1, CLEANUP => 1);
printf "libroche %s, store at %s\n", Roche->library_version, $root;

my $db = Roche->open($root, buckets => 4);

# Push data, get a file offset back. Values are bytes: NULs are fine.
my $offset = $db->append("hello\0world", id => 'user-42', namespace => 'events');
printf "appended at %d: %s\n", $offset, printable($db->get($offset, namespace => 'events'));

# Batches amortize the cost of each call.
my $offsets = $db->append_many([qw(one two three)], id => 'user-42', namespace => 'events');
print "batch offsets: @$offsets\n";

# multi_get answers in request order; a bad offset gives a Roche::Error in
# its slot instead of failing the others.
for my $item (@{ $db->multi_get([$offsets->[2], 123_456_789, $offsets->[0]], namespace => 'events') }) {
    print '  multi_get: ', (ref $item ? 'error ' . $item->name . " ($item)" : printable($item)), "\n";
}

# Walk a namespace with an iterator; resume it from the offset after the
# last one seen.
my $scan = $db->scan(namespace => 'events');
my ($last) = $scan->next;
print "  scan starts at $last\n";
my $rest = $db->scan(namespace => 'events', from => $last + 1);
while (my ($at, $value, $time_ns) = $rest->next) {
    printf "  %d %s.%09d UTC %s\n", $at, POSIX::strftime('%H:%M:%S', gmtime int($time_ns / 1e9)),
        $time_ns % 1_000_000_000, printable($value);
}

# Text goes in as bytes: encode it first (a wide character is refused).
require Encode;
my $text = $db->append(Encode::encode('UTF-8', "caf\x{e9} \x{2603}"), namespace => 'notes');
binmode STDOUT, ':encoding(UTF-8)';
print 'text back: ', Encode::decode('UTF-8', $db->get($text, namespace => 'notes')), "\n";
eval { $db->append("\x{2603}") };
print 'refused: ', $@->name, " ($@)\n";

# Errors are Roche::Error objects carrying libroche's code.
eval { $db->get(42, namespace => 'events') };
print 'get 42: ', $@->name, " ($@)\n" if ref $@ && $@->isa('Roche::Error');

$db->sync;
my $stat = $db->stat(namespace => 'events');
print "events: $stat->{records} records, $stat->{bytes} bytes; namespaces: ", join(', ', $db->namespaces), "\n";
$db->close_namespace(namespace => 'notes');
$db->delete_namespace(namespace => 'notes');
print 'after delete: ', join(', ', $db->namespaces), "\n";

$db->close;
$db->close;    # harmless
eval { $db->get($offset) };
print 'after close: ', $@->name, " ($@)\n";

sub printable { my $bytes = shift; $bytes =~ s/([^\x20-\x7e])/sprintf '\\x%02x', ord $1/ge; return "\"$bytes\"" }
