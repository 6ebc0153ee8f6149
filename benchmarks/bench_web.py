"""Portal pages, fragments and ticket submission vs bare Flask baselines of the same shapes (benchmarks/bare_app.py).

Plain script: `python benchmarks/bench_web.py [--seconds 3] [--server none|waitress|gunicorn|all]`.
Every case runs beside its baseline in the same run, in short interleaved rounds, so a busy machine slows both:
first in-process through Flask's test client (what the app itself costs), then, with --server, over real HTTP:
`run.py web` (waitress, 8 threads) and `run.py web --workers 2` (gunicorn, 2 x 8 threads) against the bare app on
the same server, loaded by wrk (8 connections) or, without wrk, by a Python keep-alive client. SQLite file and an
embedded Redis; a signed-in customer (10 tickets) and agent; CSRF on.
"""
from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import bare_app  # noqa: E402
from channels import register_channels  # noqa: E402
from engine import accounts, tickets  # noqa: E402
from engine.redis_conn import redis_url_of, stop_embedded_redis  # noqa: E402
from engine.runtime import start_runtime  # noqa: E402
from engine.settings import PROJECT_ROOT, Settings  # noqa: E402
from engine.store.models import ALL_MODELS, Ticket  # noqa: E402
from web import create_app  # noqa: E402

register_channels()  # as run.py does at a process's start

TOPIC_URL = "/c/chats/chat-problem"
CHECK_FIELD = "account_id"
PHRASE = "бот не отвечает в чате"
VALUES = {"account_id": "12345", "chat_id": "chat-1", "channel": "Telegram", "subject": "Бот молчит",
          "message": "После обновления бот не отвечает в Telegram."}
TICKETS = 10  # the customer's tickets: my-tickets and the agent queue list them
PASSWORD = "bench-password-1"


@dataclass
class Case:
    """One portal request and its bare baseline; `goal` is the ratio the issue asks for."""

    name: str
    method: str
    path: str
    bare_path: str
    goal: float
    user: str = "customer"
    form: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    fragment: bool = False  # also report p95 latency
    unique_idem: bool = False  # a fresh idempotency key per request (each one creates a ticket)


@dataclass
class Portal:
    rt: object
    workdir: Path
    clients: dict
    cookies: dict
    csrf: dict
    ticket_number: int
    fields: list
    last_seeded: int  # the id of the last seeded ticket: later ones are submissions, forgotten after their case

    def forget_submissions(self) -> None:
        """Delete the tickets the submission case created (their rows cascade), so the lists keep their shape."""
        Ticket.delete().where(Ticket.id > self.last_seeded).execute()


def started_portal(redis_url: str = "") -> Portal:
    """A runtime on a fresh data folder with a signed-in customer (10 tickets, one answered) and agent."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-web-"))
    shutil.copytree(PROJECT_ROOT / "config", workdir / "config")
    env = {"REDIS_URL": redis_url} if redis_url else {}
    rt = start_runtime(Settings(config_dir=workdir / "config", data_dir=workdir / "data", secret_key="bench",
                                redis_url=redis_url, env=env))
    rt.db.create_tables(ALL_MODELS)
    customer = accounts.create_user("bench@example.com", PASSWORD)
    agent = accounts.create_user("agent@example.com", PASSWORD, role="agent", name="Агент")
    created = [tickets.create_ticket(rt, customer, "chats/chat-problem", {**VALUES, "subject": f"Бот молчит {n}"}, [], "web")
               for n in range(TICKETS)]
    tickets.add_reply(rt, created[0], agent, "Проверяем, ответим в течение часа.", [], "web")
    app = create_app(runtime=rt)
    clients, cookies, csrf = {}, {}, {}
    for role, user in (("customer", customer), ("agent", agent)):
        client = clients[role] = app.test_client()
        client.post("/login", data={"email": user.email, "password": PASSWORD, "_csrf": _token(client.get("/login"))})
        csrf[role] = _token(client.get(TOPIC_URL if role == "customer" else "/agent/"))
        cookies[role] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    fields = list(rt.catalog.form_for(rt.catalog.topic("chats/chat-problem")).fields)
    return Portal(rt, workdir, clients, cookies, csrf, created[0].number, fields, created[-1].id)


def _token(response) -> str:
    return response.get_data(as_text=True).split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def cases(portal: Portal) -> list[Case]:
    htmx = {"HX-Request": "true"}
    return [
        Case("topic form page", "GET", TOPIC_URL, "/form", 0.5),
        Case("ticket page", "GET", f"/tickets/{portal.ticket_number}", "/ticket", 0.5),
        Case("agent ticket page", "GET", f"/agent/tickets/{portal.ticket_number}", "/ticket", 0.5, user="agent"),
        Case("my tickets", "GET", "/tickets", "/list", 0.5),
        Case("agent queue", "GET", "/agent/", "/queue", 0.5, user="agent"),
        Case("ticket submission", "POST", TOPIC_URL, "/submit", 0.5, form=VALUES, unique_idem=True),
        Case("inline field check", "POST", f"{TOPIC_URL}/check/{CHECK_FIELD}", f"/check/{CHECK_FIELD}", 0.7,
             form={CHECK_FIELD: "12345"}, headers=htmx, fragment=True),
        Case("topic suggestions", "GET", "/search?" + urlencode({"q": PHRASE}), "/suggest?" + urlencode({"q": PHRASE}), 0.7,
             headers=htmx, fragment=True),
    ]


def portal_calls(portal: Portal) -> dict:
    """Each case as a test-client call of the portal (asserting its status), by name; used by profile_web.py too."""
    calls = {}
    for case in cases(portal):
        client, token = portal.clients[case.user], portal.csrf[case.user]

        def call(i, case=case, client=client, token=token):
            if case.method == "GET":
                status = client.get(case.path, headers=case.headers).status_code
            else:
                form = {**case.form, "_csrf": token, **({"_idem": _idem(i)} if case.unique_idem else {})}
                status = client.post(case.path, data=form, headers={**case.headers, "X-CSRFToken": token}).status_code
            assert status in (200, 303), (case.name, status)
        calls[case.name] = call
    return calls


def bare_calls(portal: Portal) -> dict:
    client = bare_app.create_app(portal.fields, rows=TICKETS, db=portal.rt.db, queue=portal.rt.queue).test_client()
    calls = {}
    for case in cases(portal):
        def call(i, case=case):
            if case.method == "GET":
                status = client.get(case.bare_path, headers=case.headers).status_code
            else:
                status = client.post(case.bare_path, data={**case.form, "_idem": _idem(i)}, headers=case.headers).status_code
            assert status in (200, 303), (case.name, status)
        calls[case.name] = call
    return calls


def _idem(i: int) -> str:
    return f"bench-{i:012d}-{time.monotonic_ns()}"


def measure_in_process(portal: Portal, seconds: float, rounds: int = 5) -> list[tuple[Case, float, float, float | None]]:
    """(case, bare req/s, portal req/s, portal p95 ms) per case, bare and portal alternating in short rounds."""
    portal_side, bare_side = portal_calls(portal), bare_calls(portal)
    results = []
    for case in cases(portal):
        sides = {"bare": bare_side[case.name], "portal": portal_side[case.name]}
        done, spent, latencies = {"bare": 0, "portal": 0}, {"bare": 0.0, "portal": 0.0}, []
        for side, call in sides.items():
            for i in range(5):  # warm-up: templates compiled, caches filled
                call(i)
        for _ in range(rounds):
            for side, call in sides.items():
                started = time.perf_counter()
                while (now := time.perf_counter()) - started < seconds / rounds:
                    call(done[side])
                    done[side] += 1
                    if side == "portal":
                        latencies.append(time.perf_counter() - now)
                spent[side] += time.perf_counter() - started
        portal.forget_submissions()
        p95 = sorted(latencies)[int(len(latencies) * 0.95)] * 1000 if case.fragment else None
        results.append((case, done["bare"] / spent["bare"], done["portal"] / spent["portal"], p95))
    return results


# --- real servers ---------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(command: list[str], env: dict, port: int, log: Path, ready_path: str) -> subprocess.Popen:
    """Start a server and wait until it answers `ready_path` with 200 four times (every worker has booted)."""
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline, answered = time.monotonic() + 60, 0
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", ready_path)
            answered += conn.getresponse().status == 200
            conn.close()
            if answered >= 4:
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(command)} exited: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{' '.join(command)} did not listen on {port}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def servers(kind: str, portal: Portal) -> dict[str, tuple[list[str], int]]:
    """The portal's and the bare app's commands for one server kind, with their ports."""
    python, ports = sys.executable, {"portal": free_port(), "bare": free_port()}
    if kind == "waitress":
        return {"portal": ([python, "run.py", "web", "--port", str(ports["portal"])], ports["portal"]),
                "bare": ([python, "-m", "waitress", "--threads", "8", "--port", str(ports["bare"]), "--call",
                          "benchmarks.bare_app:create_app"], ports["bare"])}
    return {"portal": ([python, "run.py", "web", "--workers", "2", "--port", str(ports["portal"])], ports["portal"]),
            "bare": ([python, "-m", "gunicorn", "--workers", "2", "--threads", "8", "--worker-class", "gthread",
                      "--bind", f"127.0.0.1:{ports['bare']}", "--log-level", "warning",
                      "benchmarks.bare_app:create_app()"], ports["bare"])}


WRK_SCRIPT = """
wrk.method = "{method}"
{headers}
local body = "{body}"
local idem = {idem}
local n = 0
wrk.body = body
request = function()
  if idem then
    n = n + 1
    return wrk.format(nil, nil, nil, body .. "&_idem=wrk" .. string.format("%012d", n) .. tostring(os.time()) .. "{salt}")
  end
  return wrk.format()
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d\\n", summary.requests, summary.duration, latency:percentile(95),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def wrk_run(url: str, method: str, headers: dict, body: str, idem: bool, seconds: float, tmp: Path,
            connections: int = 8) -> tuple[float, float, int]:
    """(requests/s, p95 ms, errors) of wrk with 8 connections on 2 threads, or one connection."""
    lines = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    script = tmp / "case.lua"
    script.write_text(WRK_SCRIPT.format(method=method, headers=lines, body=body, idem="true" if idem else "false",
                                        salt=time.monotonic_ns()))
    out = subprocess.run(["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    requests, duration, p95, errors = map(int, re.search(r"RESULT (\d+) (\d+) (\d+) (\d+)", out).groups())
    return requests / (duration / 1e6), p95 / 1000, errors


def python_run(url: str, method: str, headers: dict, body: str, idem: bool, seconds: float, _tmp: Path,
               connections: int = 8) -> tuple[float, float, int]:
    """The same as wrk_run with 8 keep-alive threads of http.client (slower: the clients share a GIL)."""
    host, port, path = re.match(r"http://([^:]+):(\d+)(.*)", url).groups()
    latencies, errors, lock, deadline = [], [0], threading.Lock(), time.monotonic() + seconds

    def client(number: int) -> None:
        conn, i, mine, failed = http.client.HTTPConnection(host, int(port)), 0, [], 0
        while time.monotonic() < deadline:
            i += 1
            payload = body + (f"&_idem=py{number:03d}{i:012d}{time.monotonic_ns()}" if idem else "")
            started = time.perf_counter()
            conn.request(method, path, body=payload.encode() if method == "POST" else None, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            failed += response.status >= 400
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies) / (time.monotonic() - started), sorted(latencies)[int(len(latencies) * 0.95)] * 1000, errors[0]


def measure_server(kind: str, portal: Portal, seconds: float, rounds: int = 2) -> list[tuple[Case, float, float, float | None]]:
    load = wrk_run if shutil.which("wrk") else python_run
    redis_url = redis_url_of(portal.rt.redis)
    env = {"HELPDESK_CONFIG": str(portal.workdir / "config"), "HELPDESK_DATA": str(portal.workdir / "data"),
           "SECRET_KEY": "bench", "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "BARE_DATA": str(portal.workdir),
           "PYTHONPATH": str(ROOT)}
    started, results = {}, []
    try:
        for side, (command, port) in servers(kind, portal).items():
            log = portal.workdir / f"{kind}-{side}.log"
            started[side] = (start_server(command, env, port, log, "/form" if side == "bare" else "/healthz"), port)
        for case in cases(portal):
            totals = {"bare": [0.0, [], 0], "portal": [0.0, [], 0]}
            for _ in range(rounds):
                for side in ("bare", "portal"):
                    headers = dict(case.headers)
                    path = case.bare_path if side == "bare" else case.path
                    body = ""
                    if side == "portal":
                        headers["Cookie"] = f"helpdesk_session={portal.cookies[case.user]}"
                        headers["X-CSRFToken"] = portal.csrf[case.user]
                    if case.method == "POST":
                        headers["Content-Type"] = "application/x-www-form-urlencoded"
                        body = urlencode({**case.form, **({"_csrf": portal.csrf[case.user]} if side == "portal" else {})})
                    url = f"http://127.0.0.1:{started[side][1]}{path}"
                    rate, _p95, errors = load(url, case.method, headers, body, case.unique_idem, seconds / rounds, portal.workdir)
                    totals[side][0] += rate / rounds
                    totals[side][2] += errors
                    if case.fragment and side == "portal":  # latency of one client: 8 saturating ones measure queueing
                        totals[side][1].append(load(url, case.method, headers, body, False, seconds / rounds, portal.workdir, 1)[1])
            portal.forget_submissions()
            if totals["portal"][2] or totals["bare"][2]:
                print(f"  {case.name}: {totals['portal'][2]} portal / {totals['bare'][2]} bare responses were errors")
            results.append((case, totals["bare"][0], totals["portal"][0], max(totals["portal"][1]) if case.fragment else None))
    finally:
        for process, _port in started.values():
            stop_server(process)
    return results


def report(title: str, results) -> None:
    print(f"\n{title}")
    print(f"{'case':<22}{'bare req/s':>11}{'portal req/s':>14}{'ratio':>8}{'goal':>7}{'p95 ms':>8}")
    for case, bare, portal, p95 in results:
        if not bare or not portal:
            print(f"{case.name:<22}{bare:11.0f}{portal:14.0f}  (no requests answered)")
            continue
        reached = "ok" if portal / bare >= case.goal and (p95 is None or p95 < 5) else "short"
        p95_text = f"{p95:8.2f}" if p95 is not None else " " * 8
        print(f"{case.name:<22}{bare:11.0f}{portal:14.0f}{portal / bare:8.2f}{case.goal:7.1f}{p95_text}  {reached}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per case and side")
    parser.add_argument("--server", choices=("none", "waitress", "gunicorn", "all"), default="none")
    args = parser.parse_args()
    portal = started_portal()
    try:
        report(f"Flask test client, in-process, {args.seconds:g} s per case and side in 5 interleaved rounds",
               measure_in_process(portal, args.seconds))
        kinds = {"none": [], "all": ["waitress", "gunicorn"]}.get(args.server, [args.server])
        for kind in kinds:
            label = "run.py web (waitress, 8 threads)" if kind == "waitress" else "run.py web --workers 2 (gunicorn, 2 x 8 threads)"
            client = "wrk -t2 -c8" if shutil.which("wrk") else "Python client, 8 keep-alive threads"
            report(f"{label} vs the bare app on the same server; {client}, {args.seconds:g} s per case and side",
                   measure_server(kind, portal, args.seconds))
    finally:
        portal.rt.db.close()
        stop_embedded_redis(portal.rt.redis)
        shutil.rmtree(portal.workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
