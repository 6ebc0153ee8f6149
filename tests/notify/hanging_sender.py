"""Worker plugin for the kill test: email sends announce themselves and wait while HOLD_DIR/hold exists."""
from __future__ import annotations

import os
import time
from pathlib import Path

from channels.email.sender import send_email
from engine.senders import register_sender


def send_when_released(rt, outgoing) -> None:
    control = Path(os.environ["HOLD_DIR"])
    (control / f"started-{outgoing.delivery_id}-{os.getpid()}").touch()
    while (control / "hold").exists():
        time.sleep(0.05)
    send_email(rt, outgoing)


register_sender("email", send_when_released)
