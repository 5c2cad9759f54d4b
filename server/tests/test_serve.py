#!/usr/bin/python3
"""HTTP tests of roche-serve: rochefort v0.5's surface, spoken to with
Python's http.client and raw sockets (Debian python3 only).

    test_serve.py ROCHE_SERVE READER

READER is server/tests/reader.c: a read-only handle in another process.
Each check prints "ok <name>"; the first failure raises and exits non-zero.
"""
import hashlib
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

SERVE, READER = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="roche-serve-test-")
JSON_RE = re.compile(r'^\{"offset":(\d+),"offset_str":"(\d+)","file":"(.*)"\}$')


class Server:
    """A roche-serve on a free port of 127.0.0.1."""

    def __init__(self, root, *extra):
        self.root = root
        self.proc = subprocess.Popen(
            [SERVE, "--root", root, "--bind", "127.0.0.1:0", "--threads", "2", *extra],
            stderr=subprocess.PIPE, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        assert m, "no listening line: %r" % line
        self.port = int(m.group(1))
        self.log = []
        self._drain = threading.Thread(target=self._read_log, daemon=True)
        self._drain.start()

    def _read_log(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None):
        c = self.conn()
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheader("Content-Type"), data

    def stop(self, sig=signal.SIGTERM, timeout=60):
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout)
        self._drain.join(5)
        return rc

    def open_fds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))


def ok(name):
    print("ok", name, flush=True)


def append(s, value, ns=None, ident=None, method="POST", headers=None):
    q = []
    if ns is not None:
        q.append("namespace=" + ns)
    if ident is not None:
        q.append("id=" + ident)
    status, ctype, body = s.request(method, "/append?" + "&".join(q), value, headers)
    assert status == 200, (status, body)
    assert ctype == "application/json", ctype
    text = body.decode()
    m = JSON_RE.match(text)
    assert m, text
    parsed = json.loads(text)
    assert str(parsed["offset"]) == parsed["offset_str"] == m.group(1)
    return parsed


def get(s, offset, ns=None):
    q = "offset=%d" % offset if isinstance(offset, int) else "offset=" + offset
    if ns is not None:
        q += "&namespace=" + ns
    return s.request("GET", "/get?" + q)


def get_multi(s, offsets, ns=None, csv=False):
    q = []
    if ns is not None:
        q.append("namespace=" + ns)
    if csv:
        q.append("csv=true")
        body = ",".join(str(o) for o in offsets).encode()
    else:
        body = struct.pack("<%dQ" % len(offsets), *offsets)
    status, ctype, data = s.request("POST", "/getMulti?" + "&".join(q), body)
    return status, data


def split_multi(data):
    out, pos = [], 0
    while pos < len(data):
        (n,) = struct.unpack_from("<I", data, pos)
        out.append(data[pos + 4:pos + 4 + n])
        pos += 4 + n
    assert pos == len(data)
    return out


def scan(s, ns=None):
    c = s.conn()
    c.request("GET", "/scan" + ("?namespace=" + ns if ns is not None else ""))
    r = c.getresponse()
    assert r.status == 200, r.status
    assert r.getheader("Transfer-Encoding") == "chunked", r.getheaders()
    data = r.read()
    c.close()
    out, pos = [], 0
    while pos < len(data):
        n, off = struct.unpack_from("<IQ", data, pos)
        out.append((off, data[pos + 12:pos + 12 + n]))
        pos += 12 + n
    assert pos == len(data)
    return out


def raw(port, request, read_until_close=True, timeout=30):
    """Sends bytes as they are and returns what comes back."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.sendall(request)
    chunks = []
    if read_until_close:
        try:
            while True:
                b = sock.recv(65536)
                if not b:
                    break
                chunks.append(b)
        except socket.timeout:
            pass
    sock.close()
    return b"".join(chunks)


def test_endpoints(s):
    # append by GET and by POST (clients send both); the JSON is exact.
    a = append(s, b"some text", ident="some_identifier")
    b = append(s, b"other data", ident="some_identifier", method="GET")
    assert a["file"] == "default/append.%d.raw" % (a["offset"] >> 50), a
    assert os.path.exists(os.path.join(s.root, a["file"]))
    assert b["offset"] >> 50 == a["offset"] >> 50  # one id, one bucket, in order
    assert b["offset"] > a["offset"]
    # "" and absent namespace both mean default.
    c = append(s, b"third", ns="")
    assert c["file"].startswith("default/")
    status, ctype, body = get(s, a["offset"])
    assert (status, ctype, body) == (200, "application/octet-stream", b"some text")
    assert get(s, b["offset"], ns="")[2] == b"other data"
    # getMulti: binary and csv, request order, duplicates.
    offs = [b["offset"], a["offset"], b["offset"], c["offset"]]
    want = [b"other data", b"some text", b"other data", b"third"]
    status, data = get_multi(s, offs)
    assert status == 200 and split_multi(data) == want
    status, data = get_multi(s, offs, csv=True)
    assert status == 200 and split_multi(data) == want
    status, data = get_multi(s, offs, ns="", csv=True)
    assert status == 200 and split_multi(data) == want
    status, data = get_multi(s, [])
    assert status == 200 and data == b""
    # scan: every record, [u32 len][u64 offset][value], every bucket.
    got = dict(scan(s))
    assert got[a["offset"]] == b"some text" and got[c["offset"]] == b"third"
    assert len(got) == 3
    # close: {"success":true}, and the namespace opens again on next use.
    status, ctype, body = s.request("GET", "/close?namespace=")
    assert (status, ctype, body) == (200, "application/json", b'{"success":true}')
    assert get(s, a["offset"])[2] == b"some text"
    status, _, body = s.request("GET", "/close?namespace=never-used")
    assert status == 200 and body == b'{"success":true}'
    # unknown path: Go's 404
    status, _, body = s.request("GET", "/nope")
    assert status == 404 and body == b"404 page not found\n"
    ok("endpoints")


def test_namespaces_and_query(s):
    # rochefort's client test names: nil, "atext", "exam,ple".
    for ns in ["atext", "exam,ple", "a%20b", "a+b", "caf%C3%A9"]:
        r = append(s, b"v-" + ns.encode(), ns=ns)
        real = {"a%20b": "a b", "a+b": "a b", "caf%C3%A9": "caf\u00e9"}.get(ns, ns)
        assert r["file"] == real + "/append.%d.raw" % (r["offset"] >> 50), r
        assert os.path.exists(os.path.join(s.root, r["file"]))
        assert get(s, r["offset"], ns=ns)[2] == b"v-" + ns.encode()
    # A pair with a bad escape is skipped (Go's ParseQuery): default namespace.
    status, _, body = s.request("POST", "/append?namespace=%zz", b"x")
    assert status == 200 and json.loads(body)["file"].startswith("default/")
    # A name that is not valid UTF-8 still gives valid JSON.
    status, _, body = s.request("POST", "/append?namespace=bad%FFutf8", b"x")
    assert status == 200 and json.loads(body)["file"].startswith("bad\ufffdutf8/")
    ok("namespaces and query parsing")


def test_bad_input(s):
    before = sorted(os.listdir(os.path.dirname(s.root)))
    for ns in ["..", ".", ".hidden", "a/b", "..%2Fescape", "%2Fetc", "x" * 300, "a%00b"]:
        for method, path, body in [("POST", "/append?namespace=" + ns, b"v"),
                                   ("GET", "/get?offset=0&namespace=" + ns, None),
                                   ("POST", "/getMulti?namespace=" + ns, b"\0" * 8),
                                   ("GET", "/scan?namespace=" + ns, None),
                                   ("GET", "/close?namespace=" + ns, None)]:
            status, ctype, text = s.request(method, path, body)
            assert status == 500, (path, status, text)
            assert ctype.startswith("text/plain") and text, (path, text)
    assert sorted(os.listdir(os.path.dirname(s.root))) == before
    assert not os.path.exists(os.path.join(os.path.dirname(s.root), "escape"))
    a = append(s, b"0123456789", ns="bad")
    for off in ["", "abc", "-1", "1.5", "%201", "+1", "18446744073709551616", "0x10"]:
        status, _, text = get(s, off, ns="bad")
        assert status == 500 and text.startswith(b"bad offset"), (off, status, text)
    # The messages quote the offset (escaped, cut at 64 bytes).
    for off, want in [("", b'bad offset: "" is not a number'),
                      ("a%22b", b'bad offset: "a\\"b" is not a decimal number'),
                      ("9" * 70, b'bad offset: "' + b"9" * 64 + b'" is out of range'),
                      ("18446744073709551616",
                       b'bad offset: "18446744073709551616" is out of range')]:
        status, _, text = get(s, off, ns="bad")
        assert status == 500 and text == want, (off, status, text)
    bucket = a["offset"] >> 50
    for off in [a["offset"] + 1, a["offset"] + 5, a["offset"] + 10**6,
                (bucket ^ 1) << 50 | 12345, 8191 << 50, (2**64 - 1)]:
        status, _, text = get(s, off, ns="bad")
        assert status == 500 and text, (off, status, text)
    # getMulti: items that fail are left out (rochefort v0.5), others stay.
    status, data = get_multi(s, [a["offset"] + 1, a["offset"], 2**64 - 1], ns="bad")
    assert status == 200 and split_multi(data) == [b"0123456789"]
    status, data = get_multi(s, ["x", a["offset"], "", "-3", " %d\n" % a["offset"]],
                             ns="bad", csv=True)
    assert status == 200 and split_multi(data) == [b"0123456789"] * 2
    status, _, text = s.request("POST", "/getMulti?namespace=bad", b"\0" * 12)
    assert status == 500 and b"not multiple of 8" in text
    # Garbage on the wire: answered (or dropped), never a crash.
    for junk in [b"\x00\xff" * 100 + b"\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"POST /append HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                 b"POST /append HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
                 b"POST /append HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                 b"GET /get?offset=" + b"9" * 20000 + b" HTTP/1.1\r\n\r\n",
                 b"GET /get?" + b"&" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"]:
        raw(s.port, junk, timeout=5)
    assert get(s, a["offset"], ns="bad")[2] == b"0123456789"
    assert s.proc.poll() is None
    ok("bad offsets, bad names, bad requests")


def test_framing(s):
    # Chunked upload.
    c = s.conn()
    c.request("POST", "/append?namespace=chunked", body=iter([b"hel", b"lo ", b"world"]),
              encode_chunked=True)
    r = c.getresponse()
    off = json.loads(r.read())["offset"]
    assert get(s, off, ns="chunked")[2] == b"hello world"
    # Chunked getMulti body.
    body = struct.pack("<QQ", off, off)
    c.request("POST", "/getMulti?namespace=chunked", body=iter([body[:3], body[3:]]),
              encode_chunked=True)
    r = c.getresponse()
    assert split_multi(r.read()) == [b"hello world"] * 2
    c.close()
    # Expect: 100-continue: the server says 100 before the body is sent.
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    sock.sendall(b"POST /append?namespace=expect HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                 b"Expect: 100-continue\r\n\r\n")
    first = sock.recv(4096)
    assert first.startswith(b"HTTP/1.1 100"), first
    sock.sendall(b"abcde")
    resp = b""
    while b"}" not in resp:
        resp += sock.recv(4096)
    assert resp.startswith(b"HTTP/1.1 200"), resp
    off = json.loads(resp.split(b"\r\n\r\n", 1)[1])["offset"]
    sock.close()
    assert get(s, off, ns="expect")[2] == b"abcde"
    # Keep-alive: many requests of each kind on one connection.
    c = s.conn()
    c.connect()
    sock = c.sock
    offs = []
    for i in range(200):
        c.request("POST", "/append?namespace=keep&id=%d" % (i % 7), body=b"v%d" % i)
        offs.append(json.loads(c.getresponse().read())["offset"])
    for i, o in enumerate(offs):
        c.request("GET", "/get?namespace=keep&offset=%d" % o)
        assert c.getresponse().read() == b"v%d" % i
    c.request("POST", "/getMulti?namespace=keep", body=struct.pack("<200Q", *offs))
    assert split_multi(c.getresponse().read()) == [b"v%d" % i for i in range(200)]
    c.request("GET", "/scan?namespace=keep")
    assert len(c.getresponse().read()) == sum(12 + len(b"v%d" % i) for i in range(200))
    c.request("GET", "/get?namespace=keep&offset=1")  # an error keeps the connection too
    r = c.getresponse()
    assert r.status == 500
    r.read()
    c.request("GET", "/close?namespace=keep")
    assert c.getresponse().read() == b'{"success":true}'
    assert c.sock is sock
    c.close()
    # Pipelined requests on one socket.
    o = offs[3]
    req = b"GET /get?namespace=keep&offset=%d HTTP/1.1\r\nHost: x\r\n\r\n" % o
    resp = raw(s.port, req * 3 + b"GET /close?namespace=keep HTTP/1.1\r\nHost: x\r\n"
               b"Connection: close\r\n\r\n")
    assert resp.count(b"HTTP/1.1 200") == 4 and resp.count(b"\r\n\r\nv3") == 3, resp
    ok("chunked uploads, 100-continue, keep-alive, pipelining")


def test_empty_and_big(s):
    e = append(s, b"", ns="sizes")
    status, ctype, body = get(s, e["offset"], ns="sizes")
    assert (status, body) == (200, b"")
    status, data = get_multi(s, [e["offset"]] * 3, ns="sizes")
    assert data == b"\0\0\0\0" * 3
    # A 100 MiB value: in, out by get, getMulti and scan.
    big = random.Random(7).randbytes(100 << 20)
    digest = hashlib.sha256(big).hexdigest()
    t = time.time()
    b = append(s, big, ns="sizes", ident="big")
    t_in = time.time() - t
    status, _, body = get(s, b["offset"], ns="sizes")
    assert status == 200 and len(body) == len(big) and hashlib.sha256(body).hexdigest() == digest
    status, data = get_multi(s, [e["offset"], b["offset"]], ns="sizes")
    assert split_multi(data) == [b"", big]
    del data, body
    frames = dict(scan(s, ns="sizes"))
    assert frames[e["offset"]] == b"" and hashlib.sha256(frames[b["offset"]]).hexdigest() == digest
    del frames
    ok("empty values, a 100 MiB value (append %.2fs)" % t_in)


def test_oversized(tmp):
    s = Server(os.path.join(tmp, "small"), "--max-body", "1M")
    try:
        assert append(s, b"x" * (1 << 20), ns="s")  # exactly the limit
        # A length over the limit is refused as soon as the headers are in
        # (the connection then closes: a client still sending may see EPIPE).
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"POST /append?namespace=s HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: %d\r\n\r\n" % ((1 << 20) + 1))
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 413") and b"too large" in first, first
        sock.close()
        # Chunked: no length up front; refused once past the limit.
        c = s.conn()
        c.request("POST", "/append?namespace=s", body=iter([b"y" * 65536] * 20),
                  encode_chunked=True)
        r = c.getresponse()
        assert r.status == 413, r.status
        r.read()
        c.close()
        # Expect: 100-continue with a length over the limit: 413, no 100.
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"POST /append?namespace=s HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: 999999999\r\nExpect: 100-continue\r\n\r\n")
        first = sock.recv(4096)
        assert first.startswith(b"HTTP/1.1 413"), first
        sock.close()
        recs = scan(s, ns="s")
        assert len(recs) == 1, len(recs)
        assert s.proc.poll() is None
    finally:
        assert s.stop() == 0
    ok("oversized bodies: 413, nothing stored")


def test_scan_disconnect(s):
    value = b"z" * 10000
    c = s.conn()
    for i in range(3000):
        c.request("POST", "/append?namespace=big-scan&id=%d" % (i % 8), body=value)
        c.getresponse().read()
    c.close()
    time.sleep(0.2)
    fds = s.open_fds()
    for i in range(30):
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
        sock.sendall(b"GET /scan?namespace=big-scan HTTP/1.1\r\nHost: x\r\n\r\n")
        got = 0
        while got < 100000 * (1 + i % 3):
            b = sock.recv(65536)
            assert b
            got += len(b)
        if i % 2:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # mid-scan (every other one with a reset)
    # The server frees each scan: answers go on, descriptors do not pile up.
    assert len(scan(s, ns="big-scan")) == 3000
    deadline = time.time() + 10
    while s.open_fds() > fds + 2 and time.time() < deadline:
        time.sleep(0.1)
    assert s.open_fds() <= fds + 2, (fds, s.open_fds())
    assert s.proc.poll() is None
    ok("clients that disconnect mid-scan")


def test_shared_reader(s):
    offs = {}
    for i in range(50):
        v = b"shared-%d" % i
        offs[append(s, v, ns="shared", ident=str(i % 5))["offset"]] = v
    out = subprocess.run([READER, s.root, "shared"], capture_output=True, text=True, check=True)
    seen = {}
    for line in out.stdout.splitlines():
        off, n, hexv = (line.split(" ") + [""])[:3]
        seen[int(off)] = bytes.fromhex(hexv)
    assert seen == offs, (len(seen), len(offs))
    # A second writer is refused; a read-only server serves beside the writer.
    p = subprocess.run([SERVE, "--root", s.root, "--bind", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "locked" in p.stderr, p.stderr
    ro = Server(s.root, "--read-only")
    try:
        for o, v in list(offs.items())[:10]:
            assert get(ro, o, ns="shared")[2] == v
        v = b"after the reader opened"
        o = append(s, v, ns="shared")["offset"]
        assert get(ro, o, ns="shared")[2] == v  # sees the writer's new appends
        status, _, text = ro.request("POST", "/append?namespace=shared", b"x")
        assert status == 500 and b"read-only" in text, text
    finally:
        assert ro.stop() == 0
    ok("a store shared with readers in other processes")


def test_sigterm_under_load(tmp):
    root = os.path.join(tmp, "sigterm")
    s = Server(root)
    acked = []  # (offset, value) of every append answered 200
    lock = threading.Lock()
    stop = threading.Event()
    errors = []

    def writer(n):
        i = 0
        c = None
        while not stop.is_set():
            v = b"w%d-%d-" % (n, i) + b"p" * (i % 300)
            try:
                if c is None:
                    c = s.conn(timeout=10)
                c.request("POST", "/append?namespace=load&id=%d" % (i % 13), body=v)
                r = c.getresponse()
                body = r.read()
                if r.status == 200:
                    with lock:
                        acked.append((json.loads(body)["offset"], v))
                else:
                    errors.append((r.status, body))
                if r.getheader("Connection", "").lower() == "close":
                    c.close()
                    c = None
            except (OSError, http.client.HTTPException):
                if c:
                    c.close()
                c = None
                if s.proc.poll() is not None:
                    return
                time.sleep(0.001)
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    with lock:
        before = len(acked)
    rc = s.stop(signal.SIGTERM)
    stop.set()
    for t in threads:
        t.join()
    assert rc == 0, (rc, s.log)
    assert before > 100, before
    assert not errors, errors[:3]
    assert any("stopped" in line for line in s.log), s.log
    # Nothing lost: every append answered 200 is there, byte for byte.
    out = subprocess.run([READER, root, "load"], capture_output=True, text=True, check=True)
    seen = {}
    for line in out.stdout.splitlines():
        off, n, hexv = (line.split(" ") + [""])[:3]
        seen[int(off)] = bytes.fromhex(hexv)
    for off, v in acked:
        assert seen.get(off) == v, off
    ok("SIGTERM under load: exit 0, %d acknowledged appends all there (%d records)"
       % (len(acked), len(seen)))


def test_long_request_finishes_on_sigterm(tmp):
    # A request in flight when SIGTERM comes is finished, not cut.
    root = os.path.join(tmp, "drain")
    s = Server(root)
    big = b"q" * (8 << 20)
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    sock.sendall(b"POST /append?namespace=d HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                 % len(big))
    sock.sendall(big[:1000])
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert s.proc.poll() is None  # waiting for the request in flight
    sock.sendall(big[1000:])
    resp = b""
    while b"}" not in resp:
        b = sock.recv(4096)
        assert b, resp
        resp += b
    assert resp.startswith(b"HTTP/1.1 200") and b"Connection: close" in resp, resp
    sock.close()
    assert s.proc.wait(30) == 0
    out = subprocess.run([READER, root, "d"], capture_output=True, text=True, check=True)
    assert len(out.stdout.splitlines()) == 1
    ok("SIGTERM waits for the request in flight")


def test_bind_every_interface(tmp):
    """--bind :PORT is every interface, IPv6 and IPv4, as Go's ":8000" (one
    dual-stack socket): rochefort's JS suite asks http://localhost:8002,
    which may resolve to ::1 or 127.0.0.1. IPv4 only on a host without IPv6."""
    root = os.path.join(tmp, "any")
    proc = subprocess.Popen([SERVE, "--root", root, "--bind", ":0", "--threads", "2"],
                            stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()
        m = re.search(r"listening on http://(\[::\]|0\.0\.0\.0):(\d+) ", line)
        assert m, line
        port = int(m.group(2))
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
            have_v6 = True
        except OSError:
            have_v6 = False
        assert m.group(1) == ("[::]" if have_v6 else "0.0.0.0"), line
        hosts = ["127.0.0.1"] + (["::1"] if have_v6 else [])
        for i, host in enumerate(hosts):
            c = http.client.HTTPConnection(host, port, timeout=30)
            c.request("POST", "/append?namespace=any", body=b"v%d" % i)
            r = c.getresponse()
            assert r.status == 200, (host, r.status, r.read())
            off = json.loads(r.read())["offset"]
            c.request("GET", "/get?namespace=any&offset=%d" % off)
            r = c.getresponse()
            assert r.status == 200 and r.read() == b"v%d" % i, host
            c.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ok("--bind :PORT answers on " + " and ".join(hosts))


def main():
    try:
        s = Server(os.path.join(TMP, "store"), "--buckets", "4")
        try:
            test_endpoints(s)
            test_namespaces_and_query(s)
            test_bad_input(s)
            test_framing(s)
            test_empty_and_big(s)
            test_scan_disconnect(s)
            test_shared_reader(s)
        finally:
            t = time.time()
            rc = s.stop()
        assert rc == 0, (rc, s.log)
        # Nothing counted in flight after all that (refused requests included):
        # the stop does not wait out its grace period.
        assert time.time() - t < 5 and not any("cut short" in l for l in s.log), s.log
        ok("SIGTERM when idle: exit 0 at once")
        test_oversized(TMP)
        test_bind_every_interface(TMP)
        test_sigterm_under_load(TMP)
        test_long_request_finishes_on_sigterm(TMP)
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
    print("all serve tests passed")


if __name__ == "__main__":
    main()
