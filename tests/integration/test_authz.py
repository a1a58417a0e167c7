#!/usr/bin/env python3
"""The authorization matrix: every route of server/routes.c, asked by each
kind of caller, against one contract C between client A and freelancer F,
its segment S and S's screenshot - and, for the billing routes, on a
--test-clock server a week later, C's timesheet, its dispute, its invoice
and charge (BillingFixture).

Callers: anonymous (no token, malformed tokens, a revoked token), a stranger
freelancer X and a stranger client Y (who have a contract of their own), and
the parties A and F. The rules (shared/spec/API.md, Conventions):
- anonymous gets 401 wherever a token is needed;
- a stranger learns nothing about C or S: the answer is byte for byte the
  answer for an id that does not exist, is never a 2xx, and never holds C's
  title, S's memo, the parties' ids or the image. It is a 404, except where
  the refusal comes before any lookup and is the same for every id (a client
  PUTting a segment, anyone but an admin on an admin route: 403 by role; a
  segment naming C in its body: 400, as for any contract that does not
  exist) - all still checked byte for byte against an id that does not exist;
- A and F get what API.md gives each of them.

The matrix is data (ROUTES below); one TAP line per (route, caller). A test
fails when routes.c has a route the matrix lacks, so new routes get rows.
"""
import atexit
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, tap, current_slot, segment_body, rfc3339, now, eq,  # noqa: E402
                     jpeg, expect_error, admin_add, week_start)

SOURCE = os.environ.get("STINT_SOURCE_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
V1 = "/api/v1"
SEG_S = 60  # short slots: a segment of the current slot is all in the past within a minute


def new_id():
    return str(uuid.uuid4())


class Parties:
    """What both worlds share: the callers and what must never reach a stranger."""

    images = ()

    def token(self, role):
        return getattr(self, role)["token"]

    def user_of(self, role):
        return getattr(self, "A" if role == "anon" else role)

    def revoke_a_token(self):
        """A token of A that was valid and is revoked."""
        r = self.srv.post("login", {"email": self.A["email"], "password": self.A["password"]})
        assert r.status == 200, r
        token = r.json["token"]
        r = self.srv.post("logout", token=token)
        assert r.status == 204, r
        return token

    def assert_no_secrets(self, r, what, allowed=()):
        for s in self.secrets:
            if s in allowed:
                continue
            assert s.encode() not in r.body, f"{what}: the body holds {s!r}: {r!r}"
        for img in self.images:
            assert img not in r.body and img[:64] not in r.body, f"{what}: image bytes leaked"
        assert not r.body.startswith(b"\xff\xd8"), f"{what}: an image came back"
        assert not r.body.startswith(b"%PDF"), f"{what}: a PDF came back"


class Fixture(Parties):
    """The tracking world: contract C, segment S and its screenshot, on one
    shared server, built once per run."""

    def __init__(self):
        srv = self.srv = Server(segment_s=SEG_S, shared=True)
        tag = uuid.uuid4().hex[:12]
        self.A = srv.user("client", name=f"Alice {tag}")
        self.F = srv.user("freelancer", name=f"Fred {tag}")
        # Made first so that time has passed since its start when manual time is added.
        self.C_man = srv.contract(self.A, self.F, title=f"manual {tag}")
        self.t_man = now() + 1
        self.C = srv.contract(self.A, self.F, title=f"Secret project {tag}", tags=["design"])
        self.C_del = srv.contract(self.A, self.F, title=f"deletable {tag}")
        self.C_end_A = srv.contract(self.A, self.F, title=f"to be ended by A {tag}")
        self.C_end_F = srv.contract(self.A, self.F, title=f"to be ended by F {tag}")
        self.slot = current_slot(SEG_S)
        self.memo = f"Secret memo {tag}"

        self.S = new_id()
        self.S_body = segment_body(self.C["id"], self.slot, SEG_S, memo=self.memo,
                                   tags=["design"], seg_id=self.S,
                                   screenshot={"taken_at": rfc3339(self.slot), "status": "ok"})
        r = srv.put(f"segments/{self.S}", self.S_body, self.F["token"])
        assert r.status == 201, r
        self.jpeg = jpeg(64, 48, "red")
        r = srv.put(f"segments/{self.S}/screenshot", raw=self.jpeg, token=self.F["token"],
                    headers={"Content-Type": "image/jpeg"})
        assert r.status == 201, r
        r = srv.get(f"segments/{self.S}/screenshot?size=thumb", self.A["token"])
        assert r.status == 200, r
        self.thumb = r.body

        self.S_del = new_id()
        r = srv.put(f"segments/{self.S_del}",
                    segment_body(self.C_del["id"], self.slot, SEG_S, seg_id=self.S_del),
                    self.F["token"])
        assert r.status == 201, r

        self.X = srv.user("freelancer", name=f"Xavier {tag}")
        self.Y = srv.user("client", name=f"Yolanda {tag}")
        self.C_XY = srv.contract(self.Y, self.X, title=f"XY work {tag}")

        self.revoked = self.revoke_a_token()
        self.images = (self.jpeg, self.thumb)
        # Messaging: C's room R and A's message M in it (M_del: one for A to delete).
        self.R = "c-" + self.C["id"]
        self.msg_text = f"Secret message {tag}"
        self.M, self.M_del = (srv.post(f"rooms/{self.R}/messages", {"text": self.msg_text},
                                       self.A["token"]).json["message"]["id"] for _ in range(2))
        self.targets = {"C": self.C["id"], "S": self.S, "R": self.R, "M": self.M}
        self.secrets = [self.C["title"], self.memo, self.A["id"], self.F["id"], self.C["id"],
                        self.S, self.A["email"], self.F["email"], f"Alice {tag}", f"Fred {tag}",
                        self.msg_text, self.M]
        # Files: A's JPEG FILE, posted in R (so F, a member, may fetch it too).
        self.file_bytes = jpeg(80, 60, "blue")
        r = srv.request("POST", f"{V1}/files", raw=self.file_bytes, token=self.A["token"],
                        headers={"X-Filename": f"secret-plan-{tag}.jpg"})
        assert r.status == 201, r
        self.FILE = r.json["file"]["id"]
        r = srv.post(f"rooms/{self.R}/messages", {"text": "", "file_ids": [self.FILE]},
                     self.A["token"])
        assert r.status == 201, r
        self.targets["FILE"] = self.FILE
        self.images += (self.file_bytes,)
        self.secrets += [self.FILE, f"secret-plan-{tag}"]

    def assert_unchanged(self, what):
        """C, S and S's screenshot are as the parties left them."""
        g = self.srv.get(f"contracts/{self.C['id']}", self.A["token"])
        eq(g.json["contract"]["state"], "active", f"{what}: C's state after")
        eq(g.json["contract"]["title"], self.C["title"], f"{what}: C's title after")
        g = self.srv.get(f"segments/{self.S}", self.F["token"])
        eq((g.status, g.json["segment"]["memo"], g.json["segment"]["deleted"]),
           (200, self.memo, False), f"{what}: S after")
        g = self.srv.get(f"segments/{self.S}/screenshot", self.A["token"])
        eq((g.status, g.body == self.jpeg), (200, True), f"{what}: S's screenshot after")


class BillingFixture(Parties):
    """The billing world, on a --test-clock server: contracts between A and F
    with a week of time each, locked (so in review, invoiced), one timesheet
    disputed (D) and one dispute left for F to answer; the strangers X and Y
    have their own contract. Built once per run."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="stint-authz-")
        atexit.register(shutil.rmtree, self.data, True)
        admin = admin_add(self.data, "admin@example.com", "Admin", "admin password 1")
        srv = self.srv = Server("--test-clock", data=self.data, segment_s=SEG_S, shared=True)
        self.admin = {"token": srv.login(admin["email"], admin["password"])}
        # Wednesday 10:00 of next week: a whole week ahead of its lock.
        self.week0 = week_start(now()) + 7 * 86400
        t0 = self.week0 + 2 * 86400 + 10 * 3600
        srv.set_clock(self.admin["token"], t0)
        set_at = now()
        y, w, _ = dt.datetime.fromtimestamp(t0, dt.timezone.utc).isocalendar()
        self.week_iso = f"{y}-W{w:02d}"
        tag = uuid.uuid4().hex[:12]
        self.tag = tag
        self.A = srv.user("client", name=f"Alice {tag}")
        self.F = srv.user("freelancer", name=f"Fred {tag}")
        self.X = srv.user("freelancer", name=f"Xavier {tag}")
        self.Y = srv.user("client", name=f"Yolanda {tag}")
        contracts = {}
        for name in ("C", "appr", "disp", "resp"):
            contracts[name] = srv.contract(self.A, self.F, title=f"Billed {name} {tag}",
                                           weekly_limit_s=36000)
        self.C = contracts["C"]
        self.C_XY = srv.contract(self.Y, self.X, title=f"XY billed {tag}", weekly_limit_s=3600)
        server_now = t0 + (now() - set_at)
        slot = server_now - server_now % SEG_S
        self.segs = {}
        for name, c in list(contracts.items()) + [("XY", self.C_XY)]:
            sid = new_id()
            who = self.X if name == "XY" else self.F
            r = srv.put(f"segments/{sid}", segment_body(c["id"], slot, SEG_S, seg_id=sid,
                                                        memo=f"Billed work {tag}"), who["token"])
            assert r.status == 201, r
            self.segs[name] = sid
        # Monday 12:01 after the week: locked, in review, invoiced.
        srv.set_clock(self.admin["token"], self.week0 + 7 * 86400 + 12 * 3600 + 60)
        self.ts = {}
        for name, c in list(contracts.items()) + [("XY", self.C_XY)]:
            who = self.Y if name == "XY" else self.A
            r = srv.get(f"contracts/{c['id']}/timesheets?week={self.week_iso}", who["token"])
            assert r.status == 200 and r.json["timesheet"]["state"] == "review", r
            self.ts[name] = r.json["timesheet"]["id"]
        self.TS = self.ts["C"]
        r = srv.get(f"invoices?contract={self.C['id']}", self.A["token"])
        assert r.status == 200 and len(r.json["invoices"]) == 1, r
        self.INV = r.json["invoices"][0]["id"]
        self.CH = (r.json["invoices"][0].get("charge") or {}).get("id") or new_id()
        self.reason = f"Secret reason {tag}"
        self.D = self.dispute("C")
        self.D_resp = self.dispute("resp")
        self.revoked = self.revoke_a_token()
        self.targets = {"C": self.C["id"], "TS": self.TS, "D": self.D, "INV": self.INV,
                        "U": self.F["id"], "UA": self.A["id"], "CH": self.CH}
        self.secrets = [self.C["title"], self.A["id"], self.F["id"], self.C["id"], self.TS,
                        self.D, self.INV, self.reason, self.A["email"], self.F["email"],
                        f"Alice {tag}", f"Fred {tag}"] + [self.segs[k] for k in contracts]
        self.before = self.snapshot()

    def dispute(self, name):
        r = self.srv.post(f"timesheets/{self.ts[name]}/dispute",
                          {"reason": self.reason, "segment_ids": [self.segs[name]]},
                          self.A["token"])
        assert r.status == 201, r
        return r.json["dispute"]["id"]

    def snapshot(self):
        a = self.A["token"]
        return (self.srv.get(f"timesheets/{self.TS}", a).json["timesheet"]["state"],
                self.srv.get(f"disputes/{self.D}", a).json["dispute"]["state"],
                self.srv.get(f"invoices/{self.INV}", a).json["invoice"]["state"])

    def assert_unchanged(self, what):
        eq(self.snapshot(), self.before, f"{what}: C's timesheet, dispute and invoice after")


_fixtures = {}


def fx(world="main"):
    if world not in _fixtures:
        _fixtures[world] = Fixture() if world == "main" else BillingFixture()
    return _fixtures[world]


# ---- The matrix ----

ANON_HEADERS = {
    "no token": {},
    "not a bearer": {"Authorization": "Basic Zm9vOmJhcg=="},
    "empty bearer": {"Authorization": "Bearer "},
    "garbage token": {"Authorization": "Bearer garbage"},
    "well-shaped unknown token": {"Authorization": "Bearer st_" + "A" * 43},
    "revoked token": None,  # filled in from the fixture
    "valid token with a suffix": None,
    "valid token, two spaces": None,
}


def anon_headers(f):
    h = dict(ANON_HEADERS)
    h["revoked token"] = {"Authorization": f"Bearer {f.revoked}"}
    h["valid token with a suffix"] = {"Authorization": f"Bearer {f.A['token']}x"}
    h["valid token, two spaces"] = {"Authorization": f"Bearer  {f.A['token']}"}
    return h


class Route:
    """One row: a route of routes.c and what each caller must get.

    target: which id fills ':id' - 'C' (the contract), 'S' (the segment), in the
            billing world 'TS' (C's timesheet), 'D' (its dispute), 'INV' (its invoice),
            'U'/'UA' (F's/A's user id), 'CH' (the invoice's charge) - or None.
    world: 'main' (tracking) or 'billing' (a --test-clock server a week later).
    body(f, role): the JSON body (or bytes) a caller sends.
    expect: role -> status or (status, code), for A, F (and X, Y on routes with
            no target). Strangers on a target default to (404, 'not_found').
    own(f, role): the id a party uses instead of C/S (a throwaway for writes
            that would spoil the fixture).
    check(f, role, r): more assertions on a party's answer.
    before/after(f, role): setup and cleanup around a party's request.
    """

    def __init__(self, method, pattern, auth=True, target=None, body=None, query="",
                 expect=None, stranger=None, own=None, check=None, before=None, after=None,
                 raw=False, world="main", suffixes=(), user=None, headers=None):
        self.method, self.pattern, self.auth, self.target = method, pattern, auth, target
        self.user = user  # user(f): the id that fills ':user'
        self.headers = headers or {}  # sent with every request of the row
        self.world = world
        self.suffixes = suffixes  # other forms of the id a stranger also tries ("ID.pdf")
        self.body = body or (lambda f, role: None)
        self.query = query
        self.expect = expect or {}
        self.stranger = stranger or {}
        self.own = own
        self.check = check
        self.before, self.after = before, after
        self.raw = raw

    def path(self, ident):
        p = V1 + self.pattern
        if ident is not None:
            p = p.replace(":id", ident)
        return p

    def target_id(self, f):
        return f.targets[self.target] if self.target else None

    def fixture(self):
        return fx(self.world)

    def send(self, f, path, body, token=None, headers=None, query=None):
        q = self.query if query is None else query
        if self.user:
            path = path.replace(":user", self.user(f))
        if callable(q):
            q = q(f)
        if q:
            path += "?" + q
        h = dict(self.headers)
        h.update(headers or {})
        if self.raw:
            h.setdefault("Content-Type", "image/jpeg")
            return f.srv.request(self.method, path, raw=body, token=token, headers=h)
        return f.srv.request(self.method, path, body=body, token=token, headers=h)


def today_query(f):
    d0 = dt.datetime.fromtimestamp(f.slot, dt.timezone.utc).date()
    d1 = dt.datetime.now(dt.timezone.utc).date()
    return f"from={d0}&to={d1}"


def manual_body(f, role):
    if role == "F":
        start, end = f.t_man, max(now(), f.t_man + 1)
    else:
        start, end = f.slot, f.slot + 30
    return {"start": rfc3339(start), "end": rfc3339(end), "memo": "Call with the client"}


def signup_body(f, role):
    return {"email": f"signup-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct horse battery", "name": "New", "role": "client"}


def new_contract_body(f, role):
    other = f.X if role == "Y" else f.F
    return {"freelancer_email": other["email"], "title": "Another job",
            "hourly_rate_cents": 1000, "currency": "USD"}


def check_contract(f, role, r):
    eq(r.json["contract"]["id"], f.C["id"], "contract id")
    eq(r.json["contract"]["title"], f.C["title"], "contract title")


def check_segment(f, role, r):
    eq(r.json["segment"]["id"], f.S, "segment id")
    eq(r.json["segment"]["memo"], f.memo, "memo")


def check_diary(f, role, r):
    ids = [s["id"] for s in r.json["segments"]]
    assert f.S in ids, f"the diary lacks S: {ids}"
    assert f.memo.encode() in r.body


def check_shot(f, role, r):
    eq(r.body, f.jpeg, "screenshot bytes")
    eq(r.headers.get("Content-Type"), "image/jpeg", "content type")
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    t = f.srv.get(f"segments/{f.S}/screenshot?size=thumb", f.token(role))
    eq(t.status, 200, "thumbnail status")
    eq(t.headers.get("Content-Type"), "image/jpeg", "thumbnail type")
    assert t.body[:2] == b"\xff\xd8", "the thumbnail is not a JPEG"


def check_list(f, role, r):
    ids = [c["id"] for c in r.json["contracts"]]
    if role in ("A", "F"):
        assert f.C["id"] in ids, ids
        assert f.C_XY["id"] not in ids, "a party sees the strangers' contract"
    else:
        assert f.C_XY["id"] in ids, ids
        f.assert_no_secrets(r, "stranger's contract list")


def check_me(f, role, r):
    eq(r.json["user"]["id"], f.user_of(role)["id"], "me")
    if role in ("X", "Y"):
        f.assert_no_secrets(r, "stranger's /me")


def check_timesheet(f, r, ts_id, state):
    eq(r.json["timesheet"]["id"], ts_id, "timesheet id")
    eq(r.json["timesheet"]["state"], state, "timesheet state")


def check_billing_list(f, role, r, key, mine):
    ids = [x["id"] for x in r.json[key]]
    if role in ("A", "F"):
        assert mine in ids, f"{key}: {ids}"
    else:
        f.assert_no_secrets(r, f"a stranger's {key}")


def check_invoice(f, role, r):
    eq(r.json["invoice"]["id"], f.INV, "invoice id")
    eq(r.json["invoice"]["contract_id"], f.C["id"], "invoice contract")
    for suffix, ctype, magic in [(".pdf", "application/pdf", b"%PDF"), (".csv", "text/csv", b"")]:
        d = f.srv.get(f"invoices/{f.INV}{suffix}", f.token(role))
        eq(d.status, 200, f"invoice as {suffix}")
        assert d.headers.get("Content-Type", "").startswith(ctype), d.headers
        assert d.body.startswith(magic), d.body[:20]


def check_ledger(f, role, r):
    if role in ("X", "Y"):
        f.assert_no_secrets(r, "a stranger's ledger")


def check_logout(f, role, r, token):
    eq(f.srv.get("me", token).status, 401, "the logged-out token still works")
    eq(f.srv.get("me", f.token(role)).status, 200, "logout revoked the caller's other token")


def pause_C(f, role):
    r = f.srv.post(f"contracts/{f.C['id']}/pause", token=f.A["token"])
    assert r.status == 200, r


def resume_C(f, role):
    r = f.srv.post(f"contracts/{f.C['id']}/resume", token=f.A["token"])
    assert r.status in (200, 409), r  # 409: it was not paused (the request under test failed)
    eq(f.srv.get(f"contracts/{f.C['id']}", f.A["token"]).json["contract"]["state"], "active",
       "C after cleanup")


def check_state(state):
    def check(f, role, r):
        eq(r.json["contract"]["state"], state, "state")
    return check


def new_room_body(f, role):
    # X shares no contract with A: refused. The others name a party of theirs.
    other = {"F": f.A, "X": f.A, "Y": f.X}.get(role, f.F)
    return {"title": "Side project", "member_ids": [other["id"]]}


def check_rooms(f, role, r):
    ids = [x["id"] for x in r.json["rooms"]]
    if role in ("A", "F"):
        assert f.R in ids, ids
    else:
        f.assert_no_secrets(r, "a stranger's rooms")


def check_room(f, role, r):
    eq(r.json["room"]["id"], f.R, "room id")
    eq(r.json["room"]["contract_id"], f.C["id"], "room contract")


def check_messages(f, role, r):
    assert f.M in [m["id"] for m in r.json["messages"]], r


def check_search(f, role, r):
    if role in ("A", "F"):
        assert f.M in [m["id"] for m in r.json["messages"]], r
    else:
        f.assert_no_secrets(r, "a stranger's search")


def check_file(f, role, r):
    eq(r.body, f.file_bytes, "file bytes")
    eq(r.headers.get("Content-Type"), "image/jpeg", "file type")
    assert r.headers.get("Content-Disposition", "").startswith("attachment;"), r.headers
    eq(r.headers.get("Content-Security-Policy"), "sandbox", "file CSP")


def check_file_thumb(f, role, r):
    eq(r.headers.get("Content-Type"), "image/jpeg", "thumbnail type")
    assert r.body[:3] == b"\xff\xd8\xff", "the thumbnail is not a JPEG"


def check_room_files(f, role, r):
    assert f.FILE in [x["id"] for x in r.json["files"]], r


def check_deleted(f, role, r):
    g = f.srv.get(f"segments/{f.S_del}", f.A["token"])
    assert g.status == 404 or (g.status == 200 and g.json["segment"]["deleted"]), g


ROUTES = [
    Route("GET", "/health", auth=False, expect={r: 200 for r in "AFXY"}),
    Route("GET", "/config", auth=False, expect={r: 200 for r in "AFXY"}),
    Route("POST", "/signup", auth=False, body=signup_body, expect={r: 201 for r in "AFXY"}),
    Route("POST", "/login", auth=False, expect={r: 200 for r in "AFXY"},
          body=lambda f, role: {"email": f.user_of(role)["email"],
                                "password": f.user_of(role)["password"]}),
    Route("POST", "/logout", expect={r: 204 for r in "AFXY"}),
    Route("GET", "/me", expect={r: 200 for r in "AFXY"}, check=check_me),
    Route("POST", "/contracts", body=new_contract_body,
          expect={"A": 201, "Y": 201, "F": (403, "forbidden"), "X": (403, "forbidden")}),
    Route("GET", "/contracts", expect={r: 200 for r in "AFXY"}, check=check_list),
    Route("GET", "/contracts/:id", target="C", expect={"A": 200, "F": 200},
          check=check_contract),
    Route("PATCH", "/contracts/:id", target="C",
          body=lambda f, role: {"title": f.C["title"]},
          expect={"A": 200, "F": (403, "forbidden")}, check=check_contract),
    Route("POST", "/contracts/:id/accept", target="C",
          expect={"A": (403, "forbidden"), "F": (409, "conflict")}),
    Route("POST", "/contracts/:id/pause", target="C",
          expect={"A": 200, "F": (403, "forbidden")}, check=check_state("paused"),
          after=resume_C),
    Route("POST", "/contracts/:id/resume", target="C",
          expect={"A": 200, "F": (403, "forbidden")}, check=check_state("active"),
          before=lambda f, role: role == "A" and pause_C(f, role), after=resume_C),
    Route("POST", "/contracts/:id/end", target="C",
          expect={"A": 200, "F": 200}, check=check_state("ended"),
          own=lambda f, role: f.C_end_A["id"] if role == "A" else f.C_end_F["id"]),
    Route("POST", "/contracts/:id/manual", target="C", body=manual_body,
          expect={"A": (403, "forbidden"), "F": 201},
          own=lambda f, role: f.C_man["id"] if role == "F" else f.C["id"]),
    Route("GET", "/contracts/:id/diary", target="C", query=today_query,
          expect={"A": 200, "F": 200}, check=check_diary),
    Route("PUT", "/segments/:id", target="S", body=lambda f, role: f.S_body,
          expect={"A": (403, "forbidden"), "F": 200}, check=check_segment,
          stranger={"X": (400, "invalid_argument"), "Y": (403, "forbidden")}),
    Route("GET", "/segments/:id", target="S", expect={"A": 200, "F": 200}, check=check_segment),
    Route("PATCH", "/segments/:id", target="S",
          body=lambda f, role: {"memo": f.memo} if role == "F" else {"tags": ["design"]},
          expect={"A": 200, "F": 200}, check=check_segment),
    Route("DELETE", "/segments/:id", target="S",
          expect={"A": (403, "forbidden"), "F": 204},
          own=lambda f, role: f.S_del if role == "F" else f.S, check=check_deleted),
    Route("PUT", "/segments/:id/screenshot", target="S", raw=True,
          body=lambda f, role: f.jpeg, expect={"A": (403, "forbidden"), "F": 200}),
    Route("GET", "/segments/:id/screenshot", target="S", expect={"A": 200, "F": 200},
          check=check_shot),
    Route("POST", "/admin/clock", body=lambda f, role: {"now": rfc3339(now())},
          expect={r: (404, "not_found") for r in "AFXY"}),

    # Messaging: C's room R (A and F its members) and A's message M in it.
    Route("GET", "/rooms", expect={r: 200 for r in "AFXY"}, check=check_rooms),
    Route("POST", "/rooms", body=new_room_body,
          expect={"A": 201, "F": 201, "X": (403, "forbidden"), "Y": 201}),
    Route("GET", "/rooms/:id", target="R", expect={"A": 200, "F": 200}, check=check_room),
    Route("PATCH", "/rooms/:id", target="R", body=lambda f, role: {"title": f.C["title"]},
          expect={"A": 200, "F": 200}, check=check_room),
    Route("POST", "/rooms/:id/members", target="R", body=lambda f, role: {"user_id": f.F["id"]},
          expect={"A": (409, "conflict"), "F": (409, "conflict")}),
    Route("DELETE", "/rooms/:id/members/:user", target="R", user=lambda f: f.F["id"],
          expect={"A": (409, "conflict"), "F": (409, "conflict")}),
    Route("POST", "/rooms/:id/read", target="R", body=lambda f, role: {"message_id": f.M},
          expect={"A": 200, "F": 200}, check=check_room),
    Route("GET", "/rooms/:id/messages", target="R", expect={"A": 200, "F": 200},
          check=check_messages),
    Route("POST", "/rooms/:id/messages", target="R",
          body=lambda f, role: {"text": f"hello from {role}"}, expect={"A": 201, "F": 201}),
    Route("PATCH", "/messages/:id", target="M", body=lambda f, role: {"text": f.msg_text},
          expect={"A": 200, "F": (403, "forbidden")}),
    Route("DELETE", "/messages/:id", target="M", expect={"A": 204, "F": (403, "forbidden")},
          own=lambda f, role: f.M_del if role == "A" else f.M),
    Route("GET", "/search", query="q=Secret", expect={r: 200 for r in "AFXY"},
          check=check_search),
    # Files: A's FILE, posted in R; anyone signed in uploads.
    Route("POST", "/files", raw=True, body=lambda f, role: b"notes of " + role.encode(),
          headers={"X-Filename": "notes.txt"}, expect={r: 201 for r in "AFXY"}),
    Route("GET", "/files/:id", target="FILE", expect={"A": 200, "F": 200}, check=check_file),
    Route("GET", "/files/:id/thumb", target="FILE", expect={"A": 200, "F": 200},
          check=check_file_thumb),
    Route("GET", "/rooms/:id/files", target="R", expect={"A": 200, "F": 200},
          check=check_room_files),
    # Calls: a room's history for its members; ICE servers for anyone signed in.
    Route("GET", "/rooms/:id/calls", target="R", expect={"A": 200, "F": 200}),
    Route("GET", "/calls/ice", expect={r: 200 for r in "AFXY"}),
    # The WebSocket: its token comes in the first message; a plain GET is no upgrade.
    Route("GET", "/ws", auth=False, expect={r: (426, "upgrade_required") for r in "AFXY"}),

    # Billing, in the world a week later (see BillingFixture).
    Route("GET", "/contracts/:id/timesheets", target="C", world="billing",
          query=lambda f: f"week={f.week_iso}", expect={"A": 200, "F": 200},
          check=lambda f, role, r: check_timesheet(f, r, f.TS, "disputed")),
    Route("GET", "/timesheets/:id", target="TS", world="billing", suffixes=(".csv",),
          expect={"A": 200, "F": 200},
          check=lambda f, role, r: check_timesheet(f, r, f.TS, "disputed")),
    Route("POST", "/timesheets/:id/approve", target="TS", world="billing",
          expect={"A": 200, "F": (403, "forbidden")},
          own=lambda f, role: f.ts["appr"] if role == "A" else f.TS,
          check=lambda f, role, r: check_timesheet(f, r, f.ts["appr"], "approved")),
    Route("POST", "/timesheets/:id/dispute", target="TS", world="billing",
          body=lambda f, role: {"reason": f.reason, "segment_ids": [
              f.segs["disp"] if role == "A" else f.segs["C"]]},
          expect={"A": 201, "F": (403, "forbidden")},
          own=lambda f, role: f.ts["disp"] if role == "A" else f.TS),
    Route("GET", "/disputes", world="billing", expect={r: 200 for r in "AFXY"},
          check=lambda f, role, r: check_billing_list(f, role, r, "disputes", f.D)),
    Route("GET", "/disputes/:id", target="D", world="billing", expect={"A": 200, "F": 200},
          check=lambda f, role, r: eq(r.json["dispute"]["id"], f.D, "dispute id")),
    Route("POST", "/disputes/:id/respond", target="D", world="billing",
          body=lambda f, role: {"accept": False},
          expect={"A": (403, "forbidden"), "F": 200},
          own=lambda f, role: f.D_resp if role == "F" else f.D,
          check=lambda f, role, r: eq(r.json["dispute"]["state"], "declined", "state")),
    Route("POST", "/disputes/:id/settle", target="D", world="billing",
          body=lambda f, role: {"refund_segment_ids": []},
          expect={"A": (403, "forbidden"), "F": (403, "forbidden")},
          stranger={"X": (403, "forbidden"), "Y": (403, "forbidden")}),
    Route("GET", "/invoices", world="billing", expect={r: 200 for r in "AFXY"},
          check=lambda f, role, r: check_billing_list(f, role, r, "invoices", f.INV)),
    Route("GET", "/invoices/:id", target="INV", world="billing", suffixes=(".pdf", ".csv"),
          expect={"A": 200, "F": 200}, check=check_invoice),
    Route("GET", "/ledger", world="billing", expect={r: 200 for r in "AFXY"},
          check=check_ledger),
    Route("POST", "/admin/users/:id/verify", target="U", world="billing",
          expect={"A": (403, "forbidden"), "F": (403, "forbidden")},
          stranger={"X": (403, "forbidden"), "Y": (403, "forbidden")}),
    Route("POST", "/admin/users/:id/billing", target="UA", world="billing",
          body=lambda f, role: {"state": "verified"},
          expect={"A": (403, "forbidden"), "F": (403, "forbidden")},
          stranger={"X": (403, "forbidden"), "Y": (403, "forbidden")}),
    Route("POST", "/admin/charges/:id", target="CH", world="billing",
          body=lambda f, role: {"paid": True},
          expect={"A": (403, "forbidden"), "F": (403, "forbidden")},
          stranger={"X": (403, "forbidden"), "Y": (403, "forbidden")}),
]


def status_of(e):
    return e if isinstance(e, int) else e[0]


def assert_expected(r, e, what):
    if isinstance(e, tuple):
        expect_error(r, e[0], e[1], what)
    else:
        assert r.status == e, f"{what}: expected {e}, got {r!r}"
        if e >= 400:
            expect_error(r, e, None, what)


# ---- The tests each (route, caller) pair runs ----

def run_anonymous(route):
    f = route.fixture()
    ident = route.target_id(f)
    for name, headers in anon_headers(f).items():
        what = f"{route.method} {route.pattern} with {name}"
        body = route.body(f, "anon")
        r = route.send(f, route.path(ident), body, headers=headers)
        if route.auth:
            expect_error(r, 401, "unauthenticated", what)
            eq(r.headers.get("WWW-Authenticate"), "Bearer", f"{what}: WWW-Authenticate")
            f.assert_no_secrets(r, what)
            if ident is not None:
                r2 = route.send(f, route.path(new_id()), body, headers=headers)
                eq((r2.status, r2.body), (r.status, r.body), f"{what}: C/S vs no such id")
        elif route.pattern in ("/health", "/config"):
            eq(r.status, 200, what)
        elif route.pattern == "/signup":
            eq(r.status, 201, what)
            eq(r.json["user"]["role"], "client", what)
            break  # one sign-up shows a header changes nothing; each costs an argon2id hash
        elif route.pattern == "/ws":
            expect_error(r, (400, 426), None, what)
        elif route.pattern == "/login":
            r = route.send(f, route.path(None),
                           {"email": f.A["email"], "password": f.A["password"]},
                           headers=headers)
            eq(r.status, 200, what)
            eq(r.json["user"]["id"], f.A["id"], what)
            break
        else:
            raise AssertionError(f"no anonymous rule for {route.pattern}")
    # A wrong password is a 401 whoever asks (and says nothing of the account).
    if route.pattern == "/login":
        r = f.srv.post("login", {"email": f.A["email"], "password": "not the password!"})
        expect_error(r, 401, "unauthenticated", "wrong password")
        r2 = f.srv.post("login", {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com",
                                  "password": "not the password!"})
        eq(r2.body, r.body, "wrong password vs unknown email")


def run_stranger(route, role):
    f = route.fixture()
    tok = f.token(role)
    if route.target is None:
        return run_party(route, role)
    what = f"{role} {route.method} {route.pattern} on {route.target}"
    e = route.stranger.get(role, (404, "not_found"))
    body = route.body(f, role)
    r = route.send(f, route.path(route.target_id(f)), body, tok)
    assert_expected(r, e, what)
    assert r.status not in (200, 201, 204), what
    f.assert_no_secrets(r, what)
    # No existence oracle: the same request on an id that does not exist.
    other = new_id()
    if isinstance(body, dict) and body.get("id") == route.target_id(f):
        body = dict(body, id=other)
    r2 = route.send(f, route.path(other), body, tok)
    eq(r2.status, r.status, f"{what}: status vs no such id")
    eq(r2.body, r.body, f"{what}: body vs no such id")
    eq(r2.headers.get("Content-Type"), r.headers.get("Content-Type"), f"{what}: type")
    for suffix in route.suffixes:
        r3 = route.send(f, route.path(route.target_id(f) + suffix), body, tok)
        r4 = route.send(f, route.path(other + suffix), body, tok)
        assert_expected(r3, e, f"{what} as {suffix}")
        f.assert_no_secrets(r3, f"{what} as {suffix}")
        eq((r3.status, r3.body), (r4.status, r4.body), f"{what} as {suffix}: vs no such id")
    # Nothing changed for the parties.
    f.assert_unchanged(what)
    if route.pattern == "/segments/:id" and route.method == "PUT" and role == "X":
        # Time into C under a fresh id: the same answer as for a contract that does not exist.
        sid = new_id()
        b1 = dict(f.S_body, id=sid)
        b2 = dict(f.S_body, id=sid, contract_id=new_id())
        r1 = f.srv.put(f"segments/{sid}", b1, tok)
        r2 = f.srv.put(f"segments/{sid}", b2, tok)
        assert r1.status >= 400, r1
        eq((r1.status, r1.body), (r2.status, r2.body), "X uploading into C vs into no contract")


def run_party(route, role):
    f = route.fixture()
    what = f"{role} {route.method} {route.pattern}"
    e = route.expect[role]
    ident = route.own(f, role) if route.own else route.target_id(f)
    tok = f.token(role)
    if route.pattern == "/logout":
        # A fresh token, so that the caller's main one stays valid for the other tests.
        u = f.user_of(role)
        lr = f.srv.post("login", {"email": u["email"], "password": u["password"]})
        assert lr.status == 200, lr
        tok = lr.json["token"]
    if route.before:
        route.before(f, role)
    try:
        r = route.send(f, route.path(ident), route.body(f, role), tok)
        assert_expected(r, e, what)
        if route.pattern == "/logout":
            check_logout(f, role, r, tok)
        elif route.check and status_of(e) < 300:
            route.check(f, role, r)
        if route.pattern == "/admin/clock":
            u = f.srv.get("/api/v1/no-such-route", tok)
            eq(r.body, u.body, "the test clock without --test-clock vs an unknown path")
    finally:
        if route.after:
            route.after(f, role)


def make_test(route, role):
    if role == "anon":
        def fn():
            run_anonymous(route)
    elif role in ("X", "Y"):
        def fn():
            run_stranger(route, role)
    else:
        def fn():
            run_party(route, role)
    fn.__name__ = f"{route.method} {route.pattern} as {role}"
    return fn


@tap.test
def route_table_is_covered():
    """Every route in routes.c has a row here, and every row a route."""
    with open(os.path.join(SOURCE, "server", "routes.c")) as fp:
        src = fp.read()
    table = set()
    for m in re.finditer(r'\{\s*"([A-Z]+)",\s*V1\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*([^,]+),', src):
        table.add((m.group(1), m.group(2), "ROUTE_AUTH" in m.group(4)))
    assert len(table) >= 20, f"could not read the route table: {table}"
    rows = {(r.method, r.pattern, r.auth) for r in ROUTES}
    eq(sorted(table - rows), [], "routes with no row in the matrix")
    eq(sorted(rows - table), [], "rows for routes that do not exist (or differ in auth)")


for _route in ROUTES:
    for _role in ("anon", "X", "Y", "A", "F"):
        tap.test(make_test(_route, _role))


@tap.test
def parties_are_strangers_to_other_contracts():
    """A and F get 404 for the X-Y contract, the same as for no contract."""
    f = fx()
    for role in ("A", "F"):
        r = f.srv.get(f"contracts/{f.C_XY['id']}", f.token(role))
        expect_error(r, 404, "not_found", role)
        r2 = f.srv.get(f"contracts/{new_id()}", f.token(role))
        eq(r2.body, r.body, f"{role}: the X-Y contract vs no contract")
        r = f.srv.get(f"contracts/{f.C_XY['id']}/diary", f.token(role))
        expect_error(r, 404, "not_found", role)


@tap.test
def stranger_reusing_a_segment_id_learns_nothing():
    """X uploads to his own contract under S's id. Segment ids are chosen by
    trackers, so X may know one (a leaked URL); the answer must be the one
    for an id no one uses (X gets a segment of his own: ids are unique per
    contract), and S must stay untouched."""
    f = fx()
    slot = current_slot(SEG_S)
    fresh = new_id()
    r_fresh = f.srv.put(f"segments/{fresh}",
                        segment_body(f.C_XY["id"], slot, SEG_S, seg_id=fresh, device="x-1"),
                        f.X["token"])
    eq(r_fresh.status, 201, "X's upload under a fresh id")
    r = f.srv.put(f"segments/{f.S}",
                  segment_body(f.C_XY["id"], slot, SEG_S, seg_id=f.S, device="x-2"),
                  f.X["token"])
    f.assert_no_secrets(r, "X uploading under S's id", allowed=(f.S,))
    eq(r.json["segment"]["contract_id"], f.C_XY["id"], "X's segment under S's id")
    g = f.srv.get(f"segments/{f.S}", f.A["token"])
    eq((g.json["segment"]["contract_id"], g.json["segment"]["memo"]), (f.C["id"], f.memo),
       "S after X's upload")
    eq(r.status, r_fresh.status,
       f"X uploading under S's id vs under a fresh id (an existence oracle): {r!r}")


@tap.test
def the_admin_gets_what_the_others_are_refused():
    """The 403s of the admin routes are about the caller, not the target: the
    admin gets through with the same requests."""
    f = fx("billing")
    tok = f.admin["token"]
    r = f.srv.post(f"admin/users/{f.F['id']}/verify", {"verified": True}, tok)
    eq((r.status, r.json["user"]["id_verified"]), (200, True), f"verify: {r!r}")
    r = f.srv.post(f"admin/users/{f.A['id']}/billing", {"state": "verified"}, tok)
    eq(r.status, 200, f"billing: {r!r}")
    r = f.srv.get("disputes", tok)
    assert f.D in [d["id"] for d in r.json["disputes"]], r


@tap.test
def authorization_is_checked_before_the_body_is_read():
    """An anonymous or stranger upload of a big body is refused without the
    server decoding it: 401 for no token, and a stranger's screenshot PUT is
    the same 404 whatever the bytes. (A stranger of our own: X may hold a
    segment under S's id, see stranger_reusing_a_segment_id_learns_nothing.)"""
    f = fx()
    z = f.srv.user("freelancer", name="Zed Stranger")
    junk = b"\xff\xd8" + os.urandom(64 * 1024)
    r = f.srv.put(f"segments/{f.S}/screenshot", raw=junk, headers={"Content-Type": "image/jpeg"})
    expect_error(r, 401, "unauthenticated", "anonymous")
    r1 = f.srv.put(f"segments/{f.S}/screenshot", raw=junk, token=z["token"])
    r2 = f.srv.put(f"segments/{f.S}/screenshot", raw=f.jpeg, token=z["token"])
    expect_error(r1, 404, "not_found", "stranger, junk")
    eq(r2.body, r1.body, "stranger: junk vs a real JPEG")


if __name__ == "__main__":
    tap.main()
