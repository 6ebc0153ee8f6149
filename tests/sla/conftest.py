"""SLA fixtures: the domain tests' config plus an sla.yaml and the two SLA notification types; a clock tests move."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.engine.conftest import ENGINE_CONFIG, agent, customer  # noqa: F401 (fixtures)

SLA_YAML = """
calendar: msk
warn_before: 1h
calendars:
  msk:
    time_zone: Europe/Moscow
    hours: {mon: "09:00-18:00", tue: "09:00-18:00", wed: "09:00-18:00", thu: "09:00-18:00", fri: "09:00-18:00"}
    holidays: [2027-03-08]
targets:
  urgent: {first_response: 2h, resolution: 8h}
  low: {resolution: 16h}
"""
SLA_TYPES = """
  sla_warning:
    title: SLA warning
    source: ticket
    params: {ticket_number: integer, target: string, due_local: string}
    default_channels: [web]
    templates:
      web: "#{{ ticket_number }} {{ target }} due {{ due_local }}"
      email: {subject: "#{{ ticket_number }}", body: "{{ target }} due {{ due_local }}"}
  sla_breach:
    title: SLA breach
    source: ticket
    params: {ticket_number: integer, target: string, due_local: string}
    default_channels: [web]
    templates:
      web: "#{{ ticket_number }} {{ target }} breached {{ due_local }}"
      email: {subject: "#{{ ticket_number }}", body: "{{ target }} breached {{ due_local }}"}
"""


@pytest.fixture
def config_dir(tmp_path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(ENGINE_CONFIG, target)
    (target / "sla.yaml").write_text(SLA_YAML, encoding="utf-8")
    types = target / "notifications" / "types.yaml"
    types.write_text(types.read_text(encoding="utf-8") + SLA_TYPES, encoding="utf-8")
    return target


class MovableClock:
    """rt.clock for these tests: starts Monday 15 March 2027, 10:00 Moscow (07:00 UTC)."""

    def __init__(self):
        self.now = datetime(2027, 3, 15, 7, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def set(self, *parts) -> datetime:
        self.now = datetime(*parts, tzinfo=timezone.utc)
        return self.now


@pytest.fixture
def clock(rt) -> MovableClock:
    rt.clock = MovableClock()
    return rt.clock
