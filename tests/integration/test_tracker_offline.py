#!/usr/bin/env python3
"""Integration test of the tracker without a server, under Xvfb against a
real stintd with 30-second segments:

- the server is down for a whole `stint track` run and started afterwards:
  `stint sync` brings every segment over exactly once;
- the network goes away in the middle of a run and comes back: the
  tracker's uploader resumes by itself (backoff with jitter), no sync;
- the disk quota of the local queue: the warning at 80%, then tracking
  stops with a clear message at 100%, and nothing recorded is lost;
- time tracked offline that reaches the server only after its week has
  locked is refused for good, and the journal shows it as refused.

Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import json
import math
import shutil
import threading
import time

import tempfile

from harness import Server, admin_add, eq, parse_time, tap, week_start
from tracker_env import Freelancer, display, wait_for, xdo

SEG = 30


def typing(stop):
    while not stop.wait(0.7):
        xdo("key", "k")
        xdo("mousemove_relative", "--", "2", "1")


def restart_on(port, data):
    """stintd again on the same port and data dir (Server() picks a free port first; the
    later --listen wins)."""
    return Server("--listen", f"127.0.0.1:{port}", data=data, segment_s=SEG)


@tap.test
def test_server_down_for_the_whole_run():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    data, port = srv.data, srv.port
    # One online start saves the segment length and the contract's terms.
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Plane", "--for", "2s")
    eq(r.returncode, 0, (r.stdout, r.stderr))
    online_before = {s["id"] for s in fl.diary()}
    srv.stop()
    try:
        stop = threading.Event()
        th = threading.Thread(target=typing, args=(stop,), daemon=True)
        th.start()
        tr = fl.track("--contract", fl.contract["id"], "--memo", "Plane", "--for", "32s")
        rc = tr.wait(timeout=120)
        stop.set()
        th.join()
        eq(rc, 0, (tr.stdout, tr.stderr))
        assert "the server cannot be reached" in tr.stdout, tr.stdout
        rows = fl.query("SELECT id, start, tracked_s, state FROM segments WHERE state = 2")
        assert len(rows) >= 2, rows
        st = json.loads(fl.cli("status", "--json").stdout)
        eq(st["queue"]["segments"], len(rows), "status queue")
        eq(st["online"], False, "status online")
        r = fl.cli("sync", "--timeout", "5")
        eq(r.returncode, 1, (r.stdout, r.stderr))
        assert "still queued" in r.stderr, r.stderr

        srv2 = restart_on(port, data)
        fl.srv = srv2
        r = fl.cli("sync")
        eq(r.returncode, 0, (r.stdout, r.stderr))
        assert f"{len(rows)} segment" in r.stdout, r.stdout
        diary = fl.diary()
        by_id = {s["id"]: s for s in diary}
        # Every queued segment arrived, exactly once, with all its time (a slot shared
        # with the online run before extends that run's segment under its id).
        eq(len(by_id), len(diary), "each id once")
        starts = [s["start"] for s in diary]
        eq(len(starts), len(set(starts)), "one segment per slot")
        for seg_id, start, tracked, _ in rows:
            assert seg_id in by_id, (seg_id, diary)
            eq(by_id[seg_id]["tracked_s"], tracked, f"tracked of {seg_id}")
            eq(parse_time(by_id[seg_id]["start"]), start, "start")
            eq((by_id[seg_id].get("screenshot") or {}).get("status"), "ok", "screenshot")
        eq(set(by_id), {r[0] for r in rows} | online_before, "nothing else")
        total = sum(s["tracked_s"] for s in diary)
        assert 32 <= total <= 36, total
        # Again: nothing left, and the server still has each once.
        r = fl.cli("sync")
        eq(r.returncode, 0, r.stderr)
        assert "nothing to upload" in r.stdout, r.stdout
        eq(len(fl.diary()), len(diary), "no duplicates")
    finally:
        shutil.rmtree(data, ignore_errors=True)


@tap.test
def test_uploads_after_the_lock_are_refused_and_shown():
    display()
    data = tempfile.mkdtemp(prefix="stint-it-")
    admin = admin_add(data)
    srv = Server("--test-clock", data=data, segment_s=SEG)
    try:
        fl = Freelancer(srv)
        port = srv.port
        # One online start saves the segment length and the terms, then the
        # server goes away and the freelancer works on.
        r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Plane", "--for", "1s")
        eq(r.returncode, 0, (r.stdout, r.stderr))
        before = {x["id"]: x["tracked_s"] for x in fl.diary()}
        srv.stop()
        tr = fl.track("--contract", fl.contract["id"], "--memo", "Plane", "--for", "4s")
        eq(tr.wait(timeout=120), 0, (tr.stdout, tr.stderr))
        queued = fl.query("SELECT id FROM segments WHERE state = 2")
        assert queued, "something queued"
        # The server comes back after the week has locked (Monday 12:00 UTC).
        srv = Server("--test-clock", "--listen", f"127.0.0.1:{port}", data=data, segment_s=SEG)
        fl.srv = srv
        token = srv.login(admin["email"], admin["password"])
        srv.set_clock(token, week_start(int(time.time())) + 7 * 86400 + 12 * 3600 + 60)
        r = fl.cli("sync", "--timeout", "30")
        assert "refused" in r.stdout + r.stderr, (r.stdout, r.stderr)
        st = json.loads(fl.cli("status", "--json").stdout)
        refused = {x["id"]: x["reason"] for x in st["refused"]}
        for (seg_id,) in queued:
            assert seg_id in refused, (seg_id, st)
            assert "locked" in refused[seg_id], refused[seg_id]
        eq(st["queue"]["segments"], 0, "nothing retried forever")
        # The server took none of the time worked offline: what it had
        # before is unchanged, and nothing new arrived.
        after = {x["id"]: x["tracked_s"] for x in fl.diary()}
        eq(after, before, "the server's diary after the refused uploads")
    finally:
        srv.stop()
        shutil.rmtree(data, ignore_errors=True)


@tap.test
def test_network_cut_resumes_by_itself():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    data, port = srv.data, srv.port
    stop = threading.Event()
    th = threading.Thread(target=typing, args=(stop,), daemon=True)
    th.start()
    try:
        tr = fl.track("--contract", fl.contract["id"], "--memo", "Train", "--for", "90s")
        tr.wait_out("tracking contract")
        srv.stop()
        # A segment closes while the server is away and waits in the queue.
        assert wait_for(lambda: fl.query("SELECT COUNT(*) FROM segments WHERE state = 2")[0][0]
                        >= 1, 40, 0.2), fl.query("SELECT * FROM segments")
        (seg_id,) = fl.query("SELECT id FROM segments WHERE state = 2")[0]
        time.sleep(5)  # the uploader backs off meanwhile; that is what is tested
        srv2 = restart_on(port, data)
        fl.srv = srv2
        # No sync, no signal: the tracker's uploader comes back by itself.
        assert wait_for(lambda: any(s["id"] == seg_id for s in fl.diary()), 40, 0.5), \
            (tr.stdout, tr.stderr)
        assert tr.proc.poll() is None, "the tracker stopped"
        tr.interrupt()
        eq(tr.wait(), 0, tr.stderr)
        assert "everything is on the server" in tr.stdout, tr.stdout
        ids = [s["id"] for s in fl.diary()]
        eq(len(ids), len(set(ids)), "no duplicates")
        rows = fl.query("SELECT id, state, tracked_s, acked_s, refused FROM segments")
        eq(sorted(ids), sorted(r[0] for r in rows), f"the journal and the server agree {rows}")
    finally:
        stop.set()
        th.join()
        shutil.rmtree(data, ignore_errors=True)


@tap.test
def test_disk_quota_warning_and_stop():
    display()
    # Segments of 20 s, so that the next screenshot (the one over the quota) comes soon.
    srv = Server(segment_s=20)
    fl = Freelancer(srv)
    # What the journal takes with one segment and its (kept) last screenshot.
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Full", "--for", "2s")
    eq(r.returncode, 0, (r.stdout, r.stderr))
    used = json.loads(fl.cli("status", "--json").stdout)["journal"]["bytes"]
    shot = fl.cli("screenshot", "--last").stdout.strip()
    assert shot, "no screenshot from the first run"
    quota_kb = math.ceil(used * 1.12 / 1024)

    tr = fl.track("--contract", fl.contract["id"], "--memo", "Full", "--for", "60s",
                  env={"STINT_QUOTA_KB": str(quota_kb)})
    rc = tr.wait(timeout=120)
    eq(rc, 1, (tr.stdout, tr.stderr))
    assert "80% of its" in tr.stderr, tr.stderr
    assert "is full" in tr.stderr and "tracking stopped" in tr.stderr, tr.stderr
    assert "nothing recorded is lost" in tr.stderr, tr.stderr
    # It stopped early, at the next screenshot (within two segments), not at the end of --for.
    segs = fl.diary()
    total = sum(s["tracked_s"] for s in segs)
    assert 2 <= total <= 2 + 42, total
    # What was recorded before the stop reached the server.
    rows = fl.query("SELECT id, tracked_s, acked_s FROM segments")
    eq(sorted(r[0] for r in rows), sorted(s["id"] for s in segs), "journal vs server")
    assert all(r[1] == r[2] for r in rows), rows
    # A start while full is refused with the reason, and records nothing.
    big = fl.cli("status", "--json")
    if json.loads(big.stdout)["journal"]["bytes"] >= quota_kb * 1024:
        r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Full", "--for", "2s",
                   env={"STINT_QUOTA_KB": str(quota_kb)})
        eq(r.returncode, 1, r.stderr)
        assert "quota" in r.stderr, r.stderr


tap.main()
