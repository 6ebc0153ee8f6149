"""Field validation: every type, hostile values, exact messages in the customer's language."""
from __future__ import annotations

from typing import get_args

import pytest

from engine.attachments import Upload
from engine.catalog.schema import FieldType as SchemaFieldType
from engine.forms import FIELD_TYPES, clean_field, validate_field, validate_submission
from engine.settings import PROJECT_ROOT
from tests.engine.samples import EXE, PDF, PNG

HUGE = "я" * 1_000_001


def field(catalog, form_id: str, field_id: str):
    return catalog.forms[form_id].field(field_id)


def test_every_schema_type_has_a_validator():
    """The registry covers exactly the field types the config schema allows."""
    assert set(FIELD_TYPES) == set(get_args(SchemaFieldType))
    assert all(t.description for t in FIELD_TYPES.values())


def test_every_field_type_is_documented():
    """docs/CONFIG.md names each type the registry validates."""
    docs = (PROJECT_ROOT / "docs" / "CONFIG.md").read_text()
    assert [name for name in FIELD_TYPES if f"`{name}`" not in docs] == []


@pytest.mark.parametrize("form_id, field_id, raw, message", [
    # string: min/max length, control characters, wrong types, huge input
    ("every-type", "title", "ab", "Слишком коротко: минимум 3 символов."),
    ("every-type", "title", "x" * 21, "Слишком длинно: максимум 20 символов."),
    ("every-type", "title", "abc\x00def", "Поле содержит недопустимые символы."),
    ("every-type", "title", "abc\ndef", "Поле содержит недопустимые символы."),
    ("every-type", "title", "abc\x1b[31m", "Поле содержит недопустимые символы."),
    ("every-type", "title", "abc\ud800", "Поле содержит недопустимые символы."),
    ("every-type", "title", HUGE, "Слишком длинно: максимум 1000 символов."),
    ("every-type", "title", ["a", "b"], "Недопустимое значение."),
    ("every-type", "title", {"$gt": ""}, "Недопустимое значение."),
    ("every-type", "title", True, "Недопустимое значение."),
    ("every-type", "title", 3.5, "Недопустимое значение."),
    # text: newlines and tabs are fine, other control characters are not
    ("every-type", "notes", "line\x07bell", "Поле содержит недопустимые символы."),
    ("every-type", "notes", "x" * 101, "Слишком длинно: максимум 100 символов."),
    ("every-type", "notes", HUGE, "Слишком длинно: максимум 50000 символов."),
    # integer
    ("every-type", "amount", "12a", "Введите целое число."),
    ("every-type", "amount", "1.5", "Введите целое число."),
    ("every-type", "amount", 1.5, "Введите целое число."),
    ("every-type", "amount", True, "Введите целое число."),
    ("every-type", "amount", "9" * 400, "Введите целое число."),
    ("every-type", "amount", "0", "Число должно быть не меньше 1."),
    ("every-type", "amount", "1001", "Число должно быть не больше 1000."),
    ("every-type", "amount", 10**30, "Введите целое число."),
    ("every-type", "amount", "1; DROP TABLE ticket", "Введите целое число."),
    # select
    ("every-type", "method", "cash", "Выберите один из предложенных вариантов."),
    ("every-type", "method", "card ", None),
    ("every-type", "method", ["card"], "Недопустимое значение."),
    # boolean
    ("every-type", "refund", "maybe", "Ответьте «да» или «нет»."),
    ("every-type", "refund", ["да"], "Ответьте «да» или «нет»."),
    # email
    ("every-type", "refund_email", "not-an-email", "Введите адрес электронной почты, например name@example.com."),
    ("every-type", "refund_email", "a@b", "Введите адрес электронной почты, например name@example.com."),
    ("every-type", "refund_email", "a@example.com\r\nBcc: x@evil.com", "Поле содержит недопустимые символы."),
    ("every-type", "refund_email", "a" * 300 + "@example.com", "Слишком длинно: максимум 254 символов."),
    ("every-type", "refund_email", "a,b@example.com", "Введите адрес электронной почты, например name@example.com."),
    ("every-type", "refund_email", '"<x>"@example.com', "Введите адрес электронной почты, например name@example.com."),
    # phone
    ("every-type", "phone", "12345", "Введите номер телефона, например +7 900 123-45-67."),
    ("every-type", "phone", "+7 900 CALL-ME", "Введите номер телефона, например +7 900 123-45-67."),
    # date
    ("every-type", "paid_on", "2026-02-30", "Введите дату в формате ДД.ММ.ГГГГ или ГГГГ-ММ-ДД."),
    ("every-type", "paid_on", "yesterday", "Введите дату в формате ДД.ММ.ГГГГ или ГГГГ-ММ-ДД."),
    ("every-type", "paid_on", "31.13.2026", "Введите дату в формате ДД.ММ.ГГГГ или ГГГГ-ММ-ДД."),
    # a pattern with its configured message, and one without
    ("site", "account_id", "12a45", "Номер ЛК состоит только из цифр, например 12345."),
    ("site", "account_id", "1" * 13, "Номер ЛК состоит только из цифр, например 12345."),
    ("site", "domain", "EXAMPLE", "Значение указано в неверном формате."),
    # required
    ("site", "account_id", "   ", "Заполните это поле."),
    ("site", "account_id", None, "Заполните это поле."),
])
def test_hostile_value_gets_exact_message(catalog, form_id, field_id, raw, message):
    assert validate_field(catalog, field(catalog, form_id, field_id), raw, "ru") == message


@pytest.mark.parametrize("field_id, raw, clean", [
    ("title", "  Привет  ", "Привет"),
    ("notes", "a\r\nb\tc", "a\nb\tc"),
    ("amount", " 42 ", 42),
    ("amount", 7, 7),
    ("method", "card", "card"),
    ("refund", "да", True),
    ("refund", "No", False),
    ("refund", False, False),
    ("refund_email", "Name@EXAMPLE.com", "Name@example.com"),
    ("refund_email", "иван.петров+hd@почта.рф", "иван.петров+hd@почта.рф"),
    ("phone", "+7 (900) 123-45-67", "+79001234567"),
    ("paid_on", "31.12.2026", "2026-12-31"),
    ("paid_on", "2026-01-05", "2026-01-05"),
])
def test_valid_values_are_cleaned(catalog, field_id, raw, clean):
    assert clean_field(catalog, field(catalog, "every-type", field_id), raw, "ru") == (clean, None)


def test_select_accepts_the_option_label(catalog):
    """Telegram may send the shown label; the value is stored."""
    assert clean_field(catalog, field(catalog, "site", "panel"), "ISPmanager", "ru") == ("isp", None)


def test_messages_follow_the_locale(catalog):
    assert validate_field(catalog, field(catalog, "every-type", "amount"), "x", "en") == "Enter a whole number."


@pytest.mark.parametrize("uploads, message", [
    ([Upload(f"{i}.pdf", PDF) for i in range(3)], "Можно прикрепить не больше 2 файлов."),
    ([Upload("empty.pdf", b"")], "Файл «empty.pdf» пустой."),
    ([Upload("big.pdf", PDF + b"0" * (1024 * 1024))], "Файл «big.pdf» больше 1 МБ."),
    ([Upload("setup.png", EXE)], "Файл «setup.png»: содержимое не соответствует расширению."),
    ([Upload("setup.exe", EXE)], "Файл «setup.exe»: такой тип файлов не принимается."),
    ([Upload("notes.txt", "привет".encode())], "Файл «notes.txt»: такой тип файлов не принимается."),
    ([Upload("../../etc/passwd.pdf", PNG)], "Файл «passwd.pdf»: содержимое не соответствует расширению."),
    (["not a file"], "Недопустимое значение."),
])
def test_attachment_field_rejects(catalog, uploads, message):
    assert validate_field(catalog, field(catalog, "every-type", "receipt"), uploads, "ru") == message


def test_attachment_field_accepts_allowed_files(catalog):
    value, error = clean_field(catalog, field(catalog, "every-type", "receipt"), [Upload("..\\scan.png", PNG), Upload("a.pdf", PDF)], "ru")
    assert error is None
    assert [(u.filename, u.content_type) for u in value] == [("scan.png", "image/png"), ("a.pdf", "application/pdf")]


def test_policy_limits_apply_to_the_default_attachments_field(catalog):
    """Six files against the policy's five -> an error on the attachments field."""
    form = catalog.forms["default"]
    _, errors = validate_submission(catalog, form, {"subject": "s", "message": "m"}, [Upload(f"{i}.png", PNG) for i in range(6)], "ru")
    assert errors == {"attachments": "Можно прикрепить не больше 5 файлов."}


def test_submission_reports_every_bad_field_and_drops_unknown_ones(catalog):
    form = catalog.forms["every-type"]
    values = {"subject": "", "message": "ok", "amount": "lots", "title": "fine", "is_admin": "1"}
    clean, errors = validate_submission(catalog, form, values, [], "ru")
    assert errors == {"subject": "Заполните это поле.", "amount": "Введите целое число."}
    assert clean == {"message": "ok", "title": "fine"}


def test_visible_when_hides_and_requires(catalog):
    """refund_email is required only when refund is yes; when hidden, its value is dropped, not validated."""
    form = catalog.forms["every-type"]
    base = {"subject": "s", "message": "m"}
    _, errors = validate_submission(catalog, form, {**base, "refund": "да"}, [], "ru")
    assert errors == {"refund_email": "Заполните это поле."}
    clean, errors = validate_submission(catalog, form, {**base, "refund": "нет", "refund_email": "garbage"}, [], "ru")
    assert errors == {} and "refund_email" not in clean and clean["refund"] is False


def test_uploads_to_a_form_without_attachments_are_refused(catalog):
    from engine.catalog.catalog import Form
    bare = Form("bare", None, tuple(f for f in catalog.forms["default"].fields if f.type != "attachments"))
    _, errors = validate_submission(catalog, bare, {"subject": "s", "message": "m"}, [Upload("a.png", PNG)], "ru")
    assert errors == {"attachments": "В этой форме нельзя прикрепить файлы."}
