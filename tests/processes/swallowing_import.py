"""A module whose import swallows every exception for a while, as C extension code that clears errors does
(psycopg2's init swallowed a SIGTERM's SystemExit): `run.py worker --load tests.processes.swallowing_import`."""
import time

print("swallowing import started", flush=True)
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    try:
        time.sleep(0.05)
    except BaseException:  # noqa: B036 - on purpose: what the signal must survive
        pass
