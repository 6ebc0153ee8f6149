"""A stop signal is never lost: remembered while a command starts up, and taken by the main thread only.

A CI run saw a worker ignore SIGTERM for 120 s: the signal came 0.3 s after launch, while psycopg2's C init ran
during an import, and the SystemExit raised by the handler was cleared by that C code. Separately, the kernel may
deliver a process's signal to any thread that does not block it, and CPython runs the handler only when the main
thread gets back to Python code (RQ's BLMOVE blocks for minutes).
"""
from __future__ import annotations

import _thread
import contextlib
import re
import signal
import threading
from typing import Callable
from pathlib import Path

from redis.exceptions import RedisError
from rq import SimpleWorker
from rq.exceptions import StopRequested
from rq.worker import WorkerStatus

from app.worker import SCHEDULER_TAKEOVER, _wind_down, listening_class
from engine.stop_signals import PendingStop

from tests.processes.test_no_leftover_processes import STOP_LIMIT, RunPy, rq_workers, stop
from tests.processes.test_no_leftover_processes import run_py, subreaper  # noqa: F401 (fixtures)
from tests.telegram.conftest import NOTIFY_TOKEN, SUPPORT_TOKEN
from tests.telegram.fake_bot_api import FakeBotAPI
from tests.waiting import HANG_CAP, wait_for

STOP_MASK = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))


def threads_taking_stop_signals(pid: int) -> list[int]:
    """Thread ids of `pid`, other than its main thread, whose signal mask lets SIGTERM or SIGINT in."""
    open_threads = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        if int(task.name) == pid:
            continue
        try:
            blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", (task / "status").read_text(), re.M).group(1), 16)
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        if blocked & STOP_MASK != STOP_MASK:
            open_threads.append(int(task.name))
    return open_threads


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def test_a_worker_s_helper_threads_block_stop_signals(run_py):
    proc = run_py.start("worker", "--sweep-every", "0.2")
    wait_for(lambda: rq_workers(run_py) == 1, message="the worker to register")
    wait_for(lambda: thread_count(proc.pid) >= 3, message="the sweeper and RQ's command listener")
    assert threads_taking_stop_signals(proc.pid) == []
    stop(proc)
    assert proc.returncode == 0


def test_the_web_server_s_threads_block_stop_signals(run_py):
    proc = run_py.start("web", "--port", "0", "--threads", "4")
    wait_for(lambda: re.search(r"Serving on http", proc.stdout.readline() or "x"), message="waitress")
    assert thread_count(proc.pid) >= 5
    assert threads_taking_stop_signals(proc.pid) == []
    stop(proc)
    assert proc.returncode == 0


def test_the_bot_runner_s_threads_block_stop_signals(tmp_path, config_dir):
    with FakeBotAPI({SUPPORT_TOKEN: "sup_test_bot", NOTIFY_TOKEN: "notify_test_bot"}) as api:
        run = RunPy(config_dir, tmp_path / "data", TELEGRAM_API_URL=api.url,
                    SUPPORT_BOT_TOKEN=SUPPORT_TOKEN, NOTIFY_BOT_TOKEN=NOTIFY_TOKEN)
        assert run.run("db", "upgrade").returncode == 0
        proc = run.start("bot")
        wait_for(lambda: api.calls_of("getUpdates", SUPPORT_TOKEN) and api.calls_of("getUpdates", NOTIFY_TOKEN),
                 message="both bots polling")
        assert threads_taking_stop_signals(proc.pid) == []
        stop(proc)
        api.interrupt_polls()
    assert proc.returncode == 0


def test_a_sigterm_during_an_import_that_swallows_exceptions_still_stops_the_worker(run_py):
    proc = run_py.start("worker", "--load", "tests.processes.swallowing_import")
    wait_for(lambda: "swallowing import started" in (proc.stdout.readline() or ""), message="the import to start")
    elapsed, _ = stop(proc)
    output = proc.stdout.read()
    # The stop can only take effect once the import is over (it swallows for 1 s).
    assert proc.returncode == 0 and elapsed < STOP_LIMIT + 1.0, f"exit {proc.returncode} after {elapsed:.1f} s\n{output}"


def stop_losing_the_exception(worker, ready: Callable[[], bool], **work_kwargs) -> None:
    """Run `worker` here and, once `ready()`, request its stop from another thread, where the StopRequested is
    lost as it is inside a `__del__`; assert the worker's loop still ended."""
    lost, returned, hung = [], threading.Event(), []

    def stop_when_ready():
        wait_for(ready, message="the worker to reach the state under test")
        try:
            worker._shutdown()
        except StopRequested as exc:
            lost.append(exc)
        if not returned.wait(HANG_CAP):
            hung.append(True)
            _thread.interrupt_main()  # RQ's loop logs the KeyboardInterrupt and returns

    helper = threading.Thread(target=stop_when_ready, daemon=True)
    helper.start()
    try:
        with contextlib.suppress(RedisError):  # RQ's teardown talks to Redis, which a test may have taken down
            worker.work(logging_level="ERROR", **work_kwargs)
    finally:
        returned.set()
        helper.join()
        _wind_down(worker)  # RQ's teardown stops its command listener only when Redis answers
    assert lost, "the stop raised StopRequested in the helper thread, where nothing sees it"
    assert not hung, f"the idle worker was still in its loop {HANG_CAP:.0f} s after the stop"


def idle_worker(queue, connection):
    return listening_class(SimpleWorker, PendingStop())([queue], connection=connection,
                                                         maintenance_interval=SCHEDULER_TAKEOVER)


def test_an_idle_worker_stops_when_its_stop_exception_is_lost(rt):
    """A CI run saw `run.py worker` run on for 30 s after SIGTERM: the handler had run inside a redis-py parser's
    `__del__`, where Python ignores exceptions, so the StopRequested that ends an idle worker was lost and RQ went
    on reading its queue. Here the stop is requested from another thread, where its exception is lost alike."""
    worker = idle_worker(rt.queue, rt.redis)
    stop_losing_the_exception(
        worker, lambda: worker.get_state() == WorkerStatus.IDLE and worker.last_cleaned_at is not None)
