#!/bin/bash
# roche serve under wrk (2 threads, 16 connections, 50-byte values), beside
# the HTTP ceiling: the same HTTP library answering a fixed 50-byte body,
# measured in the same run. Writes bench/results/serve.md.
#   bench/serve.sh
# Environment: BUILD (default build-bench-serve), SECONDS_PER_RUN (6),
# ROUNDS (5; the table gives medians and bests), THREADS (server threads, 2),
# SKIP_APT=1 to skip apt-get.
# Opt-in, rochefort itself beside it: ROCHEFORT_BIN=path to a rochefort v0.5
# binary, or ROCHEFORT_SRC=a clone of https://github.com/jackdoe/rochefort
# (its tag v0.5 is built here with Go; go-metro comes from the Go module
# proxy). It then gets the same wrk workloads in the same rounds (its own
# 20,000 records, GOMAXPROCS=THREADS, same CPUs; it logs a line a request,
# which goes to /dev/null), and serve.md gains its rows and the ratios
# roche serve / rochefort. Without either, nothing of this runs.
# Rows: appends/s (POST /append, 50 B), gets/s (GET /get at random offsets
# of 20,000 records), getMulti values/s (100 random offsets a request); the
# ceiling: libmicrohttpd (the library roche serve uses; same daemon flags,
# options and thread count, server/bench/ceiling_mhd.c) answering a fixed
# 50-byte body to the very same wrk requests; and Boost.Beast
# (asynchronous, same thread count, server/bench/ceiling_beast.cc), the
# library it was measured against. Server CPU per request is its
# user+system time over the run divided by the requests wrk counted. Server
# and wrk share the machine's first two CPUs (taskset -c 0,1).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench-serve}
DUR=${SECONDS_PER_RUN:-6}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
OUT=bench/results/serve.md
PY=/usr/bin/python3

if [ "${SKIP_APT:-0}" != 1 ]; then
  need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v curl >/dev/null || need+=(curl)
  command -v pkg-config >/dev/null || need+=(pkg-config)
  dpkg -s libmicrohttpd-dev >/dev/null 2>&1 || need+=(libmicrohttpd-dev)
  dpkg -s libboost-dev >/dev/null 2>&1 || need+=(libboost-dev)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get install -y --no-install-recommends "${need[@]}"
  fi
fi

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DROCHE_BUILD_SERVER=ON \
  -DROCHE_BUILD_TESTS=OFF -DROCHE_BUILD_EXAMPLES=OFF -DROCHE_BUILD_CLI=OFF \
  -DROCHE_BUILD_JAVA=OFF -DROCHE_BUILD_RUBY=OFF -DROCHE_BUILD_PERL=OFF >/dev/null
cmake --build "$BUILD" -j2 --target roche_serve >/dev/null
SERVE=$BUILD/cli/roche-serve
work=$(mktemp -d)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -o "$work/ceiling_mhd" server/bench/ceiling_mhd.c -lmicrohttpd
have_beast=1
c++ -O2 -std=c++17 -o "$work/ceiling_beast" server/bench/ceiling_beast.cc -lpthread 2>/dev/null ||
  have_beast=0

# rochefort v0.5, when asked for.
RF=
rf_desc=
if [ -n "${ROCHEFORT_BIN:-}" ]; then
  RF=$(readlink -f "$ROCHEFORT_BIN")
  rf_desc="rochefort v0.5 from $ROCHEFORT_BIN"
elif [ -n "${ROCHEFORT_SRC:-}" ]; then
  git -C "$ROCHEFORT_SRC" rev-parse --verify -q 'v0.5^{commit}' >/dev/null ||
    { echo "ROCHEFORT_SRC=$ROCHEFORT_SRC has no tag v0.5"; exit 1; }
  mkdir "$work/rochefort"
  git -C "$ROCHEFORT_SRC" show v0.5:main.go > "$work/rochefort/main.go"
  (cd "$work/rochefort" && go mod init rochefort >/dev/null 2>&1 &&
   go get github.com/dgryski/go-metro >/dev/null 2>&1 && go build -o rochefort .)
  RF=$work/rochefort/rochefort
  rf_desc="rochefort v0.5 ($(git -C "$ROCHEFORT_SRC" rev-parse --short 'v0.5^{commit}')) built with $(go version | cut -d' ' -f3), $(cd "$work/rochefort" && go list -m github.com/dgryski/go-metro)"
fi

PORT=18700
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# start CMD...: runs a server on the first two CPUs and waits for its port.
start() {
  taskset -c 0,1 "$@" 2>"${SERVER_LOG:-$work/server.log}" &
  pid=$!
  for _ in $(seq 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PORT/" && return 0
    sleep 0.05
  done
  echo "server did not start: $*"; cat "${SERVER_LOG:-$work/server.log}"; exit 1
}
stop() { kill "$pid"; wait "$pid" || true; pid=; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

# measure NAME SCRIPT PATH: one wrk run; appends "NAME requests/s cpu-us"
# to $work/rows.
measure() {
  local name=$1 script=$2 path=$3 t0 t1
  t0=$(cpu_ticks)
  taskset -c 0,1 wrk -t2 -c16 -d"${DUR}s" -s "$script" "http://127.0.0.1:$PORT$path" \
    > "$work/wrk.out"
  t1=$(cpu_ticks)
  $PY - "$name" "$t0" "$t1" "$(getconf CLK_TCK)" "$work/wrk.out" >> "$work/rows" <<'EOF'
import re, sys
name, t0, t1, hz, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
text = open(path).read()
reqs = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", text).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
errs = re.search(r"Socket errors: (.*)", text)
if bad:
    sys.exit("%s: %s non-2xx answers" % (name, bad.group(1)))
cpu_us = (t1 - t0) / hz * 1e6 / max(reqs, 1)
print("%s\t%.0f\t%.1f\t%s" % (name, rps, cpu_us, errs.group(1) if errs else ""))
EOF
}

# wrk scripts: append (POST, 50 B), get and getMulti (random offsets of the
# records the setup stored).
cat > "$work/append.lua" <<'EOF'
wrk.method = "POST"
wrk.body = string.rep("v", 50)
EOF

: > "$work/rows"
DATA=$work/store
# setup PREFIX: 20,000 records of 50 B in namespace bench of the server
# running, their offsets into Lua tables ($work/PREFIXget.lua, PREFIXmulti.lua).
setup() {
$PY - "$PORT" "$work" "$1" <<'EOF'
import http.client, json, random, struct, sys
port, work, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
offs = []
for i in range(20000):
    c.request("POST", "/append?namespace=bench&id=%d" % (i % 64), body=b"b" * 50)
    offs.append(json.loads(c.getresponse().read())["offset"])
rng = random.Random(1)
with open(work + "/" + prefix + "get.lua", "w") as f:
    f.write("local offs = {%s}\n" % ",".join(str(o) for o in offs))
    f.write("math.randomseed(7)\nrequest = function()\n"
            "  return wrk.format('GET', '/get?namespace=bench&offset=' .. "
            "string.format('%.0f', offs[math.random(#offs)]))\nend\n")
with open(work + "/" + prefix + "multi.lua", "w") as f:
    bodies = []
    for _ in range(1000):
        raw = struct.pack("<100Q", *(rng.choice(offs) for _ in range(100)))
        bodies.append('"' + "".join("\\%03d" % b for b in raw) + '"')
    f.write("local bodies = {%s}\n" % ",".join(bodies))
    f.write("math.randomseed(7)\nrequest = function()\n"
            "  return wrk.format('POST', '/getMulti?namespace=bench', nil, "
            "bodies[math.random(#bodies)])\nend\n")
EOF
}
start "$SERVE" --root "$DATA" --bind "127.0.0.1:$PORT" --threads "$THREADS"
setup ""
stop
RF_DATA=$work/rochefort-store
# rochefort v0.5 (opt-in): its flags; a log line a request, to /dev/null.
start_rf() {
  SERVER_LOG=/dev/null GOMAXPROCS=$THREADS start "$RF" -root "$RF_DATA" \
    -bind "127.0.0.1:$PORT" -buckets 8
}
if [ -n "$RF" ]; then
  start_rf
  setup rf-
  stop
fi

# Rounds: each shape of request goes to roche serve and right after to the
# ceilings (pairs close in time, as the load of a shared machine drifts),
# ROUNDS times; the table gives each row's median. The ceilings get the very
# same wrk scripts (they ignore path and body), so wrk's own cost per
# request is the same on both sides.
for round in $(seq "$ROUNDS"); do
  for shape in append get getMulti; do
    case $shape in
      append) script=$work/append.lua; path="/append?namespace=bench$round"; row=append ;;
      get) script=$work/get.lua; path=/; row=get ;;
      getMulti) script=$work/multi.lua; path=/; row="getMulti (100)" ;;
    esac
    start "$SERVE" --root "$DATA" --bind "127.0.0.1:$PORT" --threads "$THREADS"
    measure "roche serve: $row" "$script" "$path"
    stop
    start "$work/ceiling_mhd" "$PORT" "$THREADS"
    measure "ceiling libmicrohttpd: $shape-shaped" "$script" "$path"
    stop
    if [ $have_beast = 1 ] && [ $shape != getMulti ]; then
      start "$work/ceiling_beast" "$PORT" "$THREADS"
      measure "ceiling Boost.Beast: $shape-shaped" "$script" "$path"
      stop
    fi
    if [ -n "$RF" ]; then
      [ $shape = append ] || script=$work/rf-$(basename "$script")
      start_rf
      measure "rochefort v0.5: $row" "$script" "$path"
      stop
    fi
  done
done
records=$(du -sh "$DATA" | cut -f1)

mkdir -p bench/results
$PY - "$work/rows" "$OUT" "$DUR" "$THREADS" "$records" "$ROUNDS" "$load_before" "$rf_desc" <<'EOF'
import statistics, subprocess, sys
rows_path, out, dur, threads, store, rounds, load_before, rf_desc = sys.argv[1:9]
runs = {}
order = []
for line in open(rows_path):
    name, rps, cpu, errs = line.rstrip("\n").split("\t")
    if name not in runs:
        runs[name] = []
        order.append(name)
    runs[name].append((float(rps), float(cpu), errs))
def med(name, i):
    return statistics.median(r[i] for r in runs[name])
def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
lines = []
w = lines.append
w("# roche serve: HTTP throughput (bench/serve.sh)")
w("")
w("wrk 2 threads, 16 connections, keep-alive, %s s a run, %s rounds (median of the" % (dur, rounds))
w("rounds; every run in the last column); server with %s threads; server and wrk share" % threads)
w("CPUs 0-1 (taskset). 50-byte values; gets at random offsets of 20,000 records;")
w("getMulti asks 100 random offsets a request (values/s = requests/s x 100 for roche serve; the ceiling answers one 50-byte body).")
w("The ceiling is libmicrohttpd (the library roche serve uses; same daemon flags and")
w("threads) answering a fixed 50-byte body to the very same wrk requests; Boost.Beast")
w("(asynchronous, same threads) is the library it was measured against. CPU is the")
w("server's user+system time per request.")
w("")
w("\"vs ceiling\" compares requests/s (median; best run), \"CPU vs ceiling\" server CPU")
w("per request (ceiling's / roche serve's): on a machine shared with other work the")
w("CPU figure and the best runs are the steadier ones.")
w("")
w("| row | requests/s (median) | best | values/s (median) | server CPU us/request | vs ceiling (median; best) | CPU vs ceiling | runs (requests/s) |")
w("|---|---:|---:|---:|---:|---:|---:|---|")
for name in order:
    rps, cpu = med(name, 0), med(name, 1)
    values = rps * 100 if ": getMulti" in name and not name.startswith("ceiling") else rps
    ratio = cpu_ratio = ""
    if name.startswith("roche serve"):
        shape = name.split(": ")[1].split(" ")[0]
        ceiling = "ceiling libmicrohttpd: %s-shaped" % shape
        if ceiling in runs:
            best_c = max(r[0] for r in runs[ceiling])
            ratio = "%.0f%%; %.0f%%" % (100 * rps / med(ceiling, 0),
                                        100 * max(r[0] for r in runs[name]) / best_c)
            cpu_ratio = "%.0f%%" % (100 * med(ceiling, 1) / cpu)
    errs = [r[2] for r in runs[name] if r[2]]
    note = " (socket errors: %s)" % "; ".join(errs) if errs else ""
    best = max(r[0] for r in runs[name])
    w("| %s%s | %.0f | %.0f | %.0f | %.1f | %s | %s | %s |" % (name, note, rps, best, values, cpu, ratio, cpu_ratio,
      ", ".join("%.0f" % r[0] for r in runs[name])))
w("")
rf_rows = [n for n in order if n.startswith("rochefort v0.5: ")]
if rf_rows:
    w("## roche serve beside rochefort v0.5")
    w("")
    w("%s, run in the same rounds (right after the ceilings of each shape), on the" % rf_desc)
    w("same CPUs, GOMAXPROCS=%s, its own 20,000 records for gets and getMulti; its" % threads)
    w("log line a request goes to /dev/null. Ratios are roche serve / rochefort:")
    w("of the medians, and the median of each round's ratio (runs close in time).")
    w("CPU ratio is rochefort's server CPU per request over roche serve's.")
    w("")
    w("| workload | roche serve requests/s | rochefort requests/s | ratio (medians) | ratio (median of rounds) | roche serve CPU us/req | rochefort CPU us/req | rochefort CPU / roche serve CPU |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    for rf in rf_rows:
        shape = rf[len("rochefort v0.5: "):]
        rs = "roche serve: " + shape
        if rs not in runs:
            continue
        per_round = [a[0] / b[0] for a, b in zip(runs[rs], runs[rf]) if b[0] > 0]
        w("| %s | %.0f | %.0f | %.2f | %.2f | %.1f | %.1f | %.2f |" % (
            shape, med(rs, 0), med(rf, 0), med(rs, 0) / med(rf, 0),
            statistics.median(per_round), med(rs, 1), med(rf, 1), med(rf, 1) / med(rs, 1)))
    w("")
w("Machine: %s, %s CPUs, kernel %s; %s; %s; wrk %s; store after the run: %s." % (
    sh("lscpu | sed -n 's/^Model name: *//p'"), sh("nproc"), sh("uname -r"),
    "libmicrohttpd " + sh("pkg-config --modversion libmicrohttpd"),
    "Boost " + sh("dpkg-query -W -f='${Version}' libboost-dev"),
    sh("dpkg-query -W -f='${Version}' wrk"), store))
w("Date: %s. Load average before the run: %s; after: %s." % (
    sh("date -u '+%Y-%m-%d %H:%M UTC'"), load_before, sh("cut -d' ' -f1-3 /proc/loadavg")))
open(out, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
