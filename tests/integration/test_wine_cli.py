"""stint.exe, the Windows command line, verified under Wine 8 against a real
stintd on loopback: the sign-in token goes to the Credential Manager and to
no file, the laptop commands work end to end, and bad input, a wrong server
and help behave. What only real Windows can show (its certificate store, a
proxy, the real Credential Manager UI) is in docs/windows.md.
"""
import json
import os
import socket
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
