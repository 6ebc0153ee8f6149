"""Open redirects: every `next` goes through web.redirects.safe_next, which refuses what a browser would send elsewhere."""
from __future__ import annotations

import pytest

from web.redirects import safe_next

# Known open-redirect payloads (PortSwigger / PayloadsAllTheThings style); each must fall back to the default.
REFUSED = [
    "/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "\t//evil.example", "/\t\t/evil.example",
    "//evil.example", "///evil.example", "////evil.example", "//evil.example/%2F..", "//evil.example:80/x",
    "/\\evil.example", "\\\\evil.example", "/\\/evil.example", "\\/evil.example", "\\/\\/evil.example",
    "/\t\\evil.example", "https://evil.example", "http://evil.example/tickets", "HTTPS://EVIL.EXAMPLE",
    "https:/evil.example", "https:evil.example", "https:\\\\evil.example", "ftp://evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "evil.example", "@evil.example", "tickets",
    "https://good.example@evil.example", "//evil.example\\@good.example", "//2130706433", "//0x7f.0x0.0x0.0x1",
    "//[::1]/", " //evil.example", "\x00//evil.example", "/\x00/evil.example", "\x0b//evil.example",
    "/\u3000/evil.example", "/\u2028/evil.example", "/\x85/evil.example", "/\r\nSet-Cookie: a=1",
    "/tickets\r\nLocation: https://evil.example", "", "/" + "a" * 3000,
]
KEPT = ["/", "/tickets", "/tickets/1001", "/tickets/1001#reply", "/agent/?status=open&category=chats",
        "/search?q=%D1%87%D0%B0%D1%82", "/c/chats/chat-problem", "/tickets/%2F%2Fx", "/settings?saved=1"]


@pytest.mark.parametrize("target", REFUSED)
def test_open_redirect_payloads_are_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", [None, 42, ["/tickets"]])
def test_non_text_is_refused(target):
    assert safe_next(target) is None


@pytest.mark.parametrize("target", KEPT)
def test_same_site_paths_are_kept(target):
    assert safe_next(target) == target


@pytest.mark.parametrize("target", REFUSED)
def test_the_language_switch_falls_back_to_home(web, target):
    response = web.post("/locale", {"locale": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", REFUSED)
def test_sign_in_falls_back_to_the_home_page(web, users, target):
    response = web.post("/login", {"email": users["customer"].email, "password": "correct horse battery", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


@pytest.mark.parametrize("target", KEPT)
def test_sign_in_and_the_language_switch_keep_site_paths(web, users, target):
    assert web.post("/locale", {"locale": "en", "next": target}).headers["Location"] == target
    response = web.post("/login", {"email": users["customer"].email, "password": "correct horse battery", "next": target})
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\r\n/x"])
def test_the_sign_in_page_does_not_carry_a_bad_next(web, target):
    page = web.get("/login", query_string={"next": target}).get_data(as_text=True)
    assert page.count('name="next"') == 1  # only the language switch's own (this page's path), not the sign-in form's
