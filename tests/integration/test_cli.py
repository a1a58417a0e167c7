#!/usr/bin/env python3
"""Integration test of the stint command-line client against a real stintd.

Starts stintd on a free loopback port with a temporary data dir, then drives
bin/stint as a client and a freelancer would, each with their own
XDG_CONFIG_HOME, and checks what a user or a script notices: output, exit
statuses (0 ok, 1 failed, 2 usage, 3 not signed in, 4 refused), the token
file and its mode, and that logout really revokes the token.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import json
import os
import select
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("STINT_BUILD_ROOT", "build")
STINTD = os.path.join(BUILD, "server", "stintd")
STINT = os.path.join(BUILD, "cli", "stint")

CLIENT_PW = "client-password-1"
FREELANCER_PW = "freelancer-password-1"


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, name, cond, detail=""):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}")
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}")
            for line in str(detail).splitlines():
                print(f"# {line}")
        sys.stdout.flush()
        return cond

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


class Server:
    """stintd on 127.0.0.1:0 in a temporary data dir."""

    def __init__(self, data_dir):
        self.proc = subprocess.Popen(
            [STINTD, "--listen", "127.0.0.1:0", "--data", data_dir],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if ready:
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.startswith("listening on "):
                    self.url = line.split()[-1].strip()
                    break
            elif self.proc.poll() is not None:
                break
        if not self.url:
            self.stop()
            raise RuntimeError("stintd did not print 'listening on'")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class User:
    """One person at one machine: their own config and data dirs."""

    def __init__(self, root, name, server):
        self.home = os.path.join(root, name)
        self.config = os.path.join(self.home, "config")
        self.data = os.path.join(self.home, "data")
        os.makedirs(self.home)
        self.server = server

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("STINT_") and not k.endswith("_proxy")
               and not k.endswith("_PROXY")}
        env.update(HOME=self.home, XDG_CONFIG_HOME=self.config,
                   XDG_DATA_HOME=self.data, STINT_SERVER=self.server, LC_ALL="C.UTF-8")
        return env

    def stint(self, *args, stdin=None):
        # start_new_session: no controlling terminal, so nothing can prompt.
        return subprocess.run([STINT, *args], input=stdin, capture_output=True, text=True,
                              env=self.env(), timeout=60, start_new_session=True)

    def json(self, *args, stdin=None):
        p = self.stint("--json", *args, stdin=stdin)
        if p.returncode != 0:
            raise RuntimeError(f"stint {' '.join(args)}: {p.returncode}: {p.stderr}")
        return json.loads(p.stdout)

    def auth_path(self):
        return os.path.join(self.config, "stint", "auth.json")


def show(p):
    return f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def api_status(url, path, token):
    req = urllib.request.Request(url + "/api/v1" + path,
                                 headers={"Authorization": "Bearer " + token})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    t = Tap()
    root = tempfile.mkdtemp(prefix="stint-cli-test-")
    server = None
    try:
        server = Server(os.path.join(root, "server-data"))
        url = server.url
        client = User(root, "client", url)
        freelancer = User(root, "freelancer", url)
        stranger = User(root, "stranger", url)

        # Accounts.
        p = client.stint("signup", "--email", "carla@example.com", "--name", "Carla Client",
                         "--role", "client", "--timezone", "UTC", "--password-stdin",
                         stdin=CLIENT_PW + "\n")
        t.check("signup as client", p.returncode == 0 and "carla@example.com" in p.stdout,
                show(p))
        p = freelancer.stint("signup", "--email", "fred@example.com", "--name", "Fred Free",
                             "--role", "freelancer", "--timezone", "Europe/Berlin",
                             "--password-stdin", stdin=FREELANCER_PW + "\n")
        t.check("signup as freelancer", p.returncode == 0, show(p))
        p = stranger.stint("signup", "--email", "fred@example.com", "--name", "Other",
                           "--role", "freelancer", "--password-stdin",
                           stdin="another-password-1\n")
        t.check("signup with a taken email is refused (exit 4, server's message)",
                p.returncode == 4 and p.stderr.startswith("stint: refused: "), show(p))

        p = client.stint("login", "--email", "carla@example.com", "--password-stdin",
                         stdin=CLIENT_PW + "\n")
        t.check("login with --password-stdin", p.returncode == 0 and "Carla" in p.stdout,
                show(p))
        p = freelancer.stint("login", "--email", "fred@example.com", "--password-stdin",
                             "--device", "test box", stdin=FREELANCER_PW + "\n")
        t.check("login as freelancer with --device", p.returncode == 0, show(p))
        p = stranger.stint("login", "--email", "fred@example.com", "--password-stdin",
                           stdin="wrong-password-9\n")
        t.check("login with a wrong password: exit 3, no token saved",
                p.returncode == 3 and not os.path.exists(stranger.auth_path()), show(p))

        path = client.auth_path()
        mode = stat.S_IMODE(os.stat(path).st_mode) if os.path.exists(path) else None
        dmode = stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) if mode else None
        t.check("token file is mode 0600 in a 0700 dir", mode == 0o600 and dmode == 0o700,
                f"file {mode and oct(mode)}, dir {dmode and oct(dmode)}")
        with open(path) as f:
            saved = json.load(f)
        t.check("token file holds the server URL and a token",
                saved.get("server") == url and saved.get("token"), saved.keys())

        p = client.stint("whoami")
        t.check("whoami shows the user", p.returncode == 0 and "carla@example.com" in p.stdout
                and "client" in p.stdout, show(p))
        me = freelancer.json("whoami")
        t.check("whoami --json is the server's /me",
                me["user"]["role"] == "freelancer" and me["user"]["timezone"] == "Europe/Berlin",
                me)

        # Contracts.
        offered = client.json("contracts", "offer", "--freelancer", "fred@example.com",
                              "--title", "Website redesign", "--rate", "45.00",
                              "--currency", "USD", "--limit", "40", "--tags", "design, dev",
                              "--tag-required", "--no-screenshots")
        ct = offered["contract"]
        cid = ct["id"]
        t.check("offer sends exact cents, seconds, tags and switches",
                ct["hourly_rate_cents"] == 4500 and ct["currency"] == "USD"
                and ct["weekly_limit_s"] == 40 * 3600 and ct["tags"] == ["design", "dev"]
                and ct["tag_required"] is True and ct["screenshots_enabled"] is False
                and ct["state"] == "offered", ct)

        p = freelancer.stint("contracts", "accept", cid)
        t.check("freelancer accepts", p.returncode == 0 and "active" in p.stdout, show(p))
        p = freelancer.stint("contracts", "accept", cid)
        t.check("accepting twice is refused (exit 4)",
                p.returncode == 4 and p.stderr.startswith("stint: refused: "), show(p))
        p = freelancer.stint("contracts", "pause", cid)
        t.check("the freelancer may not pause (exit 4)", p.returncode == 4, show(p))

        st = client.json("contracts", "pause", cid)["contract"]["state"]
        t.check("client pauses", st == "paused", st)
        st = client.json("contracts", "resume", cid)["contract"]["state"]
        t.check("client resumes", st == "active", st)

        edited = client.json("contracts", "edit", cid, "--limit", "50")
        t.check("edit raises the limit at once",
                edited["contract"]["weekly_limit_s"] == 50 * 3600, edited)
        edited = client.json("contracts", "edit", cid, "--limit", "12.5")
        eff = edited.get("effective", {}).get("weekly_limit_s", {})
        t.check("edit cuts the limit from next Monday",
                eff.get("value") == 45000 and str(eff.get("from", "")).endswith("T00:00:00Z"),
                edited)
        p = client.stint("contracts", "edit", cid, "--limit", "none")
        t.check("edit --limit none", p.returncode == 0, show(p))

        p = client.stint("contracts")
        t.check("contracts lists a table", p.returncode == 0 and "Website redesign" in p.stdout
                and cid in p.stdout and "45.00 USD" in p.stdout, show(p))
        listed = freelancer.json("contracts", "list")
        t.check("contracts --json lists the caller's contracts",
                [c["id"] for c in listed["contracts"]] == [cid], listed)
        p = stranger.stint("contracts", "show", cid)
        t.check("not signed in: exit 3", p.returncode == 3 and "not signed in" in p.stderr,
                show(p))

        # Diary.
        p = freelancer.stint("diary", cid, "--date", "2026-01-05")
        t.check("diary of an empty day is a table with zero totals",
                p.returncode == 0 and "no time recorded" in p.stdout
                and "tracked 0:00:00" in p.stdout and "over limit 0:00:00" in p.stdout,
                show(p))
        p = freelancer.stint("diary", cid, "--week", "2026-W02", "--tz", "UTC")
        t.check("diary of a week shows seven days and week totals",
                p.returncode == 0 and p.stdout.count("no time recorded") == 7
                and "week total:" in p.stdout and "Sun 2026-01-11" in p.stdout, show(p))
        diary = freelancer.json("diary", cid, "--date", "2026-01-05", "--tz", "UTC")
        t.check("diary --json is the server's answer",
                diary.get("segments") == [] and diary.get("tz") == "UTC"
                and diary["totals"]["tracked_s"] == 0
                and [d["date"] for d in diary["days"]] == ["2026-01-05"], diary)
        p = freelancer.stint("diary", cid, "--tz", "Mars/Olympus")
        t.check("diary with an unknown zone is a usage error", p.returncode == 2, show(p))

        # Manual time, memo, tags and delete on a second contract, today.
        ct2 = client.json("contracts", "offer", "--freelancer", "fred@example.com",
                          "--title", "Support", "--rate", "30", "--currency", "EUR",
                          "--tags", "design,support")["contract"]
        freelancer.json("contracts", "accept", ct2["id"])
        now = int(time.time())
        if now % 600 < 3:
            time.sleep(3)
            now = int(time.time())
        slot = now - now % 600
        start = time.strftime("%Y-%m-%d %H:%M", time.gmtime(slot))
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        p = freelancer.stint("manual", ct2["id"], "--start", start, "--end", end, "--tz", "UTC",
                             "--memo", "Call with Carla", "--tag", "support")
        t.check("manual time with a wall-clock start and an RFC 3339 end",
                p.returncode == 0 and "manual time" in p.stdout, show(p))
        today = time.strftime("%Y-%m-%d", time.gmtime(slot))
        diary = freelancer.json("diary", ct2["id"], "--date", today, "--tz", "UTC")
        segs = diary.get("segments", [])
        t.check("the manual segment is in the diary, flagged and exact to the second",
                len(segs) == 1 and "manual" in segs[0].get("flags", [])
                and diary["totals"]["manual_s"] == now - slot, diary)
        seg = segs[0]["id"] if segs else "none"
        p = freelancer.stint("diary", ct2["id"], "--date", today, "--tz", "UTC")
        t.check("the diary table shows the segment's row",
                p.returncode == 0 and seg in p.stdout and "Call with Carla" in p.stdout
                and "manual" in p.stdout, show(p))
        p = freelancer.stint("memo", seg, "Call with Carla about the logo")
        t.check("memo", p.returncode == 0, show(p))
        p = client.stint("memo", seg, "a client's memo")
        t.check("the client may not change a memo (exit 4)", p.returncode == 4, show(p))
        p = client.stint("tag", seg, "design")
        t.check("the client may tag", p.returncode == 0, show(p))
        s1 = freelancer.json("diary", ct2["id"], "--date", today, "--tz", "UTC")["segments"]
        t.check("memo and tags reach the diary",
                s1 and s1[0]["memo"] == "Call with Carla about the logo"
                and s1[0]["tags"] == ["design"], s1)
        p = freelancer.stint("tag", seg, "--clear")
        t.check("tag --clear", p.returncode == 0, show(p))
        p = freelancer.stint("delete", seg, stdin="")
        t.check("delete without a terminal or --yes: exit 2, nothing deleted",
                p.returncode == 2 and len(freelancer.json(
                    "diary", ct2["id"], "--date", today, "--tz", "UTC")["segments"]) == 1,
                show(p))
        p = freelancer.stint("delete", seg, "--yes")
        t.check("delete --yes says how much time went",
                p.returncode == 0 and "deleted 1 segment" in p.stdout, show(p))
        d2 = freelancer.json("diary", ct2["id"], "--date", today, "--tz", "UTC")
        live = [x for x in d2["segments"] if not x.get("deleted")]
        t.check("the deleted time is gone from the totals",
                live == [] and d2["totals"]["manual_s"] == 0, d2)

        # Usage errors: exit 2 with the usage on stderr.
        p = client.stint("contracts", "offer", "--bogus")
        t.check("unknown option: exit 2, usage on stderr",
                p.returncode == 2 and "usage: stint contracts" in p.stderr and not p.stdout,
                show(p))
        p = client.stint("login", "--email")
        t.check("option without its value: exit 2", p.returncode == 2 and "usage:" in p.stderr,
                show(p))
        p = client.stint("contracts", "offer", "--freelancer", "fred@example.com", "--title",
                         "x", "--rate", "45.001", "--currency", "USD")
        t.check("a rate with three decimals in USD: exit 2", p.returncode == 2, show(p))
        p = client.stint("frobnicate")
        t.check("unknown command: exit 2", p.returncode == 2, show(p))
        p = client.stint("login", "--email", "carla@example.com", "--password-stdin",
                         stdin="x" * 5000 + "\n")
        t.check("an overlong password line is refused: exit 2", p.returncode == 2, show(p))
        p = client.stint("help", "diary")
        t.check("help COMMAND prints its usage", p.returncode == 0
                and p.stdout.startswith("usage: stint diary"), show(p))
        p = client.stint("delete", "--help")
        t.check("COMMAND --help prints its usage", p.returncode == 0
                and p.stdout.startswith("usage: stint delete"), show(p))

        # Unreachable server: exit 1.
        port = free_port()
        p = client.stint("--server", f"http://127.0.0.1:{port}", "contracts")
        t.check("a token is never sent to another server than its own (exit 3)",
                p.returncode == 3 and "not signed in to" in p.stderr, show(p))
        p = client.stint("--server", f"http://127.0.0.1:{port}", "signup", "--email",
                         "x@example.com", "--name", "X", "--role", "client",
                         "--password-stdin", stdin="some-password-1\n")
        t.check("unreachable server: exit 1 and 'cannot reach' on stderr",
                p.returncode == 1 and p.stderr.startswith(
                    f"stint: cannot reach http://127.0.0.1:{port}: connection refused"),
                show(p))

        # End, then logout revokes the token.
        st = freelancer.json("contracts", "end", cid)["contract"]["state"]
        t.check("the freelancer may end", st == "ended", st)

        with open(freelancer.auth_path()) as f:
            old_token = json.load(f)["token"]
        t.check("the saved token works", api_status(url, "/me", old_token) == 200)
        p = freelancer.stint("logout")
        t.check("logout", p.returncode == 0 and not os.path.exists(freelancer.auth_path()),
                show(p))
        t.check("the old token gets 401 after logout", api_status(url, "/me", old_token) == 401)
        p = freelancer.stint("whoami")
        t.check("after logout: exit 3", p.returncode == 3, show(p))
        p = freelancer.stint("logout")
        t.check("logout when signed out: exit 3", p.returncode == 3, show(p))

        # A token the server does not know: exit 3 from the server's 401.
        os.makedirs(os.path.dirname(stranger.auth_path()), exist_ok=True)
        with open(stranger.auth_path(), "w") as f:
            json.dump({"server": url, "token": "st_bogus"}, f)
        p = stranger.stint("whoami")
        t.check("server says 401: exit 3", p.returncode == 3 and "not signed in" in p.stderr,
                show(p))
    except Exception as e:  # a crash is one more failed case, not a silent stop
        t.check("the test ran to its end", False, repr(e))
    finally:
        if server:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
