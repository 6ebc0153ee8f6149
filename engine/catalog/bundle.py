"""A config bundle: the bytes of every file the loader reads, by relative path, with their hashes.

What `config reload` stores in the database and every process loads (`engine.catalog.loader.load_bundle`), so a
catalog never depends on the disk of the host serving it.
"""
from __future__ import annotations

import fnmatch
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

# What the loader reads: one level of *.yaml in each folder, and the single files. Nothing else is bundled.
FOLDERS = ("categories", "forms", "replies", "ui")
SINGLE_FILES = ("notifications/types.yaml", "notifications/channels.yaml", "policies.yaml", "sla.yaml")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ConfigBundle:
    """Relative posix path -> bytes of a config folder's files; `hash` identifies the whole."""

    files: Mapping[str, bytes]
    hash: str = field(init=False)

    def __post_init__(self):
        ordered = dict(sorted(self.files.items()))
        object.__setattr__(self, "files", MappingProxyType(ordered))
        digest = hashlib.sha256()
        for rel, data in ordered.items():
            digest.update(rel.encode() + b"\0" + sha256(data).encode() + b"\0")
        object.__setattr__(self, "hash", digest.hexdigest())

    def in_folder(self, folder: str) -> list[str]:
        """The bundled `folder/*.yaml` paths, sorted (what the loader globbed on disk)."""
        return [rel for rel in self.files if rel.count("/") == folder.count("/") + 1 and fnmatch.fnmatch(rel, f"{folder}/*.yaml")]

    def file_hashes(self) -> dict[str, str]:
        return {rel: sha256(data) for rel, data in self.files.items()}

    def changed_files(self, before: "ConfigBundle") -> list[str]:
        """Lines `+ path`, `- path`, `~ path` for the files added, removed and changed since `before`."""
        old, new = before.file_hashes(), self.file_hashes()
        return ([f"+ {rel}" for rel in new if rel not in old] + [f"- {rel}" for rel in old if rel not in new]
                + [f"~ {rel}" for rel in new if rel in old and new[rel] != old[rel]])


def read_bundle(config_dir: Path | str) -> ConfigBundle | None:
    """The loader's files under `config_dir`, or None when the folder does not exist."""
    root = Path(config_dir)
    if not root.is_dir():
        return None
    paths = [p for folder in FOLDERS for p in (root / folder).glob("*.yaml")]
    paths += [root / rel for rel in SINGLE_FILES if (root / rel).is_file()]
    return ConfigBundle({p.relative_to(root).as_posix(): p.read_bytes() for p in paths if p.is_file()})
