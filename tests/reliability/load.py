"""The load scenario shared by the reliability tests and benchmarks/bench_load.py.

Real parts only: the web app on a waitress server in this process, HTTP clients with their own
sessions and CSRF tokens, the events API with a Bearer token, RQ workers in other processes.
"""
from __future__ import annotations

import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from app.commands.web import make_server

CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
IDEM_RE = re.compile(r'name="_idem" value="([^"]+)"')
TOPIC_URL = "/c/chats/chat-problem"
TICKET_VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
                 "message": "После обновления бот не отвечает в Telegram."}
BALANCE_EVENT = {"type": "low_balance", "params": {"balance": 42.5, "currency": "RUB"}}


@dataclass
class LiveServer:
    url: str
    server: object

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.server.effective_port


@contextmanager
def live_server(app, threads: int = 8, **options):
    """The app on the waitress server `run.py web` builds (options may tighten its limits), on a port the OS picks."""
    server = make_server(app, "127.0.0.1", 0, threads, **options)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.effective_port}", server)
    finally:
        # server.close() alone leaves open channels in waitress's loop: close every one (the listener and the wake-up
        # trigger included) from inside the loop thread, so the loop ends with an empty map and nothing races select().
        close_all = lambda: [channel.handle_close() for channel in list(server._map.values())]  # noqa: E731
        try:
            server.trigger.pull_trigger(close_all)
        except OSError:  # the wake-up trigger's descriptor is already gone (seen once under load): close from here
            close_all()
        thread.join(timeout=5)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive(), "waitress did not stop"


@dataclass
class Tally:
    """HTTP statuses (and client-side exceptions as 'error: <name>') of one kind of request."""

    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    throttled: int = 0  # 429 answers a client waited out (Retry-After) and retried
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, key) -> None:
        with self.lock:
            self.statuses[key] += 1

    def server_errors(self) -> int:
        return sum(n for key, n in self.statuses.items() if not isinstance(key, int) or key >= 500)


class Customer:
    """A signed-in portal customer over real HTTP: a requests session that knows its CSRF token."""

    def __init__(self, base_url: str, email: str, password: str):
        self.base = base_url
        self.session = requests.Session()
        page = self.session.get(f"{self.base}/login", timeout=30)
        token = CSRF_RE.search(page.text).group(1)
        response = self.session.post(f"{self.base}/login", data={"_csrf": token, "email": email, "password": password},
                                     allow_redirects=False, timeout=30)
        if response.status_code != 303:
            raise AssertionError(f"sign-in of {email} answered {response.status_code}")

    def create_ticket(self, tally: Tally, values: dict | None = None) -> str | None:
        """Open the topic form and submit it as a browser does (multipart); returns the ticket's URL."""
        try:
            form = self.session.get(f"{self.base}{TOPIC_URL}", timeout=30)
            tally.add(form.status_code)
            data = {**(values or TICKET_VALUES), "_csrf": CSRF_RE.search(form.text).group(1),
                    "_idem": IDEM_RE.search(form.text).group(1)}
            # An empty file part, as a browser sends for "no file chosen": the body is multipart.
            response = self.session.post(f"{self.base}{TOPIC_URL}", data=data, files={"attachments": ("", b"")},
                                         allow_redirects=False, timeout=30)
        except (requests.RequestException, AttributeError) as exc:
            tally.add(f"error: {type(exc).__name__}")
            return None
        tally.add(response.status_code)
        return response.headers.get("Location")


def sign_in(base_url: str, logins: list[tuple[str, str]]) -> list[Customer]:
    return [Customer(base_url, email, password) for email, password in logins]


def submit_tickets(customers: list[Customer], per_customer: int) -> Tally:
    """Every customer submits `per_customer` tickets; all customers at once, one thread each."""
    tally = Tally()

    def run(customer: Customer) -> None:
        for _ in range(per_customer):
            customer.create_ticket(tally)

    started = time.monotonic()
    with ThreadPoolExecutor(len(customers)) as pool:
        list(pool.map(run, customers))
    tally.seconds = time.monotonic() - started
    return tally


def create_tickets(base_url: str, logins: list[tuple[str, str]], per_customer: int) -> Tally:
    """Every customer signs in, then all submit their tickets at once."""
    return submit_tickets(sign_in(base_url, logins), per_customer)


def post_events(base_url: str, api_token: str, customer_refs: list[str], per_customer: int, threads: int = 8,
                event: dict = BALANCE_EVENT) -> Tally:
    """A burst of events API posts (one idempotency key each) from `threads` concurrent clients honouring 429s."""
    tally = Tally()
    bodies = [{**event, "customer": ref, "idempotency_key": f"burst-{ref}-{i}"}
              for i in range(per_customer) for ref in customer_refs]
    local = threading.local()

    def post(body: dict) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"Bearer {api_token}"
        try:
            # A well-behaved billing client: the API limits each token and says when to come back.
            while (response := local.session.post(f"{base_url}/api/v1/events", json=body, timeout=30)).status_code == 429:
                with tally.lock:
                    tally.throttled += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
            tally.add(response.status_code)
        except requests.RequestException as exc:
            tally.add(f"error: {type(exc).__name__}")

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(post, bodies))
    tally.seconds = time.monotonic() - started
    return tally


def wait_drained(db, timeout: float) -> float | None:
    """Seconds until no outbox row is pending or sending (None if still busy after `timeout`)."""
    from engine.store.models import Delivery

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with db.connection_context():
            busy = Delivery.select().where(Delivery.status.in_(("pending", "sending"))).count()
        if busy == 0:
            return time.monotonic() - started
        time.sleep(0.1)
    return None


def runqueue_wait(pids) -> dict[int, float]:
    """Seconds each process has spent runnable but waiting for a CPU so far (Linux schedstat of its main thread): the
    time other load on the machine took from it, which no code under test can win back."""
    waits = {}
    for pid in pids:
        try:
            waits[pid] = int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):  # gone, or a kernel without schedstat: count nothing
            pass
    return waits


def worst_window_excess(times: list[float], rate: float, burst: float) -> float:
    """How far the busiest stretch of sends exceeds a token bucket's allowance (burst + rate x its length); <= 0 is within."""
    times = sorted(times)
    worst = float("-inf")
    for i, start in enumerate(times):
        for j in range(i, len(times)):
            worst = max(worst, (j - i + 1) - (burst + rate * (times[j] - start)))
    return worst
