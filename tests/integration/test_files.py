#!/usr/bin/env python3
"""Files in messages, as users notice them: uploads streamed to disk (a
50 MB file comes back byte for byte while stintd's memory stays flat), the
size cap answered early, names that cannot climb out or hide their
extension, types sniffed from the bytes and offered only as attachments,
thumbnails of images, and who may fetch a file (its uploader, and the
members of a room where a message carries it; a deleted message takes it
away from the others).

Each test runs a real stintd on loopback with its own data dir. Needs
STINT_BUILD_ROOT (set by meson). Prints TAP.
"""
import hashlib
import http.client
import json
import os
import re
import struct
import subprocess
import tempfile
import time
import urllib.parse
import uuid
import zlib

from harness import (RawConn, Response, Server, current_slot, eq, expect_error, image_bytes,
                     rfc3339, segment_body, tap)

MB = 1000 * 1000


def upload(srv, token, data, name="file.bin", headers=None, encoded_name=None):
    h = {"X-Filename": encoded_name if encoded_name is not None
         else urllib.parse.quote(name, safe="")}
    h.update(headers or {})
    return srv.request("POST", "files", raw=data, token=token, headers=h)


def upload_ok(srv, token, data, name="file.bin", **kw):
    r = upload(srv, token, data, name, **kw)
    eq(r.status, 201, f"upload of {name!r}: {r!r}")
    return r.json["file"]


def vm_hwm_kb(srv):
    """The peak resident memory of the stintd process, in kB."""
    with open(f"/proc/{srv.proc.pid}/status") as fp:
        for line in fp:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/PID/status")


def tmp_blobs(srv):
    """Temporary files of the blob store: uploads in progress or left behind."""
    d = os.path.join(srv.data, "blobs")
    return [n for n in os.listdir(d) if n.startswith("tmp-")] if os.path.isdir(d) else []


def wait_for(pred, what, timeout=20):
    """Polls pred (a state the server reaches on its own) until it holds."""
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def image_size(data):
    """(width, height) of an image, by ImageMagick's identify."""
    r = subprocess.run(["identify", "-format", "%w %h", "-"], input=data, capture_output=True,
                       timeout=60, check=True)
    w, h = r.stdout.split()
    return int(w), int(h)


_world = {}


def world():
    """One shared server: client A and freelancer F with a contract (room
    "c-" + its id), and an outsider O. Built once per run (sign-ups cost an
    argon2id hash each)."""
    if not _world:
        srv = Server(shared=True)
        a = srv.user("client", name="Ann Uploader")
        f = srv.user("freelancer", name="Fay Member")
        o = srv.user("freelancer", name="Otto Outsider")
        c = srv.contract(a, f)
        _world.update(srv=srv, A=a, F=f, O=o, room=f"c-{c['id']}")
    return _world


# ---- Streaming ----

@tap.test
def test_50mb_upload_comes_back_identical_with_memory_bounded():
    # The account is made by another stintd on the same data dir: signing up
    # hashes with argon2id (64 MiB), which would set the peak measured here.
    first = Server()
    u = first.user("client")
    first.owns_data = False
    first.stop()
    srv = Server(data=first.data)
    srv.owns_data = True
    size = 50 * 1024 * 1024
    digest = hashlib.sha256()
    with tempfile.TemporaryFile() as fp:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            digest.update(chunk)
            fp.write(chunk)
            left -= len(chunk)
        fp.seek(0)
        before = vm_hwm_kb(srv)
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
        conn.request("POST", "/api/v1/files", body=fp,
                     headers={"Authorization": f"Bearer {u['token']}",
                              "X-Filename": "big.bin", "Content-Length": str(size),
                              "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        body = r.read()
        conn.close()
    eq(r.status, 201, f"upload: {body[:300]!r}")
    f = json.loads(body)["file"]
    eq(f["size"], size, "size")
    eq(f["name"], "big.bin", "name")
    assert "thumb_url" not in f, f
    grown = vm_hwm_kb(srv) - before
    assert grown < 20 * 1024, f"stintd's peak memory grew by {grown} kB for a 50 MiB upload"

    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=120)
    conn.request("GET", f["url"], headers={"Authorization": f"Bearer {u['token']}"})
    r = conn.getresponse()
    eq(r.status, 200, "download")
    eq(int(r.getheader("Content-Length")), size, "Content-Length")
    back = hashlib.sha256()
    n = 0
    while True:
        chunk = r.read(1 << 20)
        if not chunk:
            break
        back.update(chunk)
        n += len(chunk)
    conn.close()
    eq(n, size, "bytes downloaded")
    eq(back.hexdigest(), digest.hexdigest(), "the download is the upload")
    grown = vm_hwm_kb(srv) - before
    print(f"# stintd's peak memory grew by {grown} kB for a 50 MiB upload and download",
          flush=True)
    assert grown < 20 * 1024, f"stintd's peak memory grew by {grown} kB after the download"
    eq(tmp_blobs(srv), [], "temporary files left in the blob store")


@tap.test
def test_chunked_upload_is_streamed_too():
    w = world()
    data = os.urandom(3 * MB + 17)
    pieces = [data[i:i + 100000] for i in range(0, len(data), 100000)]
    conn = http.client.HTTPConnection("127.0.0.1", w["srv"].port, timeout=60)
    conn.request("POST", "/api/v1/files", body=iter(pieces), encode_chunked=True,
                 headers={"Authorization": f"Bearer {w['A']['token']}",
                          "X-Filename": "chunked.bin", "Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    eq(r.status, 201, f"chunked upload: {body[:300]!r}")
    f = json.loads(body)["file"]
    eq(f["size"], len(data), "size")
    g = w["srv"].get(f["url"], w["A"]["token"])
    eq(g.status, 200, "download")
    assert g.body == data, "the download is not the upload"


@tap.test
def test_content_length_over_the_cap_is_refused_before_the_body():
    srv = Server("--max-file-mb", "1")
    u = srv.user("client")
    with RawConn(srv.port, timeout=10) as c:
        # Only the headers: the answer must come without a byte of the body.
        c.send(("POST /api/v1/files HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {u['token']}\r\nX-Filename: big.bin\r\n"
                "Content-Length: 1000001\r\n\r\n").encode())
        r = c.read_response(timeout=10)
    expect_error(r, 413, "too_large", "Content-Length over --max-file-mb")
    # Exactly the cap is taken.
    f = upload_ok(srv, u["token"], os.urandom(MB), "exact.bin")
    eq(f["size"], MB, "a file of exactly max_file_mb")
    eq(tmp_blobs(srv), [], "temporary files left")


@tap.test
def test_chunked_body_passing_the_cap_is_refused():
    srv = Server("--max-file-mb", "1")
    u = srv.user("client")
    # A body that ends soon after the cap: the 413 comes once it has ended.
    data = os.urandom(MB + MB // 2)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    conn.request("POST", "/api/v1/files", body=iter([data[i:i + 65536]
                                                     for i in range(0, len(data), 65536)]),
                 encode_chunked=True,
                 headers={"Authorization": f"Bearer {u['token']}", "X-Filename": "big.bin",
                          "Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    r = Response(r.status, dict(r.getheaders()), r.read())
    conn.close()
    expect_error(r, 413, "too_large", "a chunked body 50 % over the cap")
    eq(tmp_blobs(srv), [], "temporary files left")

    # A body that goes on and on: the upload is dropped as the cap passes
    # (its temporary file goes while the client still sends), and the
    # connection is closed soon after; the client cannot make it read more.
    c = RawConn(srv.port, timeout=30)
    c.send(("POST /api/v1/files HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {u['token']}\r\nX-Filename: big.bin\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode())
    piece = os.urandom(64 * 1024)
    sent = 0
    began = False
    while sent < 40 * MB:
        if not c.send(b"%x\r\n" % len(piece) + piece + b"\r\n"):
            break
        sent += len(piece)
        began = began or tmp_blobs(srv) != []
        if sent == MB + 3 * len(piece):
            wait_for(lambda: tmp_blobs(srv) == [], "the upload past the cap to be dropped")
    c.close()
    assert began, "the upload never began"
    assert sent < 20 * MB, f"the server kept reading a body past its cap: {sent} bytes"
    eq(tmp_blobs(srv), [], "temporary files left")
    eq(srv.get("health").status, 200, "the server after")


@tap.test
def test_client_gone_mid_upload_leaves_nothing():
    # libmicrohttpd on epoll may see a client vanish mid-body only at the
    # connection timeout; a short one keeps the test short.
    srv = Server(env={"STINTD_CONNECTION_TIMEOUT": "2"})
    u = srv.user("client")
    with RawConn(srv.port, timeout=10) as c:
        c.send(("POST /api/v1/files HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {u['token']}\r\nX-Filename: cut.bin\r\n"
                f"Content-Length: {5 * MB}\r\n\r\n").encode())
        c.send(os.urandom(MB))
        # The upload has begun once its temporary file exists.
        wait_for(lambda: tmp_blobs(srv) != [], "the upload to begin")
    wait_for(lambda: tmp_blobs(srv) == [], "the cut upload's temporary file to go")
    f = upload_ok(srv, u["token"], b"still works", "after.txt")
    eq(f["size"], 11, "an upload after")


# ---- Names, types, headers ----

NAMES = [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\boot.ini", "boot.ini"),
    ("a/b/c.txt", "c.txt"),
    ("C:\\Users\\ann\\report.pdf", "report.pdf"),
    ("bad\x01\x1f\x7fname\x1b[31m.txt", "badname[31m.txt"),
    ("tab\there\r\n.txt", "tabhere.txt"),
    ("c1\u0085\u009bcontrols", "c1controls"),
    ("...hidden", "hidden"),
    ("  . spaced out .  ", "spaced out"),
    ('we:ird*?"<>|.txt', "weird.txt"),
    ("x" * 300, "x" * 255),
    ("é" * 150, "é" * 127),
    ("שלום עולם.txt", "שלום עולם.txt"),
    ("😀 party 🎉.png", "😀 party 🎉.png"),
    ("invoice\u202Efdp.exe", "invoicefdp.exe"),
    ("..", "file"),
    ("/", "file"),
    ("dir/", "file"),
    ("\x01\x02", "file"),
]


@tap.test
def test_names_keep_their_last_part_without_tricks():
    w = world()
    tok = w["A"]["token"]
    for raw, want in NAMES:
        f = upload_ok(w["srv"], tok, b"hello", raw)
        eq(f["name"], want, f"the name of {raw!r}")
        assert len(f["name"].encode()) <= 255, f["name"]
        g = w["srv"].get(f["url"], tok)
        eq(g.status, 200, f"download of {raw!r}")
        cd = g.headers.get("Content-Disposition", "")
        m = re.fullmatch(r'attachment; filename="([\x20-\x7e]*)"; filename\*=UTF-8\'\'(\S+)', cd)
        assert m, f"Content-Disposition of {raw!r}: {cd!r}"
        assert '"' not in m.group(1) and "\\" not in m.group(1), cd
        eq(urllib.parse.unquote(m.group(2), errors="strict"), want,
           f"filename* of {raw!r}")


@tap.test
def test_bad_names_are_refused():
    w = world()
    tok = w["A"]["token"]
    r = w["srv"].request("POST", "files", raw=b"hello", token=tok)
    expect_error(r, 400, "invalid_argument", "no X-Filename")
    for enc, what in [("%FF%FEname", "not UTF-8"), ("%C3", "a cut UTF-8 sequence"),
                      ("a%G1", "a broken escape"), ("a%2", "an escape cut short"),
                      ("a%00b", "a NUL"), ("", "empty"),
                      ("a" * 1025, "longer than 1024 bytes")]:
        r = upload(w["srv"], tok, b"hello", encoded_name=enc)
        expect_error(r, 400, "invalid_argument", f"X-Filename {what}")
    # 1024 bytes is still fine (and cut to 255).
    f = upload_ok(w["srv"], tok, b"hello", encoded_name="b" * 1024)
    eq(f["name"], "b" * 255, "a 1024-byte name")
    r = upload(w["srv"], tok, b"", "empty.txt")
    expect_error(r, 400, "invalid_argument", "an empty body")


@tap.test
def test_type_is_sniffed_not_taken_from_the_client():
    w = world()
    tok = w["A"]["token"]
    png = image_bytes("png", 40, 30, "green")
    f = upload_ok(w["srv"], tok, png, "x.txt", headers={"Content-Type": "text/plain"})
    eq(f["type"], "image/png", "a PNG called x.txt")
    eq(f["name"], "x.txt", "name kept")
    g = w["srv"].get(f["url"], tok)
    eq(g.headers.get("Content-Type"), "image/png", "download type")
    eq(g.body, png, "bytes")
    f = upload_ok(w["srv"], tok, b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "a.png",
                  headers={"Content-Type": "image/png"})
    eq(f["type"], "application/pdf", "a PDF called a.png")
    assert "thumb_url" not in f, f


@tap.test
def test_html_is_only_ever_an_attachment_in_a_sandbox():
    w = world()
    tok = w["A"]["token"]
    html = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
    for name in ("page.html", "page.jpg", "page"):
        f = upload_ok(w["srv"], tok, html, name, headers={"Content-Type": "image/jpeg"})
        g = w["srv"].get(f["url"], tok)
        eq(g.status, 200, "download")
        assert g.headers.get("Content-Disposition", "").startswith("attachment;"), g.headers
        eq(g.headers.get("Content-Security-Policy"), "sandbox", "CSP")
        eq(g.headers.get("X-Content-Type-Options"), "nosniff", "nosniff")
        eq(g.body, html, "bytes")
        assert g.headers.get("Content-Type") in ("text/html", "text/plain"), g.headers


# ---- Thumbnails ----

@tap.test
def test_images_get_thumbnails_others_do_not():
    w = world()
    tok = w["A"]["token"]
    for fmt, size in (("jpg", (1600, 900)), ("png", (800, 1200)), ("webp", (640, 400)),
                      ("png", (100, 50))):
        data = image_bytes(fmt, size[0], size[1], "blue")
        f = upload_ok(w["srv"], tok, data, f"pic.{fmt}")
        assert "thumb_url" in f, f"no thumbnail for a {fmt}: {f}"
        eq(f["thumb_url"], f["url"] + "/thumb", "thumb_url")
        t = w["srv"].get(f["thumb_url"], tok)
        eq(t.status, 200, f"{fmt} thumbnail")
        eq(t.headers.get("Content-Type"), "image/jpeg", "thumbnail type")
        assert t.body[:3] == b"\xff\xd8\xff", "the thumbnail is not a JPEG"
        tw, th = image_size(t.body)
        assert tw <= 320 and th <= 200, (fmt, tw, th)
        assert max(tw / 320, th / 200) > 0.99 or size[0] <= 320, (fmt, size, tw, th)
        eq(w["srv"].get(f["url"], tok).body, data, f"the {fmt} itself")
    # A PNG with transparency is laid over white, not black.
    data = image_bytes("png", 300, 300, "none")
    f = upload_ok(w["srv"], tok, data, "clear.png")
    t = w["srv"].get(f["thumb_url"], tok)
    r = subprocess.run(["convert", "jpg:-", "-format", "%[fx:mean]", "info:"], input=t.body,
                       capture_output=True, timeout=60, check=True)
    assert float(r.stdout) > 0.9, f"transparent PNG thumbnail mean {r.stdout!r}"

    f = upload_ok(w["srv"], tok, b"just text\n", "notes.txt")
    assert "thumb_url" not in f, f
    expect_error(w["srv"].get(f["url"] + "/thumb", tok), 404, "not_found", "thumb of a text")


@tap.test
def test_broken_and_huge_images_are_files_without_thumbnails():
    w = world()
    tok = w["A"]["token"]
    png = image_bytes("png", 64, 64, "red")
    # A PNG whose header claims 100000 x 100000 pixels: never decoded.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    bomb = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr +
            struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:])
    cases = [("bomb.png", bomb), ("cut.png", png[:len(png) // 2]),
             ("cut.jpg", image_bytes("jpg", 400, 300, "red")[:300]),
             ("garbage.png", png[:40] + os.urandom(2000))]
    for name, data in cases:
        f = upload_ok(w["srv"], tok, data, name)
        assert "thumb_url" not in f, f"{name}: {f}"
        eq(w["srv"].get(f["url"], tok).body, data, f"{name} comes back as it went")
    eq(w["srv"].get("health").status, 200, "the server after")


# ---- Who may fetch ----

def post_message(srv, token, room, text, file_ids):
    r = srv.post(f"rooms/{room}/messages", {"text": text, "file_ids": file_ids}, token)
    eq(r.status, 201, f"posting a message with files: {r!r}")
    return r.json["message"]


@tap.test
def test_outsiders_get_the_404_of_an_unknown_file():
    w = world()
    srv, a, o = w["srv"], w["A"], w["O"]
    f = upload_ok(srv, a["token"], image_bytes("jpg", 200, 100), "secret.jpg")
    unknown = str(uuid.uuid4())
    for suffix in ("", "/thumb"):
        r = srv.get(f"files/{f['id']}{suffix}", o["token"])
        expect_error(r, 404, "not_found", f"outsider GET /files/ID{suffix}")
        r2 = srv.get(f"files/{unknown}{suffix}", o["token"])
        eq((r.status, r.body), (r2.status, r2.body), f"outsider{suffix} vs an unknown id")
        assert b"secret" not in r.body, r
    expect_error(srv.get("files/not-a-uuid", a["token"]), 404, "not_found", "not a uuid")
    expect_error(srv.get(f"files/{f['id']}"), 401, "unauthenticated", "no token")
    r = srv.request("POST", "files", raw=b"x", headers={"X-Filename": "a"})
    expect_error(r, 401, "unauthenticated", "upload without a token")


@tap.test
def test_uploader_fetches_before_posting_members_after():
    w = world()
    srv, a, f_, o, room = w["srv"], w["A"], w["F"], w["O"], w["room"]
    jpg = image_bytes("jpg", 640, 480, "orange")
    f = upload_ok(srv, a["token"], jpg, "plan.jpg")
    eq(srv.get(f["url"], a["token"]).body, jpg, "the uploader before posting")
    expect_error(srv.get(f["url"], f_["token"]), 404, "not_found", "a member before posting")
    expect_error(srv.get(f["thumb_url"], f_["token"]), 404, "not_found",
                 "a member's thumb before posting")

    m = post_message(srv, a["token"], room, "the plan", [f["id"]])
    eq([x["id"] for x in m["files"]], [f["id"]], "the message's files")
    g = srv.get(f["url"], f_["token"])
    eq((g.status, g.body), (200, jpg), "a member after posting")
    t = srv.get(f["thumb_url"], f_["token"])
    eq(t.status, 200, "a member's thumb after posting")
    expect_error(srv.get(f["url"], o["token"]), 404, "not_found", "an outsider after posting")

    r = srv.get(f"rooms/{room}/files", f_["token"])
    eq(r.status, 200, f"the room's files: {r!r}")
    listed = [x for x in r.json["files"] if x["id"] == f["id"]]
    eq(len(listed), 1, "the file in the room's list")
    x = listed[0]
    eq((x["message_id"], x["author"]["id"], x["author"]["name"], x["name"], x["size"],
        x["type"], x["url"]), (m["id"], a["id"], "Ann Uploader", "plan.jpg", len(jpg),
                               "image/jpeg", f["url"]), "the listed file")
    assert x["posted_at"] and x["created_at"], x
    expect_error(srv.get(f"rooms/{room}/files", o["token"]), 404, "not_found",
                 "an outsider's room files")
    r2 = srv.get(f"rooms/c-{uuid.uuid4()}/files", o["token"])
    eq(r2.body, srv.get(f"rooms/{room}/files", o["token"]).body, "vs an unknown room")


@tap.test
def test_a_deleted_message_takes_its_files_away_from_the_others():
    w = world()
    srv, a, f_, room = w["srv"], w["A"], w["F"], w["room"]
    png = image_bytes("png", 300, 200, "purple")
    f1 = upload_ok(srv, a["token"], png, "one.png")
    f2 = upload_ok(srv, a["token"], b"second file", "two.txt")
    m = post_message(srv, a["token"], room, "", [f1["id"], f2["id"]])
    later = post_message(srv, a["token"], room, "again", [f2["id"]])
    r = srv.get(f"rooms/{room}/files", f_["token"])
    ids = [(x["message_id"], x["id"]) for x in r.json["files"]]
    eq(ids[:3], [(later["id"], f2["id"]), (m["id"], f1["id"]), (m["id"], f2["id"])],
       "newest first, in attachment order")
    eq(srv.get(f1["url"], f_["token"]).status, 200, "a member before the delete")

    d = srv.delete(f"messages/{m['id']}", a["token"])
    eq(d.status, 204, f"delete: {d!r}")
    expect_error(srv.get(f1["url"], f_["token"]), 404, "not_found", "a member after the delete")
    expect_error(srv.get(f1["thumb_url"], f_["token"]), 404, "not_found", "thumb after delete")
    eq(srv.get(f2["url"], f_["token"]).status, 200, "a file still carried by another message")
    eq(srv.get(f1["url"], a["token"]).body, png, "the uploader keeps their file")
    r = srv.get(f"rooms/{room}/files", f_["token"])
    ids = [(x["message_id"], x["id"]) for x in r.json["files"]]
    assert (m["id"], f1["id"]) not in ids and (m["id"], f2["id"]) not in ids, ids
    assert (later["id"], f2["id"]) in ids, ids


@tap.test
def test_deleting_a_screenshot_keeps_a_file_of_the_same_bytes():
    """Blobs are named by their content: a file may be the very bytes of a
    screenshot (and so share its thumbnail). Deleting the segment must not
    take the file's bytes with it."""
    srv = Server(segment_s=60)
    a = srv.user("client")
    fl = srv.user("freelancer")
    c = srv.contract(a, fl)
    shot = image_bytes("jpg", 640, 400, "teal")
    sid = str(uuid.uuid4())
    slot = current_slot(60)
    r = srv.put(f"segments/{sid}", segment_body(c["id"], slot, 60, seg_id=sid, screenshot={
        "taken_at": rfc3339(slot), "status": "ok"}), fl["token"])
    eq(r.status, 201, f"segment: {r!r}")
    r = srv.put(f"segments/{sid}/screenshot", raw=shot, token=fl["token"],
                headers={"Content-Type": "image/jpeg"})
    eq(r.status, 201, f"screenshot: {r!r}")
    f = upload_ok(srv, fl["token"], shot, "same.jpg")
    thumb = srv.get(f["thumb_url"], fl["token"])
    eq(thumb.status, 200, "the file's thumbnail")
    eq(srv.delete(f"segments/{sid}", fl["token"]).status, 204, "segment delete")
    g = srv.get(f["url"], fl["token"])
    eq((g.status, g.body == shot), (200, True), "the file after the segment's delete")
    t = srv.get(f["thumb_url"], fl["token"])
    eq((t.status, t.body == thumb.body), (200, True), "its thumbnail after")


if __name__ == "__main__":
    tap.main()
