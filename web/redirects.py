"""The one check every redirect target taken from a request goes through: same-origin paths only.

A browser parses a Location header by the WHATWG URL rules: it drops tabs and newlines anywhere, strips
leading/trailing controls and spaces, and reads `\\` as `/`. So `/\\t/evil.example` becomes `//evil.example`,
another host. Rather than predict every rewrite, a target that a browser would rewrite at all is refused.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

MAX_TARGET = 2048
_PROBE_ORIGIN = "http://origin.invalid"


def safe_next(target: object) -> str | None:
    """`target` if it is a plain path on this site (e.g. `/tickets?x=1#reply`), else None (use a default)."""
    if not isinstance(target, str) or not 0 < len(target) <= MAX_TARGET:
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None  # relative paths and scheme-relative URLs
    if "\\" in target or any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in target):
        return None  # what a browser would strip or turn into `/`
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    resolved = urlsplit(urljoin(_PROBE_ORIGIN + "/", target))
    if f"{resolved.scheme}://{resolved.netloc}" != _PROBE_ORIGIN:
        return None
    return target
