#!/bin/sh
# `gem build` and `gem install` of the Ruby binding from a clean copy of
# the committed tree, into a temporary GEM_HOME (nothing system-wide), then
# a tiny program that loads the installed gem, not this checkout's lib/:
# once finding libroche through ROCHE_LIB, once through the system loader
# (LD_LIBRARY_PATH), as an installed libroche would be found.
#   ROCHE_LIB  the libroche.so to use (ctest sets it)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
: "${ROCHE_LIB:?set ROCHE_LIB to the path of libroche.so}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$here/../committed_tree.sh"
src="$tmp/src"
copy_committed_tree "$here" "$src"
cd "$src"
gem build roche.gemspec --output "$tmp/roche.gem" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }

# The ffi gem comes from the system (Debian's ruby-ffi): GEM_PATH lists
# the system's gems after the temporary home, which receives only roche.
system_gems=$(ruby -e 'print Gem.path.join(":")')
export GEM_HOME="$tmp/gems" GEM_PATH="$tmp/gems:$system_gems"
gem install --local --no-document "$tmp/roche.gem" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; exit 1; }

cd "$tmp"
program='
require "roche"
require "tmpdir"
where = $LOADED_FEATURES.grep(%r{/roche/db\.rb\z}).first
abort "loaded #{where}, not the installed gem" unless where.start_with?(ENV["GEM_HOME"])
Dir.mktmpdir do |root|
  Roche.open(root) do |db|
    offset = db.append("installed", namespace: "événements")
    abort "get" unless db.get(offset, namespace: "événements") == "installed"
    abort "namespaces" unless db.namespaces.include?("événements")
  end
end
puts "ok #{Roche::VERSION} with libroche #{Roche.library_version}"
'
LC_ALL=C.UTF-8 ruby -e "$program"
# Without ROCHE_LIB: the system loader finds libroche.so (here through
# LD_LIBRARY_PATH, as it would in /usr/lib after an install).
env -u ROCHE_LIB LD_LIBRARY_PATH="$(dirname "$ROCHE_LIB")" LC_ALL=C.UTF-8 ruby -e "$program"
