#!/bin/bash
# rochefort v0.5's own JavaScript client test (clients/js: `npm test`, that
# is node test.js: append, get, getMulti with csv=true, through axios 0.17)
# against roche-serve.   js_client.sh PATH-TO-roche-serve
# Skipped (exit 77, with the reason) without ROCHEFORT_SRC (client_common.sh),
# node or npm, when port 8002 is taken (test.js asks http://localhost:8002),
# or when its npm dependency (axios 0.17) is not in npm's cache: npm runs
# with --offline unless ROCHEFORT_CLIENT_DEPS_OK=1 lets it fetch from the
# registry (never set in CI).
. "$(dirname "$0")/client_common.sh"
command -v node >/dev/null || skip "node is not installed"
command -v npm >/dev/null || skip "npm is not installed"
if (exec 3<>/dev/tcp/127.0.0.1/8002) 2>/dev/null; then
    skip "port 8002 is in use (rochefort's test.js asks http://localhost:8002)"
fi
copy_client js
offline=--offline
[ "${ROCHEFORT_CLIENT_DEPS_OK:-0}" = 1 ] && offline=
if ! (cd "$work/js" && npm install $offline --no-audit --no-fund --no-save \
        > "$work/npm.log" 2>&1); then
    tail -5 "$work/npm.log"
    skip "npm could not install the client's dependencies (axios 0.17) offline; ROCHEFORT_CLIENT_DEPS_OK=1 lets it fetch them"
fi
# ":8002" as rochefort's ":8000": IPv6 and IPv4, whichever localhost is.
start_serve :8002
# test.js is a promise chain of asserts: a failure is an unhandled rejection,
# which makes node exit non-zero.
(cd "$work/js" && npm test)
stop_serve
echo "rochefort v0.5 clients/js test.js: passed (append, get, getMulti of 4 by csv)"
