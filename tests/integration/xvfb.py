"""The one way the integration tests start a private X server, and the one
rule for a missing tool: the test fails, saying what to install (never a
skip). Used by tracker_env.py, desktop_harness.py, wine_env.py and
test_x11.py.

Xvfb picks a free display number itself and writes it to a pipe once it
listens (-displayfd), so no number is fixed and nothing sleeps. -noreset
keeps the server (and what was painted on its root window) when its last
client leaves.
"""
import atexit
import os
import shutil
import subprocess
import time


def wait_for(cond, timeout, step=0.05):
    """Polls cond() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def need(*tools):
    """Fails, saying what is missing, when a program is not installed."""
    missing = [t for t in tools if not shutil.which(t)]
    assert not missing, f"not installed: {', '.join(missing)} (scripts/deps.sh installs them)"


class Xvfb:
    """A private X server; .display is ':N'. Stopped by stop() or at exit."""

    def __init__(self, size="1280x1024", depth=24, extra=()):
        need("Xvfb")
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", f"{size}x{depth}",
             "-nolisten", "tcp", "-noreset", *extra],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:
            number = f.readline().strip()
        if not number:
            self.stop()
            raise AssertionError("Xvfb did not start")
        self.display = ":" + number
        atexit.register(self.stop)

    def env(self, **more):
        """The environment of a client of this server."""
        return dict(os.environ, DISPLAY=self.display, **more)

    def wait_ready(self, timeout=10):
        """Waits until a client can use the server (xdotool answers)."""
        need("xdotool")
        env = self.env()
        assert wait_for(lambda: subprocess.run(["xdotool", "getmouselocation"], env=env,
                                               capture_output=True).returncode == 0, timeout), \
            "Xvfb does not answer"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
