#!/usr/bin/env python3
"""Integration test of the desktop app's Messages view: the real GTK 4 app
(stint-tracker) on its own Xvfb and session bus, signed in as the
freelancer, against a real stintd; the client talks through the HTTP API.

What the app shows is read from the app (dev.stint.Tracker.State.Get():
the rooms and thread as the widgets show them, the header's unread badge,
the notifications sent for messages); the user's side is driven with
xdotool (typing in the composer, Enter) and the app's actions on D-Bus
(org.gtk.Actions: open-messages, open-room — what a notification's click
runs — and messages-attach / messages-save for what the file choosers
would hand over).

Covers: the tracker page stays the first page and the Messages page is not
built until opened; the unread count in the header; the thread with user
text shown as text (markup in it is not interpreted) and links; a message
from the client arriving live, a notification for it while the window is
not focused, its click opening the room, which is then marked read; a reply
typed in the composer reaching the server; "edited" and "deleted" live; a
file attached (streamed up) and a file saved (byte-identical); a server
restart: the app reconnects with `since` and shows what was posted
meanwhile exactly once. Screenshots go to $STINT_BUILD_ROOT/desktop-shots.
"""
import hashlib
import os
import subprocess
import tempfile

from desktop_harness import SEG, App, Person, desktop_env, wait_for
from harness import Server, eq, tap


def contract_room(srv, p):
    r = srv.get("rooms", p.user["token"])
    assert r.status == 200, r
    return next(room for room in r.json["rooms"] if room.get("contract_id") == p.contract["id"])


def post(srv, who, room_id, text, file_ids=None):
    body = {"text": text}
    if file_ids:
        body["file_ids"] = file_ids
    r = srv.post(f"rooms/{room_id}/messages", body, who["token"])
    assert r.status == 201, r
    return r.json["message"]


def messages_on_server(srv, who, room_id):
    r = srv.get(f"rooms/{room_id}/messages?limit=100", who["token"])
    assert r.status == 200, r
    return list(reversed(r.json["messages"]))


def unfocus(app):
    """Gives the X input focus to the root window: the app's window is no longer active."""
    r = subprocess.run(["xwininfo", "-root"], env=app.env, capture_output=True, text=True,
                       timeout=20, check=True)
    root = next(line.split()[3] for line in r.stdout.splitlines() if "Window id:" in line)
    subprocess.run(["xdotool", "windowfocus", root], env=app.env, check=True,
                   capture_output=True, timeout=20)
    app.wait(lambda s: not s["window"]["active"], 10, "the window to lose the focus")


def shot(app, name):
    """A picture of the window once the pages have stopped sliding."""
    app.wait(lambda s: not s["window"]["moving"] and not s["window"]["messages"]["moving"], 10,
             "the page transitions to end")
    return app.shot(name)


def thread(s):
    return (s["window"].get("messages") or {}).get("thread") or []


def texts(s):
    return [m["text"] for m in thread(s) if m.get("id")]


@tap.test
def test_messages_live_notification_reply():
    srv = Server(segment_s=SEG)
    p = Person(srv)
    room = contract_room(srv, p)
    rid = room["id"]
    eq(room["title"], p.contract["title"], "the contract's room")
    hostile = "Welcome aboard! <b>not bold</b> &amp; the brief: https://example.com/brief?v=2&x=1."
    first = post(srv, p.client, rid, hostile)
    p.login_cli()
    app = App(p)
    try:
        # The tracker is the first page; Messages waits, built only when opened, with the
        # unread count in the header.
        s = app.wait(lambda s: s["messages"]["connected"] and s["messages"]["unread"] == 1 and
                     s["window"]["messages_badge"] == "1", 30, "the unread count in the header")
        eq(s["window"]["page"], "timer", "first page")
        eq(s["window"]["messages"], None, "the Messages page before it is opened")

        app.action("open-messages")
        s = app.wait(lambda s: s["window"]["page"] == "messages" and
                     s["window"]["messages"]["rooms"] and
                     s["window"]["messages"]["rooms"][0]["preview"].startswith("Acme Studio: "),
                     20, "the room list")
        row = s["window"]["messages"]["rooms"][0]
        eq(row["id"], rid, "room")
        eq(row["title"], p.contract["title"], "room title")
        eq(row["unread"], "1", "unread badge")
        shot(app, "09-messages-rooms")

        # The room, in the focused window: the message shows as written, and it is read.
        app.focus()
        app.action("open-room", rid)
        s = app.wait(lambda s: texts(s) == [hostile] and s["messages"]["unread"] == 0, 20,
                     "the thread, marked read")
        m = thread(s)[-1]
        eq(m["author"], "Acme Studio", "author")
        eq(m["links"], ["https://example.com/brief?v=2&x=1"], "the link, without the full stop")
        eq(m["id"], first["id"], "message id")
        assert not m["own"] and not m["edited"] and not m["deleted"], m
        eq(s["window"]["messages_badge"], None, "badge once read")
        eq(s["window"]["messages"]["room_title"], p.contract["title"], "thread title")
        assert wait_for(lambda: contract_room(srv, p)["unread"] == 0, 10), "read on the server"

        # Not focused: a message from the client arrives live and is a notification.
        unfocus(app)
        post(srv, p.client, rid, "Can you send the mockups today?")
        s = app.wait(lambda s: texts(s)[-1:] == ["Can you send the mockups today?"] and
                     s["message_notifications"]["sent"] == 1, 20, "the live message")
        last = s["message_notifications"]["last"]
        eq(last["room_id"], rid, "notification's room")
        eq(last["body"], "Can you send the mockups today?", "notification's text")
        assert last["title"].startswith("Acme Studio"), last
        # Unseen: the window is not active, so it stays unread.
        eq(s["messages"]["unread"], 1, "unread while the window is not focused")

        # The notification's click opens the room; once the window is active it is read.
        app.action("open-room", rid)
        app.focus()
        s = app.wait(lambda s: s["window"]["active"] and s["messages"]["unread"] == 0 and
                     s["window"]["messages"]["page"] == "thread", 20, "the room, read")
        assert wait_for(lambda: contract_room(srv, p)["unread"] == 0, 10), "read on the server"

        # A reply typed in the composer, Enter: it reaches the server.
        app.type("On it: mockups by 5pm")
        app.keys("Return")
        s = app.wait(lambda s: texts(s)[-1:] == ["On it: mockups by 5pm"] and
                     s["window"]["messages"]["composer"] == "", 20, "the reply in the thread")
        assert thread(s)[-1]["own"], thread(s)
        on_server = messages_on_server(srv, p.client, rid)
        eq(on_server[-1]["text"], "On it: mockups by 5pm", "reply on the server")
        eq(on_server[-1]["author"]["id"], p.user["id"], "reply's author")
        # One's own message is no notification.
        eq(s["message_notifications"]["sent"], 1, "notifications")

        # Edits and deletions by the client show live.
        second = on_server[-2]
        r = srv.patch(f"messages/{second['id']}", {"text": "Can you send the mockups today, "
                                                   "please?"}, p.client["token"])
        assert r.status == 200, r
        oops = post(srv, p.client, rid, "Wrong room, sorry")
        app.wait(lambda s: texts(s)[-1:] == ["Wrong room, sorry"], 20, "the message to delete")
        r = srv.delete(f"messages/{oops['id']}", p.client["token"])
        assert r.status == 204, r
        s = app.wait(lambda s: [(m["text"], m["edited"], m["deleted"]) for m in thread(s)] == [
            (hostile, False, False),
            ("Can you send the mockups today, please?", True, False),
            ("On it: mockups by 5pm", False, False),
            ("This message was deleted", False, True)], 20, "edited and deleted")
        # "Wrong room" came while the window was focused: no notification for it.
        eq(s["message_notifications"]["sent"], 1, "notifications while focused")
        shot(app, "10-messages-thread")
        # Escape goes back to the rooms, which show the newest message and nothing unread.
        app.keys("Escape")
        s = app.wait(lambda s: s["window"]["messages"]["page"] == "rooms", 10, "the room list")
        row = s["window"]["messages"]["rooms"][0]
        eq(row["preview"], "Acme Studio: Message deleted", "preview")
        eq(row["unread"], None, "unread badge")
    finally:
        rc = app.terminate()
    eq(rc, 0, "exit status")


@tap.test
def test_messages_files_and_reconnect():
    srv = Server("--max-file-mb", "2", segment_s=SEG)
    p = Person(srv)
    rid = contract_room(srv, p)["id"]
    p.login_cli()
    work = tempfile.mkdtemp(prefix="stint-desk-files-")
    app = App(p)
    try:
        app.wait(lambda s: s["messages"]["connected"], 30, "connected")
        app.action("open-messages")
        app.focus()
        app.action("open-room", rid)
        app.wait(lambda s: s["window"]["messages"]["page"] == "thread" and
                 s["window"]["messages"]["thread"] == [], 20, "the empty thread")

        # A file attached in the app goes up streamed, with its name, and arrives intact.
        data = os.urandom(1024 * 1024 + 17)
        path = os.path.join(work, "mockups v2 (final).bin")
        with open(path, "wb") as f:
            f.write(data)
        app.action("messages-attach", path)
        app.wait(lambda s: s["window"]["messages"]["attachment"] == "mockups v2 (final).bin", 10,
                 "the attachment")
        app.type("Here are the mockups")
        app.keys("Return")
        s = app.wait(lambda s: thread(s) and thread(s)[-1]["files"] and
                     s["window"]["messages"]["attachment"] is None, 60, "the file sent")
        eq(thread(s)[-1]["text"], "Here are the mockups", "text with the file")
        sent = messages_on_server(srv, p.client, rid)[-1]
        eq([f["name"] for f in sent["files"]], ["mockups v2 (final).bin"], "file name")
        r = srv.get(f"files/{sent['files'][0]['id']}", p.client["token"])
        assert r.status == 200 and hashlib.sha256(r.body).digest() == \
            hashlib.sha256(data).digest(), (r.status, len(r.body))

        # A file over the server's limit is refused, said, and the text is kept to try again.
        big = os.path.join(work, "too big.bin")
        with open(big, "wb") as f:
            f.truncate(3 * 1024 * 1024)
        app.action("messages-attach", big)
        app.action("messages-send", "The big one")
        s = app.wait(lambda s: (s["window"]["messages"]["notice"] or "").startswith("Not sent")
                     and not s["window"]["messages"]["sending"], 30, "the refusal")
        eq(s["window"]["messages"]["composer"], "The big one", "text kept")
        eq(s["window"]["messages"]["attachment"], "too big.bin", "attachment kept")
        eq(texts(s), ["Here are the mockups"], "nothing sent")
        print("# refused:", s["window"]["messages"]["notice"], flush=True)
        shot(app, "11-messages-too-large")
        app.keys("ctrl+a")
        app.keys("BackSpace")
        app.wait(lambda s: s["window"]["messages"]["composer"] == "", 10, "the composer cleared")

        # A file from the client, saved from the app to disk: the same bytes.
        theirs = os.urandom(200 * 1024)
        r = srv.post("files", token=p.client["token"], raw=theirs,
                     headers={"X-Filename": "brief%20%C3%A9t%C3%A9.pdf",
                              "Content-Type": "application/octet-stream"})
        assert r.status == 201, r
        file_id = r.json["file"]["id"]
        post(srv, p.client, rid, "", [file_id])
        s = app.wait(lambda s: thread(s)[-1]["files"] and
                     thread(s)[-1]["files"][0]["name"] == "brief été.pdf", 20, "their file")
        dest = os.path.join(work, "saved.pdf")
        args = f'[<("{file_id}", "{dest}")>]'
        r = subprocess.run(["gdbus", "call", "--session", "--dest", "dev.stint.Tracker",
                            "--object-path", "/dev/stint/Tracker", "--method",
                            "org.gtk.Actions.Activate", "messages-save", args, "{}"],
                           env=app.env, capture_output=True, text=True, timeout=20)
        assert r.returncode == 0, r.stderr
        s = app.wait(lambda s: (s["window"]["messages"]["notice"] or "").startswith("Saved"), 20,
                     "the file saved")
        with open(dest, "rb") as f:
            eq(f.read() == theirs, True, "saved bytes")
        shot(app, "12-messages-files")

        # The server goes away and comes back on the same port: the app reconnects with
        # `since`, and what was posted before it did shows once, in order.
        port = srv.port
        srv.stop()
        app.wait(lambda s: not s["messages"]["connected"], 30, "the app to notice")
        srv.extra += ["--listen", f"127.0.0.1:{port}"]
        srv.start()
        words = [f"while you were away {i}" for i in range(5)]
        for w in words:
            post(srv, p.client, rid, w)
        s = app.wait(lambda s: s["messages"]["connected"] and texts(s)[-5:] == words, 60,
                     "the replay")
        eq(len(texts(s)), len(set(m["id"] for m in thread(s))), "each message once")
        eq(texts(s).count(words[0]), 1, "replayed once")
        post(srv, p.client, rid, "and live again")
        app.wait(lambda s: texts(s)[-1:] == ["and live again"], 20, "live after the reconnect")
        s = app.state()
        eq(len(texts(s)), 8, "messages in the thread")
    finally:
        rc = app.terminate()
    eq(rc, 0, "exit status")


desktop_env()
tap.main()
