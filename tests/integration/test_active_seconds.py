#!/usr/bin/env python3
"""Active seconds end to end, through the real stintd and the real CLI.

A desktop without global input counts (Wayland) measures activity as active
seconds: per minute, how many seconds had any input. A segment says so with
"activity_measure": "active_seconds" and carries "active_s" per minute; its
counts are unavailable (0 in the upload, null when read). Here: such an
upload read back by GET and in the diary beside a counts segment, the 0-10
level, Hourly Payment Protection's "activity level >= 1" under either
measure, the refusals (400 JSON) and the "only extends" rule on re-upload,
`stint diary` (plain and --json) as a user reads it, and a store written
before active seconds, migrated by the new stintd.

Needs STINT_BUILD_ROOT (set by meson). Standard library only; prints TAP.
"""
import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
import uuid

from harness import (Server, admin_add, eq, expect_error, jpeg, rfc3339, run_cli, segment_body,
                     tap)

H = 3600
# Monday 2031-03-03 00:00 UTC: ISO week 2031-W10 (as test_billing.py).
MON = int(dt.datetime(2031, 3, 3, tzinfo=dt.timezone.utc).timestamp())
WEEK = "2031-W10"
# Active seconds per minute of the Wayland segment: 4 minutes with input.
ACTIVE = [42, 60, 0, 45, 10, 0, 0, 0, 0, 0]


class World:
    """A --test-clock stintd with an admin, a client and a freelancer on an
    hourly contract with a weekly limit, made on Monday 08:00; the clock
    then stands at Monday 18:00, so the day's slots are in the past."""

    def __init__(self):
        self.data = tempfile.mkdtemp(prefix="stint-active-")
        admin_add(self.data)
        self.srv = Server("--test-clock", data=self.data)
        self.srv.owns_data = True
        self.admin = self.srv.login("admin@example.com", "admin password 1")
        self.srv.set_clock(self.admin, MON + 8 * H)
        self.client = self.srv.user("client", name="Carla Client")
        self.fl = self.srv.user("freelancer", name="Wanda Wayland")
        self.c = self.srv.contract(self.client, self.fl, weekly_limit_s=40 * H)
        self.cid = self.c["id"]
        self.srv.set_clock(self.admin, MON + 18 * H)
        self.home = None

    def put(self, body, seg_id=None):
        seg_id = seg_id or body.get("id") or str(uuid.uuid4())
        return seg_id, self.srv.put(f"segments/{seg_id}", body, self.fl["token"])

    def get(self, seg_id, who=None):
        r = self.srv.get(f"segments/{seg_id}", (who or self.fl)["token"])
        eq(r.status, 200, f"GET segment: {r!r}")
        return r.json["segment"]

    def shot(self, seg_id):
        r = self.srv.put(f"segments/{seg_id}/screenshot", token=self.fl["token"],
                         raw=jpeg(96, 64, "steelblue"), headers={"Content-Type": "image/jpeg"})
        assert r.status in (200, 201), r

    def cli(self, *args):
        if self.home is None:
            self.home = tempfile.mkdtemp(prefix="stint-active-cli-")
            r = run_cli(["--server", self.srv.url, "login", "--email", self.fl["email"],
                         "--password-stdin"], env=self.env(), input=self.fl["password"] + "\n")
            assert r.returncode == 0, r.stderr
        return run_cli(["--server", self.srv.url] + list(args), env=self.env())

    def env(self):
        return {"XDG_CONFIG_HOME": self.home, "XDG_DATA_HOME": self.home, "NO_COLOR": "1"}

    def close(self):
        if self.home:
            shutil.rmtree(self.home, True)


def wayland_body(cid, start, active=ACTIVE, **kw):
    """An upload as the Wayland tracker sends it: counts 0, active_s per minute."""
    body = segment_body(cid, start, keys=0, mouse=0, **kw)
    body["activity_measure"] = "active_seconds"
    for m, a in zip(body["minutes"], active):
        m["active_s"] = a
    return body


@tap.test
def test_an_active_seconds_segment_is_stored_and_read_back():
    w = World()
    try:
        sid, r = w.put(wayland_body(w.cid, MON + 9 * H, memo="On Wayland"))
        eq(r.status, 201, f"PUT: {r!r}")
        eq(r.json["segment"]["activity_measure"], "active_seconds", "the reply says the measure")
        for who in (w.fl, w.client):
            s = w.get(sid, who)
            eq(s["activity_measure"], "active_seconds", "measure")
            eq([m["active_s"] for m in s["minutes"]], ACTIVE, "active seconds per minute")
            eq({(m["keys"], m["mouse"], m["synthetic"]) for m in s["minutes"]},
               {(None, None, None)}, "counts are unavailable (null), not zero")
            eq(s["activity"], 4, "level: minutes with an active second")
            eq(s["tracked_s"], 600, "tracked")
            eq("unusual_input" in s["flags"], False, "never unusual from active seconds")
        # A counts segment in the next slot reads as it always did.
        cid2, r = w.put(segment_body(w.cid, MON + 9 * H + 600, keys=3, mouse=4))
        eq(r.status, 201, f"PUT counts: {r!r}")
        s = w.get(cid2)
        eq(s["activity_measure"], "counts", "counts measure")
        eq(s["minutes"][0], {"tracked_s": 60, "keys": 3, "mouse": 4, "synthetic": 0},
           "a counts minute: no active_s, counts as numbers")
        eq(s["activity"], 10, "counts level")
        # The diary holds both, each in its measure.
        r = w.srv.get(f"contracts/{w.cid}/diary?from=2031-03-03&to=2031-03-03",
                      w.client["token"])
        eq(r.status, 200, f"diary: {r!r}")
        by_id = {s["id"]: s for s in r.json["segments"]}
        eq(by_id[sid]["activity_measure"], "active_seconds", "diary: measure")
        eq(by_id[sid]["minutes"][0], {"tracked_s": 60, "keys": None, "mouse": None,
                                      "synthetic": None, "active_s": 42}, "diary: a minute")
        eq(by_id[sid]["activity"], 4, "diary: level")
        eq(by_id[cid2]["activity_measure"], "counts", "diary: the counts segment")
        eq(r.json["totals"]["tracked_s"], 1200, "diary totals count both")
    finally:
        w.close()


@tap.test
def test_a_counts_segment_may_carry_active_seconds():
    w = World()
    try:
        body = segment_body(w.cid, MON + 10 * H, keys=2, mouse=0)
        for i, m in enumerate(body["minutes"]):
            m["active_s"] = 20 + i
        sid, r = w.put(body)
        eq(r.status, 201, f"PUT: {r!r}")
        s = w.get(sid)
        eq(s["activity_measure"], "counts", "still counts")
        eq(s["minutes"][3], {"tracked_s": 60, "keys": 2, "mouse": 0, "synthetic": 0,
                             "active_s": 23}, "counts and active seconds")
        # Leaving active_s out of a re-upload would lose what was stored.
        del body["minutes"][0]["active_s"]
        r = w.srv.put(f"segments/{sid}", body, w.fl["token"])
        expect_error(r, 400, "invalid_argument", "active_s in nine minutes of ten")
        for m in body["minutes"]:
            m.pop("active_s", None)
        r = w.srv.put(f"segments/{sid}", body, w.fl["token"])
        expect_error(r, 409, "conflict", "active_s dropped on re-upload")
    finally:
        w.close()


@tap.test
def test_bad_active_seconds_uploads_are_400_with_a_clear_message():
    w = World()
    try:
        cases = []
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][0]["tracked_s"] = 30
        cases.append((b, "'active_s' exceeds 'tracked_s'", "active_s > tracked_s"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][1]["keys"] = 5
        cases.append((b, "counts are unavailable", "keys with active_seconds"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][1]["synthetic"] = 1
        b["minutes"][1]["mouse"] = 1
        cases.append((b, "must be 0", "mouse and synthetic with active_seconds"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["activity_measure"] = "keystrokes"
        cases.append((b, "'activity_measure' must be counts or active_seconds",
                      "an unknown measure"))
        b = wayland_body(w.cid, MON + 11 * H)
        del b["minutes"][4]["active_s"]
        cases.append((b, "'active_s' is required", "a minute without active_s"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][2]["active_s"] = 61
        cases.append((b, "active_s", "more active seconds than a minute has"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][2]["active_s"] = -1
        cases.append((b, "active_s", "negative active seconds"))
        b = wayland_body(w.cid, MON + 11 * H)
        b["minutes"][2]["active_s"] = 1e3
        cases.append((b, "active_s", "active seconds as a real number"))
        for body, needle, what in cases:
            _, r = w.put(body)
            expect_error(r, 400, "invalid_argument", what)
            assert needle in r.json["error"]["message"], (what, r.json)
        # Nothing of it was stored.
        r = w.srv.get(f"contracts/{w.cid}/diary?from=2031-03-03&to=2031-03-03", w.fl["token"])
        eq(r.json["segments"], [], "no refused upload in the diary")
    finally:
        w.close()


@tap.test
def test_a_re_upload_only_extends_active_seconds():
    w = World()
    try:
        sid = str(uuid.uuid4())
        body = wayland_body(w.cid, MON + 12 * H, seconds=30, active=[10] * 10, seg_id=sid)
        eq(w.put(body)[1].status, 201, "first upload")
        eq(w.put(body)[1].status, 200, "the same again")
        more = wayland_body(w.cid, MON + 12 * H, seconds=60, active=[10] * 9 + [55], seg_id=sid)
        _, r = w.put(more)
        eq(r.status, 200, f"more seconds and more active seconds: {r!r}")
        eq(w.get(sid)["minutes"][9]["active_s"], 55, "extended")
        fewer = wayland_body(w.cid, MON + 12 * H, seconds=60, active=[10] * 9 + [54], seg_id=sid)
        expect_error(w.put(fewer)[1], 409, "conflict", "fewer active seconds")
        counts = segment_body(w.cid, MON + 12 * H, keys=1, mouse=1, seg_id=sid)
        expect_error(w.put(counts)[1], 409, "conflict", "the measure changed to counts")
        eq(w.get(sid)["minutes"][9]["active_s"], 55, "the refused uploads changed nothing")
        eq(w.get(sid)["activity_measure"], "active_seconds", "the measure stays")
    finally:
        w.close()


@tap.test
def test_payment_protection_reads_the_level_of_either_measure():
    w = World()
    try:
        srv = w.srv
        eq(srv.post(f"admin/users/{w.fl['id']}/verify", token=w.admin).status, 200, "verify")
        eq(srv.post(f"admin/users/{w.client['id']}/billing", {"state": "verified"},
                    w.admin).status, 200, "billing")
        busy, r = w.put(wayland_body(w.cid, MON + 13 * H))
        eq(r.status, 201, f"busy: {r!r}")
        still, r = w.put(wayland_body(w.cid, MON + 13 * H + 600, active=[0] * 10))
        eq(r.status, 201, f"still: {r!r}")
        counted, r = w.put(segment_body(w.cid, MON + 13 * H + 1200, keys=1, mouse=0))
        eq(r.status, 201, f"counts: {r!r}")
        for sid in (busy, still, counted):
            w.shot(sid)
        eq(w.get(still)["activity"], 0, "no active second: level 0")
        r = srv.get(f"contracts/{w.cid}/timesheets?week={WEEK}", w.client["token"])
        eq(r.status, 200, f"timesheet: {r!r}")
        t = r.json["timesheet"]
        unprot = {u["segment_id"]: u["reasons"] for u in t["unprotected"]}
        eq(unprot, {still: ["no_activity"]}, "only the segment without activity is unprotected")
        eq((t["tracked_s"], t["protected_s"]), (1800, 1200),
           "active seconds protect as counts do")
    finally:
        w.close()


@tap.test
def test_stint_diary_shows_active_seconds():
    w = World()
    try:
        sid, r = w.put(wayland_body(w.cid, MON + 9 * H, memo="On Wayland"))
        eq(r.status, 201, f"PUT: {r!r}")
        cid2, r = w.put(segment_body(w.cid, MON + 9 * H + 600, memo="On X11"))
        eq(r.status, 201, f"PUT counts: {r!r}")
        p = w.cli("diary", w.cid, "--date", "2031-03-03", "--tz", "UTC")
        assert p.returncode == 0, p.stderr
        rows = {line.split()[0]: line for line in p.stdout.splitlines()
                if line.startswith("09:")}
        assert "157s active*" in rows["09:00-09:10"], p.stdout
        assert "active" not in rows["09:10-09:20"], p.stdout
        assert "* active seconds: seconds with any input" in p.stdout, p.stdout
        assert "synthetic input cannot be told apart" in p.stdout, p.stdout
        p = w.cli("diary", w.cid, "--date", "2031-03-03", "--tz", "UTC", "--json")
        assert p.returncode == 0, p.stderr
        d = json.loads(p.stdout)
        by_id = {s["id"]: s for s in d["segments"]}
        eq(by_id[sid]["activity_measure"], "active_seconds", "--json: measure")
        eq(by_id[sid]["minutes"][1]["active_s"], 60, "--json: active_s")
        eq(by_id[sid]["minutes"][1]["keys"], None, "--json: keys null")
        eq(by_id[cid2]["activity_measure"], "counts", "--json: counts segment")
        # A day with counts only has no footnote: the counts look is unchanged.
        w.srv.set_clock(w.admin, MON + 86400 + 18 * H)
        _, r = w.put(segment_body(w.cid, MON + 9 * H + 86400))
        eq(r.status, 201, "counts on Tuesday")
        p = w.cli("diary", w.cid, "--date", "2031-03-04", "--tz", "UTC")
        assert p.returncode == 0, p.stderr
        assert "active" not in p.stdout, p.stdout
    finally:
        w.close()


@tap.test
def test_a_store_from_before_active_seconds_migrates():
    w = World()
    try:
        sid, r = w.put(segment_body(w.cid, MON + 9 * H, keys=3, mouse=4))
        eq(r.status, 201, f"PUT: {r!r}")
        before = w.get(sid)
        w.srv.stop()
        # Back to schema 5, as a stintd from before active seconds left it.
        db = sqlite3.connect(os.path.join(w.data, "stint.db"))
        db.execute("ALTER TABLE segments DROP COLUMN activity_measure")
        db.execute("ALTER TABLE segments DROP COLUMN active_s")
        db.execute("PRAGMA user_version = 5")
        db.commit()
        db.close()
        w.srv.start()
        w.srv.set_clock(w.admin, MON + 18 * H)
        after = w.get(sid)
        eq(after["activity_measure"], "counts", "an old row reads as counts")
        eq(after["minutes"], before["minutes"], "its minutes as they were")
        eq(after["activity"], 10, "its level")
        sid2, r = w.put(wayland_body(w.cid, MON + 9 * H + 600))
        eq(r.status, 201, f"the migrated store takes active seconds: {r!r}")
        eq(w.get(sid2)["minutes"][0]["active_s"], 42, "stored")
        w.srv.stop()
        db = sqlite3.connect(os.path.join(w.data, "stint.db"))
        # 6 is active seconds; later migrations (7: calls) run after it.
        assert db.execute("PRAGMA user_version").fetchone()[0] >= 6, "schema 6 or later"
        eq(db.execute("SELECT activity_measure, active_s FROM segments ORDER BY start").fetchall(),
           [("counts", None), ("active_seconds", 157)], "the new columns")
        db.close()
    finally:
        w.close()


tap.main()
