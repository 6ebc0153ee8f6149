"""Why a field's `pattern` is not a regular expression, in words for someone who does not write them daily."""
from __future__ import annotations

import re

# re.error's message (its start) -> the explanation; {detail} is the rest of re's message.
_PLAIN = (
    ("unterminated character set", "a '[' is never closed"),
    ("missing ), unterminated subpattern", "a '(' is never closed"),
    ("unbalanced parenthesis", "a ')' has no '(' before it"),
    ("nothing to repeat", "'*', '+', '?' or '{{' has nothing before it to repeat (write \\* for the character itself)"),
    ("multiple repeat", "two repeat signs in a row, such as '**' or '+*'"),
    ("bad escape (end of pattern)", "the pattern ends with a lone backslash"),
    ("bad escape", "{detail} is not a known escape (write \\\\ for a backslash)"),
    ("bad character range", "the range {detail} runs backwards: write the smaller character first"),
    ("min repeat greater than max repeat", "in '{{m,n}}' the first number is larger than the second"),
)


def regex_problem(pattern: str) -> str | None:
    """None for a valid pattern, else 'the pattern is not a valid regular expression: <why> (at character N)'."""
    try:
        re.compile(pattern)
    except re.error as exc:
        why = next((plain.format(detail=exc.msg[len(start):].strip()) for start, plain in _PLAIN if exc.msg.startswith(start)), exc.msg)
        where = f" (at character {exc.pos + 1})" if exc.pos is not None else ""
        return f"the pattern is not a valid regular expression: {why}{where}"
    return None
