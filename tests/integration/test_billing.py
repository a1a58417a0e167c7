#!/usr/bin/env python3
"""The weekly billing cycle end to end, on the test clock.

A real stintd (--test-clock) with an admin created offline runs a whole
week of three contracts through lock, invoice and charge, review, disputes,
billing and payout, with exact figures checked at every step and the ledger
invariant checked after every step (GET /ledger as the admin and as each
party), then `stintd check` on the stopped server. The week holds: one
dispute accepted, one declined and settled by an admin; a failed charge
covered by Hourly Payment Protection; a limit cut mid-week; manual time and
a deleted segment; edits and uploads after the lock, refused. The invoice
PDF is rendered with pdftoppm and its text read with pdftotext.

Not here: the tracker's journal showing refused segments (the tracker's
tests own that).

Standard library only; prints TAP.
"""
import collections
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid

from harness import (STINT, STINTD, Server, admin_add, check_store, eq, expect_error, jpeg,
                     parse_time, rfc3339, run_cli, segment_body, tap)

H = 3600
DAY = 86400
# Monday 2031-03-03 00:00 UTC: ISO week 2031-W10.
MON = int(dt.datetime(2031, 3, 3, tzinfo=dt.timezone.utc).timestamp())
WEEK = 7 * DAY
ADMIN_EMAIL = "admin@example.com"
ADMIN_PW = "admin password 1"
SHOT = None


def shot():
    global SHOT
    if SHOT is None:
        SHOT = jpeg(96, 64, "steelblue")
    return SHOT


class World:
    """A server with an admin, and the people and contracts of the story."""

    def __init__(self, *extra):
        self.data = tempfile.mkdtemp(prefix="stint-bill-")
        admin_add(self.data, ADMIN_EMAIL, "Operator", ADMIN_PW)
        self.srv = Server("--test-clock", *extra, data=self.data)
        self.srv.owns_data = True
        self.admin = {"token": self.srv.login(ADMIN_EMAIL, ADMIN_PW), "id": None}
        self.cli_homes = []

    def clock(self, t):
        r = self.srv.post("admin/clock", {"now": rfc3339(t)}, self.admin["token"])
        assert r.status == 200, r
        return r

    def upload(self, who, contract, start, with_shot=True, **kw):
        sid = str(uuid.uuid4())
        r = self.srv.put(f"segments/{sid}", segment_body(contract["id"], start, **kw),
                         who["token"])
        assert r.status == 201, r
        if with_shot:
            r = self.srv.put(f"segments/{sid}/screenshot", token=who["token"], raw=shot(),
                             headers={"Content-Type": "image/jpeg"})
            assert r.status in (200, 201), r
        return sid

    def timesheet(self, who, contract, week="2031-W10"):
        r = self.srv.get(f"contracts/{contract['id']}/timesheets?week={week}", who["token"])
        assert r.status == 200, r
        return r.json["timesheet"]

    def invoice_of(self, who, ts):
        r = self.srv.get(f"invoices/{ts['invoice_id']}", who["token"])
        assert r.status == 200, r
        return r.json["invoice"]

    def cli(self, who, *args, input=None):
        """Runs `stint` as who (signed in once, in its own config dir)."""
        if "home" not in who:
            who["home"] = tempfile.mkdtemp(prefix="stint-bill-cli-")
            self.cli_homes.append(who["home"])
        if who.get("cli_url") != self.srv.url:  # a restart picks a new port
            who["cli_url"] = self.srv.url
            r = run_cli(["--server", self.srv.url, "login", "--email", who["email"],
                         "--password-stdin"], env=self.env(who), input=who["password"] + "\n")
            assert r.returncode == 0, r.stderr
        return run_cli(["--server", self.srv.url] + list(args), env=self.env(who), input=input)

    @staticmethod
    def env(who):
        return {"XDG_CONFIG_HOME": who["home"], "XDG_DATA_HOME": who["home"]}

    def stop_clean(self, server=None):
        """Stops stintd and checks it exits 0 with no sanitizer report (leaks included)."""
        s = server or self.srv
        p = s.proc
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        err = p.stderr.read()
        s.stop()
        eq(p.returncode, 0, f"stintd's exit status; stderr: {err[-2000:]}")
        assert "Sanitizer" not in err and "runtime error" not in err, err[-4000:]

    def close(self):
        for h in self.cli_homes:
            shutil.rmtree(h, ignore_errors=True)


def check_ledger(w, parties, step):
    """The ledger invariant, through the API: every pair is two legs summing to
    zero, every currency sums to zero, the admin's invariant report holds, and
    each party sees exactly its own accounts, whose entries add up to them."""
    r = w.srv.get("ledger", w.admin["token"])
    assert r.status == 200, r
    L = r.json
    inv = L["invariant"]
    assert inv["holds"], f"{step}: invariant breaches {inv['breaches']}"
    for cur, total in inv["sum_cents"].items():
        eq(total, 0, f"{step}: sum of {cur}")
    per_cur = collections.Counter()
    for a in L["accounts"]:
        per_cur[a["currency"]] += a["balance_cents"]
        if a["kind"] == "freelancer":
            eq(a["pending_cents"] + a["available_cents"], a["balance_cents"],
               f"{step}: {a['name']} pending + available")
    for cur, total in per_cur.items():
        eq(total, 0, f"{step}: accounts in {cur} sum")
    pairs = collections.defaultdict(list)
    for e in L["entries"]:
        pairs[(e["txn_id"], e["pair"])].append(e)
    for key, legs in pairs.items():
        eq(len(legs), 2, f"{step}: legs of pair {key}")
        eq(legs[0]["amount_cents"] + legs[1]["amount_cents"], 0, f"{step}: pair {key} sum")
        eq(legs[0]["account"], legs[1]["counter_account"], f"{step}: pair {key} accounts")
        eq(legs[0]["currency"], legs[1]["currency"], f"{step}: pair {key} currency")
    admin_view = {(a["name"], a["currency"]): a for a in L["accounts"]}
    for p in parties:
        r = w.srv.get("ledger", p["token"])
        assert r.status == 200, r
        assert "invariant" not in r.json, f"{step}: a party sees the admin's report"
        for a in r.json["accounts"]:
            assert p["id"] in a["name"], f"{step}: {p['email']} sees {a['name']}"
            eq(a, admin_view[(a["name"], a["currency"])], f"{step}: {a['name']} as its owner sees it")
            own = sum(e["amount_cents"] for e in r.json["entries"]
                      if e["currency"] == a["currency"])
            eq(own, a["balance_cents"], f"{step}: entries of {a['name']}")
    return L


def near(stamp, t, what):
    """The test clock runs on in real time from where it is set: allow a minute."""
    assert 0 <= parse_time(stamp) - t < 60, f"{what}: {stamp} is not {rfc3339(t)}"


def balance(L, name, currency):
    for a in L["accounts"]:
        if a["name"] == name and a["currency"] == currency:
            return a
    return {"balance_cents": 0, "pending_cents": 0, "available_cents": 0}


def escrow_of(L, invoice_id):
    return sum(e["amount_cents"] for e in L["entries"]
               if e["account"] == "escrow" and e["invoice_id"] == invoice_id)


def pdf_text(path):
    r = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def render_png(pdf, out_prefix):
    """Renders page 1 to PNG (to look at) and to grey PGM (to count ink); returns
    (png path, number of pages, share of dark pixels)."""
    r = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, timeout=60)
    pages = int([ln for ln in r.stdout.splitlines() if ln.startswith("Pages:")][0].split()[1])
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", pdf, out_prefix], check=True,
                   timeout=60)
    subprocess.run(["pdftoppm", "-gray", "-r", "40", "-singlefile", pdf, out_prefix], check=True,
                   timeout=60)
    with open(out_prefix + ".pgm", "rb") as f:
        data = f.read()
    # P5 header: magic, width, height, maxval, each separated by whitespace.
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos:pos + w * h]
    dark = sum(1 for b in pixels if b < 128)
    return out_prefix + ".png", pages, dark / (w * h)


@tap.test
def test_a_whole_week_through_the_cycle():
    w = World()
    srv, adm = w.srv, w.admin
    try:
        # Monday 08:00 of the work week: people and contracts.
        w.clock(MON + 8 * H)
        A = srv.user("client", name="Ada Client")
        B = srv.user("client", name="Bea Client")
        C = srv.user("client", name="Cyd Client")
        F = srv.user("freelancer", name="Fay Freelancer")
        G = srv.user("freelancer", name="Gus Freelancer")
        parties = [A, B, C, F, G]
        K1 = srv.contract(A, F, title="Landing page", hourly_rate_cents=4500, currency="USD",
                          weekly_limit_s=5 * H)
        K2 = srv.contract(B, F, title="Backend work", hourly_rate_cents=6000, currency="EUR",
                          weekly_limit_s=4 * H)
        K3 = srv.contract(C, G, title="Ops", hourly_rate_cents=3000, currency="USD",
                          weekly_limit_s=2 * H, tags=["dev", "ops"], tag_required=True)
        check_ledger(w, parties, "start")

        # Monday: an hour on K1, before anyone is verified.
        w.clock(MON + 10 * H + 5 * 60)
        k1_mon = [w.upload(F, K1, MON + 9 * H + i * 600, memo="Hero section") for i in range(6)]
        t = w.timesheet(F, K1)
        eq((t["state"], t["locked"]), ("open", False), "K1 before the lock")
        eq(t["id"], None, "an open week has no timesheet id")
        eq((t["tracked_s"], t["billable_s"], t["protected_s"]), (3600, 3600, 0), "K1 Monday")
        eq(len(t["unprotected"]), 6, "unprotected segments")
        for u in t["unprotected"]:
            eq(u["reasons"], ["freelancer_not_verified", "client_billing_not_verified"],
               f"reasons of {u['segment_id']}")
        r = srv.get(f"contracts/{K1['id']}/timesheets?week=2031-W10", G["token"])
        expect_error(r, 404, "not_found", "another freelancer's timesheet")
        r = srv.post(f"admin/users/{F['id']}/verify", token=A["token"])
        expect_error(r, 403, "forbidden", "a client verifying an identity")
        for u in (F, G):
            r = srv.post(f"admin/users/{u['id']}/verify", token=adm["token"])
            eq(r.status, 200, "verify")
            eq(r.json["user"]["id_verified"], True, "verified")
        for u in (A, B, C):
            r = srv.post(f"admin/users/{u['id']}/billing", {"state": "verified"}, adm["token"])
            eq(r.status, 200, "billing")
            eq(r.json["user"]["billing_state"], "verified", "billing state")
        r = srv.post(f"admin/users/{A['id']}/billing", {"state": "gold"}, adm["token"])
        expect_error(r, 400, "invalid_argument", "a billing state that does not exist")
        t = w.timesheet(A, K1)
        eq((t["protected_s"], t["unprotected"]), (3600, []), "K1 once everyone is verified")

        # Tuesday: manual time, one segment kept and one deleted on K1.
        w.clock(MON + DAY + 12 * H)
        r = srv.post(f"contracts/{K1['id']}/manual",
                     {"start": rfc3339(MON + DAY + 10 * H), "end": rfc3339(MON + DAY + 10.5 * H),
                      "memo": "Call with the client"}, F["token"])
        eq(r.status, 201, "manual time")
        manual_ids = [s["id"] for s in r.json["segments"]]
        eq(len(manual_ids), 3, "manual segments")
        w.upload(F, K1, MON + DAY + 11 * H, memo="Copy")
        gone = w.upload(F, K1, MON + DAY + 11 * H + 600, memo="Mistake")
        eq(srv.delete(f"segments/{gone}", F["token"]).status, 204, "delete a segment")
        t = w.timesheet(F, K1)
        eq((t["tracked_s"], t["manual_s"], t["billable_s"], t["protected_s"]),
           (4200, 1800, 6000, 4200), "K1 with manual time and a deleted segment")
        eq(t["amount_cents"], 7500, "K1 amount so far")
        unprot = {u["segment_id"]: u["reasons"] for u in t["unprotected"]}
        eq(sorted(unprot), sorted(manual_ids), "only the manual segments are unprotected")
        for reasons in unprot.values():
            eq(reasons, ["manual", "no_screenshot", "no_activity"], "every reason of manual time")
        assert gone not in unprot, "a deleted segment is gone from the timesheet"

        # Wednesday: K2, with unusual input, no screenshot on one, and a partial segment.
        w.clock(MON + 2 * DAY + 11 * H)
        k2 = []
        for i in range(9):
            kw = {"memo": "API"}
            if i == 3:
                kw["synthetic"] = 12  # all of its input synthetic
            if i == 8:
                kw["seconds"] = 31  # 310 s
            k2.append(w.upload(F, K2, MON + 2 * DAY + 9 * H + i * 600, with_shot=(i != 8), **kw))
        t = w.timesheet(B, K2)
        eq((t["billable_s"], t["amount_cents"], t["protected_s"], t["protected_cents"]),
           (5110, 8517, 4200, 7000), "K2: 5110 s at 60.00 EUR/h rounds half up once a day")
        unprot = {u["segment_id"]: u["reasons"] for u in t["unprotected"]}
        eq(unprot, {k2[3]: ["unusual_input"], k2[8]: ["no_screenshot"]}, "K2 unprotected")
        # A raise applies at once.
        r = srv.patch(f"contracts/{K1['id']}", {"weekly_limit_s": 6 * H}, A["token"])
        eq(r.status, 200, "raise K1's limit")
        near(r.json["effective"]["weekly_limit_s"]["from"], MON + 2 * DAY + 11 * H,
             "a raise applies now")
        eq(w.timesheet(A, K1)["weekly_limit_s"], 6 * H, "K1's limit this week")

        # Thursday: K3 over its limit, then a cut mid-week (from next Monday).
        w.clock(MON + 3 * DAY + 12 * H + 30 * 60)
        k3 = []
        for i in range(15):
            kw = {"memo": "Deploys", "tags": ["dev"]}
            if i == 2:
                kw["memo"] = ""
            if i == 4:
                kw["tags"] = []
            if i == 6:
                kw["flags"] = ["idle_kept"]
            k3.append(w.upload(G, K3, MON + 3 * DAY + 8 * H + i * 600, **kw))
        r = srv.patch(f"contracts/{K3['id']}", {"weekly_limit_s": 1 * H}, C["token"])
        eq(r.status, 200, "cut K3's limit")
        eq(r.json["effective"]["weekly_limit_s"]["from"], rfc3339(MON + WEEK),
           "a cut applies from next Monday")
        t = w.timesheet(C, K3)
        eq(t["weekly_limit_s"], 2 * H, "this week keeps the limit it had")
        eq((t["tracked_s"], t["billable_s"], t["over_limit_s"], t["protected_s"]),
           (9000, 7200, 1800, 5400), "K3 figures")
        eq((t["amount_cents"], t["protected_cents"]), (6000, 4500), "K3 amounts")
        unprot = {u["segment_id"]: u["reasons"] for u in t["unprotected"]}
        eq(unprot[k3[2]], ["no_memo"], "no memo")
        eq(unprot[k3[4]], ["no_tag"], "no tag on a contract that requires one")
        eq(unprot[k3[6]], ["idle_kept"], "idle kept")
        for i in (12, 13, 14):
            eq(unprot[k3[i]], ["over_limit"], f"segment {i} is over the limit")
        eq(len(unprot), 6, "K3 unprotected count")

        # Sunday night: the timesheets agree with the diary to the second.
        w.clock(MON + 6 * DAY + 23 * H)
        for who, k in ((A, K1), (B, K2), (C, K3)):
            t = w.timesheet(who, k)
            eq(t["state"], "open", "still open on Sunday")
            r = srv.get(f"contracts/{k['id']}/diary?from=2031-03-03&to=2031-03-09", who["token"])
            eq(r.status, 200, "diary")
            d = r.json["totals"]
            eq((t["tracked_s"], t["manual_s"], t["billable_s"], t["over_limit_s"]),
               (d["tracked_s"], d["manual_s"], d["billable_s"], d["over_limit_s"]),
               f"timesheet and diary of {k['title']}")
            for day_t, day_d in zip(t["days"], r.json["days"]):
                eq((day_t["date"], day_t["billable_s"]), (day_d["date"], day_d["billable_s"]),
                   "a day of the timesheet and of the diary")

        # Monday 11:59: a late upload and an edit still go in.
        w.clock(MON + WEEK + 11 * H + 59 * 60)
        w.upload(F, K1, MON + 6 * DAY + 22 * H, memo="Late sync")
        r = srv.patch(f"segments/{k1_mon[5]}", {"memo": "Hero section, final"}, F["token"])
        eq(r.status, 200, "edit before the lock")
        check_ledger(w, parties, "before the lock")

        # Monday 12:00: the week locks; invoices are issued and charged.
        w.clock(MON + WEEK + 12 * H + 5)
        ts = {k["id"]: w.timesheet(A if k is K1 else B if k is K2 else C, k) for k in (K1, K2, K3)}
        for k in (K1, K2, K3):
            eq(ts[k["id"]]["state"], "review", f"{k['title']} after the lock")
            assert ts[k["id"]]["id"], "a locked timesheet has an id"
        eq((ts[K1["id"]]["billable_s"], ts[K1["id"]]["amount_cents"]), (6600, 8250),
           "K1 with the late segment")
        r = srv.get("invoices", adm["token"])
        eq(sorted(i["number"] for i in r.json["invoices"]), [1, 2, 3], "gap-free numbers")
        inv1 = w.invoice_of(A, ts[K1["id"]])
        inv2 = w.invoice_of(B, ts[K2["id"]])
        inv3 = w.invoice_of(C, ts[K3["id"]])
        eq((inv1["amount_cents"], inv1["currency"], inv1["fee_cents"], inv1["payout_cents"]),
           (8250, "USD", 825, 7425), "K1 invoice")
        eq([ln["amount_cents"] for ln in inv1["lines"]], [4500, 3000, 0, 0, 0, 0, 750],
           "K1 lines, one per day")
        eq((inv2["amount_cents"], inv2["currency"]), (8517, "EUR"), "K2 invoice")
        eq((inv3["amount_cents"], inv3["protected_cents"]), (6000, 4500), "K3 invoice")
        for inv in (inv1, inv2, inv3):
            eq((inv["state"], inv["charge"]["state"]), ("pending", "pending"), "charged")
            eq(sum(ln["amount_cents"] for ln in inv["lines"]), inv["amount_cents"], "lines")
        eq(srv.get(f"invoices/{inv1['id']}", G["token"]).status, 404, "a stranger's invoice")
        eq([i["id"] for i in srv.get("invoices", A["token"]).json["invoices"]], [inv1["id"]],
           "a client lists its own invoices")
        check_ledger(w, parties, "after the lock")

        # After the lock: edits and uploads of that week are refused.
        r = srv.patch(f"segments/{k1_mon[0]}", {"memo": "changed"}, F["token"])
        expect_error(r, 409, "locked", "edit after the lock")
        expect_error(srv.delete(f"segments/{k1_mon[1]}", F["token"]), 409, "locked",
                     "delete after the lock")
        r = srv.put(f"segments/{uuid.uuid4()}", segment_body(K1["id"], MON + 4 * DAY + 9 * H),
                    F["token"])
        expect_error(r, 409, "locked", "upload into a locked week")
        r = srv.put(f"segments/{k1_mon[0]}", segment_body(K1["id"], MON + 9 * H, memo="Hero section"),
                    F["token"])
        expect_error(r, 409, "locked", "re-upload after the lock")
        r = srv.put(f"segments/{k2[8]}/screenshot", token=F["token"], raw=shot(),
                    headers={"Content-Type": "image/jpeg"})
        expect_error(r, 409, "locked", "screenshot after the lock")
        eq(w.timesheet(A, K1)["amount_cents"], 8250, "refusals changed nothing")

        # The invoice as a PDF and as CSV, from the API and from the CLI.
        r = srv.get(f"invoices/{inv1['id']}.pdf", A["token"])
        eq(r.status, 200, "PDF")
        eq(r.headers.get("Content-Type"), "application/pdf", "PDF type")
        assert r.body.startswith(b"%PDF-"), "a PDF"
        out = tempfile.mkdtemp(prefix="stint-bill-pdf-")
        w.cli_homes.append(out)
        pdf = os.path.join(out, "invoice.pdf")
        res = w.cli(A, "invoice", inv1["id"], "--pdf", pdf)
        eq(res.returncode, 0, f"stint invoice --pdf: {res.stderr}")
        text = pdf_text(pdf)
        for want in ("Invoice", f"No. {inv1['number']:06d}", "Fay Freelancer", "Ada Client",
                     "Landing page", "45.00 USD per hour", "2031-W10", "Monday", "2031-03-03",
                     "Sunday", "2031-03-09", "1:00:00", "0:10:00", "1:50:00", "82.50 USD",
                     "Platform fee 10.00%", "-8.25 USD", "74.25 USD", "7.50 USD"):
            assert want in text, f"the PDF lacks {want!r}:\n{text}"
        png, pages, ink = render_png(pdf, os.path.join(out, "invoice"))
        eq(pages, 1, "a one-page invoice")
        assert os.path.getsize(png) > 10000, "the PNG has content"
        assert 0.005 < ink < 0.2, f"the page is neither blank nor a blot ({ink:.3f})"
        keep = os.environ.get("STINT_KEEP_INVOICE_PNG")
        if keep:
            shutil.copy(png, keep)
        r = srv.get(f"invoices/{inv1['id']}.csv", F["token"])
        eq(r.status, 200, "CSV")
        rows = r.body.decode().splitlines()
        eq(rows[0].split(",")[:4], ["invoice_number", "invoice_id", "date", "description"],
           "CSV header")
        assert any(",2031-03-03,work,3600,1.00,4500,4500,USD" in row for row in rows), rows
        assert any("platform fee" in row and row.endswith(",-825,USD") for row in rows), rows
        eq(srv.get(f"invoices/{inv1['id']}.txt", A["token"]).status, 404, "unknown format")
        r = srv.get(f"timesheets/{ts[K1['id']]['id']}.csv", A["token"])
        eq(r.status, 200, "timesheet CSV")
        lines = r.body.decode().splitlines()
        eq(len(lines), 1 + 6 + 1 + 3 + 1, "a row per segment")
        assert any("Call with the client" in ln and "manual;no_screenshot;no_activity" in ln
                   for ln in lines), lines
        res = w.cli(F, "timesheet", K1["id"], "--week", "2031-W10", "--csv")
        eq(res.returncode, 0, res.stderr)
        eq(res.stdout.splitlines(), lines, "stint timesheet --csv")

        # Once only across a restart: the same instant again issues nothing new.
        srv.restart()
        adm["token"] = srv.login(ADMIN_EMAIL, ADMIN_PW)
        w.clock(MON + WEEK + 12 * H + 10)
        eq(len(srv.get("invoices", adm["token"]).json["invoices"]), 3, "no invoice twice")

        # Monday 13:00: A's charge is paid.
        w.clock(MON + WEEK + 13 * H)
        r = srv.post(f"admin/charges/{inv1['charge']['id']}", {"paid": True}, A["token"])
        expect_error(r, 403, "forbidden", "a client marking its own charge")
        r = srv.post(f"admin/charges/{inv1['charge']['id']}", {"paid": True}, adm["token"])
        eq(r.status, 200, "mark paid")
        eq(r.json["invoice"]["state"], "paid", "invoice paid")
        r = srv.post(f"admin/charges/{inv1['charge']['id']}", {"paid": False}, adm["token"])
        expect_error(r, 409, "conflict", "a charge is marked once")
        L = check_ledger(w, parties, "K1 paid")
        eq(balance(L, f"client:{A['id']}", "USD")["balance_cents"], -8250, "A paid")
        eq(escrow_of(L, inv1["id"]), 8250, "K1 in escrow")

        # Tuesday: A disputes two Monday segments with the CLI; F accepts.
        w.clock(MON + WEEK + DAY + 10 * H)
        res = w.cli(A, "dispute", ts[K1["id"]]["id"], "--reason", "Not this contract's work",
                    k1_mon[0], k1_mon[1], "--json")
        eq(res.returncode, 0, f"stint dispute: {res.stderr}")
        r = srv.get(f"contracts/{K1['id']}", A["token"])
        eq(r.json["contract"]["state"], "paused", "a dispute pauses the contract")
        eq(r.json["contract"]["weekly_limit_s"], 6 * H, "the 0 limit waits for Monday")
        t = w.timesheet(F, K1)
        eq(t["state"], "disputed", "K1 disputed")
        d1 = t["dispute"]
        eq((d1["state"], sorted(d1["segment_ids"])), ("open", sorted(k1_mon[:2])), "dispute")
        near(d1["respond_by"], MON + WEEK + 4 * DAY + 10 * H, "3 days to answer")
        r = srv.post(f"timesheets/{t['id']}/dispute", {"reason": "again", "segment_ids": [k1_mon[2]]},
                     A["token"])
        expect_error(r, 409, "conflict", "a second dispute")
        r = srv.post(f"disputes/{d1['id']}/respond", {"accept": True}, A["token"])
        expect_error(r, 403, "forbidden", "the client answering its own dispute")
        r = srv.post(f"disputes/{d1['id']}/respond", {"accept": True}, F["token"])
        eq(r.status, 200, "accept")
        eq((r.json["dispute"]["state"], r.json["dispute"]["refunded_s"],
            r.json["dispute"]["refunded_cents"]), ("accepted", 1200, 1500), "refund")
        actions = [e["action"] for e in r.json["dispute"]["events"]]
        eq(actions, ["dispute.filed", "contract.paused", "dispute.accepted"], "every step")
        for who in (A, F, adm):
            eq(srv.get(f"disputes/{d1['id']}", who["token"]).status, 200, "both parties see it")
        eq(srv.get(f"disputes/{d1['id']}", G["token"]).status, 404, "a stranger does not")
        L = check_ledger(w, parties, "K1 refund")
        eq(balance(L, f"client:{A['id']}", "USD")["balance_cents"], -6750, "A refunded")
        eq(escrow_of(L, inv1["id"]), 6750, "K1 escrow after the refund")
        inv1 = w.invoice_of(A, ts[K1["id"]])
        eq((inv1["refunded_cents"], inv1["net_amount_cents"], inv1["fee_cents"]),
           (1500, 6750, 675), "K1 invoice after the refund")

        # B disputes K2; F declines; an admin settles, refunding one segment.
        w.clock(MON + WEEK + DAY + 11 * H)
        r = srv.put(f"segments/{uuid.uuid4()}",
                    segment_body(K1["id"], MON + WEEK + DAY + 10 * H + 30 * 60), F["token"])
        expect_error(r, 400, "invalid_argument", "no new time on a paused contract")
        r = srv.post(f"timesheets/{ts[K2['id']]['id']}/dispute",
                     {"reason": "Too slow", "segment_ids": k2[:3]}, B["token"])
        eq(r.status, 201, "K2 dispute")
        d2 = r.json["dispute"]
        r = srv.post(f"disputes/{d2['id']}/settle", {"refund_segment_ids": []}, adm["token"])
        expect_error(r, 409, "conflict", "settle before the freelancer answers")
        r = srv.post(f"disputes/{d2['id']}/respond", {"accept": False}, F["token"])
        eq((r.status, r.json["dispute"]["state"]), (200, "declined"), "decline")
        r = srv.post(f"disputes/{d2['id']}/settle", {"refund_segment_ids": [k2[5]]}, adm["token"])
        expect_error(r, 400, "invalid_argument", "refund of a segment not disputed")
        r = srv.post(f"disputes/{d2['id']}/settle", {"refund_segment_ids": [k2[0]]}, B["token"])
        expect_error(r, 403, "forbidden", "a client settling")
        r = srv.post(f"disputes/{d2['id']}/settle", {"refund_segment_ids": [k2[0]]}, adm["token"])
        eq(r.status, 200, "settle")
        eq((r.json["dispute"]["state"], r.json["dispute"]["refunded_cents"]), ("settled", 1000),
           "settled: 4510 s at 60.00 EUR/h is 75.17")
        eq([e["action"] for e in r.json["dispute"]["events"]],
           ["dispute.filed", "contract.paused", "dispute.declined", "dispute.settled"],
           "K2 dispute steps")
        inv2 = w.invoice_of(B, ts[K2["id"]])
        eq((inv2["charge"]["due_cents"], inv2["net_amount_cents"]), (7517, 7517),
           "less is due on a pending charge")
        r = srv.get("disputes?state=settled", adm["token"])
        eq([d["id"] for d in r.json["disputes"]], [d2["id"]], "disputes by state")
        eq(len(srv.get("disputes", B["token"]).json["disputes"]), 1, "B's disputes")
        r = srv.get(f"invoices?contract={K2['id']}", adm["token"])
        eq([i["id"] for i in r.json["invoices"]], [inv2["id"]], "invoices of one contract")
        check_ledger(w, parties, "K2 settled")
        r = srv.post(f"admin/charges/{inv2['charge']['id']}", {"paid": True}, adm["token"])
        eq(r.status, 200, "K2 paid")
        L = check_ledger(w, parties, "K2 paid")
        eq(balance(L, f"client:{B['id']}", "EUR")["balance_cents"], -7517, "B paid what was due")

        # C's charge fails: protection pays the protected time into escrow.
        w.clock(MON + WEEK + DAY + 12 * H)
        r = srv.post(f"admin/charges/{inv3['charge']['id']}", {"paid": False}, adm["token"])
        eq((r.status, r.json["invoice"]["state"]), (200, "failed"), "K3 charge failed")
        L = check_ledger(w, parties, "K3 failed")
        eq(balance(L, "platform:protection", "USD")["balance_cents"], -4500, "protection paid")
        eq(escrow_of(L, inv3["id"]), 4500, "protected time in escrow")
        eq(balance(L, f"client:{C['id']}", "USD")["balance_cents"], 0, "C paid nothing")
        r = srv.get(f"invoices/{inv3['id']}.pdf", G["token"])
        p3 = os.path.join(out, "k3.pdf")
        with open(p3, "wb") as f:
            f.write(r.body)
        assert "Hourly Payment Protection pays 45.00 USD" in pdf_text(p3), pdf_text(p3)
        # K3's next week: a 1 h limit from the cut, so half of 1.5 h is over it.
        for i in range(9):
            w.upload(G, K3, MON + WEEK + DAY + 9 * H + i * 600, memo="Week two", tags=["ops"])
        t = w.timesheet(C, K3, "2031-W11")
        eq((t["weekly_limit_s"], t["billable_s"], t["over_limit_s"]), (H, H, 1800),
           "the cut applies from the next Monday; over-limit time is not billed")

        # Wednesday: C approves K3 with the CLI; approving a disputed one fails.
        w.clock(MON + WEEK + 2 * DAY + 9 * H)
        res = w.cli(C, "approve", ts[K3["id"]]["id"])
        eq(res.returncode, 0, f"stint approve: {res.stderr}")
        assert "approved timesheet" in res.stdout, res.stdout
        t = w.timesheet(C, K3)
        eq((t["state"], t["approved_by"]), ("approved", "client"), "approved by the client")
        r = srv.post(f"timesheets/{ts[K1['id']]['id']}/approve", token=A["token"])
        expect_error(r, 409, "conflict", "approving a disputed timesheet")
        r = srv.post(f"timesheets/{ts[K2['id']]['id']}/approve", token=F["token"])
        expect_error(r, 403, "forbidden", "a freelancer approving")

        # Friday 23:59: the review is still open; nothing is billed.
        w.clock(MON + WEEK + 4 * DAY + 23 * H + 59 * 60)
        for who, k, state in ((A, K1, "disputed"), (B, K2, "disputed"), (C, K3, "approved")):
            eq(w.timesheet(who, k)["state"], state, f"{k['title']} on Friday night")
        check_ledger(w, parties, "Friday")

        # Saturday 00:00: the review is over; escrow goes to the freelancers, less the fee.
        w.clock(MON + WEEK + 5 * DAY + 5)
        for who, k in ((A, K1), (B, K2), (C, K3)):
            eq(w.timesheet(who, k)["state"], "billed", f"{k['title']} billed")
        L = check_ledger(w, parties, "billed")
        for inv in (inv1, inv2, inv3):
            eq(escrow_of(L, inv["id"]), 0, "escrow emptied")
        eq(balance(L, f"freelancer:{F['id']}", "USD")["pending_cents"], 6075, "F pending USD")
        eq(balance(L, f"freelancer:{F['id']}", "EUR")["pending_cents"], 6765, "F pending EUR")
        eq(balance(L, f"freelancer:{G['id']}", "USD")["pending_cents"], 4050, "G pending")
        eq(balance(L, "platform:fees", "USD")["balance_cents"], 675 + 450, "fees USD")
        eq(balance(L, "platform:fees", "EUR")["balance_cents"], 752, "fees EUR (751.7)")
        inv2 = w.invoice_of(F, ts[K2["id"]])
        eq((inv2["fee_taken"], inv2["fee_cents"], inv2["payout_cents"]), (True, 752, 6765),
           "K2 fee taken")

        # Monday: week 11 locks. K1 and K2 were paused: no time, no timesheet, no invoice.
        w.clock(MON + 2 * WEEK + 12 * H + 5)
        r = srv.get("invoices", adm["token"])
        eq(sorted(i["number"] for i in r.json["invoices"]), [1, 2, 3, 4], "still no gap")
        t = w.timesheet(A, K1, "2031-W11")
        eq((t["state"], t["id"], t["locked"], t["amount_cents"]), ("open", None, True, 0),
           "K1's week without time has no timesheet")
        eq(srv.get(f"contracts/{K1['id']}", A["token"]).json["contract"]["weekly_limit_s"], 0,
           "the dispute's 0 limit from the next Monday")
        inv4 = w.invoice_of(C, w.timesheet(C, K3, "2031-W11"))
        eq((inv4["number"], inv4["amount_cents"]), (4, 3000), "K3 week 11: 1 h billed")
        check_ledger(w, parties, "week 11 locked")

        # Wednesday 24:00, 10 days after the week: earnings become available.
        w.clock(MON + WEEK + 10 * DAY - 5)
        eq(w.timesheet(F, K1)["state"], "billed", "still in the security period")
        w.clock(MON + WEEK + 10 * DAY + 5)
        for who, k in ((A, K1), (B, K2), (C, K3)):
            eq(w.timesheet(who, k)["state"], "paid", f"{k['title']} paid")
        L = check_ledger(w, parties, "paid")
        fa = balance(L, f"freelancer:{F['id']}", "USD")
        eq((fa["pending_cents"], fa["available_cents"]), (0, 6075), "F available USD")
        eq(balance(L, f"freelancer:{F['id']}", "EUR")["available_cents"], 6765, "F EUR")
        eq(balance(L, f"freelancer:{G['id']}", "USD")["available_cents"], 4050, "G available")
        res = w.cli(F, "earnings", "--json")
        eq(res.returncode, 0, res.stderr)
        mine = {(a["name"], a["currency"]): a["available_cents"]
                for a in json.loads(res.stdout)["accounts"]}
        eq(mine, {(f"freelancer:{F['id']}", "USD"): 6075, (f"freelancer:{F['id']}", "EUR"): 6765},
           "stint earnings")
        res = w.cli(F, "invoices")
        eq(res.returncode, 0, res.stderr)
        assert "000001" in res.stdout and "Landing page" in res.stdout, res.stdout

        # The stopped server's store passes `stintd check`, ledger rules included.
        w.stop_clean()
        r = check_store(w.data)
        eq(r.returncode, 0, f"stintd check: {r.stderr}")
        assert "all invariants hold" in r.stdout, r.stdout

        # And the check is not vacuous: a one-legged entry is caught.
        broken = tempfile.mkdtemp(prefix="stint-bill-broken-")
        w.cli_homes.append(broken)
        for name in os.listdir(w.data):
            if name.startswith("stint.db"):
                shutil.copy(os.path.join(w.data, name), broken)
        db = sqlite3.connect(os.path.join(broken, "stint.db"))
        db.execute("INSERT INTO ledger_entries (txn_id, leg, pair, account, currency,"
                   " amount_cents) SELECT txn_id, 99, 99, 'escrow', currency, 1"
                   " FROM ledger_entries LIMIT 1")
        db.commit()
        db.close()
        r = check_store(broken)
        eq(r.returncode, 1, "stintd check on a broken ledger")
        assert "without its pair" in r.stderr and "do not sum to zero" in r.stderr, r.stderr
    finally:
        w.close()


@tap.test
def test_two_processes_run_each_transition_once():
    """Two stintd on one database, both told the week is over at the same moment:
    one timesheet and one invoice, numbered 1."""
    w = World()
    try:
        w.clock(MON + 8 * H)
        A = w.srv.user("client")
        F = w.srv.user("freelancer")
        K = w.srv.contract(A, F, weekly_limit_s=10 * H)
        w.clock(MON + 10 * H)
        for i in range(3):
            w.upload(F, K, MON + 9 * H + i * 600, with_shot=False)
        other = Server("--test-clock", data=w.data)
        tok2 = other.login(ADMIN_EMAIL, ADMIN_PW)
        results = []

        def move(server, token):
            results.append(server.post("admin/clock", {"now": rfc3339(MON + WEEK + 13 * H)},
                                       token).status)

        threads = [threading.Thread(target=move, args=(w.srv, w.admin["token"])),
                   threading.Thread(target=move, args=(other, tok2))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        eq(results, [200, 200], "both clocks moved")
        for s in (w.srv, other):
            r = s.get("invoices", w.admin["token"] if s is w.srv else tok2)
            eq([i["number"] for i in r.json["invoices"]], [1], "one invoice, number 1")
            eq(r.json["invoices"][0]["amount_cents"], 2250, "for 30 minutes at 45.00")
        w.stop_clean(other)
        w.stop_clean()
        db = sqlite3.connect(os.path.join(w.data, "stint.db"))
        eq(db.execute("SELECT COUNT(*) FROM timesheets").fetchone()[0], 1, "one timesheet")
        eq(db.execute("SELECT COUNT(*) FROM jobs_done WHERE kind = 'lock'").fetchone()[0], 1,
           "one lock")
        db.close()
        eq(check_store(w.data).returncode, 0, "stintd check")
    finally:
        w.close()


@tap.test
def test_fee_rate_is_configurable():
    """--platform-fee-bp 250: the fee is 2.5 %, rounded half up."""
    w = World("--platform-fee-bp", "250")
    try:
        w.clock(MON + 8 * H)
        A = w.srv.user("client")
        F = w.srv.user("freelancer")
        K = w.srv.contract(A, F, hourly_rate_cents=3333, weekly_limit_s=10 * H)
        w.clock(MON + 10 * H)
        w.upload(F, K, MON + 9 * H, with_shot=False)  # 600 s at 33.33/h = 555.5 → 556
        w.clock(MON + WEEK + 13 * H)
        inv = w.srv.get("invoices", A["token"]).json["invoices"][0]
        eq((inv["amount_cents"], inv["fee_bp"], inv["fee_cents"]), (556, 250, 14),
           "556 at 2.5 % is 13.9, rounded to 14")
    finally:
        w.close()


def stintd_admin(data, *args):
    return subprocess.run([STINTD, "--data", data, "admin"] + list(args), capture_output=True,
                          text=True, timeout=60)


@tap.test
def test_offline_admin_commands():
    """stintd admin verify / billing / charge, run beside a serving stintd."""
    w = World()
    try:
        w.clock(MON + 8 * H)
        A = w.srv.user("client")
        F = w.srv.user("freelancer")
        K = w.srv.contract(A, F, weekly_limit_s=10 * H)
        eq(stintd_admin(w.data, "verify", A["email"]).returncode, 1, "a client has no identity")
        r = stintd_admin(w.data, "verify", F["email"])
        eq(r.returncode, 0, r.stderr)
        r = stintd_admin(w.data, "billing", A["email"], "verified")
        eq(r.returncode, 0, r.stderr)
        eq(stintd_admin(w.data, "billing", A["email"], "maybe").returncode, 2, "usage")
        w.clock(MON + 10 * H)
        w.upload(F, K, MON + 9 * H)
        t = w.timesheet(A, K)
        eq((t["protected_s"], t["unprotected"]), (600, []), "verified offline")
        w.clock(MON + WEEK + 13 * H)
        inv = w.srv.get("invoices", A["token"]).json["invoices"][0]
        r = stintd_admin(w.data, "charge", inv["charge"]["id"], "paid")
        eq(r.returncode, 0, r.stderr)
        r = stintd_admin(w.data, "charge", inv["charge"]["id"], "failed")
        eq(r.returncode, 1, "marked once")
        assert "not pending" in r.stderr, r.stderr
        inv = w.srv.get(f"invoices/{inv['id']}", A["token"]).json["invoice"]
        eq(inv["state"], "paid", "paid offline")
        L = check_ledger(w, [A, F], "offline charge")
        eq(balance(L, f"client:{A['id']}", "USD")["balance_cents"], -750, "charged")
    finally:
        w.close()


@tap.test
def test_a_long_jump_costs_the_weeks_worked():
    """Ten years of test clock at once: only the week with time is locked."""
    w = World()
    try:
        w.clock(MON + 8 * H)
        A = w.srv.user("client")
        F = w.srv.user("freelancer")
        K = w.srv.contract(A, F, weekly_limit_s=10 * H)
        w.clock(MON + 10 * H)
        w.upload(F, K, MON + 9 * H, with_shot=False)
        t0 = time.monotonic()
        w.clock(MON + 520 * WEEK)
        assert time.monotonic() - t0 < 20, "the scheduler walked every week"
        r = w.srv.get("invoices", A["token"])
        eq([(i["number"], i["timesheet_state"]) for i in r.json["invoices"]], [(1, "approved")],
           "locked and approved; billing waits for the charge")
        inv = r.json["invoices"][0]
        r = w.srv.post(f"admin/charges/{inv['charge']['id']}", {"paid": True}, w.admin["token"])
        eq((r.status, r.json["invoice"]["timesheet_state"]), (200, "paid"),
           "once paid, billing and payout both run at once")
        eq(w.timesheet(A, K, "2035-W10")["state"], "open", "an empty week")
    finally:
        w.close()


@tap.test
def test_clock_and_admin_routes_need_an_admin():
    w = World()
    try:
        u = w.srv.user("client")
        expect_error(w.srv.post("admin/clock", {"now": rfc3339(MON)}, u["token"]), 403,
                     "forbidden", "a client moving the clock")
        expect_error(w.srv.post(f"admin/charges/{uuid.uuid4()}", {"paid": True}, w.admin["token"]),
                     404, "not_found", "an unknown charge")
        expect_error(w.srv.get("ledger"), 401, "unauthenticated", "the ledger without a token")
        r = w.srv.get("ledger", u["token"])
        eq((r.status, r.json["accounts"], r.json["entries"]), (200, [], []), "an empty ledger")
    finally:
        w.close()


if __name__ == "__main__":
    assert os.path.exists(STINTD), STINTD
    assert os.path.exists(STINT), STINT
    tap.main()
