"""SMTP messages/s from one worker thread: a connection kept across messages vs one connection per message.

Plain script: `python benchmarks/bench_smtp.py [--messages 60] [--latency-ms 20]`. The server is aiosmtpd on
loopback, answering every command `--latency-ms` late (a network round trip); the greeting, EHLO and QUIT that a
new connection costs pay it too. The baseline, measured in the same run, is what the email channel did before:
connect, send, QUIT for each message.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.smtp import SMTP  # noqa: E402

from channels.email.connections import CONNECTIONS, SEND_TIMEOUT, connect  # noqa: E402
from channels.email.sender import _send_on_kept_connection  # noqa: E402
from tests.notify.conftest import _Port0Controller  # noqa: E402


class SlowServer:
    """Accepts every message; each reply comes `latency` seconds late."""

    def __init__(self, latency: float):
        self.latency = latency
        self.messages = 0

    async def _wait(self) -> None:
        await asyncio.sleep(self.latency)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        await self._wait()
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        await self._wait()
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        await self._wait()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await self._wait()
        self.messages += 1
        return "250 OK"

    async def handle_NOOP(self, server, session, envelope, arg):
        await self._wait()
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        await self._wait()
        return "221 Bye"


class SlowGreeting(SMTP):
    """aiosmtpd's session whose greeting (the first 220) comes late as well."""

    greeted = False

    async def push(self, status: str):
        if status.startswith("220 ") and not self.greeted:
            self.greeted = True
            await asyncio.sleep(self.event_handler.latency)
        await super().push(status)


class Controller(_Port0Controller):
    def factory(self):
        return SlowGreeting(self.handler, **self.SMTP_kwargs)


def message(n: int) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"], mail["From"], mail["To"] = f"Ответ #{n}", "support@example.com", f"c{n}@example.com"
    mail.set_content("Проверьте настройки бота.\n" * 20)
    return mail


def one_connection_each(url: str, count: int) -> float:
    started = time.monotonic()
    for n in range(count):
        with connect(url, time.monotonic() + SEND_TIMEOUT) as client:
            client.send_message(message(n))
    return count / (time.monotonic() - started)


def kept_connection(url: str, count: int) -> float:
    started = time.monotonic()
    for n in range(count):
        _send_on_kept_connection(url, message(n))
    CONNECTIONS.close_all()
    return count / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    server = SlowServer(args.latency_ms / 1000)
    controller = Controller(server, hostname="127.0.0.1", port=0)
    controller.start()
    url = f"smtp://127.0.0.1:{controller.port}"
    try:
        each, kept = [], []
        for _ in range(args.rounds):  # interleaved, so a busy machine slows both alike
            each.append(one_connection_each(url, args.messages))
            kept.append(kept_connection(url, args.messages))
    finally:
        controller.stop()
    best_each, best_kept = max(each), max(kept)
    print(f"{args.messages} messages x {args.rounds} rounds, {args.latency_ms:g} ms per server reply; best round:")
    print(f"one connection per message: {best_each:6.1f} messages/s")
    print(f"kept connection:            {best_kept:6.1f} messages/s  (x{best_kept / best_each:.2f})")


if __name__ == "__main__":
    main()
