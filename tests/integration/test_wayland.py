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
from harness import BUILD, STINT, Server, eq, parse_time, tap  # noqa: E402
from wayland_env import Mutter, Sway, need, wait_for  # noqa: E402

PROBE = os.path.join(BUILD, "tests", "integration", "x11-probe")
POINTER = os.path.join(BUILD, "tests", "integration", "wl-pointer")
MUTTER_INPUT = os.path.join(BUILD, "tests", "integration", "mutter-input")
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


def measure_while(action, env=None, settle=True):
    """Drains input while action() makes some; returns the probe's activity line.
    It starts once the compositor has said idle (unless settle is False):
    before its first notification the backend cannot place every second."""
    p = subprocess.Popen([PROBE, "--backend", "wayland"] + (["settle"] if settle else [])
                         + ["activity", "-"], env=env or sway().env(),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready == {"ready": True}, (ready, p.stderr.read())
        if settle:
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


def open_foot(s):
    """A foot window with white text on red (#c03020) on the first output."""
    need("foot")
    foot = subprocess.Popen(
        ["foot", "-o", "colors.background=c03020", "-o", "colors.foreground=ffffff",
         "sh", "-c", "yes 'stint was here' | head -n 40; exec sleep 600"],
        env=s.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not wait_for(lambda: s.windows() == 1, 20):
        foot.kill()
        foot.wait()
        raise AssertionError("foot's window did not appear")
    return foot


def close_foot(s, foot):
    foot.terminate()
    foot.wait(timeout=30)
    wait_for(lambda: s.windows() == 0, 10)


@tap.test
def test_capture_shows_a_client_window():
    s = sway()
    foot = open_foot(s)
    try:
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
        close_foot(s, foot)


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
def test_input_from_the_first_moment_is_counted():
    # Typing from the moment the backend connects, with no pause: the compositor never
    # says idle, so the backend infers the input after its first timeout passes
    # quietly. At most the first two seconds may go uncounted, none is added.
    need("wtype")
    s = sway()
    touched = set()

    def type_from_the_start():
        start = time.time()
        while time.time() < start + 4.5:
            t = time.time()
            s.run("wtype", "x")
            touched.add(int(t))
            touched.add(int(time.time()))
            wait_for(lambda: time.time() >= t + 0.25, 1, step=0.01)

    act = measure_while(type_from_the_start, settle=False)
    assert len(touched) - 2 <= act["active_s"] <= len(touched), (act, sorted(touched))


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


SEG = 30
BUCKET = SEG // 10


@tap.test
def test_tracked_run_on_sway_reaches_the_server():
    # `stint track` on sway: segments on a real stintd measured in active seconds, the
    # seconds with input found in their buckets (or, read a tick late, the next one),
    # none counted twice, and a screenshot of each segment.
    need("wtype")
    from tracker_env import Freelancer
    s = sway()
    foot = open_foot(s)
    try:
        srv = Server(segment_s=SEG)
        fl = Freelancer(srv, with_display=False)
        tr = fl.track("--contract", fl.contract["id"], "--memo", "On sway", "--for", "40s",
                      env=s.env(HOME=fl.home))
        tr.wait_out("tracking contract")
        started = time.time()
        touched = []
        # Input in one second of every three, from 2 s after the start (the compositor's
        # first idle has come: before it, input cannot be placed) to 5 s before the end.
        while time.time() < started + 33:
            sec = at_second_fraction()
            if sec >= started + 2 and (not touched or sec >= touched[-1] + 3):
                s.run("wtype", "abc")
                touched.append(sec)
            assert wait_for(lambda: time.time() >= sec + 0.8, 2)
        rc = tr.wait(timeout=120)
        assert rc == 0, (rc, tr.stdout, tr.stderr)
        assert "everything is on the server" in tr.stdout, (tr.stdout, tr.stderr)
    finally:
        close_foot(s, foot)
    segs = sorted(fl.diary(), key=lambda x: x["start"])
    assert len(segs) >= 2, segs
    got = {}
    for seg in segs:
        eq(seg["activity_measure"], "active_seconds", "measure")
        start = parse_time(seg["start"])
        for i, m in enumerate(seg["minutes"]):
            eq((m["keys"], m["mouse"], m["synthetic"]), (None, None, None), "no counts")
            got[start + i * BUCKET] = m["active_s"]
        shot = seg.get("screenshot") or {}
        eq(shot.get("status"), "ok", f"screenshot of {seg['start']}: {seg}")
        taken = parse_time(shot["taken_at"])
        assert start <= taken < start + SEG, (seg["start"], shot)
        r = srv.get(shot["url"], fl.user["token"])
        assert r.status == 200 and r.body[:2] == b"\xff\xd8", r
    assert len(touched) >= 8, touched
    eq(sum(got.values()), len(touched), f"active seconds {got} for input in {touched}")
    # Each second in its bucket, or the next (drained a tick late): never earlier.
    want = {}
    for sec in touched:
        want[sec - sec % BUCKET] = want.get(sec - sec % BUCKET, 0) + 1
    late = 0
    for b in sorted(set(got) | set(want)):
        early = sum(got.get(x, 0) for x in got if x <= b)
        due = sum(want.get(x, 0) for x in want if x <= b)
        assert early <= due, f"bucket {b}: counted before its input; {got} {touched}"
        late = max(late, due - early)
    assert late <= 1, f"more than one second read late: {got} {touched}"


@tap.test
def test_desktop_app_is_a_wayland_client_and_tracks():
    # stint-tracker as a native Wayland client of sway (GDK_BACKEND=wayland, no X display):
    # it opens, starts the timer from its keyboard shortcut typed with wtype, measures
    # active seconds from pointer input and uploads a segment with its screenshot.
    need("wtype")
    from desktop_harness import APP, App, Person
    s = sway()

    class WaylandApp(App):
        def _window_id(self):
            return None  # no X window to find: the app is found over D-Bus only

    assert os.path.exists(APP), f"{APP} was not built (scripts/deps.sh, then reconfigure)"
    srv = Server(segment_s=SEG)
    p = Person(srv)
    p.env = s.env(**{k: v for k, v in p.env.items()
                     if k not in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR")})
    p.env["GDK_BACKEND"] = "wayland"
    p.env.pop("DISPLAY", None)
    p.login_cli()
    # A virtual keyboard that stays: the seat then has a keyboard the app binds once,
    # rather than one that comes and goes with each wtype (keys sent before the app has
    # bound it would be lost).
    keeper = subprocess.Popen(["wtype", "-s", "600000", "."], env=s.env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = WaylandApp(p)
    try:
        app.wait(lambda st: st["signed_in"] and st["window"]["contract_id"] == p.contract["id"],
                 20, "the app to be signed in by the CLI's login")
        # sway gives a new window the keyboard: Ctrl+M, the memo (the contract requires
        # one), Ctrl+Space starts the timer.
        # Ctrl+A first: another try replaces the memo rather than adding to it.
        def memo_typed(st):
            if st["window"]["memo"] == "Typed on sway":
                return True
            s.run("wtype", "-M", "ctrl", "m", "a", "-m", "ctrl", "Typed on sway")
            return False
        app.wait(memo_typed, 30, "the memo")
        s.run("wtype", "-M", "ctrl", " ", "-m", "ctrl")
        app.wait(lambda st: st["tracking"], 30, "the timer to run")
        deadline = time.monotonic() + 40
        moved = None
        while time.monotonic() < deadline and not moved:
            sec = at_second_fraction()
            s.run(POINTER, "2")
            assert wait_for(lambda: time.time() >= sec + 1.2, 2)
            st = app.state()
            # The bars show active seconds as they show counts on X11.
            moved = st and any(b["input"] and b["level"] > 0.2 for b in st["window"]["bars"])
        assert moved, app.state()
        st = app.wait(lambda st: st["last_shot_segment"], SEG + 15, "a screenshot")
        shot_segment = st["last_shot_segment"]
        app.action("stop")
        app.wait(lambda st: not st["tracking"], 20, "the timer to stop")
        app.wait(lambda st: st["queue"] == 0, 60, "the queue to drain")
    finally:
        rc = app.terminate()
        keeper.kill()
        keeper.wait()
    eq(rc, 0, "exit status")
    segs = p.diary()
    assert segs, "no segment on the server"
    for seg in segs:
        eq(seg["activity_measure"], "active_seconds", "measure")
        eq(seg["memo"], "Typed on sway", "memo")
    assert any(m["active_s"] > 0 for seg in segs for m in seg["minutes"]), segs
    shot = next((seg for seg in segs if seg["id"] == shot_segment), None)
    assert shot and (shot.get("screenshot") or {}).get("status") == "ok", segs


@tap.test
def test_mutter_idle_monitor_gives_active_seconds():
    # GNOME: mutter offers no Wayland idle protocol and no screencopy. The backend takes
    # org.gnome.Mutter.IdleMonitor on the session bus; input comes from
    # org.gnome.Mutter.RemoteDesktop, all through one connection (mutter-input).
    m = Mutter()
    try:
        env = m.env(XDG_DATA_HOME=os.path.join(m.dir, "data"))
        _, lines, err = probe("describe", "monitors", "capture", "0", env=env)
        d = lines[1]["describe"]
        assert "idle: org.gnome.Mutter.IdleMonitor (D-Bus), active seconds (neither " \
            "ext_idle_notifier_v1 nor org_kde_kwin_idle offered)" in d, d
        assert "capture: ScreenCast portal (consent not yet given), as " \
            "zwlr_screencopy_manager_v1 is not offered" in d, d
        eq(lines[2]["monitors"][0]["width"], 1280, "the virtual monitor")
        # No xdg-desktop-portal on this bus: said at once, not waited for.
        assert "the ScreenCast portal is not on the session bus" in lines[3]["error"], lines
        inj = subprocess.Popen([MUTTER_INPUT], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            eq(inj.stdout.readline().strip(), "ready", "remote desktop session")
            touched = []

            def three_bursts():
                for i in range(3):
                    touched.append(at_second_fraction())
                    inj.stdin.write("move\n" if i == 1 else "key\n")
                    inj.stdin.flush()
                    eq(inj.stdout.readline().strip(), "ok", "input delivered")
                    assert wait_for(lambda: time.time() >= touched[-1] + 1.6, 3)

            act = measure_while(three_bursts, env=env)
            eq(len(set(touched)), 3, "distinct seconds")
            eq(act["active_s"], 3, "active seconds")
            # Quiet, then idle time grows past the 1 s watch.
            _, lines, _ = probe("activity", "2", "idle", env=env)
            assert lines[2]["idle_ms"] >= 1500, lines
        finally:
            inj.stdin.close()
            inj.wait(timeout=30)
    finally:
        m.stop()


tap.main()
