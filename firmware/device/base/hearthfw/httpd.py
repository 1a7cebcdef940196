"""Tiny HTTP/1.0 server (polled from the main loop) and a streaming GET client, on bare sockets."""

import json
import socket

MAX_BODY = 8192  # a sealed hand-over carrying the CA certificate is ~3 KB
MAX_HEADERS = 32
_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}


class Server:
    """Accepts at most one request per poll(); handler(method, path, body) -> (status, dict)."""

    def __init__(self, host, port, handler):
        self._handler = handler
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(socket.getaddrinfo(host, port)[0][-1])
        self._sock.listen(4)
        self._sock.setblocking(False)

    @property
    def port(self):
        try:
            return self._sock.getsockname()[1]
        except (AttributeError, OSError):
            return 80  # MicroPython sockets have no getsockname; boards bind the fixed port

    def poll(self):
        try:
            conn, _addr = self._sock.accept()
        except OSError:
            return False
        try:
            conn.settimeout(5)
            self._serve(conn)
        except Exception as err:  # a broken client must never take the device down
            print("http: dropped request:", repr(err))
        finally:
            conn.close()
        return True

    def close(self):
        self._sock.close()

    def _serve(self, conn):
        stream = conn.makefile("rb")
        try:
            try:
                method, path, headers = _read_head(stream)
                length = int(headers.get("content-length", "0") or "0")
            except (ValueError, UnicodeError) as err:
                _respond(conn, 400, {"error": "malformed request: " + str(err)})
                return
            if length < 0 or length > MAX_BODY:
                _respond(conn, 400, {"error": "body too large"})
                return
            body = stream.read(length) if length else b""
            status, payload = self._handler(method, path, body)
            _respond(conn, status, payload)
        finally:
            stream.close()


def _read_head(stream):
    line = stream.readline()
    parts = line.decode().split()
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError("bad request line")
    headers = {}
    for _ in range(MAX_HEADERS):
        line = stream.readline()
        if line in (b"\r\n", b"\n", b""):
            return parts[0], parts[1], headers
        key, sep, value = line.decode().partition(":")
        if not sep:
            raise ValueError("bad header")
        headers[key.strip().lower()] = value.strip()
    raise ValueError("too many headers")


def _respond(conn, status, payload):
    body = json.dumps(payload).encode()
    reason = _REASONS.get(status, "Error")
    head = (
        f"HTTP/1.0 {status} {reason}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    conn.sendall(head.encode() + body)


def split_url(url):
    """Split http://host[:port]/path into (host, port, path); ValueError for anything else."""
    if not url.startswith("http://"):
        raise ValueError("only http:// URLs")
    rest = url[7:]
    slash = rest.find("/")
    hostport = rest if slash < 0 else rest[:slash]
    path = "/" if slash < 0 else rest[slash:]
    host, sep, port = hostport.rpartition(":")
    if not sep:
        return hostport, 80, path
    if not port.isdigit():
        raise ValueError("bad port")
    return host.strip("[]"), int(port), path


def get(url, on_chunk, max_bytes, chunk_size=2048):
    """Stream a GET response body into on_chunk(bytes); return its length. OSError on failure."""
    host, port, path = split_url(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    stream = None
    try:
        sock.settimeout(15)
        sock.connect(socket.getaddrinfo(host, port)[0][-1])
        request = f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        stream = sock.makefile("rb")
        status = stream.readline().decode().split()
        if len(status) < 2 or status[1] != "200":
            raise OSError("download failed: HTTP " + (status[1] if len(status) > 1 else "?"))
        length = None
        for _ in range(MAX_HEADERS):
            line = stream.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            key, _sep, value = line.decode().partition(":")
            if key.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise OSError("download failed: bad Content-Length") from None
        if length is None or length > max_bytes:
            raise OSError(f"download refused: size {length} over limit")
        received = 0
        while received < length:
            chunk = stream.read(min(chunk_size, length - received))
            if not chunk:
                raise OSError(f"download truncated at {received} of {length} bytes")
            received += len(chunk)
            on_chunk(chunk)
        return received
    finally:
        if stream is not None:
            stream.close()
        sock.close()
