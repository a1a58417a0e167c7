"""The tray app (stint-tracker.exe), verified under Wine 8, against a real
stintd on loopback: it starts signed out, is signed in through its own
window (typed with xdotool into Wine's virtual desktop), tracks a contract
whose segments reach the Work Diary, opens the idle prompt after the idle
threshold (STINT_IDLE_MINUTES=1) and takes the answer; a second start
brings the first window forward and does not start a second tracker.

The app writes one line to standard error for each notable change
("stint-tracker: tracking"), which is how the test follows it; screenshots
of the whole Wine desktop (signed out, tracking, idle prompt) are saved in
<build>/screenshots/wine-tray-*.png for a person to look at.

What Wine cannot show: real notification-area behaviour, themes, DPI
scaling, focus rules, toasts. Needs wine, Xvfb, xdotool, ImageMagick's
import, the Linux build's stintd and the cross build's stint-tracker.exe.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wine_env as w  # noqa: E402
from harness import BUILD, Server, eq, tap  # noqa: E402

TRAY = os.path.join(w.WIN_BUILD, "windows", "tray", "stint-tracker.exe")
SHOTS = os.path.join(BUILD, "screenshots")
DESKTOP = "stinttray"
SEG = 30


def screenshot(name):
    """The whole X screen (Wine's desktop in it) as <build>/screenshots/wine-tray-NAME.png."""
    w.need("import")
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f"wine-tray-{name}.png")
    subprocess.run(["import", "-window", "root", path], env=dict(os.environ, DISPLAY=w.display()),
                   check=True, capture_output=True, timeout=60)
    return path


def err_line(app, text, timeout):
    """Waits for a line of the app's standard error holding text; returns it."""
    line = w.wait_for(lambda: next((l for l in app.err if text in l), None)
                      or (None if app.alive() else "exited"), timeout, 0.2)
    assert line and line != "exited", \
        f"no {text!r} from the app in {timeout} s; err={app.err[-20:]}"
    return line


def diary(srv, fl, contract):
    today = time.strftime("%Y-%m-%d", time.gmtime())
    yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
    r = srv.get(f"contracts/{contract['id']}/diary?from={yesterday}&to={today}&tz=UTC",
                fl["token"])
    assert r.status == 200, r
    return r.json["segments"]


@tap.test
def test_sign_in_track_idle_prompt_and_one_instance_verified_under_wine8():
    w.need_file(TRAY, "the tray app")
    srv = Server(segment_s=SEG)
    client = srv.user("client")
    fl = srv.user("freelancer")
    contract = srv.contract(client, fl, title="Wine work")
    w.reset_user_state()

    app = w.Program([TRAY], desktop=DESKTOP, env={"STINT_IDLE_MINUTES": "1"})
    try:
        err_line(app, "signed out view", 60)
        wid = w.focus_desktop(DESKTOP)
        # Into the server field (it has the focus), then Tab from field to field.
        w.xdo("mousemove", "--window", wid, "300", "90")
        w.xdo("click", "1")
        screenshot("signed-out")
        w.xdo("type", "--delay", "20", srv.url)
        w.xdo("key", "Tab")
        w.xdo("type", "--delay", "20", fl["email"])
        w.xdo("key", "Tab")
        w.xdo("type", "--delay", "20", fl["password"])
        w.xdo("key", "Return")
        line = err_line(app, "signed in as", 60)
        assert fl["email"] in line, line
        eq(err_line(app, "active contract", 30), "stint-tracker: 1 active contract",
           "the contract list")

        # Memo (required by default) through Ctrl+M, then Ctrl+Space starts.
        w.xdo("key", "ctrl+m")
        w.xdo("type", "--delay", "20", "porting to Windows")
        w.xdo("key", "ctrl+space")
        err_line(app, "tracking", 60)

        # A segment with input reaches the Work Diary: a Shift press a second (it types
        # nothing into the focused memo) until one is there, within a deadline.
        def uploaded_with_input():
            w.xdo("key", "shift")
            return [s for s in diary(srv, fl, contract)
                    if any(m["keys"] for m in s["minutes"])]
        segs = w.wait_for(uploaded_with_input, SEG * 4 + 60, 1)
        assert segs, (f"no segment with input in the diary: {diary(srv, fl, contract)}; "
                      f"the app said {app.err}")
        ids = [s["id"] for s in diary(srv, fl, contract)]
        eq(len(ids), len(set(ids)), "each segment once")
        eq(segs[0]["memo"], "porting to Windows", "the memo")
        eq(segs[0]["screenshot"]["status"], "ok", "the segment's screenshot")
        err_line(app, "screenshot taken", 30)
        screenshot("tracking")  # with the bars and the last screenshot

        # No input from here: the idle prompt opens after the 1-minute threshold.
        err_line(app, "idle prompt", 60 + SEG * 3 + 60)
        time.sleep(1)  # the window repaints after it comes forward; a picture, not a sync
        screenshot("idle-prompt")
        w.xdo("key", "alt+k")
        err_line(app, "idle answered keep", 30)
        # The idle time kept arrives too, flagged.
        kept = w.wait_for(lambda: [s for s in diary(srv, fl, contract)
                                   if "idle_kept" in s["flags"]], SEG * 3 + 60, 1)
        assert kept, f"no idle_kept segment: {diary(srv, fl, contract)}; the app said {app.err}"
        ids = [s["id"] for s in diary(srv, fl, contract)]
        eq(len(ids), len(set(ids)), "each segment once")

        # "Start at sign-in" (Alt+N) writes the Run key with this program and --background.
        run_key = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
        w.xdo("key", "alt+n")
        err_line(app, "start at sign-in on", 30)
        r = w.run(["reg", "query", run_key, "/v", "stint tracker"], check=False)
        assert "stint-tracker.exe" in r.stdout and "--background" in r.stdout, r
        w.xdo("key", "alt+n")
        err_line(app, "start at sign-in off", 30)
        r = w.run(["reg", "query", run_key, "/v", "stint tracker"], check=False)
        assert "stint-tracker.exe" not in r.stdout, r

        # A second start: no second tracker, the first one's window comes forward.
        second = w.Program([TRAY], desktop=DESKTOP)
        eq(second.wait(60), 0, "the second instance's exit code")
        assert any("already running" in l for l in second.err), second.err
        assert app.alive(), "the first instance ended"
        eq(sum("signed in as" in l for l in second.err), 0, "the second did not sign in")

        # Closing the window (Alt+F4) hides it; the timer goes on: another segment closes.
        closed = sum("segment" in l and "closed" in l for l in app.err)
        w.xdo("key", "alt+F4")
        err_line(app, "window closed", 30)
        assert w.wait_for(lambda: sum("segment" in l and "closed" in l for l in app.err) > closed,
                          SEG * 2 + 30, 0.5), f"no segment after the window closed: {app.err}"
        assert app.alive(), "the app ended when its window closed"
    finally:
        app.kill()
        srv.stop()


if __name__ == "__main__":
    try:
        tap.main()
    finally:
        w.cleanup()
