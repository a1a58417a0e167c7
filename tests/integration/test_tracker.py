#!/usr/bin/env python3
"""Integration test of the tracker: `stint track` under Xvfb against a real
stintd with 30-second segments (buckets of 3 s), driven with xdotool.

Covers: a run over a few segments puts typed keys and mouse events in the
right buckets, counted as synthetic, with exactly one screenshot per
segment taken inside it; the contract's memo and tag rules; no display;
a second tracker on the same journal; kill -9 recovery (no loss beyond the
last durable bucket, no duplicate); a segment refused for good is shown;
`stint status` and `stint screenshot --last`; the long-running recorder
maps no HTTP or TLS library and leaves no helper process behind, and the
token is on no command line.

The server-down, network-cut and disk-quota cases are in
test_tracker_offline.py. Needs STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import json
import os
import threading
import time

import subprocess

from harness import BUILD, STINT, Server, eq, parse_time, tap
from tracker_env import Freelancer, display, wait_for, xdo

SEG = 30
BUCKET = SEG // 10


def slot_of(t):
    return int(t // SEG) * SEG


def drive_input(stop, expected, uncertain):
    """Types 3 keys and makes 2 mouse moves in the middle of every even bucket.

    expected[(segment_start, bucket)] = (keys, mouse) for each bucket it
    served; a bucket whose input may have spilled over a boundary goes in
    uncertain instead.
    """
    while not stop.is_set():
        now = time.time()
        b_start = int(now // BUCKET) * BUCKET
        idx = (b_start % SEG) // BUCKET
        key = (slot_of(now), idx)
        if idx % 2 == 0 and now - b_start < 0.3 and key not in expected:
            time.sleep(max(0.0, b_start + 0.3 - time.time()))
            xdo("key", "a", "b", "c")
            xdo("mousemove_relative", "--", "4", "0")
            time.sleep(0.15)  # more than the 100 ms in which motion counts once
            xdo("mousemove_relative", "--", "0", "4")
            # Done early in the bucket: a tracker slowed down (sanitizers, a busy machine)
            # still reads these events before the bucket ends. Late ones prove nothing.
            if time.time() < b_start + BUCKET / 2:
                expected[key] = (3, 2)
            else:
                uncertain.add(key)
                uncertain.add((slot_of(b_start + BUCKET), (idx + 1) % 10))
        # Wake at the next bucket start.
        nxt = (int(time.time() // BUCKET) + 1) * BUCKET
        stop.wait(max(0.0, nxt - time.time()))


@tap.test
def test_run_over_segments():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    expected, uncertain = {}, set()
    stop = threading.Event()
    driver = threading.Thread(target=drive_input, args=(stop, expected, uncertain), daemon=True)

    t0 = time.time()
    tr = fl.track("--contract", fl.contract["id"], "--memo", "Hero section", "--tag", "design",
                  "--for", "50s")
    tr.wait_out("tracking contract")
    started = time.time()
    driver.start()
    rc = tr.wait(timeout=120)
    stop.set()
    driver.join()
    t1 = time.time()
    assert rc == 0, (rc, tr.stdout, tr.stderr)
    assert "everything is on the server" in tr.stdout, (tr.stdout, tr.stderr)

    segs = sorted(fl.diary(), key=lambda s: s["start"])
    starts = [parse_time(s["start"]) for s in segs]
    # One segment per slot the run touched, none twice.
    eq(starts, sorted(set(starts)), "segment starts")
    eq(starts, list(range(slot_of(t0 + 0.5), slot_of(t1) + 1, SEG))[:len(starts)], "slots")
    assert len(segs) >= 2, segs
    total = sum(s["tracked_s"] for s in segs)
    assert 48 <= total <= 51, total

    # The input of each served bucket is found in that bucket. A tracker that the
    # machine starves past the bucket's end reads it in the next one (which is
    # otherwise quiet): allowed once, never lost, never counted twice.
    observed = {(start, idx): (m["keys"], m["mouse"], m["synthetic"])
                for s, start in zip(segs, starts) for idx, m in enumerate(s["minutes"])}
    tracked = {(start, idx): m["tracked_s"]
               for s, start in zip(segs, starts) for idx, m in enumerate(s["minutes"])}
    consumed, checked, late = set(), 0, []
    for key, want in sorted(expected.items()):
        # Input the driver sent as the run ended, after the timer had stopped,
        # is rightly not counted: no capture while stopped.
        if not tracked.get(key) and key[0] + key[1] * BUCKET >= t1 - 3 * BUCKET:
            continue
        full = (want[0], want[1], sum(want))
        nxt = (key[0] + SEG, 0) if key[1] == 9 else (key[0], key[1] + 1)
        if observed.get(key) == full:
            checked += 1
        elif observed.get(key) == (0, 0, 0) and observed.get(nxt) == full:
            late.append(key)
            consumed.add(nxt)
        else:
            raise AssertionError(f"bucket {key}: {observed.get(key)}, next {observed.get(nxt)}"
                                 f", expected {full}; {segs}")
        consumed.add(key)
    assert len(late) <= 1, f"input read late in {late}"
    for (start, idx), got in observed.items():
        b_start = start + idx * BUCKET
        if (start, idx) not in consumed and (start, idx) not in uncertain and \
                started + 1 < b_start and b_start + BUCKET < t1 - 1:
            eq(got[:2], (0, 0), f"quiet bucket {idx} of {start}")
    for s, start in zip(segs, starts):
        eq(s["memo"], "Hero section", "memo")
        eq(s["tags"], ["design"], "tags")
        # Exactly one screenshot per segment, taken inside it, uploaded and decodable.
        shot = s.get("screenshot") or {}
        eq(shot.get("status"), "ok", f"screenshot of {s['start']}: {s}")
        taken = parse_time(shot["taken_at"])
        assert start <= taken < start + SEG, (s["start"], shot)
        assert taken >= int(started) - 1, (taken, started)
        r = srv.get(shot["url"], fl.user["token"])
        eq(r.status, 200, "screenshot fetch")
        assert r.body[:2] == b"\xff\xd8", r.body[:8]  # JPEG
        # Synthetic input all the way: flagged unusual by the tracker.
        if s["activity"] > 0:
            assert "unusual_input" in s["flags"], s["flags"]
    assert checked >= 4, (checked, expected)
    shot_lines = [l for l in tr.out if l.startswith("screenshot of the ")]
    eq(len(shot_lines), len(segs), f"screenshot lines {shot_lines}")

    # Everything arrived; the journal agrees with the server, segment by segment.
    rows = fl.query("SELECT id, state, tracked_s, acked_s FROM segments")
    eq(sorted(r[0] for r in rows), sorted(s["id"] for s in segs), "journal ids")
    assert all(r[1] == 3 and r[2] == r[3] for r in rows), rows

    st = fl.cli("status", "--json")
    eq(st.returncode, 0, st.stderr)
    status = json.loads(st.stdout)
    eq(status["tracking"], False, "tracking")
    eq(status["queue"]["segments"], 0, "queue")
    assert status["last_upload"], status
    eq(status["refused"], [], "refused")

    last = fl.cli("screenshot", "--last")
    eq(last.returncode, 0, last.stderr)
    path = last.stdout.strip()
    assert os.path.isfile(path), path
    with open(path, "rb") as f:
        assert f.read(2) == b"\xff\xd8"


@tap.test
def test_memo_and_tag_rules():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv, {"memo_required": True, "tag_required": True})
    cid = fl.contract["id"]

    r = fl.cli("track", "--contract", cid, "--tag", "design", "--for", "2s")
    eq(r.returncode, 2, r.stderr)
    assert "requires a memo" in r.stderr, r.stderr
    r = fl.cli("track", "--contract", cid, "--memo", "Work", "--for", "2s")
    eq(r.returncode, 2, r.stderr)
    assert "requires a tag" in r.stderr and "design, code" in r.stderr, r.stderr
    r = fl.cli("track", "--contract", cid, "--memo", "Work", "--tag", "gardening", "--for", "2s")
    eq(r.returncode, 2, r.stderr)
    assert "'gardening' is not one of this contract's tags" in r.stderr, r.stderr
    eq(fl.diary(), [], "nothing recorded by refused starts")

    r = fl.cli("track", "--contract", cid, "--memo", "Work", "--tag", "code", "--for", "2s")
    eq(r.returncode, 0, (r.stdout, r.stderr))
    segs = fl.diary()
    assert segs and all(s["memo"] == "Work" and s["tags"] == ["code"] for s in segs), segs

    # A contract that is not active takes no time.
    srv.post(f"contracts/{cid}/pause", token=fl.client["token"])
    r = fl.cli("track", "--contract", cid, "--memo", "Work", "--tag", "code", "--for", "2s")
    eq(r.returncode, 4, r.stderr)
    assert "paused" in r.stderr, r.stderr


@tap.test
def test_no_display():
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv, with_display=False)
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Work", "--for", "2s")
    eq(r.returncode, 1, r.stderr)
    assert "no display" in r.stderr and "DISPLAY" in r.stderr, r.stderr
    eq(fl.diary(), [], "nothing recorded")


@tap.test
def test_second_tracker_refused():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    tr = fl.track("--contract", fl.contract["id"], "--memo", "One", "--for", "20s")
    tr.wait_out("tracking contract")
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Two", "--for", "2s")
    eq(r.returncode, 1, r.stderr)
    assert f"another stint tracker (pid {tr.proc.pid})" in r.stderr, r.stderr
    st = json.loads(fl.cli("status", "--json").stdout)
    eq(st["tracking"], True, "status while tracking")
    eq(st["pid"], tr.proc.pid, "pid")
    eq(st["memo"], "One", "memo")
    # sync while a tracker runs asks that tracker (SIGUSR1) and watches; the tracker goes on.
    r = fl.cli("sync", "--timeout", "20")
    eq(r.returncode, 0, (r.stdout, r.stderr))
    assert tr.proc.poll() is None, "the tracker did not survive sync's signal"
    tr.interrupt()
    eq(tr.wait(), 0, tr.stderr)
    assert "everything is on the server" in tr.stdout, tr.stdout


@tap.test
def test_kill9_recovery():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    tr = fl.track("--contract", fl.contract["id"], "--memo", "Crash", "--for", "60s")
    tr.wait_out("tracking contract")
    # Wait for three durable buckets, typing meanwhile; then kill -9 mid-bucket.
    def durable():
        xdo("key", "x")
        rows = fl.query("SELECT COUNT(*) FROM buckets")
        return rows and rows[0][0] >= 3
    assert wait_for(durable, 20, 0.2)
    time.sleep(BUCKET / 2)  # let the open bucket collect time that will be lost
    rows = fl.query("SELECT s.id, s.start, COALESCE(SUM(b.tracked_ms), 0),"
                    " COALESCE(MAX(b.idx), -1) FROM segments s"
                    " LEFT JOIN buckets b ON b.segment_id = s.id GROUP BY s.id")
    tr.kill9()
    killed_at = time.time()
    assert rows, "nothing in the journal before the kill"
    durable = {r[0]: r[2] for r in rows}
    open_id, open_start = max(((r[0], r[1]) for r in rows), key=lambda x: x[1])
    since = json.loads(fl.query("SELECT value FROM meta WHERE key = 'tracking'")[0][0])["since"]

    # The next start (here: sync) recovers the open segment and uploads it.
    r = fl.cli("sync")
    eq(r.returncode, 0, (r.stdout, r.stderr, fl.cli("status", "--json").stdout, rows))
    segs = {s["id"]: s for s in fl.diary()}
    # Every segment with durable time arrives, once. A segment opened at a slot boundary
    # just before the kill has no durable bucket yet: no time, so nothing to upload
    # (recovery drops it); one with under a second may round to nothing too.
    must = {i for i, ms in durable.items() if ms >= 1000}
    assert must <= set(segs) <= set(durable), ("the journal's segments, each once", sorted(segs),
                                               durable)
    for seg_id, ms in durable.items():
        if seg_id in segs:
            assert segs[seg_id]["tracked_s"] >= round(ms / 1000) - 1, (segs[seg_id], ms)
    tracked = sum(s["tracked_s"] for s in segs.values())
    # Lost: at most the open bucket (and the moment between the last read and the kill).
    lost = (killed_at - since) - tracked
    assert lost <= BUCKET + 1.5, (lost, killed_at, since, tracked)
    # A screenshot moment that had not come yet is reported as missing, never faked.
    for s in segs.values():
        assert (s.get("screenshot") or {}).get("status") in ("ok", "failed"), s

    # Tracking again extends the same segment when still in its slot: nothing twice.
    same_slot = slot_of(time.time() + 1) == open_start
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Crash", "--for", "4s")
    eq(r.returncode, 0, (r.stdout, r.stderr))
    segs2 = {s["id"]: s for s in fl.diary()}
    # Buckets before the one open at the kill are final: the new run cannot touch them.
    last_durable = {r[0]: r[3] for r in rows}
    for seg_id, s in segs.items():
        n = last_durable[seg_id] if seg_id == open_id else 10
        eq(segs2[seg_id]["minutes"][:n], s["minutes"][:n], "durable buckets not counted twice")
    eq(len({s["start"] for s in segs2.values()}), len(segs2), "one segment per slot")
    total2 = sum(s["tracked_s"] for s in segs2.values())
    assert tracked + 3 <= total2 <= tracked + 5, (tracked, segs2)
    if same_slot and slot_of(time.time()) == open_start and open_id in segs:
        eq(sorted(segs2), sorted(segs), "the open segment extended, no new one")


@tap.test
def test_refused_segment_is_shown():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    # Both runs below must fall in one slot.
    wait_for(lambda: time.time() % SEG < SEG - 14, SEG + 1, 0.05)
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Gone", "--for", "3s")
    eq(r.returncode, 0, r.stderr)
    (seg,) = fl.diary()
    # The freelancer deletes it on the web; the tracker then extends it in the same slot.
    d = srv.delete(f"segments/{seg['id']}", fl.user["token"])
    eq(d.status, 204, d)
    r = fl.cli("track", "--contract", fl.contract["id"], "--memo", "Gone", "--for", "3s")
    assert "refused" in r.stderr or "refused" in r.stdout, (r.stdout, r.stderr)
    st = json.loads(fl.cli("status", "--json").stdout)
    eq(len(st["refused"]), 1, st)
    eq(st["refused"][0]["id"], seg["id"], "refused id")
    assert "conflict" in st["refused"][0]["reason"], st["refused"][0]
    eq(st["queue"]["segments"], 0, "not retried")
    text = fl.cli("status").stdout
    assert "refused      1 segment" in text, text
    # sync does not retry it either.
    r = fl.cli("sync")
    eq(r.returncode, 0, (r.stdout, r.stderr))




HTTP_LIBRARIES = ("libcurl", "libssl", "libcrypto", "libgnutls", "libnghttp2", "libssh")


def children(pid):
    """The pids of pid's children (zombies included: they are children until reaped)."""
    kids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            kids += [int(k) for k in f.read().split()]
    return kids


@tap.test
def test_recorder_holds_no_http_library():
    display()
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv)
    with open(os.path.join(fl.home, "config", "stint", "auth.json")) as f:
        token = json.load(f)["token"]
    tr = fl.track("--contract", fl.contract["id"], "--memo", "Lean", "--for", "60s")
    tr.wait_out("tracking contract")
    pid = tr.proc.pid
    # `stint track` became the recorder: same process, another program.
    assert os.readlink(f"/proc/{pid}/exe").endswith("/stint-recorder"), os.readlink(
        f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmdline = f.read()
    assert token.encode() not in cmdline, "the token is on the recorder's command line"

    # A segment reaches the server: the upload ran in a helper, and the recorder still maps
    # no HTTP or TLS library. (Input meanwhile: a segment without any is held for the idle
    # question, not uploaded.)
    def uploaded():
        xdo("key", "x")
        return fl.diary()
    assert wait_for(uploaded, SEG + 30, 0.5), (tr.stdout, tr.stderr)
    with open(f"/proc/{pid}/maps") as f:
        maps = f.read()
    for lib in HTTP_LIBRARIES:
        assert lib not in maps, f"{lib} is mapped in the recorder"
    # Helpers end with their pass and are reaped: none is left, not even a zombie.
    assert wait_for(lambda: not children(pid), 30, 0.1), children(pid)
    tr.interrupt()
    eq(tr.wait(), 0, tr.stderr)
    assert "everything is on the server" in tr.stdout, tr.stdout
    eq(tr.stderr, "", "nothing said on stderr")


@tap.test
def test_helper_and_recorder_refuse_bad_arguments():
    srv = Server(segment_s=SEG)
    fl = Freelancer(srv, with_display=False)
    r = fl.cli("_upload")
    eq(r.returncode, 2, r.stderr)
    assert "--server" in r.stderr, r.stderr
    r = fl.cli("_upload", "--server", srv.url, "--start", fl.contract["id"], input="")
    eq(r.returncode, 2, r.stderr)
    assert "no token on stdin" in r.stderr, r.stderr
    # The helper is not listed among the commands people use.
    assert "_upload" not in fl.cli("help").stdout
    # With a good token it answers a start as one JSON line.
    with open(os.path.join(fl.home, "config", "stint", "auth.json")) as f:
        token = json.load(f)["token"]
    r = fl.cli("_upload", "--server", srv.url, "--start", fl.contract["id"], "--config",
               input=token + "\n")
    eq(r.returncode, 0, r.stderr)
    start = json.loads(r.stdout)["start"]
    eq(start["segment_s"], SEG, "the server's segment length")
    eq(start["contract"]["id"], fl.contract["id"], "the contract")
    # The recorder run by hand says what to run instead.
    rec = subprocess.run([os.path.join(BUILD, "cli", "stint-recorder")], capture_output=True,
                         text=True, timeout=30)
    eq(rec.returncode, 2, rec.stderr)
    assert "run 'stint track' instead" in rec.stderr, rec.stderr


tap.main()
