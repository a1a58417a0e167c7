"""`stint.exe track`, verified under Wine 8: the engine runs in stint.exe's
own process on the real win32 platform backend (hooks, GetLastInputInfo,
GDI capture of Wine's screen on Xvfb) and uploads with libcurl to a real
stintd on loopback with 30-second segments. Covers: a run over several
short segments arrives in the diary once each with its screenshot; the
process ended with TerminateProcess (taskkill /F) mid-segment is recovered
by the next start (`stint.exe sync`) with nothing lost beyond the last
durable bucket and nothing twice; a second tracker is refused by the
journal's lock and `stint.exe sync` nudges the running one (a named event);
the server down for the whole run, then up: `stint.exe sync` sends
everything exactly once.
"""
import json
import os
import shutil
import sqlite3
import time

import wine_env as w
from harness import Server, eq, parse_time, tap

SEG = 30
BUCKET = SEG // 10


def slot_of(t):
    return int(t // SEG) * SEG


class Laptop:
    """A freelancer with a contract, signed in through stint.exe in the Wine prefix."""

    def __init__(self, srv):
        w.need_file(w.STINT_EXE, "stint.exe")
        w.prefix()
        w.reset_user_state()
        self.srv = srv
        self.client = srv.user("client")
        self.user = srv.user("freelancer")
        self.contract = srv.contract(self.client, self.user, tags=["design"])
        r = self.stint("login", "--email", self.user["email"], "--password-stdin",
                       input=(self.user["password"] + "\n").encode())
        assert r.returncode == 0, r

    @property
    def journal(self):
        return os.path.join(w.localappdata(), "stint", "journal.db")

    def stint(self, *args, input=None, timeout=120):
        return w.run([w.STINT_EXE, "--server", self.srv.url, *args], input=input,
                     timeout=timeout, check=False)

    def track(self, *args):
        return w.Program([w.STINT_EXE, "--server", self.srv.url, "track", "--contract",
                          self.contract["id"], *args])

    def query(self, sql):
        if not os.path.exists(self.journal):
            return []
        db = sqlite3.connect(f"file:{self.journal}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def diary(self):
        today = time.strftime("%Y-%m-%d", time.gmtime())
        yesterday = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86400))
        r = self.srv.get(f"contracts/{self.contract['id']}/diary?from={yesterday}&to={today}"
                         "&tz=UTC", self.user["token"])
        assert r.status == 200, r
        return r.json["segments"]


@tap.test
def test_a_run_over_short_segments_arrives_once_with_screenshots_verified_under_wine_8():
    srv = Server(segment_s=SEG)
    lap = Laptop(srv)
    t0 = time.time()
    tr = lap.track("--memo", "Hero section", "--tag", "design", "--for", "50s")
    tr.wait_out("tracking contract", timeout=60)
    rc = tr.wait(timeout=150)
    t1 = time.time()
    eq(rc, 0, (tr.stdout, tr.stderr))
    assert "everything is on the server" in tr.stdout, (tr.stdout, tr.stderr)
    segs = sorted(lap.diary(), key=lambda s: s["start"])
    starts = [parse_time(s["start"]) for s in segs]
    eq(starts, sorted(set(starts)), "one segment per slot")
    assert len(segs) >= 2, segs
    for st in starts:
        assert slot_of(t0) <= st <= slot_of(t1), (starts, t0, t1)
    total = sum(s["tracked_s"] for s in segs)
    assert 48 <= total <= 51, total
    for s in segs:
        eq(s["memo"], "Hero section", "memo")
        eq(s["tags"], ["design"], "tags")
        shot = s.get("screenshot") or {}
        # A segment cut short by --for may end before its screenshot moment.
        assert shot.get("status") in ("ok", "failed"), s
    assert sum(1 for s in segs if (s.get("screenshot") or {}).get("status") == "ok") >= 1, segs
    # Each screenshot the server has is a JPEG from this run.
    for s in segs:
        shot = s.get("screenshot") or {}
        if shot.get("status") == "ok":
            r = srv.get(shot["url"], lap.user["token"])
            assert r.status == 200 and r.body[:3] == b"\xff\xd8\xff", (r.status, r.body[:16])
    # Nothing left to send, and a second sync changes nothing.
    r = lap.stint("sync")
    eq(r.returncode, 0, r)
    eq(len(lap.diary()), len(segs), "no duplicates")


@tap.test
def test_terminateprocess_mid_segment_loses_at_most_the_open_bucket_verified_under_wine_8():
    srv = Server(segment_s=SEG)
    lap = Laptop(srv)
    tr = lap.track("--memo", "Crash", "--for", "90s")
    tr.wait_out("tracking contract", timeout=60)
    assert w.wait_for(lambda: (lap.query("SELECT COUNT(*) FROM buckets") or [(0,)])[0][0] >= 4,
                      40, 0.2), (tr.stdout, tr.stderr)
    # Half a bucket more: the open bucket holds time that the kill loses.
    time.sleep(BUCKET / 2)
    rows = lap.query("SELECT s.id, s.start, COALESCE(SUM(b.tracked_ms), 0),"
                     " COALESCE(MAX(b.idx), -1) FROM segments s"
                     " LEFT JOIN buckets b ON b.segment_id = s.id GROUP BY s.id")
    w.taskkill("stint.exe")
    killed_at = time.time()
    tr.wait(timeout=30)
    # Ended from outside: no clean stop ran (it would print the totals).
    assert not any(l.startswith("stopped:") for l in tr.out), tr.stdout
    assert rows, "nothing in the journal before the kill"
    durable = {r[0]: r[2] for r in rows}
    since = json.loads(lap.query("SELECT value FROM meta WHERE key = 'tracking'")[0][0])["since"]

    # The next start (stint.exe sync) recovers the open segment and uploads it.
    r = lap.stint("sync")
    eq(r.returncode, 0, r)
    segs = {s["id"]: s for s in lap.diary()}
    must = {i for i, ms in durable.items() if ms >= 1000}
    assert must <= set(segs) <= set(durable), (sorted(segs), durable)
    for seg_id, ms in durable.items():
        if seg_id in segs:
            assert segs[seg_id]["tracked_s"] >= round(ms / 1000) - 1, (segs[seg_id], ms)
    tracked = sum(s["tracked_s"] for s in segs.values())
    lost = (killed_at - since) - tracked
    assert lost <= BUCKET + 2, (lost, killed_at, since, tracked)

    # Tracking again: durable buckets are final, nothing counted twice.
    tr2 = lap.track("--memo", "Crash", "--for", "4s")
    eq(tr2.wait(timeout=120), 0, (tr2.stdout, tr2.stderr))
    segs2 = {s["id"]: s for s in lap.diary()}
    last_durable = {r[0]: r[3] for r in rows}
    open_id = max(rows, key=lambda r: r[1])[0]
    for seg_id, s in segs.items():
        n = last_durable[seg_id] if seg_id == open_id else 10
        eq(segs2[seg_id]["minutes"][:n], s["minutes"][:n], "durable buckets not counted twice")
    eq(len({s["start"] for s in segs2.values()}), len(segs2), "one segment per slot")
    total2 = sum(s["tracked_s"] for s in segs2.values())
    assert tracked + 3 <= total2 <= tracked + 5, (tracked, segs2)


@tap.test
def test_a_second_tracker_is_refused_and_sync_asks_the_running_one_verified_under_wine_8():
    srv = Server(segment_s=SEG)
    lap = Laptop(srv)
    tr = lap.track("--memo", "One", "--for", "25s")
    tr.wait_out("tracking contract", timeout=60)
    # The journal's lock (LockFileEx) keeps a second tracker out, naming the first.
    r = lap.stint("track", "--contract", lap.contract["id"], "--memo", "Two", "--for", "2s")
    eq(r.returncode, 1, r)
    assert "another stint tracker (pid " in r.stderr, r
    pid = int(r.stderr.split("(pid ", 1)[1].split(")", 1)[0])
    st = json.loads(lap.stint("status", "--json").stdout)
    eq(st["tracking"], True, "status while tracking")
    eq(st["pid"], pid, "pid")
    eq(st["memo"], "One", "memo")
    # sync reaches the running tracker through its named event and watches the queue.
    r = lap.stint("sync", "--timeout", "20")
    eq(r.returncode, 0, r)
    assert "cannot signal" not in r.stderr, r
    assert tr.alive(), "the tracker did not survive sync"
    eq(tr.wait(timeout=90), 0, (tr.stdout, tr.stderr))
    assert "everything is on the server" in tr.stdout, tr.stdout
    eq(len({s["start"] for s in lap.diary()}), len(lap.diary()), "one segment per slot")


@tap.test
def test_server_down_for_the_whole_run_then_sync_sends_each_once_verified_under_wine_8():
    srv = Server(segment_s=SEG)
    lap = Laptop(srv)
    data, port = srv.data, srv.port
    # One online start keeps the segment length and the contract's terms.
    tr = lap.track("--memo", "Plane", "--for", "2s")
    eq(tr.wait(timeout=120), 0, (tr.stdout, tr.stderr))
    online_before = {s["id"] for s in lap.diary()}
    srv.stop()
    try:
        tr = lap.track("--memo", "Plane", "--for", "32s")
        eq(tr.wait(timeout=150), 0, (tr.stdout, tr.stderr))
        assert "the server cannot be reached" in tr.stdout, tr.stdout
        rows = lap.query("SELECT id, start, tracked_s FROM segments WHERE state = 2")
        assert len(rows) >= 2, rows
        r = lap.stint("sync", "--timeout", "5")
        eq(r.returncode, 1, r)
        assert "still queued" in r.stderr, r

        srv2 = Server("--listen", f"127.0.0.1:{port}", data=data, segment_s=SEG)
        lap.srv = srv2
        r = lap.stint("sync")
        eq(r.returncode, 0, r)
        diary = lap.diary()
        by_id = {s["id"]: s for s in diary}
        eq(len(by_id), len(diary), "each id once")
        eq(len({s["start"] for s in diary}), len(diary), "one segment per slot")
        for seg_id, start, tracked in rows:
            assert seg_id in by_id, (seg_id, diary)
            eq(by_id[seg_id]["tracked_s"], tracked, f"tracked of {seg_id}")
            eq(parse_time(by_id[seg_id]["start"]), start, "start")
        eq(set(by_id), {r[0] for r in rows} | online_before, "nothing else")
        total = sum(s["tracked_s"] for s in diary)
        assert 32 <= total <= 36, total
        r = lap.stint("sync")
        eq(r.returncode, 0, r)
        assert "nothing to upload" in r.stdout, r
        eq(len(lap.diary()), len(diary), "no duplicates")
    finally:
        shutil.rmtree(data, ignore_errors=True)


tap.main()
