"""Load config/ YAML files into a validated Catalog (first version: H1 extends with line numbers and checks)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType

import yaml
from pydantic import ValidationError

from engine.catalog import schema
from engine.catalog.catalog import Catalog, Category, Field, Form, Topic

UI_DEFAULTS_DIR = Path(__file__).parent / "ui_defaults"
ALL_CHANNELS = ("web", "telegram")


@dataclass(frozen=True)
class ConfigError:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class ConfigErrors(Exception):
    def __init__(self, errors: list[ConfigError]):
        self.errors = sorted(errors, key=lambda e: (e.file, e.line, e.path))
        super().__init__("\n".join(str(e) for e in self.errors))


def load_catalog(config_dir: Path | str) -> Catalog:
    config_dir = Path(config_dir)
    errors: list[ConfigError] = []
    digest = hashlib.sha256()
    files: list[str] = []

    def parse(path: Path, model):
        rel = str(path.relative_to(config_dir))
        files.append(rel)
        text = path.read_bytes()
        digest.update(rel.encode() + b"\0" + text + b"\0")
        try:
            data = yaml.safe_load(text) or {}
            return model.model_validate(data)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            errors.append(ConfigError(rel, (mark.line + 1) if mark else 1, "", f"YAML syntax: {exc}"))
        except ValidationError as exc:
            for err in exc.errors():
                errors.append(ConfigError(rel, 1, ".".join(str(p) for p in err["loc"]), err["msg"]))
        return None

    categories = [c for p in sorted((config_dir / "categories").glob("*.yaml")) if (c := parse(p, schema.CategoryFile))]
    library: dict[str, schema.FieldSpec] = {}
    form_files: dict[str, schema.FormFile] = {}
    for p in sorted((config_dir / "forms").glob("*.yaml")):
        raw = yaml.safe_load(p.read_text()) or {}
        if isinstance(raw, dict) and "id" not in raw:
            lib = parse(p, schema.FieldLibraryFile)
            library.update(lib.fields if lib else {})
        else:
            form = parse(p, schema.FormFile)
            if form:
                form_files[form.id] = form
    types = parse(config_dir / "notifications" / "types.yaml", schema.NotificationTypesFile)
    channels = parse(config_dir / "notifications" / "channels.yaml", schema.ChannelsFile)
    policies_path = config_dir / "policies.yaml"
    policies = (parse(policies_path, schema.PoliciesFile) if policies_path.exists() else schema.PoliciesFile()) or schema.PoliciesFile()
    ui = {}
    for p in sorted(UI_DEFAULTS_DIR.glob("*.yaml")):
        d = schema.UITextsFile.model_validate(yaml.safe_load(p.read_text()))
        ui[d.locale] = {"web": dict(d.web), "telegram": dict(d.telegram), "email": dict(d.email), "validation": dict(d.validation)}
    for p in sorted((config_dir / "ui").glob("*.yaml")):
        d = parse(p, schema.UITextsFile)
        if d:
            for section in ("web", "telegram", "email", "validation"):
                ui.setdefault(d.locale, {}).setdefault(section, {}).update(getattr(d, section))
    if errors:
        raise ConfigErrors(errors)

    pol = policies.policies
    forms = {fid: _resolve_form(fid, form_files, library, pol) for fid in form_files}
    cats, topics = [], {}
    for c in categories:
        c_channels = tuple(c.channels or ALL_CHANNELS)
        ts = tuple(
            Topic(c.id, t.id, t.title, t.description, t.priority, t.form, tuple(t.keywords), tuple(t.channels or c_channels))
            for t in c.topics
        )
        topics.update({t.key: t for t in ts})
        cats.append(Category(c.id, c.title, c.description, c.order, c.icon, tuple(c.keywords), c_channels, ts))
    cats.sort(key=lambda c: (c.order, c.title))
    return Catalog(
        version=digest.hexdigest()[:12],
        loaded_at=datetime.now(timezone.utc),
        config_dir=str(config_dir),
        files=tuple(files),
        categories=tuple(cats),
        forms=MappingProxyType(forms),
        notification_types=MappingProxyType(dict(types.types)),
        channels=MappingProxyType(dict(channels.channels)),
        policies=pol,
        ui=MappingProxyType(ui),
        _topics=MappingProxyType(topics),
    )


def _resolve_form(form_id, form_files, library, policies) -> Form:
    form = form_files[form_id]
    own = [_resolve_field(f, library, policies) for f in form.fields]
    parent = list(_resolve_form(form.extends, form_files, library, policies).fields) if form.extends else []
    own_ids = {f.id for f in own}
    merged = [next(o for o in own if o.id == p.id) if p.id in own_ids else p for p in parent]
    fields = [f for f in own if f.id not in {p.id for p in parent}] + merged
    return Form(form.id, form.title, tuple(fields))


def _resolve_field(entry: schema.FormField, library, policies) -> Field:
    base = library[entry.use].model_dump(exclude_none=True) if entry.use else {}
    base.update(entry.model_dump(exclude_none=True, exclude={"id", "use"}))
    fid = entry.id or entry.use
    required = base.get("required", False)
    options = tuple(o if isinstance(o, schema.SelectOption) else schema.SelectOption(value=o) for o in (entry.options or (library[entry.use].options if entry.use else None) or ()))
    vw = entry.visible_when or (library[entry.use].visible_when if entry.use else None)
    visible_when = None
    if vw:
        visible_when = (vw.field, tuple(vw.in_) if vw.in_ is not None else (vw.equals,))
    att = policies.attachments
    return Field(
        id=fid,
        label=base.get("label", fid),
        type=base.get("type", "string"),
        help=base.get("help"),
        placeholder=base.get("placeholder"),
        required=required,
        pattern=base.get("pattern"),
        pattern_message=base.get("pattern_message"),
        min_length=base.get("min_length"),
        max_length=base.get("max_length"),
        min=base.get("min"),
        max=base.get("max"),
        options=options,
        skippable=base.get("skippable", not required),
        visible_when=visible_when,
        max_files=base.get("max_files", att.max_files),
        max_file_size_mb=base.get("max_file_size_mb", att.max_file_size_mb),
        allowed_types=tuple(base.get("allowed_types", att.allowed_types)),
    )
