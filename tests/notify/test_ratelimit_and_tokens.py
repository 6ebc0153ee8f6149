"""The shared token buckets and the API token lifecycle (CLI included)."""
from __future__ import annotations

import time

import pytest

import run
from engine.api_tokens import create_token, list_tokens, revoke_token, verify_token
from engine.errors import CredentialRevoked, NotFound, Unauthenticated
from engine.ratelimit import Bucket, RateLimiter
from engine.store.models import ApiToken


def test_bucket_allows_its_burst_then_asks_to_wait(redis):
    """Capacity 5 at 5/s: five takes pass, the sixth learns to wait about 0.2 s."""
    limiter = RateLimiter(redis)
    bucket = [Bucket("t:burst", 5, 5)]
    assert [limiter.take(bucket) for _ in range(5)] == [0] * 5
    assert 0.15 < limiter.take(bucket) <= 0.21


def test_waiters_get_distinct_turns(redis):
    """Refused callers are queued one interval apart instead of all retrying together."""
    limiter = RateLimiter(redis)
    bucket = [Bucket("t:queue", 1, 1)]
    assert limiter.take(bucket) == 0
    waits = [limiter.take(bucket) for _ in range(3)]
    assert [round(w) for w in waits] == [1, 2, 3]


def test_buckets_are_charged_together_or_not_at_all(redis):
    """A refused chat bucket leaves the bot bucket's tokens untouched."""
    limiter = RateLimiter(redis)
    bot, chat = Bucket("t:bot", 2, 2), Bucket("t:chat", 1, 1)
    assert limiter.take([bot, chat]) == 0
    assert limiter.take([bot, chat]) > 0
    assert limiter.take([bot]) == 0  # the bot's second token was not spent by the refused call


def test_tokens_refill_with_time(redis):
    limiter = RateLimiter(redis)
    bucket = [Bucket("t:refill", 20, 1)]
    assert limiter.take(bucket) == 0
    time.sleep(0.06)
    assert limiter.take(bucket) == 0


def test_token_is_stored_only_as_a_hash(rt):
    """The secret verifies, but only its SHA-256 is in the database."""
    row, secret = create_token("billing")
    assert secret not in {t.token_hash for t in ApiToken.select()}
    assert verify_token(secret).id == row.id
    with pytest.raises(Unauthenticated):
        verify_token(secret + "x")
    with pytest.raises(Unauthenticated):
        verify_token("")


def test_revoked_token_is_refused_and_revoking_twice_is_not_found(rt):
    _, secret = create_token("billing")
    assert revoke_token("billing") == 1
    with pytest.raises(CredentialRevoked):
        verify_token(secret)
    with pytest.raises(NotFound):
        revoke_token("billing")


def test_token_cli_add_list_revoke(rt, settings, monkeypatch, capsys):
    """`run.py token add|list|revoke` against the configured database; list never shows secrets."""
    monkeypatch.setenv("HELPDESK_DATA", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert run.main(["token", "add", "billing"]) == 0
    secret = capsys.readouterr().out.strip()
    assert verify_token(secret).name == "billing"
    assert run.main(["token", "list"]) == 0
    listing = capsys.readouterr().out
    assert "billing" in listing and "active" in listing and secret not in listing
    assert run.main(["token", "revoke", "billing"]) == 0
    assert run.main(["token", "revoke", "billing"]) == 1
    assert [t.revoked_at is not None for t in list_tokens()] == [True]
