"""Headless Wayland compositors for the integration tests, with no GPU and
no input devices: sway (wlroots, the pixman renderer) and mutter (GNOME,
--headless --virtual-monitor, on a session bus of its own). Compositors refuse
to run as root, so when the tests run as root (CI does) the compositor runs
as an unprivileged user made once (`useradd --system --create-home
stint-test`); otherwise as the user running the tests. Clients (the probe,
wtype, foot, stint) run as the test's own user with XDG_RUNTIME_DIR and
WAYLAND_DISPLAY pointed at the compositor's socket.

A missing tool fails the test that needs it, saying what is missing.
Nothing here sleeps in place of a condition: waits poll with a deadline.
"""
import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import time

USER = "stint-test"


def wait_for(cond, timeout, step=0.02):
    """Polls cond() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def need(*tools):
    """Fails (not skips) when a tool is missing: scripts/deps.sh installs them."""
    missing = [t for t in tools if not shutil.which(t)]
    assert not missing, f"missing {', '.join(missing)} (scripts/deps.sh installs it)"


def compositor_user():
    """(uid, gid) the compositor runs as: ourselves, or stint-test when we are root."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    try:
        pw = pwd.getpwnam(USER)
    except KeyError:
        need("useradd")
        subprocess.run(["useradd", "--system", "--create-home", USER], check=True,
                       capture_output=True, timeout=60)
        pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid


class Sway:
    """A headless sway with outputs of known sizes and solid background colours.

    outputs: [(width, height, x, "#rrggbb")], laid out left to right at x.
    """

    def __init__(self, outputs=((1280, 720, 0, "#204080"),)):
        need("sway", "setpriv")
        self.uid, self.gid = compositor_user()
        self.runtime = tempfile.mkdtemp(prefix="stint-wl-")
        os.chmod(self.runtime, 0o700)
        os.chown(self.runtime, self.uid, self.gid)
        config = os.path.join(self.runtime, "config")
        with open(config, "w") as f:
            for i, (w, h, x, bg) in enumerate(outputs, 1):
                f.write(f"output HEADLESS-{i} resolution {w}x{h} position {x} 0 "
                        f"bg {bg} solid_color\n")
            # Windows without borders or title bars: a client's pixels fill its tile.
            f.write("default_border none\nfont pango:monospace 1\n")
        os.chown(config, self.uid, self.gid)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": pwd.getpwuid(self.uid).pw_dir if self.uid else "/tmp",
            "XDG_RUNTIME_DIR": self.runtime,
            "WLR_BACKENDS": "headless",
            "WLR_HEADLESS_OUTPUTS": str(len(outputs)),
            "WLR_LIBINPUT_NO_DEVICES": "1",
            "WLR_RENDERER": "pixman",
        }
        cmd = ["sway", "-c", config]
        if os.getuid() == 0:
            cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups"] + cmd
        self.log = open(os.path.join(self.runtime, "sway.log"), "w")
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        atexit.register(self.stop)
        self.socket = wait_for(self._socket, 15)
        if not self.socket:
            self.stop()
            raise AssertionError("sway did not open its socket: " + self.log_text())
        self.ipc = wait_for(self._ipc, 15)

    def _socket(self):
        if self.proc.poll() is not None:
            raise AssertionError("sway exited: " + self.log_text())
        for name in sorted(os.listdir(self.runtime)):
            if name.startswith("wayland-") and not name.endswith(".lock"):
                return name
        return None

    def _ipc(self):
        for name in os.listdir(self.runtime):
            if name.startswith("sway-ipc."):
                return os.path.join(self.runtime, name)
        return None

    def log_text(self):
        with open(self.log.name) as f:
            return f.read()[-2000:]

    def env(self, **extra):
        """The environment of a client of this compositor (no X display)."""
        e = dict(os.environ, XDG_RUNTIME_DIR=self.runtime, WAYLAND_DISPLAY=self.socket)
        e.pop("DISPLAY", None)
        if self.ipc:
            e["SWAYSOCK"] = self.ipc
        e.update(extra)
        return e

    def run(self, *args, timeout=60):
        """Runs a client (wtype, swaymsg, wl-pointer) to the end; fails on an error."""
        p = subprocess.run(list(args), env=self.env(), capture_output=True, text=True,
                           timeout=timeout)
        assert p.returncode == 0, f"{args}: {p.stderr}"
        return p.stdout

    def windows(self):
        """How many client windows sway shows (from swaymsg's tree)."""
        import json
        tree = json.loads(self.run("swaymsg", "-t", "get_tree"))
        n = 0
        stack = [tree]
        while stack:
            node = stack.pop()
            if node.get("pid") and node.get("type") == "con":
                n += 1
            stack.extend(node.get("nodes", []) + node.get("floating_nodes", []))
        return n

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log and not self.log.closed:
            self.log.close()
        shutil.rmtree(self.runtime, ignore_errors=True)


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={path}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <!-- mutter runs as the test user, the clients as the test's own: both may connect. -->
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class Mutter:
    """A headless mutter (one virtual monitor) on its own session bus; with media=True
    also pipewire and wireplumber (mutter's ScreenCast streams need both)."""

    def __init__(self, size="1280x720", media=False):
        need("mutter", "dbus-daemon", "setpriv", *(("pipewire", "wireplumber") if media else ()))
        self.media = []
        self.uid, self.gid = compositor_user()
        self.dir = tempfile.mkdtemp(prefix="stint-mutter-")
        os.chmod(self.dir, 0o755)
        self.runtime = os.path.join(self.dir, "run")
        os.mkdir(self.runtime, 0o700)
        os.chown(self.runtime, self.uid, self.gid)
        conf = os.path.join(self.dir, "bus.conf")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(path=os.path.join(self.dir, "bus")))
        r, w = os.pipe()
        self.bus = subprocess.Popen(["dbus-daemon", "--config-file", conf, "--nofork",
                                     f"--print-address={w}"], pass_fds=(w,),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            self.address = f.readline().strip()
        assert self.address, "dbus-daemon did not start"
        self.socket = "wayland-stint"
        env = {"PATH": "/usr/bin:/bin", "HOME": pwd.getpwuid(self.uid).pw_dir,
               "XDG_RUNTIME_DIR": self.runtime, "DBUS_SESSION_BUS_ADDRESS": self.address}
        cmd = ["mutter", "--wayland", "--headless", "--no-x11", "--virtual-monitor", size,
               f"--wayland-display={self.socket}"]
        if os.getuid() == 0:
            cmd = ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups"] + cmd
        self.log = open(os.path.join(self.dir, "mutter.log"), "w")
        atexit.register(self.stop)
        if media:
            for prog in ("pipewire", "wireplumber"):
                c = [prog] if os.getuid() != 0 else cmd[:4] + [prog]
                self.media.append(subprocess.Popen(c, env=env, stdout=self.log,
                                                   stderr=subprocess.STDOUT))
            sock = os.path.join(self.runtime, "pipewire-0")
            if not wait_for(lambda: os.path.exists(sock), 30, step=0.05):
                self.stop()
                raise AssertionError("pipewire did not start: " + self.log_text())
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        ok = wait_for(lambda: self._ready(), 30, step=0.1)
        if not ok:
            self.stop()
            raise AssertionError("mutter did not start: " + self.log_text())

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("mutter exited: " + self.log_text())
        if not os.path.exists(os.path.join(self.runtime, self.socket)):
            return False
        p = subprocess.run(["dbus-send", "--session", "--print-reply",
                            "--dest=org.gnome.Mutter.IdleMonitor",
                            "/org/gnome/Mutter/IdleMonitor/Core",
                            "org.gnome.Mutter.IdleMonitor.GetIdletime"],
                           env=self.env(), capture_output=True, timeout=30)
        return p.returncode == 0

    def log_text(self):
        with open(self.log.name) as f:
            return f.read()[-2000:]

    def env(self, **extra):
        e = dict(os.environ, XDG_RUNTIME_DIR=self.runtime, WAYLAND_DISPLAY=self.socket,
                 DBUS_SESSION_BUS_ADDRESS=self.address)
        e.pop("DISPLAY", None)
        e.update(extra)
        return e

    def stop(self):
        for p in [getattr(self, "proc", None)] + getattr(self, "media", []) + \
                [getattr(self, "bus", None)]:
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if getattr(self, "log", None) and not self.log.closed:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
