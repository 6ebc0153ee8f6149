"""Config errors with their place: `file:line: key.path: message`, collected and reported all at once."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

from engine.catalog.yaml_positions import Path_, PositionedYAML


@dataclass(frozen=True, order=True)
class ConfigError:
    """One problem in one config file, at a 1-based line (0: the whole file or folder) and a dotted key path."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class ConfigErrors(Exception):
    """Every error of one load, sorted and without duplicates."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = sorted(set(errors))
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class Source:
    """One parsed config file: its displayed name, its data and the lines of its keys."""

    display: str
    data: object
    yaml: PositionedYAML | None
    rel: str = ""  # path relative to the config folder

    def line(self, path: Path_) -> int:
        return self.yaml.line(path) if self.yaml else 1

    def error(self, path: Path_, message: str) -> ConfigError:
        return ConfigError(self.display, self.line(path), format_path(path), message)

    def duplicate_id(self, what: str, value: str, first: "Source") -> ConfigError:
        """`id` of this file repeats the one `first` declared: the error names where the first one is."""
        return self.error(("id",), f"duplicate {what} id '{value}' (also in {first.display}:{first.line(('id',))})")


def format_path(path: Path_) -> str:
    """('topics', 0, 'form') -> 'topics.0.form'."""
    return ".".join(str(p) for p in path)


def closest(word: str, choices) -> str | None:
    """The known name closest to `word`, if any is close enough."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' when a known name is close to `word`, else ''."""
    close = closest(word, choices)
    return f" (did you mean '{close}'?)" if close else ""
