#!/usr/bin/env python3
"""Calls (docs/api.md "Calls"): signaling over the WebSocket as clients
notice it. Who is rung and who hears a join, a decline, a hang-up; a
non-member's answers are those of an unknown room or call; the 4-person
cap; signals reach the named participant only and are never stored; bad,
oversized and too-fast signaling is refused without ending the call; the
45 s ring (moved with the test clock); the room's "call started", "missed
call" and "call ended, N min" messages; TURN credentials.

Each test starts its own stintd on a free loopback port. Needs
STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import base64
import hashlib
import hmac
import os
import re
import time

from harness import Server, admin_add, eq, expect_error, now, tap
from wsclient import WS

ADMIN_PASSWORD = "admin password 1"


def world(n_freelancers=1, clock=False, env=None):
    """A server, a client, freelancers with contracts, a room holding them all
    (the contract's room for one, a group room for more), and an outsider."""
    srv = Server("--test-clock", data=_admin_data()) if clock else Server(env=env)
    a = srv.user("client", name="Carla Client")
    fs = [srv.user("freelancer", name=f"Fred {i}") for i in range(n_freelancers)]
    room = None
    for f in fs:
        c = srv.contract(a, f)
        room = room or "c-" + c["id"]
    if n_freelancers > 1:
        r = srv.post("rooms", {"title": "Team", "member_ids": [f["id"] for f in fs]}, a["token"])
        assert r.status == 201, r
        room = r.json["room"]["id"]
    x = srv.user("client", name="Xena Outsider")
    if clock:
        srv.admin = srv.login("admin@example.com", ADMIN_PASSWORD)
    return srv, a, fs, x, room


def _admin_data():
    import tempfile
    data = tempfile.mkdtemp(prefix="stint-it-")
    admin_add(data)
    return data


def connect(srv, who):
    ws = WS(srv.port)
    ws.hello(who["token"])
    return ws


def next_of(ws, type_, timeout=10):
    """The next message of that type (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {type_} came"
        ev = ws.recv_json(left)
        if ev.get("type") == type_:
            return ev


def next_call(ws, timeout=10):
    """The next call.* message (message events and the like are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        assert left > 0, "no call message came"
        ev = ws.recv_json(left)
        if ev.get("type", "").startswith("call."):
            return ev


def no_call_message(ws, timeout=0.5):
    """Nothing call-related arrives within timeout."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        try:
            ev = ws.recv_json(left)
        except (TimeoutError, OSError):
            return
        assert not ev.get("type", "").startswith("call."), f"unexpected {ev}"


def drain(ws, quiet=1.0):
    """Every message until none comes for quiet seconds."""
    out = []
    while True:
        try:
            out.append(ws.recv_json(quiet))
        except (TimeoutError, OSError):
            return out


def start(ws, room):
    ws.send_json({"type": "call.start", "room_id": room})
    ev = next_call(ws)
    eq(ev["type"], "call.joined", f"the starter's answer {ev}")
    eq(ev["you"], True, "the starter's own connection")
    return ev["call_id"]


def accept(ws, call_id):
    ws.send_json({"type": "call.accept", "call_id": call_id})
    while True:  # what came before (the ring, others' joins) is skipped
        ev = next_call(ws)
        assert ev["type"] != "call.error", f"the answer to accept {ev}"
        if ev["type"] == "call.joined" and ev["you"]:
            return ev


def room_texts(srv, room, who):
    r = srv.get(f"rooms/{room}/messages", who["token"])
    assert r.status == 200, r
    return [m["text"] for m in r.json["messages"]]


def wait_text(srv, room, who, pattern, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        texts = room_texts(srv, room, who)
        if any(re.fullmatch(pattern, t) for t in texts):
            return texts
        assert time.monotonic() < deadline, f"no message {pattern!r} in {texts}"
        time.sleep(0.05)


@tap.test
def test_ring_accept_hang_up_reach_the_members_only():
    srv, a, (f,), x, room = world()
    wa = connect(srv, a)
    wf1, wf2 = connect(srv, f), connect(srv, f)  # two tabs
    wx = connect(srv, x)
    call_id = start(wa, room)
    for w in (wf1, wf2):
        ev = next_call(w)
        eq(ev["type"], "call.joined", "members hear the starter join")
        eq(ev["user"]["id"], a["id"], "who joined")
        ev = next_call(w)
        eq(ev["type"], "call.ringing", "both tabs ring")
        eq(ev["from"]["name"], "Carla Client", "who calls")
        eq(ev["call_id"], call_id, "the call")
        eq(ev["ring_s"], 45, "how long it rings")
    ev = accept(wf1, call_id)
    eq([p["id"] for p in ev["participants"]], [a["id"], f["id"]], "participants after accept")
    ev = next_call(wf2)
    eq((ev["type"], ev["you"]), ("call.joined", False), "the other tab stops ringing")
    ev = next_call(wa)
    eq((ev["type"], ev["user"]["id"]), ("call.joined", f["id"]), "the caller hears the answer")
    no_call_message(wx)
    wa.send_json({"type": "call.hangup", "call_id": call_id})
    for w in (wa, wf1, wf2):
        ev = next_call(w)
        eq((ev["type"], ev["outcome"]), ("call.ended", "completed"), "everyone hears the end")
    no_call_message(wx)
    texts = wait_text(srv, room, f, r"call ended, \d+ s")
    eq(texts[-1], "call started", "the first message of the call")
    # The history as a member reads it; nothing for the outsider.
    r = srv.get(f"rooms/{room}/calls", f["token"])
    eq(r.status, 200, "GET calls")
    c = r.json["calls"][0]
    eq((c["id"], c["outcome"], c["started_by"]), (call_id, "completed", a["id"]), "the row")
    eq(sorted(p["user_id"] for p in c["participants"]), sorted([a["id"], f["id"]]), "who was in")
    assert all(p["left_at"] is not None for p in c["participants"]), c


@tap.test
def test_decline_ends_an_unanswered_one_to_one_call():
    srv, a, (f,), x, room = world()
    wa, wf = connect(srv, a), connect(srv, f)
    call_id = start(wa, room)
    next_of(wf, "call.ringing")
    wf.send_json({"type": "call.decline", "call_id": call_id})
    ev = next_of(wa, "call.declined")
    eq(ev["user"]["id"], f["id"], "who declined")
    ev = next_of(wa, "call.ended")
    eq(ev["outcome"], "declined", "outcome")
    wait_text(srv, room, a, "call declined")


@tap.test
def test_a_non_member_gets_the_answers_of_an_unknown_room():
    srv, a, (f,), x, room = world()
    wa, wx = connect(srv, a), connect(srv, x)
    call_id = start(wa, room)

    def ask(msg):
        wx.send_json(msg)
        ev = next_call(wx)
        eq(ev["type"], "call.error", f"answer to {msg}")
        ev.pop("call_id", None)
        return ev

    unknown_room = ask({"type": "call.start", "room_id": "c-" + "0" * 36})
    eq(unknown_room["code"], "not_found", "unknown room")
    eq(ask({"type": "call.start", "room_id": room}), unknown_room, "start in another's room")
    unknown_call = ask({"type": "call.accept", "call_id": "0" * 36})
    eq(unknown_call["code"], "not_found", "unknown call")
    eq(ask({"type": "call.accept", "call_id": call_id}), unknown_call, "accept another's call")
    for t in ("call.decline", "call.leave", "call.state"):
        a1 = ask({"type": t, "call_id": "0" * 36})
        eq(ask({"type": t, "call_id": call_id}), a1, f"{t} on another's call")
    sig = {"type": "call.signal", "to": a["id"], "data": {"sdp": "x"}}
    eq(ask(dict(sig, call_id=call_id)), ask(dict(sig, call_id="0" * 36)), "signal")
    # Reading: the room's calls are the 404 of a room that does not exist.
    r1 = srv.get(f"rooms/{room}/calls", x["token"])
    r2 = srv.get("rooms/c-" + "0" * 36 + "/calls", x["token"])
    expect_error(r1, 404, what="a non-member reads the calls")
    eq((r1.status, r1.body), (r2.status, r2.body), "same as an unknown room")
    # The call itself was not disturbed, and nobody else heard anything.
    wf = connect(srv, f)
    accept(wf, call_id)


@tap.test
def test_the_fifth_participant_is_refused():
    srv, a, fs, x, room = world(n_freelancers=4)
    wa = connect(srv, a)
    ws = [connect(srv, f) for f in fs]
    call_id = start(wa, room)
    for w in ws[:3]:
        accept(w, call_id)
    ws[3].send_json({"type": "call.accept", "call_id": call_id})
    ev = next_of(ws[3], "call.error")
    eq(ev["code"], "call_full", "the fifth")
    assert "4" in ev["message"], ev
    # A start in a room with a call in progress joins it: refused the same way.
    ws[3].send_json({"type": "call.start", "room_id": room})
    eq(next_of(ws[3], "call.error")["code"], "call_full", "the fifth's start")
    # Once one leaves, the fifth gets in.
    ws[0].send_json({"type": "call.leave", "call_id": call_id})
    next_of(ws[0], "call.left")
    ev = accept(ws[3], call_id)
    eq(len(ev["participants"]), 4, "four again")


def three_in_a_call():
    srv, a, fs, x, room = world(n_freelancers=2)
    wa = connect(srv, a)
    w1, w2 = connect(srv, fs[0]), connect(srv, fs[1])
    call_id = start(wa, room)
    accept(w1, call_id)
    accept(w2, call_id)
    # Drain the joins so the next assertions see only what follows.
    for w, n in ((wa, 2), (w1, 1)):
        for _ in range(n):
            next_of(w, "call.joined")
    return srv, a, fs, room, call_id, wa, w1, w2


@tap.test
def test_signals_reach_the_named_participant_only_and_are_never_stored():
    srv, a, fs, room, call_id, wa, w1, w2 = three_in_a_call()
    marker = "v=0 o=- MARKER-" + os.urandom(8).hex()
    wa.send_json({"type": "call.signal", "call_id": call_id, "to": fs[0]["id"],
                  "data": {"description": {"type": "offer", "sdp": marker}}})
    ev = next_call(w1)
    eq((ev["type"], ev["from"], ev["call_id"]), ("call.signal", a["id"], call_id), "relayed")
    eq(ev["data"]["description"]["sdp"], marker, "as sent")
    no_call_message(w2)
    no_call_message(wa)
    # Media state goes to the other participants.
    w1.send_json({"type": "call.state", "call_id": call_id, "muted": True})
    for w in (wa, w2):
        ev = next_call(w)
        eq((ev["type"], ev["user"]["id"], ev["user"]["muted"]), ("call.state", fs[0]["id"], True),
           "state")
    data = srv.data
    srv.stop()
    for root, _, files in os.walk(data):
        for name in files:
            with open(os.path.join(root, name), "rb") as fh:
                assert marker.encode() not in fh.read(), f"the signal is stored in {name}"


@tap.test
def test_bad_signaling_is_refused_without_ending_the_call():
    srv, a, fs, room, call_id, wa, w1, w2 = three_in_a_call()

    def refused(msg, code):
        wa.send_json(msg)
        ev = next_call(wa)
        eq((ev["type"], ev["code"]), ("call.error", code), f"answer to {str(msg)[:80]}")

    to = fs[0]["id"]
    refused({"type": "call.signal", "call_id": call_id, "to": to,
             "data": {"sdp": "x" * 40000}}, "too_large")
    refused({"type": "call.signal", "call_id": call_id, "to": to, "data": "offer"},
            "invalid_argument")
    refused({"type": "call.signal", "call_id": call_id, "to": to}, "invalid_argument")
    refused({"type": "call.signal", "call_id": call_id, "to": "nobody", "data": {"a": 1}},
            "not_found")
    refused({"type": "call.signal", "call_id": call_id, "to": a["id"], "data": {"a": 1}},
            "not_found")
    refused({"type": "call.signal", "call_id": 7, "to": to, "data": {"a": 1}}, "invalid_argument")
    refused({"type": "call.state", "call_id": call_id, "muted": "yes"}, "invalid_argument")
    refused({"type": "call.dance", "call_id": call_id}, "invalid_argument")
    wa.send_json({"type": "call." + "x" * 5000, "call_id": call_id})
    ev = next_call(wa)
    eq((ev["code"], ev["request"]), ("invalid_argument", "(too long)"), "a long type is not echoed")
    no_call_message(w1)
    # Too fast: a burst past the bucket is refused, message by message.
    for i in range(150):
        wa.send_json({"type": "call.signal", "call_id": call_id, "to": to,
                      "data": {"candidate": f"c{i}"}})
    relayed = [ev for ev in drain(w1) if ev["type"] == "call.signal"]
    errors = [ev for ev in drain(wa) if ev["type"] == "call.error"]
    assert all(ev["code"] == "rate_limited" for ev in errors), errors
    eq(len(relayed) + len(errors), 150, "each signal relayed or refused")
    assert len(errors) >= 40 and len(relayed) >= 100, (len(relayed), len(errors))
    # The call goes on: after a pause, a signal goes through and w2 still hears state.
    deadline = time.monotonic() + 5
    while True:
        wa.send_json({"type": "call.signal", "call_id": call_id, "to": to,
                      "data": {"candidate": "after"}})
        ev = next_call(w1, timeout=2)
        if ev.get("data", {}).get("candidate") == "after":
            break
        assert time.monotonic() < deadline, "signals stay refused"
    wa.send_json({"type": "call.state", "call_id": call_id, "video": False})
    ev = next_of(w2, "call.state")
    eq(ev["user"]["video"], False, "state after the refusals")


@tap.test
def test_a_participant_removed_from_the_room_leaves_the_call():
    srv, a, fs, room, call_id, wa, w1, w2 = three_in_a_call()
    r = srv.delete(f"rooms/{room}/members/{fs[0]['id']}", a["token"])
    assert r.status in (200, 204), r
    ev = next_of(wa, "call.left", timeout=10)
    eq(ev["user"]["id"], fs[0]["id"], "the removed one leaves")
    eq(sorted(p["id"] for p in ev["participants"]), sorted([a["id"], fs[1]["id"]]), "who is left")
    # Nothing more is relayed to them.
    wa.send_json({"type": "call.signal", "call_id": call_id, "to": fs[0]["id"], "data": {"a": 1}})
    eq(next_of(wa, "call.error")["code"], "not_found", "no such participant any more")
    no_call_message(w1)


@tap.test
def test_unanswered_ring_is_a_missed_call_on_the_test_clock():
    srv, a, (f,), x, room = world(clock=True)
    wa, wf = connect(srv, a), connect(srv, f)
    unread_before = unread(srv, f, room)
    start(wa, room)
    next_of(wf, "call.ringing")
    srv.set_clock(srv.admin, now() + 30)
    no_call_message(wf, 1.5)  # 30 s: still ringing
    srv.set_clock(srv.admin, now() + 46)
    for w in (wa, wf):
        ev = next_of(w, "call.ended", timeout=10)
        eq(ev["outcome"], "missed", "outcome")
    texts = wait_text(srv, room, f, "missed call")
    eq(texts[:2], ["missed call", "call started"], "the timeline")
    eq(unread(srv, f, room), unread_before + 2, "both count as unread for the callee")


def unread(srv, who, room):
    r = srv.get(f"rooms/{room}", who["token"])
    return r.json["room"]["unread"]


@tap.test
def test_call_ended_says_how_long():
    srv, a, (f,), x, room = world(clock=True)
    wa, wf = connect(srv, a), connect(srv, f)
    t0 = now()
    srv.set_clock(srv.admin, t0)
    call_id = start(wa, room)
    accept(wf, call_id)
    srv.set_clock(srv.admin, t0 + 12 * 60 + 5)
    # The callee's socket closes: they leave, and a call of one ends.
    wf.sock.close()
    ev = next_of(wa, "call.ended")
    eq(ev["outcome"], "completed", "outcome")
    assert 12 * 60 <= ev["duration_s"] <= 12 * 60 + 30, ev
    wait_text(srv, room, a, "call ended, 12 min")


@tap.test
def test_turn_credentials_verify_with_the_shared_secret():
    secret = "s3cret-" + os.urandom(4).hex()
    srv, a, _, _, _ = world(env={"STINTD_TURN_SECRET": secret,
                                 "STINTD_TURN_URLS": "turn:127.0.0.1:3478?transport=udp",
                                 "STINTD_STUN_URLS": "stun:127.0.0.1:3478",
                                 "STINTD_TURN_TTL": "600"})
    expect_error(srv.get("calls/ice"), 401, what="without a token")
    r = srv.get("calls/ice", a["token"])
    eq(r.status, 200, "GET /calls/ice")
    stun, turn = r.json["ice_servers"]
    eq(stun, {"urls": ["stun:127.0.0.1:3478"]}, "the STUN entry")
    eq(turn["urls"], ["turn:127.0.0.1:3478?transport=udp"], "the TURN urls")
    expiry, user = turn["username"].split(":")
    eq(user, a["id"], "the user in the name")
    assert abs(int(expiry) - (now() + 600)) <= 5, turn
    want = base64.b64encode(hmac.new(secret.encode(), turn["username"].encode(),
                                     hashlib.sha1).digest()).decode()
    eq(turn["credential"], want, "HMAC-SHA1 of the name")
    eq(r.json["ttl_s"], 600, "ttl")
    # Without TURN configured: an empty list.
    srv2, b, _, _, _ = world()
    eq(srv2.get("calls/ice", b["token"]).json["ice_servers"], [], "no ICE servers")


@tap.test
def test_a_restart_ends_the_calls_it_cut():
    srv, a, (f,), x, room = world()
    wa, wf = connect(srv, a), connect(srv, f)
    call_id = start(wa, room)
    accept(wf, call_id)
    srv.kill9()
    srv.start()
    c = srv.get(f"rooms/{room}/calls", a["token"]).json["calls"][0]
    eq((c["id"], c["outcome"]), (call_id, "interrupted"), "the cut call")
    assert c["ended_at"] is not None, c
    wa = connect(srv, a)
    start(wa, room)  # a new call, not the old one


if __name__ == "__main__":
    tap.main()
