"""UI text placeholders: `{name}` only. The built-in text of a key declares which names it may use.

An override in config/ui/ may use the names its built-in text uses (in any locale), nothing else: no attribute
or index access (`{a.b}`, `{a[0]}`), no conversions (`!r`) and no format specs (`:>9999`). Formatting at
runtime goes through `SafeFormatter`, which enforces the same rules whatever the text.
"""
from __future__ import annotations

import string

from engine.catalog.errors import did_you_mean


def placeholders(text: str) -> set[str]:
    """The field names of a text (defaults are trusted to be well-formed)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def placeholder_problems(text: str, allowed: set[str]) -> list[str]:
    """Why `text` may not be used for a key whose built-in text has the placeholders `allowed`."""
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        return [f"invalid placeholder syntax: {exc} (write a literal brace as {{{{ or }}}})"]
    problems = []
    for name, spec, conversion in fields:
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if not name.isidentifier():
            problems.append(f"placeholder {shown} is not a plain name: attribute, index and positional access are not allowed")
        elif conversion or spec:
            problems.append(f"placeholder {shown} has a conversion or format spec: write {{{name}}}")
        elif name not in allowed:
            names = ", ".join("{" + a + "}" for a in sorted(allowed))
            usable = f"this text may use: {names}" if allowed else "this text has no placeholders"
            problems.append(f"unknown placeholder {shown} ({usable})" + did_you_mean(name, allowed))
    return list(dict.fromkeys(problems))


class SafeFormatter(string.Formatter):
    """str.format limited to plain names: no attribute or index access, conversions or format specs.

    A name the caller did not pass stays as written, so a text never raises after the action it reports.
    """

    def get_field(self, field_name, args, kwargs):
        if not field_name.isidentifier():
            raise ValueError(f"placeholder {{{field_name}}} is not a plain name")
        return kwargs.get(field_name, "{" + field_name + "}"), field_name

    def convert_field(self, value, conversion):
        if conversion:
            raise ValueError("conversions are not allowed in UI texts")
        return value

    def format_field(self, value, format_spec):
        if format_spec:
            raise ValueError("format specs are not allowed in UI texts")
        return format(value)


SAFE_FORMATTER = SafeFormatter()
