"""Why a config file could not be read, in words for the person who edits it, at the line to fix.

PyYAML reports where the scanner gave up: for an unclosed quote that is the end of the file or a later
line. Here the line where the quote opened is found instead, and the usual slips (a `\\d` in double
quotes, a file saved in another encoding, an empty file) get their own message with the fix.
"""
from __future__ import annotations

import re

import yaml

# The escapes YAML allows inside double quotes (after the backslash).
DOUBLE_QUOTED_ESCAPES = set('0abtnvfre "/\\N_LPxuU\t')
# Where a value starts: after `key:` or `- ` (a quoted key is rare in config files and not handled).
_VALUE_START = re.compile(r"""^\s*(?:-\s+)*(?:[^\s#'"\[{][^#]*?:\s+)?(?:-\s+)*(["'])""")

NOT_UTF8 = "the file is not UTF-8: save it as UTF-8"
EMPTY = "the file is empty"


def not_utf8_line(raw: bytes) -> int | None:
    """The 1-based line of the first byte that is not UTF-8, or None for a UTF-8 file."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw[: exc.start].count(b"\n") + 1
    return None


def explain(text: str, exc: yaml.YAMLError) -> tuple[int, str]:
    """(1-based line, message) for a YAML syntax error in `text`."""
    lines = text.splitlines()
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None) or ""
    problem_line = problem_mark.line + 1 if problem_mark else 1
    if context_mark is not None and "quoted scalar" in context:
        opened = context_mark.line + 1
        quote = _unclosed_quote(lines, opened) if opened <= len(lines) else None
        if "unknown escape" in problem and quote is None:
            return problem_line, _escape_message(lines[problem_line - 1] if problem_line <= len(lines) else "")
        return opened, _unclosed_message(quote or '"')
    for number in range(1, min(problem_line, len(lines)) + 1):
        quote = _unclosed_quote(lines, number)
        if quote:
            return number, _unclosed_message(quote)
    line = (context_mark.line + 1) if problem_mark is None and context_mark else problem_line
    return line, f"YAML syntax error: {problem}"


def _unclosed_quote(lines: list[str], number: int) -> str | None:
    """The quote character that opens a value on line `number` and is never closed, else None.

    A quote closed on a later line at that line's end is a value written over several lines; one "closed" in the
    middle of a later line is really the opening quote of another value.
    """
    match = _VALUE_START.match(lines[number - 1])
    if not match:
        return None
    quote = match.group(1)
    end = _closing(lines[number - 1], match.end(), quote)
    if end is not None:
        return None
    for line in lines[number:]:
        end = _closing(line, 0, quote)
        if end is not None:
            rest = line[end + 1:].strip()
            return None if not rest or rest.startswith("#") else quote
    return quote


def _closing(line: str, start: int, quote: str) -> int | None:
    """The index of the quote that closes a quoted value on `line` from `start`, else None."""
    i = start
    while i < len(line):
        char = line[i]
        if quote == '"' and char == "\\":
            i += 2
            continue
        if char == quote:
            if quote == "'" and line[i + 1: i + 2] == "'":
                i += 2
                continue
            return i
        i += 1
    return None


def _unclosed_message(quote: str) -> str:
    return f"the quote {quote} opened on this line is never closed: end the value with {quote}"


def _escape_message(line: str) -> str:
    bad = next((m.group(0) for m in re.finditer(r"\\(.)", line) if m.group(1) not in DOUBLE_QUOTED_ESCAPES), "\\")
    return (f"in double quotes a backslash starts an escape and {bad} is not one: "
            "use single quotes around patterns (pattern: '^\\d+$')")
