#!/usr/bin/env python3
"""Rooms and messages (docs/api.md, "Messaging"), as their members and
outsiders notice them: contract rooms made with their contract, group rooms
and their roles, who may see what (404 for outsiders, the same as for an
id that does not exist), text kept exactly as written, history pages, read
markers, search, and the events every change leaves for the real-time
channel (read from the store: the WebSocket side has tests of its own).

Each test starts its own stintd on a copy of a template data dir that
holds the accounts and contracts (signing up costs an argon2id hash each):
client A with freelancers F and G, client B with F, and the strangers
client Y and freelancer X with a contract of their own.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import atexit
import json
import os
import shutil
import sqlite3
import tempfile
import types
import uuid

from harness import Server, eq, expect_error, tap

_template = {}


def _build_template():
    data = tempfile.mkdtemp(prefix="stint-msg-tpl-")
    atexit.register(shutil.rmtree, data, True)
    srv = Server(data=data)
    try:
        people = {}
        for key, role, name in (("A", "client", "Alice Client"), ("F", "freelancer", "Fred Free"),
                                ("G", "freelancer", "Gina Free"), ("B", "client", "Bob Client"),
                                ("X", "freelancer", "Xavier Stranger"),
                                ("Y", "client", "Yolanda Stranger")):
            people[key] = srv.user(role, name=name)
        contracts = {"AF": srv.contract(people["A"], people["F"], title="Landing page"),
                     "AG": srv.contract(people["A"], people["G"], title="Logo", accept=False),
                     "BF": srv.contract(people["B"], people["F"], title="Other work"),
                     "YX": srv.contract(people["Y"], people["X"], title="Strangers' work")}
    finally:
        srv.stop()
    _template.update(data=data, people=people, contracts=contracts)


def fresh():
    if not _template:
        _build_template()
    data = tempfile.mkdtemp(prefix="stint-msg-")
    shutil.rmtree(data)
    shutil.copytree(_template["data"], data)
    srv = Server(data=data)
    srv.owns_data = True
    w = types.SimpleNamespace(srv=srv, **{k: dict(v) for k, v in _template["people"].items()})
    w.c = {k: dict(v) for k, v in _template["contracts"].items()}
    w.room = {k: "c-" + v["id"] for k, v in w.c.items()}
    return w


def post(w, who, room, text, **extra):
    r = w.srv.post(f"rooms/{room}/messages", dict(text=text, **extra), who["token"])
    eq(r.status, 201, f"post {text[:30]!r}: {r!r}")
    return r.json["message"]


def room_of(w, who, room):
    r = w.srv.get(f"rooms/{room}", who["token"])
    eq(r.status, 200, f"GET room: {r!r}")
    return r.json["room"]


def members(room):
    return {m["user_id"]: m["role"] for m in room["members"]}


def events(w):
    """The event log as the hub reads it: (id, room_id, user_id, payload)."""
    db = sqlite3.connect(f"file:{w.srv.data}/stint.db?mode=ro", uri=True)
    try:
        return [(i, room, user, json.loads(p)) for i, room, user, p in
                db.execute("SELECT id, room_id, user_id, payload FROM events ORDER BY id")]
    finally:
        db.close()


def joined_event(w, room, user):
    db = sqlite3.connect(f"file:{w.srv.data}/stint.db?mode=ro", uri=True)
    try:
        return db.execute("SELECT joined_event FROM room_members WHERE room_id = ? AND"
                          " user_id = ?", (room, user)).fetchone()[0]
    finally:
        db.close()


def same_as_unknown(w, who, method, path_of, body=None, what=""):
    """The answer for the real id is the 404 of an id that does not exist, byte for byte."""
    real, fake = path_of(None), path_of(str(uuid.uuid4()))
    r1 = w.srv.request(method, real, body=body, token=who["token"])
    r2 = w.srv.request(method, fake, body=body, token=who["token"])
    expect_error(r1, 404, "not_found", what)
    eq((r1.status, r1.body), (r2.status, r2.body), f"{what}: vs an id that does not exist")


@tap.test
def test_contract_room_is_made_with_the_contract():
    w = fresh()
    c = w.srv.contract(w.A, w.G, title="Brand <new> & fresh")
    rid = "c-" + c["id"]
    for who in (w.A, w.G):
        rooms = w.srv.get("rooms", who["token"]).json["rooms"]
        room = next(r for r in rooms if r["id"] == rid)
        eq((room["kind"], room["title"], room["contract_id"], room["archived"],
            room["last_message_at"], room["unread"], room["my_role"]),
           ("contract", "Brand <new> & fresh", c["id"], False, None, 0, "member"), "room")
        eq(members(room), {w.A["id"]: "member", w.G["id"]: "member"}, "members")
    # A contract offered but never accepted has its room too (any state).
    eq(room_of(w, w.G, w.room["AG"])["kind"], "contract", "the offered contract's room")
    # Membership is fixed: 409 for adding, removing, leaving.
    r = w.srv.post(f"rooms/{rid}/members", {"user_id": w.F["id"]}, w.A["token"])
    expect_error(r, 409, "conflict", "add to a contract room")
    r = w.srv.delete(f"rooms/{rid}/members/{w.G['id']}", w.A["token"])
    expect_error(r, 409, "conflict", "remove from a contract room")
    r = w.srv.delete(f"rooms/{rid}/members/{w.G['id']}", w.G["token"])
    expect_error(r, 409, "conflict", "leave a contract room")
    # Either party renames it.
    r = w.srv.patch(f"rooms/{rid}", {"title": "Brand work"}, w.G["token"])
    eq((r.status, r.json["room"]["title"]), (200, "Brand work"), f"rename: {r!r}")
    # Its creation was announced to both parties.
    ev = [e for e in events(w) if e[1] == rid and e[3]["type"] == "room.updated"]
    assert ev, "no room.updated for the new contract's room"
    eq(ev[0][3]["room"]["id"], rid, "event room")
    assert "unread" not in ev[0][3]["room"] and "my_role" not in ev[0][3]["room"], ev[0]
    assert joined_event(w, rid, w.G["id"]) < ev[0][0], "G would miss the room's first event"
    # Renaming the contract renames its room, announced like any change.
    r = w.srv.patch(f"contracts/{c['id']}", {"title": "Brand, phase 2"}, w.A["token"])
    eq(r.status, 200, f"contract rename: {r!r}")
    eq(room_of(w, w.G, rid)["title"], "Brand, phase 2", "the room follows the contract's title")
    last = [e for e in events(w) if e[1] == rid and e[3]["type"] == "room.updated"][-1]
    eq(last[3]["room"]["title"], "Brand, phase 2", "room.updated with the new title")


@tap.test
def test_group_rooms_roles_and_leaving():
    w = fresh()
    r = w.srv.post("rooms", {"title": "Launch team", "member_ids": [w.F["id"], w.G["id"],
                                                                    w.F["id"], w.A["id"]]},
                   w.A["token"])
    eq(r.status, 201, f"create: {r!r}")
    room = r.json["room"]
    rid = room["id"]
    eq((room["kind"], room["title"], room["my_role"], room["archived"]),
       ("group", "Launch team", "owner", False), "new room")
    assert "contract_id" not in room, room
    eq(members(room), {w.A["id"]: "owner", w.F["id"]: "member", w.G["id"]: "member"}, "members")
    eq(room_of(w, w.F, rid)["my_role"], "member", "F's role")

    # A member neither renames, archives nor adds.
    expect_error(w.srv.patch(f"rooms/{rid}", {"title": "Mine"}, w.F["token"]), 403, "forbidden",
                 "member renames")
    expect_error(w.srv.patch(f"rooms/{rid}", {"archived": True}, w.F["token"]), 403, "forbidden",
                 "member archives")
    expect_error(w.srv.post(f"rooms/{rid}/members", {"user_id": w.B["id"]}, w.F["token"]), 403,
                 "forbidden", "member adds")
    expect_error(w.srv.delete(f"rooms/{rid}/members/{w.G['id']}", w.F["token"]), 403,
                 "forbidden", "member removes")

    # The owner makes F an admin; F adds B (they share a contract), as a member only.
    r = w.srv.post(f"rooms/{rid}/members", {"user_id": w.F["id"], "role": "admin"},
                   w.A["token"])
    eq((r.status, members(r.json["room"])[w.F["id"]]), (200, "admin"), f"make admin: {r!r}")
    expect_error(w.srv.post(f"rooms/{rid}/members", {"user_id": w.B["id"], "role": "admin"},
                            w.F["token"]), 403, "forbidden", "admin makes an admin")
    r = w.srv.post(f"rooms/{rid}/members", {"user_id": w.B["id"]}, w.F["token"])
    eq((r.status, members(r.json["room"]).get(w.B["id"])), (200, "member"), f"F adds B: {r!r}")
    eq(room_of(w, w.B, rid)["my_role"], "member", "B sees the room")
    # Only the owner changes roles.
    expect_error(w.srv.post(f"rooms/{rid}/members", {"user_id": w.G["id"], "role": "admin"},
                            w.F["token"]), 403, "forbidden", "admin changes a role")
    expect_error(w.srv.post(f"rooms/{rid}/members", {"user_id": w.G["id"], "role": "boss"},
                            w.A["token"]), 400, "invalid_argument", "unknown role")

    # F (admin) removes G (member); G then sees nothing of the room.
    eq(w.srv.delete(f"rooms/{rid}/members/{w.G['id']}", w.F["token"]).status, 204, "F removes G")
    same_as_unknown(w, w.G, "GET", lambda i: f"/api/v1/rooms/{i or rid}", what="G after removal")
    # An admin does not remove another admin; the owner does.
    w.srv.post(f"rooms/{rid}/members", {"user_id": w.B["id"], "role": "admin"}, w.A["token"])
    expect_error(w.srv.delete(f"rooms/{rid}/members/{w.B['id']}", w.F["token"]), 403,
                 "forbidden", "admin removes admin")
    # Someone not in the room: 404.
    expect_error(w.srv.delete(f"rooms/{rid}/members/{w.G['id']}", w.A["token"]), 404,
                 "not_found", "remove a non-member")
    # B leaves on their own.
    eq(w.srv.delete(f"rooms/{rid}/members/{w.B['id']}", w.B["token"]).status, 204, "B leaves")
    # The owner cannot leave before handing the room over.
    expect_error(w.srv.delete(f"rooms/{rid}/members/{w.A['id']}", w.A["token"]), 409, "conflict",
                 "owner leaves")
    expect_error(w.srv.post(f"rooms/{rid}/members", {"user_id": w.A["id"], "role": "admin"},
                            w.A["token"]), 409, "conflict", "owner demotes themselves")
    r = w.srv.post(f"rooms/{rid}/members", {"user_id": w.F["id"], "role": "owner"}, w.A["token"])
    eq(r.status, 200, f"hand over: {r!r}")
    eq(members(r.json["room"]), {w.A["id"]: "admin", w.F["id"]: "owner"}, "after handing over")
    eq(r.json["room"]["my_role"], "admin", "A's role in the reply")
    eq(w.srv.delete(f"rooms/{rid}/members/{w.A['id']}", w.A["token"]).status, 204, "A leaves")
    expect_error(w.srv.get(f"rooms/{rid}", w.A["token"]), 404, "not_found", "A after leaving")
    eq(members(room_of(w, w.F, rid)), {w.F["id"]: "owner"}, "F alone")

    # The events: G was told it was removed, only G; B's joining reached B.
    ev = events(w)
    removed = [e for e in ev if e[3].get("removed")]
    eq(sorted(e[2] for e in removed), sorted([w.G["id"], w.B["id"], w.A["id"]]),
       "removed events go to the removed")
    for e in removed:
        eq((e[1], e[3]["type"], e[3]["room_id"]), (rid, "room.updated", rid), "removed event")
    # The room list is most recent activity first.
    r2 = w.srv.post("rooms", {"title": "Newer", "member_ids": []}, w.F["token"]).json["room"]
    post(w, w.F, r2["id"], "in the newer room")
    post(w, w.F, rid, "activity")
    ids = [r["id"] for r in w.srv.get("rooms", w.F["token"]).json["rooms"]]
    assert ids.index(rid) < ids.index(r2["id"]), ids


@tap.test
def test_members_must_share_a_contract():
    w = fresh()
    # A and X share nothing: 403, the same answer as for an id that does not exist.
    r1 = w.srv.post("rooms", {"title": "t", "member_ids": [w.X["id"]]}, w.A["token"])
    r2 = w.srv.post("rooms", {"title": "t", "member_ids": [str(uuid.uuid4())]}, w.A["token"])
    r3 = w.srv.post("rooms", {"title": "t", "member_ids": ["no-such-user"]}, w.A["token"])
    expect_error(r1, 403, "forbidden", "stranger")
    eq((r2.status, r2.body), (r1.status, r1.body), "unknown id vs stranger")
    eq((r3.status, r3.body), (r1.status, r1.body), "malformed id vs stranger")
    # Nothing was made by the refused requests.
    eq([r["kind"] for r in w.srv.get("rooms", w.A["token"]).json["rooms"]],
       ["contract", "contract"], "A's rooms")
    # G's contract with A is only offered: any state counts.
    r = w.srv.post("rooms", {"title": "t", "member_ids": [w.G["id"]]}, w.A["token"])
    eq(r.status, 201, f"offered contract counts: {r!r}")
    rid = r.json["room"]["id"]
    r1 = w.srv.post(f"rooms/{rid}/members", {"user_id": w.X["id"]}, w.A["token"])
    r2 = w.srv.post(f"rooms/{rid}/members", {"user_id": str(uuid.uuid4())}, w.A["token"])
    expect_error(r1, 403, "forbidden", "add a stranger")
    eq((r2.status, r2.body), (r1.status, r1.body), "add unknown vs stranger")
    # Bad input: 400.
    for body in ({"title": "", "member_ids": []}, {"title": "x" * 201, "member_ids": []},
                 {"title": "a\nb", "member_ids": []}, {"title": "t"},
                 {"title": "t", "member_ids": [1]}, {"title": "t", "member_ids": "x"},
                 {"title": "t", "member_ids": [], "extra": 1},
                 {"title": "t", "member_ids": [str(uuid.uuid4())] * 256}):
        expect_error(w.srv.post("rooms", body, w.A["token"]), 400, "invalid_argument",
                     f"create {str(body)[:60]}")
    eq(w.srv.post("rooms", {"title": "é" * 200, "member_ids": []}, w.A["token"]).status, 201,
       "200-character title")


@tap.test
def test_outsiders_get_404_for_rooms_and_messages():
    w = fresh()
    rid = w.room["AF"]
    m = post(w, w.A, rid, "secret plans")
    V = "/api/v1"
    for who in (w.X, w.G):
        same_as_unknown(w, who, "GET", lambda i: f"{V}/rooms/{i or rid}", what="GET room")
        same_as_unknown(w, who, "GET", lambda i: f"{V}/rooms/{i or rid}/messages",
                        what="GET messages")
        same_as_unknown(w, who, "POST", lambda i: f"{V}/rooms/{i or rid}/messages",
                        {"text": "hi"}, what="POST message")
        same_as_unknown(w, who, "PATCH", lambda i: f"{V}/rooms/{i or rid}", {"title": "x"},
                        what="PATCH room")
        same_as_unknown(w, who, "POST", lambda i: f"{V}/rooms/{i or rid}/read",
                        {"message_id": m["id"]}, what="read")
        same_as_unknown(w, who, "POST", lambda i: f"{V}/rooms/{i or rid}/members",
                        {"user_id": who["id"]}, what="join")
        same_as_unknown(w, who, "DELETE", lambda i: f"{V}/rooms/{i or rid}/members/{w.A['id']}",
                        what="remove")
        same_as_unknown(w, who, "PATCH", lambda i: f"{V}/messages/{i or m['id']}",
                        {"text": "hacked"}, what="PATCH message")
        same_as_unknown(w, who, "DELETE", lambda i: f"{V}/messages/{i or m['id']}",
                        what="DELETE message")
        r = w.srv.get("rooms", who["token"])
        assert rid.encode() not in r.body and b"secret plans" not in r.body, r
        r = w.srv.get("search?q=secret", who["token"])
        eq((r.status, r.json["messages"]), (200, []), "search by an outsider")
    # A member who is not the author: 403.
    expect_error(w.srv.patch(f"messages/{m['id']}", {"text": "x"}, w.F["token"]), 403,
                 "forbidden", "F edits A's message")
    expect_error(w.srv.delete(f"messages/{m['id']}", w.F["token"]), 403, "forbidden",
                 "F deletes A's message")
    msgs = w.srv.get(f"rooms/{rid}/messages", w.A["token"]).json["messages"]
    eq([(x["text"], x["deleted"]) for x in msgs], [("secret plans", False)], "untouched")


@tap.test
def test_text_is_limited_in_characters_and_kept_verbatim():
    w = fresh()
    rid = w.room["AF"]
    for ch in ("a", "é", "€", "😀"):
        m = post(w, w.A, rid, ch * 10000)
        eq(m["text"], ch * 10000, f"10,000 × {ch!r}")
        r = w.srv.post(f"rooms/{rid}/messages", {"text": ch * 10001}, w.A["token"])
        expect_error(r, 400, "invalid_argument", f"10,001 × {ch!r}")
        # The same as raw UTF-8 rather than \u escapes.
        for n, status in ((10000, 201), (10001, 400)):
            raw = json.dumps({"text": ch * n}, ensure_ascii=False).encode()
            r = w.srv.request("POST", f"/api/v1/rooms/{rid}/messages", raw=raw,
                              token=w.A["token"], headers={"Content-Type": "application/json"})
            eq(r.status, status, f"{n} × {ch!r} as raw UTF-8: {r!r}")
    expect_error(w.srv.post(f"rooms/{rid}/messages", {"text": ""}, w.A["token"]), 400,
                 "invalid_argument", "empty text without files")
    for raw in (b'{"text":"\xff\xfe"}', b'{"text":"\xc3"}', b'{"text":"a\\u0000b"}',
                b'{"text":"\xed\xa0\x80"}', b'{"text":1}', b'{"text":null}', b'{}',
                b'{"text":"a","reply_to":null}', b'{"text":"a","nope":1}', b'not json'):
        r = w.srv.request("POST", f"/api/v1/rooms/{rid}/messages", raw=raw, token=w.A["token"],
                          headers={"Content-Type": "application/json"})
        expect_error(r, 400, "invalid_argument", f"body {raw!r}")
    hostile = ("<script>alert('x')</script> <img src=x onerror=alert(1)> &amp; &lt;b&gt; "
               "\"quoted\" \\ back\\slash\n\ttabs\r\n\u202eevil\u202c https://example.com/?a=1&b=2")
    m = post(w, w.A, rid, hostile)
    eq(m["text"], hostile, "reply")
    got = w.srv.get(f"rooms/{rid}/messages?limit=1", w.F["token"])
    eq(got.json["messages"][0]["text"], hostile, "as read back")
    assert got.headers.get("Content-Type", "").startswith("application/json"), got.headers
    # The JSON escapes nothing that is HTML: the bytes hold the text as JSON writes it.
    assert b"<script>alert('x')</script>" in got.body, got.body[:200]
    eq(w.srv.get(f"search?q=onerror", w.F["token"]).json["messages"][0]["text"], hostile,
       "as found")


@tap.test
def test_edit_and_delete():
    w = fresh()
    rid = w.room["AF"]
    m = post(w, w.A, rid, "first draft of the brief")
    assert "edited_at" not in m, m
    r = w.srv.patch(f"messages/{m['id']}", {"text": "second draft"}, w.A["token"])
    eq(r.status, 200, f"edit: {r!r}")
    eq((r.json["message"]["text"], "edited_at" in r.json["message"]), ("second draft", True),
       "edited")
    got = w.srv.get(f"rooms/{rid}/messages", w.F["token"]).json["messages"][0]
    eq((got["text"], "edited_at" in got), ("second draft", True), "F sees the edit")
    eq(w.srv.get("search?q=first", w.F["token"]).json["messages"], [], "old words not found")
    eq(len(w.srv.get("search?q=second", w.F["token"]).json["messages"]), 1, "new words found")
    expect_error(w.srv.patch(f"messages/{m['id']}", {"text": ""}, w.A["token"]), 400,
                 "invalid_argument", "edit to empty")
    expect_error(w.srv.patch(f"messages/{m['id']}", {"text": "x" * 10001}, w.A["token"]), 400,
                 "invalid_argument", "edit too long")

    reply = post(w, w.F, rid, "noted", reply_to=m["id"])
    eq(reply["reply_to"], m["id"], "reply_to")
    eq(w.srv.delete(f"messages/{m['id']}", w.A["token"]).status, 204, "delete")
    eq(w.srv.delete(f"messages/{m['id']}", w.A["token"]).status, 204, "delete again")
    msgs = w.srv.get(f"rooms/{rid}/messages", w.F["token"]).json["messages"]
    eq([(x["id"], x["deleted"], x["text"], x["files"]) for x in msgs],
       [(reply["id"], False, "noted", []), (m["id"], True, "", [])], "F's view after delete")
    expect_error(w.srv.patch(f"messages/{m['id']}", {"text": "back"}, w.A["token"]), 409,
                 "conflict", "edit a deleted message")
    eq(w.srv.get("search?q=second", w.F["token"]).json["messages"], [], "deleted not found")
    expect_error(w.srv.patch(f"messages/{uuid.uuid4()}", {"text": "x"}, w.A["token"]), 404,
                 "not_found", "edit unknown")
    # The events, in order, with the message as it then was.
    ev = [e[3] for e in events(w) if e[1] == rid and e[3]["type"].startswith("message.")]
    eq([(e["type"], e["message"]["text"], e["message"]["deleted"]) for e in ev],
       [("message.created", "first draft of the brief", False),
        ("message.edited", "second draft", False), ("message.created", "noted", False),
        ("message.deleted", "", True)], "message events")
    for e in ev:
        eq(e["room_id"], rid, "event room_id")


@tap.test
def test_reply_to_and_files_are_checked():
    w = fresh()
    rid = w.room["AF"]
    other = post(w, w.A, w.room["AG"], "in another room")
    for bad in (other["id"], str(uuid.uuid4())):
        expect_error(w.srv.post(f"rooms/{rid}/messages", {"text": "x", "reply_to": bad},
                                w.A["token"]), 400, "invalid_argument", "reply_to elsewhere")
    for ids in ([str(uuid.uuid4())], [str(uuid.uuid4())] * 11, [1], "x"):
        expect_error(w.srv.post(f"rooms/{rid}/messages", {"text": "x", "file_ids": ids},
                                w.A["token"]), 400, "invalid_argument", f"file_ids {ids!r}"[:40])
    # With the files API: a file of one's own is attached; another's is refused.
    up = w.srv.request("POST", "/api/v1/files", raw=b"hello, file", token=w.F["token"],
                       headers={"X-Filename": "notes.txt", "Content-Type": "text/plain"})
    eq(up.status, 201, f"upload: {up!r}")
    fid = up.json["file"]["id"]
    expect_error(w.srv.post(f"rooms/{rid}/messages", {"text": "", "file_ids": [fid]},
                            w.A["token"]), 400, "invalid_argument", "another's file")
    m = post(w, w.F, rid, "", file_ids=[fid])
    eq([(f["id"], f["name"], f["url"]) for f in m["files"]],
       [(fid, "notes.txt", f"/api/v1/files/{fid}")], "attached file")
    eq(w.srv.patch(f"messages/{m['id']}", {"text": ""}, w.F["token"]).status, 200,
       "empty text with a file")


@tap.test
def test_pages_of_history():
    w = fresh()
    rid = w.room["AF"]
    sent = [post(w, w.A if i % 3 else w.F, rid, f"message {i}")["id"] for i in range(120)]
    seen, before, pages = [], None, 0
    while True:
        q = f"rooms/{rid}/messages?limit=33" + (f"&before={before}" if before else "")
        r = w.srv.get(q, w.F["token"])
        eq(r.status, 200, f"page: {r!r}")
        page = [m["id"] for m in r.json["messages"]]
        seen += page
        pages += 1
        before = r.json["next_before"]
        if before is None:
            break
        eq(before, page[-1], "next_before is the oldest of the page")
    eq(seen, list(reversed(sent)), "all 120, newest first, no gap nor double")
    eq(pages, 4, "pages")
    eq(len(w.srv.get(f"rooms/{rid}/messages", w.A["token"]).json["messages"]), 50, "default")
    r = w.srv.get(f"rooms/{rid}/messages?limit=100&before={sent[100]}", w.A["token"])
    eq([m["id"] for m in r.json["messages"]], list(reversed(sent[:100])), "before the 101st")
    eq(r.json["next_before"], None, "exactly the rest")
    other = post(w, w.A, w.room["AG"], "elsewhere")["id"]
    for q in ("limit=0", "limit=101", "limit=abc", "limit=", "limit=-1", "limit=1e2",
              f"before={other}", f"before={uuid.uuid4()}", "before=", "since=1"):
        expect_error(w.srv.get(f"rooms/{rid}/messages?{q}", w.A["token"]), 400,
                     "invalid_argument", q)


@tap.test
def test_read_markers_and_unread_counts():
    w = fresh()
    rid = w.room["AF"]
    a = [post(w, w.A, rid, f"from A {i}")["id"] for i in range(3)]
    eq(room_of(w, w.F, rid)["unread"], 3, "F's unread")
    eq(room_of(w, w.A, rid)["unread"], 0, "own messages are not unread")
    r = w.srv.post(f"rooms/{rid}/read", {"message_id": a[1]}, w.F["token"])
    eq((r.status, r.json["room"]["unread"]), (200, 1), f"read up to the 2nd: {r!r}")
    r = w.srv.post(f"rooms/{rid}/read", {"message_id": a[0]}, w.F["token"])
    eq(r.json["room"]["unread"], 1, "the marker never goes back")
    ev = [e for e in events(w) if e[3]["type"] == "read"]
    eq([(e[2], e[3]["room_id"], e[3]["message_id"], e[3]["unread"]) for e in ev],
       [(w.F["id"], rid, a[1], 1)], "one read event, to F alone")
    # Writing reads: F's post moves F's marker; A now has one unread.
    post(w, w.F, rid, "answer")
    eq(room_of(w, w.F, rid)["unread"], 0, "F after posting")
    eq(room_of(w, w.A, rid)["unread"], 1, "A after F's post")
    # A deleted message is not unread.
    post(w, w.A, rid, "oops")
    eq(room_of(w, w.F, rid)["unread"], 1, "F before the delete")
    last = w.srv.get(f"rooms/{rid}/messages?limit=1", w.A["token"]).json["messages"][0]["id"]
    w.srv.delete(f"messages/{last}", w.A["token"])
    eq(room_of(w, w.F, rid)["unread"], 0, "F after the delete")
    # The marker is per room and the message must be the room's.
    other = post(w, w.A, w.room["AG"], "elsewhere")["id"]
    for bad in (other, str(uuid.uuid4())):
        expect_error(w.srv.post(f"rooms/{rid}/read", {"message_id": bad}, w.F["token"]), 400,
                     "invalid_argument", "read another room's message")
    expect_error(w.srv.post(f"rooms/{rid}/read", {}, w.F["token"]), 400, "invalid_argument",
                 "read without message_id")


@tap.test
def test_search():
    w = fresh()
    post(w, w.A, w.room["AF"], "Le café est prêt, meeting at 10")
    post(w, w.F, w.room["AF"], "Wireframes for the hero section")
    post(w, w.Y, w.room["YX"], "café secrets of Yolanda")
    found = w.srv.get("search?q=cafe", w.F["token"]).json["messages"]
    eq([m["text"] for m in found], ["Le café est prêt, meeting at 10"], "diacritics ignored")
    found = w.srv.get("search?q=wire%20HER", w.A["token"]).json["messages"]
    eq([m["text"] for m in found], ["Wireframes for the hero section"], "prefixes, all words")
    eq(w.srv.get("search?q=wire%20zebra", w.A["token"]).json["messages"], [], "all words needed")
    found = w.srv.get("search?q=caf", w.X["token"]).json["messages"]
    eq([m["text"] for m in found], ["café secrets of Yolanda"], "only the caller's rooms")
    # Newest first, limited.
    for i in range(5):
        post(w, w.A, w.room["AF"], f"numbered note {i}")
    found = w.srv.get("search?q=numbered&limit=2", w.A["token"]).json["messages"]
    eq([m["text"] for m in found], ["numbered note 4", "numbered note 3"], "newest first")
    # Hostile queries: a 200 or a 400, never a 500.
    from urllib.parse import quote
    for q in ('"', '""', '*', '"*', 'NEAR(', 'NEAR(a b', 'a OR', 'OR', 'AND', 'NOT', 'a NOT b',
              '(', ')', '^a', 'text:a', '{text}: a', '-a', 'a + b', "'", '\\', '%', '\u201c',
              'a"b', '*a*', 'a' * 200, 'é' * 200, 'x ' * 100, '\u00a0', '\U0001f600', '.',
              'café" OR "1'):
        r = w.srv.get(f"search?q={quote(q)}", w.A["token"])
        assert r.status in (200, 400), f"q={q!r}: {r!r}"
        if r.status == 400:
            expect_error(r, 400, "invalid_argument", f"q={q!r}")
    found = w.srv.get(f"search?q={quote('café OR zebra')}", w.A["token"]).json["messages"]
    eq(found, [], "OR is a word, not an operator")
    for q in ("", "q=" + "a" * 201, "limit=5", "q=a&limit=0", "q=a&limit=101", "q=!!!",
              "q=a&page=2"):
        path = "search" + ("?" + (q if "=" in q else f"q={q}") if q else "")
        expect_error(w.srv.get(path, w.A["token"]), 400, "invalid_argument", path)


@tap.test
def test_archived_rooms_refuse_posts():
    w = fresh()
    rid = w.srv.post("rooms", {"title": "Old project", "member_ids": [w.F["id"]]},
                     w.A["token"]).json["room"]["id"]
    m = post(w, w.F, rid, "before the archive")
    r = w.srv.patch(f"rooms/{rid}", {"archived": True}, w.A["token"])
    eq((r.status, r.json["room"]["archived"]), (200, True), f"archive: {r!r}")
    expect_error(w.srv.post(f"rooms/{rid}/messages", {"text": "late"}, w.F["token"]), 409,
                 "conflict", "post in an archived room")
    expect_error(w.srv.patch(f"messages/{m['id']}", {"text": "late edit"}, w.F["token"]), 409,
                 "conflict", "edit in an archived room")
    rooms = {x["id"]: x for x in w.srv.get("rooms", w.F["token"]).json["rooms"]}
    eq(rooms[rid]["archived"], True, "listed as archived")
    eq([x["text"] for x in w.srv.get(f"rooms/{rid}/messages", w.F["token"]).json["messages"]],
       ["before the archive"], "history stays readable")
    r = w.srv.patch(f"rooms/{rid}", {"archived": False, "title": "Revived"}, w.A["token"])
    eq((r.json["room"]["archived"], r.json["room"]["title"]), (False, "Revived"), "restore")
    post(w, w.F, rid, "after")
    # Contract rooms: either party archives.
    r = w.srv.patch(f"rooms/{w.room['AF']}", {"archived": True}, w.F["token"])
    eq((r.status, r.json["room"]["archived"]), (200, True), "F archives the contract room")
    expect_error(w.srv.post(f"rooms/{w.room['AF']}/messages", {"text": "x"}, w.A["token"]), 409,
                 "conflict", "post in the archived contract room")
    for body in ({}, {"archived": "yes"}, {"title": ""}, {"title": None}, {"x": 1}):
        expect_error(w.srv.patch(f"rooms/{rid}", body, w.A["token"]), 400, "invalid_argument",
                     f"PATCH {body}")


@tap.test
def test_changes_survive_a_restart():
    """A 2xx means the message is on disk: a kill -9 right after loses nothing."""
    w = fresh()
    rid = w.room["AF"]
    ids = [post(w, w.A, rid, f"durable {i}")["id"] for i in range(5)]
    w.srv.post(f"rooms/{rid}/read", {"message_id": ids[2]}, w.F["token"])
    w.srv.kill9()
    w.srv.start()
    got = [m["id"] for m in w.srv.get(f"rooms/{rid}/messages", w.F["token"]).json["messages"]]
    eq(got, list(reversed(ids)), "messages after kill -9")
    eq(room_of(w, w.F, rid)["unread"], 2, "read marker after kill -9")


if __name__ == "__main__":
    tap.main()
