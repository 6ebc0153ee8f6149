"""What a reload changed for people: categories and topics added, removed or renamed."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from engine.catalog.catalog import Catalog


@dataclass(frozen=True, order=True)
class Renamed:
    key: str
    old: str
    new: str


@dataclass(frozen=True)
class CatalogChanges:
    """Keys are category ids and 'category/topic' topic keys."""

    categories_added: tuple[str, ...] = ()
    categories_removed: tuple[str, ...] = ()
    categories_renamed: tuple[Renamed, ...] = ()
    topics_added: tuple[str, ...] = ()
    topics_removed: tuple[str, ...] = ()
    topics_renamed: tuple[Renamed, ...] = ()

    @classmethod
    def between(cls, old: dict[str, str], new: dict[str, str]) -> "CatalogChanges":
        """Compare two title maps (see `titles`)."""
        def split(keys):
            keys = sorted(keys)
            return tuple(k for k in keys if "/" not in k), tuple(k for k in keys if "/" in k)

        added, removed = split(new.keys() - old.keys()), split(old.keys() - new.keys())
        renamed = sorted(Renamed(k, old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k])
        return cls(
            added[0], removed[0], tuple(r for r in renamed if "/" not in r.key),
            added[1], removed[1], tuple(r for r in renamed if "/" in r.key),
        )

    @property
    def empty(self) -> bool:
        return not any(asdict(self).values())

    def as_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        """One line per change, for the CLI and the admin page."""
        out = [f"+ category {k}" for k in self.categories_added]
        out += [f"- category {k}" for k in self.categories_removed]
        out += [f"~ category {r.key}: {r.old} -> {r.new}" for r in self.categories_renamed]
        out += [f"+ topic {k}" for k in self.topics_added]
        out += [f"- topic {k}" for k in self.topics_removed]
        out += [f"~ topic {r.key}: {r.old} -> {r.new}" for r in self.topics_renamed]
        return out


def titles(catalog: Catalog) -> dict[str, str]:
    """Category id / topic key -> title: what `CatalogChanges.between` compares."""
    out = {c.id: c.title for c in catalog.categories}
    out.update({t.key: t.title for t in catalog.all_topics()})
    return out
