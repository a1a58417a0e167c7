"""The Wayland platform backend against a real compositor: a headless sway
(wlroots, pixman renderer, no GPU) run as an unprivileged user
(wayland_env.py), input made with wtype (virtual keyboard) and
tests/integration/wl-pointer (virtual pointer), and x11-probe --backend
wayland|native reporting what the tracker's backend captured, which
monitors it sees, how many seconds had input and which backend and routes
select.c chose.

Active seconds: the backend counts a second when it had any input. The
tests make input at a known fraction of a wall-clock second (0.2-0.5 s
into it), so which seconds were touched is known exactly.

Needs sway, wtype, foot, setpriv and ImageMagick (scripts/deps.sh installs
them); a missing one fails the test that needs it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, STINT, eq, tap  # noqa: E402
from wayland_env import Sway, need, wait_for  # noqa: E402

PROBE = os.path.join(BUILD, "tests", "integration", "x11-probe")
POINTER = os.path.join(BUILD, "tests", "integration", "wl-pointer")
BLANK = "the screen was blank (a single colour)"
OUTPUTS = ((1280, 720, 0, "#204080"), (640, 480, 1280, "#208040"))

_sway = None


def sway():
    """The compositor most tests share: two outputs side by side."""
    global _sway
    if _sway is None:
        _sway = Sway(OUTPUTS)
    return _sway


def probe(*commands, env=None, backend="wayland"):
    """Runs the probe to the end; returns (returncode, JSON lines, stderr)."""
    p = subprocess.run([PROBE, "--backend", backend] + list(commands),
                       env=env or sway().env(), capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, lines, p.stderr


def pixel(jpeg, x, y):
    """(r, g, b) of one pixel of a JPEG file, read with ImageMagick."""
    need("convert")
    out = subprocess.run(["convert", jpeg, "-format", f"%[fx:int(255*p{{{x},{y}}}.r)],"
                          f"%[fx:int(255*p{{{x},{y}}}.g)],%[fx:int(255*p{{{x},{y}}}.b)]",
                          "info:"], capture_output=True, text=True, check=True, timeout=60)
    return tuple(int(v) for v in out.stdout.split(","))


def near(rgb, hexcolour, tolerance=12):
    want = tuple(int(hexcolour[i:i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, want))


def at_second_fraction(lo=0.2, hi=0.5):
    """Waits (polling the clock) until the wall clock is lo..hi into a second; returns it."""
    assert wait_for(lambda: lo <= time.time() % 1 <= hi, 2, step=0.005)
    return int(time.time())


def measure_while(action):
    """Drains input while action() makes some; returns the probe's activity line.
    It starts once the compositor has said idle: before its first notification
    the backend cannot know which seconds had input."""
    p = subprocess.Popen([PROBE, "--backend", "wayland", "settle", "activity", "-"],
                         env=sway().env(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready == {"ready": True}, (ready, p.stderr.read())
        settled = json.loads(p.stdout.readline())
        assert settled["settled"], settled
        action()
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    eq(lines[-1]["captures"], 0, "capture calls while measuring activity")
    return lines[0]


@tap.test
def test_monitors_are_the_outputs():
    _, lines, err = probe("monitors")
    mons = lines[1]["monitors"]
    eq([(m["name"], m["x"], m["y"], m["width"], m["height"]) for m in mons],
       [("HEADLESS-1", 0, 0, 1280, 720), ("HEADLESS-2", 1280, 0, 640, 480)], "monitors")
    eq([m["primary"] for m in mons], [True, False], "primary")


@tap.test
def test_capture_has_each_outputs_size_and_background():
    with tempfile.TemporaryDirectory() as tmp:
        a, b, both = (os.path.join(tmp, n) for n in ("a.jpg", "b.jpg", "all.jpg"))
        _, lines, err = probe("capture", "0", "save", a, "capture", "1", "save", b,
                              "capture", "all", "save", both, "capture", "7")
        eq((lines[1]["width"], lines[1]["height"]), (1280, 720), "output 0")
        eq((lines[3]["width"], lines[3]["height"]), (640, 480), "output 1")
        eq((lines[5]["width"], lines[5]["height"]), (1920, 720), "all outputs")
        # An empty desktop is one colour: a frame the engine refuses, not an error.
        eq((lines[1]["blank"], lines[1]["reason"]), (True, BLANK), "output 0 is blank")
        eq(lines[5]["blank"], False, "two colours are not blank")
        assert "no monitor 7" in lines[7]["error"], lines
        eq(lines[-1]["captures"], 4, "capture calls")
        assert near(pixel(a, 640, 360), "#204080"), pixel(a, 640, 360)
        assert near(pixel(b, 320, 240), "#208040"), pixel(b, 320, 240)
        assert near(pixel(both, 100, 100), "#204080"), pixel(both, 100, 100)
        assert near(pixel(both, 1600, 100), "#208040"), pixel(both, 1600, 100)
        # Below the smaller output lies no output at all: black.
        assert near(pixel(both, 1600, 700), "#000000"), pixel(both, 1600, 700)


@tap.test
def test_capture_shows_a_client_window():
    need("foot")
    s = sway()
    env = s.env()
    foot = subprocess.Popen(
        ["foot", "-o", "colors.background=c03020", "-o", "colors.foreground=ffffff",
         "sh", "-c", "yes 'stint was here' | head -n 40; exec sleep 600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_for(lambda: s.windows() == 1, 20), "foot's window did not appear"
        with tempfile.TemporaryDirectory() as tmp:
            shot = os.path.join(tmp, "shot.jpg")
            # The window maps before its first frame is drawn: poll until it shows.
            def drawn():
                _, lines, _ = probe("capture", "0", "save", shot)
                return not lines[1]["blank"] and near(pixel(shot, 1200, 650), "#c03020", 20)
            assert wait_for(drawn, 20, step=0.2), pixel(shot, 1200, 650)
            # Its text: white on the red in the top-left corner, where the lines are.
            colours = {pixel(shot, x, y) for x in range(0, 120, 3) for y in range(2, 30, 3)}
            assert any(min(c) > 150 for c in colours), colours
            # The other output still shows the background.
            _, lines, _ = probe("capture", "1", "save", shot)
            assert near(pixel(shot, 320, 240), "#208040"), pixel(shot, 320, 240)
    finally:
        foot.terminate()
        foot.wait(timeout=30)
        wait_for(lambda: s.windows() == 0, 10)


@tap.test
def test_active_seconds_follow_input():
    need("wtype")
    s = sway()
    touched = []

    def three_bursts():
        # Input in three distinct seconds, each burst alone in its second.
        for i in range(3):
            touched.append(at_second_fraction())
            if i == 1:
                s.run(POINTER, "3")
            else:
                s.run("wtype", "abc")
            # The next burst a second on, after this one's idle (1 s) has come.
            assert wait_for(lambda: time.time() >= touched[-1] + 1.6, 3)

    act = measure_while(three_bursts)
    eq(len(set(touched)), 3, "distinct seconds")
    eq(act["active_s"], 3, "active seconds")
    eq((act["keys"], act["mouse"], act["synthetic"]), (0, 0, 0), "no counts on Wayland")


@tap.test
def test_continuous_input_counts_every_second_it_touched():
    need("wtype")
    s = sway()
    span = []

    def type_for_two_seconds():
        # Keys every 0.25 s from 0.2 s into a second until 0.35 s into the second after
        # next: three seconds touched, with no gap of a second between keys.
        span.append(at_second_fraction(0.2, 0.3))
        while time.time() < span[0] + 2.35:
            s.run("wtype", "x")
            t = time.time()
            wait_for(lambda: time.time() >= t + 0.25, 1, step=0.01)

    act = measure_while(type_for_two_seconds)
    eq(act["active_s"], 3, "active seconds")


@tap.test
def test_no_input_no_active_seconds():
    s = sway()
    start = []

    def quiet():
        start.append(time.time())
        wait_for(lambda: time.time() >= start[0] + 2.5, 3)

    act = measure_while(quiet)
    eq(act["active_s"], 0, "active seconds while nobody touched anything")
    s.run("true")


@tap.test
def test_idle_time_follows_input():
    need("wtype")
    s = sway()
    # Quiet: the compositor says idle after its 1 s timeout, and idle time grows from
    # the last input.
    _, lines, _ = probe("activity", "2", "idle")
    assert lines[2]["idle_ms"] >= 1500, lines
    # Input just before the question: idle again below a second.
    p = subprocess.Popen([PROBE, "--backend", "wayland", "activity", "3", "idle"],
                         env=s.env(), stdout=subprocess.PIPE, text=True)
    try:
        ready = json.loads(p.stdout.readline())
        started = time.monotonic()
        assert ready == {"ready": True}, ready
        assert wait_for(lambda: time.monotonic() >= started + 2.3, 3)
        s.run("wtype", "q")
        out, _ = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines[1]["idle_ms"] < 1000, lines


@tap.test
def test_describe_names_the_routes():
    _, lines, _ = probe("describe")
    d = lines[1]
    eq((d["backend"], d["measure"]), ("wayland", "active_seconds"), "backend")
    assert "capture: wlr-screencopy v3 (2 outputs)" in d["describe"], d
    # sway 1.7 offers KDE's idle and not ext-idle-notify: the fallback is named, and why.
    assert "idle: org_kde_kwin_idle, active seconds (ext_idle_notifier_v1 not offered)" \
        in d["describe"], d


def x_display():
    from tracker_env import display
    return display()


@tap.test
def test_native_backend_is_wayland_in_a_wayland_session():
    _, lines, _ = probe("describe", backend="native", env=sway().env(DISPLAY=x_display()))
    d = lines[1]
    eq(d["measure"], "active_seconds", "measure")
    assert d["describe"].startswith("wayland '"), d
    assert "not taken" not in d["describe"], d


@tap.test
def test_native_backend_without_wayland_is_x11_and_says_why():
    with tempfile.TemporaryDirectory() as empty:
        env = dict(os.environ, DISPLAY=x_display(), XDG_RUNTIME_DIR=empty)
        env.pop("WAYLAND_DISPLAY", None)
        _, lines, _ = probe("describe", backend="native", env=env)
        d = lines[1]
        eq(d["measure"], "counts", "measure")
        assert d["describe"].startswith("x11"), d
        assert "not taken: wayland: $WAYLAND_DISPLAY is not set and there is no wayland-0 " \
            "socket" in d["describe"], d
        # A socket that answers nobody: X11, with the reason.
        env["WAYLAND_DISPLAY"] = "wayland-nothing"
        _, lines, _ = probe("describe", backend="native", env=env)
        d = lines[1]
        assert d["describe"].startswith("x11"), d
        assert "not taken: wayland: cannot connect to the Wayland compositor " \
            "'wayland-nothing'" in d["describe"], d
        # And neither: the probe says so and fails.
        env.pop("DISPLAY")
        rc, lines, err = probe("describe", backend="native", env=env)
        eq(rc, 2, "exit code")
        assert "no display: $DISPLAY is not set" in err, err


@tap.test
def test_stint_status_names_the_backend():
    s = sway()
    with tempfile.TemporaryDirectory() as home:
        env = s.env(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"),
                    XDG_DATA_HOME=os.path.join(home, "data"),
                    XDG_STATE_HOME=os.path.join(home, "state"))
        p = subprocess.run([STINT, "status"], env=env, capture_output=True, text=True,
                           timeout=60)
        assert p.returncode == 0, p.stderr
        assert "desktop      wayland '" in p.stdout, p.stdout
        assert "org_kde_kwin_idle" in p.stdout, p.stdout
        p = subprocess.run([STINT, "status", "--json"], env=env, capture_output=True,
                           text=True, timeout=60)
        d = json.loads(p.stdout)
        assert d["desktop"].startswith("wayland '"), d


tap.main()
