"""Every registered route, every parameter, hostile values, GET and POST, each role: never a 5xx; bad ids are 404."""
from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from engine.store.models import Attachment
from tests.web.conftest import WebClient
from tests.web.helpers import PNG, make_ticket

HOSTILE = ["9" * 24, str(2**63), "-1", "0", "١٢", "１２", "²", "12\r\n", "\r\nSet-Cookie: a=1", "%0d%0a", "a" * 5000,
           "../", "..%2F..%2Fetc%2Fpasswd", "\x00", "<script>alert(1)</script>", "' OR 1=1 --", "1e3", " 1"]
BAD_IDS = ["9" * 24, str(2**63), "-1", "0", "١٢", "１٢", "٣", "00000000000000000000001", "1.0", "0x10"]
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
ROLES = ("anonymous", "customer", "agent", "admin")


@pytest.fixture
def valid(rt, users):
    """A legitimate value for each route parameter, so only the one under test is hostile."""
    ticket = make_ticket(rt, users["customer"], files=[("a.png", PNG)])
    binding = next(iter(rt.catalog.bindings(kind="telegram")), "support")
    return {"number": str(ticket.number), "attachment_id": str(Attachment.get().id), "delivery_id": "1",
            "category_id": "chats", "topic_id": "chat-problem", "field_id": "account_id", "binding": binding,
            "binding_id": binding, "filename": "app.css", "reply_id": "greeting"}


def urls(app, valid, value, raw=False):
    """(rule, url) with one parameter replaced by `value` (percent-encoded unless raw), for every rule and parameter."""
    for rule in app.url_map.iter_rules():
        names = PARAM.findall(rule.rule)
        for name in names:
            def fill(match, target=name):
                got = match.group(1)
                return (value if raw else quote(value, safe="")) if got == target else quote(valid[got], safe="")
            yield rule, PARAM.sub(fill, rule.rule)


@pytest.mark.parametrize("value", HOSTILE)
def test_no_route_answers_5xx_to_hostile_parameters(app, as_role, valid, value):
    clients = {role: as_role(role) for role in ROLES if role != "anonymous"}
    clients["anonymous"] = WebClient(app.test_client())
    checked = 0
    for raw in (False, True):
        if raw and value != "../":
            continue
        for rule, url in urls(app, valid, value, raw=raw):
            for client in clients.values():
                for response in (client.get(url), client.post(url, {"message": "x"})):
                    assert response.status_code < 500, (rule.rule, url[:80], response.status_code)
                    checked += 1
    assert checked > 100


@pytest.mark.parametrize("value", BAD_IDS)
def test_out_of_range_or_non_ascii_ids_are_404_on_every_id_route(app, as_role, valid, value):
    admin = as_role("admin")
    id_rules = [rule for rule in app.url_map.iter_rules() if "<id:" in rule.rule]
    assert len(id_rules) >= 13  # every ticket, file and delivery route
    for rule in id_rules:
        for name in PARAM.findall(rule.rule):
            url = PARAM.sub(lambda m, target=name: quote(value if m.group(1) == target else valid[m.group(1)], safe=""),
                            rule.rule)
            method = admin.get if "GET" in rule.methods else admin.post
            assert method(url).status_code == 404, url


def test_every_numeric_parameter_uses_the_bounded_converter(app):
    for rule in app.url_map.iter_rules():
        for name, converter in rule._converters.items():
            if name.endswith(("_id", "number")) and name not in ("category_id", "topic_id", "field_id", "binding_id", "reply_id"):
                assert type(converter).__name__ == "IdConverter", rule.rule


def test_the_reported_overflows_are_404(rt, as_role, users):
    ticket = make_ticket(rt, users["customer"])
    assert as_role("customer").get(f"/tickets/{ticket.number}/files/{'9' * 24}").status_code == 404
    assert as_role("admin").post(f"/admin/deliveries/{'9' * 24}/retry").status_code == 404
