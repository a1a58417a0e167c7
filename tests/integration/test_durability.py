#!/usr/bin/env python3
"""Durability of stintd: "a 2xx means the data survives a crash" (API.md).

Each case drives a real stintd over loopback and then looks at what a user
would see after the event: an orderly restart, a kill -9 in the middle of a
burst of concurrent uploads (then the tracker's retry of everything), and a
disk that fills up under uploads. Standard library only; prints TAP.

The uploads go into one fixed past week, reached with the admin test clock
(stintd --test-clock), so that hundreds of slots are in the past and open.
"""
import base64
import datetime as dt
import http.client
import json
import os
import shutil
import subprocess
import tempfile
import threading
import uuid

from harness import (Server, Skip, admin_add, check_store, eq, segment_body, tap)

# The week the uploads go to: Monday 2026-03-02 .. Sunday 2026-03-08 (UTC).
MONDAY = int(dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc).timestamp())
WEEK_FROM, WEEK_TO = "2026-03-02", "2026-03-08"
# "Now" for the uploads: Sunday 20:00, so 984 slots of 600 s lie behind it.
SUNDAY_EVENING = MONDAY + 6 * 86400 + 20 * 3600
SEG_S = 600

# A 64x48 JPEG (ImageMagick gradient), small enough to carry here.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcU"
    "FhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgo"
    "KCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAwAEADASIA"
    "AhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAQH/8QAFRABAQAAAAAAAAAAAAAAAAAAABP/xAAX"
    "AQEBAQEAAAAAAAAAAAAAAAAABwYF/8QAFhEAAwAAAAAAAAAAAAAAAAAAABVh/9oADAMBAAIRAxEA"
    "PwDNaFElCjmrIXdhSuhRJQoLIGFK6FElCgsgYUroUSUKCyBhSWhRJQooSyGFYUroUSUKCyBhSuhR"
    "JQoLIGFK6FElCgsgYUkoUS0KKGshhWFKqFEtCgsgYUqoUS0KCyBhSqhRLQoLIGFP/9k=")


def jpeg_variant(n, pad=0):
    """The JPEG with a comment segment (COM) naming n: other bytes, the same picture."""
    text = f"variant {n} ".encode() + b"x" * pad
    assert len(text) <= 65533
    com = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    return JPEG[:2] + com + JPEG[2:]


def drain(srv):
    """Reads the server's stderr so that a chatty failure cannot block it on a full pipe."""
    proc = srv.proc
    lines = []

    def run():
        try:
            for line in proc.stderr:
                lines.append(line)
        except (ValueError, OSError):
            pass

    threading.Thread(target=run, daemon=True).start()
    return lines


def start(srv_or_none=None, **kw):
    srv = srv_or_none.start() if srv_or_none else Server("--test-clock", **kw)
    srv.log = drain(srv)
    return srv


def open_week(data, ncontracts=1, **terms):
    """Starts stintd on data with an admin, a client, a freelancer and active
    contracts that began on MONDAY; leaves the clock at SUNDAY_EVENING."""
    admin = admin_add(data)
    srv = start(data=data)
    admin["token"] = srv.login(admin["email"], admin["password"])
    srv.set_clock(admin["token"], MONDAY + 60)
    client = srv.user("client")
    freelancer = srv.user("freelancer")
    terms.setdefault("screenshots_enabled", False)
    contracts = [srv.contract(client, freelancer, **terms)["id"] for _ in range(ncontracts)]
    srv.set_clock(admin["token"], SUNDAY_EVENING)
    return srv, admin, freelancer, contracts


def body_for(cid, slot, n, device="dev-1"):
    """A distinct upload for slot number 'slot' of the week; n varies its content."""
    return segment_body(cid, MONDAY + slot * SEG_S, SEG_S, seconds=1 + n % 60, keys=n % 50,
                        mouse=(7 * n) % 90, memo=f"segment {n}", tags=["t%d" % (n % 3)],
                        device=device)


def tracked(body):
    return sum(m["tracked_s"] for m in body["minutes"])


def same_upload(seg, body, what):
    """The tracker's fields of a stored segment equal what was uploaded."""
    for k in ("contract_id", "device_id", "start", "memo", "tags"):
        eq(seg[k], body[k], f"{what} {k}")
    eq([(m["tracked_s"], m["keys"], m["mouse"], m["synthetic"]) for m in seg["minutes"]],
       [(m["tracked_s"], m["keys"], m["mouse"], m["synthetic"]) for m in body["minutes"]],
       f"{what} minutes")
    eq(seg["tracked_s"], tracked(body), f"{what} tracked_s")


def diary(srv, token, cid):
    r = srv.get(f"contracts/{cid}/diary?from={WEEK_FROM}&to={WEEK_TO}&tz=UTC", token)
    eq(r.status, 200, f"diary {r!r}")
    return r.json


def check_diary(srv, token, cid, expect):
    """The diary of the week holds exactly the segments in expect (id -> body),
    each once, one per slot and device, and its totals are their sum."""
    d = diary(srv, token, cid)
    ids = [s["id"] for s in d["segments"]]
    eq(len(ids), len(set(ids)), "a segment listed twice")
    per_slot = {}
    for s in d["segments"]:
        key = (s["start"], s["device_id"])
        per_slot[key] = per_slot.get(key, 0) + 1
    eq([k for k, v in per_slot.items() if v != 1], [], "slots holding more than one segment")
    eq(sorted(ids), sorted(expect), "the diary's segments")
    total = sum(tracked(b) for b in expect.values())
    eq(sum(s["tracked_s"] for s in d["segments"]), total, "sum of the diary's segments")
    eq(d["totals"]["tracked_s"], total, "diary total tracked_s")
    eq(sum(day["tracked_s"] for day in d["days"]), total, "sum of the diary's days")
    eq(d["totals"]["billable_s"], total, "diary total billable_s (no overlap, no limit)")


def stop_and_check(srv):
    srv.stop()
    p = check_store(srv.data)
    assert p.returncode == 0, f"stintd check failed: {p.stdout}{p.stderr}"


class Uploader:
    """Client threads PUTting segments over keep-alive connections, each
    remembering which PUTs were acknowledged (2xx) and with what."""

    def __init__(self, srv, token, jobs, nthreads, stop_after=None):
        self.srv, self.token = srv, token
        self.queues = [jobs[i::nthreads] for i in range(nthreads)]
        self.acked = {}     # id -> (status, segment as answered)
        self.other = {}     # id -> status or exception name, for PUTs not acknowledged
        self.lock = threading.Lock()
        self.enough = threading.Event()
        self.stop = threading.Event()
        self.stop_after = stop_after

    def run_one(self, queue):
        conn = None
        for seg_id, body in queue:
            if self.stop.is_set():
                return
            data = json.dumps(body).encode()
            status = None
            for _ in range(2):  # a keep-alive connection the server closed: once more, anew
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                                          timeout=60)
                    conn.request("PUT", f"/api/v1/segments/{seg_id}", body=data,
                                 headers={"Authorization": f"Bearer {self.token}",
                                          "Content-Type": "application/json"})
                    r = conn.getresponse()
                    answer = r.read()
                    status = r.status
                    break
                except (OSError, http.client.HTTPException) as e:
                    error = type(e).__name__
                    if conn:
                        conn.close()
                    conn = None
                    if self.stop.is_set():
                        break
            if status is None:
                with self.lock:
                    self.other[seg_id] = error
                continue
            with self.lock:
                if 200 <= status < 300:
                    self.acked[seg_id] = (status, json.loads(answer)["segment"])
                    if self.stop_after and len(self.acked) >= self.stop_after:
                        self.enough.set()
                else:
                    self.other[seg_id] = (status, answer[:200])
        if conn:
            conn.close()

    def start(self):
        self.threads = [threading.Thread(target=self.run_one, args=(q,), daemon=True)
                        for q in self.queues]
        for t in self.threads:
            t.start()
        return self

    def join(self):
        for t in self.threads:
            t.join(timeout=120)
            assert not t.is_alive(), "an upload thread hangs"


def same_keys(got, answer):
    """What GET shows of the fields an upload's answer had: the answer holds
    the segment as stored; GET adds the week's figures (billable_s, ...)."""
    return {k: got.get(k) for k in answer}


@tap.test
def test_restart_loses_nothing_acknowledged():
    data = tempfile.mkdtemp(prefix="stint-dur-")
    try:
        srv, admin, fl, (cid,) = open_week(data, screenshots_enabled=True)
        bodies = {str(uuid.uuid4()): body_for(cid, slot, slot) for slot in range(40)}
        answers = {}
        for seg_id, body in bodies.items():
            r = srv.put(f"segments/{seg_id}", body, fl["token"])
            eq(r.status, 201, f"upload {r!r}")
            answers[seg_id] = r.json["segment"]
        shot_id = next(iter(bodies))
        r = srv.put(f"segments/{shot_id}/screenshot", token=fl["token"], raw=JPEG,
                    headers={"Content-Type": "image/jpeg"})
        eq(r.status, 201, f"screenshot {r!r}")
        thumb = srv.get(f"segments/{shot_id}/screenshot?size=thumb", fl["token"])
        eq(thumb.status, 200, "thumbnail before the restart")
        answers[shot_id] = srv.get(f"segments/{shot_id}", fl["token"]).json["segment"]
        before = diary(srv, fl["token"], cid)

        srv.stop()  # SIGTERM
        start(srv)
        for seg_id, answer in answers.items():
            r = srv.get(f"segments/{seg_id}", fl["token"])
            eq(r.status, 200, f"segment {seg_id} after the restart")
            eq(same_keys(r.json["segment"], answer), answer, f"segment {seg_id} after the restart")
        r = srv.get(f"segments/{shot_id}/screenshot", fl["token"])
        eq((r.status, r.body), (200, JPEG), "the screenshot's bytes after the restart")
        r = srv.get(f"segments/{shot_id}/screenshot?size=thumb", fl["token"])
        eq((r.status, r.body), (200, thumb.body), "the thumbnail after the restart")
        eq(diary(srv, fl["token"], cid), before, "the diary after the restart")
        check_diary(srv, fl["token"], cid, bodies)
        stop_and_check(srv)
    finally:
        Server.stop_all()
        shutil.rmtree(data, ignore_errors=True)


@tap.test
def test_kill9_mid_burst_then_retry():
    nthreads, ncontracts, per_contract, kill_at = 12, 4, 240, 300
    data = tempfile.mkdtemp(prefix="stint-dur-")
    try:
        srv, admin, fl, cids = open_week(data, ncontracts=ncontracts)
        jobs, bodies, owner = [], {}, {}
        for slot in range(per_contract):
            for k, cid in enumerate(cids):
                seg_id = str(uuid.uuid4())
                bodies[seg_id] = body_for(cid, slot, slot * ncontracts + k,
                                          device=f"dev-{k % 2}")
                owner[seg_id] = cid
                jobs.append((seg_id, bodies[seg_id]))

        up = Uploader(srv, fl["token"], jobs, nthreads, stop_after=kill_at).start()
        assert up.enough.wait(timeout=60), f"only {len(up.acked)} uploads acknowledged"
        srv.kill9()
        up.stop.set()
        up.join()
        acked = dict(up.acked)
        assert len(acked) >= kill_at, len(acked)
        assert len(acked) < len(jobs), "the burst ended before the kill: nothing was cut"
        bad = {k: v for k, v in up.other.items() if isinstance(v, tuple)}
        eq(bad, {}, "uploads refused before the kill")
        eq(set(a[0] for a in acked.values()), {201}, "statuses of first uploads")
        print(f"# kill -9 after {len(acked)} of {len(jobs)} uploads were acknowledged",
              flush=True)

        start(srv)
        stored = {}
        for seg_id, body in bodies.items():
            r = srv.get(f"segments/{seg_id}", fl["token"])
            if seg_id in acked:
                eq(r.status, 200, f"acknowledged segment {seg_id} after kill -9")
                eq(same_keys(r.json["segment"], acked[seg_id][1]), acked[seg_id][1],
           f"acknowledged segment {seg_id}")
            else:
                assert r.status in (200, 404), r
            if r.status == 200:
                same_upload(r.json["segment"], body, seg_id)
                stored[seg_id] = body
        for cid in cids:
            check_diary(srv, fl["token"], cid,
                        {k: v for k, v in stored.items() if owner[k] == cid})
        print(f"# after the restart: {len(stored)} stored ({len(stored) - len(acked)}"
              " not acknowledged)", flush=True)
        stop_and_check(srv)

        # The tracker's retry: every PUT again, acknowledged or not.
        start(srv)
        srv.set_clock(admin["token"], SUNDAY_EVENING)
        retry = Uploader(srv, fl["token"], jobs, nthreads).start()
        retry.join()
        eq(retry.other, {}, "retries not acknowledged")
        for seg_id, (status, seg) in retry.acked.items():
            if seg_id in stored:
                eq(status, 200, f"retry of stored segment {seg_id}")
            else:
                eq(status, 201, f"retry of lost segment {seg_id}")
            if seg_id in acked:
                eq(seg, acked[seg_id][1], f"retry answer of {seg_id}")
        for cid in cids:
            check_diary(srv, fl["token"], cid,
                        {k: v for k, v in bodies.items() if owner[k] == cid})
        stop_and_check(srv)
    finally:
        Server.stop_all()
        shutil.rmtree(data, ignore_errors=True)


@tap.test
def test_full_disk():
    mnt = tempfile.mkdtemp(prefix="stint-dur-tmpfs-")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt],
                       capture_output=True, text=True)
    if p.returncode != 0:
        os.rmdir(mnt)
        raise Skip("no permission to mount")
    try:
        data = os.path.join(mnt, "data")
        os.mkdir(data)
        srv, admin, fl, (cid,) = open_week(data, screenshots_enabled=True)
        st = os.statvfs(mnt)
        filler = os.path.join(mnt, "filler")
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, st.f_bavail * st.f_frsize - 1024 * 1024))

        bodies, acked, shots, refused, kinds = {}, {}, {}, [], []
        slot = 0
        while slot < 900 and len(refused) < 40:
            seg_id = str(uuid.uuid4())
            bodies[seg_id] = body_for(cid, slot, slot)
            r = srv.put(f"segments/{seg_id}", bodies[seg_id], fl["token"])
            slot += 1
            assert r.status in (201, 413, 503), f"upload on a filling disk: {r!r}"
            if r.status == 201:
                acked[seg_id] = r.json["segment"]
                img = jpeg_variant(slot, pad=30000)
                r = srv.put(f"segments/{seg_id}/screenshot", token=fl["token"], raw=img,
                            headers={"Content-Type": "image/jpeg"})
                assert r.status in (201, 413, 503), f"screenshot on a filling disk: {r!r}"
                if r.status == 201:
                    shots[seg_id] = img
            if r.status in (413, 503):
                if r.status == 503:
                    eq(r.error_code, "unavailable", f"error code of {r!r}")
                refused.append(seg_id)
                kinds.append("screenshot" if seg_id in acked else "segment")
            assert srv.proc.poll() is None, "stintd died on a full disk"
        assert refused, "the disk never filled"
        print(f"# disk full: {len(acked)} segments and {len(shots)} screenshots stored,"
              f" {kinds.count('segment')} segment and {kinds.count('screenshot')} screenshot"
              " uploads refused", flush=True)
        eq(srv.get("health").status, 200, "health on a full disk")

        os.unlink(filler)
        for seg_id, body in bodies.items():
            if seg_id not in acked:
                r = srv.put(f"segments/{seg_id}", body, fl["token"])
                eq(r.status, 201, f"upload after freeing space {r!r}")
                acked[seg_id] = r.json["segment"]
        for seg_id in refused:
            if seg_id not in shots:
                img = jpeg_variant(10000 + len(shots))
                r = srv.put(f"segments/{seg_id}/screenshot", token=fl["token"], raw=img,
                            headers={"Content-Type": "image/jpeg"})
                eq(r.status, 201, f"screenshot after freeing space {r!r}")
                shots[seg_id] = img

        for restarted in (False, True):
            for seg_id, body in bodies.items():
                r = srv.get(f"segments/{seg_id}", fl["token"])
                eq(r.status, 200, f"segment {seg_id} (restarted: {restarted})")
                same_upload(r.json["segment"], body, seg_id)
                eq(r.json["segment"]["received_at"], acked[seg_id]["received_at"], seg_id)
            for seg_id, img in shots.items():
                r = srv.get(f"segments/{seg_id}/screenshot", fl["token"])
                eq((r.status, r.body == img), (200, True), f"screenshot of {seg_id}")
            check_diary(srv, fl["token"], cid, bodies)
            stop_and_check(srv)
            if not restarted:
                start(srv)
    finally:
        Server.stop_all()
        subprocess.run(["umount", "-l", mnt], capture_output=True)
        shutil.rmtree(mnt, ignore_errors=True)


tap.main()
