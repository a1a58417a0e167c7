#!/usr/bin/env python3
"""Functional tests of every [foundation] endpoint of the HTTP API, as a
client, a freelancer, an outsider and an admin would notice them.

Each test starts its own stintd on a free loopback port with a temporary
data dir. Tests that depend on when things happen run stintd with
--test-clock and set the server's clock to fixed instants in the week of
Monday 2026-11-23 first, so nothing depends on the wall-clock minute.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import atexit
import hashlib
import os
import shutil
import tempfile
import types
import uuid

from harness import (Server, admin_add, eq, expect_error, image_bytes, parse_time, rfc3339,
                     segment_body, tap)

MON = parse_time("2026-11-23T00:00:00Z")  # the Monday of the week most tests work in
DAY = 86400
NEXT_MON = MON + 7 * DAY


def at(day, hh, mm=0, ss=0, week=MON):
    """An instant in the week: day 0 is Monday."""
    return week + day * DAY + hh * 3600 + mm * 60 + ss


TUE, WED, THU = 1, 2, 3

# Signing up and logging in costs an argon2id hash each. Accounts are made
# once, in a template data dir, which every test copies for its own stintd:
# the tokens are rows of the store, so they work in each copy.
_template = {}


def _build_template():
    data = tempfile.mkdtemp(prefix="stint-it-tpl-")
    atexit.register(shutil.rmtree, data, True)
    admin_add(data, "admin@example.com", "Admin", "admin password 1")
    srv = Server(data=data)
    try:
        r = srv.post("login", {"email": "admin@example.com", "password": "admin password 1"})
        assert r.status == 200, r
        people = {"admin": {"token": r.json["token"], "id": r.json["user"]["id"],
                            "email": "admin@example.com"}}
        for key, role, name in (("client", "client", "Carla Client"),
                                ("fl", "freelancer", "Fred Freelancer"),
                                ("client2", "client", "Otto Outsider"),
                                ("fl2", "freelancer", "Frida Other")):
            people[key] = srv.user(role, name=name)
    finally:
        srv.stop()
    _template.update(data=data, people=people)


def fresh(*extra):
    """A stintd of its own on a copy of the template: admin, client, fl, client2, fl2."""
    if not _template:
        _build_template()
    data = tempfile.mkdtemp(prefix="stint-it-")
    shutil.rmtree(data)
    shutil.copytree(_template["data"], data)
    srv = Server(*extra, data=data)
    srv.owns_data = True
    return types.SimpleNamespace(srv=srv, **{k: dict(v) for k, v in _template["people"].items()})


def world(t0=at(TUE, 8), t1=at(THU, 12), extra=(), **terms):
    """A --test-clock server with an active contract between client and fl,
    accepted at t0; the clock then moves on to t1, so the slots in between
    are in the past and the contract was active in them."""
    w = fresh("--test-clock", *extra)
    w.srv.set_clock(w.admin["token"], t0)
    w.c = w.srv.contract(w.client, w.fl, **terms)
    w.cid = w.c["id"]
    if t1:
        w.srv.set_clock(w.admin["token"], t1)
    return w


def put_seg(w, start, seg_id=None, token=None, **kw):
    """Uploads a segment of w's contract; returns (id, response)."""
    seg_id = seg_id or str(uuid.uuid4())
    body = segment_body(w.cid, start, **kw)
    r = w.srv.put(f"segments/{seg_id}", body, token or w.fl["token"])
    return seg_id, r


def put_ok(w, start, **kw):
    seg_id, r = put_seg(w, start, **kw)
    eq(r.status, 201, f"PUT segment at {rfc3339(start)}: {r!r}")
    return seg_id


def diary(w, frm, to, tz=None, token=None):
    q = f"contracts/{w.cid}/diary?from={frm}&to={to}"
    if tz:
        q += f"&tz={tz}"
    return w.srv.get(q, token or w.fl["token"])


def diary_ok(w, frm, to, tz=None, token=None):
    r = diary(w, frm, to, tz, token)
    eq(r.status, 200, f"diary {frm}..{to}: {r!r}")
    return r.json


def seg_get(w, seg_id, token=None):
    r = w.srv.get(f"segments/{seg_id}", token or w.fl["token"])
    eq(r.status, 200, f"GET segment: {r!r}")
    return r.json["segment"]


def blob_files(data):
    """Names of every file under DATA/blobs."""
    names = set()
    for _, _, files in os.walk(os.path.join(data, "blobs")):
        names.update(files)
    return names


# ---- Service -------------------------------------------------------------

@tap.test
def test_health_answers_without_a_token():
    srv = Server()
    r = srv.get("health")
    eq(r.status, 200, "health status")
    eq(r.json["status"], "ok", "health")
    assert isinstance(r.json["version"], str) and r.json["version"], r


@tap.test
def test_config_reflects_segment_seconds():
    srv = Server()
    r = srv.get("config")
    eq(r.status, 200, "config status")
    eq(r.json["segment_s"], 600, "default segment length")
    eq(r.json["max_screenshot_bytes"], 4 * 1024 * 1024, "max screenshot")
    eq(r.json["week_lock"], "monday 12:00 UTC", "week lock")
    short = Server(segment_s=60)
    eq(short.get("config").json["segment_s"], 60, "segment length with --segment-seconds 60")


# ---- Accounts ------------------------------------------------------------

@tap.test
def test_signup_creates_an_account():
    srv = Server()
    r = srv.post("signup", {"email": "Ann@Example.com", "password": "long enough pw",
                            "name": "Ann", "role": "freelancer", "timezone": "Europe/Berlin"})
    eq(r.status, 201, f"signup {r!r}")
    u = r.json["user"]
    eq(u["email"], "ann@example.com", "email (normalised)")
    eq(u["name"], "Ann", "name")
    eq(u["role"], "freelancer", "role")
    eq(u["timezone"], "Europe/Berlin", "timezone")
    eq(u["id_verified"], False, "id_verified")
    assert u["id"], u
    assert not any("pass" in k or "hash" in k for k in u), f"password leaks: {u}"
    r = srv.post("login", {"email": "ann@example.com", "password": "long enough pw"})
    eq(r.status, 200, f"login after signup {r!r}")
    eq(r.json["user"]["id"], u["id"], "same user")


@tap.test
def test_signup_with_taken_email_is_conflict():
    srv = Server()
    body = {"email": "bob@example.com", "password": "long enough pw", "name": "Bob",
            "role": "client"}
    eq(srv.post("signup", body).status, 201, "first signup")
    expect_error(srv.post("signup", body), 409, "conflict", "same email")
    body["email"] = "BOB@example.COM"
    expect_error(srv.post("signup", body), 409, "conflict", "same email, other case")


@tap.test
def test_signup_rejects_bad_input():
    srv = Server()
    good = {"email": "c@example.com", "password": "long enough pw", "name": "C",
            "role": "client"}
    cases = [
        ("password of 9 characters", {"password": "123456789"}),
        ("role admin", {"role": "admin"}),
        ("unknown role", {"role": "boss"}),
        ("unknown time zone", {"timezone": "Mars/Olympus_Mons"}),
        ("unknown field", {"nickname": "cc"}),
        ("not an email", {"email": "not-an-email"}),
    ]
    for what, change in cases:
        r = srv.post("signup", dict(good, **change))
        expect_error(r, 400, "invalid_argument", what)
    # None of them created the account.
    expect_error(srv.post("login", {"email": "c@example.com", "password": "long enough pw"}),
                 401, "unauthenticated", "login to a refused signup")
    eq(srv.post("signup", good).status, 201, "the good signup")


@tap.test
def test_signup_can_be_turned_off():
    srv = Server("--no-signup")
    r = srv.post("signup", {"email": "d@example.com", "password": "long enough pw",
                            "name": "D", "role": "client"})
    expect_error(r, 403, "forbidden", "signup with --no-signup")


@tap.test
def test_login_returns_a_working_token():
    srv = Server()
    srv.post("signup", {"email": "e@example.com", "password": "long enough pw", "name": "Eve",
                        "role": "client"})
    r = srv.post("login", {"email": "E@example.com", "password": "long enough pw",
                           "device": "laptop"})
    eq(r.status, 200, f"login {r!r}")
    token = r.json["token"]
    assert isinstance(token, str) and len(token) >= 20, r
    eq(r.json["user"]["email"], "e@example.com", "user in the login answer")
    me = srv.get("me", token)
    eq(me.status, 200, "me")
    eq(me.json["user"]["name"], "Eve", "me name")


@tap.test
def test_login_with_wrong_password_is_401():
    srv = Server()
    srv.post("signup", {"email": "f@example.com", "password": "long enough pw", "name": "F",
                        "role": "client"})
    r = srv.post("login", {"email": "f@example.com", "password": "wrong password"})
    expect_error(r, 401, "unauthenticated", "wrong password")
    assert "token" not in (r.json or {}), r
    r = srv.post("login", {"email": "nobody@example.com", "password": "long enough pw"})
    expect_error(r, 401, "unauthenticated", "unknown email")


@tap.test
def test_login_is_rate_limited_after_five_failures():
    w = fresh()
    srv, client, other = w.srv, w.client, w.fl
    for i in range(5):
        r = srv.post("login", {"email": client["email"], "password": f"wrong password {i}"})
        expect_error(r, 401, "unauthenticated", f"failure {i + 1}")
    r = srv.post("login", {"email": client["email"], "password": client["password"]})
    expect_error(r, 429, "rate_limited", "right password after 5 failures")
    retry = r.headers.get("Retry-After")
    assert retry is not None and retry.isdigit() and 0 < int(retry) <= 3600, \
        f"Retry-After: {r.headers}"
    # Another account is not affected, and the blocked one's tokens still work.
    eq(srv.post("login", {"email": other["email"], "password": other["password"]}).status,
       200, "login of another account")
    eq(srv.get("me", client["token"]).status, 200, "existing token of the blocked account")


@tap.test
def test_logout_revokes_that_token_only():
    w = fresh()
    srv, u = w.srv, w.client
    second = srv.login(u["email"], u["password"])
    r = srv.post("logout", token=u["token"])
    eq(r.status, 204, f"logout {r!r}")
    expect_error(srv.get("me", u["token"]), 401, "unauthenticated", "me with revoked token")
    expect_error(srv.post("logout", token=u["token"]), 401, "unauthenticated",
                 "logout twice")
    eq(srv.get("me", second).status, 200, "the other session's token still works")


@tap.test
def test_me_shows_the_caller():
    srv = Server()
    u = srv.user("freelancer", name="Mia", timezone="America/New_York")
    r = srv.get("me", u["token"])
    eq(r.status, 200, "me")
    me = r.json["user"]
    eq({k: me[k] for k in ("id", "email", "name", "role", "timezone", "id_verified")},
       {"id": u["id"], "email": u["email"], "name": "Mia", "role": "freelancer",
        "timezone": "America/New_York", "id_verified": False}, "me")
    expect_error(srv.get("me"), 401, "unauthenticated", "me without a token")
    expect_error(srv.get("me", "st_not-a-real-token"), 401, "unauthenticated",
                 "me with a made-up token")


# ---- Contracts -----------------------------------------------------------

@tap.test
def test_client_offers_a_contract_with_default_terms():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    r = srv.post("contracts", {"freelancer_email": fl["email"], "title": "Landing page",
                               "hourly_rate_cents": 4500, "currency": "EUR",
                               "tags": ["design", "code"]}, client["token"])
    eq(r.status, 201, f"offer {r!r}")
    c = r.json["contract"]
    eq(c["state"], "offered", "state")
    eq(c["title"], "Landing page", "title")
    eq(c["client"], {"id": client["id"], "name": "Carla Client"}, "client")
    eq(c["freelancer"], {"id": fl["id"], "name": "Fred Freelancer", "timezone": "UTC"},
       "freelancer (with the zone the diary offers)")
    eq((c["hourly_rate_cents"], c["currency"]), (4500, "EUR"), "rate")
    eq(c["weekly_limit_s"], None, "no limit by default")
    eq((c["manual_time_allowed"], c["screenshots_enabled"], c["memo_required"],
        c["tag_required"]), (True, True, True, False), "default terms")
    eq(c["tags"], ["design", "code"], "tags")
    # Both parties see it; it is the only one each has.
    for who in (client, fl):
        lst = srv.get("contracts", who["token"])
        eq([x["id"] for x in lst.json["contracts"]], [c["id"]], "list")
        eq(srv.get(f"contracts/{c['id']}", who["token"]).json["contract"]["id"], c["id"],
           "get")


@tap.test
def test_freelancer_cannot_offer_and_unknown_freelancer_is_400():
    w = fresh()
    srv, client, fl, other_client = w.srv, w.client, w.fl, w.client2
    body = {"freelancer_email": fl["email"], "title": "X", "hourly_rate_cents": 1000,
            "currency": "USD"}
    expect_error(srv.post("contracts", body, fl["token"]), 403, "forbidden",
                 "freelancer offers")
    expect_error(srv.post("contracts", dict(body, freelancer_email="ghost@example.com"),
                          client["token"]), 400, "invalid_argument", "unknown freelancer")
    expect_error(srv.post("contracts", dict(body, freelancer_email=other_client["email"]),
                          client["token"]), 400, "invalid_argument", "a client as freelancer")
    expect_error(srv.post("contracts", dict(body, colour="red"), client["token"]), 400,
                 "invalid_argument", "unknown field")
    eq(srv.get("contracts", client["token"]).json["contracts"], [], "nothing was created")


@tap.test
def test_only_the_freelancer_accepts():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    c = srv.contract(client, fl, accept=False)
    expect_error(srv.post(f"contracts/{c['id']}/accept", token=client["token"]), 403,
                 "forbidden", "client accepts")
    eq(srv.get(f"contracts/{c['id']}", client["token"]).json["contract"]["state"], "offered",
       "still offered")
    r = srv.post(f"contracts/{c['id']}/accept", token=fl["token"])
    eq(r.status, 200, f"accept {r!r}")
    eq(r.json["contract"]["state"], "active", "state after accept")


@tap.test
def test_client_pauses_and_resumes():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    cid = srv.contract(client, fl)["id"]
    expect_error(srv.post(f"contracts/{cid}/pause", token=fl["token"]), 403, "forbidden",
                 "freelancer pauses")
    r = srv.post(f"contracts/{cid}/pause", token=client["token"])
    eq((r.status, r.json["contract"]["state"]), (200, "paused"), "pause")
    expect_error(srv.post(f"contracts/{cid}/resume", token=fl["token"]), 403, "forbidden",
                 "freelancer resumes")
    r = srv.post(f"contracts/{cid}/resume", token=client["token"])
    eq((r.status, r.json["contract"]["state"]), (200, "active"), "resume")
    eq(srv.get(f"contracts/{cid}", fl["token"]).json["contract"]["state"], "active",
       "freelancer sees it active")


@tap.test
def test_either_party_ends():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    c1 = srv.contract(client, fl)["id"]
    c2 = srv.contract(client, fl)["id"]
    r = srv.post(f"contracts/{c1}/end", token=fl["token"])
    eq((r.status, r.json["contract"]["state"]), (200, "ended"), "freelancer ends")
    srv.post(f"contracts/{c2}/pause", token=client["token"])
    r = srv.post(f"contracts/{c2}/end", token=client["token"])
    eq((r.status, r.json["contract"]["state"]), (200, "ended"), "client ends a paused one")


@tap.test
def test_invalid_transitions_are_conflicts():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    offered = srv.contract(client, fl, accept=False)["id"]
    active = srv.contract(client, fl)["id"]
    ended = srv.contract(client, fl)["id"]
    srv.post(f"contracts/{ended}/end", token=client["token"])
    cases = [
        (offered, "pause", client), (offered, "resume", client),
        (active, "accept", fl), (active, "resume", client),
        (ended, "accept", fl), (ended, "pause", client), (ended, "resume", client),
        (ended, "end", client), (ended, "end", fl),
    ]
    for cid, action, who in cases:
        state = srv.get(f"contracts/{cid}", client["token"]).json["contract"]["state"]
        r = srv.post(f"contracts/{cid}/{action}", token=who["token"])
        expect_error(r, 409, "conflict", f"{action} on a {state} contract")
    eq(srv.get(f"contracts/{active}", client["token"]).json["contract"]["state"], "active",
       "the active one is untouched")
    expect_error(srv.patch(f"contracts/{ended}", {"title": "New"}, client["token"]), 409,
                 "conflict", "PATCH an ended contract")


@tap.test
def test_only_the_client_edits_terms():
    w = fresh()
    srv, client, fl = w.srv, w.client, w.fl
    cid = srv.contract(client, fl)["id"]
    expect_error(srv.patch(f"contracts/{cid}", {"title": "Mine now"}, fl["token"]), 403,
                 "forbidden", "freelancer PATCH")
    r = srv.patch(f"contracts/{cid}", {"title": "Phase 2", "manual_time_allowed": False,
                                       "tags": ["qa"]}, client["token"])
    eq(r.status, 200, f"client PATCH {r!r}")
    got = srv.get(f"contracts/{cid}", fl["token"]).json["contract"]
    eq((got["title"], got["manual_time_allowed"], got["tags"]), ("Phase 2", False, ["qa"]),
       "terms after PATCH")
    expect_error(srv.patch(f"contracts/{cid}", {"hourly_rate_cents": 1}, client["token"]), 400,
                 "invalid_argument", "PATCH of a field that is not editable")
    expect_error(srv.patch(f"contracts/{cid}", {}, client["token"]), 400, "invalid_argument",
                 "empty PATCH")


@tap.test
def test_outsiders_get_404():
    w = world()
    seg = put_ok(w, at(WED, 9))
    outsider, other_fl = w.client2, w.fl2
    for who in (outsider, other_fl):
        t = who["token"]
        eq(w.srv.get("contracts", t).json["contracts"], [], "outsider's list")
        expect_error(w.srv.get(f"contracts/{w.cid}", t), 404, "not_found", "GET contract")
        expect_error(w.srv.post(f"contracts/{w.cid}/pause", token=t), 404, "not_found",
                     "pause")
        expect_error(w.srv.patch(f"contracts/{w.cid}", {"title": "x"}, t), 404, "not_found",
                     "PATCH contract")
        expect_error(w.srv.get(f"segments/{seg}", t), 404, "not_found", "GET segment")
        expect_error(diary(w, "2026-11-25", "2026-11-25", token=t), 404, "not_found",
                     "diary")
    expect_error(w.srv.post(f"contracts/{w.cid}/accept", token=other_fl["token"]), 404,
                 "not_found", "another freelancer accepts")


@tap.test
def test_weekly_limit_raise_applies_at_once():
    w = world(weekly_limit_s=1200)
    segs = [put_ok(w, at(WED, 9, m)) for m in (0, 10, 20)]
    eq("over_limit" in seg_get(w, segs[2])["flags"], True, "third segment over a 1200 s limit")
    r = w.srv.patch(f"contracts/{w.cid}", {"weekly_limit_s": 3600}, w.client["token"])
    eq(r.status, 200, f"raise {r!r}")
    eq(r.json["contract"]["weekly_limit_s"], 3600, "contract shows the raised limit")
    eff = r.json["effective"]["weekly_limit_s"]
    eq(eff["value"], 3600, "effective value")
    frm = parse_time(eff["from"])
    assert at(THU, 12) <= frm < at(THU, 12) + 600, f"a raise applies now, not {eff['from']}"
    eq(w.srv.get(f"contracts/{w.cid}", w.fl["token"]).json["contract"]["weekly_limit_s"], 3600,
       "GET contract")
    eq("over_limit" in seg_get(w, segs[2])["flags"], False, "third segment no longer over")
    d = diary_ok(w, "2026-11-23", "2026-11-29")
    eq((d["totals"]["billable_s"], d["totals"]["over_limit_s"]), (1800, 0), "totals")
    # No limit at all is the highest limit: it too applies at once.
    r = w.srv.patch(f"contracts/{w.cid}", {"weekly_limit_s": None}, w.client["token"])
    eq(r.status, 200, f"remove the limit {r!r}")
    eq(r.json["contract"]["weekly_limit_s"], None, "no limit, at once")
    assert parse_time(r.json["effective"]["weekly_limit_s"]["from"]) < NEXT_MON, r


@tap.test
def test_weekly_limit_cut_applies_from_next_monday():
    w = world(weekly_limit_s=1200)
    r = w.srv.patch(f"contracts/{w.cid}", {"weekly_limit_s": 600}, w.client["token"])
    eq(r.status, 200, f"cut {r!r}")
    eq(r.json["effective"]["weekly_limit_s"],
       {"value": 600, "from": "2026-11-30T00:00:00Z"}, "a cut applies from next Monday")
    eq(r.json["contract"]["weekly_limit_s"], 1200, "this week keeps the old limit")
    eq(w.srv.get(f"contracts/{w.cid}", w.fl["token"]).json["contract"]["weekly_limit_s"], 1200,
       "GET contract this week")
    # This week, 1200 s still fit.
    put_ok(w, at(WED, 9, 0))
    put_ok(w, at(WED, 9, 10))
    d = diary_ok(w, "2026-11-23", "2026-11-29")
    eq((d["totals"]["billable_s"], d["totals"]["over_limit_s"]), (1200, 0), "this week")
    # Next week, the cut is in force.
    w.srv.set_clock(w.admin["token"], at(0, 3, week=NEXT_MON))
    eq(w.srv.get(f"contracts/{w.cid}", w.fl["token"]).json["contract"]["weekly_limit_s"], 600,
       "GET contract next week")
    put_ok(w, at(0, 0, 10, week=NEXT_MON))
    late = put_ok(w, at(0, 0, 20, week=NEXT_MON))
    d = diary_ok(w, "2026-11-30", "2026-11-30")
    eq((d["totals"]["billable_s"], d["totals"]["over_limit_s"]), (600, 600), "next week")
    eq("over_limit" in seg_get(w, late)["flags"], True, "second segment next week is over")
    d = diary_ok(w, "2026-11-23", "2026-11-29")
    eq(d["totals"]["over_limit_s"], 0, "the past week is not recomputed with the cut")


# ---- Segments ------------------------------------------------------------

@tap.test
def test_put_segment_creates_and_identical_reput_is_200():
    w = world()
    seg_id = str(uuid.uuid4())
    body = segment_body(w.cid, at(WED, 9), memo="Hero section", tags=["design"],
                        flags=["idle_kept"])
    r = w.srv.put(f"segments/{seg_id}", body, w.fl["token"])
    eq(r.status, 201, f"first PUT {r!r}")
    s = r.json["segment"]
    eq((s["id"], s["contract_id"], s["start"], s["tracked_s"], s["memo"], s["tags"]),
       (seg_id, w.cid, "2026-11-25T09:00:00Z", 600, "Hero section", ["design"]), "stored")
    r = w.srv.put(f"segments/{seg_id}", body, w.fl["token"])
    eq(r.status, 200, f"identical re-PUT {r!r}")
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq(len(d["segments"]), 1, "one segment in the diary")
    eq(d["totals"]["tracked_s"], 600, "tracked once")


@tap.test
def test_extending_reput_is_200_and_counted_once():
    w = world()
    seg_id = str(uuid.uuid4())
    start = at(WED, 9)
    first = segment_body(w.cid, start, keys=3, mouse=4)
    for m in first["minutes"][5:]:
        m.update(tracked_s=0, keys=0, mouse=0, synthetic=0)
    eq(w.srv.put(f"segments/{seg_id}", first, w.fl["token"]).status, 201, "partial PUT")
    eq(diary_ok(w, "2026-11-25", "2026-11-25")["totals"]["tracked_s"], 300, "partial")
    full = segment_body(w.cid, start, keys=9, mouse=12)
    r = w.srv.put(f"segments/{seg_id}", full, w.fl["token"])
    eq(r.status, 200, f"extending re-PUT {r!r}")
    eq(r.json["segment"]["tracked_s"], 600, "tracked_s in the answer")
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq(len(d["segments"]), 1, "still one segment")
    eq(d["totals"]["tracked_s"], 600, "diary shows the extended time once")
    eq(d["days"][0]["tracked_s"], 600, "day total")
    eq(d["segments"][0]["minutes"][9], {"tracked_s": 60, "keys": 9, "mouse": 12,
                                        "synthetic": 0}, "the larger counts")
    eq(seg_get(w, seg_id)["activity"], 10, "activity after extending")


@tap.test
def test_shrinking_or_changing_reput_is_conflict():
    w = world()
    seg_id = str(uuid.uuid4())
    start = at(WED, 9)
    body = segment_body(w.cid, start, keys=5, mouse=7, memo="Original memo")
    eq(w.srv.put(f"segments/{seg_id}", body, w.fl["token"]).status, 201, "first PUT")
    shrunk = segment_body(w.cid, start, keys=5, mouse=7, memo="Original memo")
    shrunk["minutes"][3]["tracked_s"] = 30
    fewer_keys = segment_body(w.cid, start, keys=4, mouse=7, memo="Original memo")
    new_memo = segment_body(w.cid, start, keys=5, mouse=7, memo="Rewritten memo")
    new_tags = segment_body(w.cid, start, keys=5, mouse=7, memo="Original memo", tags=["x"])
    other_device = segment_body(w.cid, start, keys=5, mouse=7, memo="Original memo",
                                device="dev-2")
    for what, b in (("less tracked time", shrunk), ("fewer keys", fewer_keys),
                    ("another memo", new_memo), ("other tags", new_tags),
                    ("another device", other_device)):
        expect_error(w.srv.put(f"segments/{seg_id}", b, w.fl["token"]), 409, "conflict", what)
    s = seg_get(w, seg_id)
    eq((s["tracked_s"], s["memo"], s["minutes"][0]["keys"]), (600, "Original memo", 5),
       "the stored segment is unchanged")


@tap.test
def test_put_rejects_malformed_segments():
    w = world()
    now = at(THU, 12)
    cases = []
    b = segment_body(w.cid, at(WED, 9))
    b["start"] = rfc3339(at(WED, 9, 0, 30))
    cases.append(("start not on a slot boundary", b))
    cases.append(("start in the future", segment_body(w.cid, now + 1200)))
    b = segment_body(w.cid, at(WED, 9))
    b["minutes"] = b["minutes"][:9]
    cases.append(("9 minutes", b))
    b = segment_body(w.cid, at(WED, 9))
    b["minutes"].append(dict(b["minutes"][0]))
    cases.append(("11 minutes", b))
    b = segment_body(w.cid, at(WED, 9))
    b["minutes"][2]["tracked_s"] = 61
    cases.append(("tracked_s above the bucket length", b))
    b = segment_body(w.cid, at(WED, 9))
    b["colour"] = "blue"
    cases.append(("unknown field", b))
    b = segment_body(w.cid, at(WED, 9))
    b["minutes"][0]["clicks"] = 3
    cases.append(("unknown field in a minute", b))
    b = segment_body(w.cid, at(WED, 9))
    b["flags"] = ["over_limit"]
    cases.append(("a server-side flag from the tracker", b))
    for what, body in cases:
        r = w.srv.put(f"segments/{uuid.uuid4()}", body, w.fl["token"])
        expect_error(r, 400, "invalid_argument", what)
    r = w.srv.put("segments/not-a-uuid", segment_body(w.cid, at(WED, 9)), w.fl["token"])
    eq(r.status in (400, 404), True, f"id that is not a UUID: {r!r}")
    eq(diary_ok(w, "2026-11-23", "2026-11-29")["segments"], [], "nothing was stored")


@tap.test
def test_put_takes_the_slot_in_progress_but_not_future_minutes():
    w = world()  # the server's clock reads Thursday 12:00:00 and a few seconds
    now_slot = at(THU, 12)
    ahead = segment_body(w.cid, now_slot)  # ten tracked minutes, most still to come
    expect_error(w.srv.put(f"segments/{uuid.uuid4()}", ahead, w.fl["token"]), 400,
                 "invalid_argument", "minutes tracked in the future")
    so_far = segment_body(w.cid, now_slot)
    for m in so_far["minutes"][2:]:
        m.update(tracked_s=0, keys=0, mouse=0, synthetic=0)
    seg_id = str(uuid.uuid4())
    r = w.srv.put(f"segments/{seg_id}", so_far, w.fl["token"])
    eq(r.status, 201, f"the first two minutes of the slot in progress: {r!r}")
    eq(r.json["segment"]["tracked_s"], 120, "tracked so far")


@tap.test
def test_rules_scale_with_segment_seconds():
    w = world(extra=("--segment-seconds", "60"))
    eq(w.srv.get("config").json["segment_s"], 60, "config")
    start = at(WED, 9, 1)  # a 60-s slot boundary, not a 600-s one
    body = segment_body(w.cid, start, segment_s=60)  # buckets of 6 s
    r = w.srv.put(f"segments/{uuid.uuid4()}", body, w.fl["token"])
    eq(r.status, 201, f"a 60-s segment: {r!r}")
    eq((r.json["segment"]["tracked_s"], r.json["segment"]["end"]),
       (60, "2026-11-25T09:02:00Z"), "tracked and end")
    b = segment_body(w.cid, start + 60, segment_s=60)
    b["minutes"][0]["tracked_s"] = 7
    expect_error(w.srv.put(f"segments/{uuid.uuid4()}", b, w.fl["token"]), 400,
                 "invalid_argument", "7 s in a 6-s bucket")
    b = segment_body(w.cid, start + 30, segment_s=60)
    expect_error(w.srv.put(f"segments/{uuid.uuid4()}", b, w.fl["token"]), 400,
                 "invalid_argument", "start between 60-s slots")


@tap.test
def test_put_rejects_time_when_the_contract_was_not_active():
    w = world(t1=at(WED, 12))
    # Paused at Wed 12:00; time before that was worked under an active contract.
    eq(w.srv.post(f"contracts/{w.cid}/pause", token=w.client["token"]).status, 200, "pause")
    w.srv.set_clock(w.admin["token"], at(THU, 12))
    _, r = put_seg(w, at(WED, 14))
    expect_error(r, 400, "invalid_argument", "segment after the pause")
    _, r = put_seg(w, at(TUE, 7, 50))
    expect_error(r, 400, "invalid_argument", "segment before the contract was accepted")
    _, r = put_seg(w, at(WED, 11, 50))
    eq(r.status, 201, f"segment while it was active: {r!r}")
    # An offer nobody accepted takes no time.
    offered = w.srv.contract(w.client, w.fl, accept=False)
    r = w.srv.put(f"segments/{uuid.uuid4()}", segment_body(offered["id"], at(THU, 11, 50)),
                  w.fl["token"])
    expect_error(r, 400, "invalid_argument", "segment on an offered contract")


@tap.test
def test_client_cannot_upload_time():
    w = world()
    seg_id, r = put_seg(w, at(WED, 9), token=w.client["token"])
    expect_error(r, 403, "forbidden", "client PUT")
    other_fl = w.fl2
    _, r = put_seg(w, at(WED, 9), token=other_fl["token"])
    assert r.status in (400, 403, 404), f"another freelancer's PUT: {r!r}"
    eq(diary_ok(w, "2026-11-25", "2026-11-25")["segments"], [], "nothing stored")


@tap.test
def test_get_segment_shows_time_activity_and_flags():
    w = world()
    seg_id = str(uuid.uuid4())
    body = segment_body(w.cid, at(WED, 9), memo="Reviewing", flags=["idle_kept"])
    for i, m in enumerate(body["minutes"]):
        m["tracked_s"] = 50 if i < 8 else 0
        m["keys"] = 2 if i < 6 else 0       # input in six buckets; two tracked but silent
        m["mouse"] = 1 if i < 6 else 0
        m["synthetic"] = 0
    eq(w.srv.put(f"segments/{seg_id}", body, w.fl["token"]).status, 201, "PUT")
    for who in (w.fl, w.client):
        s = seg_get(w, seg_id, who["token"])
        eq(s["tracked_s"], 400, "tracked_s is the exact sum of the buckets")
        eq(s["activity"], 6, "activity counts buckets with input")
        eq(sorted(s["flags"]), ["idle_kept", "no_screenshot"], "flags")
        eq(s["deleted"], False, "not deleted")
        eq(s["memo"], "Reviewing", "memo")
        assert parse_time(s["received_at"]) >= at(THU, 12), s["received_at"]
    expect_error(w.srv.get(f"segments/{uuid.uuid4()}", w.fl["token"]), 404, "not_found",
                 "unknown segment")


@tap.test
def test_unusual_input_when_more_than_half_synthetic():
    w = world()
    # 12 input events a minute: 7 synthetic is more than half, 6 is exactly half.
    over = put_ok(w, at(WED, 9, 0), keys=5, mouse=7, synthetic=7)
    half = put_ok(w, at(WED, 9, 10), keys=5, mouse=7, synthetic=6)
    eq("unusual_input" in seg_get(w, over)["flags"], True, "7 of 12 synthetic")
    eq("unusual_input" in seg_get(w, half)["flags"], False, "6 of 12 synthetic")


@tap.test
def test_two_devices_in_one_slot_overlap_and_bill_once():
    w = world()
    a = put_ok(w, at(WED, 9), device="laptop")
    b = put_ok(w, at(WED, 9), device="desktop")
    alone = put_ok(w, at(WED, 9, 10), device="laptop")
    eq("overlap" in seg_get(w, a)["flags"], True, "first device flagged")
    eq("overlap" in seg_get(w, b)["flags"], True, "second device flagged")
    eq("overlap" in seg_get(w, alone)["flags"], False, "a slot tracked once")
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq(len(d["segments"]), 3, "both kept in the diary")
    eq(d["totals"]["billable_s"], 1200, "the doubled slot is billed once")
    eq(d["days"][0]["billable_s"], 1200, "day billable")


@tap.test
def test_time_over_the_weekly_limit_is_flagged_and_not_billed():
    w = world(weekly_limit_s=1200)
    # Uploaded out of order: the limit follows the order the time was worked.
    third = put_ok(w, at(WED, 9, 20))
    first = put_ok(w, at(WED, 9, 0))
    second = put_ok(w, at(WED, 9, 10), seconds=30)  # 300 s
    eq([("over_limit" in seg_get(w, s)["flags"]) for s in (first, second, third)],
       [False, False, True], "only the segment past 1200 s is over the limit")
    s3 = seg_get(w, third)
    eq((s3["billable_s"], s3["over_limit_s"]), (300, 300), "third segment split at the limit")
    d = diary_ok(w, "2026-11-23", "2026-11-29")
    eq(d["totals"], {"tracked_s": 1500, "manual_s": 0, "billable_s": 1200,
                     "over_limit_s": 300}, "totals")
    eq([x["billable_s"] for x in d["days"]], [0, 0, 1200, 0, 0, 0, 0], "billable per day")


@tap.test
def test_patch_memo_and_tags_by_role():
    w = world(tags=["design", "code"])
    seg = put_ok(w, at(WED, 9), memo="Old memo", tags=["design"])
    r = w.srv.patch(f"segments/{seg}", {"memo": "New memo", "tags": ["code"]}, w.fl["token"])
    eq(r.status, 200, f"freelancer PATCH {r!r}")
    eq((r.json["segment"]["memo"], r.json["segment"]["tags"]), ("New memo", ["code"]), "answer")
    r = w.srv.patch(f"segments/{seg}", {"tags": ["design", "code"]}, w.client["token"])
    eq(r.status, 200, f"client PATCH tags {r!r}")
    expect_error(w.srv.patch(f"segments/{seg}", {"memo": "Client's words"}, w.client["token"]),
                 403, "forbidden", "client PATCH memo")
    expect_error(w.srv.patch(f"segments/{seg}", {"memo": "Client's words", "tags": []},
                             w.client["token"]), 403, "forbidden", "client PATCH memo+tags")
    expect_error(w.srv.patch(f"segments/{seg}", {"note": "x"}, w.fl["token"]), 400,
                 "invalid_argument", "unknown field")
    s = seg_get(w, seg, w.client["token"])
    eq((s["memo"], s["tags"]), ("New memo", ["design", "code"]), "after the edits")
    eq(s["tracked_s"], 600, "time untouched")


@tap.test
def test_delete_segment_by_freelancer_only():
    w = world()
    keep = put_ok(w, at(WED, 9, 0))
    gone = put_ok(w, at(WED, 9, 10))
    eq(diary_ok(w, "2026-11-25", "2026-11-25")["totals"]["tracked_s"], 1200, "before")
    expect_error(w.srv.delete(f"segments/{gone}", w.client["token"]), 403, "forbidden",
                 "client DELETE")
    r = w.srv.delete(f"segments/{gone}", w.fl["token"])
    eq(r.status, 204, f"freelancer DELETE {r!r}")
    r = w.srv.get(f"segments/{gone}", w.fl["token"])
    assert r.status == 404 or (r.status == 200 and r.json["segment"]["deleted"] is True), \
        f"GET after DELETE: {r!r}"
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq(d["totals"]["tracked_s"], 600, "diary total drops")
    eq(d["totals"]["billable_s"], 600, "billable drops")
    eq([s["id"] for s in d["segments"]], [keep], "only the kept segment is listed")
    expect_error(w.srv.delete(f"segments/{gone}", w.fl["token"]), 404, "not_found",
                 "DELETE twice")
    expect_error(w.srv.put(f"segments/{gone}", segment_body(w.cid, at(WED, 9, 10)),
                           w.fl["token"]), 409, "conflict", "re-upload of a deleted segment")
    expect_error(w.srv.patch(f"segments/{gone}", {"memo": "back"}, w.fl["token"]), 404,
                 "not_found", "PATCH a deleted segment")


@tap.test
def test_diary_never_shows_a_stale_week():
    """Weeks are served from a cache of rendered weeks (server/diary-cache.h):
    after every kind of change, the next read shows it."""
    w = world(weekly_limit_s=1200)
    day = ("2026-11-25", "2026-11-25")
    a = put_ok(w, at(WED, 9, 0), memo="first")
    b = put_ok(w, at(WED, 9, 10), memo="second")

    def seg_of(d, sid):
        return next(s for s in d["segments"] if s["id"] == sid)

    d = diary_ok(w, *day)
    diary_ok(w, *day)  # read twice: the second comes from the cache
    eq(seg_of(d, a)["memo"], "first", "memo before")
    # A memo edit.
    eq(w.srv.patch(f"segments/{a}", {"memo": "edited"}, w.fl["token"]).status, 200, "PATCH")
    eq(seg_of(diary_ok(w, *day), a)["memo"], "edited", "memo edit shows at once")
    # A new segment over the limit.
    c = put_ok(w, at(WED, 9, 20))
    d = diary_ok(w, *day)
    eq([s["id"] for s in d["segments"]], [a, b, c], "new segment listed")
    eq((d["totals"]["billable_s"], d["totals"]["over_limit_s"]), (1200, 600), "over the limit")
    # The limit raised: billable changes though no segment did.
    eq(w.srv.patch(f"contracts/{w.cid}", {"weekly_limit_s": 3600}, w.client["token"]).status,
       200, "raise the limit")
    d = diary_ok(w, *day)
    eq((d["totals"]["billable_s"], d["totals"]["over_limit_s"]), (1800, 0), "limit raise shows")
    # A screenshot arrives.
    jpeg = image_bytes("jpg", 64, 48, "red")
    r = w.srv.put(f"segments/{b}/screenshot", token=w.fl["token"], raw=jpeg, headers=JPEG_CT)
    eq(r.status, 201, f"screenshot {r!r}")
    shot = seg_of(diary_ok(w, *day), b).get("screenshot") or {}
    eq(shot.get("url"), f"/api/v1/segments/{b}/screenshot", "screenshot shows at once")
    # Screenshots turned off for the contract: the flag rule changes.
    before = seg_of(diary_ok(w, *day), a)["flags"]
    eq(w.srv.patch(f"contracts/{w.cid}", {"screenshots_enabled": False},
                   w.client["token"]).status, 200, "screenshots off")
    after = seg_of(diary_ok(w, *day), a)["flags"]
    eq(after, seg_get(w, a)["flags"], "diary flags match the segment's after the change")
    assert before != after or "no_screenshot" not in before, (before, after)
    # A delete.
    eq(w.srv.delete(f"segments/{c}", w.fl["token"]).status, 204, "DELETE")
    d = diary_ok(w, *day)
    eq([s["id"] for s in d["segments"]], [a, b], "deleted segment gone at once")
    eq(d["totals"]["tracked_s"], 1200, "total drops at once")
    # Another party's view of the same week is the same text.
    eq(diary(w, *day, token=w.client["token"]).body, diary(w, *day).body,
       "client and freelancer read the same diary")


# ---- Screenshots ---------------------------------------------------------

JPEG_CT = {"Content-Type": "image/jpeg"}


@tap.test
def test_screenshot_upload_and_fetch():
    w = world()
    seg = put_ok(w, at(WED, 9))
    jpeg = image_bytes("jpg", 64, 48, "red")
    r = w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=jpeg, headers=JPEG_CT)
    eq(r.status, 201, f"first upload {r!r}")
    r = w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=jpeg, headers=JPEG_CT)
    eq(r.status, 200, f"same bytes again {r!r}")
    for who in (w.fl, w.client):
        r = w.srv.get(f"segments/{seg}/screenshot", who["token"])
        eq(r.status, 200, "GET screenshot")
        eq(r.headers.get("Content-Type"), "image/jpeg", "Content-Type")
        eq(r.body, jpeg, "the same bytes come back")
        r = w.srv.get(f"segments/{seg}/screenshot?size=thumb", who["token"])
        eq(r.status, 200, "GET thumb")
        eq(r.headers.get("Content-Type"), "image/jpeg", "thumb Content-Type")
        assert r.body[:3] == b"\xff\xd8\xff" and r.body[-2:] == b"\xff\xd9", \
            f"thumb is not a JPEG: {r.body[:16]!r}"
    s = seg_get(w, seg)
    eq("no_screenshot" in s["flags"], False, "no longer flagged no_screenshot")
    eq(s["screenshot"]["url"], f"/api/v1/segments/{seg}/screenshot", "url")
    outsider = w.client2
    expect_error(w.srv.get(f"segments/{seg}/screenshot", outsider["token"]), 404, "not_found",
                 "outsider GET")
    expect_error(w.srv.put(f"segments/{seg}/screenshot", token=w.client["token"], raw=jpeg,
                           headers=JPEG_CT), 403, "forbidden", "client upload")
    other = image_bytes("jpg", 64, 48, "blue")
    expect_error(w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=other,
                           headers=JPEG_CT), 409, "conflict", "a different image")
    eq(w.srv.get(f"segments/{seg}/screenshot", w.fl["token"]).body, jpeg, "first one kept")


@tap.test
def test_screenshot_must_decode_as_jpeg_or_webp():
    w = world()
    seg = put_ok(w, at(WED, 9))
    png = image_bytes("png", 64, 48, "green")
    junk = os.urandom(5000)
    fake = b"\xff\xd8\xff\xe0" + os.urandom(3000)  # a JPEG header on garbage
    for what, data, ct in (("PNG", png, "image/png"), ("PNG labelled JPEG", png, "image/jpeg"),
                           ("random bytes", junk, "image/jpeg"),
                           ("JPEG magic on garbage", fake, "image/jpeg")):
        r = w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=data,
                      headers={"Content-Type": ct})
        expect_error(r, 415, "unsupported_media_type", what)
    expect_error(w.srv.get(f"segments/{seg}/screenshot", w.fl["token"]), 404, "not_found",
                 "nothing stored")
    eq("no_screenshot" in seg_get(w, seg)["flags"], True, "still no screenshot")
    jpeg = image_bytes("jpg", 32, 32, "white")
    eq(w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=jpeg,
                 headers=JPEG_CT).status, 201, "a JPEG after the refusals")


@tap.test
def test_no_screenshots_on_a_contract_without_them():
    w = world(screenshots_enabled=False)
    seg = put_ok(w, at(WED, 9))
    eq("no_screenshot" in seg_get(w, seg)["flags"], False,
       "no no_screenshot flag where none are asked for")
    r = w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"],
                  raw=image_bytes("jpg", 64, 48, "red"), headers=JPEG_CT)
    expect_error(r, 403, "forbidden", "upload on a contract without screenshots")


@tap.test
def test_deleting_a_segment_destroys_its_screenshot():
    w = world()
    seg = put_ok(w, at(WED, 9))
    jpeg = image_bytes("jpg", 80, 60, "orange")
    eq(w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=jpeg,
                 headers=JPEG_CT).status, 201, "upload")
    thumb = w.srv.get(f"segments/{seg}/screenshot?size=thumb", w.fl["token"]).body
    shot_sha = hashlib.sha256(jpeg).hexdigest()
    thumb_sha = hashlib.sha256(thumb).hexdigest()
    files = blob_files(w.srv.data)
    assert shot_sha in files, f"the blob store holds the screenshot by its SHA-256: {files}"
    eq(w.srv.delete(f"segments/{seg}", w.fl["token"]).status, 204, "DELETE")
    expect_error(w.srv.get(f"segments/{seg}/screenshot", w.fl["token"]), 404, "not_found",
                 "screenshot after DELETE")
    expect_error(w.srv.get(f"segments/{seg}/screenshot?size=thumb", w.client["token"]), 404,
                 "not_found", "thumb after DELETE")
    files = blob_files(w.srv.data)
    assert shot_sha not in files, "the screenshot's bytes are still on disk"
    assert thumb_sha not in files, "the thumbnail's bytes are still on disk"


@tap.test
def test_identical_reput_after_the_screenshot_upload_is_200():
    # The tracker retries an upload whose answer it lost; the screenshot went
    # up in between. The body is byte for byte what was stored.
    w = world()
    seg_id = str(uuid.uuid4())
    body = segment_body(w.cid, at(WED, 9))
    eq(w.srv.put(f"segments/{seg_id}", body, w.fl["token"]).status, 201, "PUT")
    jpeg = image_bytes("jpg", 64, 48, "navy")
    eq(w.srv.put(f"segments/{seg_id}/screenshot", token=w.fl["token"], raw=jpeg,
                 headers=JPEG_CT).status, 201, "screenshot")
    r = w.srv.put(f"segments/{seg_id}", body, w.fl["token"])
    eq(r.status, 200, f"identical re-PUT after the screenshot: {r!r}")
    eq(w.srv.get(f"segments/{seg_id}/screenshot", w.fl["token"]).body, jpeg, "shot kept")


@tap.test
def test_extending_reput_after_the_screenshot_upload():
    # The tracker's flow: a partial upload before the shot is taken, the image,
    # then the finished segment naming its screenshot. That only extends it.
    w = world()
    seg_id = str(uuid.uuid4())
    start = at(WED, 9)
    partial = segment_body(w.cid, start)
    for m in partial["minutes"][5:]:
        m.update(tracked_s=0, keys=0, mouse=0, synthetic=0)
    eq(w.srv.put(f"segments/{seg_id}", partial, w.fl["token"]).status, 201, "partial PUT")
    jpeg = image_bytes("jpg", 64, 48, "purple")
    eq(w.srv.put(f"segments/{seg_id}/screenshot", token=w.fl["token"], raw=jpeg,
                 headers=JPEG_CT).status, 201, "screenshot")
    full = segment_body(w.cid, start, screenshot={"taken_at": rfc3339(start + 370),
                                                  "status": "ok"})
    r = w.srv.put(f"segments/{seg_id}", full, w.fl["token"])
    eq(r.status, 200, f"final PUT that only adds time and the shot's metadata: {r!r}")
    s = seg_get(w, seg_id)
    eq(s["tracked_s"], 600, "extended")
    eq(w.srv.get(f"segments/{seg_id}/screenshot", w.fl["token"]).body, jpeg, "shot kept")


# ---- Manual time ---------------------------------------------------------

@tap.test
def test_manual_time_is_added_and_flagged():
    w = world()
    r = w.srv.post(f"contracts/{w.cid}/manual",
                   {"start": rfc3339(at(WED, 12)), "end": rfc3339(at(WED, 12, 25)),
                    "memo": "Call with the client"}, w.fl["token"])
    eq(r.status, 201, f"manual {r!r}")
    segs = r.json["segments"]
    eq([s["start"] for s in segs],
       ["2026-11-25T12:00:00Z", "2026-11-25T12:10:00Z", "2026-11-25T12:20:00Z"], "slots")
    eq([s["tracked_s"] for s in segs], [600, 600, 300], "seconds per slot")
    assert all("manual" in s["flags"] for s in segs), segs
    eq(seg_get(w, segs[2]["id"], w.client["token"])["flags"].count("manual"), 1,
       "GET shows manual")
    put_ok(w, at(WED, 9))
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq((d["totals"]["tracked_s"], d["totals"]["manual_s"], d["totals"]["billable_s"]),
       (600, 1500, 2100), "diary splits tracked and manual time")
    eq(d["days"][0]["manual_s"], 1500, "day manual_s")


@tap.test
def test_manual_time_over_tracked_time_is_conflict():
    w = world()
    put_ok(w, at(WED, 14))
    r = w.srv.post(f"contracts/{w.cid}/manual",
                   {"start": rfc3339(at(WED, 13, 50)), "end": rfc3339(at(WED, 14, 5)),
                    "memo": "Overlaps"}, w.fl["token"])
    expect_error(r, 409, "conflict", "manual over tracked time")
    d = diary_ok(w, "2026-11-25", "2026-11-25")
    eq((d["totals"]["manual_s"], len(d["segments"])), (0, 1), "nothing was added")
    r = w.srv.post(f"contracts/{w.cid}/manual",
                   {"start": rfc3339(at(WED, 13, 50)), "end": rfc3339(at(WED, 14)),
                    "memo": "Right before"}, w.fl["token"])
    eq(r.status, 201, f"manual time right before the tracked segment: {r!r}")


@tap.test
def test_manual_time_needs_the_contract_to_allow_it():
    w = world(manual_time_allowed=False)
    body = {"start": rfc3339(at(WED, 12)), "end": rfc3339(at(WED, 12, 30)), "memo": "Meeting"}
    expect_error(w.srv.post(f"contracts/{w.cid}/manual", body, w.fl["token"]), 403,
                 "forbidden", "manual on a contract without manual time")
    expect_error(w.srv.post(f"contracts/{w.cid}/manual", body, w.client["token"]), 403,
                 "forbidden", "client adds manual time")
    eq(diary_ok(w, "2026-11-25", "2026-11-25")["totals"]["manual_s"], 0, "nothing added")


@tap.test
def test_manual_time_must_be_past_and_in_this_week():
    w = world()
    now = at(THU, 12)
    cases = [
        ("ends in the future", at(THU, 11), now + 3600),
        ("in last week", at(0, 10, week=MON - 7 * DAY), at(0, 11, week=MON - 7 * DAY)),
        ("end before start", at(WED, 12), at(WED, 11)),
    ]
    for what, start, end in cases:
        r = w.srv.post(f"contracts/{w.cid}/manual",
                       {"start": rfc3339(start), "end": rfc3339(end), "memo": "x"},
                       w.fl["token"])
        expect_error(r, 400, "invalid_argument", what)
    eq(diary_ok(w, "2026-11-16", "2026-11-29")["totals"]["manual_s"], 0, "nothing added")


# ---- Diary ---------------------------------------------------------------

@tap.test
def test_diary_cuts_days_in_the_given_zone():
    w = world()
    late = put_ok(w, at(TUE, 23, 30))  # Wednesday 00:30 in Berlin (UTC+1 in November)
    put_ok(w, at(TUE, 12))
    d = diary_ok(w, "2026-11-24", "2026-11-25", tz="Europe/Berlin")
    eq(d["tz"], "Europe/Berlin", "tz")
    eq([(x["date"], x["tracked_s"]) for x in d["days"]],
       [("2026-11-24", 600), ("2026-11-25", 600)], "days in Berlin")
    d = diary_ok(w, "2026-11-24", "2026-11-25")
    eq(d["tz"], "UTC", "default tz")
    eq([(x["date"], x["tracked_s"]) for x in d["days"]],
       [("2026-11-24", 1200), ("2026-11-25", 0)], "days in UTC")
    d = diary_ok(w, "2026-11-25", "2026-11-25", tz="Europe/Berlin")
    eq([s["id"] for s in d["segments"]], [late], "Wednesday in Berlin holds the late segment")
    eq(d["segments"][0]["start"], "2026-11-24T23:30:00Z", "starts stay in UTC")
    d = diary_ok(w, "2026-11-24", "2026-11-24", tz="America/Los_Angeles")
    eq(d["totals"]["tracked_s"], 1200, "both are on Tuesday in Los Angeles")
    d = diary_ok(w, "2026-11-24", "2026-11-24", token=w.client["token"])
    eq(d["totals"]["tracked_s"], 1200, "the client sees the same diary")


@tap.test
def test_diary_rejects_bad_zone_and_ranges():
    w = world(t1=None)
    for what, q in (("unknown zone", "from=2026-11-24&to=2026-11-24&tz=Nowhere/Town"),
                    ("to before from", "from=2026-11-24&to=2026-11-23"),
                    ("63 days", "from=2026-01-01&to=2026-03-04"),
                    ("not a date", "from=2026-11-31&to=2026-12-01"),
                    ("unknown parameter", "from=2026-11-24&to=2026-11-24&zone=UTC")):
        expect_error(w.srv.get(f"contracts/{w.cid}/diary?{q}", w.fl["token"]), 400,
                     "invalid_argument", what)
    d = diary_ok(w, "2026-01-01", "2026-03-03")
    eq(len(d["days"]), 62, "62 days are allowed")


# ---- The lock and the test clock ---------------------------------------

@tap.test
def test_a_week_locks_on_monday_noon():
    w = world()
    seg = put_ok(w, at(WED, 9), memo="Before the lock")
    jpeg = image_bytes("jpg", 64, 48, "yellow")
    # Monday morning: the past week can still be edited.
    w.srv.set_clock(w.admin["token"], at(0, 11, week=NEXT_MON))
    eq(w.srv.patch(f"segments/{seg}", {"memo": "Edited Monday morning"},
                   w.fl["token"]).status, 200, "PATCH before the lock")
    # Monday 12:00 UTC: locked.
    w.srv.set_clock(w.admin["token"], at(0, 12, week=NEXT_MON))
    extended = segment_body(w.cid, at(WED, 9), keys=50, memo="Edited Monday morning")
    expect_error(w.srv.put(f"segments/{seg}", extended, w.fl["token"]), 409, "locked",
                 "extending PUT")
    _, r = put_seg(w, at(WED, 10))
    expect_error(r, 409, "locked", "new segment in the locked week")
    expect_error(w.srv.patch(f"segments/{seg}", {"memo": "Too late"}, w.fl["token"]), 409,
                 "locked", "freelancer PATCH")
    expect_error(w.srv.patch(f"segments/{seg}", {"tags": ["late"]}, w.client["token"]), 409,
                 "locked", "client PATCH tags")
    expect_error(w.srv.delete(f"segments/{seg}", w.fl["token"]), 409, "locked", "DELETE")
    expect_error(w.srv.put(f"segments/{seg}/screenshot", token=w.fl["token"], raw=jpeg,
                           headers=JPEG_CT), 409, "locked", "screenshot upload")
    s = seg_get(w, seg)
    eq((s["memo"], s["deleted"], s["tracked_s"]), ("Edited Monday morning", False, 600),
       "the locked segment is as it was")
    # This week is open.
    eq(put_seg(w, at(0, 11, 50, week=NEXT_MON))[1].status, 201, "this week takes time")


@tap.test
def test_admin_clock_needs_test_clock_and_an_admin():
    plain = fresh()
    r = plain.srv.post("admin/clock", {"now": "2026-11-25T10:05:00Z"}, plain.admin["token"])
    expect_error(r, 404, "not_found", "without --test-clock")
    w = fresh("--test-clock")
    srv, admin, u, fl = w.srv, w.admin, w.client, w.fl
    expect_error(srv.post("admin/clock", {"now": "2026-11-25T10:05:00Z"}, u["token"]), 403,
                 "forbidden", "a client moves the clock")
    expect_error(srv.post("admin/clock", {"now": "2026-11-25T10:05:00Z"}), 401,
                 "unauthenticated", "no token")
    expect_error(srv.post("admin/clock", {"now": "next tuesday"}, admin["token"]), 400,
                 "invalid_argument", "not a time")
    r = srv.post("admin/clock", {"now": "2026-11-25T10:05:00Z"}, admin["token"])
    eq(r.status, 200, f"admin moves the clock {r!r}")
    now = parse_time(r.json["now"])
    assert parse_time("2026-11-25T10:05:00Z") <= now < parse_time("2026-11-25T10:06:00Z"), r
    # The server's rules read that clock: today's diary is that Wednesday.
    c = srv.contract(u, fl)
    eq(c["created_at"][:10], "2026-11-25", "contract created at the test clock's time")
    d = srv.get(f"contracts/{c['id']}/diary", fl["token"])
    eq([x["date"] for x in d.json["days"]], ["2026-11-25"], "diary defaults to today")


tap.main()
