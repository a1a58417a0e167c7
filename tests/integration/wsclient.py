"""A small WebSocket client (RFC 6455) for the tests: the handshake, masked
frames (or unmasked ones on purpose), ping/pong and close codes. Standard
library only; one blocking socket with a deadline on every read.

    ws = WS(port)                    # handshake on /api/v1/ws
    welcome = ws.hello(token)        # {"type":"welcome",...}
    ev = ws.recv_json()              # the next text message, as JSON
    code = ws.expect_close()         # the server's close code
"""
import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


class HandshakeError(Exception):
    def __init__(self, status, headers, body):
        super().__init__(f"handshake answered {status}: {body[:200]!r}")
        self.status = status
        self.headers = headers
        self.body = body


class Closed(Exception):
    """The server closed: code is its close code (None when the TCP
    connection ended without a close frame)."""

    def __init__(self, code, reason=b""):
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


def handshake_request(key=None, path="/api/v1/ws", headers=None, port=0):
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    h = {"Host": f"127.0.0.1:{port}", "Upgrade": "websocket", "Connection": "Upgrade",
         "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    if headers is not None:
        h.update(headers)
    lines = [f"GET {path} HTTP/1.1"] + [f"{k}: {v}" for k, v in h.items() if v is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode(), key


class WS:
    def __init__(self, port, timeout=10, path="/api/v1/ws", headers=None, key=None,
                 rcvbuf=None):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:  # before connecting, so that the window stays that small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", port))
        self.buf = b""
        self.closed = None
        req, key = handshake_request(key, path, headers, port)
        self.sock.sendall(req)
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._fill(deadline):
                raise HandshakeError(0, {}, self.buf)
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if status != 101:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n and self._fill(deadline):
                pass
            self.sock.close()
            raise HandshakeError(status, self.headers, self.buf[:n])
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        got = self.headers.get("sec-websocket-accept")
        if got != want:
            raise AssertionError(f"Sec-WebSocket-Accept {got!r}, expected {want!r}")

    # I/O

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            d = self.sock.recv(65536)
        except socket.timeout:
            return False
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            raise Closed(None)
        self.buf += d
        return True

    def send_raw(self, data):
        """Sends bytes; False when the server has already closed its side."""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    @staticmethod
    def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
        head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
        n = len(payload)
        m = 0x80 if mask else 0
        if n < 126:
            head += bytes([m | n])
        elif n < 65536:
            head += bytes([m | 126]) + struct.pack("!H", n)
        else:
            head += bytes([m | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            head += key
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) \
                if n < 4096 else _mask_fast(payload, key)
        return head + payload

    def send_frame(self, opcode, payload=b"", **kw):
        return self.send_raw(self.frame(opcode, payload, **kw))

    def send_text(self, text):
        return self.send_frame(TEXT, text.encode() if isinstance(text, str) else text)

    def send_json(self, obj):
        return self.send_text(json.dumps(obj))

    def recv_frame(self, timeout=None):
        """The next frame as (opcode, payload); raises socket.timeout when none
        comes in time, Closed when the connection ends."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            f = self._parse()
            if f:
                return f
            if not self._fill(deadline):
                raise socket.timeout("no frame in time")

    def _parse(self):
        b = self.buf
        if len(b) < 2:
            return None
        opcode = b[0] & 0x0F
        n = b[1] & 0x7F
        off = 2
        if n == 126:
            if len(b) < 4:
                return None
            n = struct.unpack("!H", b[2:4])[0]
            off = 4
        elif n == 127:
            if len(b) < 10:
                return None
            n = struct.unpack("!Q", b[2:10])[0]
            off = 10
        if b[1] & 0x80:
            raise AssertionError("the server sent a masked frame")
        if len(b) < off + n:
            return None
        payload = b[off:off + n]
        self.buf = b[off + n:]
        return opcode, payload

    def recv_message(self, timeout=None, answer_pings=True):
        """The next text or binary message; pings are answered, pongs skipped;
        a close frame raises Closed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            left = max(0.0, deadline - time.monotonic())
            opcode, payload = self.recv_frame(left)
            if opcode == CLOSE:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                self.closed = code
                raise Closed(code, payload[2:])
            if opcode == PING:
                if answer_pings:
                    self.send_frame(PONG, payload)
                continue
            if opcode == PONG:
                continue
            return opcode, payload

    def recv_json(self, timeout=None):
        opcode, payload = self.recv_message(timeout)
        assert opcode == TEXT, f"a frame of opcode {opcode}"
        return json.loads(payload)

    def no_message(self, timeout):
        """True when nothing but pings/pongs comes within timeout."""
        try:
            m = self.recv_message(timeout)
        except socket.timeout:
            return True
        raise AssertionError(f"unexpected message {m!r}")

    def expect_close(self, timeout=None):
        """Reads until the server's close frame; returns its code (None when the
        connection ended without one). Messages before it are skipped."""
        try:
            while True:
                self.recv_message(timeout)
        except Closed as e:
            return e.code

    def hello(self, token, since=None, timeout=None):
        m = {"type": "hello", "token": token}
        if since is not None:
            m["since"] = since
        self.send_json(m)
        w = self.recv_json(timeout)
        assert w.get("type") == "welcome", w
        return w

    def close(self, code=1000):
        try:
            self.send_frame(CLOSE, struct.pack("!H", code))
        except OSError:
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()


def _mask_fast(payload, key):
    n = len(payload)
    k = int.from_bytes((key * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(payload, "big") ^ k).to_bytes(n, "big")
