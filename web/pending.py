"""Files chosen with a form that failed validation, kept for this browser session so they need not be chosen again.

Contents go to the attachment store (`rt.blobs`, content-addressed, as ticket files); what belongs to whom lives in one Redis
hash per session (`web:pending:<session key>`, field = file token), expiring after PENDING_TTL. A file belongs to a
scope (one form's field, e.g. `chats/chat-problem#attachments`). The form sends back the tokens it still wants
(`_kept` checkboxes); tokens of another session are simply not found. The signed session cookie marks a browser
that has kept files, so the forms of every other browser render and submit without asking Redis.
"""
from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass

from flask import has_request_context, session
from redis.exceptions import RedisError

from engine.attachments import Upload, check_uploads
from engine.errors import BlobNotFound, InvalidValue, StorageUnavailable
from engine.sessions import session_key
from web.context import runtime

log = logging.getLogger(__name__)

PENDING_TTL = 3600  # seconds a kept file waits for the form to be sent again
KEPT_FIELD = "_kept"  # form field carrying the tokens of kept files the customer still wants
MARK = "kept"  # session cookie key: this browser session may have kept files


@dataclass(frozen=True)
class PendingFile:
    token: str
    scope: str
    name: str
    content_type: str
    size: int
    sha256: str


def _key(session_token: str) -> str:
    return f"web:pending:{session_key(session_token)}"


def kept_files(session_token: str | None, scope: str | None = None) -> list[PendingFile]:
    """This session's kept files (of one scope), oldest first; [] when there are none or Redis is away."""
    if not session_token or not _may_have_kept():
        return []
    try:
        raw = runtime().redis.hgetall(_key(session_token))
    except RedisError as exc:
        log.warning("kept uploads unavailable: %s", exc)
        return []
    files = [PendingFile(token=token.decode(), **json.loads(value)) for token, value in raw.items()]
    return sorted((f for f in files if scope in (None, f.scope)), key=lambda f: f.token)


def take(session_token: str | None, scope: str, tokens: list[str]) -> list[Upload]:
    """The kept files of `scope` the form asked for again, as uploads; the ones not asked for are forgotten.

    Raises StorageUnavailable (forgetting nothing) when the store cannot be read now.
    """
    uploads, dropped = [], []
    blobs = runtime().blobs
    for kept in kept_files(session_token, scope):
        if kept.token not in tokens:
            dropped.append(kept.token)
            continue
        try:
            uploads.append(Upload(kept.name, blobs.read(kept.sha256), kept.content_type))
        except BlobNotFound:
            dropped.append(kept.token)
    _forget(session_token, dropped)
    return uploads


def keep(session_token: str | None, scope: str, field, uploads: list[Upload]) -> None:
    """After a failed submission: remember the files that pass `field`'s checks on their own (up to max_files).

    Files the store cannot take now are not kept (logged): the customer chooses them again.
    """
    if not session_token:
        return
    _forget(session_token, [f.token for f in kept_files(session_token, scope)])
    entries = {}
    for upload in uploads:
        try:
            (clean,) = check_uploads(field, [upload])
        except InvalidValue:
            continue
        try:
            sha = runtime().blobs.put(clean.data)
        except StorageUnavailable as exc:
            log.warning("could not keep uploads: %s", exc)
            break
        # Tokens sort in the order the files were kept.
        token = f"{len(entries):02d}{secrets.token_urlsafe(12)}"
        entries[token] = json.dumps({"scope": scope, "name": clean.filename, "content_type": clean.content_type,
                                     "size": clean.size, "sha256": sha})
        if len(entries) == field.max_files:
            break
    if not entries:
        return
    if has_request_context():
        session[MARK] = True
    try:
        pipe = runtime().redis.pipeline()
        pipe.hset(_key(session_token), mapping=entries)
        pipe.expire(_key(session_token), PENDING_TTL)
        pipe.execute()
    except RedisError as exc:
        log.warning("could not keep uploads: %s", exc)


def discard_all(session_token: str | None) -> None:
    """Forget every kept file of this session (sent with a ticket, or signed out)."""
    if session_token and _may_have_kept():
        _forget(session_token, None)
        if has_request_context():
            session.pop(MARK, None)


def _may_have_kept() -> bool:
    """False when this request's browser session never kept a file (outside a request: unknown, so True)."""
    return not has_request_context() or bool(session.get(MARK))


def _forget(session_token: str | None, tokens: list[str] | None) -> None:
    if not session_token or tokens == []:
        return
    try:
        if tokens is None:
            runtime().redis.delete(_key(session_token))
        else:
            runtime().redis.hdel(_key(session_token), *tokens)
    except RedisError as exc:
        log.warning("could not forget kept uploads: %s", exc)
