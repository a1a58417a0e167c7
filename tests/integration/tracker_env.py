"""What the tracker's integration tests share: an Xvfb display for the whole
file (with the weave background of -retro, so a screenshot is not blank),
xdotool to type and move the mouse (mousemove_relative: absolute moves give
no raw events), a freelancer with their own XDG dirs signed in through the
CLI, a `stint track` process whose output is read as it comes, and reads of
the tracker's journal with Python's sqlite3.

Nothing here sleeps in place of a condition: waits poll with a deadline.
"""
import atexit
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time

from harness import STINT
from xvfb import Xvfb, need, wait_for  # noqa: F401 (wait_for: for the tests)

_display = None


def display():
    """Starts Xvfb once per test file; returns ':N'. Fails when Xvfb or xdotool is missing."""
    global _display
    if _display:
        return _display
    need("Xvfb", "xdotool")
    x = Xvfb(size="1024x768", extra=("-retro",))
    x.wait_ready()
    _display = x.display
    env = x.env()
    _show_picture(env)
    return _display


def _show_picture(env):
    """Shows a busy picture in a window away from the pointer (ImageMagick's display),
    so that screenshots are not blank and typed keys do not reach that window."""
    need("display")
    w, h = 480, 320
    pixels = bytearray()
    for y in range(h):
        for x in range(w):
            pixels += bytes(((x * 255) // w, (y * 255) // h, ((x // 16 + y // 16) % 2) * 200))
    path = os.path.join(tempfile.mkdtemp(prefix="stint-x-"), "busy.ppm")
    with open(path, "wb") as f:
        f.write(b"P6 %d %d 255\n" % (w, h) + bytes(pixels))
    for attempt in range(3):
        proc = subprocess.Popen(["display", "-geometry", "+0+0", path], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        shown = wait_for(lambda: proc.poll() is not None or subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", "busy"], env=env,
            capture_output=True).returncode == 0, 30, 0.2)
        if shown and proc.poll() is None:
            atexit.register(lambda: (proc.terminate(), proc.wait()))
            return
        proc.kill()
        _, err = proc.communicate()
    raise AssertionError(f"ImageMagick's display did not show its window: {err!r}")


def xdo(*args):
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display()), check=True,
                   capture_output=True, timeout=10)


class Freelancer:
    """A freelancer on srv with a contract, their own XDG dirs, signed in through the CLI."""

    def __init__(self, srv, contract_terms=None, with_display=True):
        self.srv = srv
        self.client = srv.user("client")
        self.user = srv.user("freelancer")
        terms = {"tags": ["design", "code"]}
        terms.update(contract_terms or {})
        self.contract = srv.contract(self.client, self.user, **terms)
        self.home = tempfile.mkdtemp(prefix="stint-fl-")
        atexit.register(shutil.rmtree, self.home, True)
        self.env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                        XDG_DATA_HOME=os.path.join(self.home, "data"), HOME=self.home)
        if with_display:
            self.env["DISPLAY"] = display()
        else:
            self.env.pop("DISPLAY", None)
        self.env.pop("STINT_SERVER", None)
        r = self.cli("login", "--email", self.user["email"], "--password-stdin",
                     input=self.user["password"] + "\n")
        assert r.returncode == 0, r.stderr

    @property
    def journal(self):
        return os.path.join(self.home, "data", "stint", "journal.db")

    def cli(self, *args, input=None, timeout=120, env=None):
        e = dict(self.env, **(env or {}))
        return subprocess.run([STINT, "--server", self.srv.url, *args], capture_output=True,
                              text=True, env=e, input=input, timeout=timeout)

    def track(self, *args, env=None):
        return Tracker(self, args, env)

    def query(self, sql, *params):
        """Rows from the tracker's journal (read-only, while a tracker may be writing)."""
        if not os.path.exists(self.journal):
            return []
        db = sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def diary(self):
        """The contract's segments on the server (today and yesterday, UTC)."""
        today = time.strftime("%Y-%m-%d", time.gmtime())
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        r = self.srv.get(f"contracts/{self.contract['id']}/diary?from={yesterday}&to={today}"
                         "&tz=UTC", self.user["token"])
        assert r.status == 200, r
        return r.json["segments"]


class Tracker:
    """A running `stint track`; its stdout and stderr are collected line by line."""

    def __init__(self, fl, args, env=None):
        e = dict(fl.env, **(env or {}))
        self.proc = subprocess.Popen([STINT, "--server", fl.srv.url, "track", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=e)
        self.out = []
        self.err = []
        self._threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err),
                                          daemon=True)]
        for t in self._threads:
            t.start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def wait_out(self, text, timeout=30):
        """Waits until a stdout line holds text; returns that line or fails."""
        found = wait_for(lambda: next((l for l in self.out if text in l), None)
                         or self.proc.poll() is not None, timeout)
        line = next((l for l in self.out if text in l), None)
        assert line, f"no line with {text!r} in {timeout} s; out={self.out} err={self.err}"
        return line if found else None

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)

    def kill9(self):
        self.proc.kill()
        self.proc.wait(timeout=30)

    def wait(self, timeout=120):
        rc = self.proc.wait(timeout=timeout)
        for t in self._threads:
            t.join(timeout=10)
        return rc

    @property
    def stdout(self):
        return "\n".join(self.out)

    @property
    def stderr(self):
        return "\n".join(self.err)
