#!/usr/bin/env python3
"""The WebSocket hub's figures (docs/benchmarks.md, "Messaging"):

- fan-out: one group room of 100 members, each with a connection; the
  owner posts a message (POST /rooms/{id}/messages) and waits until all
  100 have it; latency from sending the POST to each receipt, p50/p99.
  Baseline: the POST's own round trip with nobody connected.
- rate: POSTERS threads post into that room for SECONDS with keep-alive
  connections; messages per second with the 100 members connected and
  reading, against the same posting with no WebSocket connected.
- idle: IDLE connections that said hello and then sit still; stintd's RSS
  before and after, and per connection.

Starts its own stintd (a release build) on a free loopback port with a
temporary data dir. Standard library only. Prints key=value lines.

usage: bench/ws.py --stintd BUILD/server/stintd [--members 100] [--messages 200]
                   [--posters 8] [--seconds 5] [--idle 10000]
"""
import argparse
import http.client
import json
import os
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "integration"))
from wsclient import TEXT, WS, handshake_request  # noqa: E402


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] if v else float("nan")


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Stintd:
    def __init__(self, exe):
        self.data = tempfile.mkdtemp(prefix="stint-bench-ws-")
        self.proc = subprocess.Popen(
            [exe, "--listen", "127.0.0.1:0", "--data", self.data, "--threads", "4",
             "--log-level", "warn"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        while line and not line.startswith("listening on "):
            line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("stintd did not start")
        self.port = int(line.split()[-1].rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)
        shutil.rmtree(self.data, ignore_errors=True)

    def call(self, method, path, body=None, token=None, conn=None):
        c = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        c.request(method, "/api/v1/" + path, body=json.dumps(body) if body is not None else None,
                  headers=h)
        r = c.getresponse()
        data = r.read()
        if not conn:
            c.close()
        return r.status, (json.loads(data) if data else None)

    def user(self, role, name):
        email = f"{name}@bench.example"
        st, _ = self.call("POST", "signup", {"email": email, "password": "benchmarking hub",
                                             "name": name, "role": role})
        assert st == 201, st
        st, r = self.call("POST", "login", {"email": email, "password": "benchmarking hub"})
        assert st == 200, st
        return {"token": r["token"], "id": r["user"]["id"], "email": email}

    def websockets(self):
        return self.call("GET", "health")[1]["websockets"]

    def wait_websockets(self, n, timeout=60):
        deadline = time.monotonic() + timeout
        while self.websockets() != n:
            if time.monotonic() > deadline:
                raise SystemExit(f"stintd holds {self.websockets()} websockets, not {n}")
            time.sleep(0.05)


class Receiver(threading.Thread):
    """Reads every member's socket; records when each 'bench N' message arrives."""

    def __init__(self, socks):
        super().__init__(daemon=True)
        self.sel = selectors.DefaultSelector()
        self.bufs = {}
        for s in socks:
            s.setblocking(False)
            self.sel.register(s, selectors.EVENT_READ)
            self.bufs[s] = b""
        self.cond = threading.Condition()
        self.got = {}       # n -> [receipt times]
        self.count = 0
        self.stop = False
        self.closed = 0

    def run(self):
        while not self.stop:
            for key, _ in self.sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    d = s.recv(1 << 18)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    d = b""
                if not d:
                    self.sel.unregister(s)
                    self.closed += 1
                    continue
                now = time.perf_counter()
                self.bufs[s] = self.parse(self.bufs[s] + d, now)

    def parse(self, b, now):
        done = []
        while len(b) >= 2:
            n, off = b[1] & 0x7F, 2
            if n == 126:
                if len(b) < 4:
                    break
                n, off = int.from_bytes(b[2:4], "big"), 4
            elif n == 127:
                if len(b) < 10:
                    break
                n, off = int.from_bytes(b[2:10], "big"), 10
            if len(b) < off + n:
                break
            if b[0] & 0x0F == TEXT:
                p = b[off:off + n]
                if b'"message.created"' in p:
                    text = json.loads(p)["message"]["text"]
                    if text.startswith("bench "):
                        done.append(int(text.split()[1]))
            b = b[off + n:]
        if done:
            with self.cond:
                for k in done:
                    self.got.setdefault(k, []).append(now)
                self.count += len(done)
                self.cond.notify_all()
        return b

    def wait_count(self, n, timeout=60):
        with self.cond:
            return self.cond.wait_for(lambda: self.count >= n, timeout)


def post_rate(srv, room, token, posters, seconds, first):
    """Messages per second from `posters` threads with keep-alive connections."""
    counts = [0] * posters
    stop_at = time.monotonic() + seconds

    def run(i):
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
        k = 0
        while time.monotonic() < stop_at:
            st, _ = srv.call("POST", f"rooms/{room}/messages",
                             {"text": f"bench {first + i * 1000000 + k} rate"}, token, conn=c)
            assert st == 201, st
            k += 1
        counts[i] = k
        c.close()

    ths = [threading.Thread(target=run, args=(i,)) for i in range(posters)]
    t0 = time.monotonic()
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    return sum(counts), sum(counts) / (time.monotonic() - t0)


def bench_fanout(srv, members, messages, posters, seconds):
    owner = srv.user("client", "owner")
    people = [srv.user("freelancer", f"member{i}") for i in range(members)]
    for p in people:
        st, _ = srv.call("POST", "contracts", {"freelancer_email": p["email"], "title": "Bench",
                                               "hourly_rate_cents": 4500, "currency": "USD"},
                         owner["token"])
        assert st == 201, st
    st, r = srv.call("POST", "rooms", {"title": "Everyone", "member_ids": [p["id"] for p in people]},
                     owner["token"])
    assert st == 201, (st, r)
    room = r["room"]["id"]

    # The baseline first: the POST's round trip with nobody connected.
    base = []
    for k in range(messages):
        t0 = time.perf_counter()
        st, _ = srv.call("POST", f"rooms/{room}/messages", {"text": f"base {k}"}, owner["token"])
        base.append(time.perf_counter() - t0)
    n_base, rate_base = post_rate(srv, room, owner["token"], posters, seconds, 10 ** 9)

    socks = []
    for p in people:
        ws = WS(srv.port, timeout=30)
        ws.hello(p["token"])
        socks.append(ws.sock)
    recv = Receiver(socks)
    recv.start()
    lat, post_ms = [], []
    for k in range(messages):
        t0 = time.perf_counter()
        st, _ = srv.call("POST", f"rooms/{room}/messages", {"text": f"bench {k}"}, owner["token"])
        post_ms.append(time.perf_counter() - t0)
        assert st == 201, st
        if not recv.wait_count((k + 1) * members):
            raise SystemExit(f"message {k}: {recv.count} receipts, not {(k + 1) * members}")
        lat += [t - t0 for t in recv.got[k]]
    print(f"fanout members={members} messages={messages} "
          f"p50_ms={pct(lat, 50) * 1000:.2f} p99_ms={pct(lat, 99) * 1000:.2f} "
          f"post_p50_ms={pct(post_ms, 50) * 1000:.2f} "
          f"baseline_post_p50_ms={pct(base, 50) * 1000:.2f} "
          f"baseline_post_p99_ms={pct(base, 99) * 1000:.2f}", flush=True)

    before = recv.count
    n, rate = post_rate(srv, room, owner["token"], posters, seconds, 0)
    recv.wait_count(before + n * members, timeout=120)
    delivered = recv.count - before
    print(f"rate posters={posters} members={members} rate={rate:.0f} "
          f"baseline_rate={rate_base:.0f} delivered={delivered} expected={n * members} "
          f"closed={recv.closed}", flush=True)
    recv.stop = True
    recv.join()
    for s in socks:
        s.close()
    srv.wait_websockets(0)
    return owner


def bench_idle(srv, token, n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 100:
        raise SystemExit(f"RLIMIT_NOFILE is {hard}: too low for {n} connections")
    rss0 = rss_kb(srv.proc.pid)
    hello = WS.frame(TEXT, json.dumps({"type": "hello", "token": token}).encode())
    sel = selectors.DefaultSelector()
    socks, pending = [], {}
    t0 = time.monotonic()
    opened = 0
    # At most 256 handshakes in flight; the handshake and hello go out together.
    while opened < n or pending:
        while opened < n and len(pending) < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", srv.port))
            req, _ = handshake_request(port=srv.port)
            pending[s] = [req + hello, b""]
            sel.register(s, selectors.EVENT_WRITE)
            opened += 1
        for key, ev in sel.select(timeout=5):
            s = key.fileobj
            st = pending[s]
            if ev & selectors.EVENT_WRITE:
                sent = s.send(st[0])
                st[0] = st[0][sent:]
                if not st[0]:
                    sel.modify(s, selectors.EVENT_READ)
                continue
            d = s.recv(65536)
            if not d:
                raise SystemExit("a connection closed during the handshake")
            st[1] += d
            if b'"welcome"' in st[1]:
                sel.unregister(s)
                del pending[s]
                socks.append(s)
    took = time.monotonic() - t0
    srv.wait_websockets(n)
    time.sleep(1)  # let freed handshake buffers settle before reading RSS; not synchronisation
    rss1 = rss_kb(srv.proc.pid)
    print(f"idle connections={n} rss_before_kb={rss0} rss_kb={rss1} "
          f"per_conn_kb={(rss1 - rss0) / n:.1f} open_s={took:.1f}", flush=True)
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stintd", required=True)
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--posters", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--idle", type=int, default=10000)
    a = ap.parse_args()
    srv = Stintd(a.stintd)
    try:
        owner = bench_fanout(srv, a.members, a.messages, a.posters, a.seconds)
        if a.idle:
            bench_idle(srv, owner["token"], a.idle)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
