"""What the tests verified under Wine 8 share: an Xvfb display, a Wine prefix
created once per cross build tree and reused, one persistent wineserver for
the test file, running a Windows program with a timeout, starting one in
Wine's virtual desktop with X focus forced on it, and the clean-up.

Not for: starting stintd or making users (harness.py does that), nor the
Linux tracker (tracker_env.py). A missing tool FAILS the test saying what is
missing; nothing here skips.

The cross build tree is $STINT_WIN_BUILD (the Makefile's `test` target sets
it), else build-win beside the sources. The prefix lives in
<build-win>/wine-prefix and is made once with `wineboot -i` under a lock, so
two test files may ask for it at the same time. The Wine tests share that
prefix and are registered with is_parallel: false, so clean-up may end the
whole wineserver (`wineserver -k`) without hurting another test.
"""
import atexit
import fcntl
import os
import shutil
import subprocess
import threading
import time

from xvfb import Xvfb, need, wait_for  # noqa: F401 (need, wait_for: for the tests)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("STINT_SOURCE_ROOT") or os.path.join(HERE, "..", "..")
WIN_BUILD = os.path.abspath(os.environ.get("STINT_WIN_BUILD") or os.path.join(SOURCE, "build-win"))
PREFIX = os.path.join(WIN_BUILD, "wine-prefix")
STINT_EXE = os.path.join(WIN_BUILD, "cli", "stint.exe")

_display = None
_server = None
_children = []


def need_file(path, what):
    assert os.path.exists(path), f"{what} is missing: {path} (make windows builds it)"


def display():
    """Starts Xvfb once per test file (1280x1024, the -retro weave so a capture is
    not blank); returns ':N'. Xvfb picks a free display number itself."""
    global _display
    if _display:
        return _display
    need("Xvfb", "xdotool")
    x = Xvfb(extra=("-retro",))
    x.wait_ready()
    _display = x.display
    return _display


def base_env(**extra):
    """The environment every Wine process of the test gets."""
    # winemenubuilder is off: an installer's shortcuts stay in the prefix
    # instead of becoming .desktop files in the real home.
    env = dict(os.environ, WINEPREFIX=PREFIX, WINEDEBUG="-all",
               WINEDLLOVERRIDES="mscoree,mshtml=;winemenubuilder.exe=d", DISPLAY=display())
    for k in ("STINT_SERVER", "WAYLAND_DISPLAY"):
        env.pop(k, None)
    env.update(extra)
    return env


def prefix():
    """The Wine prefix, made once per build tree; starts this file's wineserver."""
    global _server
    need("wine", "wineboot", "wineserver")
    os.makedirs(WIN_BUILD, exist_ok=True)
    done = os.path.join(PREFIX, ".stint-ready")
    with open(os.path.join(WIN_BUILD, "wine-prefix.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(done):
            shutil.rmtree(PREFIX, ignore_errors=True)
            r = subprocess.run(["wineboot", "-i"], env=base_env(), capture_output=True,
                               text=True, timeout=300)
            assert r.returncode == 0, f"wineboot -i failed: {r.stderr[-2000:]}"
            subprocess.run(["wineserver", "-w"], env=base_env(), timeout=120)
            with open(done, "w") as f:
                f.write("made by tests/integration/wine_env.py\n")
    if _server is None:
        # One wineserver for the whole file: a program then starts in a fraction
        # of a second instead of booting Wine again.
        subprocess.run(["wineserver", "-p"], env=base_env(), check=True, timeout=60)
        _server = True
        # The first program starts Wine's services (services.exe, explorer...),
        # which live on and would hold a later program's stdout pipe open: start
        # them here, away from any pipe.
        subprocess.run(["wine", "cmd", "/c", "exit"], env=base_env(), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        atexit.register(cleanup)
    return PREFIX


def windows_user():
    """The prefix's user profile folder (drive_c/users/<name>) as a Linux path."""
    users = os.path.join(prefix(), "drive_c", "users")
    names = [n for n in os.listdir(users) if n != "Public"]
    assert len(names) == 1, f"cannot tell the Wine user from {names}"
    return os.path.join(users, names[0])


def appdata():
    """%APPDATA% (roaming) as a Linux path."""
    return os.path.join(windows_user(), "AppData", "Roaming")


def localappdata():
    """%LOCALAPPDATA% as a Linux path."""
    return os.path.join(windows_user(), "AppData", "Local")


def reset_user_state():
    """Forgets what an earlier test left: stint's folders under %APPDATA% and
    %LOCALAPPDATA%, and every credential Wine's Credential Manager holds."""
    shutil.rmtree(os.path.join(appdata(), "stint"), ignore_errors=True)
    shutil.rmtree(os.path.join(localappdata(), "stint"), ignore_errors=True)
    run(["reg", "delete", r"HKCU\Software\Wine\Credential Manager", "/f"], check=False)


def credentials():
    """The names (targets) of the credentials Wine's Credential Manager holds
    (it keeps them in the user's registry, one key per credential)."""
    r = run(["reg", "query", r"HKCU\Software\Wine\Credential Manager"], check=False)
    if r.returncode != 0:
        return []
    out = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if line.startswith("HKEY_") and "Credential Manager\\" in line:
            out.append(line.split("Credential Manager\\", 1)[1])
    return out


def winpath(path):
    """A Linux path as Wine sees it (Z:\\...)."""
    return "Z:" + os.path.abspath(path).replace("/", "\\")


class Result:
    def __init__(self, returncode, stdout, stderr):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return f"<rc={self.returncode} out={self.stdout[-1500:]!r} err={self.stderr[-1500:]!r}>"


def run(argv, env=None, input=None, timeout=60, check=True):
    """Runs a Windows program (argv[0]: a Linux path to an .exe, or a program
    Wine has, like 'reg') to its end; returns a Result with its output decoded
    as UTF-8. Past timeout the program is killed and the test fails."""
    prefix()
    e = base_env(**(env or {}))
    try:
        p = subprocess.run(["wine", *argv], env=e, input=input, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as ex:
        raise AssertionError(f"{argv} did not finish in {timeout} s: {ex.stdout!r} {ex.stderr!r}")
    r = Result(p.returncode, p.stdout.decode("utf-8", "replace").replace("\r\n", "\n"),
               p.stderr.decode("utf-8", "replace").replace("\r\n", "\n"))
    if check:
        assert r.returncode == 0 or argv[0] == "reg", f"{argv} failed: {r}"
    return r


class Program:
    """A running Windows program whose stdout and stderr are read line by line."""

    def __init__(self, argv, env=None, desktop=None):
        prefix()
        e = base_env(**(env or {}))
        cmd = ["wine", *argv]
        if desktop:
            cmd = ["wine", "explorer", f"/desktop={desktop},1280x800", *argv]
        self.argv = argv
        self.desktop = desktop
        self.proc = subprocess.Popen(cmd, env=e, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _children.append(self)
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
        for raw in stream:
            lines.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def wait_out(self, text, timeout=60):
        """Waits until a stdout line holds text; returns that line or fails."""
        wait_for(lambda: any(text in l for l in self.out) or self.proc.poll() is not None,
                 timeout)
        line = next((l for l in self.out if text in l), None)
        if line is None and self.proc.poll() is not None:
            for t in self._threads:
                t.join(timeout=5)
            line = next((l for l in self.out if text in l), None)
        assert line, f"no line with {text!r} in {timeout} s; out={self.out} err={self.err}"
        return line

    def wait(self, timeout=120):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.argv} did not end in {timeout} s; out={self.out} "
                                 f"err={self.err}")
        for t in self._threads:
            t.join(timeout=10)
        return rc

    def alive(self):
        return self.proc.poll() is None

    def kill(self):
        """Ends the Linux process that runs the program (Wine then ends the
        Windows process as TerminateProcess would)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    @property
    def stdout(self):
        return "\n".join(self.out)

    @property
    def stderr(self):
        return "\n".join(self.err)


def taskkill(image):
    """TerminateProcess on every process named image (e.g. 'stint.exe'), through
    Wine's taskkill /F; fails if none was running."""
    r = run(["taskkill", "/F", "/IM", image], check=False, timeout=30)
    assert r.returncode == 0, f"taskkill /F /IM {image} failed: {r}"
    return r


def desktop_window(name, timeout=30):
    """The X window id of Wine's virtual desktop called name, once it is shown."""
    env = dict(os.environ, DISPLAY=display())

    def find():
        r = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", f"{name} - Wine desktop"],
                           env=env, capture_output=True, text=True)
        ids = r.stdout.split()
        return ids[0] if ids else None
    wid = wait_for(find, timeout, 0.1)
    assert wid, f"Wine's virtual desktop {name!r} did not show in {timeout} s"
    return wid


def focus_desktop(name, timeout=30):
    """Forces X focus onto Wine's virtual desktop called name (typed keys then reach it)."""
    wid = desktop_window(name, timeout)
    env = dict(os.environ, DISPLAY=display())
    subprocess.run(["xdotool", "windowactivate", "--sync", wid], env=env, capture_output=True,
                   timeout=10)
    subprocess.run(["xdotool", "windowfocus", "--sync", wid], env=env, check=True,
                   capture_output=True, timeout=10)
    return wid


def xdo(*args):
    subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=display()), check=True,
                   capture_output=True, timeout=10)


def cleanup():
    """Ends the programs this file started and this file's wineserver (with every
    Windows process in the prefix: the Wine tests do not run in parallel)."""
    global _server
    for p in _children:
        p.kill()
    if _server:
        subprocess.run(["wineserver", "-k"], env=base_env(), capture_output=True, timeout=60)
        subprocess.run(["wineserver", "-w"], env=base_env(), capture_output=True, timeout=60)
        _server = None
