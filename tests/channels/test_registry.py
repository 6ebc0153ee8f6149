"""The channel registry: one list of installed channels, extended by HELPDESK_CHANNELS, the same in every process."""
from __future__ import annotations

import pytest

from app.wsgi import create_app
from channels import INSTALLED, channel_modules, register_channels
from engine.catalog import load_catalog
from engine.channel_registry import ChannelRegistry, registry
from tests.channels.conftest import TOY_MODULE


def test_helpdesk_channels_adds_modules_after_the_installed_ones():
    """Extra modules come after the installed list, each once; blanks are ignored."""
    env = {"HELPDESK_CHANNELS": f" {TOY_MODULE} , ,{INSTALLED[1]}"}
    assert channel_modules(env) == [*INSTALLED, TOY_MODULE]
    assert channel_modules({}) == list(INSTALLED)


def test_registering_gives_the_kinds_in_order_and_those_that_take_tickets():
    """The settings matrix's columns follow registration; the portal and the bots take tickets, email and the toy not."""
    fresh = ChannelRegistry()
    register_channels(fresh, env={"HELPDESK_CHANNELS": TOY_MODULE})
    assert fresh.kinds() == ("web", "email", "telegram", "toy")
    assert fresh.ticket_kinds() == ("web", "telegram")
    assert fresh.sender("toy") is not None


def test_a_catalog_cannot_load_before_the_channels_are_registered(config_dir):
    """A process that forgot to register its channels is told how, not given a catalog without bindings."""
    saved = registry.snapshot()
    registry.restore(({}, {}))
    try:
        with pytest.raises(RuntimeError, match="register_channels"):
            load_catalog(config_dir)
    finally:
        registry.restore(saved)


def test_the_wsgi_entry_registers_the_channels_before_the_app(rt):
    """`app.wsgi.create_app` is the web app for other WSGI servers, with the installed channels."""
    saved = registry.snapshot()
    registry.restore(({}, {}))
    try:
        app = create_app(runtime=rt, overrides={"TESTING": True})
        assert registry.kinds()[:3] == ("web", "email", "telegram")
        assert app.test_client().get("/healthz").status_code == 200
    finally:
        registry.restore(saved)
