"""A raw TCP server that misbehaves on purpose, one behaviour per request path.

Used to prove that a broken server becomes recorded data, never an exception or a hang.
Loopback only, ephemeral port, stopped by the fixture.
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import threading
import time

SECRET_ECHO_PATH = "/echo-auth"


def _response(status: str, body: bytes, content_type: str = "application/json", extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        f"connection: close\r\n{extra}\r\n"
    )
    return head.encode() + body


def _chat(content: str) -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
    ).encode()


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head, body = self._read_request()
        path = head.split(b" ", 2)[1].decode() if head.count(b" ") >= 2 else "/"
        action = getattr(self, "do_" + path.strip("/").replace("-", "_"), self.do_missing_route)
        try:
            action(head)
        except OSError:
            pass

    def _read_request(self) -> tuple[bytes, bytes]:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.request.recv(65536)
            if not chunk:
                return data, b""
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        while len(body) < length:
            chunk = self.request.recv(65536)
            if not chunk:
                break
            body += chunk
        return head, body

    def _send(self, data: bytes) -> None:
        self.request.sendall(data)

    def do_reset(self, _head: bytes) -> None:
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()

    def do_close(self, _head: bytes) -> None:
        self.request.shutdown(socket.SHUT_RDWR)

    def do_html502(self, _head: bytes) -> None:
        self._send(
            _response(
                "502 Bad Gateway",
                b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                "text/html",
            )
        )

    def do_truncated(self, _head: bytes) -> None:
        self._send(b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"id": "x"')
        self.request.shutdown(socket.SHUT_RDWR)

    def do_stall(self, _head: bytes) -> None:
        time.sleep(3)

    def do_drip(self, _head: bytes) -> None:
        self._send(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n")
        for _ in range(100):
            time.sleep(0.05)
            self._send(b" ")

    def do_huge(self, _head: bytes) -> None:
        self._send(_response("200 OK", b"[" + b"0," * 1_500_000 + b"0]"))

    def do_invalid_json(self, _head: bytes) -> None:
        self._send(_response("200 OK", b"{not json"))

    def do_redirect(self, _head: bytes) -> None:
        self._send(_response("301 Moved Permanently", b"", "text/html", "location: /v1/chat/completions\r\n"))

    def do_error_in_200(self, _head: bytes) -> None:
        self._send(
            _response(
                "200 OK",
                json.dumps({"error": {"message": "upstream failed", "type": "server_error", "code": 500}}).encode(),
            )
        )

    def do_schema_drift(self, _head: bytes) -> None:
        self._send(_response("200 OK", json.dumps({"id": "x", "object": "chat.completion"}).encode()))

    def do_empty_content(self, _head: bytes) -> None:
        self._send(_response("200 OK", _chat("")))

    def do_ok(self, _head: bytes) -> None:
        self._send(_response("200 OK", _chat("the secret prompt answer"), extra="x-request-id: req_hostile_1\r\n"))

    def do_echo_auth(self, head: bytes) -> None:
        auth = next(
            (
                line.split(b":", 1)[1].strip()
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"authorization:")
            ),
            b"",
        )
        message = b"bad key " + auth
        self._send(
            _response(
                "401 Unauthorized",
                json.dumps(
                    {"error": {"message": message.decode(), "type": "auth", "code": "invalid_api_key"}}
                ).encode(),
            )
        )

    def do_missing_route(self, _head: bytes) -> None:
        self._send(_response("404 Not Found", b'{"error": {"message": "no route", "code": "not_found"}}'))


class HostileServer:
    """Context manager: `with HostileServer() as server: server.url('/reset')`."""

    def __init__(self) -> None:
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base_url + path


from engine.run.drills import closed_port  # noqa: E402,F401 - one helper for engine and tests


def _gzip_bomb() -> bytes:
    import gzip

    return gzip.compress(b"\0" * 50_000_000, compresslevel=9)


_BOMB = None


def _bomb() -> bytes:
    global _BOMB
    if _BOMB is None:
        _BOMB = _gzip_bomb()
    return _BOMB


def _deep_json(_self, _head: bytes) -> None:
    _self._send(_response("200 OK", b"[" * 200_000))


def _gzip(_self, _head: bytes) -> None:
    import gzip

    _self._send(_response("200 OK", gzip.compress(_chat("zipped")), extra="content-encoding: gzip\r\n"))


def _gzip_bomb_route(_self, _head: bytes) -> None:
    _self._send(_response("200 OK", _bomb(), extra="content-encoding: gzip\r\n"))


def _double_gzip(_self, _head: bytes) -> None:
    _self._send(_response("200 OK", b"x" * 10, extra="content-encoding: gzip, gzip\r\n"))


_Handler.do_deep_json = _deep_json
_Handler.do_gzip = _gzip
_Handler.do_gzip_bomb = _gzip_bomb_route
_Handler.do_double_gzip = _double_gzip


def _echo_request_id(_self, head: bytes) -> None:
    value = next(
        (
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"x-client-request-id:")
        ),
        b"none",
    )
    _self._send(_response("200 OK", _chat("x"), extra=f"x-request-id: {value.decode()}\r\n"))


_Handler.do_echo_request_id = _echo_request_id
