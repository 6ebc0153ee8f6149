"""JSON Schemas of the config files, generated from the pydantic models, for editor autocompletion."""
from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from engine.catalog import schema
from engine.channel_registry import registry


def file_kinds(channels=None) -> dict[str, type[BaseModel]]:
    """File name stem -> model, for the installed channels (or `channels`); shipped YAML points at them with
    `# yaml-language-server: $schema=../schema/<stem>.schema.json`."""
    models = schema.config_models(registry.all() if channels is None else tuple(channels))
    return {
        "category": models.CategoryFile,
        "form": schema.FormFile,
        "field-library": schema.FieldLibraryFile,
        "notification-types": models.NotificationTypesFile,
        "channels": models.ChannelsFile,
        "policies": schema.PoliciesFile,
        "ui": schema.UITextsFile,
        "canned-reply": schema.CannedReplyFile,
        "sla": schema.SlaFile,
    }


def schema_texts(channels=None) -> dict[str, str]:
    """File name -> JSON text of each file kind's schema (each binding kind with its own keys)."""
    out = {}
    for stem, model in file_kinds(channels).items():
        body = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema(by_alias=True)}
        out[f"{stem}.schema.json"] = json.dumps(body, ensure_ascii=False, indent=2) + "\n"
    return out


def write_schemas(out_dir: Path | str, channels=None) -> list[Path]:
    """Write every schema under `out_dir`; returns the written paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in schema_texts(channels).items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
