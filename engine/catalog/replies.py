"""Canned replies (config/replies/*.yaml): their load-time checks and the built `CannedReply` the Catalog holds."""
from __future__ import annotations

from dataclasses import dataclass

from engine.catalog.errors import ConfigError, Source, did_you_mean
from engine.catalog.templates import template_problems
from engine.catalog.texts import local_text

# What a canned reply's body may use; `fields` maps a form field id to its display value (a select's label).
REPLY_PARAMS = ("customer_name", "ticket_number", "subject", "topic", "category", "priority", "fields", "agent_name")


@dataclass(frozen=True)
class CannedReply:
    id: str
    title: str  # a LocalText when written per locale
    body: str  # a template of REPLY_PARAMS (a LocalText when written per locale: rendered in the customer's)
    topics: tuple[str, ...]  # topic keys or category ids; empty: offered on every ticket

    def applies_to(self, category_id: str, topic_id: str) -> bool:
        return not self.topics or category_id in self.topics or f"{category_id}/{topic_id}" in self.topics


@dataclass(frozen=True)
class ReplyDecl:
    reply: object  # a schema.CannedReplyFile
    source: Source


def check_replies(decls: list[ReplyDecl], topic_keys, category_ids) -> list[ConfigError]:
    """Duplicate ids, bodies that are no safe template of REPLY_PARAMS, `topics` naming no topic or category
    (`topic_keys` None: the categories are broken, not checkable)."""
    errors = []
    first: dict[str, Source] = {}
    for decl in decls:
        reply, src = decl.reply, decl.source
        if reply.id in first:
            errors.append(src.duplicate_id("canned reply", reply.id, first[reply.id]))
        first.setdefault(reply.id, src)
        bodies = {(locale,): text for locale, text in reply.body.items()} if isinstance(reply.body, dict) else {(): reply.body}
        errors += [src.error(("body", *where), message)
                   for where, text in bodies.items() for message in template_problems(text, REPLY_PARAMS)]
        if topic_keys is None:
            continue
        known = set(topic_keys) | set(category_ids)
        for i, ref in enumerate(reply.topics or ()):
            if ref not in known:
                errors.append(src.error(("topics", i), f"unknown topic or category '{ref}'" + did_you_mean(ref, known)))
    return errors


def build_replies(decls: list[ReplyDecl], default_locale: str) -> dict[str, CannedReply]:
    """Id -> CannedReply, sorted by title; texts written per locale are LocalTexts."""
    built = [CannedReply(d.reply.id, local_text(d.reply.title, default_locale), local_text(d.reply.body, default_locale),
                         tuple(d.reply.topics or ())) for d in decls]
    return {r.id: r for r in sorted(built, key=lambda r: (r.title, r.id))}
