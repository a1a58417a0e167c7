#!/usr/bin/env python3
"""Integration test of the desktop app (stint-tracker): the real GTK 4 app
on its own Xvfb (1280x1024) and session bus, against a real stintd with
30-second segments, driven with xdotool as a person would: typing into the
sign-in form, Ctrl+M for the memo, Ctrl+Space to start and stop, Ctrl+W and
Ctrl+Q.

What the app shows is read from the app itself: GtkApplication exports
dev.stint.Tracker.State.Get() on the session bus, a JSON string of the
window's labels, the bars as drawn, the dialogs open (read with gdbus).
Waits poll for a condition with a deadline; nothing sleeps in its place.

Covers: sign in through the form (a wrong password first), the sign-in
shared with the CLI both ways (also while the app runs: `stint logout` and
`stint login` in a terminal sign it out and in); tracking with xdotool input moving the bars;
a screenshot taken, shown as the thumbnail and uploaded; stop; the idle
prompt with a one-minute threshold, answered; a second tracker on the same
journal said clearly, and the app taking over once it quits; closing the
window keeps tracking in the background, launching again shows it, Quit asks
first; the sign-in in a real Secret Service (gnome-keyring-daemon on a bus of
its own) shared both ways with the CLI; a start while the server does not
answer (SIGSTOP) leaving the window responsive; deleting an uploaded segment
from the app. Window screenshots go to $STINT_BUILD_ROOT/desktop-shots/*.png.

Fails (does not skip) when the app was not built: CI installs GTK 4.
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

from harness import BUILD, STINT, Server, eq, tap

from desktop_harness import (APP, SEG, SHOTS, WINDOW_NAME, App, Person, desktop_env,  # noqa: F401
                             wait_for, xdo)


def start_tracking(app, memo):
    app.keys("ctrl+m")
    app.type(memo)
    app.keys("ctrl+space")
    return app.wait(lambda s: s["tracking"] and s["window"]["state"].startswith("Tracking"), 30,
                    "the timer to run")


@tap.test
def test_sign_in_through_the_form():
    srv = Server(segment_s=SEG)
    p = Person(srv)
    app = App(p)
    try:
        s = app.wait(lambda s: s["window"]["page"] == "signin", 10, "the sign-in page")
        assert not s["signed_in"], s
        app.shot("01-sign-in")
        # The server is filled in from $STINT_SERVER; the focus is in the email field.
        app.type(p.user["email"])
        app.keys("Tab")
        app.type("not the password")
        app.keys("Return")
        s = app.wait(lambda s: "wrong" in s["window"]["signin_message"], 20,
                     "the wrong password to be said")
        assert not s["signed_in"] and not os.path.exists(p.auth_path), s
        app.shot("02-sign-in-wrong-password")
        app.keys("ctrl+a")
        app.type(p.user["password"])
        app.keys("Return")
        s = app.wait(lambda s: s["signed_in"] and s["window"]["page"] == "timer" and
                     s["window"]["contract_id"] == p.contract["id"], 20, "the timer page")
        eq(s["email"], p.user["email"], "email")
        eq(s["busy"], False, "busy")
        app.wait(lambda s: s["window"]["week"].startswith("0:00 of 40:00"), 20, "the week")
        app.shot("03-signed-in")
        # The sign-in is the CLI's: one file, private, that `stint` uses as it is...
        eq(os.stat(p.auth_path).st_mode & 0o777, 0o600, "auth.json mode")
        r = p.cli("whoami")
        assert r.returncode == 0 and p.user["email"] in r.stdout, (r.stdout, r.stderr)
        # ...and what the CLI does to it, the running app follows.
        r = p.cli("logout")
        assert r.returncode == 0, r.stderr
        app.wait(lambda s: not s["signed_in"] and s["window"]["page"] == "signin" and
                 "signed out" in s["window"]["signin_message"], 20, "the app to sign out")
        p.login_cli()
        app.wait(lambda s: s["signed_in"] and s["window"]["page"] == "timer" and
                 s["window"]["contract_id"] == p.contract["id"], 20, "the app to sign in again")
    finally:
        app.terminate()


@tap.test
def test_track_input_screenshot_stop():
    srv = Server(segment_s=SEG)
    p = Person(srv)
    p.login_cli()  # `stint login` signs the app in too
    app = App(p)
    try:
        app.wait(lambda s: s["signed_in"] and s["window"]["contract_id"] == p.contract["id"],
                 20, "the app to be signed in by the CLI's login")
        start_tracking(app, "Hero section of the landing page")
        # Input moves the bars: keys and pointer motion, counted (never recorded).
        deadline = time.monotonic() + 40
        moved = None
        while time.monotonic() < deadline and not moved:
            xdo("mousemove_relative", "--", "6", "0")
            xdo("key", "shift")
            time.sleep(0.3)
            xdo("mousemove_relative", "--", "-6", "0")
            s = app.state()
            moved = s and any(b["input"] and b["level"] > 0.2 for b in s["window"]["bars"])
        assert moved, app.state()
        s = app.wait(lambda s: s["activity"] >= 1 and s["window"]["activity_text"]
                     .startswith("Activity"), 10, "the activity count")
        # One screenshot per segment: it shows as the thumbnail.
        s = app.wait(lambda s: s["last_shot_segment"] and s["window"]["shot_shown"], SEG + 15,
                     "the thumbnail")
        shot_segment = s["last_shot_segment"]

        # A picture of the window while the bars of the current segment show input.
        def busy_bars(s):
            xdo("mousemove_relative", "--", "3", "0")
            xdo("key", "shift")
            xdo("mousemove_relative", "--", "-3", "0")
            return sum(b["input"] for b in s["window"]["bars"]) >= 3
        app.wait(busy_bars, SEG + 10, "three bars with input")
        app.shot("04-tracking")
        app.keys("ctrl+space")
        s = app.wait(lambda s: not s["tracking"] and s["window"]["state"] == "Not tracking",
                     20, "the timer to stop")
        app.wait(lambda s: s["queue"] == 0 and s["window"]["queue_text"] == "All uploaded", 60,
                 "the queue to drain")
        app.shot("05-stopped")
    finally:
        rc = app.terminate()
    eq(rc, 0, "exit status")
    segs = p.diary()
    assert segs, "no segment on the server"
    for seg in segs:
        eq(seg["memo"], "Hero section of the landing page", "memo")
    assert sum(seg["tracked_s"] for seg in segs) > 0, segs
    assert any(seg["activity"] >= 1 for seg in segs), segs
    shot = next((seg for seg in segs if seg["id"] == shot_segment), None)
    assert shot and (shot.get("screenshot") or {}).get("status") == "ok", segs
    r = srv.get(f"segments/{shot_segment}/screenshot", p.client["token"])
    assert r.status == 200 and r.body[:2] == b"\xff\xd8", r


@tap.test
def test_idle_prompt_limit_and_no_thumbnail():
    srv = Server(segment_s=SEG)
    p = Person(srv, weekly_limit_s=60)
    p.login_cli()
    # tracker.conf, as Preferences writes it: a one-minute idle threshold, no thumbnail.
    p.settings("idle_minutes = 1\nshow_thumbnail = false\n")
    app = App(p)
    try:
        s = app.wait(lambda s: s["signed_in"] and s["window"]["contract_id"], 20, "signed in")
        assert not s["window"]["shot_card_visible"], s
        eq(s["window"]["week"], "0:00 of 0:01 h", "week against the limit")
        start_tracking(app, "Reading the brief")
        # No input for a minute: the weekly limit of one minute is warned about on the way...
        app.wait(lambda s: "weekly limit" in (s["window"]["banner"] or ""), 100,
                 "the weekly-limit warning")
        # ...and then the engine asks, and the app shows the prompt.
        s = app.wait(lambda s: s["window"]["idle_prompt"] and
                     s["window"]["state"].startswith("Idle since"), 100, "the idle prompt")
        assert s["tracking"], s
        assert s["last_shot_segment"] and not s["window"]["shot_shown"], s
        app.screen_shot("06-idle-prompt")
        app.action("idle-answer", "keep")
        s = app.wait(lambda s: not s["window"]["idle_prompt"] and
                     s["window"]["state"].startswith("Tracking"), 10, "the prompt to close")
        assert s["tracking"], s
    finally:
        rc = app.terminate()
    eq(rc, 0, "exit status")
    segs = p.diary()
    assert segs and all(seg["memo"] == "Reading the brief" for seg in segs), segs
    assert any("idle_kept" in seg["flags"] for seg in segs), segs


@tap.test
def test_second_tracker_is_said():
    srv = Server(segment_s=SEG)
    p = Person(srv)
    p.login_cli()
    track = subprocess.Popen([STINT, "track", "--contract", p.contract["id"], "--memo",
                              "from the terminal"], env=p.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        line = track.stdout.readline()
        assert line.startswith("tracking contract"), (line, track.stderr.read())
        app = App(p)
        try:
            s = app.wait(lambda s: s["busy"] and "Another stint tracker" in
                         (s["window"]["banner"] or "") and s["window"]["contract_id"], 20,
                         "the busy banner")
            assert str(track.pid) in s["window"]["banner"], s
            assert not s["window"]["can_toggle"], s
            app.shot("07-another-tracker")
            track.send_signal(signal.SIGINT)
            track.wait(timeout=60)
            # The app looks again by itself and takes over the journal.
            s = app.wait(lambda s: s["engine"] and not s["busy"] and s["window"]["can_toggle"],
                         20, "the app to take over")
            assert s["window"]["banner"] is None, s
        finally:
            app.terminate()
    finally:
        if track.poll() is None:
            track.kill()
            track.wait()
        track.stdout.close()
        track.stderr.close()


@tap.test
def test_close_keeps_tracking_and_quit_asks():
    srv = Server(segment_s=SEG)
    p = Person(srv)
    p.login_cli()
    app = App(p)
    try:
        app.wait(lambda s: s["signed_in"] and s["window"]["contract_id"], 20, "signed in")
        start_tracking(app, "Background work")
        # Closing the window keeps tracking: the app stays, hidden, and says so.
        app.keys("ctrl+w")
        s = app.wait(lambda s: s["background"] and not s["window"]["visible"], 10,
                     "the window to hide")
        assert s["tracking"], s
        # Launching the app again shows the running one's window.
        second = subprocess.run([APP], env=p.env, capture_output=True, text=True, timeout=30)
        eq(second.returncode, 0, f"second launch: {second.stderr}")
        s = app.wait(lambda s: s["window"]["visible"] and not s["background"], 10,
                     "the window to come back")
        assert s["tracking"], s
        # Quit asks first while the timer runs; Escape keeps tracking.
        app.keys("ctrl+q")
        app.wait(lambda s: s["quit_dialog"], 10, "the quit question")
        app.screen_shot("08-quit-asks", 900, 960)
        xdo("key", "Escape")
        s = app.wait(lambda s: not s["quit_dialog"], 10, "the question to close")
        assert s["tracking"] and app.proc.poll() is None, s
    finally:
        rc = app.terminate()
    eq(rc, 0, "exit status")
    segs = p.diary()
    assert segs and all(seg["memo"] == "Background work" for seg in segs), segs


def private_bus(env):
    """A session bus of its own (for a keyring that the other tests must not see); its address."""
    rfd, wfd = os.pipe()
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", f"--print-address={wfd}"],
                           pass_fds=(wfd,), env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    os.close(wfd)
    with os.fdopen(rfd) as f:
        address = f.readline().strip()
    assert address, "dbus-daemon did not start"
    return bus, address


def gdbus(env, dest, path, method, *args):
    r = subprocess.run(["gdbus", "call", "--session", "--dest", dest, "--object-path", path,
                        "--method", method, *args], env=env, capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0, (method, r.stderr)
    return r.stdout.strip()


def keyring_tokens(env):
    """The object paths of the keyring items of stint's schema (unlocked, locked)."""
    out = gdbus(env, "org.freedesktop.secrets", "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.SearchItems", "{'xdg:schema': 'dev.stint.Token'}")
    return out.count("/org/freedesktop/secrets/collection/")


def auth_json(p):
    with open(p.auth_path) as f:
        text = f.read()
    return text, json.loads(text)


@tap.test
def test_sign_in_in_the_keyring():
    """With a Secret Service on the bus (GNOME Keyring, headless), the token lives there."""
    if not shutil.which("gnome-keyring-daemon"):
        raise AssertionError("gnome-keyring-daemon is not installed (scripts/deps.sh installs "
                             "gnome-keyring)")
    srv = Server(segment_s=SEG)
    p = Person(srv)
    bus, address = private_bus(p.env)
    p.env["DBUS_SESSION_BUS_ADDRESS"] = address
    # --unlock with a password on stdin creates the login keyring, unlocked: no prompt.
    keyring = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock",
                                "--components=secrets"], env=p.env, stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
    app = None
    try:
        keyring.stdin.write("keyring password")
        keyring.stdin.close()
        assert wait_for(lambda: "true" in gdbus(
            p.env, "org.freedesktop.DBus", "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner", "org.freedesktop.secrets"), 20), \
            "gnome-keyring-daemon did not take org.freedesktop.secrets"

        # `stint login`: the token goes to the keyring, auth.json only says so.
        p.login_cli()
        text, doc = auth_json(p)
        eq(doc.get("token_in"), "keyring", "token_in")
        assert "token" not in doc and "st_" not in text, text
        eq(os.stat(p.auth_path).st_mode & 0o777, 0o600, "auth.json mode")
        eq(keyring_tokens(p.env), 1, "tokens in the keyring")
        r = p.cli("whoami")
        assert r.returncode == 0 and p.user["email"] in r.stdout, (r.stdout, r.stderr)
        # Without the keyring (STINT_NO_KEYRING=1) the token cannot be had, and it is said.
        r = subprocess.run([STINT, "whoami"], env=dict(p.env, STINT_NO_KEYRING="1"),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode != 0 and "keyring" in r.stderr, (r.stdout, r.stderr)

        # The app reads the same sign-in from the keyring...
        app = App(p)
        app.wait(lambda s: s["signed_in"] and s["window"]["page"] == "timer" and
                 s["window"]["contract_id"] == p.contract["id"], 20,
                 "the app to be signed in from the keyring")
        # ...and its sign-out removes the token from the keyring and the file for the CLI.
        app.action("sign-out")
        app.wait(lambda s: not s["signed_in"] and s["window"]["page"] == "signin", 20,
                 "the app to sign out")
        assert not os.path.exists(p.auth_path)
        eq(keyring_tokens(p.env), 0, "tokens in the keyring after the app's sign-out")
        r = p.cli("whoami")
        assert r.returncode != 0 and "not signed in" in r.stderr, (r.stdout, r.stderr)

        # Signing in through the app's form signs the CLI in, through the keyring. The form
        # keeps the email of the sign-out, with the focus in the password field.
        app.type(p.user["password"])
        app.keys("Return")
        app.wait(lambda s: s["signed_in"] and s["window"]["page"] == "timer", 20,
                 "the app to sign in")
        text, doc = auth_json(p)
        assert doc.get("token_in") == "keyring" and "token" not in doc, text
        eq(keyring_tokens(p.env), 1, "tokens in the keyring after the app's sign-in")
        r = p.cli("whoami")
        assert r.returncode == 0 and p.user["email"] in r.stdout, (r.stdout, r.stderr)

        # `stint logout` clears both, and the running app follows.
        r = p.cli("logout")
        assert r.returncode == 0, r.stderr
        app.wait(lambda s: not s["signed_in"] and s["window"]["page"] == "signin", 20,
                 "the app to follow `stint logout`")
        eq(keyring_tokens(p.env), 0, "tokens in the keyring after `stint logout`")

        # STINT_NO_KEYRING=1 keeps the token in the 0600 file, keyring or not.
        r = subprocess.run([STINT, "login", "--email", p.user["email"], "--password-stdin"],
                           env=dict(p.env, STINT_NO_KEYRING="1"), input=p.user["password"] + "\n",
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        text, doc = auth_json(p)
        assert doc.get("token", "").startswith("st_") and "token_in" not in doc, text
        eq(keyring_tokens(p.env), 0, "tokens in the keyring with STINT_NO_KEYRING=1")
        app.wait(lambda s: s["signed_in"] and s["window"]["page"] == "timer", 20,
                 "the app to follow the file sign-in")
    finally:
        if app:
            app.terminate()
        for proc in (keyring, bus):
            proc.terminate()
            proc.wait(timeout=30)


@tap.test
def test_slow_server_start_and_delete_segment():
    """A start waits for the server on a worker: the window answers meanwhile. Then a segment
    uploaded from the app is deleted from the app, and the server no longer has it."""
    srv = Server(segment_s=SEG)
    p = Person(srv)
    p.login_cli()
    app = App(p)
    stopped = False
    try:
        app.wait(lambda s: s["signed_in"] and s["window"]["contract_id"] == p.contract["id"],
                 20, "signed in")
        app.keys("ctrl+m")
        app.type("Slow server")
        # The server stops answering (its socket still takes connections): the terms wait.
        srv.proc.send_signal(signal.SIGSTOP)
        stopped = True
        app.keys("ctrl+space")
        s = app.wait(lambda s: s["window"]["starting"] and s["window"]["state"] == "Starting…",
                     5, "the window to say Starting… while the server is stopped")
        assert not s["window"]["toggle_sensitive"] and not s["window"]["can_toggle"], s
        assert not s["tracking"], s
        # The window keeps answering while the start waits: a second look, still pending.
        s = app.state()
        assert s and s["window"]["starting"] and not s["tracking"], s
        srv.proc.send_signal(signal.SIGCONT)
        stopped = False
        s = app.wait(lambda s: s["tracking"] and s["window"]["state"].startswith("Tracking") and
                     not s["window"]["starting"] and s["window"]["toggle_sensitive"], 30,
                     "the timer to run once the server answers")

        # A screenshot, a stop, the upload: then "delete this segment" from the app.
        app.wait(lambda s: s["last_shot_segment"], SEG + 15, "a screenshot")
        app.keys("ctrl+space")
        # The stop may take one more screenshot: the last one is the one the app offers to delete.
        s = app.wait(lambda s: not s["tracking"] and s["queue"] == 0, 60, "the upload")
        segment = s["last_shot_segment"]
        assert any(seg["id"] == segment for seg in p.diary()), p.diary()
        app.action("delete-last-segment")
        app.wait(lambda s: s["last_shot_segment"] is None, 20, "the segment to be deleted")
        r = srv.get(f"segments/{segment}", p.user["token"])
        assert r.status == 404 or (r.status == 200 and r.json["segment"]["deleted"]), r
        assert all(seg["id"] != segment for seg in p.diary()), p.diary()
        r = srv.get(f"segments/{segment}/screenshot", p.client["token"])
        assert r.status in (404, 410), r
    finally:
        if stopped:
            srv.proc.send_signal(signal.SIGCONT)
        rc = app.terminate()
    eq(rc, 0, "exit status")


tap.main()
