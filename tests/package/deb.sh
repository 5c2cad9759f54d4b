#!/usr/bin/env bash
# The Debian packages, built and used as a user would: builds them from a
# clean clone of the committed tree (dpkg-buildpackage -us -uc -b), runs
# lintian, installs them (apt-get install ./*.deb), then builds
# examples/quickstart.c against the installed roche.pc and runs it, checks
# `roche --version` against roche.h and debian/changelog, `man -w` for the
# pages, runs each binding's example, and purges the packages, even when a
# step fails.
#
#   tests/package/deb.sh         (as root, on Debian 12; the build
#                                 dependencies of debian/control installed)
#
# A libroche installed elsewhere (cmake --install into /usr/local) is hidden
# while the installed packages are checked (a private mount namespace with
# an empty /usr/local, when unshare(1) may make one), and every check
# asserts that it used the packaged files under /usr.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel) || { echo "FAIL: not in a git checkout"; exit 1; }
started=$(date +%s)

skip() { echo "skipped: $*"; exit 0; }
fail() { echo "FAIL: $*"; exit 1; }
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian apt-get:apt git:git; do
  command -v "${tool%%:*}" > /dev/null || skip "${tool%%:*} not found (apt-get install ${tool##*:})"
done
[ "$(id -u)" -eq 0 ] || skip "installing packages needs root"

packages="libroche0 libroche-dev roche-tools roche-kafka libroche-java ruby-roche libroche-perl python3-roche"
installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $packages 2> /dev/null | awk '$1 ~ /^.i/ {print $2}')
[ -z "$installed" ] || fail "already installed, purge them first (this test removes what it installs): $installed"

work=$(mktemp -d)
cleanup() {
  local rc=$?
  if dpkg-query -W -f='${db:Status-Abbrev}\n' $packages 2> /dev/null | grep -q '^.i'; then
    apt-get purge -y $packages > "$work/purge.log" 2>&1 || { cat "$work/purge.log"; echo "FAIL: apt-get purge"; rc=1; }
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A clean environment: the system's tools only (no pyenv, no /usr/local/bin).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
unset PKG_CONFIG_PATH LD_LIBRARY_PATH PYTHONPATH RUBYLIB PERL5LIB CLASSPATH ROCHE_LIB ROCHE_ROOT

# ---- build from a clone of the committed tree ----
git clone --quiet "$repo" "$work/libroche" || fail "git clone of $repo"
src=$work/libroche
if ! (cd "$src" && dpkg-checkbuilddeps) > "$work/builddeps.log" 2>&1; then
  cat "$work/builddeps.log"
  fail "build dependencies missing (see debian/control)"
fi
echo "deb: building the packages from $(git -C "$src" rev-parse --short HEAD) (a clone of $repo)"
if ! (cd "$src" && DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
  tail -40 "$work/build.log"
  fail "dpkg-buildpackage"
fi
version=$(cd "$src" && dpkg-parsechangelog -S Version)
debs=$(cd "$work" && ls *.deb | grep -v -- -dbgsym_)
echo "deb: built $(echo $debs)"
for p in $packages; do
  echo "$debs" | grep -q "^${p}_" || fail "package $p was not built"
done

# ---- lintian: no error or warning left (overrides carry their reasons) ----
lintian --fail-on error,warning --display-info --show-overrides "$work"/*.changes > "$work/lintian.log" 2>&1
lintian_rc=$?
grep -v 'running with root privileges' "$work/lintian.log"
[ "$lintian_rc" -eq 0 ] || fail "lintian (status $lintian_rc)"
echo "deb: lintian: no error or warning; $(grep -c '^I:' "$work/lintian.log") info tags, $(grep -c '^O:' "$work/lintian.log") overridden (reasons in debian/*.lintian-overrides)"

# ---- install ----
if ! (cd "$work" && apt-get install -y $(printf './%s ' $debs)) > "$work/install.log" 2>&1; then
  tail -30 "$work/install.log"
  fail "apt-get install ./*.deb"
fi
echo "deb: installed $(echo $packages)"

# ---- use them ----
cat > "$work/use.sh" <<'USE'
set -uo pipefail
src=$1 work=$2 version=$3
fail() { echo "FAIL: $*"; exit 1; }
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
owner() { dpkg -S "$1" 2> /dev/null | cut -d: -f1; }

# pkg-config: only the system's directories, and roche.pc must be libroche-dev's.
export PKG_CONFIG_LIBDIR=/usr/lib/$triplet/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig
pc=$(pkg-config --variable=pcfiledir roche)/roche.pc
[ "$(owner "$(realpath "$pc")")" = libroche-dev ] || fail "roche.pc used is $pc, not libroche-dev's"
pcversion=$(pkg-config --modversion roche)
[ "$pcversion" = "$version" ] || fail "roche.pc says $pcversion, debian/changelog $version"

cd "$work"
cc -Wall -Werror -H -o quickstart "$src/examples/quickstart.c" $(pkg-config --cflags --libs roche) \
  -Wl,--trace 2> cc.log > cc.out || { cat cc.log cc.out; fail "cc quickstart.c \$(pkg-config --cflags --libs roche)"; }
header=$(sed -n 's/^\. \(.*roche\.h\)$/\1/p' cc.log)
[ "$(owner "$(realpath -s "$header")")" = libroche-dev ] || fail "quickstart.c included $header, not libroche-dev's roche.h"
linked=$(grep -o '[^ ()]*libroche\.so[^ ()]*' cc.out | head -1)
[ "$(owner "$(realpath -s "$linked")")" = libroche-dev ] || fail "quickstart linked $linked, not libroche-dev's libroche.so"
loaded=$(ldd ./quickstart | sed -n 's/.*libroche\.so\.0 => \([^ ]*\).*/\1/p')
[ "$(owner "$(realpath "$loaded")")" = libroche0 ] || fail "quickstart loads '$loaded', not libroche0's libroche.so.0"
./quickstart "$work/store-c" > quickstart.log 2>&1 || { cat quickstart.log; fail "quickstart"; }
echo "deb: quickstart.c built with $header, linked against $linked, ran against $loaded"

# The tool: /usr/bin/roche, its version that of roche.h and of the package.
tool=$(command -v roche)
[ "$tool" = /usr/bin/roche ] && [ "$(owner "$tool")" = roche-tools ] || fail "roche on PATH is '$tool', not roche-tools' /usr/bin/roche"
header_version=$(sed -n 's/^#define ROCHE_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' "$src/include/roche.h" | paste -sd.)
got=$(roche --version) || fail "roche --version"
[ "$got" = "roche $header_version (libroche $header_version)" ] || fail "roche --version says '$got'; roche.h says $header_version"
[ "$header_version" = "$version" ] || fail "roche.h says $header_version, debian/changelog $version"
value=$(printf 'packaged' | roche --root "$work/store-cli" append) && [ "$(roche --root "$work/store-cli" get "$value")" = packaged ] ||
  fail "roche append/get"
echo "deb: $got (roche.h $header_version, debian/changelog $version); append and get work"

for page in roche:roche-tools roche-serve:roche-tools roche-kafka:roche-kafka libroche:libroche-dev; do
  path=$(man -w "${page%%:*}" 2> /dev/null) || fail "man -w ${page%%:*} finds no page"
  [ "$(owner "$path")" = "${page##*:}" ] || fail "man -w ${page%%:*} finds $path, not ${page##*:}'s"
done
echo "deb: man -w finds roche(1) ($(man -w roche)), roche-serve(1), roche-kafka(1) and libroche(3)"
# roche kafka runs the packaged roche-kafka (its help needs no broker).
roche kafka --help | grep -q "roche kafka mirror" || fail "roche kafka --help"
[ "$(owner /usr/bin/roche-kafka)" = roche-kafka ] || fail "/usr/bin/roche-kafka is not roche-kafka's"

# Each binding's example, against the packaged binding and library.
/usr/bin/python3 - "$work/store-py" <<'PY' || fail "python3-roche"
import sys, roche
assert roche.__file__.startswith("/usr/lib/python3/dist-packages/"), roche.__file__
PY
/usr/bin/python3 "$src/examples/python/example.py" "$work/store-py" > py.log 2>&1 || { cat py.log; fail "python3 examples/python/example.py"; }
/usr/bin/ruby -e 'require "roche"; f = $LOADED_FEATURES.grep(%r{/roche\.rb$}).first
  abort "roche.rb from #{f}" unless f.start_with?("/usr/lib/ruby/vendor_ruby/")' || fail "ruby-roche"
/usr/bin/ruby "$src/examples/ruby/example.rb" "$work/store-rb" > rb.log 2>&1 || { cat rb.log; fail "ruby examples/ruby/example.rb"; }
/usr/bin/perl -MRoche -e 'die "Roche.pm from $INC{q(Roche.pm)}\n" unless $INC{q(Roche.pm)} eq q(/usr/share/perl5/Roche.pm);
  die "libroche from ", Roche->library_path, "\n" unless Roche->library_path =~ m{^(/usr/lib/\S+|libroche\.so\.0)$}' ||
  fail "libroche-perl"
/usr/bin/perl "$src/examples/perl/example.pl" "$work/store-pl" > pl.log 2>&1 || { cat pl.log; fail "perl examples/perl/example.pl"; }
java -cp /usr/share/java/roche.jar "$src/examples/java/Example.java" "$work/store-java" > java.log 2>&1 ||
  { cat java.log; fail "java -cp /usr/share/java/roche.jar examples/java/Example.java"; }
echo "deb: the Python, Ruby, Perl and Java examples ran against the packages"
USE
hide=
if [ -d /usr/local ] && unshare --mount true 2> /dev/null; then
  hide=yes
  unshare --mount bash -c 'mount -t tmpfs tmpfs /usr/local && exec bash "$@"' _ "$work/use.sh" "$src" "$work" "$version" || exit 1
else
  bash "$work/use.sh" "$src" "$work" "$version" || exit 1
fi
[ -n "$hide" ] && echo "deb: /usr/local was hidden while the packages were used"

if ! apt-get purge -y $packages > "$work/purge.log" 2>&1; then
  cat "$work/purge.log"
  fail "apt-get purge"
fi
left=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' $packages 2> /dev/null | awk '$1 !~ /^.n/ {print $2}')
[ -z "$left" ] || fail "still installed after purge: $left"
echo "deb: purged; $(( $(date +%s) - started )) s in all"
