#!/usr/bin/env python3
"""The real-time channel, GET /api/v1/ws (docs/api.md "Real-time events"),
as a client notices it: the handshake, hello and welcome, live messages in
order, replay after a reconnect with nothing lost or doubled, typing, the
keep-alive, and the close codes for bad input, slow readers and a stop.

Each test starts its own stintd on a free loopback port; posts go through
the HTTP API (POST /rooms/{id}/messages) as a client's would. Timers the
tests cannot wait for (the 10 s hello, 30 s pings, 75 s idle) are shortened
through stintd's hidden STINTD_WS_*_MS variables.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import json
import os
import signal
import socket
import struct
import threading
import time

from harness import Server, eq, expect_error, tap
from wsclient import BINARY, PING, PONG, TEXT, WS, Closed, HandshakeError

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")


def stop_clean(srv):
    """Stops stintd with SIGTERM; it must exit 0 without a sanitizer report."""
    proc = srv.proc
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=30)
    except Exception:
        proc.kill()
        raise AssertionError("stintd did not stop within 30 s of SIGTERM")
    err = proc.stderr.read()
    srv.stop()
    assert rc == 0, f"stintd exited {rc}: {err[-3000:]}"
    for mark in SANITIZER_MARKS:
        assert mark not in err, f"sanitizer report: {err[-3000:]}"


def pair(env=None, **kw):
    """A server, a client and a freelancer with a contract, and its room's id."""
    srv = Server(env=env, **kw)
    a = srv.user("client", name="Carla Client")
    f = srv.user("freelancer", name="Fred Freelancer")
    c = srv.contract(a, f)
    return srv, a, f, "c-" + c["id"]


def post(srv, room, who, text):
    r = srv.post(f"rooms/{room}/messages", {"text": text}, who["token"])
    assert r.status == 201, r
    return r.json["message"]


def next_of_type(ws, type_, timeout=10):
    """The next event of that type (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        ev = ws.recv_json(max(0.1, deadline - time.monotonic()))
        if ev.get("type") == type_:
            return ev


def collect_messages(ws, n, timeout=30):
    """n message.created events, in the order they came."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        left = deadline - time.monotonic()
        assert left > 0, f"only {len(out)} of {n} messages came"
        ev = ws.recv_json(left)
        if ev.get("type") == "message.created":
            out.append(ev)
    return out


def connections(srv):
    return srv.get("health").json["websockets"]


def wait_connections(srv, n, timeout=15):
    """Polls /health until the hub holds n connections."""
    deadline = time.monotonic() + timeout
    while connections(srv) != n:
        assert time.monotonic() < deadline, f"the hub holds {connections(srv)}, not {n}"
        time.sleep(0.05)


@tap.test
def test_handshake_errors_are_json():
    srv = Server()
    r = srv.get("ws")
    expect_error(r, 426, what="a plain GET")
    eq(r.headers.get("Upgrade"), "websocket", "426 names the protocol")
    for key in ("abc", "", "!!!!!!!!!!!!!!!!!!!!!!==", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"):
        try:
            WS(srv.port, key=key)
            raise AssertionError(f"key {key!r} was taken")
        except HandshakeError as e:
            eq(e.status, 400, f"key {key!r}")
            assert json.loads(e.body)["error"]["code"] == "invalid_argument", e.body
    try:
        WS(srv.port, headers={"Sec-WebSocket-Version": "8"})
        raise AssertionError("version 8 was taken")
    except HandshakeError as e:
        eq(e.status, 426, "version 8")
        eq(e.headers.get("sec-websocket-version"), "13", "the version spoken")
    try:
        WS(srv.port, headers={"Connection": "keep-alive"})
        raise AssertionError("no Connection: Upgrade was taken")
    except HandshakeError as e:
        eq(e.status, 426, "no Connection: Upgrade")
    expect_error(srv.post("ws", {}), 405, what="POST /ws")
    # A good handshake (the client checks Sec-WebSocket-Accept), with the
    # Connection header as browsers send it.
    ws = WS(srv.port, headers={"Connection": "keep-alive, Upgrade"})
    ws.close()
    stop_clean(srv)


@tap.test
def test_hello_with_a_bad_token_is_closed_1008():
    srv = Server()
    a = srv.user("client")
    for hello in ({"type": "hello", "token": "st_" + "x" * 43},
                  {"type": "hello", "token": a["token"], "since": "12ab"},
                  {"type": "hello", "token": a["token"], "extra": 1},
                  {"type": "typing", "room_id": "c-x"},
                  {"type": "hello"}):
        ws = WS(srv.port)
        ws.send_json(hello)
        eq(ws.expect_close(), 1008, f"hello {hello}")
        ws.sock.close()
    ws = WS(srv.port)
    ws.send_text("not json")
    eq(ws.expect_close(), 1008, "not JSON")
    # After a good hello too: an unknown request or a second hello.
    for msg in ('{"type":"hello","token":"%s"}' % a["token"], '{"type":"shout"}', "[1,2]"):
        ws = WS(srv.port)
        ws.hello(a["token"])
        ws.send_text(msg)
        eq(ws.expect_close(), 1008, f"after hello: {msg}")
        ws.sock.close()
    stop_clean(srv)


@tap.test
def test_no_hello_in_time_is_closed_1008():
    srv = Server(env={"STINTD_WS_HELLO_TIMEOUT_MS": "400"})
    a = srv.user("client")
    t0 = time.monotonic()
    ws = WS(srv.port)
    eq(ws.expect_close(timeout=10), 1008, "no hello")
    assert time.monotonic() - t0 >= 0.35, "closed before the hello time ran out"
    # A hello in time keeps the connection past that time.
    ok = WS(srv.port)
    ok.hello(a["token"])
    wait_connections(srv, 1)
    c = srv.contract(a, srv.user("freelancer"))
    time.sleep(0.8)  # past the hello timeout: this is what is tested, not synchronisation
    post(srv, "c-" + c["id"], a, "still here")
    eq(next_of_type(ok, "message.created")["message"]["text"], "still here", "after the timeout")
    stop_clean(srv)


@tap.test
def test_two_members_see_each_others_messages_in_order():
    srv, a, f, room = pair()
    # An outsider with a room of their own.
    x = srv.user("client", name="Xavier")
    y = srv.user("freelancer")
    xroom = "c-" + srv.contract(x, y)["id"]
    wa, wf, wx = WS(srv.port), WS(srv.port), WS(srv.port)
    for ws, who in ((wa, a), (wf, f), (wx, x)):
        w = ws.hello(who["token"])
        eq(w["user_id"], who["id"], "welcome names the user")
        assert w["last_event_id"].isdigit(), w
    texts = []
    for i in range(10):
        who = a if i % 2 == 0 else f
        texts.append(f"message {i} from {who['id'][:8]}")
        post(srv, room, who, texts[-1])
    for ws, name in ((wa, "client"), (wf, "freelancer")):
        got = collect_messages(ws, 10)
        eq([e["message"]["text"] for e in got], texts, f"{name} sees the posts in order")
        ids = [int(e["id"]) for e in got]
        eq(ids, sorted(set(ids)), f"{name}: ids grow")
        for e in got:
            eq(e["room_id"], room, "room_id")
            assert e["message"]["author"]["id"] in (a["id"], f["id"]), e
    # The outsider saw none of it: their next message is from their own room.
    post(srv, xroom, y, "for x")
    ev = next_of_type(wx, "message.created")
    eq(ev["message"]["text"], "for x", "the outsider's first message")
    stop_clean(srv)


@tap.test
def test_reconnect_with_since_replays_each_event_once():
    srv, a, f, room = pair()
    ws = WS(srv.port)
    ws.hello(f["token"])
    first = [f"live {i}" for i in range(3)]
    for t in first:
        post(srv, room, a, t)
    got = collect_messages(ws, 3)
    eq([e["message"]["text"] for e in got], first, "live before the break")
    seen = int(got[-1]["id"])
    ws.close()
    wait_connections(srv, 0)

    # More than one replay batch (200) while away...
    away = [f"away {i}" for i in range(230)]
    for t in away:
        post(srv, room, a, t)
    # ... more while reconnecting (from the other party, concurrently) ...
    during = [f"during {i}" for i in range(25)]
    go = threading.Event()

    def poster():
        go.wait()
        for t in during:
            post(srv, room, a, t)

    th = threading.Thread(target=poster)
    th.start()
    go.set()
    ws = WS(srv.port)
    w = ws.hello(f["token"], since=str(seen))
    assert int(w["last_event_id"]) >= seen + len(away), w
    th.join()
    # ... and after.
    after = [f"after {i}" for i in range(5)]
    for t in after:
        post(srv, room, f, t)
    total = len(away) + len(during) + len(after)
    got = collect_messages(ws, total, timeout=60)
    ids = [int(e["id"]) for e in got]
    eq(len(set(ids)), len(ids), "no event twice")
    eq(ids, sorted(ids), "events in id order")
    assert ids[0] > seen, "nothing from before since"
    texts = [e["message"]["text"] for e in got]
    for part, name in ((away, "away"), (during, "during"), (after, "after")):
        eq([t for t in texts if t.split()[0] == name], part, f"the '{name}' posts, in order")
    # Nothing more is pending: the next event is a new one.
    post(srv, room, a, "last")
    eq(next_of_type(ws, "message.created")["message"]["text"], "last", "live after the replay")
    stop_clean(srv)


@tap.test
def test_since_rules():
    srv, a, f, room = pair()
    m = post(srv, room, a, "before")
    # since 0: the whole history the user may see, the room's creation first.
    ws = WS(srv.port)
    w = ws.hello(f["token"], since="0")
    ev = ws.recv_json()
    eq(ev["type"], "room.updated", "the first event is the room's creation")
    eq(ev["room_id"], room, "its room")
    ev = next_of_type(ws, "message.created")
    eq(ev["message"]["id"], m["id"], "then the message")
    eq(ev["id"], w["last_event_id"], "the replay ends at last_event_id")
    ws.close()
    # No since, or one past the live position: only live events.
    for since in (None, "999999999"):
        ws = WS(srv.port)
        ws.hello(f["token"], since=since)
        post(srv, room, a, f"live {since}")
        eq(next_of_type(ws, "message.created")["message"]["text"], f"live {since}",
           f"since {since}: the first message is the live one")
        ws.close()
    stop_clean(srv)


@tap.test
def test_frame_errors_get_their_close_codes():
    srv = Server()
    a = srv.user("client")
    cases = [
        ("a 70,000-byte message", lambda ws: ws.send_frame(TEXT, b" " * 70000), 1009),
        ("fragments over 64 KiB", lambda ws: (ws.send_frame(TEXT, b" " * 40000, fin=False),
                                              ws.send_frame(0, b" " * 40000)), 1009),
        ("invalid UTF-8", lambda ws: ws.send_frame(TEXT, b'{"type":"\xff\xfe"}'), 1007),
        ("an unmasked frame", lambda ws: ws.send_frame(TEXT, b"{}", mask=False), 1002),
        ("a fragmented ping", lambda ws: ws.send_frame(PING, b"x", fin=False), 1002),
        ("an unknown opcode", lambda ws: ws.send_frame(0x3, b"x"), 1002),
        ("a reserved bit", lambda ws: ws.send_frame(TEXT, b"{}", rsv=4), 1002),
        ("a continuation first", lambda ws: ws.send_frame(0, b"{}"), 1002),
        ("a binary message", lambda ws: ws.send_frame(BINARY, b"\x00\x01"), 1008),
    ]
    for what, send, code in cases:
        for hello in (False, True):
            ws = WS(srv.port)
            if hello:
                ws.hello(a["token"])
            send(ws)
            eq(ws.expect_close(), code, f"{what} (hello: {hello})")
            ws.sock.close()
    # A close from the client is answered with the same code.
    ws = WS(srv.port)
    ws.hello(a["token"])
    ws.send_frame(0x8, struct.pack("!H", 4001) + b"bye")
    eq(ws.expect_close(), 4001, "the client's close echoed")
    wait_connections(srv, 0)
    stop_clean(srv)


@tap.test
def test_ping_pong_and_keepalive():
    srv = Server(env={"STINTD_WS_PING_MS": "300", "STINTD_WS_IDLE_MS": "1500"})
    a = srv.user("client")
    ws = WS(srv.port)
    ws.hello(a["token"])
    ws.send_frame(PING, b"are you there")
    eq(ws.recv_frame(), (PONG, b"are you there"), "a ping is answered")
    # The server pings; a client that answers stays...
    opcode, payload = ws.recv_frame(timeout=5)
    eq(opcode, PING, "the server pings")
    ws.send_frame(PONG, payload)
    deadline = time.monotonic() + 2.5
    while time.monotonic() < deadline:  # past the idle time, answering each ping
        try:
            op, data = ws.recv_frame(timeout=deadline - time.monotonic())
        except socket.timeout:
            break
        assert op == PING, (op, data)
        ws.send_frame(PONG, data)
    eq(connections(srv), 1, "a client that answers pings stays")
    # ... one that says nothing is closed.
    silent = WS(srv.port)
    silent.hello(a["token"])
    t0 = time.monotonic()
    while True:
        op, data = silent.recv_frame(timeout=10)
        if op == 0x8:
            break
        assert op == PING, op
    eq(struct.unpack("!H", data[:2])[0], 1008, "a silent client's close code")
    assert time.monotonic() - t0 >= 1.0, "closed before the idle time"
    stop_clean(srv)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@tap.test
def test_slow_reader_is_closed_and_memory_stays_bounded():
    # ASan keeps freed memory in quarantine (256 MB): RSS would measure that.
    # The slow client gets a minute to read the close (3 s in production).
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = {"ASAN_OPTIONS": (asan + ":" if asan else "") +
           "quarantine_size_mb=4:thread_local_quarantine_size_kb=64",
           "STINTD_WS_CLOSE_WAIT_MS": "60000"}
    srv, a, f, room = pair(env=env)
    reader = WS(srv.port)
    reader.hello(a["token"])
    # The slow one: a tiny receive window, and it does not read while the posts come.
    slow = WS(srv.port, rcvbuf=4096)
    slow.hello(f["token"])
    rss0 = rss_kb(srv.proc.pid)
    big = "x" * 10000
    posted = 250  # 2.5 MB: past the 1 MiB allowed plus the sockets' buffers
    for i in range(posted):
        post(srv, room, a, big)
        if i % 10 == 9:
            collect_messages(reader, 10)  # the good reader keeps up
    rss1 = rss_kb(srv.proc.pid)
    print(f"# {posted} posts of 10 kB; stintd's RSS {rss0} kB -> {rss1} kB")
    assert rss1 - rss0 < 64 * 1024, f"stintd grew from {rss0} kB to {rss1} kB"
    # What the slow client finds when it reads at last: some messages, then 1008.
    got = 0
    try:
        while True:
            slow.recv_message(timeout=10)
            got += 1
    except Closed as e:
        eq(e.code, 1008, "the slow reader's close")
    assert 0 < got < posted, f"the slow reader got {got} of {posted} messages"
    slow.sock.close()
    wait_connections(srv, 1)
    # The good reader was not affected.
    post(srv, room, f, "after")
    eq(next_of_type(reader, "message.created")["message"]["text"], "after", "the good reader")
    stop_clean(srv)


@tap.test
def test_typing_goes_to_the_other_members_only():
    srv, a, f, room = pair()
    x = srv.user("client", name="Xavier")
    wa, wf, wx = WS(srv.port), WS(srv.port), WS(srv.port)
    wa.hello(a["token"])
    wf.hello(f["token"])
    wx.hello(x["token"])
    wa.send_json({"type": "typing", "room_id": room})
    wa.send_json({"type": "typing", "room_id": room})  # within the second: dropped
    ev = wf.recv_json()
    eq(ev, {"id": None, "type": "typing", "room_id": room,
            "user": {"id": a["id"], "name": "Carla Client"}}, "the typing event")
    # An outsider's typing for that room, and one for a room that does not exist.
    wx.send_json({"type": "typing", "room_id": room})
    wx.send_json({"type": "typing", "room_id": "c-nope"})
    post(srv, room, f, "marker")
    eq(wf.recv_json()["type"], "message.created", "f got no second typing, none from x")
    eq(wa.recv_json()["type"], "message.created", "a got no typing of its own")
    post(srv, room, a, "marker 2")  # x still connected and fine, seeing nothing
    eq(next_of_type(wf, "message.created")["message"]["text"], "marker 2", "f")
    eq(connections(srv), 3, "nobody was closed")
    stop_clean(srv)


@tap.test
def test_frames_split_across_deliveries_arrive_whole():
    """An idle connection gives its frame parser back between messages
    (hub.c, conn_park): bytes of a frame or a fragmented message that came
    before a delivery must still be there after it."""
    srv, a, f, room = pair()
    wa, wf = WS(srv.port), WS(srv.port)
    wa.hello(a["token"])
    wf.hello(f["token"])
    typing = json.dumps({"type": "typing", "room_id": room}).encode()
    frame = WS.frame(0x1, typing)
    # One byte of the header, then a message to the sender, then the rest
    # of the header, another message, then the payload.
    for piece, note in ((frame[:1], "one"), (frame[1:4], "two"), (frame[4:], None)):
        wa.send_raw(piece)
        if note:
            post(srv, room, f, note)
            eq(next_of_type(wa, "message.created")["message"]["text"], note,
               f"delivery {note} while a frame is half read")
    eq(next_of_type(wf, "typing")["user"]["id"], a["id"], "the split frame arrived whole")
    # A fragmented text message: first fragment, a delivery, a ping in
    # between, then the last fragment.
    wa.send_raw(WS.frame(0x1, typing[:10], fin=False))
    post(srv, room, f, "three")
    eq(next_of_type(wa, "message.created")["message"]["text"], "three", "delivery mid-message")
    wa.send_raw(WS.frame(0x9, b"hi"))
    wa.send_raw(WS.frame(0x0, typing[10:], fin=True))
    wa.send_json({"type": "typing", "room_id": room})  # within the second: dropped
    post(srv, room, a, "four")
    # (f's "one" and "two" went by while it waited for the typing event.)
    eq([next_of_type(wf, "message.created")["message"]["text"] for _ in range(2)],
       ["three", "four"], "f's stream goes on, in order")
    eq(next_of_type(wa, "message.created")["message"]["text"], "four", "a's stream goes on")
    eq(connections(srv), 2, "nobody was closed")
    stop_clean(srv)


@tap.test
def test_refused_past_the_connection_limit_1013():
    srv = Server(env={"STINTD_WS_MAX_CONNECTIONS": "2"})
    a = srv.user("client")
    w1, w2 = WS(srv.port), WS(srv.port)
    w1.hello(a["token"])
    w2.hello(a["token"])
    w3 = WS(srv.port)
    eq(w3.expect_close(), 1013, "the third connection")
    w1.close()
    wait_connections(srv, 1)
    w4 = WS(srv.port)
    w4.hello(a["token"])
    stop_clean(srv)


@tap.test
def test_stop_closes_every_connection_1001():
    srv, a, f, room = pair()
    socks = [WS(srv.port) for _ in range(5)]
    for i, ws in enumerate(socks):
        ws.hello((a if i % 2 else f)["token"])
    pending = WS(srv.port)  # no hello yet
    wait_connections(srv, 6)
    srv.proc.send_signal(signal.SIGTERM)
    for ws in socks + [pending]:
        eq(ws.expect_close(timeout=10), 1001, "closed when the server stops")
    stop_clean(srv)


tap.main()
