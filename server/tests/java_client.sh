#!/bin/bash
# rochefort v0.5's own Java client suite (clients/java: `mvn test`, JUnit 3
# ClientTest: testApp and testManyAsync, 10 threads, values up to 1 MB,
# three namespaces including the default one, scan in setUp and tearDown)
# against roche-serve, which it finds through ROCHEFORT_TEST.
#   java_client.sh PATH-TO-roche-serve
# Skipped (exit 77, with the reason) without ROCHEFORT_SRC (client_common.sh),
# mvn or java, or when Maven cannot resolve the suite's dependencies
# (unirest-java 1.4.9, junit 3.8.1, Maven's default plugins) from the local
# repository: mvn runs with -o (offline) unless ROCHEFORT_CLIENT_DEPS_OK=1
# lets it fetch from Maven Central (never set in CI). The pom asks Java 1.7
# source and target, which JDK 17 (Debian 12) still compiles.
. "$(dirname "$0")/client_common.sh"
command -v mvn >/dev/null || skip "mvn is not installed"
command -v java >/dev/null || skip "java is not installed"
copy_client java
offline=-o
[ "${ROCHEFORT_CLIENT_DEPS_OK:-0}" = 1 ] && offline=
start_serve 127.0.0.1:0
set +e
(cd "$work/java" && ROCHEFORT_TEST="http://127.0.0.1:$port/" mvn -B $offline test) \
    > "$work/mvn.log" 2>&1
rc=$?
set -e
if [ $rc != 0 ] && ! grep -q '^Tests run:' "$work/mvn.log" &&
        grep -qi 'offline mode\|Could not resolve\|Cannot access' "$work/mvn.log"; then
    grep -i 'ERROR' "$work/mvn.log" | head -5
    skip "Maven could not resolve the client's dependencies offline; ROCHEFORT_CLIENT_DEPS_OK=1 lets it fetch them"
fi
sed -n '/T E S T S/,/BUILD/p' "$work/mvn.log"
[ $rc = 0 ] || { tail -60 "$work/mvn.log"; exit 1; }
stop_serve
