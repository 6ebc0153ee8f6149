"""Which files and folders a config folder may hold: anything else is an error, never silently ignored."""
from __future__ import annotations

from pathlib import Path

import yaml

from engine.catalog.errors import ConfigError, closest

# folder -> the file names it may hold ("*.yaml": any YAML file)
FOLDERS = {
    "categories": ("*.yaml",),
    "forms": ("*.yaml",),
    "notifications": ("channels.yaml", "types.yaml"),
    "replies": ("*.yaml",),
    "ui": ("*.yaml",),
    "schema": ("*.schema.json",),
}
ROOT_FILES = ("policies.yaml", "sla.yaml")
# Top-level keys that tell which folder a misplaced file belongs in.
FOLDER_OF_KEY = {"topics": "categories", "fields": "forms", "types": "notifications", "channels": "notifications", "locale": "ui",
                 "body": "replies"}


def unknown_entries(config_dir: Path) -> list[ConfigError]:
    """An error for each file or folder under `config_dir` the loader would not read.

    Hidden files (editor swap files, .gitkeep) and notes (`*.md`) are allowed anywhere.
    """
    errors = []
    for entry in sorted(config_dir.iterdir()):
        if _ignored(entry):
            continue
        if entry.is_dir():
            if entry.name in FOLDERS:
                errors += _unknown_in(entry, FOLDERS[entry.name])
            else:
                hint = _did_you_mean_file(entry.name, [f"{name}/" for name in FOLDERS]) or _hint_by_content(entry)
                errors.append(_error(entry, f"unknown folder, not read{hint or _known_root()}"))
        elif entry.name not in ROOT_FILES:
            hint = _did_you_mean_file(entry.name, ROOT_FILES + tuple(f"{name}/" for name in FOLDERS))
            errors.append(_error(entry, f"unknown file, not read{hint or _known_root()}"))
    return errors


def _unknown_in(folder: Path, allowed: tuple[str, ...]) -> list[ConfigError]:
    errors = []
    holds = ", ".join(allowed)
    for entry in sorted(folder.iterdir()):
        if _ignored(entry):
            continue
        if entry.is_dir():
            errors.append(_error(entry, f"unknown folder, not read: {folder.name}/ may hold only {holds}"))
        elif not any(entry.match(pattern) for pattern in allowed):
            names = [n for n in allowed if "*" not in n] or [entry.name.split(".")[0] + allowed[0][1:]]
            hint = _did_you_mean_file(entry.name, names)
            errors.append(_error(entry, f"unknown file, not read{hint or f': {folder.name}/ may hold only {holds}'}"))
    return errors


def _did_you_mean_file(name: str, choices) -> str:
    """did_you_mean comparing names without their extensions (a shared '.yaml' makes any two names look alike)."""
    stems = {choice.split(".")[0].rstrip("/"): choice for choice in choices}
    stem = closest(name.split(".")[0], stems)
    return f" (did you mean '{stems[stem]}'?)" if stem else ""


def _ignored(entry: Path) -> bool:
    return entry.name.startswith(".") or (entry.is_file() and entry.suffix == ".md")


def _hint_by_content(folder: Path) -> str:
    """' (did you mean 'ui'?)' when the folder's YAML files look like those of a known folder."""
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_bytes())
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        known = [FOLDER_OF_KEY[k] for k in data if k in FOLDER_OF_KEY] if isinstance(data, dict) else []
        if known:
            return f" (did you mean '{known[0]}/'?)"
    return ""


def _known_root() -> str:
    return ": the config folder may hold only " + ", ".join([f"{name}/" for name in FOLDERS] + list(ROOT_FILES))


def _error(entry: Path, message: str) -> ConfigError:
    """An error about a whole file or folder: no line (0) and no key path."""
    return ConfigError(entry.as_posix() + ("/" if entry.is_dir() else ""), 0, "", message)
