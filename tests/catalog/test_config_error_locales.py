"""Config errors in the reader's language: every message the error tests produce has a Russian text."""
from __future__ import annotations

import re

import pytest

from engine.catalog import ConfigErrors, load_catalog
from engine.catalog.errors import ConfigError
from engine.catalog.lint import ConfigWarning
from engine.catalog.messages import localize, translate
from run import main
from tests.catalog import test_catalog_errors, test_catalog_messages, test_teams_config

LATIN_WORDS = re.compile(r"\b(?:the|is|of|must|a|not|unknown|field|file|form|and|or|has|no)\b")


@pytest.mark.parametrize("files, expected", test_catalog_errors.CASES + test_catalog_messages.CASES + test_teams_config.CASES)
def test_every_tested_message_has_a_russian_text(mini, files, expected):
    """Apart from quoted names and YAML's or Jinja's own wording, no English is left."""
    mini.write_all(files)
    with pytest.raises(ConfigErrors) as raised:
        load_catalog("config")
    for error in raised.value.errors:
        russian = translate(error.message, "ru")
        left = re.sub(r"'[^']*'|`[^`]*`|ошибка синтаксиса.*|\\(?:d|\*)", "", russian)
        assert not LATIN_WORDS.search(left), (error.message, russian)


def test_localize_keeps_file_line_and_path():
    error = ConfigError("config/forms/fields.yaml", 4, "fields.account_id.pattern",
                        "the pattern is not a valid regular expression: a '[' is never closed (at character 1)")
    assert localize(error, "en") == str(error)
    assert localize(error, "ru") == ("config/forms/fields.yaml:4: fields.account_id.pattern: "
                                     "шаблон не является правильным регулярным выражением: скобка '[' не закрыта (символ 1)")


def test_localize_a_warning_and_a_hint():
    warning = ConfigWarning("config/categories/chats.yaml", 5, "topics.0.id", "topic 'x' has no keywords: add words customers would type to find it")
    assert localize(warning, "ru") == ("config/categories/chats.yaml:5: warning: topics.0.id: "
                                       "у темы 'x' нет ключевых слов (keywords): добавьте слова, которыми клиенты будут ее искать")
    hinted = ConfigError("config/policy.yaml", 0, "", "unknown file, not read (did you mean 'policies.yaml'?)")
    assert localize(hinted, "ru") == "config/policy.yaml: неизвестный файл, он не читается (может быть, 'policies.yaml'?)"


def test_an_unknown_message_stays_english():
    assert translate("something new", "ru") == "something new"


def test_check_in_russian(mini, capsys):
    """`config check --lang ru` prints the errors in Russian; the default is English."""
    mini.write("categories/chats.yaml", "")
    assert main(["config", "check", "--config", "config", "--lang", "ru"]) == 1
    assert capsys.readouterr().out.splitlines() == ["config/categories/chats.yaml:1: файл пуст", "ошибок: 1"]
