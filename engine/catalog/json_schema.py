"""JSON Schemas of the config files, generated from the pydantic models, for editor autocompletion."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from engine.catalog import schema

# File name stem -> model; shipped YAML points at them with `# yaml-language-server: $schema=../schema/<stem>.schema.json`.
FILE_KINDS: dict[str, type[BaseModel]] = {
    "category": schema.CategoryFile,
    "form": schema.FormFile,
    "field-library": schema.FieldLibraryFile,
    "notification-types": schema.NotificationTypesFile,
    "channels": schema.ChannelsFile,
    "policies": schema.PoliciesFile,
    "ui": schema.UITextsFile,
}


def schema_texts() -> dict[str, str]:
    """File name -> JSON text of each file kind's schema."""
    out = {}
    for stem, model in FILE_KINDS.items():
        body = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema(by_alias=True)}
        out[f"{stem}.schema.json"] = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    return out


def write_schemas(out_dir: Path | str) -> list[Path]:
    """Write every schema under `out_dir`; returns the written paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
