#!/usr/bin/env python3
"""Hostile input: malformed, oversized, tricky and slow requests. Each must
get a 4xx with a JSON error body {"error":{"code","message"}} (bad input is
never a 500), and the server must stay up and keep serving others.

Low-level cases (size caps before the body, chunked bodies, stalled and
pipelined connections) use raw sockets. Every wait has a timeout; nothing
sleeps to synchronise.

Not here: who may do what (test_authz.py).
"""
import json
import os
import shutil
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (Server, tap, current_slot, segment_body, rfc3339, now, eq,  # noqa: E402
                     jpeg, expect_error, RawConn, raw_request, admin_add)

SEG_S = 60
MAX_JSON = 1024 * 1024
MAX_SHOT = 4 * 1024 * 1024
PROMPT_S = 5  # "promptly": far above a normal answer on loopback, far below any timeout


class Fixture:
    def __init__(self):
        srv = self.srv = Server(segment_s=SEG_S, shared=True)
        self.A = srv.user("client")
        self.F = srv.user("freelancer")
        self.C = srv.contract(self.A, self.F, title="Hostile input", tags=["design"])
        self.slot = current_slot(SEG_S)
        self.S = str(uuid.uuid4())
        r = srv.put(f"segments/{self.S}",
                    segment_body(self.C["id"], self.slot, SEG_S, seg_id=self.S,
                                 tags=["design"], memo="Secret memo",
                                 screenshot={"taken_at": rfc3339(self.slot), "status": "ok"}),
                    self.F["token"])
        assert r.status == 201, r
        self.jpeg = jpeg()

    def seg_body(self, **changes):
        b = segment_body(self.C["id"], self.slot, SEG_S, tags=["design"])
        b.update(changes)
        return b


_fixture = None


def fx():
    global _fixture
    if _fixture is None:
        _fixture = Fixture()
    return _fixture


def alive(f, what=""):
    """The server answers /health promptly."""
    r = f.srv.request("GET", "/api/v1/health", timeout=PROMPT_S)
    assert r.status == 200 and r.json["status"] == "ok", f"{what}: the server is not healthy: {r!r}"


def hostile(f, method, path, body=None, raw=None, token="F", status=400,
            code="invalid_argument", what=None, headers=None):
    """Sends one bad request; asserts the JSON error and that the server is up."""
    tok = {"A": f.A["token"], "F": f.F["token"], None: None}[token]
    h = dict(headers or {})
    if raw is not None:
        h.setdefault("Content-Type", "application/json")
    r = f.srv.request(method, path, body=body, raw=raw, token=tok, headers=h, timeout=30)
    what = what or f"{method} {path} {(raw if raw is not None else json.dumps(body))[:80]!r}"
    expect_error(r, status, code, what)
    alive(f, what)
    return r


def cases_for_every_json_route(f):
    """(method, path, token, a valid body) for each route that reads JSON.
    The bodies are valid but do no harm if one of them were accepted."""
    sid = str(uuid.uuid4())
    return [
        ("POST", "/api/v1/signup", None,
         {"email": "x@example.com", "password": "0123456789", "name": "X", "role": "client"}),
        ("POST", "/api/v1/login", None, {"email": "x@example.com", "password": "0123456789"}),
        ("POST", "/api/v1/contracts", "A",
         {"freelancer_email": f.F["email"], "title": "T", "hourly_rate_cents": 1,
          "currency": "USD"}),
        ("PATCH", f"/api/v1/contracts/{f.C['id']}", "A", {"title": "Hostile input"}),
        ("POST", f"/api/v1/contracts/{f.C['id']}/manual", "F",
         {"start": rfc3339(f.slot), "end": rfc3339(f.slot + 10), "memo": "m"}),
        ("PUT", f"/api/v1/segments/{sid}", "F", f.seg_body()),
        ("PATCH", f"/api/v1/segments/{f.S}", "F", {"memo": "Secret memo"}),
    ]


# ---- JSON bodies ----

@tap.test
def wrong_json_types():
    f = fx()
    seg = f.S
    c = f.C["id"]
    bad = [
        ("POST", "signup", None, {"email": 123, "password": "0123456789", "name": "X",
                                  "role": "client"}),
        ("POST", "signup", None, {"email": "a@b.co", "password": True, "name": "X",
                                  "role": "client"}),
        ("POST", "signup", None, {"email": "a@b.co", "password": "0123456789", "name": ["X"],
                                  "role": "client"}),
        ("POST", "signup", None, {"email": "a@b.co", "password": "0123456789", "name": "X",
                                  "role": {"client": 1}}),
        ("POST", "signup", None, {"email": "a@b.co", "password": "0123456789", "name": "X",
                                  "role": "client", "timezone": 5}),
        ("POST", "login", None, {"email": None, "password": "x"}),
        ("POST", "login", None, {"email": "a@b.co", "password": 1234567890}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": "4500", "currency": "USD"}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": 45.5, "currency": "USD"}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": 1, "currency": 840}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": 1, "currency": "USD",
                                    "manual_time_allowed": "yes"}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": 1, "currency": "USD", "tags": "a"}),
        ("POST", "contracts", "A", {"freelancer_email": f.F["email"], "title": "T",
                                    "hourly_rate_cents": 1, "currency": "USD", "tags": [1]}),
        ("PATCH", f"contracts/{c}", "A", {"weekly_limit_s": True}),
        ("PATCH", f"contracts/{c}", "A", {"title": 7}),
        ("PATCH", f"contracts/{c}", "A", {"tags": [None]}),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(minutes="x")),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(minutes=list(range(10)))),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(minutes=[{}] * 10)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(start=int(f.slot))),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(memo=5)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(flags="idle_kept")),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(screenshot="ok")),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(contract_id=5)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(tags=[None])),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(device_id=["d"])),
        ("PATCH", f"segments/{seg}", "F", {"memo": 5}),
        ("PATCH", f"segments/{seg}", "F", {"tags": "design"}),
        ("POST", f"contracts/{c}/manual", "F", {"start": 5, "end": 6, "memo": "m"}),
    ]
    b = f.seg_body()
    b["minutes"][3]["tracked_s"] = "6"
    bad.append(("PUT", f"segments/{uuid.uuid4()}", "F", b))
    b = f.seg_body()
    b["minutes"][0]["keys"] = 1.0
    bad.append(("PUT", f"segments/{uuid.uuid4()}", "F", b))
    for method, path, tok, body in bad:
        hostile(f, method, "/api/v1/" + path, body=body, token=tok)
    # Bodies that are not one JSON object, on every route that reads JSON.
    for method, path, tok, _ in cases_for_every_json_route(f):
        for raw in [b"", b" ", b"[]", b"null", b"1", b'"str"', b"true", b"{", b"{}}",
                    b'{"a":1} trailing', b"{'a':1}", b"{a:1}", b'{"a":1,}', b"\xef\xbb\xbf{}",
                    b'{"email":"a@b.co","email":"c@d.co"}', b"{" * 3 + b"}" * 3, b"NaN"]:
            hostile(f, method, path, raw=raw, token=tok)


@tap.test
def unknown_fields():
    f = fx()
    c = f.C["id"]
    base_signup = {"email": f"u-{uuid.uuid4().hex[:8]}@example.com", "password": "0123456789",
                   "name": "X", "role": "client"}
    base_contract = {"freelancer_email": f.F["email"], "title": "T", "hourly_rate_cents": 1,
                     "currency": "USD"}
    bad = [
        ("POST", "signup", None, dict(base_signup, admin=True)),
        ("POST", "signup", None, dict(base_signup, id_verified=True)),
        ("POST", "signup", None, dict(base_signup, id="00000000-0000-0000-0000-000000000000")),
        ("POST", "signup", None, dict(base_signup, Email="x@example.com")),
        ("POST", "login", None, {"email": "a@b.co", "password": "0123456789", "role": "admin"}),
        ("POST", "contracts", "A", dict(base_contract, state="active")),
        ("POST", "contracts", "A", dict(base_contract, client_id=f.A["id"])),
        ("POST", "contracts", "A", dict(base_contract, tittle="typo")),
        ("PATCH", f"contracts/{c}", "A", {"state": "ended"}),
        ("PATCH", f"contracts/{c}", "A", {"hourly_rate_cents": 1}),
        ("PATCH", f"contracts/{c}", "A", {"freelancer_email": "x@example.com"}),
        ("PATCH", f"contracts/{c}", "A", {"title": "Hostile input", "memo_required": False}),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(received_at=rfc3339(now()))),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(deleted=False)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(tracked_s=600)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(activity=10)),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(flags=["manual"])),
        ("PUT", f"segments/{uuid.uuid4()}", "F", f.seg_body(flags=["no_such_flag"])),
        ("PUT", f"segments/{uuid.uuid4()}", "F",
         f.seg_body(screenshot={"taken_at": rfc3339(f.slot), "status": "ok", "url": "x"})),
        ("PATCH", f"segments/{f.S}", "F", {"deleted": True}),
        ("PATCH", f"segments/{f.S}", "F", {"memo": "Secret memo", "tracked_s": 0}),
        ("POST", f"contracts/{c}/manual", "F",
         {"start": rfc3339(f.slot), "end": rfc3339(f.slot + 10), "memo": "m", "manual": True}),
    ]
    b = f.seg_body()
    b["minutes"][0]["foo"] = 1
    bad.append(("PUT", f"segments/{uuid.uuid4()}", "F", b))
    for method, path, tok, body in bad:
        hostile(f, method, "/api/v1/" + path, body=body, token=tok)
    # Signing up as an admin is not an unknown field but a value no one may choose.
    hostile(f, "POST", "/api/v1/signup", body=dict(base_signup, role="admin"), token=None)


BAD_UTF8 = [
    (b"\xff", "an invalid byte"),
    (b"\xfe\xff", "a UTF-16 mark"),
    (b"\x80", "a lone continuation byte"),
    (b"\xc3", "a truncated sequence"),
    (b"\xe2\x82", "a truncated sequence"),
    (b"a\xc3(b", "a bad continuation"),
    (b"\xf8\x88\x80\x80\x80", "a 5-byte form"),
]
OVERLONG_UTF8 = [
    (b"\xc0\xaf", "overlong '/'"),
    (b"\xc1\xbf", "overlong U+007F"),
    (b"\xe0\x80\xaf", "overlong '/' in 3 bytes"),
    (b"\xf0\x80\x80\xaf", "overlong '/' in 4 bytes"),
    (b"\xc0\x80", "overlong NUL"),
    (b"\xed\xa0\x80", "a UTF-16 surrogate"),
    (b"\xf4\x90\x80\x80", "past U+10FFFF"),
]


def utf8_cases(f, seqs):
    for seq, what in seqs:
        for method, path, tok, body in cases_for_every_json_route(f):
            # Into the first string value, and into a key.
            text = json.dumps(body).encode()
            i = text.index(b'": "') + 4
            hostile(f, method, path, raw=text[:i] + seq + text[i:], token=tok,
                    what=f"{method} {path}: {what} in a value")
            hostile(f, method, path, raw=b'{"' + seq + b'": 1}', token=tok,
                    what=f"{method} {path}: {what} in a key")


@tap.test
def invalid_utf8_in_json_strings():
    utf8_cases(fx(), BAD_UTF8)


@tap.test
def overlong_utf8_and_surrogates():
    f = fx()
    utf8_cases(f, OVERLONG_UTF8)
    # The same as JSON escapes: lone and reversed surrogates.
    for esc in [b"\\ud800", b"\\udc00", b"\\udc00\\ud800", b"\\ud800x"]:
        hostile(f, "PATCH", f"/api/v1/segments/{f.S}", raw=b'{"memo":"a' + esc + b'"}')


@tap.test
def nul_characters():
    f = fx()
    for method, path, tok, body in cases_for_every_json_route(f):
        text = json.dumps(body).encode()
        i = text.index(b'": "') + 4
        hostile(f, method, path, raw=text[:i] + b"\\u0000" + text[i:], token=tok,
                what=f"{method} {path}: \\u0000 in a value")
        hostile(f, method, path, raw=text[:i] + b"\x00" + text[i:], token=tok,
                what=f"{method} {path}: a NUL byte in a value")
        hostile(f, method, path, raw=b'{"a\\u0000": 1}', token=tok,
                what=f"{method} {path}: \\u0000 in a key")
    # The segment memo, a tag, the title: the strings that are stored and shown.
    hostile(f, "PATCH", f"/api/v1/segments/{f.S}", body={"memo": "a\u0000b"})
    hostile(f, "PATCH", f"/api/v1/segments/{f.S}", body={"tags": ["des\u0000ign"]})
    hostile(f, "PATCH", f"/api/v1/contracts/{f.C['id']}", body={"title": "x\u0000y"},
            token="A")


@tap.test
def deeply_nested_json():
    f = fx()
    for depth in (17, 100, 10000):
        for method, path, tok, _ in cases_for_every_json_route(f):
            hostile(f, method, path, raw=b'{"a":' * depth + b"1" + b"}" * depth, token=tok,
                    what=f"{method} {path}: objects {depth} deep")
            hostile(f, method, path, raw=b'{"tags":' + b"[" * depth + b"]" * depth + b"}",
                    token=tok, what=f"{method} {path}: arrays {depth} deep")
    # Unclosed nesting that never ends within the cap.
    hostile(f, "PATCH", f"/api/v1/segments/{f.S}", raw=b'{"tags":' + b"[" * 500000)
    # Wide rather than deep: 100 000 tags (about 600 KB, under the cap).
    hostile(f, "PATCH", f"/api/v1/segments/{f.S}",
            raw=b'{"tags":[' + b",".join(b'"t%d"' % i for i in range(100000)) + b"]}")


@tap.test
def huge_and_negative_numbers():
    f = fx()
    c = f.C["id"]

    def contract(v, field="hourly_rate_cents"):
        b = {"freelancer_email": f.F["email"], "title": "T", "hourly_rate_cents": 1,
             "currency": "USD"}
        text = json.dumps(b).replace(f'"{field}": 1', f'"{field}": {v}')
        if field not in b:
            text = text[:-1] + f', "{field}": {v}}}'
        return text.encode()

    for v in ["1e400", "-1e400", "99999999999999999999", "-99999999999999999999",
              "9223372036854775807", "9223372036854775808", "-9223372036854775808", "1e308",
              "-1", "1.5", "0.0", "1E2", "-0.0", "100000001"]:
        hostile(f, "POST", "/api/v1/contracts", raw=contract(v), token="A",
                what=f"hourly_rate_cents {v}")
    for v in ["-1", "1e400", "99999999999999999999", "9223372036854775807", "604801"]:
        hostile(f, "POST", "/api/v1/contracts", raw=contract(v, "weekly_limit_s"), token="A",
                what=f"weekly_limit_s {v}")
        hostile(f, "PATCH", f"/api/v1/contracts/{c}",
                raw=b'{"weekly_limit_s": ' + v.encode() + b"}", token="A",
                what=f"PATCH weekly_limit_s {v}")
    # Counts in a segment's minutes: negative, past the caps, past int32 and int64.
    for field in ("tracked_s", "keys", "mouse", "synthetic"):
        for v in ["-1", "-2147483649", "2147483648", "4294967296", "1000001",
                  "99999999999999999999", "1e400", "1e10"]:
            b = f.seg_body()
            b["minutes"][4][field] = 12345
            raw = json.dumps(b).replace("12345", v).encode()
            hostile(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}", raw=raw,
                    what=f"minutes[4].{field} = {v}")
    # Fewer or more than ten minutes.
    for n in (0, 9, 11, 10000):
        b = f.seg_body()
        b["minutes"] = (b["minutes"] * 1000)[:n]
        hostile(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}", body=b, what=f"{n} minutes")
    # More input that is synthetic than there is input.
    b = f.seg_body()
    b["minutes"][0].update(keys=1, mouse=1, synthetic=3)
    hostile(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}", body=b, what="synthetic > input")


@tap.test
def strings_longer_than_their_fields():
    """A string past its field's length is refused, never cut to fit (a cut
    contract id could name another contract; a cut in a UTF-8 sequence
    stores bytes that are not text)."""
    f = fx()
    c = f.C["id"]
    failures = []

    def refused(*args, **kw):
        try:
            hostile(*args, **kw)
        except AssertionError as e:  # every case is tried; all failures are reported
            failures.append(str(e))

    seg = [
        ("contract_id", c + "x"),
        ("contract_id", c + "-and-some-junk"),
        ("contract_id", c[:30] + "\u00e9" * 10),
        ("contract_id", "x" * 65),
        ("device_id", "d" * 65),
        ("memo", "m" * 1001),
        ("tags", [f"t{i}" for i in range(21)]),
        ("tags", ["t" * 41]),
        ("id", str(uuid.uuid4())),  # not the id in the path
        ("id", "not-a-uuid"),
    ]
    for field, value in seg:
        refused(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}", body=f.seg_body(**{field: value}),
                what=f"segment {field} of {len(value)}")
    refused(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}",
            body=f.seg_body(screenshot={"status": "failed", "reason": "r" * 201}))
    refused(f, "PATCH", f"/api/v1/segments/{f.S}", body={"memo": "m" * 1001})
    refused(f, "POST", f"/api/v1/contracts/{c}/manual",
            body={"start": rfc3339(f.slot), "end": rfc3339(f.slot + 10), "memo": "m" * 1001})
    signup = {"email": "s@example.com", "password": "0123456789", "name": "N", "role": "client"}
    for field, value in [("email", "e" * 250 + "@x.com"), ("name", "n" * 101),
                         ("password", "p" * 1025), ("password", "p" * 9),
                         ("timezone", "Europe/" + "x" * 60), ("role", "client" * 4)]:
        refused(f, "POST", "/api/v1/signup", body=dict(signup, **{field: value}), token=None,
                what=f"signup {field} of {len(value)}")
    contract = {"freelancer_email": f.F["email"], "title": "T", "hourly_rate_cents": 1,
                "currency": "USD"}
    for field, value in [("title", "t" * 201), ("title", ""), ("currency", "usd"),
                         ("currency", "USDX"), ("currency", "U$D"), ("tags", ["t"] * 2),
                         ("tags", [f"t{i}" for i in range(51)]), ("tags", ["t" * 41]),
                         ("tags", [""]), ("freelancer_email", "f" * 250 + "@x.com")]:
        refused(f, "POST", "/api/v1/contracts", body=dict(contract, **{field: value}),
                token="A", what=f"contract {field} of {len(value)}")
    assert not failures, "\n".join(failures)


@tap.test
def absurd_dates():
    f = fx()
    c = f.C["id"]
    stamps = ["0000-01-01T00:00:00Z", "9999-99-99T99:99:99Z", "9999-12-31T23:50:00Z",
              "-0001-01-01T00:00:00Z", "+275760-09-13T00:00:00Z", "99999999999-01-01T00:00:00Z",
              "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-23T24:00:00Z",
              "2026-11-23T10:20:60Z", "1969-12-31T23:50:00Z", "1970-01-01T00:00:00Z", "",
              "now", "2026-11-23", "2026-11-23T10:20:00", "2026-11-23 10:20:00Z",
              "18446744073709551616", "2026-11-23T10:20:00.000000000000000000001Z"]
    for s in stamps:
        # A real instant in a locked week is 409 locked; anything else a 400.
        r = hostile(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}", body=f.seg_body(start=s),
                    status=(400, 409), code=None, what=f"segment start {s!r}")
        assert r.error_code in ("invalid_argument", "locked"), r
        hostile(f, "PUT", f"/api/v1/segments/{uuid.uuid4()}",
                body=f.seg_body(screenshot={"taken_at": s, "status": "ok"}),
                what=f"screenshot taken_at {s!r}")
        hostile(f, "POST", f"/api/v1/contracts/{c}/manual",
                body={"start": s, "end": rfc3339(now()), "memo": "m"}, what=f"manual start {s!r}")
        hostile(f, "POST", f"/api/v1/contracts/{c}/manual",
                body={"start": rfc3339(f.slot), "end": s, "memo": "m"}, what=f"manual end {s!r}")
    # An hour of manual time that ends before it starts, and one of zero length.
    hostile(f, "POST", f"/api/v1/contracts/{c}/manual",
            body={"start": rfc3339(f.slot), "end": rfc3339(f.slot - 3600), "memo": "m"})
    hostile(f, "POST", f"/api/v1/contracts/{c}/manual",
            body={"start": rfc3339(f.slot), "end": rfc3339(f.slot), "memo": "m"})
    for q in ["from=0000-01-01", "from=9999-99-99", "from=2026-02-30", "from=2026-1-1",
              "from=99999-01-01", "from=-001-01-01", "from=1969-12-31", "from=2026-11-23T00:00Z",
              "from=", "to=0000-01-01", "from=2026-11-23&to=2026-11-22",
              "from=1970-01-01&to=9999-12-31", "from=2026-01-01&to=2026-03-05",
              "tz=Mars/Olympus_Mons", "tz=../../../../etc/passwd", "tz=/etc/localtime",
              "tz=Europe/../../../../dev/zero", "tz=.", "tz=", "tz=%ff"]:
        hostile(f, "GET", f"/api/v1/contracts/{c}/diary?{q}", what=f"diary {q}")
    # The last representable days are dates, not attacks: an answer, never a 5xx.
    for q in ["from=9999-12-31&to=9999-12-31", "from=9999-11-01&to=9999-12-31",
              "from=1970-01-01&to=1970-01-01"]:
        r = f.srv.get(f"contracts/{c}/diary?{q}", f.F["token"])
        assert r.status in (200, 400), f"diary {q}: {r!r}"
        alive(f, q)


@tap.test
def a_far_test_clock_jump_is_bounded():
    """POST /admin/clock (stintd --test-clock) to the last representable year
    is refused or done promptly; it must not keep the request (and the
    scheduler) busy for hours while the weekly transitions in between run."""
    data = tempfile.mkdtemp(prefix="stint-badinput-")
    srv = None
    try:
        admin = admin_add(data)
        srv = Server("--test-clock", data=data, segment_s=SEG_S)
        tok = srv.login(admin["email"], admin["password"])
        a, fl = srv.user("client"), srv.user("freelancer")
        c = srv.contract(a, fl, weekly_limit_s=3600)
        sid = str(uuid.uuid4())
        r = srv.put(f"segments/{sid}", segment_body(c["id"], current_slot(SEG_S), SEG_S,
                                                    seg_id=sid), fl["token"])
        eq(r.status, 201, "a segment")
        t0 = time.monotonic()
        try:
            r = srv.post("admin/clock", {"now": "9999-12-31T00:00:00Z"}, tok, timeout=15)
        except OSError as e:  # socket.timeout is an OSError
            raise AssertionError(f"moving the test clock to 9999 did not answer in 15 s ({e})")
        assert r.status in (200, 400), f"moving the test clock to 9999: {r!r}"
        if r.status == 400:
            expect_error(r, 400, "invalid_argument", "the test clock to 9999")
        assert time.monotonic() - t0 < 15
        eq(srv.request("GET", "/api/v1/health", timeout=PROMPT_S).status, 200, "health")
    finally:
        if srv:
            srv.kill9()
        shutil.rmtree(data, ignore_errors=True)


# ---- Sizes ----

def headers_only(f, method, path, length, token=None, content_type="application/json"):
    """Sends only the headers of a request announcing length bytes; returns the
    reply and how long it took, without sending a byte of the body."""
    req = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
           f"Content-Type: {content_type}\r\nContent-Length: {length}\r\n")
    if token:
        req += f"Authorization: Bearer {token}\r\n"
    with RawConn(f.srv.port, PROMPT_S) as conn:
        t0 = time.monotonic()
        conn.send((req + "\r\n").encode())
        r = conn.read_response(PROMPT_S)
        return r, time.monotonic() - t0


@tap.test
def content_length_over_the_cap_is_refused_before_the_body():
    f = fx()
    cases = [
        ("POST", "/api/v1/signup", MAX_JSON + 1, None, "application/json"),
        ("POST", "/api/v1/login", MAX_JSON + 1, None, "application/json"),
        ("PUT", f"/api/v1/segments/{uuid.uuid4()}", MAX_JSON + 1, f.F["token"],
         "application/json"),
        ("PATCH", f"/api/v1/contracts/{f.C['id']}", 10 * MAX_JSON, f.A["token"],
         "application/json"),
        ("PUT", f"/api/v1/segments/{f.S}/screenshot", MAX_SHOT + 1, f.F["token"], "image/jpeg"),
        ("PUT", f"/api/v1/segments/{f.S}/screenshot", 1 << 40, f.F["token"], "image/jpeg"),
        ("GET", "/api/v1/health", MAX_JSON + 1, None, "application/json"),
    ]
    for method, path, length, token, ctype in cases:
        what = f"{method} {path} announcing {length} bytes"
        r, took = headers_only(f, method, path, length, token, ctype)
        expect_error(r, 413, "too_large", what)
        assert took < PROMPT_S, f"{what}: the 413 took {took:.1f} s"
        alive(f, what)


def send_chunked(f, method, path, total, token=None, ctype="application/json", fill=b" "):
    """Sends total bytes as a chunked body (64 KiB chunks); returns the reply."""
    head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\n"
            "Transfer-Encoding: chunked\r\n")
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    with RawConn(f.srv.port, 30) as conn:
        conn.send((head + "\r\n").encode())
        chunk = fill * 65536
        sent = 0
        while sent < total:
            n = min(len(chunk), total - sent)
            if not conn.send(b"%x\r\n" % n + chunk[:n] + b"\r\n"):
                break  # answered and closed early: fine, read what it said
            sent += n
        conn.send(b"0\r\n\r\n")
        return conn.read_response(30)


@tap.test
def chunked_body_over_the_cap():
    f = fx()
    for path, tok in [("/api/v1/signup", None), ("/api/v1/login", None),
                      (f"/api/v1/segments/{f.S}", f.F["token"])]:
        r = send_chunked(f, "PUT" if "segments" in path else "POST", path, MAX_JSON + 1,
                         tok)
        expect_error(r, 413, "too_large", f"chunked {path}")
        alive(f, path)
    # A real JPEG followed by padding, just over 4 MiB.
    r = send_chunked(f, "PUT", f"/api/v1/segments/{f.S}/screenshot", MAX_SHOT + 1, f.F["token"],
                     "image/jpeg", fill=b"\0")
    expect_error(r, 413, "too_large", "chunked screenshot")
    alive(f, "chunked screenshot")
    # Exactly at the cap is a size the server takes (and then judges the content).
    r = send_chunked(f, "POST", "/api/v1/login", MAX_JSON)
    expect_error(r, 400, "invalid_argument", "chunked body of exactly 1 MiB")


@tap.test
def bad_screenshots():
    f = fx()
    sid = str(uuid.uuid4())
    r = f.srv.put(f"segments/{sid}",
                  f.seg_body(id=sid, screenshot={"taken_at": rfc3339(f.slot), "status": "ok"},
                             device_id="dev-shots"), f.F["token"])
    assert r.status == 201, r
    path = f"/api/v1/segments/{sid}/screenshot"
    good = f.jpeg
    # A JPEG claiming to be 65 000 x 65 000 pixels (a decompression bomb).
    bomb = bytearray(good)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        i = bomb.find(marker)
        if i > 0:
            bomb[i + 5:i + 9] = (65000).to_bytes(2, "big") * 2
            break
    else:
        raise AssertionError("no SOF marker in the JPEG")
    png = (b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    for raw, status, code, what in [
        (b"not an image at all", 415, "unsupported_media_type", "text"),
        (good[:len(good) // 2], 415, "unsupported_media_type", "a truncated JPEG"),
        (good[:4], 415, "unsupported_media_type", "a JPEG's first bytes"),
        (b"\xff\xd8\xff" + os.urandom(4096), 415, "unsupported_media_type", "JPEG-looking noise"),
        (b"RIFF\xff\xff\xff\xffWEBPVP8 " + os.urandom(64), 415, "unsupported_media_type",
         "WebP-looking noise"),
        (png, 415, "unsupported_media_type", "a PNG"),
        (bytes(bomb), (413, 415), None, "a JPEG claiming 65000x65000"),
        (b"", 400, "invalid_argument", "an empty body"),
    ]:
        hostile(f, "PUT", path, raw=raw, status=status, code=code, what=what,
                headers={"Content-Type": "image/jpeg"})
    # After all that, the real one is still taken.
    r = f.srv.put(f"segments/{sid}/screenshot", raw=good, token=f.F["token"],
                  headers={"Content-Type": "image/jpeg"})
    eq(r.status, 201, f"the real screenshot after the bad ones: {r!r}")


# ---- Paths and queries ----

@tap.test
def path_tricks_in_ids():
    f = fx()
    c, s = f.C["id"], f.S
    paths = [
        ("GET", "/api/v1/contracts/.."),
        ("GET", "/api/v1/contracts/../contracts"),
        ("GET", f"/api/v1/contracts/../contracts/{c}"),
        ("GET", f"/api/v1/contracts/./{c}"),
        ("GET", "/api/v1/contracts/%2e%2e"),
        ("GET", "/api/v1/contracts/%2e%2e%2f"),
        ("GET", "/api/v1/contracts/%2e%2e%2fcontracts"),
        ("GET", f"/api/v1/segments/..%2f..%2f..%2f..%2fetc%2fpasswd/screenshot"),
        ("GET", f"/api/v1/segments/%2e%2e%2f%2e%2e%2fblobs/screenshot"),
        ("GET", f"/api/v1/segments/{s}%2fscreenshot"),
        ("GET", f"/api/v1/contracts/{c}%2fdiary"),
        ("GET", f"/api/v1/contracts/{c}%00"),
        ("GET", f"/api/v1/contracts/{c}%00/diary"),
        ("POST", f"/api/v1/contracts/{c}%00/pause"),
        ("GET", f"/api/v1/segments/{s}%00/screenshot"),
        ("GET", f"/api/v1/segments/{s}%00.jpg"),
        ("GET", f"/api/v1/contracts/%00{c}"),
        ("GET", "/api/v1/contracts/" + "a" * 129),
        ("GET", "/api/v1/contracts/" + "a" * 1025),
        ("GET", "/api/v1/segments/" + "0" * 5000 + "/screenshot"),
        ("GET", "/api/v1/contracts/%C3%A9t%C3%A9"),
        ("GET", "/api/v1/contracts/%EF%BC%A3%EF%BC%AF%EF%BC%AE"),
        ("GET", "/api/v1/contracts/%F0%9F%92%A3"),
        ("GET", "/api/v1/contracts/%ff%fe"),
        ("GET", "/api/v1/contracts/%c0%ae%c0%ae"),
        ("GET", "/api/v1/contracts/%"),
        ("GET", "/api/v1/contracts/%zz"),
        ("GET", f"/api/v1/contracts/{c};x"),
        ("GET", f"/api/v1/contracts/{c}\\..\\.."),
        ("GET", f"/api/v1/contracts/{c}/"),
        ("GET", f"//api/v1/contracts/{c}"),
        ("GET", f"/api/v1//contracts/{c}"),
        ("GET", f"/API/V1/contracts/{c}"),
        ("GET", f"/api/v1/contracts/{c}/diary/.."),
        ("GET", f"/api/v1/contracts/{c} "),
        ("GET", f"/api/v1/contracts/{c}%20"),
        ("GET", f"/api/v1/contracts/{c}%09"),
        ("GET", f"/api/v1/segments/{s}/screenshot/../../../../etc/passwd"),
        ("DELETE", f"/api/v1/segments/{s}%00"),
        ("PATCH", f"/api/v1/segments/%2e%2e"),
    ]
    # Bytes http.client would refuse to send.
    for raw_path in [b"/api/v1/contracts/\xff", b"/api/v1/contracts/\xc0\xae\xc0\xae",
                     "/api/v1/contracts/\u00e9t\u00e9".encode(), "/api/v1/\u0441ontracts".encode(),
                     b"/api/v1/contracts/a\x7fb", f"/api/v1/segments/{s}\t/screenshot".encode()]:
        paths.append(("GET", raw_path.decode("latin-1")))
    for method, p in paths:
        what = f"{method} {p[:100]!r}"
        # A's token, so that a trick that worked would show C's or S's data.
        r = raw_request(f.srv.port, f"{method} {p} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                        f"Authorization: Bearer {f.A['token']}\r\n\r\n".encode("latin-1"),
                        PROMPT_S)
        expect_error(r, (400, 404), None, what)
        assert f.C["title"].encode() not in r.body and b"Secret memo" not in r.body, what
        alive(f, what)
    # S is still there for its parties: none of the above touched it.
    eq(f.srv.get(f"segments/{s}", f.A["token"]).status, 200, "S after the tricks")


@tap.test
def unknown_query_parameters():
    f = fx()
    c, s = f.C["id"], f.S
    for method, p, tok in [
        ("GET", "/api/v1/health?x=1", None),
        ("GET", "/api/v1/config?debug=1", None),
        ("GET", "/api/v1/me?token=x", "A"),
        ("GET", "/api/v1/contracts?limit=10", "A"),
        ("GET", f"/api/v1/contracts/{c}?expand=all", "A"),
        ("GET", f"/api/v1/contracts/{c}/diary?from=2026-11-23&foo=1", "A"),
        ("GET", f"/api/v1/contracts/{c}/diary?FROM=2026-11-23", "A"),
        ("GET", f"/api/v1/segments/{s}/screenshot?size=thumb&raw=1", "A"),
        ("GET", f"/api/v1/segments/{s}/screenshot?SIZE=thumb", "A"),
        ("GET", f"/api/v1/segments/{s}/screenshot?size=big", "A"),
        ("GET", f"/api/v1/segments/{s}?a", "A"),
        ("GET", f"/api/v1/segments/{s}?=", "A"),
        ("GET", f"/api/v1/segments/{s}?&&", "A"),
        ("GET", f"/api/v1/segments/{s}?%00=1", "A"),
        ("GET", f"/api/v1/segments/{s}?a%00b=1", "A"),
        ("PUT", f"/api/v1/segments/{uuid.uuid4()}?force=1", "F"),
        ("POST", "/api/v1/login?email=a@b.co", None),
        ("POST", f"/api/v1/contracts/{c}/pause?dry_run=1", "A"),
    ]:
        tokv = {"A": f.A["token"], "F": f.F["token"], None: None}[tok]
        r = f.srv.request(method, p, token=tokv, timeout=PROMPT_S)
        expect_error(r, 400, "invalid_argument", f"{method} {p}")
        alive(f, p)
    eq(f.srv.get(f"contracts/{c}", f.A["token"]).json["contract"]["state"], "active",
       "C after a refused pause")


@tap.test
def very_long_query_values():
    f = fx()
    c, s = f.C["id"], f.S
    for n in (257, 1000, 5000, 20000):
        for q in [f"tz={'A' * n}", f"from=2026-11-23{'x' * n}", f"tz=Europe/{'Paris' * (n // 5)}"]:
            p = f"/api/v1/contracts/{c}/diary?{q}"
            r = f.srv.request("GET", p, token=f.A["token"], timeout=PROMPT_S)
            expect_error(r, 400, "invalid_argument", f"diary with {n}-character {q[:3]}")
            alive(f, p[:80])
        p = f"/api/v1/segments/{s}/screenshot?size={'thumb' * (n // 5)}"
        r = f.srv.request("GET", p, token=f.A["token"], timeout=PROMPT_S)
        expect_error(r, 400, "invalid_argument", f"size of {n} characters")
        # A long unknown parameter name.
        r = f.srv.request("GET", f"/api/v1/health?{'k' * n}=1", timeout=PROMPT_S)
        expect_error(r, 400, "invalid_argument", f"{n}-character parameter name")
    # Query values that are not UTF-8.
    for q in ["tz=%ff", "tz=%c0%af", "from=%ed%a0%80"]:
        r = f.srv.request("GET", f"/api/v1/contracts/{c}/diary?{q}", token=f.A["token"],
                          timeout=PROMPT_S)
        expect_error(r, 400, "invalid_argument", q)
    alive(f)


@tap.test
def tokens_that_are_not_tokens():
    f = fx()
    for value in ["Bearer " + "a" * 10000, "Bearer st_" + "\u00e9" * 43, "Bearer st_",
                  "Bearer st_" + "A" * 42 + "=", "Bearer " + f.A["token"] + " " + f.A["token"],
                  "Bearer\t" + f.A["token"], "Token " + f.A["token"], "Bearer"]:
        r = f.srv.request("GET", "/api/v1/me", headers={"Authorization": value.encode("utf-8")
                                                         .decode("latin-1")},
                          timeout=PROMPT_S)
        expect_error(r, 401, "unauthenticated", value[:40])
    alive(f)


# ---- What libmicrohttpd refuses before stintd sees the request ----

@tap.test
def protocol_violations():
    """Requests the HTTP library refuses on its own. They get a 4xx (or the
    connection is closed); libmicrohttpd writes these bodies itself (HTML),
    so only the status is checked here. The server must stay up."""
    f = fx()
    for raw, what in [
        (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
         "Content-Length: abc"),
        (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
         "a negative Content-Length"),
        (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n"
         b"\r\n", "a Content-Length past 64 bits"),
        (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"zz\r\nabc\r\n", "bad chunk syntax"),
        (b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"ffffffffffffffffffff\r\n", "a chunk size past 64 bits"),
        (b"GET /api/v1/contracts/" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
         "a 100 kB request line"),
        (b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"a" * 100000 +
         b"\r\n\r\n", "a 100 kB header"),
        (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n",
         "20 000 headers"),
        (b"GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n", "HTTP/9.9"),
        (b"GET /api/v1/health\r\n\r\n", "HTTP/0.9"),
        (b"GARBAGE\r\n\r\n", "a request line of one word"),
        (b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "a header with no colon"),
    ]:
        with RawConn(f.srv.port, PROMPT_S) as conn:
            conn.send(raw)
            r = conn.read_response(PROMPT_S)
            if r is None:
                # No answer: then the server must have closed the connection, not hung on it.
                assert conn.closed_by_peer(PROMPT_S), f"{what}: no answer and not closed"
            else:
                assert 400 <= r.status < 600 and r.status != 500, f"{what}: {r!r}"
                assert conn.closed_by_peer(PROMPT_S), f"{what}: the connection stays open"
        alive(f, what)


# ---- Slow and many clients ----

@tap.test
def a_stalled_request_does_not_block_others():
    f = fx()
    stalled = []
    try:
        # Headers never finished.
        c1 = RawConn(f.srv.port, PROMPT_S)
        c1.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        stalled.append(c1)
        # Headers done, body promised and only partly sent.
        c2 = RawConn(f.srv.port, PROMPT_S)
        c2.send(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{\"email\":")
        stalled.append(c2)
        # A screenshot upload that stops half way.
        c3 = RawConn(f.srv.port, PROMPT_S)
        c3.send(f"PUT /api/v1/segments/{f.S}/screenshot HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {f.F['token']}\r\nContent-Type: image/jpeg\r\n"
                f"Content-Length: {len(f.jpeg)}\r\n\r\n".encode() + f.jpeg[:100])
        stalled.append(c3)
        # A TLS hello (an https client on the http port): it holds NUL bytes, and
        # libmicrohttpd neither answers a request line with a NUL nor closes it
        # (until its connection timeout), so it is one more stalled client.
        c4 = RawConn(f.srv.port, PROMPT_S)
        c4.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 200)
        stalled.append(c4)
        for i in range(3):
            t0 = time.monotonic()
            r = f.srv.request("GET", "/api/v1/health", timeout=PROMPT_S)
            eq(r.status, 200, "health while four requests stall")
            r = f.srv.get(f"segments/{f.S}", f.A["token"], timeout=PROMPT_S)
            eq(r.status, 200, "a read while four requests stall")
            assert time.monotonic() - t0 < PROMPT_S
        # A write too (it needs the store's writer, which no stalled request holds).
        r = f.srv.patch(f"segments/{f.S}", {"memo": "Secret memo"}, f.F["token"],
                        timeout=PROMPT_S)
        eq(r.status, 200, "a write while four requests stall")
        # The stalled ones got nothing yet, and finishing one now still works.
        rest = b' "a@b.co", "password": "x"}'
        c2.send(rest + b" " * (100 - len(b'{"email":') - len(rest)))
        r = c2.read_response(PROMPT_S)
        assert r is not None and r.status in (400, 401), r
    finally:
        for c in stalled:
            c.close()
    alive(f)


@tap.test
def slow_loris_of_50_connections():
    f = fx()
    conns = []
    try:
        for i in range(50):
            c = RawConn(f.srv.port, PROMPT_S)
            c.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")
            conns.append(c)
        for i in range(3):
            t0 = time.monotonic()
            alive(f, "with 50 stalled connections")
            r = f.srv.get(f"contracts/{f.C['id']}", f.A["token"], timeout=PROMPT_S)
            eq(r.status, 200, "an authenticated read with 50 stalled connections")
            assert time.monotonic() - t0 < PROMPT_S
            # Each loris dribbles one more header line; the server must still serve others.
            for c in conns:
                c.send(b"X-Drip: %d\r\n" % i)
        # 50 more that announce a body and never send it.
        for i in range(50):
            c = RawConn(f.srv.port, PROMPT_S)
            c.send(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
            conns.append(c)
        alive(f, "with 100 stalled connections")
    finally:
        for c in conns:
            c.close()
    alive(f)


@tap.test
def a_flood_of_2000_requests_on_keep_alive():
    f = fx()
    t0 = time.monotonic()
    # Pipelined: all 2000 sent before any answer is read.
    with RawConn(f.srv.port, 30) as conn:
        conn.send(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n" * 2000)
        for i in range(2000):
            r = conn.read_response(30)
            assert r is not None, f"pipelined: no answer {i}"
            eq(r.status, 200, f"pipelined answer {i}")
    # One after the other on one connection, mixing good and bad requests.
    login_bad = b"{"
    with RawConn(f.srv.port, 30) as conn:
        for i in range(2000):
            if i % 4 == 0:
                conn.send(b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\n"
                          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % len(login_bad) + login_bad)
                r = conn.read_response(10)
                assert r is not None, f"sequential: no answer {i}"
                expect_error(r, 400, "invalid_argument", f"bad login {i}")
            elif i % 4 == 1:
                conn.send(b"GET /api/v1/no-such-thing HTTP/1.1\r\nHost: x\r\n\r\n")
                r = conn.read_response(10)
                assert r is not None, f"sequential: no answer {i}"
                expect_error(r, 404, "not_found", f"unknown path {i}")
            else:
                conn.send(f"GET /api/v1/segments/{f.S} HTTP/1.1\r\nHost: x\r\n"
                          f"Authorization: Bearer {f.A['token']}\r\n\r\n".encode())
                r = conn.read_response(10)
                assert r is not None, f"sequential: no answer {i}"
                eq(r.status, 200, f"segment read {i}")
    assert time.monotonic() - t0 < 45, "4000 requests took too long"
    alive(f)


if __name__ == "__main__":
    tap.main()
