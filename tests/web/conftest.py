"""Web fixtures: the app on a fresh Runtime, signed-in clients per role, a live waitress server, Chromium args."""
from __future__ import annotations

import re
import threading

import pytest
from argon2 import PasswordHasher

from engine import accounts
from web import create_app
from app.commands.web import make_server

PASSWORD = "correct horse battery"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium: Playwright cannot download its own browser here."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Production argon2 costs ~0.3 s a hash; tests sign in dozens of times, so they use minimal parameters."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(accounts, "_hasher", cheap)
    monkeypatch.setattr(accounts, "_DUMMY_HASH", cheap.hash("unknown account"))


@pytest.fixture
def app(rt):
    return create_app(runtime=rt, overrides={"TESTING": True})


@pytest.fixture
def users(rt):
    """One account per role, plus a second customer who must never see the first one's tickets."""
    return {
        "customer": accounts.create_user("anna@example.com", PASSWORD, name="Анна"),
        "other": accounts.create_user("boris@example.com", PASSWORD, name="Борис"),
        "agent": accounts.create_user("agent@example.com", PASSWORD, role="agent", name="Агент"),
        "admin": accounts.create_user("admin@example.com", PASSWORD, role="admin", name="Админ"),
    }


class WebClient:
    """A Flask test client that knows its CSRF token and signs in."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def csrf(self) -> str:
        if self.token is None:
            page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            self.token = CSRF_RE.search(page).group(1)
        return self.token

    def login(self, email: str, password: str = PASSWORD):
        response = self.post("/login", data={"email": email, "password": password})
        self.token = None  # sign-in starts a new session, with a new token
        return response

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, htmx=False, csrf=True, **kwargs):
        data = dict(data or {})
        headers = dict(kwargs.pop("headers", {}))
        if htmx:
            headers["HX-Request"] = "true"
        if csrf:
            if htmx:
                headers["X-CSRFToken"] = self.csrf()
            else:
                data.setdefault("_csrf", self.csrf())
        return self.client.post(url, data=data, headers=headers, **kwargs)


@pytest.fixture
def web(app):
    return WebClient(app.test_client())


@pytest.fixture
def as_role(app, users):
    """as_role("customer") -> a WebClient signed in as that user."""

    def make(role: str) -> WebClient:
        client = WebClient(app.test_client())
        assert client.login(users[role].email).status_code == 303
        return client

    return make


class LiveServer:
    """The app on the production waitress setup (app.commands.web.make_server) on a free port, in a thread."""

    def __init__(self, app, **overrides):
        self.server = make_server(app, "127.0.0.1", 0, threads=4, **overrides)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.effective_port

    def _run(self):
        try:
            self.server.run()
        except OSError:
            if not self.stopping.is_set():  # closing the sockets under select() is how waitress stops
                raise

    def stop(self):
        self.stopping.set()
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    """The app on a real waitress server on a free port, stopped after the test."""
    server = LiveServer(app)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()
