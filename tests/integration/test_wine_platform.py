"""The Windows platform backend (tracker/platform/win32.c), verified under
Wine 8: tests/windows/win32-probe.exe reports what the backend counted, how
idle the desktop is, which monitors it sees and what it captured, while
xdotool types and clicks into Wine's virtual desktop (with X focus forced on
it) and tests/windows/sendinput.exe injects input with SendInput.

What Wine cannot show, and these tests do not claim: hooks seeing input to
programs that are not Wine's, real DPI scaling, the lock screen and sleep,
DXGI. A screenshot is compared with the X server's own picture (xwd -root)
outside the virtual desktop, where Wine's screen is the X root window.

Needs wine, Xvfb, xdotool, xsetroot and xwd (scripts/deps.sh), and the cross
build (make windows) for the two programs; a missing one fails the test.
"""
import ctypes
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wine_env as w  # noqa: E402
from harness import eq, tap  # noqa: E402

PROBE = os.path.join(w.WIN_BUILD, "tests", "windows", "win32-probe.exe")
SENDINPUT = os.path.join(w.WIN_BUILD, "tests", "windows", "sendinput.exe")
DESKTOP = "stintprobe"


def lines_of(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def probe(*commands, desktop=None, timeout=60):
    """Runs the probe to its end; returns its JSON lines (ready first, captures last)."""
    w.need_file(PROBE, "the Windows probe")
    if desktop:
        p = w.Program([PROBE, *commands], desktop=desktop)
        rc = p.wait(timeout)
        assert rc == 0, f"win32-probe {commands} exit {rc}: {p.err}"
        return lines_of(p.stdout)
    r = w.run([PROBE, *commands], timeout=timeout)
    return lines_of(r.stdout)


_desktops = 0


def counting(action, seconds=4.0):
    """Counts input while action() runs and for the rest of `seconds`; returns
    (counts, capture calls).

    Under Wine 8 only the program that made a virtual desktop sees its input
    through low-level hooks (a hook installed by a later program in the same
    desktop is never called), so each count has a desktop of its own, made by
    the probe. The probe first discards 5 s of input: the set-up, X focus
    forced on the desktop and a click into it so it has the keyboard; the
    discarded click proves the set-up happened inside that window."""
    global _desktops
    w.need_file(PROBE, "the Windows probe")
    _desktops += 1
    name = f"{DESKTOP}{_desktops}"
    p = w.Program([PROBE, "discard", "5", "activity", str(seconds)], desktop=name)
    p.wait_out('"ready"', 60)
    wid = w.focus_desktop(name)
    w.xdo("mousemove", "--window", wid, "640", "400")
    w.xdo("click", "1")
    set_up = json.loads(p.wait_out('"discarded"', 60))["discarded"]
    assert set_up["mouse"] >= 1, f"the set-up click was not seen: {set_up}"
    action(name)
    rc = p.wait(seconds + 60)
    assert rc == 0, f"probe exit {rc}: {p.err}"
    out = lines_of(p.stdout)
    return out[2], out[-1]["captures"]


# Outside the virtual desktop first: once one has run, Wine's screen is its size.

@tap.test
def test_monitors_are_listed_verified_under_wine8():
    out = probe("monitors")
    mons = out[1]["monitors"]
    eq(len(mons), 1, "monitors")
    m = mons[0]
    eq((m["x"], m["y"], m["width"], m["height"]), (0, 0, 1280, 1024), "the X screen's geometry")
    eq(m["primary"], True, "primary")
    eq(m["name"], "\\\\.\\DISPLAY1", "the name from GetMonitorInfoW's szDevice")
    eq(out[-1], {"captures": 0}, "no capture while listing monitors")


@tap.test
def test_describe_names_the_routes():
    out = probe("describe")
    d = out[1]["describe"]
    assert d.startswith("win32: input WH_KEYBOARD_LL/WH_MOUSE_LL hooks"), d
    assert "capture GDI BitBlt" in d, d


def read_ppm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n", 3)
    assert parts[0] == b"P6", parts[0]
    width, height = map(int, parts[1].split())
    eq(parts[2], b"255", "maxval")
    pix = parts[3]
    eq(len(pix), width * height * 3, "pixel bytes")
    return width, height, pix


def read_xwd(path):
    """An xwd dump of a TrueColor screen as (width, height, packed RGB)."""
    with open(path, "rb") as f:
        data = f.read()
    h = struct.unpack(">25I", data[:100])
    header_size, fmt, depth, width, height = h[0], h[2], h[3], h[4], h[5]
    byte_order, bpp, bpl = h[7], h[11], h[12]
    rmask, gmask, bmask, ncolors = h[14], h[15], h[16], h[19]
    eq(fmt, 2, "ZPixmap")
    assert bpp == 32 and depth == 24, (bpp, depth)
    start = header_size + ncolors * 12
    order = "<" if byte_order == 0 else ">"

    def shift(mask):
        return (mask & -mask).bit_length() - 1
    rs, gs, bs = shift(rmask), shift(gmask), shift(bmask)
    out = bytearray(width * height * 3)
    for y in range(height):
        row = struct.unpack_from(f"{order}{width}I", data, start + y * bpl)
        o = y * width * 3
        for v in row:
            out[o] = (v >> rs) & 0xff
            out[o + 1] = (v >> gs) & 0xff
            out[o + 2] = (v >> bs) & 0xff
            o += 3
    return width, height, bytes(out)


def xenv():
    return dict(os.environ, DISPLAY=w.display())


def capture_matches_xwd(scene):
    """Paints scene on the root window, captures it with the backend outside
    the virtual desktop and compares with xwd -root; returns the capture's report."""
    w.need("xsetroot", "xwd")
    # The test's Xvfb resets (and forgets the painted root) when its last client
    # leaves: this process holds a connection of its own until the comparison is done.
    xlib = ctypes.CDLL("libX11.so.6")
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    # A connection refused while the server resets after its last client left: again.
    dpy = w.wait_for(lambda: xlib.XOpenDisplay(w.display().encode()), 10, 0.1)
    assert dpy, f"cannot open {w.display()}"
    try:
        return _capture_matches_xwd(scene)
    finally:
        xlib.XCloseDisplay(dpy)


def _capture_matches_xwd(scene):
    subprocess.run(["xsetroot", *scene], env=xenv(), check=True, timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        ppm = os.path.join(tmp, "shot.ppm")
        xwd = os.path.join(tmp, "root.xwd")
        out = probe("capture", "all", w.winpath(ppm))
        report = out[1]
        assert "error" not in report, report
        eq(out[-1], {"captures": 1}, "capture calls")
        subprocess.run(["xwd", "-root", "-silent", "-out", xwd], env=xenv(), check=True,
                       timeout=30)
        cw, ch, cpix = read_ppm(ppm)
        xw, xh, xpix = read_xwd(xwd)
        eq((cw, ch), (xw, xh), "size")
        eq((report["width"], report["height"]), (xw, xh), "reported size")
        if cpix != xpix:
            bad = next(i for i in range(len(cpix)) if cpix[i] != xpix[i]) // 3
            raise AssertionError(f"pixel ({bad % cw},{bad // cw}) differs: capture "
                                 f"{tuple(cpix[bad*3:bad*3+3])}, xwd {tuple(xpix[bad*3:bad*3+3])}")
        return report, cpix


@tap.test
def test_screenshot_matches_xwd_pixel_for_pixel_verified_under_wine8():
    # A plaid of two known colours: not blank, and every pixel known.
    report, pix = capture_matches_xwd(["-mod", "5", "3", "-fg", "#ff8000", "-bg", "#2040c0"])
    eq(report["single_colour"], False, "a plaid is not one colour")
    eq(set(pix[i:i + 3] for i in range(0, len(pix), 3)), {b"\xff\x80\x00", b"\x20\x40\xc0"},
       "the colours")


@tap.test
def test_a_single_colour_screen_is_still_a_frame_verified_under_wine8():
    # The backend hands a blank screen over as it is; the engine's blank check refuses it.
    report, pix = capture_matches_xwd(["-solid", "#336699"])
    eq(report["single_colour"], True, "one colour")
    eq(pix[:3], b"\x33\x66\x99", "the colour")


@tap.test
def test_a_missing_monitor_is_an_error():
    with tempfile.TemporaryDirectory() as tmp:
        out = probe("capture", "3", w.winpath(os.path.join(tmp, "x.ppm")))
    eq(out[1], {"error": "no monitor 3 (there are 1)"}, "report")
    eq(out[-1], {"captures": 1}, "the refused call is still counted")


@tap.test
def test_typed_keys_are_counted_exactly_verified_under_wine8():
    # 11 key downs: h e l l o space w o r l d; none of them injected.
    counts, captures = counting(lambda _: w.xdo("type", "--delay", "30", "hello world"))
    eq(counts["keys"], 11, "keys")
    eq(counts["mouse"], 0, "mouse")
    eq(counts["synthetic"], 0, "synthetic")
    eq(captures, 0, "capture calls while only counting input")


@tap.test
def test_shift_counts_as_a_key_verified_under_wine8():
    # "Hi" is Shift, h, i: three downs.
    counts, _ = counting(lambda _: w.xdo("type", "--delay", "30", "Hi"))
    eq(counts["keys"], 3, "keys")


@tap.test
def test_held_key_counts_once_verified_under_wine8():

    def hold(_):
        # Held for 1.5 s, well past the auto-repeat delay: Windows repeats the
        # key-down to the hook, and a repeat is not a new press.
        w.xdo("keydown", "a")
        time.sleep(1.5)  # the hold itself, not a wait for something
        w.xdo("keyup", "a")
    counts, _ = counting(hold)
    eq(counts["keys"], 1, "keys")


@tap.test
def test_clicks_and_wheel_steps_are_counted_exactly_verified_under_wine8():
    # Buttons 1 and 2 are clicks, 4 and 5 one wheel step each; the pointer does not move.
    counts, captures = counting(lambda _: w.xdo("click", "1", "click", "2", "click", "4",
                                              "click", "5"))
    eq(counts["mouse"], 4, "mouse")
    eq(counts["keys"], 0, "keys")
    eq(counts["synthetic"], 0, "synthetic")
    eq(captures, 0, "capture calls")


@tap.test
def test_motion_is_coalesced_verified_under_wine8():
    counts, _ = counting(lambda _: w.xdo("mousemove_relative", "5", "5"))
    eq(counts["mouse"], 1, "one move")

    def drag(_):
        w.xdo(*(["mousemove_relative", "--", "1", "1"] * 60))
    counts, _ = counting(drag)
    assert 1 <= counts["mouse"] < 60, counts


@tap.test
def test_sendinput_counts_as_synthetic_verified_under_wine8():
    w.need_file(SENDINPUT, "the SendInput helper")

    def inject(name):
        s = w.Program([SENDINPUT, "3", "2"], desktop=name)
        eq(s.wait(60), 0, f"sendinput exit ({s.err})")
        eq(lines_of(s.stdout), [{"keys": 3, "clicks": 2}], "sendinput's report")
    counts, _ = counting(inject)
    eq(counts["keys"], 3, "keys")
    eq(counts["mouse"], 2, "mouse")
    eq(counts["synthetic"], 5, "synthetic: every injected event")


def idle_ms(desktop):
    out = probe("idle", desktop=desktop)
    return out[1]["idle_ms"]


@tap.test
def test_idle_resets_on_input_verified_under_wine8():
    name = f"{DESKTOP}idle"
    keeper = w.Program([PROBE, "discard", "120"], desktop=name)  # keeps the desktop up
    try:
        keeper.wait_out('"ready"', 60)
        wid = w.focus_desktop(name)
        w.xdo("mousemove", "--window", wid, "640", "400")
        # Quiet for 2 s at least (polled, with a deadline), then one key press.
        assert w.wait_for(lambda: idle_ms(name) >= 2000, 30, 0.3), "idle never reached 2 s"
        # The probe takes a while to start under Wine: the idle time it reports must
        # be no more than the time since the key press, not the 2 s and more before it.
        t_key = time.monotonic()
        w.xdo("key", "shift")
        after = idle_ms(name)
        since_key = (time.monotonic() - t_key) * 1000
        assert 0 <= after <= since_key + 100, (after, since_key)
    finally:
        keeper.kill()


if __name__ == "__main__":
    try:
        tap.main()
    finally:
        w.cleanup()
