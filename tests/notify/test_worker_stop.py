"""A worker asked to stop while a send hangs stops after a short grace without it; the send is made once, later."""
from __future__ import annotations

import pytest

from engine.notify import enqueue_deliveries, notify
from engine.store.models import Delivery
from tests.notify.conftest import make_customer
from tests.waiting import HANG_CAP, wait_for

pytestmark = pytest.mark.postgres

HANGING = ("--load", "tests.notify.hanging_sender", "--sweep-every", "0.5")


def test_a_busy_worker_stops_without_its_hung_job_and_its_delivery_is_sent_once_later(bound, short_lease, mailbox,
                                                                                     workers, tmp_path):
    """The job hangs until the test lets it go, so a worker that exits stopped cold after its grace time (a wall-clock
    bound failed on a machine six times oversubscribed: 5.7 s for the 2.5 s grace plus teardown)."""
    (tmp_path / "hold").touch()
    with bound.db.atomic():
        notification = notify(bound.catalog, make_customer(), "support_reply",
                              {"ticket_number": 7, "subject": "Звонки", "reply": "Готово."})
    enqueue_deliveries(bound, [notification.id])
    busy = workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    wait_for(lambda: list(tmp_path.glob("started-*")))
    busy.terminate()
    busy.wait(HANG_CAP)
    assert "stopping without it" in (tmp_path / "worker-0.log").read_text()
    assert Delivery.get().status == "sending" and mailbox.messages == []
    (tmp_path / "hold").unlink()
    workers.start(*HANGING, HOLD_DIR=str(tmp_path))
    mailbox.wait(1)
    wait_for(lambda: Delivery.get().status == "sent")
    assert len(mailbox.messages) == 1
