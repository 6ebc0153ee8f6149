"""Teams and routing (config/teams.yaml): their load-time checks, the built `Team`s and the rules a Catalog holds."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

from engine.catalog.errors import ConfigError, Source, did_you_mean
from engine.catalog.texts import local_text


@dataclass(frozen=True)
class Team:
    id: str
    title: str  # a LocalText when written per locale
    members: tuple[str, ...]  # account emails, lowercase
    notify: Mapping[str, str]  # channel kind -> the team's own address on it
    member_lines: Mapping[str, int] = field(default_factory=dict)  # email -> its line in teams.yaml (for lint warnings)


def _values(value) -> tuple[str, ...] | None:
    """A condition as a tuple of texts (None: not given); a YAML scalar is a one-element list."""
    if value is None:
        return None
    return tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class Rule:
    """A routing rule: every condition given must hold; a condition holds when the ticket has one of its values."""

    team: str
    categories: tuple[str, ...] | None
    topics: tuple[str, ...] | None
    priorities: tuple[str, ...] | None
    fields: Mapping[str, tuple[str, ...]]

    def matches(self, category_id: str, topic_id: str, priority: str, values: Mapping[str, object]) -> bool:
        if self.categories is not None and category_id not in self.categories:
            return False
        if self.topics is not None and f"{category_id}/{topic_id}" not in self.topics:
            return False
        if self.priorities is not None and priority not in self.priorities:
            return False
        return all(_values(values.get(field_id)) is not None and _values(values[field_id])[0] in wanted
                   for field_id, wanted in self.fields.items())


@dataclass(frozen=True)
class Routing:
    """The rules in order and the default team: `route` is the team of a new ticket (None: no teams configured)."""

    rules: tuple[Rule, ...] = ()
    default: str | None = None

    def route(self, category_id: str, topic_id: str, priority: str, values: Mapping[str, object]) -> str | None:
        return next((r.team for r in self.rules if r.matches(category_id, topic_id, priority, values)), self.default)


def check_teams(teams, src: Source, topic_keys, category_ids, field_ids, installed: dict) -> list[ConfigError]:
    """Rules and the default naming unknown teams, categories, topics or form fields (`topic_keys` None: the
    categories are broken, not checkable; `field_ids` None: the forms are); team addresses a channel refuses."""
    errors = []
    known = set(teams.teams)
    for team_id, team in teams.teams.items():
        for kind, address in team.notify.items():
            errors += [src.error(("teams", team_id, "notify", kind), p) for p in installed[kind].address_problems(address)]
    if teams.default is not None and teams.default not in known:
        errors.append(src.error(("default",), f"unknown team '{teams.default}'" + did_you_mean(teams.default, known)))
    for i, rule in enumerate(teams.routing):
        at = ("routing", i)
        if rule.team not in known:
            errors.append(src.error(at + ("team",), f"unknown team '{rule.team}'" + did_you_mean(rule.team, known)))
        refs = (("category", set(category_ids), "category"), ("topic", topic_keys, "topic"))
        for key, choices, what in refs:
            values = getattr(rule, key)
            if values is None or choices is None:
                continue
            for j, value in enumerate(values if isinstance(values, list) else [values]):
                if value not in choices:
                    where = at + ((key, j) if isinstance(values, list) else (key,))
                    errors.append(src.error(where, f"unknown {what} '{value}'" + did_you_mean(value, choices)))
        for field_id in (rule.fields or {}) if field_ids is not None else ():
            if field_id not in field_ids:
                errors.append(src.error(at + ("fields", field_id), f"no form has a field '{field_id}'" + did_you_mean(field_id, field_ids)))
    return errors


def build_teams(teams, src: Source | None, default_locale: str) -> tuple[Mapping[str, Team], Routing]:
    """Id -> Team (in file order) and the Routing of a TeamsFile (None: no teams.yaml)."""
    if teams is None:
        return MappingProxyType({}), Routing()
    built = {}
    for team_id, team in teams.teams.items():
        lines: dict[str, int] = {}
        for i, member in enumerate(team.members):
            lines.setdefault(member.lower(), src.line(("teams", team_id, "members", i)))
        built[team_id] = Team(team_id, local_text(team.title, default_locale), tuple(lines),
                              MappingProxyType(dict(team.notify)), MappingProxyType(lines))
    rules = tuple(
        Rule(r.team, _values(r.category), _values(r.topic), _values(r.priority),
             MappingProxyType({k: _values(v) for k, v in (r.fields or {}).items()}))
        for r in teams.routing
    )
    return MappingProxyType(built), Routing(rules, teams.default)
