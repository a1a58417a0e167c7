"""stint.exe, the Windows command line, verified under Wine 8 against a real
stintd on loopback: the sign-in token goes to the Credential Manager and to
no file, the laptop commands work end to end, and bad input, a wrong server
and help behave. What only real Windows can show (its certificate store, a
proxy, the real Credential Manager UI) is in docs/windows.md.
"""
import http.client
import http.server
import json
import os
import socket
import struct
import threading
import time

import wine_env as w
from harness import Server, tap


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stint(srv, *args, input=None, check=False):
    argv = [w.STINT_EXE]
    if srv:
        argv += ["--server", srv.url]
    return w.run(argv + list(args), input=input, timeout=90, check=check)


def files_holding(root, needle):
    """Paths of the files under root whose bytes contain needle."""
    found = []
    for d, _, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            try:
                with open(p, "rb") as f:
                    if needle in f.read():
                        found.append(p)
            except OSError:
                pass
    return found


def setup():
    w.need_file(w.STINT_EXE, "stint.exe")
    w.prefix()
    w.reset_user_state()
    srv = Server()
    client = srv.user("client")
    fl = srv.user("freelancer")
    contract = srv.contract(client, fl, tags=["design", "support"])
    return srv, fl, contract


def login(srv, fl):
    r = stint(srv, "login", "--email", fl["email"], "--password-stdin",
              input=(fl["password"] + "\n").encode())
    assert r.returncode == 0, r
    return r


@tap.test
def test_login_puts_the_token_in_the_credential_manager_and_in_no_file_verified_under_wine_8():
    srv, fl, _ = setup()
    login(srv, fl)
    creds = w.credentials()
    assert any(c.endswith("stint:" + srv.url) for c in creds), creds
    auth = os.path.join(w.appdata(), "stint", "auth.json")
    assert os.path.exists(auth), "auth.json (server and email) is in %APPDATA%\\stint"
    with open(auth) as f:
        text = f.read()
    assert '"token_in"' in text and fl["email"] in text, text
    # The token the server gave stint.exe: whoami proves it works; no file holds it.
    r = stint(None, "whoami")
    assert r.returncode == 0 and fl["email"] in r.stdout, r
    # auth.json would hold the token under "token": no file under the
    # profile's app folders has that key.
    for root in (w.appdata(), w.localappdata()):
        assert not files_holding(root, b'"token":'), files_holding(root, b'"token":')


@tap.test
def test_the_laptop_commands_work_end_to_end_verified_under_wine_8():
    srv, fl, contract = setup()
    login(srv, fl)
    cid = contract["id"]
    r = stint(None, "contracts")
    assert r.returncode == 0 and cid in r.stdout, r
    now = int(time.time())
    if now % 600 < 3:
        time.sleep(3)
        now = int(time.time())
    slot = now - now % 600
    start = time.strftime("%Y-%m-%d %H:%M", time.gmtime(slot))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    r = stint(None, "manual", cid, "--start", start, "--end", end, "--tz", "UTC",
              "--memo", "Call with Carla", "--tag", "support")
    assert r.returncode == 0 and "manual time" in r.stdout, r
    today = time.strftime("%Y-%m-%d", time.gmtime(slot))
    r = stint(None, "--json", "diary", cid, "--date", today, "--tz", "UTC")
    assert r.returncode == 0, r
    segs = json.loads(r.stdout)["segments"]
    assert len(segs) == 1 and "manual" in segs[0]["flags"], segs
    seg = segs[0]["id"]
    r = stint(None, "diary", cid, "--date", today, "--tz", "UTC")
    assert r.returncode == 0 and seg in r.stdout and "Call with Carla" in r.stdout, r
    # Non-ASCII text reaches the server and comes back intact through the console.
    r = stint(None, "memo", seg, "Réunion – logo ✓")
    assert r.returncode == 0, r
    r = stint(None, "tag", seg, "design")
    assert r.returncode == 0, r
    r = stint(None, "--json", "diary", cid, "--date", today, "--tz", "UTC")
    s1 = json.loads(r.stdout)["segments"][0]
    assert s1["memo"] == "Réunion – logo ✓" and s1["tags"] == ["design"], s1
    r = stint(None, "diary", cid, "--date", today, "--tz", "UTC")
    assert "Réunion – logo ✓" in r.stdout, r
    r = stint(None, "delete", seg, "--yes")
    assert r.returncode == 0, r
    r = stint(None, "--json", "diary", cid, "--date", today, "--tz", "UTC")
    assert json.loads(r.stdout)["segments"] == [], r
    r = stint(None, "status")
    assert r.returncode == 0, r


@tap.test
def test_logout_removes_the_credential_verified_under_wine_8():
    srv, fl, _ = setup()
    login(srv, fl)
    assert w.credentials(), "a credential after login"
    r = stint(None, "logout")
    assert r.returncode == 0, r
    assert not any("stint:" in c for c in w.credentials()), w.credentials()
    r = stint(None, "whoami")
    assert r.returncode == 3, r


@tap.test
def test_bad_input_and_a_wrong_server_give_clear_errors_verified_under_wine_8():
    srv, fl, contract = setup()
    r = stint(srv, "login", "--email", fl["email"], "--password-stdin",
              input=b"wrong password\n")
    assert r.returncode != 0 and "stint:" in r.stderr, r
    assert not w.credentials(), w.credentials()
    login(srv, fl)
    r = stint(None, "manual", contract["id"], "--start", "yesterday-ish")
    assert r.returncode == 2 and "stint: manual:" in r.stderr, r
    r = stint(None, "track")
    assert r.returncode == 2 and "--contract" in r.stderr, r
    r = stint(None, "no-such-command")
    assert r.returncode == 2 and "unknown command" in r.stderr, r
    port = free_port()
    r = stint(None, "--server", f"http://127.0.0.1:{port}", "login", "--email", fl["email"],
              "--password-stdin", input=(fl["password"] + "\n").encode())
    assert r.returncode == 1 and "cannot reach" in r.stderr, r
    r = stint(None, "--server", "ftp://example", "whoami")
    assert r.returncode == 2, r


class Proxy(http.server.ThreadingHTTPServer):
    """A forward HTTP proxy on loopback that sends every request to one stintd,
    whatever host the URL names, and remembers the request lines."""

    def __init__(self, target_port):
        self.target = target_port
        self.seen = []
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def relay(self):
        self.server.seen.append((self.command, self.path))
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        path = self.path.split("://", 1)[1]
        path = path[path.index("/"):]
        c = http.client.HTTPConnection("127.0.0.1", self.server.target, timeout=30)
        c.request(self.command, path, body=body, headers={
            k: v for k, v in self.headers.items()
            if k.lower() not in ("proxy-connection", "connection", "host")})
        r = c.getresponse()
        data = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = relay

    def log_message(self, *args):
        pass


INTERNET_SETTINGS = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections"


def set_windows_proxy(proxy, bypass):
    """Sets the proxy as Windows' settings do: the DefaultConnectionSettings
    blob (version, counter, flags DIRECT|PROXY, then length-prefixed proxy,
    bypass list and an empty PAC URL)."""
    p, b = proxy.encode(), bypass.encode()
    blob = (struct.pack("<III", 0x46, 1, 3) + struct.pack("<I", len(p)) + p
            + struct.pack("<I", len(b)) + b + struct.pack("<I", 0) + bytes(32))
    w.run(["reg", "add", INTERNET_SETTINGS, "/v", "DefaultConnectionSettings", "/t",
           "REG_BINARY", "/d", blob.hex(), "/f"])


@tap.test
def test_a_proxy_set_in_windows_is_honoured_verified_under_wine_8():
    srv, fl, contract = setup()
    proxy = Proxy(srv.port)
    try:
        set_windows_proxy(f"127.0.0.1:{proxy.server_address[1]}", "<local>")
        # A name that resolves nowhere: only the proxy can reach this server.
        far = "http://stint.invalid"
        r = w.run([w.STINT_EXE, "--server", far, "login", "--email", fl["email"],
                   "--password-stdin"], input=(fl["password"] + "\n").encode(), check=False)
        assert r.returncode == 0, r
        assert ("POST", far + "/api/v1/login") in proxy.seen, proxy.seen
        r = stint(None, "whoami")
        assert r.returncode == 0 and fl["email"] in r.stdout, r
        # The tracker's uploads go through it too (tracker/net.c).
        n = len(proxy.seen)
        r = stint(None, "track", "--contract", contract["id"], "--memo", "Via proxy",
                  "--for", "3s")
        assert r.returncode == 0 and "everything is on the server" in r.stdout, r
        uploads = [p for m, p in proxy.seen[n:] if m in ("PUT", "POST") and "/segments" in p]
        assert uploads, proxy.seen[n:]
        # Loopback never goes through the proxy.
        n = len(proxy.seen)
        r = w.run([w.STINT_EXE, "--server", srv.url, "--json", "contracts"], check=False)
        assert len(proxy.seen) == n, proxy.seen[n:]
    finally:
        w.run(["reg", "delete", INTERNET_SETTINGS, "/v", "DefaultConnectionSettings", "/f"],
              check=False)
        proxy.shutdown()


@tap.test
def test_help_lists_only_the_laptop_commands_verified_under_wine_8():
    w.need_file(w.STINT_EXE, "stint.exe")
    r = stint(None, "help")
    assert r.returncode == 0, r
    listed = {line.split()[0] for line in r.stdout.splitlines()
              if line.startswith("  ") and line.strip() and not line.strip().startswith("-")}
    laptop = {"login", "logout", "whoami", "contracts", "track", "status", "sync",
              "screenshot", "diary", "manual", "memo", "tag", "delete", "help"}
    assert laptop <= listed, (laptop - listed, r.stdout)
    for linux_only in ("signup", "invoice", "timesheet", "approve", "rooms", "send", "watch",
                       "files", "download", "_upload"):
        assert linux_only not in listed, (linux_only, r.stdout)
    r = stint(None, "--version")
    assert r.returncode == 0 and r.stdout.startswith("stint "), r
    r = stint(None, "_upload")
    assert r.returncode == 2, r


tap.main()
