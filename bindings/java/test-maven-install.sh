#!/bin/sh
# Checks that `mvn -f bindings/java install` works from a clean clone: it
# clones the repository's committed HEAD into a temporary directory, runs
# the Maven build there (which runs CMake for libroche_jni.so, compiles,
# runs the JUnit tests, installs io.roche:roche:0.1.0 into a throw-away
# local repository), then compiles and runs a small program against the
# installed jar alone, as a user's build would.
#
#   sh bindings/java/test-maven-install.sh            # plugins from Debian's
#                                                     # /usr/share/maven-repo, no network
#   ROCHE_MAVEN_REPO=central sh bindings/java/test-maven-install.sh
#                                                     # plugins from Maven Central
#
# Uncommitted changes are not seen: it builds what is committed.
set -eu

src=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/roche-maven-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

git clone --quiet --no-hardlinks "$src" "$tmp/clone"
echo "clean clone of $(git -C "$tmp/clone" rev-parse --short HEAD) in $tmp/clone"

set -- -B -Dmaven.repo.local="$tmp/m2" -f "$tmp/clone/bindings/java" install
if [ "${ROCHE_MAVEN_REPO:-debian}" != central ]; then
    set -- -s "$tmp/clone/bindings/java/maven-settings-debian.xml" "$@"
fi
echo "mvn $*"
if ! mvn "$@" > "$tmp/mvn.log" 2>&1; then
    tail -n 60 "$tmp/mvn.log"
    echo "maven install: 0 passed, 1 failed"
    exit 1
fi
grep -E '^\[(INFO|WARNING)\] Tests run:' "$tmp/mvn.log" | tail -n 1

jar="$tmp/m2/io/roche/roche/0.1.0/roche-0.1.0.jar"
test -f "$tmp/m2/io/roche/roche/0.1.0/roche-0.1.0.pom"
unzip -l "$jar" | grep -q 'io/roche/native/linux-x86_64/libroche_jni.so' || {
    echo "the installed jar has no libroche_jni.so"
    echo "maven install: 0 passed, 1 failed"
    exit 1
}

# The installed jar alone, with the README's imports.
mkdir "$tmp/app"
cat > "$tmp/app/Main.java" <<'EOF'
import io.roche.*;
import io.roche.Record;
import java.nio.file.Path;

public class Main {
    public static void main(String[] args) {
        try (Roche db = Roche.open(Path.of(args[0]))) {
            long off = db.append("hello".getBytes());
            if (!new String(db.get(off)).equals("hello")) throw new AssertionError("round trip");
            try {
                db.get(off + 1000);
                throw new AssertionError("no NotFoundException");
            } catch (NotFoundException expected) {
                // the README's catch, with import io.roche.*
            }
            try (Scan scan = db.scan(0)) {
                Record r = scan.next();
                if (r.offset() != off) throw new AssertionError("scan");
            }
            System.out.println("installed jar: append, get, scan and NotFoundException work");
        }
    }
}
EOF
javac -d "$tmp/app" -cp "$jar" "$tmp/app/Main.java"
java -cp "$jar:$tmp/app" Main "$tmp/app/store"
echo "maven install: 1 passed, 0 failed"
