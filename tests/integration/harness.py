"""Shared helpers for the integration tests: start a real stintd on a free
loopback port with a temporary data dir, talk HTTP to it, run the CLI, and
report results as TAP.

Standard library only. Every test file does:

    from harness import Server, tap
    @tap.test
    def test_something(): ...
    tap.main()
"""
import contextlib
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

BUILD = os.environ.get("STINT_BUILD_ROOT") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build-test")
STINTD = os.path.join(BUILD, "server", "stintd")
STINT = os.path.join(BUILD, "cli", "stint")


class Skip(Exception):
    """Raised by a test that cannot run here; reported as 'ok N - name # SKIP reason'."""


class Tap:
    """A minimal TAP producer: one 'ok'/'not ok' line per test function."""

    def __init__(self):
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def main(self):
        only = sys.argv[1:]
        tests = [t for t in self.tests if not only or t.__name__ in only]
        print(f"1..{len(tests)}", flush=True)
        failed = 0
        for i, t in enumerate(tests, 1):
            name = t.__name__
            try:
                t()
                print(f"ok {i} - {name}", flush=True)
            except Skip as e:
                print(f"ok {i} - {name} # SKIP {e}", flush=True)
            except Exception:  # noqa: BLE001 - a test failure of any kind
                failed += 1
                print(f"not ok {i} - {name}", flush=True)
                for line in traceback.format_exc().splitlines():
                    print(f"# {line}", flush=True)
            finally:
                Server.stop_all()
        Server.stop_all(shared_too=True)
        sys.exit(1 if failed else 0)


tap = Tap()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self):
        try:
            return self.json["error"]["code"]
        except (TypeError, KeyError, ValueError):
            return None

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """A stintd process with its own data dir; stopped at the end of each test."""

    running = []

    def __init__(self, *extra, data=None, segment_s=None, env=None, shared=False):
        self.data = data or tempfile.mkdtemp(prefix="stint-it-")
        self.owns_data = data is None
        # A shared server outlives each test (for a fixture built once per file);
        # Tap.main stops it after the last test.
        self.shared = shared
        self.extra = list(extra)
        if segment_s:
            self.extra += ["--segment-seconds", str(segment_s)]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.start()

    def start(self):
        args = [STINTD, "--listen", "127.0.0.1:0", "--data", self.data,
                "--threads", "8", "--log-level", "warn"] + self.extra
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env, text=True)
        line = self.proc.stdout.readline()
        while line and not line.startswith("listening on "):
            line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"stintd did not start: {err}")
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])
        Server.running.append(self)
        return self

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        self.proc = None
        if self in Server.running:
            Server.running.remove(self)

    def kill9(self):
        self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    @classmethod
    def stop_all(cls, shared_too=False):
        for s in list(cls.running):
            if s.shared and not shared_too:
                continue
            s.stop()
            if s.owns_data:
                shutil.rmtree(s.data, ignore_errors=True)

    # HTTP

    def request(self, method, path, body=None, token=None, headers=None, raw=None,
                timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        data = None
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        if token:
            h["Authorization"] = f"Bearer {token}"
        if not path.startswith("/"):
            path = "/api/v1/" + path
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, dict(r.getheaders()), r.read())
        finally:
            conn.close()

    def get(self, path, token=None, **kw):
        return self.request("GET", path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return self.request("POST", path, body=body, token=token, **kw)

    def put(self, path, body=None, token=None, **kw):
        return self.request("PUT", path, body=body, token=token, **kw)

    def patch(self, path, body=None, token=None, **kw):
        return self.request("PATCH", path, body=body, token=token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, token=token, **kw)

    # Accounts and contracts

    def user(self, role, name=None, email=None, password="correct horse battery",
             timezone=None):
        """Signs up and logs in a new user; returns a dict with token, id, email."""
        email = email or f"{role}-{uuid.uuid4().hex[:10]}@example.com"
        body = {"email": email, "password": password, "name": name or role.title(),
                "role": role}
        if timezone:
            body["timezone"] = timezone
        r = self.post("signup", body)
        assert r.status == 201, r
        r = self.post("login", {"email": email, "password": password})
        assert r.status == 200, r
        return {"token": r.json["token"], "id": r.json["user"]["id"], "email": email,
                "password": password}

    def contract(self, client, freelancer, accept=True, **terms):
        body = {"freelancer_email": freelancer["email"], "title": "Work",
                "hourly_rate_cents": 4500, "currency": "USD"}
        body.update(terms)
        r = self.post("contracts", body, client["token"])
        assert r.status == 201, r
        c = r.json["contract"]
        if accept:
            r = self.post(f"contracts/{c['id']}/accept", token=freelancer["token"])
            assert r.status == 200, r
            c = r.json["contract"]
        return c

    def segment_s(self):
        return self.get("config").json["segment_s"]

    def login(self, email, password, device=None):
        """Logs in an existing account; returns its token."""
        body = {"email": email, "password": password}
        if device:
            body["device"] = device
        r = self.post("login", body)
        assert r.status == 200, r
        return r.json["token"]

    def set_clock(self, admin_token, t):
        """Moves the test clock (stintd --test-clock) to epoch seconds t."""
        r = self.post("admin/clock", {"now": rfc3339(t)}, admin_token)
        assert r.status == 200, r


def now():
    return int(time.time())


def rfc3339(t):
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_slot(segment_s, back=0):
    """The start of the slot 'back' slots before the one holding now."""
    t = now()
    return t - t % segment_s - back * segment_s


def segment_body(contract_id, start, segment_s=600, seconds=None, keys=5, mouse=7,
                 synthetic=0, memo="Working on it", tags=None, flags=None, device="dev-1",
                 screenshot=None, seg_id=None):
    """A segment upload; 'seconds' tracked in each of the ten buckets."""
    bucket = segment_s // 10
    seconds = bucket if seconds is None else seconds
    body = {
        "contract_id": contract_id,
        "device_id": device,
        "start": rfc3339(start),
        "minutes": [{"tracked_s": seconds, "keys": keys if seconds else 0,
                     "mouse": mouse if seconds else 0,
                     "synthetic": synthetic if seconds else 0} for _ in range(10)],
        "memo": memo,
        "tags": tags or [],
        "flags": flags or [],
    }
    if screenshot:
        body["screenshot"] = screenshot
    if seg_id:
        body["id"] = seg_id
    return body


def week_start(t):
    d = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    monday = (d - dt.timedelta(days=d.weekday())).replace(hour=0, minute=0, second=0)
    return int(monday.timestamp())


def parse_time(stamp):
    """Epoch seconds of an RFC 3339 UTC time such as 2026-11-23T10:20:00Z."""
    d = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    return int(d.replace(tzinfo=dt.timezone.utc).timestamp())


def image_bytes(fmt="jpg", width=64, height=48, color="red"):
    """A real image made by ImageMagick's convert: fmt is jpg, png, webp, ..."""
    r = subprocess.run(["convert", "-size", f"{width}x{height}", f"xc:{color}", f"{fmt}:-"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout, r.stderr
    return r.stdout


def run_cli(args, env=None, input=None, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([STINT] + args, capture_output=True, text=True, env=e,
                          input=input, timeout=timeout)


def admin_add(data, email="admin@example.com", name="Admin",
              password="admin password 1"):
    """Creates an admin offline ('stintd admin add') in data, before a server starts there."""
    p = subprocess.run([STINTD, "--data", data, "admin", "add", "--email", email, "--name", name,
                        "--password-stdin"], input=password + "\n", capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return {"email": email, "password": password}


def check_store(data):
    """Runs 'stintd check' on a stopped server's data dir."""
    return subprocess.run([STINTD, "--data", data, "check"], capture_output=True, text=True,
                          timeout=120)


def eq(a, b, what=""):
    assert a == b, f"{what}: expected {b!r}, got {a!r}"


# Raw HTTP, for what http.client will not send (hostile requests).

def raw_connect(port, timeout=10):
    """A TCP connection to the server, with a timeout on every operation."""
    import socket
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


class RawConn:
    """A raw connection that reads responses one by one, keeping what it has
    read past the end of one (pipelined responses) for the next."""

    def __init__(self, port=None, timeout=10, sock=None):
        self.sock = sock or raw_connect(port, timeout)
        self.buf = b""

    def send(self, data):
        """Sends bytes; False when the server has already closed its side."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, deadline):
        import socket
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return False
        self.buf += d
        return bool(d)

    def read_response(self, timeout=10):
        """One response, or None when the peer closed (or the time ran out) first."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                return None
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < n:
            if not self._fill(deadline):
                return None
        body, self.buf = self.buf[:n], self.buf[n:]
        return Response(status, headers, body)

    def closed_by_peer(self, timeout=5):
        """True when the server closes the connection within timeout (what it
        sends first is kept in the buffer)."""
        import socket
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self.sock.settimeout(left)
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not d:
                return True
            self.buf += d

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def raw_read_response(sock, timeout=10):
    """Reads one HTTP response from sock; returns a Response, or None when the
    peer closed (or the time ran out) before a whole response came."""
    return RawConn(sock=sock).read_response(timeout)


def raw_request(port, data, timeout=10):
    """Sends bytes on a new connection and reads one response (None if none came)."""
    with RawConn(port, timeout) as c:
        c.send(data)  # the server may answer and close before taking it all
        return c.read_response(timeout)


def jpeg(width=64, height=48, color="red"):
    """A real JPEG made by ImageMagick's convert."""
    r = subprocess.run(["convert", "-size", f"{width}x{height}", f"xc:{color}", "jpg:-"],
                       capture_output=True, timeout=60, check=True)
    assert r.stdout[:2] == b"\xff\xd8", "convert did not make a JPEG"
    return r.stdout


def expect_error(r, status, code=None, what=""):
    """Asserts an error response: the status (one or a tuple of them) and a JSON
    body {"error":{"code","message"}} whose code is code (when given)."""
    statuses = status if isinstance(status, (tuple, list, set)) else (status,)
    assert r is not None, f"{what}: no response"
    assert r.status in statuses, f"{what}: expected {statuses}, got {r!r}"
    try:
        body = json.loads(r.body)
    except ValueError:
        raise AssertionError(f"{what}: the body is not JSON: {r!r}") from None
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), \
        f"{what}: no error object: {r!r}"
    assert isinstance(body["error"].get("code"), str) and \
        isinstance(body["error"].get("message"), str), f"{what}: bad error object: {r!r}"
    if code:
        eq(body["error"]["code"], code, f"{what}: error code")
    return body["error"]
