"""The Bot API HTTP client (channels/telegram/transport.py) against answers the fake server never gives: chunked, ended
by close, and a kept-alive connection the server closed while it was idle."""
from __future__ import annotations

import socket
import threading

import pytest

from channels.telegram import transport
from tests.waiting import wait_for

CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"ok\"\r\n9;ext=1\r\n: true}\r\n\r\n0\r\nX-Trailer: 1\r\n\r\n"
UNTIL_CLOSE = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\": true}"
KEPT = b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"ok\": true}"


class CannedServer:
    """Answers every request on a connection with `answer`; closes after `per_connection` answers."""

    def __init__(self, answer: bytes, per_connection: int):
        self.answer, self.per_connection = answer, per_connection
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = self.closed = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            with conn, conn.makefile("rb") as reader:
                for _ in range(self.per_connection):
                    length = 0
                    while (line := reader.readline()) not in (b"\r\n", b""):
                        if line.lower().startswith(b"content-length:"):
                            length = int(line.split(b":")[1])
                    if not line:
                        return
                    reader.read(length)
                    conn.sendall(self.answer)
        finally:
            self.closed += 1


@pytest.mark.parametrize("answer", [CHUNKED, UNTIL_CLOSE], ids=["chunked", "until-close"])
def test_bodies_by_chunks_and_by_close(answer):
    server = CannedServer(answer, per_connection=1)
    for _ in range(2):  # the second call cannot reuse the closed connection
        assert transport.post_json(f"{server.url}/bot1:T/getMe", {}, 5).json() == {"ok": True}
    assert server.connections == 2


def test_a_kept_alive_connection_is_reused_and_one_the_server_closed_is_replaced():
    server = CannedServer(KEPT, per_connection=2)
    for _ in range(2):
        assert transport.post_json(f"{server.url}/bot1:T/getMe", {"a": "б"}, 5).json() == {"ok": True}
    assert server.connections == 1
    wait_for(lambda: server.closed == 1)  # closed by the server while kept idle here
    assert transport.post_json(f"{server.url}/bot1:T/getMe", {}, 5).json() == {"ok": True}
    assert server.connections == 2
