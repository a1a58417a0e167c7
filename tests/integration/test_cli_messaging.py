#!/usr/bin/env python3
"""Integration test of the messaging commands of the stint CLI (rooms, room,
messages, send, watch, search, files, download) against a real stintd on loopback.

Each person runs bin/stint with their own XDG dirs, signed in through
`stint login`, as a user would. `stint watch --json` runs as a subprocess
whose stdout lines are read with a deadline; a drop of its connection is
made by a small TCP relay between the CLI and stintd that the test cuts.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import atexit
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from harness import STINT, Server, eq, tap

PASSWORD = "correct horse battery"
HOMES = []  # each CLI user's dirs, removed at exit
atexit.register(lambda: [shutil.rmtree(h, ignore_errors=True) for h in HOMES])


class Person:
    """One user at one machine: an account, and a CLI signed in with its own dirs."""

    def __init__(self, server, role, name, url=None):
        self.server = server
        self.url = url or server.url
        self.account = server.user(role, name=name, password=PASSWORD)
        self.id = self.account["id"]
        self.token = self.account["token"]
        self.email = self.account["email"]
        self.home = tempfile.mkdtemp(prefix="stint-msg-cli-")
        HOMES.append(self.home)
        p = self.stint("login", "--email", self.email, "--password-stdin",
                       stdin=PASSWORD + "\n")
        assert p.returncode == 0, show(p)

    def elsewhere(self, url, login=True):
        """The same account on another machine (its own dirs) that reaches stintd at url."""
        other = Person.__new__(Person)
        other.__dict__.update(self.__dict__)
        other.url = url
        other.home = tempfile.mkdtemp(prefix="stint-msg-cli-")
        HOMES.append(other.home)
        if login:
            p = other.stint("login", "--email", self.email, "--password-stdin",
                            stdin=PASSWORD + "\n")
            assert p.returncode == 0, show(p)
        return other

    def env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("STINT_") and not k.lower().endswith("_proxy")}
        env.update(HOME=self.home, XDG_CONFIG_HOME=os.path.join(self.home, "config"),
                   XDG_DATA_HOME=os.path.join(self.home, "data"), STINT_SERVER=self.url,
                   LC_ALL="C.UTF-8", TZ="UTC", STINT_NO_KEYRING="1")
        return env

    def stint(self, *args, stdin=None, timeout=120):
        # start_new_session: no controlling terminal, so nothing prompts.
        return subprocess.run([STINT, *args], input=stdin, capture_output=True, text=True,
                              env=self.env(), timeout=timeout, start_new_session=True)

    def json(self, *args):
        p = self.stint(*args, "--json")
        assert p.returncode == 0, show(p)
        return json.loads(p.stdout)

    def watch(self, *args):
        return Watch(self, args)


def show(p):
    return f"exit {p.returncode}\nstdout: {p.stdout!r}\nstderr: {p.stderr!r}"


class Lines:
    """Reads whole lines from a pipe with a deadline, without blocking past it."""

    def __init__(self, f):
        self.fd = f.fileno()
        self.buf = b""
        self.seen = []

    def next(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            data = os.read(self.fd, 65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        line = line.decode()
        self.seen.append(line)
        return line

    def until(self, pred, timeout=30, what="a line"):
        deadline = time.monotonic() + timeout
        while True:
            line = self.next(max(0.0, deadline - time.monotonic()))
            assert line is not None, f"no {what} within {timeout} s; seen: {self.seen[-20:]}"
            if pred(line):
                return line


class Watch:
    """`stint watch ARGS` as a subprocess, with its stdout and stderr read line by line."""

    def __init__(self, person, args):
        self.proc = subprocess.Popen([STINT, "watch", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=person.env(),
                                     start_new_session=True)
        self.out = Lines(self.proc.stdout)
        self.err = Lines(self.proc.stderr)

    def events(self, pred=None, timeout=30, what="an event"):
        line = self.out.until(lambda l: pred is None or pred(json.loads(l)), timeout, what)
        return json.loads(line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc


class Relay:
    """A TCP relay to stintd that the test can cut, to drop the CLI's connections."""

    def __init__(self, port):
        self.upstream = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.up = True
        self.lock = threading.Lock()
        self.socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                if not self.up:
                    c.close()  # down: the connection opens and drops at once
                    continue
                u = socket.create_connection(("127.0.0.1", self.upstream))
                self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        """Drops every connection and refuses new ones until resume()."""
        with self.lock:
            self.up = False
            socks, self.socks = self.socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def resume(self):
        with self.lock:
            self.up = True

    def close(self):
        self.cut()
        self.listener.close()


def setup(title="Logo design", *server_args):
    s = Server(*server_args)
    client = Person(s, "client", "Carla Client")
    freelancer = Person(s, "freelancer", "Fred Free")
    c = s.contract(client.account, freelancer.account, title=title)
    return s, client, freelancer, c


def post(s, person, room_id, text, **extra):
    r = s.post(f"rooms/{room_id}/messages", dict(text=text, **extra), person.token)
    assert r.status == 201, r
    return r.json["message"]


@tap.test
def test_rooms_lists_the_contract_room():
    s, client, freelancer, c = setup()
    p = client.stint("rooms")
    assert p.returncode == 0, show(p)
    line = next((l for l in p.stdout.splitlines() if "Logo design" in l), None)
    assert line, show(p)
    for word in ("contract", "Carla Client", "Fred Free", f"c-{c['id']}"):
        assert word in line, (word, line)
    rooms = client.json("rooms")["rooms"]
    eq(len(rooms), 1, "rooms")
    room = rooms[0]
    eq(room["id"], f"c-{c['id']}", "room id")
    eq(room["kind"], "contract", "kind")
    eq(sorted(m["user_id"] for m in room["members"]), sorted([client.id, freelancer.id]),
       "members")


@tap.test
def test_send_and_read_back():
    s, client, freelancer, c = setup()
    p = freelancer.stint("send", "Logo", "First sketch is ready\nsecond line")
    assert p.returncode == 0 and "First sketch is ready" in p.stdout, show(p)
    p = freelancer.stint("send", "logo d", "Any feedback?")  # a prefix, any case
    assert p.returncode == 0, show(p)

    unread = client.json("rooms")["rooms"][0]["unread"]
    eq(unread, 2, "unread before reading")
    p = client.stint("messages", "Logo")
    assert p.returncode == 0, show(p)
    lines = p.stdout.splitlines()
    first = next(i for i, l in enumerate(lines) if "Fred Free: First sketch is ready" in l)
    eq(lines[first + 1], "    second line", "continuation line")
    second = next(i for i, l in enumerate(lines) if "Fred Free: Any feedback?" in l)
    assert first < second, "oldest first: " + p.stdout
    eq(client.json("rooms")["rooms"][0]["unread"], 0, "unread after reading")

    # The room by its id and by its contract's id.
    for name in (f"c-{c['id']}", c["id"]):
        p = client.stint("messages", name, "--limit", "1")
        assert p.returncode == 0 and "Any feedback?" in p.stdout \
            and "First sketch" not in p.stdout and "--before" in p.stdout, show(p)


@tap.test
def test_json_shapes_and_paging():
    s, client, freelancer, c = setup()
    sent = [freelancer.json("send", "Logo", f"message {i}")["message"] for i in range(3)]
    for m in sent:
        assert m["author"] == {"id": freelancer.id, "name": "Fred Free"} or \
            m["author"]["id"] == freelancer.id, m
        eq(m["room_id"], f"c-{c['id']}", "room_id")
        eq(m["files"], [], "files")
        eq(m["deleted"], False, "deleted")
    page = client.json("messages", "Logo", "--limit", "2")
    eq([m["text"] for m in page["messages"]], ["message 2", "message 1"], "newest first")
    eq(page["next_before"], sent[1]["id"], "next_before")
    older = client.json("messages", "Logo", "--before", page["next_before"])
    eq([m["text"] for m in older["messages"]], ["message 0"], "the older page")
    reply = client.json("send", "Logo", "thanks", "--reply-to", sent[0]["id"])["message"]
    eq(reply["reply_to"], sent[0]["id"], "reply_to")
    p = client.stint("messages", "Logo", "--ids")
    assert f"[{sent[0]['id']}]" in p.stdout and f"(reply to {sent[0]['id']})" in p.stdout, \
        show(p)
    p = client.stint("messages", "Logo")
    assert 'Carla Client (replying to Fred Free: "message 0"): thanks' in p.stdout, show(p)


@tap.test
def test_send_file_streams_and_downloads_identical():
    s, client, freelancer, c = setup()
    d = tempfile.mkdtemp(prefix="stint-msg-file-")
    try:
        path = os.path.join(d, "résumé final.bin")
        data = os.urandom(6 * 1024 * 1024 + 123)
        with open(path, "wb") as f:
            f.write(data)
        small = os.path.join(d, "notes.txt")
        with open(small, "w") as f:
            f.write("plain notes\n")
        m = freelancer.json("send", "Logo", "the files", "--file", path,
                            "--file", small)["message"]
        eq([f["name"] for f in m["files"]], ["résumé final.bin", "notes.txt"], "names")
        eq(m["files"][0]["size"], len(data), "size")
        r = s.get(f"files/{m['files'][0]['id']}", client.token)
        eq(r.status, 200, "download status")
        eq(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(data).hexdigest(), "bytes")
        p = client.stint("messages", "Logo")
        assert "file: résumé final.bin (6.0 MiB)" in p.stdout and "file: notes.txt" in p.stdout, \
            show(p)
        # Only files: the text may be empty.
        p = freelancer.stint("send", "Logo", "", "--file", small)
        assert p.returncode == 0, show(p)
        # Not a file: exit 1, nothing sent.
        p = freelancer.stint("send", "Logo", "x", "--file", d)
        assert p.returncode == 1 and "not a regular file" in p.stderr, show(p)
        p = freelancer.stint("send", "Logo", "x", "--file", os.path.join(d, "missing"))
        assert p.returncode == 1 and "cannot open" in p.stderr, show(p)
        eq(len(client.json("messages", "Logo")["messages"]), 2, "messages sent")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@tap.test
def test_send_file_over_the_limit_is_refused():
    s, client, freelancer, c = setup("Logo design", "--max-file-mb", "1")
    d = tempfile.mkdtemp(prefix="stint-msg-file-")
    try:
        path = os.path.join(d, "big.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(3 * 1024 * 1024))
        p = freelancer.stint("send", "Logo", "too big", "--file", path)
        assert p.returncode == 4 and "stint: refused: " in p.stderr, show(p)
        eq(client.json("messages", "Logo")["messages"], [], "nothing posted")
    finally:
        shutil.rmtree(d, ignore_errors=True)


@tap.test
def test_watch_receives_the_other_partys_message():
    s, client, freelancer, c = setup()
    w = client.watch("--json")
    try:
        welcome = w.events(lambda e: e.get("type") == "welcome", what="the welcome")
        assert welcome["user_id"] == client.id, welcome
        p = freelancer.stint("send", "Logo", "live hello")
        assert p.returncode == 0, show(p)
        ev = w.events(lambda e: e.get("type") == "message.created", what="the message")
        eq(ev["message"]["text"], "live hello", "text")
        eq(ev["room_id"], f"c-{c['id']}", "room_id")
        assert ev["id"].isdigit(), ev
    finally:
        rc = w.stop()
    eq(rc, 0, "exit status after SIGINT")

    # The human form: room title, author, text on one line. It prints
    # nothing before the first event, so it replays from the last one seen
    # rather than racing the connection.
    w = client.watch("--since", ev["id"])
    try:
        post(s, freelancer, f"c-{c['id']}", "human form")
        line = w.out.until(lambda l: "human form" in l, what="the human line")
        assert "[Logo design] Fred Free: human form" in line, line
    finally:
        eq(w.stop(), 0, "exit status after SIGINT")


@tap.test
def test_watch_replays_since_and_after_a_drop_exactly_once():
    s, client, freelancer, c = setup()
    room = f"c-{c['id']}"
    relay = Relay(s.port)
    try:
        viewer = client.elsewhere(relay.url)

        first = post(s, freelancer, room, "before the watch")
        w = viewer.watch("--json", "--since", "0")
        try:
            ev = w.events(lambda e: e.get("type") == "message.created", what="the replay")
            eq(ev["message"]["id"], first["id"], "replayed message")
            second = post(s, freelancer, room, "live one")
            w.events(lambda e: e.get("type") == "message.created"
                     and e["message"]["id"] == second["id"], what="the live message")

            relay.cut()
            w.err.until(lambda l: "reconnecting" in l, what="the drop noticed")
            missed = post(s, freelancer, room, "sent while the line was down")
            relay.resume()
            w.events(lambda e: e.get("type") == "message.created"
                     and e["message"]["id"] == missed["id"], timeout=60,
                     what="the missed message")
            w.err.until(lambda l: "reconnected" in l, what="the reconnect")
            last = post(s, freelancer, room, "after the reconnect")
            w.events(lambda e: e.get("type") == "message.created"
                     and e["message"]["id"] == last["id"], what="the message after")
        finally:
            eq(w.stop(), 0, "exit status after SIGINT")
        created = [json.loads(l) for l in w.out.seen]
        created = [e["message"]["id"] for e in created if e.get("type") == "message.created"]
        eq(created, [first["id"], second["id"], missed["id"], last["id"]],
           "each message once, in order")
        welcomes = [l for l in w.out.seen if '"welcome"' in l]
        assert len(welcomes) >= 2, w.out.seen
    finally:
        relay.close()


@tap.test
def test_terminal_escapes_are_stripped():
    s, client, freelancer, c = setup()
    room = f"c-{c['id']}"
    evil = ("\x1b]0;pwned title\x07\x1b[2J\x1b[31mred\x1b[0m text\rover\x07bell "
            "\x9b31mc1\u202eevil\x1bPdcs\x1b\\end")
    post(s, freelancer, room, evil)
    for args in (("messages", "Logo"), ("search", "text")):
        p = client.stint(*args)
        assert p.returncode == 0, show(p)
        out = p.stdout
        for bad in ("\x1b", "\x07", "\r", "\x9b", "\u202e", "pwned", "dcs"):
            assert bad not in out, (args, bad, out)
        assert "red text?over?bell" in out and "end" in out, (args, out)
    # --json keeps the text as written (escaped by JSON).
    m = client.json("messages", "Logo")["messages"][0]
    eq(m["text"], evil, "text in --json")


@tap.test
def test_group_room_add_archive_leave():
    s, client, freelancer, c = setup()
    other = Person(s, "freelancer", "Olga Other")
    s.contract(client.account, other.account, title="Other work")
    p = client.stint("room", "create", "Team", "--member", freelancer.id,
                     "--member", "olga other")
    assert p.returncode == 0 and "Team" in p.stdout, show(p)
    team = next(r for r in client.json("rooms")["rooms"] if r["title"] == "Team")
    eq(team["kind"], "group", "kind")
    eq(sorted(m["user_id"] for m in team["members"]),
       sorted([client.id, freelancer.id, other.id]), "members")
    # A stranger shares no contract: refused, with the server's word.
    stranger = Person(s, "freelancer", "Sam Stranger")
    p = client.stint("room", "create", "Nope", "--member", stranger.id)
    assert p.returncode == 4 and "refused" in p.stderr, show(p)
    p = client.stint("room", "create", "Nope", "--member", stranger.email)
    assert p.returncode == 2 and "by id or by name" in p.stderr, show(p)

    p = freelancer.stint("room", "leave", "Team")
    assert p.returncode == 0, show(p)
    assert "Team" not in freelancer.stint("rooms").stdout
    p = client.stint("room", "add", "Team", "Fred Free")
    assert p.returncode == 0, show(p)
    p = client.stint("room", "archive", "Team")
    assert p.returncode == 0, show(p)
    p = client.stint("rooms")
    assert "Team" not in p.stdout and "Logo design" in p.stdout, show(p)
    p = client.stint("rooms", "--all")
    assert any("Team" in l and "archived" in l for l in p.stdout.splitlines()), show(p)
    p = client.stint("send", "Team", "into the archive")
    assert p.returncode == 4, show(p)


@tap.test
def test_search():
    s, client, freelancer, c = setup()
    room = f"c-{c['id']}"
    post(s, freelancer, room, "The invoice for October")
    post(s, freelancer, room, "Unrelated words")
    p = client.stint("search", "invoi")
    assert p.returncode == 0 and "[Logo design] Fred Free: The invoice for October" in p.stdout \
        and "Unrelated" not in p.stdout, show(p)
    found = client.json("search", "invoice")["messages"]
    eq([m["text"] for m in found], ["The invoice for October"], "found")
    p = client.stint("search", "nothingmatches")
    assert p.returncode == 0 and "no messages found" in p.stdout, show(p)


@tap.test
def test_usage_errors_and_refusals():
    s, client, freelancer, c = setup()
    usage = [
        ("send",), ("send", "Logo"), ("send", "Logo", ""), ("send", "Logo", "a", "b"),
        ("messages",), ("messages", "Logo", "--limit", "0"),
        ("messages", "Logo", "--limit", "101"), ("messages", "Logo", "--bogus"),
        ("watch", "--since", "abc"), ("watch", "extra"), ("room",), ("room", "frob"),
        ("room", "create", "T"), ("room", "add", "Logo"), ("search",),
        ("search", "x", "--limit", "x"), ("rooms", "extra"),
    ]
    for args in usage:
        p = client.stint(*args)
        assert p.returncode == 2 and p.stderr.startswith("stint: "), (args, show(p))
    p = client.stint("send", "Logo", "x", *sum((["--file", "/dev/null"] for _ in range(11)), []))
    assert p.returncode == 2, show(p)
    # An unknown room: refused (4); an ambiguous prefix: usage (2), the candidates listed.
    p = client.stint("messages", "No such room")
    assert p.returncode == 4, show(p)
    s.contract(client.account, freelancer.account, title="Logo animation")
    p = client.stint("messages", "Logo")
    assert p.returncode == 2 and "Logo design" in p.stderr and "Logo animation" in p.stderr, \
        show(p)
    # A token the server revoked: watch hears it from the WebSocket (3).
    with open(os.path.join(client.home, "config", "stint", "auth.json")) as f:
        token = json.load(f)["token"]
    eq(s.post("logout", token=token).status, 204, "logout")
    p = client.stint("watch")
    assert p.returncode == 3 and "not signed in" in p.stderr, show(p)
    # Not signed in: 3.
    nobody = client.elsewhere(s.url, login=False)
    for args in (("rooms",), ("messages", "Logo"), ("watch",), ("send", "Logo", "x")):
        p = nobody.stint(*args)
        assert p.returncode == 3, (args, show(p))


@tap.test
def test_files_lists_and_download_saves_identical_bytes():
    s, client, freelancer, c = setup()
    d = tempfile.mkdtemp(prefix="stint-msg-dl-")
    try:
        path = os.path.join(d, "résumé final.bin")
        data = os.urandom(3 * 1024 * 1024 + 77)
        with open(path, "wb") as f:
            f.write(data)
        notes = os.path.join(d, "notes.txt")
        with open(notes, "w") as f:
            f.write("plain notes\n")
        p = client.stint("files", "Logo")
        assert p.returncode == 0 and "no files in this room" in p.stdout, show(p)
        first = freelancer.json("send", "Logo", "the data", "--file", path)["message"]
        second = freelancer.json("send", "Logo", "the notes", "--file", notes)["message"]
        big_id, notes_id = first["files"][0]["id"], second["files"][0]["id"]

        # The table: newest first, with size, type, who and id.
        p = client.stint("files", "Logo")
        assert p.returncode == 0, show(p)
        lines = p.stdout.splitlines()
        assert lines[0].split()[:3] == ["NAME", "SIZE", "TYPE"], show(p)
        eq(len(lines), 3, "header and two files")
        assert lines[1].startswith("notes.txt") and notes_id in lines[1] \
            and "Fred Free" in lines[1] and "text/plain" in lines[1], show(p)
        assert lines[2].startswith("résumé final.bin") and "3.0 MiB" in lines[2] \
            and big_id in lines[2], show(p)
        files = client.json("files", "Logo")["files"]
        eq([f["id"] for f in files], [notes_id, big_id], "--json, newest first")
        eq(files[1]["message_id"], first["id"], "message_id")
        eq(files[1]["author"]["id"], freelancer.id, "author")

        # Default name: the server's, in the current directory.
        out = os.path.join(d, "out")
        os.mkdir(out)
        p = subprocess.run([STINT, "download", big_id], capture_output=True, text=True,
                           env=client.env(), cwd=out, timeout=120, start_new_session=True)
        assert p.returncode == 0 and "saved résumé final.bin" in p.stdout, show(p)
        with open(os.path.join(out, "résumé final.bin"), "rb") as f:
            eq(hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(data).hexdigest(),
               "downloaded bytes")
        eq(sorted(os.listdir(out)), ["résumé final.bin"], "no temporary file left")

        # Again: the file exists, so it is refused (1) and left as it was.
        with open(os.path.join(out, "résumé final.bin"), "wb") as f:
            f.write(b"mine")
        p = subprocess.run([STINT, "download", big_id], capture_output=True, text=True,
                           env=client.env(), cwd=out, timeout=120, start_new_session=True)
        assert p.returncode == 1 and "exists" in p.stderr and "--force" in p.stderr, show(p)
        with open(os.path.join(out, "résumé final.bin"), "rb") as f:
            eq(f.read(), b"mine", "the existing file is kept")
        eq(sorted(os.listdir(out)), ["résumé final.bin"], "no temporary file left")

        # -o PATH: refused when it exists, replaced with --force.
        target = os.path.join(d, "copy.txt")
        with open(target, "w") as f:
            f.write("keep me")
        p = client.stint("download", notes_id, "-o", target)
        assert p.returncode == 1 and "exists" in p.stderr, show(p)
        with open(target) as f:
            eq(f.read(), "keep me", "-o target kept")
        p = client.stint("download", notes_id, "-o", target, "--force")
        assert p.returncode == 0, show(p)
        with open(target) as f:
            eq(f.read(), "plain notes\n", "-o target replaced with --force")
        # -o DIR: the server's name inside it; -o -: stdout.
        p = client.stint("download", notes_id, "-o", out)
        assert p.returncode == 0, show(p)
        with open(os.path.join(out, "notes.txt")) as f:
            eq(f.read(), "plain notes\n", "-o DIR")
        p = client.stint("download", notes_id, "-o", "-")
        assert p.returncode == 0, show(p)
        eq(p.stdout, "plain notes\n", "-o - writes to stdout")

        # The client, a member of the room, gets it too; a stranger gets 4, and no file.
        stranger = Person(s, "freelancer", "Sam Stranger")
        lost = os.path.join(d, "stranger.bin")
        p = stranger.stint("download", big_id, "-o", lost)
        assert p.returncode == 4 and "stint: refused: " in p.stderr, show(p)
        assert not os.path.exists(lost), "nothing written for a refusal"
        eq(sorted(os.listdir(d)), sorted(["résumé final.bin", "notes.txt", "out", "copy.txt"]),
           "no temporary file left after a refusal")
        p = stranger.stint("files", f"c-{c['id']}")
        assert p.returncode == 4, show(p)
        p = stranger.stint("download", "no-such-file", "-o", lost)
        assert p.returncode == 4, show(p)

        # Usage errors.
        for args in (("download",), ("download", big_id, "extra"), ("download", big_id, "-o"),
                     ("download", "", "-o", lost), ("files",), ("files", "Logo", "extra")):
            p = client.stint(*args)
            assert p.returncode == 2 and p.stderr.startswith("stint: "), (args, show(p))
    finally:
        shutil.rmtree(d, ignore_errors=True)


@tap.test
def test_watch_without_a_server_fails_fast():
    s, client, freelancer, c = setup()
    s.stop()
    p = client.stint("watch", timeout=60)
    assert p.returncode == 1 and "cannot reach" in p.stderr, show(p)


if __name__ == "__main__":
    tap.main()
