"""`run.py config check | schema | reload` as a user runs them."""
from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from engine.catalog import load_catalog
from engine.catalog_sync import VERSION_KEY
from engine.catalog.json_schema import schema_texts
from engine.redis_conn import redis_url_of
from engine.settings import PROJECT_ROOT
from engine.store.models import AuditLog
from run import main

SCHEMA_COMMENT = re.compile(r"^# yaml-language-server: \$schema=(\S+)", re.M)
SUMMARY = re.compile(r"^OK: \d+ categories, \d+ topics, \d+ forms, \d+ fields, \d+ notification types, version [0-9a-f]{12}$")


def test_check_prints_a_summary(mini, capsys):
    """A valid config exits 0 with one summary line, after its warnings."""
    assert main(["config", "check", "--config", "config"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "config/categories/chats.yaml:4: warning: topics.0.id: topic 'chat-problem' has no keywords: add words customers would type to find it",
        "config/categories/chats.yaml:7: warning: topics.1.id: topic 'other' has no keywords: add words customers would type to find it",
        f"OK: 1 categories, 2 topics, 2 forms, 5 fields, 1 notification types, version {_version()}",
    ]


def test_strict_check_fails_on_warnings(mini, capsys):
    """--strict: warnings are errors (exit 1); without warnings it passes."""
    assert main(["config", "check", "--config", "config", "--strict"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "config/categories/chats.yaml:4: topics.0.id: topic 'chat-problem' has no keywords: add words customers would type to find it",
        "config/categories/chats.yaml:7: topics.1.id: topic 'other' has no keywords: add words customers would type to find it",
        "2 error(s)",
    ]
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты\ntopics:\n  - {id: other, title: Иное, keywords: [прочее]}\n")
    assert main(["config", "check", "--config", "config", "--strict"]) == 0


def test_check_lists_every_error(mini, capsys):
    """An invalid config exits 1 and prints each error, then the count."""
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чаты\ntopics: [{id: x, title: X, form: nope}]\n")
    mini.write("forms/fields.yaml", "fields:\n  account_id: {label: ЛК, pattern: '('}\n")
    assert main(["config", "check", "--config", "config"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "config/categories/chats.yaml:3: topics.0.form: unknown form 'nope'",
        "config/forms/fields.yaml:2: fields.account_id.pattern: the pattern is not a valid regular expression: a '(' is never closed (at character 1)",
        "2 error(s)",
    ]


@pytest.mark.parametrize("config", ["config", "examples/planetahost"])
def test_shipped_configs_pass(config, capsys, monkeypatch):
    """Both shipped configurations load cleanly."""
    monkeypatch.chdir(PROJECT_ROOT)
    assert main(["config", "check", "--config", config]) == 0
    *warnings, last = capsys.readouterr().out.splitlines()
    assert SUMMARY.match(last)
    assert all(": warning: " in line for line in warnings)


def test_committed_schemas_are_current():
    """config/schema/*.json are what `config schema` generates now (rerun it after changing schema.py)."""
    committed = {p.name: p.read_text(encoding="utf-8") for p in (PROJECT_ROOT / "config" / "schema").glob("*.schema.json")}
    assert committed == schema_texts(), "stale JSON Schemas: run `python run.py config schema`"


def test_schema_command_writes_every_kind(tmp_path, capsys):
    """One schema per file kind, at the names the shipped files reference."""
    assert main(["config", "schema", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(schema_texts())


def _shipped_yaml_files():
    for folder in ("config", "examples/planetahost"):
        yield from sorted((PROJECT_ROOT / folder).rglob("*.yaml"))


@pytest.mark.parametrize("path", list(_shipped_yaml_files()), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_shipped_files_reference_a_schema_that_accepts_them(path: Path):
    """Editors validate each shipped file against the schema its yaml-language-server comment names."""
    text = path.read_text(encoding="utf-8")
    match = SCHEMA_COMMENT.search(text)
    assert match, f"{path} has no yaml-language-server $schema comment"
    schema_path = (path.parent / match.group(1)).resolve()
    assert schema_path.exists(), f"{path}: {match.group(1)} does not exist"
    jsonschema.validate(yaml.safe_load(text) or {}, yaml.safe_load(schema_path.read_text(encoding="utf-8")))


@pytest.fixture
def cli_env(mini, redis, monkeypatch, tmp_path):
    """The CLI's environment: the test's Redis and a SQLite file under tmp_path, upgraded."""
    monkeypatch.setenv("REDIS_URL", redis_url_of(redis))
    monkeypatch.setenv("HELPDESK_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["db", "upgrade"]) == 0


def test_reload_stores_announces_and_prints_changes(cli_env, redis, mini, capsys):
    """`config reload` validates, stores a version running processes switch to, and shows what changed."""
    capsys.readouterr()
    assert main(["config", "reload", "--config", "config"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert first[1:] == ["Stored version 1; running processes switch within a second.", "first version: 7 files", *FIRST]
    assert main(["config", "reload", "--config", "config"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["Version 1 already has these files: nothing to store."]
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чат\ntopics:\n  - id: other\n    title: Иное\n    priority: low\n")
    assert main(["config", "reload", "--config", "config", "-m", "fewer topics"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["Stored version 2; running processes switch within a second.", "~ categories/chats.yaml", *FEWER]
    assert redis.get(VERSION_KEY) == b"2"
    assert main(["config", "history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"v2  \S+ \S+  cli:\S+@\S+  {_version()}  fewer topics", lines[0])
    assert lines[1:4] == ["    ~ categories/chats.yaml", *(f"    {line}" for line in FEWER)]
    assert lines[4].startswith("v1  ") and lines[5] == "    first version: 7 files"
    reloads = [row.detail for row in AuditLog.select().where(AuditLog.action == "config_reload").order_by(AuditLog.id)]
    assert [(d["actor"].startswith("cli:"), d["number"], d["stored"], d["changes"]["lines"][:1]) for d in reloads] == [
        (True, 1, True, FIRST[:1]), (True, 1, False, []), (True, 2, True, FEWER[:1])]


FIRST = ['+ category chats: "Чаты"', '+ topic chats/chat-problem: "Проблема с чатами"', '+ topic chats/other: "Иное"',
         "+ form chat-problem", "+ form default", '+ notification low_balance: "Низкий баланс"', "+ channel notify_bot", "+ channel web"]
FEWER = ['~ category chats: title: "Чаты" -> "Чат"', '- topic chats/chat-problem: "Проблема с чатами"']


def test_diff_shows_what_a_reload_would_change(cli_env, mini, capsys):
    """`config diff` compares the folder with the newest stored version (an empty catalog before the first), in
    English or Russian, and stores nothing."""
    assert main(["config", "diff", "--config", "config"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Against an empty catalog (no version is stored yet):" and out[1:] == FIRST
    assert main(["config", "reload", "--config", "config"]) == 0
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чат\ntopics:\n  - id: other\n    title: Иное\n    priority: low\n")
    capsys.readouterr()
    assert main(["config", "diff", "--config", "config", "--lang", "ru"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "По сравнению с версией 1:", '~ категория chats: название: "Чаты" -> "Чат"',
        '- тема chats/chat-problem: "Проблема с чатами"']
    assert main(["config", "diff", "--config", "config"]) == 0 and main(["config", "history", "--limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Against version 1:"


def test_rollback_publishes_an_earlier_version_again_and_audits_it(cli_env, redis, mini, capsys):
    """`config rollback 1` stores version 1's files as version 3, announces it and writes an audit row."""
    assert main(["config", "reload", "--config", "config"]) == 0
    mini.write("categories/chats.yaml", "id: chats\ntitle: Чат\ntopics:\n  - id: other\n    title: Иное\n    priority: low\n")
    assert main(["config", "reload", "--config", "config"]) == 0
    capsys.readouterr()
    assert main(["config", "rollback", "1", "-m", "назад"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["Stored version 3; running processes switch within a second.", "~ categories/chats.yaml",
                       '~ category chats: title: "Чат" -> "Чаты"', '+ topic chats/chat-problem: "Проблема с чатами"']
    assert redis.get(VERSION_KEY) == b"3"
    row = AuditLog.select().where(AuditLog.action == "config_rollback").get()
    assert row.actor is None and row.detail["actor"].startswith("cli:") and row.detail["from"] == 1
    assert row.detail["number"] == 3 and row.detail["changes"]["lines"][0] == out[3]
    assert main(["config", "history", "--limit", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("  назад")
    assert main(["config", "rollback", "9"]) == 1
    assert capsys.readouterr().out == "error: version 9 is not stored (see `python run.py config history`)\n"


def test_reload_refuses_an_invalid_config(cli_env, redis, mini, capsys):
    """Nothing is stored or announced when the config has errors."""
    mini.write("forms/chat-problem.yaml", "id: chat-problem\nextends: nope\n")
    assert main(["config", "reload", "--config", "config"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "1 error(s)"
    assert redis.get(VERSION_KEY) is None
    assert main(["config", "history"]) == 0 and capsys.readouterr().out.strip() == "No version is stored yet."


def test_reload_with_redis_down_still_stores(cli_env, mini, monkeypatch, tmp_path, capsys):
    """Redis away: the version is stored; processes find it by polling the database."""
    monkeypatch.setenv("REDIS_URL", f"unix://{tmp_path}/no-such.sock")
    capsys.readouterr()
    assert main(["config", "reload", "--config", "config"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == (
        "Stored version 1; Redis is unreachable: running processes switch at their next check (every 5 s).")


def _version() -> str:
    return load_catalog("config").version
