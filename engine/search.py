"""Rank topics for a free-text phrase: the "Не знаете, что выбрать?" search of the portal and the bots.

Words of the catalog (titles, descriptions, keywords of topics and their categories) are stemmed
into an inverted index built once per catalog version (by CatalogHolder as it loads the catalog). A query word matches index terms exactly,
by prefix or, for typos, by edit similarity; Latin words typed on the wrong keyboard layout or in
transliteration are read as the Russian words they stand for.
"""
from __future__ import annotations

import heapq
import math
import re
import threading
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

import cyrtranslit
import Stemmer
from rapidfuzz import fuzz, process

from engine.catalog.catalog import Catalog, Category, Topic
from engine.catalog.texts import all_versions

# How much a word says about a topic, by where the catalog mentions it.
FIELD_WEIGHTS = (
    ("topic_title", 3.0),
    ("topic_keywords", 2.5),
    ("topic_description", 1.0),
    ("category_title", 2.0),
    ("category_keywords", 1.5),
    ("category_description", 0.7),
)
MAX_PHRASE_CHARS = 300  # a search box, not a document: bounds the work per keystroke
MAX_QUERY_WORDS = 24
FUZZY_CUTOFF = 75  # rapidfuzz ratio; below it two stems are different words
FUZZY_MIN_LEN = 4  # shorter stems ("лк", "аон", "sms") must match exactly
FUZZY_DISCOUNT = 0.8
TYPED_MIN_LEN = 3  # a word being typed finds the terms it begins from three letters on
PREFIX_SIM = 0.85
CACHE_SIZE = 4
FUZZY_MEMO_SIZE = 20_000  # typo lookups remembered per index: a customer typing repeats the words before the last

# Function words carry no topic; "не" and "not" are in almost every complaint.
STOPWORDS = frozenset("""
    а без бы в во вам вас весь все всё вы где да для до если есть еще ещё же за и из или им их к как
    ко когда кто ли либо мне мы на над не нет ни но ну о об обо однако от по под при про с со так
    также там те то того тоже у уже хочу хотим хотел хотела что чтобы чем это эта этот я мой моя мои
    наш наша наши нас ваш ваша ваши он она оно они его ее её пожалуйста очень просто можно нужно
    нужен нужна надо через после перед почему зачем уже раз
""".split()) | frozenset("""
    a an the is are was were be been being am not no do does did doesn don isn aren wasn weren won can cannot couldn
    to of in on at for with from by as into about it its this that these those i me my we us our you your he she they
    them their and or but if so please how what why when where which who there here have has had will would should
    could just any some also very get got still
""".split())

_LAYOUT = str.maketrans(
    "qwertyuiop[]asdfghjkl;'zxcvbnm,.`",
    "йцукенгшщзхъфывапролджэячсмитьбюё",
)
_WORD_RE = re.compile(r"[0-9a-zа-я]+")
_LATIN_RE = re.compile(r"[a-z]")  # a word with Latin letters: English (or Russian typed in Latin, see read())
_stemmers = threading.local()


@dataclass(frozen=True)
class Suggestion:
    """A topic offered for a phrase, with its category and a relevance score (higher is better)."""

    topic: Topic
    score: float
    category: Category


def _stemmer(language: str):
    """One PyStemmer object per thread and language (they are not thread-safe)."""
    stemmer = getattr(_stemmers, language, None)
    if stemmer is None:
        stemmer = Stemmer.Stemmer(language)
        setattr(_stemmers, language, stemmer)
    return stemmer


def _stem(words: list[str]) -> list[str]:
    """Snowball stems: Latin words by the English stemmer ("generating" and "generated" -> "generat"), the rest by
    the Russian one."""
    russian, english = _stemmer("russian"), _stemmer("english")
    return [english.stemWord(w) if _LATIN_RE.search(w) else russian.stemWord(w) for w in words]


def _words(text: str) -> list[str]:
    """Lowercase words without punctuation and stopwords; ё is е, as customers type it."""
    return [w for w in _WORD_RE.findall(text.lower().replace("ё", "е")) if w not in STOPWORDS]


def _terms(text: str) -> list[str]:
    return _stem(_words(text))


class SearchIndex:
    """An inverted index of one catalog: stems and stem bigrams -> (topic number, weight)."""

    def __init__(self, catalog: Catalog):
        self.topics: list[tuple[Topic, Category]] = [(t, c) for c in catalog.categories for t in c.topics]
        postings: dict[str, dict[int, float]] = {}
        for number, (topic, category) in enumerate(self.topics):
            for field, weight in FIELD_WEIGHTS:
                for text in _field_texts(field, topic, category):
                    stems = _terms(text)
                    grams = stems + [f"{a} {b}" for a, b in zip(stems, stems[1:])]
                    for term in grams:
                        slot = postings.setdefault(term, {})
                        slot[number] = max(slot.get(number, 0.0), weight)
        total = len(self.topics)
        self.idf = {term: math.log(1 + total / len(slot)) for term, slot in postings.items()}
        self.postings = {term: tuple(slot.items()) for term, slot in postings.items()}
        self.vocabulary = [term for term in postings if " " not in term]
        # Lookups by prefix and by length read slices of sorted copies instead of scanning every term.
        self._sorted = sorted(self.vocabulary)
        order = {term: n for n, term in enumerate(self.vocabulary)}
        self._by_length = sorted(self.vocabulary, key=lambda term: (len(term), order[term]))
        self._lengths = [len(term) for term in self._by_length]
        self._fuzzy: dict[str, list[tuple[str, float]]] = {}
        self._by_channel: dict[str, frozenset[int]] = {}
        for channel in {name for topic, category in self.topics for name in (*topic.channels, *category.channels)}:
            self.offered(channel)  # built now, not by the first query of a channel

    def offered(self, channel: str) -> frozenset[int]:
        """Numbers of the topics offered on a channel (computed once per channel)."""
        found = self._by_channel.get(channel)
        if found is None:
            found = self._by_channel[channel] = frozenset(
                n for n, (topic, category) in enumerate(self.topics) if channel in topic.channels and channel in category.channels
            )
        return found

    def matches(self, stem: str, typed: str | None = None) -> list[tuple[str, float]]:
        """Index terms a query stem stands for, with a similarity in (0, 1].

        `typed` is the phrase's last word while the customer is still typing it: terms starting
        with it count too, so "отч" already finds "отчет".
        """
        found: dict[str, float] = {}
        if typed and len(typed) >= TYPED_MIN_LEN:
            found.update((term, PREFIX_SIM) for term in self._starting_with(typed))
        if stem in self.postings:
            found[stem] = 1.0
        elif len(stem) >= FUZZY_MIN_LEN:
            for term in self._starting_with(stem):
                found[term] = PREFIX_SIM
            for end in range(FUZZY_MIN_LEN, len(stem)):  # terms the stem starts with
                if stem[:end] in self.postings:
                    found[stem[:end]] = PREFIX_SIM
            for term, similarity in self._similar(stem):
                found[term] = max(found.get(term, 0.0), similarity)
        return sorted(found.items(), key=lambda item: -item[1])

    def _similar(self, stem: str) -> list[tuple[str, float]]:
        """The three terms nearest a stem by edit similarity (a scan of the vocabulary, so remembered)."""
        found = self._fuzzy.get(stem)
        if found is None:
            found = [(term, ratio / 100 * FUZZY_DISCOUNT) for term, ratio, _ in process.extract(
                stem, self._similar_length(stem), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF, limit=3)]
            if len(self._fuzzy) >= FUZZY_MEMO_SIZE:
                self._fuzzy.clear()
            self._fuzzy[stem] = found
        return found

    def _starting_with(self, prefix: str) -> list[str]:
        """Vocabulary terms beginning with `prefix`, in alphabetical order."""
        start = bisect_left(self._sorted, prefix)
        end = bisect_left(self._sorted, prefix + "\U0010ffff", start)
        return self._sorted[start:end]

    def _similar_length(self, stem: str) -> list[str]:
        """Terms long enough and short enough to reach FUZZY_CUTOFF against `stem` (an indel ratio needs
        |a - b| / (a + b) <= 1 - cutoff, whatever the letters)."""
        slack = 1 - FUZZY_CUTOFF / 100
        shortest = math.ceil(len(stem) * (1 - slack) / (1 + slack))
        longest = math.floor(len(stem) * (1 + slack) / (1 - slack))
        return self._by_length[bisect_left(self._lengths, shortest):bisect_left(self._lengths, longest + 1)]

    def read(self, phrase: str) -> tuple[list[str], str | None]:
        """The phrase as stems, reading Latin words as a wrong keyboard layout or transliteration when that makes sense.

        Also returns the last word as typed when the phrase does not end with a space (still being typed).
        """
        phrase = phrase.lower()[:MAX_PHRASE_CHARS]
        stems: list[str] = []
        word = ""
        for raw in phrase.split()[:MAX_QUERY_WORDS]:
            variants = [raw]
            if _LATIN_RE.search(raw):
                variants += [raw.translate(_LAYOUT), cyrtranslit.to_cyrillic(raw, "ru")]
            best = max(variants, key=self._known_share)  # ties keep the word as typed
            words = _words(best)
            stems += _stem(words)
            word = words[-1] if words else ""
        typed = word if word and stems and not phrase[-1:].isspace() else None
        return stems, typed

    def _known_share(self, text: str) -> float:
        words = _WORD_RE.findall(text.replace("ё", "е"))
        if not words:
            return 0.0
        known = sum(1 for w in words if w in STOPWORDS or self.matches(_stem([w])[0]))
        return known / len(words)


def _field_texts(field: str, topic: Topic, category: Category) -> tuple[str, ...]:
    owner, _, part = field.partition("_")
    source = topic if owner == "topic" else category
    value = getattr(source, part)
    return tuple(value) if isinstance(value, tuple) else all_versions(value)  # a text in every language it is written in


def content_words(text: str) -> list[str]:
    """The words of a text the search looks at (lower case, no punctuation or function words)."""
    return _words(text)


def missing_words(phrase: str, topic: Topic, category: Category) -> list[str]:
    """The phrase's words that none of the topic's (or its category's) texts contain in any language, by stem:
    the keywords that would have led the phrase to the topic."""
    known = {stem for field, _ in FIELD_WEIGHTS for text in _field_texts(field, topic, category) for stem in _terms(text)}
    words = list(dict.fromkeys(_words(phrase)))
    return [word for word, stem in zip(words, _stem(words)) if stem not in known]


class _IndexCache:
    """The last few indexes by catalog version: a catalog never changes, so neither does its index."""

    def __init__(self, size: int):
        self.size = size
        self.lock = threading.Lock()
        self.indexes: OrderedDict[str, SearchIndex] = OrderedDict()

    def get(self, catalog: Catalog) -> SearchIndex:
        with self.lock:
            index = self.indexes.get(catalog.version)
            if index is not None:
                self.indexes.move_to_end(catalog.version)
                return index
        index = SearchIndex(catalog)  # built outside the lock: a slow build must not stall other catalogs
        with self.lock:
            self.indexes[catalog.version] = index
            while len(self.indexes) > self.size:
                self.indexes.popitem(last=False)
        return index


_cache = _IndexCache(CACHE_SIZE)


def index_for(catalog: Catalog) -> SearchIndex:
    """The search index of a catalog; CatalogHolder builds it when it loads the catalog, else the first use does."""
    return _cache.get(catalog)


def is_indexed(catalog: Catalog) -> bool:
    """Whether this catalog version's index is already built (a search would not build it)."""
    with _cache.lock:
        return catalog.version in _cache.indexes


def suggest(catalog: Catalog, phrase: str, channel: str = "web", limit: int = 5) -> list[Suggestion]:
    """Topics offered on `channel` that best match a customer's free-text phrase, best first."""
    if not isinstance(phrase, str) or limit <= 0:
        return []
    index = index_for(catalog)
    read, typed = index.read(phrase)
    stems = list(dict.fromkeys(read))
    if not stems:
        return []
    last = read[-1]
    offered = index.offered(channel)
    scores: dict[int, float] = {}
    matched: dict[int, int] = {}
    best_terms: list[str | None] = []
    for stem in stems:
        candidates = index.matches(stem, typed if stem == last else None)
        best_terms.append(candidates[0][0] if candidates else None)
        per_topic: dict[int, float] = {}
        for term, similarity in candidates:
            idf = index.idf[term]
            for number, weight in index.postings[term]:
                value = similarity * idf * weight
                if number in offered and value > per_topic.get(number, 0.0):
                    per_topic[number] = value
        for number, value in per_topic.items():
            scores[number] = scores.get(number, 0.0) + value
            matched[number] = matched.get(number, 0) + 1
    for first, second in zip(best_terms, best_terms[1:]):
        bigram = f"{first} {second}"
        if first and second and bigram in index.postings:
            for number, weight in index.postings[bigram]:
                if number in scores:
                    scores[number] += index.idf[bigram] * weight
    # Topics that explain more of the phrase beat topics that match one word very well.
    ranked = heapq.nsmallest(
        limit, ((-value * (0.5 + 0.5 * matched[number] / len(stems)), number) for number, value in scores.items()))
    return [
        Suggestion(topic=index.topics[number][0], score=round(-score, 4), category=index.topics[number][1])
        for score, number in ranked
    ]
