"""The desktop app's test fixtures, shared by the desktop tests: an Xvfb
display and a session bus of their own per test file, a freelancer with a
contract and their own XDG dirs (Person), and a running stint-tracker whose
state is read over D-Bus (App: dev.stint.Tracker.State.Get(), actions
through org.gtk.Actions, xdotool for keys and typing, window screenshots in
$STINT_BUILD_ROOT/desktop-shots). Waits poll a condition with a deadline;
nothing sleeps in its place.
"""
import ast
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from harness import BUILD, STINT
from xvfb import Xvfb, need, wait_for

APP = os.path.join(BUILD, "desktop", "stint-tracker")
SHOTS = os.path.join(BUILD, "desktop-shots")
SEG = 30
WINDOW_NAME = "^stint Tracker$"

_env = None


def desktop_env():
    """An Xvfb display and a session bus for the whole file; the environment to run in."""
    global _env
    if _env:
        return _env
    if not os.path.exists(APP):
        raise AssertionError(f"{APP} was not built: install libgtk-4-dev (>= 4.8) and "
                             "libsoup-3.0-dev (scripts/deps.sh) and reconfigure")
    need("Xvfb", "xdotool", "xsetroot", "dbus-daemon", "gdbus", "import")
    xvfb = Xvfb()
    rfd, wfd = os.pipe()
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--print-address={wfd}"],
                           pass_fds=(wfd,), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        address = f.readline().strip()
    assert address, "dbus-daemon did not start"
    import atexit
    atexit.register(lambda: (bus.terminate(), bus.wait()))
    env = dict(os.environ, DISPLAY=xvfb.display, DBUS_SESSION_BUS_ADDRESS=address,
               GDK_BACKEND="x11", GSK_RENDERER="cairo", GTK_A11Y="none", NO_AT_BRIDGE="1",
               # GTK and fontconfig keep caches for the life of the process: not leaks of ours.
               ASAN_OPTIONS="detect_leaks=0:" + os.environ.get("ASAN_OPTIONS", ""))
    for k in ("WAYLAND_DISPLAY", "STINT_SERVER", "STINT_IDLE_MINUTES", "STINT_QUOTA_KB"):
        env.pop(k, None)
    assert wait_for(lambda: subprocess.run(["xdotool", "getmouselocation"], env=env,
                                           capture_output=True).returncode == 0, 10)
    # A desktop colour, so that screenshots (the app's and the tracker's) look like a desktop.
    subprocess.run(["xsetroot", "-solid", "#33658a"], env=env, check=True, capture_output=True,
                   timeout=60)
    os.makedirs(SHOTS, exist_ok=True)
    _env = env
    return env


def xdo(*args):
    subprocess.run(["xdotool", *args], env=desktop_env(), check=True, capture_output=True,
                   timeout=20)


class Person:
    """A freelancer with a contract on srv and their own XDG dirs (not signed in yet)."""

    def __init__(self, srv, **terms):
        self.srv = srv
        self.client = srv.user("client", name="Acme Studio")
        self.user = srv.user("freelancer", name="Frida Lancer")
        t = {"title": "Landing page redesign", "tags": ["design", "code"],
             "weekly_limit_s": 40 * 3600}
        t.update(terms)
        self.contract = srv.contract(self.client, self.user, **t)
        self.home = tempfile.mkdtemp(prefix="stint-desk-")
        import atexit
        atexit.register(shutil.rmtree, self.home, True)
        self.env = dict(desktop_env(), HOME=self.home,
                        XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                        XDG_DATA_HOME=os.path.join(self.home, "data"),
                        STINT_SERVER=srv.url)

    @property
    def auth_path(self):
        return os.path.join(self.home, "config", "stint", "auth.json")

    def cli(self, *args, input=None, timeout=60):
        return subprocess.run([STINT, *args], capture_output=True, text=True, env=self.env,
                              input=input, timeout=timeout)

    def login_cli(self):
        r = self.cli("login", "--email", self.user["email"], "--password-stdin",
                     input=self.user["password"] + "\n")
        assert r.returncode == 0, r.stderr

    def settings(self, text):
        os.makedirs(os.path.join(self.home, "config", "stint"), exist_ok=True)
        with open(os.path.join(self.home, "config", "stint", "tracker.conf"), "w") as f:
            f.write(text)

    def diary(self):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        r = self.srv.get(f"contracts/{self.contract['id']}/diary?from={yesterday}&to={today}"
                         "&tz=UTC", self.client["token"])
        assert r.status == 200, r
        return r.json["segments"]


class App:
    """A running stint-tracker; its output is collected, its state read over D-Bus."""

    def __init__(self, person, args=()):
        self.env = person.env
        self.proc = subprocess.Popen([APP, *args], env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.out = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.wait(lambda s: s.get("window", {}).get("visible"), 30, "the window to show")
        self.window = self._window_id()

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))

    def _window_id(self):
        r = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--name",
                            WINDOW_NAME], env=self.env, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0 and r.stdout.strip(), f"no window: {r.stderr} {self.out}"
        return r.stdout.split()[0]

    def state(self):
        """What the app shows, or None while it is not on the bus."""
        r = subprocess.run(["gdbus", "call", "--session", "--dest", "dev.stint.Tracker",
                            "--object-path", "/dev/stint/Tracker", "--method",
                            "dev.stint.Tracker.State.Get"], env=self.env, capture_output=True,
                           text=True, timeout=20)
        if r.returncode != 0:
            return None
        return json.loads(ast.literal_eval(r.stdout.strip())[0])

    def wait(self, pred, timeout, what):
        last = [None]

        def check():
            assert self.proc.poll() is None, f"the app exited ({self.proc.returncode}): {self.out}"
            s = self.state()
            last[0] = s
            try:
                return s is not None and pred(s)
            except (KeyError, TypeError, IndexError):
                return False
        assert wait_for(check, timeout, 0.2), \
            f"waited {timeout} s for {what}; state={json.dumps(last[0])[:3000]} out={self.out}"
        return last[0]

    def action(self, name, *params):
        args = "[" + ", ".join(f"<{json.dumps(p)}>" for p in params) + "]"
        r = subprocess.run(["gdbus", "call", "--session", "--dest", "dev.stint.Tracker",
                            "--object-path", "/dev/stint/Tracker", "--method",
                            "org.gtk.Actions.Activate", name, args, "{}"], env=self.env,
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr

    def focus(self):
        xdo("windowfocus", "--sync", self.window)

    def keys(self, *keys):
        self.focus()
        xdo("key", "--clearmodifiers", *keys)

    def type(self, text):
        self.focus()
        xdo("type", "--delay", "10", text)

    def painted(self):
        """Returns once the app's windows have painted what state() says."""
        r = subprocess.run(["gdbus", "call", "--session", "--dest", "dev.stint.Tracker",
                            "--object-path", "/dev/stint/Tracker", "--method",
                            "dev.stint.Tracker.State.Sync"], env=self.env, capture_output=True,
                           text=True, timeout=20)
        assert r.returncode == 0, r.stderr

    def shot(self, name, window=None):
        """Saves a picture of the window for people to look at."""
        self.painted()
        path = os.path.join(SHOTS, name + ".png")
        args = ["import", "-window", window or self.window, path]
        subprocess.run(args, env=self.env, check=True, capture_output=True, timeout=60)
        assert os.path.getsize(path) > 1000, path
        return path

    def screen_shot(self, name, width=900, height=960):
        """The screen's top left: the window with its dialogs (no window manager places them)."""
        self.painted()
        path = os.path.join(SHOTS, name + ".png")
        subprocess.run(["import", "-window", "root", "-crop", f"{width}x{height}+0+0", path],
                       env=self.env, check=True, capture_output=True, timeout=60)
        return path

    def terminate(self, timeout=60):
        """SIGTERM: the app stops the timer (the partial bucket is kept), flushes, exits 0."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return rc
