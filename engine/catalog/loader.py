"""Load a config folder into a validated Catalog, reporting every problem as `file:line: key.path: message`."""
from __future__ import annotations

import dataclasses
import gc
import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache, partial
from pathlib import Path
from types import MappingProxyType

import yaml

from engine.catalog import checks, layout, lint, schema, yaml_problems
from engine.catalog.bundle import ConfigBundle, read_bundle
from engine.catalog.catalog import Catalog, Category, Topic
from engine.catalog.errors import ConfigError, ConfigErrors, Source
from engine.catalog.replies import ReplyDecl, build_replies, check_replies
from engine.catalog.sla import build_sla, check_sla
from engine.catalog.teams import build_teams, check_teams
from engine.catalog.resolve import FormDecl, LibraryDecl, build_forms, resolve_forms
from engine.catalog.texts import local_text, localized_model
from engine.catalog.validation import validate
from engine.catalog.yaml_positions import parse_yaml_shared
from engine.channel_registry import registry

UI_DEFAULTS_DIR = Path(__file__).parent / "ui_defaults"
TYPE_TEXTS = ("title", "description", "templates")  # a notification type's texts people read (templates: every one)

__all__ = ["ConfigError", "ConfigErrors", "load_bundle", "load_catalog", "load_folder"]


@dataclass
class _Load:
    """The state of one load: the files read, their hash, the errors found."""

    bundle: ConfigBundle
    root: str  # how error messages name the folder: `config/forms/x.yaml:3`
    errors: list[ConfigError] = field(default_factory=list)
    digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    files: list[str] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)  # folders/files with a syntax or schema error

    def fail(self, rel: str, errors: list[ConfigError]) -> None:
        """Record errors of one file; references into its folder are then not checked (no cascades)."""
        self.errors += errors
        if errors:
            self.broken.add(rel.split("/")[0] if not rel.startswith("notifications/") else rel)

    def read(self, rel: str) -> Source | None:
        """Parse one file (hashing its bytes); None after recording a YAML syntax error."""
        display = f"{self.root}/{rel}"
        text = self.bundle.files[rel]
        self.files.append(rel)
        self.digest.update(rel.encode() + b"\0" + text + b"\0")
        bad_line = yaml_problems.not_utf8_line(text)
        if bad_line is not None:
            self.fail(rel, [ConfigError(display, bad_line, "", yaml_problems.NOT_UTF8)])
            return None
        try:
            positioned = parse_yaml_shared(text)
        except yaml.YAMLError as exc:
            line, message = yaml_problems.explain(text.decode("utf-8"), exc)
            self.fail(rel, [ConfigError(display, line, "", message)])
            return None
        if positioned.data is None:
            self.fail(rel, [ConfigError(display, 1, "", yaml_problems.EMPTY)])
            return None
        source = Source(display, positioned.data, positioned, rel)
        self.fail(rel, [source.error(d.path, f"duplicate key '{d.path[-1]}' (also at line {d.first_line})") for d in positioned.duplicates])
        return source

    def model(self, rel: str, model: type[schema.Strict]):
        """(validated model, source), or (None, source) after recording its errors."""
        source = self.read(rel)
        if source is None:
            return None, None
        value, errors = validate(model, source)
        self.fail(source.rel, errors)
        return value, source


def load_catalog(config_dir: Path | str) -> Catalog:
    """Read, validate and resolve every file under `config_dir`; raise ConfigErrors listing all problems."""
    return load_folder(config_dir)[1]


def load_folder(config_dir: Path | str) -> tuple[ConfigBundle, Catalog]:
    """A folder's bundle (what `config reload` stores) and its catalog; the folder's layout is checked too (a file
    the loader would not read is an error). Raises ConfigErrors listing all problems."""
    root = Path(config_dir)
    bundle = read_bundle(root)
    if bundle is None:
        raise ConfigErrors([ConfigError(root.as_posix(), 1, "", "config folder not found")])
    return bundle, load_bundle(bundle, root.as_posix(), layout.unknown_entries(root))


def load_bundle(bundle: ConfigBundle, root: str = "config", layout_errors: list[ConfigError] = ()) -> Catalog:
    """Validate and resolve a bundle's files (errors name them `root/rel`); raise ConfigErrors listing all problems."""
    # A load allocates many small acyclic objects; collector passes over them would double its time.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _load_catalog(_Load(bundle, root, list(layout_errors)))
    finally:
        if paused:
            gc.enable()


def _load_catalog(load: _Load) -> Catalog:
    installed = registry.all()
    if not installed:
        raise RuntimeError("no channels are registered: call channels.register_channels() at the process's start")
    models = schema.config_models(installed)  # the binding union, templates and channel lists of these kinds
    categories = [checks.CategoryDecl(c, s) for c, s in _each(load, "categories", models.CategoryFile) if c]
    if not categories and not load.errors:
        load.errors.append(ConfigError(f"{load.root}/categories", 1, "", "no category files (*.yaml)"))
    library, forms = _read_forms(load)
    # A missing single-file kind means no types, no bindings, default policies.
    types, types_src = _optional(load, "notifications/types.yaml", models.NotificationTypesFile, {"types": {}})
    channels, channels_src = _optional(load, "notifications/channels.yaml", models.ChannelsFile, {"channels": {}})
    policies, policies_src = _optional(load, "policies.yaml", schema.PoliciesFile, {})
    ui = _ui_texts(load)
    replies = [ReplyDecl(r, s) for r, s in _each(load, "replies", schema.CannedReplyFile) if r]
    sla, sla_src = _optional(load, "sla.yaml", schema.SlaFile, None)
    teams, teams_src = load.model("teams.yaml", models.TeamsFile) if "teams.yaml" in load.bundle.files else (None, None)

    # References into a broken folder are not checked: the first error explains them.
    resolved = {} if "forms" in load.broken else resolve_forms(forms, library, load.errors)
    for form_id, fields in resolved.items():
        load.errors += checks.check_form(form_id, fields, forms[form_id].source)
    bound = None if channels is None else {b.kind for b in channels.channels.values()}
    load.errors += checks.check_categories(categories, None if "forms" in load.broken else forms, bound)
    by_kind = {channel.kind: channel for channel in installed}
    if types:
        load.errors += checks.check_notification_types(types, types_src, bound, by_kind)
    if channels:
        load.errors += checks.check_channels(channels, channels_src, types.types if types else None, by_kind)
    if policies:
        load.errors += checks.check_policies(policies.policies, policies_src)
        load.errors += checks.check_signup(policies.policies, policies_src, types.types if types else None, bound)
    topic_keys = None if "categories" in load.broken else {f"{c.category.id}/{t.id}" for c in categories for t in c.category.topics}
    load.errors += check_replies(replies, topic_keys, {c.category.id for c in categories})
    if sla:
        load.errors += check_sla(sla, sla_src, topic_keys, {c.category.id for c in categories})
    if teams:
        field_ids = None if "forms" in load.broken else {f.id for fields in resolved.values() for f in fields}
        load.errors += check_teams(teams, teams_src, topic_keys, {c.category.id for c in categories}, field_ids, by_kind)
    if load.errors:
        raise ConfigErrors(load.errors)
    warnings = lint.warnings_of(resolved, categories, types, types_src, by_kind,
                                _text_sources(categories, forms, library, types_src, channels_src, *(r.source for r in replies)),
                                _declared_locales(policies.policies))
    catalog = _build(load, categories, forms, resolved, types, channels, policies, ui, registry.ticket_kinds(), replies, sla)
    built_teams, routing = build_teams(teams, teams_src, policies.policies.default_locale)
    return dataclasses.replace(catalog, warnings=tuple(sorted(set(warnings))), teams=built_teams, routing=routing)


def _each(load: _Load, folder: str, model):
    for rel in load.bundle.in_folder(folder):
        yield load.model(rel, model)


def _optional(load: _Load, rel: str, model, absent: dict | None):
    """A single-file kind: absent means `absent` (empty, defaults; None: nothing)."""
    if rel not in load.bundle.files:
        return (None if absent is None else model.model_validate(absent)), None
    return load.model(rel, model)


def _read_forms(load: _Load) -> tuple[dict[str, LibraryDecl], dict[str, FormDecl]]:
    """config/forms/: a file with a `fields` mapping and no `id` is a field library, anything else one form."""
    library: dict[str, LibraryDecl] = {}
    forms: dict[str, FormDecl] = {}
    for rel in load.bundle.in_folder("forms"):
        source = load.read(rel)
        if source is None:
            continue
        data = source.data
        is_library = isinstance(data, dict) and "id" not in data and isinstance(data.get("fields"), dict)
        value, errors = validate(schema.FieldLibraryFile if is_library else schema.FormFile, source)
        load.fail(source.rel, errors)
        if value is None:
            continue
        if is_library:
            for field_id, spec in value.fields.items():
                if field_id in library:
                    other = library[field_id]
                    load.errors.append(source.error(("fields", field_id), f"duplicate library field '{field_id}' (also in {other.source.display}:{other.source.line(other.path)})"))
                    continue
                library[field_id] = LibraryDecl(spec, source, ("fields", field_id))
                load.errors += checks.check_field_spec(spec, source, ("fields", field_id))
        elif value.id in forms:
            load.errors.append(source.duplicate_id("form", value.id, forms[value.id].source))
        else:
            forms[value.id] = FormDecl(value, source)
            for i, entry in enumerate(value.fields):
                load.errors += checks.check_field_spec(entry, source, ("fields", i))
    return library, forms


@lru_cache(maxsize=1)
def builtin_ui_texts() -> tuple[bytes, dict[str, dict[str, dict[str, str]]]]:
    """The built-in UI texts (locale -> section -> key -> text) and their bytes, for the version hash."""
    raw, texts = b"", {}
    for path in sorted(UI_DEFAULTS_DIR.glob("*.yaml")):
        data = path.read_bytes()
        raw += data
        parsed = schema.UITextsFile.model_validate(yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        texts[parsed.locale] = {section: dict(getattr(parsed, section)) for section in checks.UI_SECTIONS}
    return raw, texts


def _ui_texts(load: _Load) -> dict[str, dict[str, dict[str, str]]]:
    """Built-in texts with config/ui/<locale>.yaml overrides applied."""
    raw, defaults = builtin_ui_texts()
    load.digest.update(raw)
    texts = {loc: {section: dict(keys) for section, keys in sections.items()} for loc, sections in defaults.items()}
    for override, source in _each(load, "ui", schema.UITextsFile):
        if override is None:
            continue
        load.errors += checks.check_ui_texts(override, source, defaults)
        for section in checks.UI_SECTIONS:
            texts.setdefault(override.locale, {}).setdefault(section, {}).update(getattr(override, section))
    return texts


def _text_sources(categories, forms, library, *single_files) -> list[Source]:
    """The files holding catalog texts (categories, forms, field libraries, notification types, bindings, canned
    replies), each once."""
    found = [d.source for d in categories] + [d.source for d in forms.values()] + [d.source for d in library.values()]
    found += [source for source in single_files if source is not None]
    return list({id(s): s for s in found}.values())


def _declared_locales(policies: schema.Policies) -> list[str]:
    """The locales every text should have, the default first."""
    return list(dict.fromkeys([policies.default_locale, *(policies.locales or ())]))


def _words(keywords) -> tuple[str, ...]:
    """Search words: a list, or every locale's list (the search finds a topic by the words of any language)."""
    lists = keywords.values() if isinstance(keywords, dict) else [keywords]
    return tuple(dict.fromkeys(word for words in lists for word in words))


def _build(load: _Load, categories, forms, resolved, types, channels, policies, ui, ticket_kinds, replies, sla) -> Catalog:
    pol = policies.policies
    built_forms = build_forms(forms, resolved, pol)
    text = partial(local_text, default_locale=pol.default_locale)
    cats, topics = [], {}
    for decl in categories:
        c = decl.category
        c_channels = tuple(c.channels or ticket_kinds)
        ts = tuple(
            Topic(c.id, t.id, text(t.title), text(t.description), t.priority, t.form, _words(t.keywords), tuple(t.channels or c_channels))
            for t in c.topics
        )
        topics.update({t.key: t for t in ts})
        cats.append(Category(c.id, text(c.title), text(c.description), c.order, c.icon, _words(c.keywords), c_channels, ts))
    cats.sort(key=lambda c: (c.order, c.title))
    frozen_ui = MappingProxyType({
        loc: MappingProxyType({section: MappingProxyType(keys) for section, keys in sections.items()})
        for loc, sections in ui.items()
    })
    return Catalog(
        version=load.digest.hexdigest()[:12],
        loaded_at=datetime.now(timezone.utc),
        config_dir=load.root,
        files=tuple(load.files),
        categories=tuple(cats),
        forms=MappingProxyType(built_forms),
        notification_types=MappingProxyType({type_id: localized_model(spec, TYPE_TEXTS, pol.default_locale) for type_id, spec in types.types.items()}),
        channels=MappingProxyType({b_id: localized_model(b, ("title",), pol.default_locale) for b_id, b in channels.channels.items()}),
        policies=pol,
        ui=frozen_ui,
        replies=MappingProxyType(build_replies(replies, pol.default_locale)),
        sla=build_sla(sla),
        _topics=MappingProxyType(topics),
    )
