"""Full-text search of tickets: numbers, subjects, field values and messages, with filters, a page at a time.

`search_tickets(user, text, filters)` is the one entry point. Staff search every ticket and its internal notes; a
customer only their own tickets and never a note. The text is read as words only (letters and digits): quotes, FTS
operators and other punctuation are never passed to the database as syntax, so any input is a literal search.
Every word must occur in the ticket's own text (number, subject, field values) or in one of its messages; a word
finds its other forms and longer words it begins ("принтера" finds «принтер», «принтеры»).

Indexes (migration 13, kept up to date by the database): SQLite FTS5 tables whose terms are matched by the word's
Snowball stem as a prefix; PostgreSQL GIN indexes on the 'russian' text-search vectors (Russian stemming, English
words through its English stemmer) queried with `to_tsquery` prefix terms. Results are newest-updated first, keyset
paginated (engine.pagination) with a total; each carries a highlighted snippet as plain (text, is_hit) parts, so the
page escapes every part it shows.
"""
from __future__ import annotations

import re
import threading
from os.path import commonprefix
from dataclasses import dataclass, replace
from datetime import datetime

import Stemmer
from peewee import SQL, Node, SqliteDatabase, Table, fn

from engine.pagination import PAGE_SIZE, Keyset, Page, paginate
from engine.store.migrations import POSTGRES_MESSAGE_VECTOR, POSTGRES_TICKET_VECTOR
from engine.store.models import Message, Ticket, User
from engine.ticket_queries import field_values, team_and_assignee

MAX_QUERY_CHARS = 200  # a search box, not a document
MAX_TERMS = 10  # words beyond these are not searched for
MIN_PREFIX = 3  # a shorter stem is matched as the whole word, not as the start of longer ones
SNIPPET_CHARS = 160
RESULTS = Keyset((Ticket.updated_at, Ticket.id), descending=True)

_WORD = re.compile(r"[^\W_]+")
_CYRILLIC = re.compile(r"[а-яё]")
_COMPOUND_BREAK = re.compile(r"[^\w.@-]+|_+")  # what separates a host, an email or a hyphenated word from the next
_stemmers = threading.local()
_TICKET_FTS = Table("ticket_fts")  # migration 13: number, subject and field values of each ticket, rowid = ticket id


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search besides its words; empty values do not filter. Times are aware; `created_before` is
    exclusive. `teams` None is any team (an empty tuple: none); `assignee` is "me" (the searcher), "nobody" or ""."""

    statuses: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    category_id: str = ""
    topic_id: str = ""
    created_from: datetime | None = None
    created_before: datetime | None = None
    teams: tuple[str, ...] | None = None
    assignee: str = ""


@dataclass(frozen=True)
class Hit:
    """A found ticket and where the words are: `snippet` is (text, is_hit) parts of its subject, newest matching
    message or field values."""

    ticket: Ticket
    snippet: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class SearchResult:
    """A page of `Hit`s; `problem` is a `web` UI text key when the text was refused (too long, no words)."""

    page: Page
    terms: tuple[str, ...] = ()
    problem: str | None = None


def search_terms(text: str) -> tuple[str, ...]:
    """The words searched for: lowercase, ё as е, at most MAX_TERMS, repeats dropped."""
    words = _WORD.findall(text.lower().replace("ё", "е"))
    return tuple(dict.fromkeys(words))[:MAX_TERMS]


def search_tickets(user: User, text: str, filters: SearchFilters = SearchFilters(), after: str | None = None,
                   before: str | None = None, size: int = PAGE_SIZE) -> SearchResult:
    """Tickets `user` may see whose text has every word of `text` (all of them when it has none), narrowed by
    `filters`, newest updated first; `after`/`before` are the cursors of an earlier page's links."""
    text = text if isinstance(text, str) else ""
    if len(text) > MAX_QUERY_CHARS:
        return SearchResult(_empty(), problem="search_too_long")
    terms = search_terms(text)
    if text.strip() and not terms:
        return SearchResult(_empty(), problem="search_no_words")
    staff = user.is_staff and user.is_active
    where = _filtered(filters, user)
    if not staff:
        where &= Ticket.customer == user
    matches = _matcher(text, terms) if terms else None
    if matches is not None:  # one set of ids (a UNION): only the matches are looked up, not every ticket tested
        where &= Ticket.id.in_(matches.tickets | _messages(matches, internal=staff).select(Message.ticket))
    query = Ticket.select(Ticket, User).join(User, on=Ticket.customer).where(where)
    page = paginate(query, RESULTS, after, before, size, counted=Ticket.select().where(where))
    snippets = _snippets(page.rows, terms, matches, internal=staff)
    return SearchResult(replace(page, rows=[Hit(t, snippets.get(t.id, ())) for t in page.rows]), terms)


def _empty() -> Page:
    return Page([], 0, 0, None, None)


def _filtered(filters: SearchFilters, user: User):
    where = team_and_assignee(user, filters.teams, filters.assignee)
    if filters.statuses:
        where &= Ticket.status.in_(filters.statuses)
    if filters.priorities:
        where &= Ticket.priority.in_(filters.priorities)
    if filters.category_id:
        where &= Ticket.category_id == filters.category_id
    if filters.topic_id:
        where &= Ticket.topic_id == filters.topic_id
    if filters.created_from is not None:
        where &= Ticket.created_at >= filters.created_from
    if filters.created_before is not None:
        where &= Ticket.created_at < filters.created_before
    return where


def _sqlite() -> bool:
    return isinstance(Ticket._meta.database.obj, SqliteDatabase)


@dataclass(frozen=True)
class _Matcher:
    """The database's conditions for a search: ticket ids whose own text matches, and matching messages."""

    tickets: Node  # a select of ticket ids
    messages: Node  # a condition on Message


def _matcher(text: str, terms: tuple[str, ...]) -> _Matcher:
    if _sqlite():
        query = " ".join(_fts_term(term) for term in terms)
        return _Matcher(_TICKET_FTS.select(SQL("rowid")).where(SQL("ticket_fts MATCH ?", [query])),
                        Message.id.in_(SQL("(SELECT rowid FROM message_fts WHERE message_fts MATCH ?)", [query])))
    query = _ts_query(text)
    return _Matcher(Ticket.select(Ticket.id).where(SQL(f"{POSTGRES_TICKET_VECTOR} @@ to_tsquery('russian', %s)", [query])),
                    SQL(f"{POSTGRES_MESSAGE_VECTOR} @@ to_tsquery('russian', %s)", [query]))


def _messages(matches: _Matcher, internal: bool):
    """Matching messages the searcher may see (notes only with `internal`)."""
    visible = matches.messages if internal else matches.messages & (Message.internal == False)  # noqa: E712 (SQL)
    return Message.select().where(visible)


def _stem(word: str) -> str:
    """The word's Snowball stem (Russian for Cyrillic, English for Latin); numbers and mixed words as they are."""
    if word.isdigit():
        return word
    language = "russian" if _CYRILLIC.search(word) else "english" if word.isascii() and word.isalpha() else None
    if language is None:
        return word
    stemmer = getattr(_stemmers, language, None)
    if stemmer is None:  # one per thread: PyStemmer objects are not thread-safe
        stemmer = Stemmer.Stemmer(language)
        setattr(_stemmers, language, stemmer)
    return stemmer.stemWord(word)


def _fts_term(term: str) -> str:
    """An FTS5 string (a term made of letters and digits only, quoted all the same) matching the word's forms."""
    stem = commonprefix([_stem(term), term])  # an English stem may end otherwise than the word: "body" -> "bodi"
    if term.isdigit() or len(stem) < MIN_PREFIX:
        return f'"{term}"'
    return f'"{stem}"*'


def _ts_term(term: str) -> str:
    """A tsquery operand: the quoted word (PostgreSQL stems it), as a prefix unless it is a number."""
    return f"'{term}'" if term.isdigit() else f"'{term}':*"


def _ts_query(text: str) -> str:
    """A tsquery with every word of `text`. PostgreSQL keeps a host, an email or a hyphenated word as one lexeme
    too ("myshop.ru", "user@mail.ru"), so a chunk of several words also matches as that whole; only letters,
    digits, '.', '@' and '-' are ever put between the quotes."""
    operands, seen = [], 0
    for chunk in _COMPOUND_BREAK.split(text.lower().replace("ё", "е")):
        whole = chunk.strip(".@-")
        words = list(dict.fromkeys(_WORD.findall(whole)))[:MAX_TERMS - seen]
        if not words:
            continue
        seen += len(words)
        each = " & ".join(_ts_term(word) for word in words)
        operands.append(each if len(words) == 1 else f"('{whole}':* | ({each}))")
        if seen >= MAX_TERMS:
            break
    return " & ".join(operands)


def _snippets(tickets: list[Ticket], terms: tuple[str, ...], matches: _Matcher | None, internal: bool) -> dict[int, tuple]:
    """Per ticket: its subject where a word is in it, else its newest matching message, else its field values."""
    if not tickets:
        return {}
    if matches is None:
        return {t.id: ((t.subject, False),) for t in tickets}
    newest = (_messages(matches, internal).select(fn.MAX(Message.id))
              .where(Message.ticket.in_([t.id for t in tickets])).group_by(Message.ticket))
    bodies = {m.ticket_id: m.body for m in Message.select(Message.ticket, Message.body).where(Message.id.in_(newest))}
    found = {}
    for ticket in tickets:
        sources = [ticket.subject, bodies.get(ticket.id, ""),
                   " · ".join(str(v) for v in field_values(ticket).values()), str(ticket.number)]
        found[ticket.id] = next((parts for parts in (snippet(s, terms) for s in sources) if any(h for _, h in parts)),
                                ((ticket.subject, False),))
    return found


def _is_hit(word: str, terms: tuple[str, ...], stems: tuple[str, ...]) -> bool:
    folded = word.lower().replace("ё", "е")
    if folded.isdigit():
        return folded in terms
    return any(folded.startswith(stem) or _stem(folded) == stem for stem in stems if len(stem) >= MIN_PREFIX) or \
        folded in terms


def snippet(text: str, terms: tuple[str, ...], width: int = SNIPPET_CHARS) -> tuple[tuple[str, bool], ...]:
    """About `width` characters of `text` around its first word matching a term, as (text, is_hit) parts; the text
    is never marked up here."""
    stems = tuple(_stem(t) for t in terms)
    words = [m for m in _WORD.finditer(text) if _is_hit(m.group(), terms, stems)]
    if not words:
        return ((text[:width] + ("…" if len(text) > width else ""), False),) if text else ()
    start = max(0, words[0].start() - width // 3)
    end = min(len(text), start + width)
    parts: list[tuple[str, bool]] = [("…", False)] if start else []
    cursor = start
    for match in words:
        if match.start() < start or match.end() > end:
            continue
        if match.start() > cursor:
            parts.append((text[cursor:match.start()], False))
        parts.append((match.group(), True))
        cursor = match.end()
    parts.append((text[cursor:end] + ("…" if end < len(text) else ""), False))
    return tuple(p for p in parts if p[0])
