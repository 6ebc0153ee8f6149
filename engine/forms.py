"""One validator for every channel: field types as data, each with the function that cleans its raw value."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Callable, Mapping, Sequence

from engine.attachments import Upload, check_uploads
from engine.catalog import Catalog
from engine.catalog.catalog import Field, Form
from engine.catalog.texts import all_versions, in_locale
from engine.errors import InvalidValue

# Hard caps that apply even when the config sets no max_length: nobody types more, and a
# regex over a megabyte-sized value is a denial of service.
STRING_CAP = 1000
TEXT_CAP = 50_000
EMAIL_CAP = 254
PHONE_CAP = 32
INTEGER_DIGITS_CAP = 18  # fits a signed 64-bit column

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on", "да", "д"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off", "нет", "н"})
# RFC 5322 atext in the local part (no commas, quotes or angle brackets that would split a To header).
EMAIL_RE = re.compile(r"^[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?=.{1,253}\Z)[\w-]+(\.[\w-]+)+\Z")  # \Z: no trailing newline
PHONE_RE = re.compile(r"^\+?\d{7,15}$")
INTEGER_RE = re.compile(rf"^[+-]?\d{{1,{INTEGER_DIGITS_CAP}}}$")
RU_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def undeliverable(email: str) -> bool:
    """An address under the reserved `.invalid` domain (RFC 2606): the placeholder of an account without an email."""
    return str(email or "").lower().endswith(".invalid")


@dataclass(frozen=True)
class FieldType:
    """A field type: its name and the function turning a raw value into a clean one (or raising InvalidValue)."""

    name: str
    clean: Callable[[Field, object], object]
    description: str


def _text(raw: object, multiline: bool, cap: int) -> str:
    """A stripped string without control characters (newline and tab allowed in multi-line text)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise InvalidValue("wrong_type")
    value = str(raw)
    if len(value) > 2 * cap:  # refuse a megabyte paste before copying it around
        raise InvalidValue("too_long", max=cap)
    value = value.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > cap:
        raise InvalidValue("too_long", max=cap)
    allowed = "\n\t" if multiline else ""
    for ch in value:
        if ch not in allowed and unicodedata.category(ch) in ("Cc", "Cs"):
            raise InvalidValue("control_chars")
    return unicodedata.normalize("NFC", value)


def text_limit(field: Field) -> int:
    """The most characters a text-like field takes: its max_length within the type's hard cap."""
    cap = TEXT_CAP if field.type == "text" else EMAIL_CAP if field.type == "email" else STRING_CAP
    return min(field.max_length or cap, cap)


def _lengths(field: Field, value: str, cap: int) -> str:
    limit = min(field.max_length or cap, cap)
    if len(value) > limit:
        raise InvalidValue("too_long", max=limit)
    if field.min_length and len(value) < field.min_length:
        raise InvalidValue("too_short", min=field.min_length)
    return value


def clean_string(field: Field, raw: object) -> str:
    return _lengths(field, _text(raw, multiline=False, cap=STRING_CAP), STRING_CAP)


def clean_text(field: Field, raw: object) -> str:
    return _lengths(field, _text(raw, multiline=True, cap=TEXT_CAP), TEXT_CAP)


def clean_integer(field: Field, raw: object) -> int:
    if isinstance(raw, (bool, float)):
        raise InvalidValue("not_integer")
    if isinstance(raw, int):
        value = raw
    else:
        if isinstance(raw, str) and len(raw.strip()) > INTEGER_DIGITS_CAP + 8:
            raise InvalidValue("not_integer")
        text = _text(raw, multiline=False, cap=INTEGER_DIGITS_CAP + 8).replace(" ", "").replace("\u00a0", "")
        if not INTEGER_RE.match(text):
            raise InvalidValue("not_integer")
        value = int(text)
    if abs(value) >= 10**INTEGER_DIGITS_CAP:
        raise InvalidValue("not_integer")
    if field.min is not None and value < field.min:
        raise InvalidValue("too_small", min=field.min)
    if field.max is not None and value > field.max:
        raise InvalidValue("too_large", max=field.max)
    return value


def clean_select(field: Field, raw: object) -> str:
    if isinstance(raw, bool):
        raise InvalidValue("not_option")
    text = _text(raw, multiline=False, cap=STRING_CAP)
    for option in field.options:
        if text == option.value or (option.label is not None and text in all_versions(option.label)):
            return option.value
    raise InvalidValue("not_option")


def clean_boolean(field: Field, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if not isinstance(raw, (str, int)):
        raise InvalidValue("not_boolean")
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise InvalidValue("not_boolean")


def clean_email(field: Field, raw: object) -> str:
    value = _lengths(field, _text(raw, multiline=False, cap=EMAIL_CAP), EMAIL_CAP)
    if not EMAIL_RE.match(value):
        raise InvalidValue("not_email")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def clean_phone(field: Field, raw: object) -> str:
    value = _text(raw, multiline=False, cap=PHONE_CAP)
    compact = re.sub(r"[\s\-().\u00a0]", "", value)
    if not PHONE_RE.match(compact):
        raise InvalidValue("not_phone")
    return compact


def clean_date(field: Field, raw: object) -> str:
    if isinstance(raw, date):
        return raw.isoformat()
    value = _text(raw, multiline=False, cap=10)
    ru = RU_DATE_RE.match(value)
    try:
        if ru:
            return date(int(ru[3]), int(ru[2]), int(ru[1])).isoformat()
        if ISO_DATE_RE.match(value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise InvalidValue("not_date")


def clean_attachments(field: Field, raw: object) -> list[Upload]:
    uploads = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if not all(isinstance(u, Upload) for u in uploads):
        raise InvalidValue("wrong_type")
    return check_uploads(field, uploads)


FIELD_TYPES: Mapping[str, FieldType] = {
    t.name: t for t in (
        FieldType("string", clean_string, "One line of text"),
        FieldType("text", clean_text, "Several lines of text"),
        FieldType("integer", clean_integer, "A whole number, with optional min/max"),
        FieldType("select", clean_select, "One of the configured options"),
        FieldType("boolean", clean_boolean, "Yes or no"),
        FieldType("email", clean_email, "An email address"),
        FieldType("phone", clean_phone, "A phone number, 7 to 15 digits"),
        FieldType("date", clean_date, "A date, YYYY-MM-DD or DD.MM.YYYY"),
        FieldType("attachments", clean_attachments, "Files, limited by count, size and type"),
    )
}
PATTERN_TYPES = frozenset({"string", "text", "email", "phone"})


@lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def is_empty(raw: object) -> bool:
    """True for a value that was not given: None, blank text, an empty list."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, (list, tuple)):
        return not raw
    return False


def _clean(field: Field, raw: object) -> object:
    """The clean value of one raw value; raises InvalidValue."""
    if is_empty(raw):
        if field.required:
            raise InvalidValue("required")
        return None if field.type != "attachments" else []
    value = FIELD_TYPES[field.type].clean(field, raw)
    if field.pattern and field.type in PATTERN_TYPES and not _compiled(field.pattern).fullmatch(value):
        raise InvalidValue("pattern")
    return value


def clean_value(field: Field, raw: object) -> object:
    """The clean value, or None when the raw one is missing or invalid (what visible_when looks at)."""
    try:
        return _clean(field, raw)
    except InvalidValue:
        return None


def clean_field(catalog: Catalog, field: Field, raw: object, locale: str) -> tuple[object, str | None]:
    """Clean one raw value: (value, None) when valid, (None, localized message) when not."""
    try:
        return _clean(field, raw), None
    except InvalidValue as exc:
        if exc.key == "pattern" and field.pattern_message:
            return None, in_locale(field.pattern_message, locale)
        return None, catalog.text(locale, "validation", exc.key, **exc.params)


def visible_ids(fields: Sequence[Field], clean_values: Mapping[str, object]) -> set[str]:
    """The fields visible_when shows for these clean values (the one rule of every channel).

    A hidden field's value counts as not given, so a field depending on a hidden one is hidden too
    (its controller always comes before it: the catalog checks that).
    """
    shown: dict[str, object] = {}
    for field in fields:
        if field.is_visible(shown):
            shown[field.id] = clean_values.get(field.id)
    return set(shown)


def validate_field(catalog: Catalog, field: Field, raw: object, locale: str) -> str | None:
    """The localized error for one field's raw value, or None when it is valid (web inline, Telegram step)."""
    return clean_field(catalog, field, raw, locale)[1]


def validate_submission(
    catalog: Catalog, form: Form, values: Mapping[str, object], uploads: Sequence[Upload] | Mapping[str, Sequence[Upload]] | None,
    locale: str,
) -> tuple[dict[str, object], dict[str, str]]:
    """Check a whole form: (clean values by field id, errors by field id). Hidden and unknown fields are dropped.

    `uploads` is either a list (for the form's first attachments field) or a mapping field id -> list.
    Attachment fields' clean values are lists of checked Uploads (sanitized names, detected content types).
    """
    raw_values = dict(values or {})
    if isinstance(uploads, Mapping):
        raw_values.update(uploads)
    elif uploads:
        target = next((f.id for f in form.fields if f.type == "attachments"), None)
        if target is None:
            return {}, {"attachments": catalog.text(locale, "validation", "no_attachments")}
        raw_values[target] = list(uploads)
    cleaned: dict[str, object] = {}
    errors: dict[str, str] = {}
    for field in form.fields:
        cleaned[field.id], error = clean_field(catalog, field, raw_values.get(field.id), locale)
        if error:
            errors[field.id] = error
    # visible_when looks at clean values (a boolean answered "да" is True), then hidden fields vanish.
    visible = visible_ids(form.fields, cleaned)
    clean_values = {k: v for k, v in cleaned.items() if k in visible and k not in errors and not is_empty(v)}
    return clean_values, {k: v for k, v in errors.items() if k in visible}
