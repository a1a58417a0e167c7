"""The X11 platform backend against a real X server: a private Xvfb, input
sent with xdotool (XTEST, so every event must count as synthetic), screens
painted with xsetroot, and tests/integration/x11-probe reporting what the
tracker's backend counted, how idle the desktop is, which monitors it sees
and what it captured.

Privacy checks: the probe makes no capture call unless asked to, and the
backend's source never reads which key was pressed.

Needs Xvfb, xdotool, xsetroot, xrandr, xdpyinfo and ImageMagick (scripts/deps.sh
installs them).
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import BUILD, eq, tap  # noqa: E402
import xvfb  # noqa: E402

SRC = os.environ.get("STINT_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
PROBE = os.environ.get("STINT_X11_PROBE") or os.path.join(BUILD, "tests", "integration", "x11-probe")
BLANK = "the screen was blank (a single colour)"


class Xvfb(xvfb.Xvfb):
    """A private X server (xvfb.py), 1920x1080 unless told otherwise."""

    shared = None

    def __init__(self, depth=24, size="1920x1080", extra=()):
        super().__init__(size=size, depth=depth, extra=extra)

    @classmethod
    def get(cls):
        """The display most tests share: 1920x1080, 24 bits."""
        if cls.shared is None:
            cls.shared = Xvfb()
        return cls.shared.display


def xenv(display=None):
    return dict(os.environ, DISPLAY=display or Xvfb.get())


def x(*args, display=None):
    """Runs an X client (xdotool, xsetroot, xrandr) on the test display."""
    p = subprocess.run(list(args), env=xenv(display), capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, f"{args}: {p.stderr}"
    return p.stdout


def probe(*commands, env=None):
    """Runs the probe to the end; returns (returncode, JSON lines, stderr)."""
    p = subprocess.run([PROBE] + list(commands), env=env or xenv(), capture_output=True,
                       text=True, timeout=120)
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, lines, p.stderr


def probe_while(action, settle=0.3):
    """Drains input while action() sends some, and for `settle` seconds after;
    returns the counts and the number of capture calls."""
    p = subprocess.Popen([PROBE, "activity", "-"], env=xenv(), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = json.loads(p.stdout.readline())
        assert ready == {"ready": True}, ready
        action()
        time.sleep(settle)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    return lines[0], lines[-1]["captures"]


@tap.test
def test_no_display_is_an_error():
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    rc, lines, err = probe("idle", env=env)
    eq(rc, 2, "exit code")
    eq(lines, [], "output")
    assert "no display: $DISPLAY is not set" in err, err


@tap.test
def test_unreachable_display_is_an_error():
    env = dict(os.environ, DISPLAY="/nonexistent/socket:7")
    rc, _, err = probe("idle", env=env)
    eq(rc, 2, "exit code")
    assert "cannot open display" in err, err


@tap.test
def test_xtest_keys_are_counted_as_synthetic():
    counts, captures = probe_while(lambda: x("xdotool", "key", "a", "a", "a", "a", "a"))
    eq(counts["keys"], 5, "keys")
    eq(counts["mouse"], 0, "mouse")
    eq(counts["synthetic"], 5, "synthetic")
    eq(captures, 0, "capture calls while only counting input")


@tap.test
def test_clicks_and_scroll_steps_are_mouse_events():
    # Button 1 and 3 are clicks, 4 and 5 one scroll step each.
    counts, _ = probe_while(lambda: x("xdotool", "click", "1", "click", "3",
                                           "click", "4", "click", "5"))
    eq(counts["mouse"], 4, "mouse")
    eq(counts["keys"], 0, "keys")
    eq(counts["synthetic"], 4, "synthetic")


@tap.test
def test_motion_is_counted_and_coalesced():
    counts, _ = probe_while(lambda: x("xdotool", "mousemove_relative", "5", "5"))
    eq(counts["mouse"], 1, "one move")
    eq(counts["synthetic"], 1, "synthetic")

    # A drag of 60 small moves in one burst counts at most one per 100 ms.
    def drag():
        start = time.monotonic()
        x("xdotool", *(["mousemove_relative", "--", "1", "1"] * 60))
        drag.ms = (time.monotonic() - start) * 1000
    counts, _ = probe_while(drag)
    assert 1 <= counts["mouse"] <= drag.ms / 100 + 2, (counts, drag.ms)
    assert counts["mouse"] < 60, counts
    eq(counts["synthetic"], counts["mouse"], "synthetic")

    # Moves further apart than the window all count.
    def spaced():
        for _ in range(5):
            x("xdotool", "mousemove_relative", "2", "2")
            time.sleep(0.2)
    counts, _ = probe_while(spaced)
    eq(counts["mouse"], 5, "spaced moves")


@tap.test
def test_idle_resets_after_input():
    x("xdotool", "key", "shift")
    time.sleep(2.5)
    _, lines, _ = probe("idle")
    assert lines[1]["idle_ms"] >= 2000, lines
    x("xdotool", "mousemove_relative", "1", "1")
    _, lines, _ = probe("idle")
    assert 0 <= lines[1]["idle_ms"] < 1500, lines


@tap.test
def test_monitors_from_randr():
    _, lines, _ = probe("monitors")
    mons = lines[1]["monitors"]
    eq(len(mons), 1, "monitors")
    eq((mons[0]["x"], mons[0]["y"], mons[0]["width"], mons[0]["height"]), (0, 0, 1920, 1080),
       "geometry")

    # Two virtual monitors side by side: each captures its own half.
    x("xrandr", "--setmonitor", "left", "960/254x1080/286+0+0", "none")
    x("xrandr", "--setmonitor", "right", "960/254x1080/286+960+0", "none")
    try:
        x("xsetroot", "-mod", "16", "16")
        _, lines, _ = probe("monitors", "capture", "1", "capture", "all")
        names = [m["name"] for m in lines[1]["monitors"]]
        assert "left" in names and "right" in names, names
        one = lines[2]
        eq((one["width"], one["height"]), (960, 1080), "one monitor")
        eq((lines[3]["width"], lines[3]["height"]), (1920, 1080), "all monitors")
        eq(lines[-1]["captures"], 2, "capture calls")
        _, lines, _ = probe("capture", "7")
        assert "no monitor 7" in lines[1]["error"], lines
    finally:
        x("xrandr", "--delmonitor", "left")
        x("xrandr", "--delmonitor", "right")


@tap.test
def test_uniform_screen_is_a_failed_capture():
    x("xsetroot", "-solid", "#336699")
    _, lines, _ = probe("capture", "all", "stream", "all")
    for shot in lines[1:3]:
        eq((shot["width"], shot["height"]), (1920, 1080), "size")
        eq(shot["blank"], True, "blank")
        eq(shot["reason"], BLANK, "reason")
    eq(lines[2]["jpeg_bytes"], 0, "no JPEG of a blank screen")
    eq(lines[-1]["captures"], 2, "capture calls")


@tap.test
def test_busy_screen_is_captured():
    x("xsetroot", "-mod", "16", "16")
    _, lines, _ = probe("capture", "all", "capture", "0", "stream", "all")
    for shot in lines[1:4]:
        eq((shot["width"], shot["height"]), (1920, 1080), "size")
        eq(shot["blank"], False, "blank")
        assert shot["jpeg_bytes"] > 10000, shot
    eq(lines[-1]["captures"], 3, "capture calls")


@tap.test
def test_streamed_capture_never_holds_the_screen():
    # The recorder's default screenshot (rows straight into the JPEG) raises the
    # process's peak memory by a stripe, the encoder's rows and the JPEG, not by a
    # frame (6,075 KB of RGB at 1920x1080): each way in a fresh process, on a
    # screen with a gradient, the peak before and after.
    tmp = os.path.join("/tmp", f"stint-x11-mem-{os.getpid()}")
    os.makedirs(tmp, exist_ok=True)
    try:
        paint_gradient(tmp, 1920, 1080, None)
        growth = {}
        for how in ("capture", "stream"):
            _, lines, _ = probe("memory", how, "all", "memory")
            eq(lines[2]["blank"], False, "blank")
            growth[how] = lines[3]["hwm_kb"] - lines[1]["hwm_kb"]
    finally:
        subprocess.run(["rm", "-rf", tmp], check=False)
    assert growth["capture"] > 6000, growth  # the measure sees a frame when there is one
    # About 1.3 MB in a release build (more with ASan's redzones and quarantine).
    assert growth["stream"] < 3500 and growth["stream"] < growth["capture"] / 2, growth


def captured_colour(display=None):
    """Captures the whole screen; returns the mean of each channel (0..1) of the JPEG."""
    path = os.path.join("/tmp", f"stint-x11-shot-{os.getpid()}.jpg")
    try:
        _, lines, _ = probe("capture", "all", "save", path, env=xenv(display))
        with open(path, "rb") as f:
            assert f.read(2) == b"\xff\xd8", "not a JPEG"
        out = subprocess.run(["convert", path, "-format",
                              "%[fx:mean.r] %[fx:mean.g] %[fx:mean.b]", "info:"],
                             capture_output=True, text=True, timeout=60).stdout.split()
        return [float(v) for v in out]
    finally:
        if os.path.exists(path):
            os.unlink(path)


@tap.test
def test_capture_memory_is_released_after_a_while():
    # The screen is read in stripes through one shared segment of a stripe's
    # size (1920 x 64 x 4 bytes = 480 KB), never a second copy of the whole
    # screen (8,100 KB); the segment stays for a burst of captures, then
    # goes, so that nothing of a screenshot stays resident until the next one.
    x("xsetroot", "-mod", "16", "16")
    _, lines, _ = probe("capture", "all", "capture", "all", "memory", "activity", "6", "memory")
    during, after = lines[3], lines[5]
    assert 400 <= during["shmem_kb"] <= 560, during
    assert after["shmem_kb"] < 100, after


def rows_of(path, h):
    """The mean colour of each row of an image, as (r, g, b) in 0..255."""
    out = subprocess.run(["convert", path, "-resize", f"1x{h}!", "-depth", "8", "txt:-"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = {}
    for m in re.finditer(r"^0,(\d+): \((\d+),(\d+),(\d+)", out, re.M):
        rows[int(m.group(1))] = tuple(int(v) for v in m.group(2, 3, 4))
    return [rows[y] for y in range(h)]


def paint_gradient(tmp, w, h, display):
    """Red at the top to blue at the bottom, on the root window: a stripe read into the
    wrong place, even by a few rows, changes its rows' colour."""
    picture = os.path.join(tmp, "rows.png")
    subprocess.run(["convert", "-size", f"{w}x{h}", "gradient:#ff2000-#0020ff", picture],
                   check=True, timeout=60)
    # display(1) exits non-zero once it has set the background; callers check the screen.
    subprocess.run(["display", "-window", "root", picture], env=xenv(display),
                   capture_output=True, timeout=60)


def worst_row_against_screen(size, display, how="capture"):
    """Paints a vertical gradient on the root window, captures it with the backend
    (a frame, or `stream`: the rows straight into the JPEG, as the recorder does) and
    with ImageMagick's import, and returns the largest difference between the
    two in any row's mean colour (0..255), with that row."""
    tmp = os.path.join("/tmp", f"stint-x11-rows-{os.getpid()}")
    os.makedirs(tmp, exist_ok=True)
    try:
        w, h = size
        paint_gradient(tmp, w, h, display)
        shot = os.path.join(tmp, "shot.jpg")
        probe(how, "all", "save", shot, env=xenv(display))
        ref = os.path.join(tmp, "ref.png")
        subprocess.run(["import", "-window", "root", ref], env=xenv(display), check=True,
                       timeout=60)
        want, got = rows_of(ref, h), rows_of(shot, h)
        assert want[0][0] > 200 and want[-1][2] > 200, ("the gradient is not on the screen",
                                                         want[0], want[-1])
        return max((max(abs(a - b) for a, b in zip(want[y], got[y])), y) for y in range(h))
    finally:
        subprocess.run(["rm", "-rf", tmp], check=False)


@tap.test
def test_capture_matches_the_screen_row_for_row():
    # 1080 rows are sixteen stripes of 64 and a last one that overlaps the one
    # before: every row must come out as import(1) sees it. JPEG at q70 moves
    # a row's mean by a level or two; a stripe misplaced by a few rows moves it
    # by more than five.
    for how in ("capture", "stream"):
        worst = worst_row_against_screen((1920, 1080), None, how)
        assert worst[0] <= 4, (how, worst)
    # The same through the socket, on a display without MIT-SHM, 600 rows high.
    xvfb = Xvfb(size="800x600", extra=("-extension", "MIT-SHM"))
    try:
        for how in ("capture", "stream"):
            worst = worst_row_against_screen((800, 600), xvfb.display, how)
            assert worst[0] <= 4, (how, worst)
    finally:
        xvfb.stop()


@tap.test
def test_pixels_come_back_in_rgb_order():
    # Orange must stay orange (not blue) through the BGRX to RGB conversion.
    x("xsetroot", "-solid", "#ff8000")
    r, g, b = captured_colour()
    assert r > 0.95 and 0.4 < g < 0.6 and b < 0.05, (r, g, b)


@tap.test
def test_16_bit_display():
    # A 16-bit (5-6-5) visual, as some VNC sessions use, converts too.
    xvfb = Xvfb(depth=16, size="800x600")
    try:
        x("xsetroot", "-solid", "#ff8000", display=xvfb.display)
        r, g, b = captured_colour(xvfb.display)
        assert r > 0.95 and 0.4 < g < 0.6 and b < 0.05, (r, g, b)
    finally:
        xvfb.stop()


@tap.test
def test_capture_without_shared_memory():
    # A display without MIT-SHM (remote, or a locked-down server) still
    # captures, through plain XGetImage.
    xvfb = Xvfb(size="800x600", extra=("-extension", "MIT-SHM"))
    try:
        assert "MIT-SHM" not in x("xdpyinfo", display=xvfb.display), "MIT-SHM still there"
        x("xsetroot", "-solid", "#ff8000", display=xvfb.display)
        r, g, b = captured_colour(xvfb.display)
        assert r > 0.95 and 0.4 < g < 0.6 and b < 0.05, (r, g, b)
    finally:
        xvfb.stop()


@tap.test
def test_lost_display_is_an_error_not_an_exit():
    # Xlib's answer to a closed connection is exit(); the backend must see it
    # first and return an error, so that the tracker can save its work.
    xvfb = Xvfb(size="640x480")
    # The backend leaves the dead connection's Display allocated, on purpose.
    env = dict(xenv(xvfb.display), ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
               ":detect_leaks=0")
    p = subprocess.Popen([PROBE, "activity", "5"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    try:
        eq(json.loads(p.stdout.readline()), {"ready": True}, "ready")
        xvfb.stop()
        out, err = p.communicate(timeout=60)
    finally:
        xvfb.stop()
        if p.poll() is None:
            p.kill()
            p.communicate()
    eq(p.returncode, 1, "exit code")
    assert "input stopped" in err, err
    assert "X connection" not in err and "XIO" not in err, err
    eq(json.loads(out.splitlines()[-1]), {"captures": 0}, "last line")


@tap.test
def test_no_capture_unless_asked():
    # Everything a stopped timer does, with input arriving: no capture call.
    def inputs():
        x("xdotool", "key", "b", "click", "1", "mousemove_relative", "3", "3")
    counts, captures = probe_while(inputs)
    assert counts["keys"] == 1 and counts["mouse"] >= 2, counts
    eq(captures, 0, "capture calls")
    _, lines, _ = probe("idle", "monitors", "activity", "0.2", "idle")
    eq(lines[-1], {"captures": 0}, "capture calls")


def code_of(path):
    """The C source without comments and string literals."""
    with open(path) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return re.sub(r'"(\\.|[^"\\])*"', '""', text)


@tap.test
def test_source_never_reads_key_codes():
    # Supplementary to the counts above: which key was pressed is the raw
    # event's `detail`, or a keysym lookup. Neither may appear in the backend.
    tracker = os.path.join(SRC, "tracker")
    backend = code_of(os.path.join(tracker, "platform", "x11.c"))
    assert not re.search(r"\bdetail\b", backend), "x11.c reads the raw event's detail"
    for name in ("XI_RawKeyPress", "XI_RawButtonPress", "XI_RawMotion", "sourceid"):
        assert name in backend, f"x11.c no longer mentions {name}: is the check still valid?"
    lookups = re.compile(r"\b(XLookupKeysym|XLookupString|XKeycodeToKeysym|XkbKeycodeToKeysym|"
                         r"XmbLookupString|Xutf8LookupString|XkbLookupKeySym|XIQueryPointer|"
                         r"XQueryPointer)\b")
    for root, _, files in os.walk(tracker):
        for name in files:
            if name.endswith((".c", ".h")):
                path = os.path.join(root, name)
                found = lookups.search(code_of(path))
                assert not found, f"{path} calls {found.group(0)}"


if __name__ == "__main__":
    try:
        tap.main()
    finally:
        if Xvfb.shared:
            Xvfb.shared.stop()
