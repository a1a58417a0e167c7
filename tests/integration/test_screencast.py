#!/usr/bin/env python3
"""The ScreenCast capture route of the Wayland backend, on a headless mutter (GNOME):
mutter offers no wlr-screencopy, so a screenshot is one frame of a PipeWire stream.

- A frame from mutter's own org.gnome.Mutter.ScreenCast (STINT_SCREENCAST_SOURCE=mutter,
  the test switch of screencast.h) goes through the backend's PipeWire reader and encoder:
  the virtual monitor's size, and mutter's blue background in the right channel order.
- The portal's consent cannot be answered headless, so the refusal and the silence are
  tested against fake-portal.py on the test's own session bus (a fake at the edge):
  "permission refused" at once, a timeout sentence within the bound, the kept token
  offered and then forgotten, the session closed, and a tracked run that goes on with
  segments saying why they have no screenshot.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, Server, eq, tap  # noqa: E402
from wayland_env import Mutter  # noqa: E402

PROBE = os.path.join(BUILD, "tests", "integration", "x11-probe")
FAKE_PORTAL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake-portal.py")
BOUND_S = 8  # SCREENCAST_MS in tracker/platform/screencast.c


def probe(env, *commands):
    p = subprocess.run([PROBE, "--backend", "wayland"] + list(commands), env=env,
                       capture_output=True, text=True, timeout=120)
    import json
    return p.returncode, [json.loads(x) for x in p.stdout.splitlines() if x.strip()], p.stderr


def pixel(jpeg, x, y):
    out = subprocess.run(["convert", jpeg, "-format", f"%[fx:int(255*p{{{x},{y}}}.r)],"
                          f"%[fx:int(255*p{{{x},{y}}}.g)],%[fx:int(255*p{{{x},{y}}}.b)]",
                          "info:"], capture_output=True, text=True, check=True, timeout=60)
    return tuple(int(v) for v in out.stdout.split(","))


def fake_portal(env, mode):
    # Debian's python3, where python3-dbus and python3-gi are installed (scripts/deps.sh).
    p = subprocess.Popen(["/usr/bin/python3", FAKE_PORTAL, mode], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != "ready":
        p.kill()
        raise AssertionError("the fake portal did not start (python3-dbus and python3-gi "
                             "needed): " + p.stderr.read()[-1000:])
    return p


def stop(p):
    p.terminate()
    p.wait(timeout=30)


@tap.test
def test_mutter_screencast_frame_over_pipewire():
    m = Mutter(media=True)
    try:
        shot = os.path.join(m.dir, "shot.jpg")
        env = m.env(STINT_SCREENCAST_SOURCE="mutter", XDG_DATA_HOME=os.path.join(m.dir, "d"))
        started = time.monotonic()
        rc, lines, err = probe(env, "capture", "0", "save", shot, "capture", "all")
        took = time.monotonic() - started
        assert lines and "error" not in lines[1], (lines, err[-1500:], m.log_text())
        eq(rc, 0, f"probe: {err}")
        for frame in (lines[1], lines[3]):
            assert "error" not in frame, (frame, err)
            eq((frame["width"], frame["height"]), (1280, 720), "the virtual monitor's size")
            eq(frame["blank"], False, "pixels came")
        # mutter's default background is dark blue (#18436e near the middle): with the
        # red and blue bytes swapped it would be brown.
        r, g, b = pixel(shot, 640, 360)
        assert b > r + 40 and b > g + 20, (r, g, b)
        assert took < 2 * BOUND_S, took
        eq(lines[-1]["captures"], 2, "capture calls")
    finally:
        m.stop()


def token_file(m):
    data = os.path.join(m.dir, "data")
    os.makedirs(os.path.join(data, "stint"), mode=0o700, exist_ok=True)
    return data, os.path.join(data, "stint", "screencast-restore-token")


@tap.test
def test_portal_refusal_says_permission_refused_and_forgets_the_token():
    m = Mutter()
    try:
        data, token = token_file(m)
        with open(os.open(token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("token-of-an-earlier-consent")
        env = m.env(XDG_DATA_HOME=data)
        fp = fake_portal(env, "refuse")
        try:
            started = time.monotonic()
            rc, lines, err = probe(env, "describe", "capture", "0", "describe")
            took = time.monotonic() - started
            assert "capture: ScreenCast portal (consent kept)" in lines[1]["describe"], lines
            assert "permission refused" in lines[2]["error"], lines
            assert "cancelled" in lines[2]["error"], lines
            assert took < BOUND_S, took
            eq(fp.stdout.readline().strip(),
               "select restore_token=token-of-an-earlier-consent types=1 persist_mode=2",
               "one monitor, the consent asked to persist, the kept token offered")
            eq(fp.stdout.readline().strip(), "start", "Start asked")
            assert fp.stdout.readline().startswith("close /org/freedesktop/portal/desktop/"
                                                   "session/"), "the session is closed"
            assert not os.path.exists(token), "a refused consent forgets the token"
            assert "capture: ScreenCast portal (consent not yet given)" in \
                lines[3]["describe"], lines
        finally:
            stop(fp)
    finally:
        m.stop()


@tap.test
def test_portal_silence_is_a_bounded_wait():
    m = Mutter()
    try:
        data, _ = token_file(m)
        env = m.env(XDG_DATA_HOME=data)
        fp = fake_portal(env, "silent")
        try:
            started = time.monotonic()
            rc, lines, err = probe(env, "capture", "0")
            took = time.monotonic() - started
            assert "did not answer within 8 s (a consent dialog may be waiting, " \
                "unanswered)" in lines[1]["error"], lines
            assert BOUND_S - 0.5 <= took < BOUND_S + 4, took
        finally:
            stop(fp)
    finally:
        m.stop()


@tap.test
def test_tracking_goes_on_when_the_portal_refuses():
    # `stint track` on GNOME with the consent refused: segments reach the server with
    # their active seconds, each saying it has no screenshot and why.
    from tracker_env import Freelancer
    m = Mutter()
    try:
        srv = Server(segment_s=30)
        fl = Freelancer(srv, with_display=False)
        env = m.env(HOME=fl.home)
        env.pop("XDG_DATA_HOME", None)
        fp = fake_portal(env, "refuse")
        try:
            tr = fl.track("--contract", fl.contract["id"], "--memo", "On GNOME", "--for", "35s",
                          env=env)
            tr.wait_out("tracking contract")
            rc = tr.wait(timeout=120)
            assert rc == 0, (rc, tr.stdout, tr.stderr)
            assert "everything is on the server" in tr.stdout, (tr.stdout, tr.stderr)
        finally:
            stop(fp)
        segs = fl.diary()
        assert len(segs) >= 1, segs
        for seg in segs:
            eq(seg["activity_measure"], "active_seconds", "measure")
            shot = seg.get("screenshot") or {}
            eq(shot.get("status"), "failed", f"no screenshot: {seg}")
            assert "permission refused" in shot.get("reason", ""), seg
    finally:
        m.stop()


tap.main()
