"""Resolve forms: parent form (`extends`), library fields (`use`) and overrides -> catalog Fields."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from engine.catalog import schema
from engine.catalog.catalog import Field, Form
from engine.catalog.errors import ConfigError, Source, did_you_mean
from engine.catalog.texts import local_text
from engine.catalog.yaml_positions import Path_

Where = tuple[Source, Path_]


@dataclass
class LayeredField:
    """A field's explicitly set keys merged over its layers, remembering where each key was set."""

    id: str
    entry: Where  # where the field appears in its form
    spec: dict = field(default_factory=dict)
    origins: dict[str, Where] = field(default_factory=dict)

    def add_layer(self, spec: schema.FieldSpec, source: Source, path: Path_) -> None:
        explicit = spec.model_dump(exclude_none=True, exclude={"id", "use"})
        self.spec.update(explicit)
        self.origins.update({key: (source, path + (key,)) for key in explicit})

    def where(self, key: str | None = None) -> Where:
        """The place that set `key` (or the field's entry), for an error message."""
        return self.origins.get(key, self.entry) if key else self.entry

    def error(self, key: str | None, message: str) -> ConfigError:
        source, path = self.where(key)
        return source.error(path, message)


@dataclass(frozen=True)
class FormDecl:
    form: schema.FormFile
    source: Source


@dataclass(frozen=True)
class LibraryDecl:
    spec: schema.FieldSpec
    source: Source
    path: Path_


def resolve_forms(forms: dict[str, FormDecl], library: dict[str, LibraryDecl], errors: list[ConfigError]) -> dict[str, list[LayeredField]]:
    """Every form whose parents resolve, as its ordered layered fields; problems go to `errors`."""
    resolved: dict[str, list[LayeredField] | None] = {}

    def resolve(form_id: str, chain: tuple[str, ...]) -> list[LayeredField] | None:
        if form_id in resolved:
            return resolved[form_id]
        decl = forms[form_id]
        parent: list[LayeredField] = []
        parent_id = decl.form.extends
        if parent_id in chain + (form_id,):
            cycle = chain[chain.index(parent_id):] if parent_id in chain else ()
            errors.append(decl.source.error(("extends",), "extends cycle: " + " -> ".join(cycle + (form_id, parent_id))))
            resolved[form_id] = None
            return None
        if parent_id and parent_id not in forms:
            errors.append(decl.source.error(("extends",), f"unknown parent form '{parent_id}'" + did_you_mean(parent_id, forms)))
            resolved[form_id] = None
            return None
        if parent_id:
            parent = resolve(parent_id, chain + (form_id,))
            if parent is None:
                resolved[form_id] = None
                return None
        resolved[form_id] = _order(_merge(parent, _own_fields(decl, library, errors)), form_id, decl.source, errors)
        return resolved[form_id]

    for form_id in forms:
        resolve(form_id, ())
    return {form_id: fields for form_id, fields in resolved.items() if fields is not None}


def _own_fields(decl: FormDecl, library: dict[str, LibraryDecl], errors: list[ConfigError]) -> list[LayeredField]:
    own: dict[str, LayeredField] = {}
    for i, entry in enumerate(decl.form.fields):
        path = ("fields", i)
        if not entry.id and not entry.use:
            errors.append(decl.source.error(path, "a field needs `id` (inline field) or `use` (library field)"))
            continue
        if entry.use and entry.use not in library:
            errors.append(decl.source.error(path + ("use",), f"unknown library field '{entry.use}'" + did_you_mean(entry.use, library)))
            continue
        key = "id" if entry.id else "use"
        field_id = entry.id or entry.use
        if field_id in own:
            first = own[field_id].entry
            errors.append(decl.source.error(path + (key,), f"duplicate field id '{field_id}' (also at line {first[0].line(first[1])})"))
            continue
        layered = LayeredField(field_id, (decl.source, path))
        if entry.use:
            lib = library[entry.use]
            layered.add_layer(lib.spec, lib.source, lib.path)
        layered.add_layer(entry, decl.source, path)
        own[field_id] = layered
    return list(own.values())


POSITION_RANK = {"first": 0, None: 1, "last": 2}


def _merge(parent: list[LayeredField], own: list[LayeredField]) -> list[LayeredField]:
    """The parent's fields, then the form's own; an own field with a parent's id overrides the keys it sets, in place.
    Then `position`: every `first` field, the others, every `last` field (each group keeping that order)."""
    by_id = {f.id: f for f in own}
    merged = []
    for p in parent:
        o = by_id.pop(p.id, None)
        merged.append(p if o is None else LayeredField(p.id, o.entry, {**p.spec, **o.spec}, {**p.origins, **o.origins}))
    return sorted(merged + [f for f in own if f.id in by_id], key=lambda f: POSITION_RANK[f.spec.get("position")])


def _order(fields: list[LayeredField], form_id: str, source: Source, errors: list[ConfigError]) -> list[LayeredField]:
    """Move each field with `after: x` right behind x; an unknown x is an error of the form that wrote it."""
    ordered = list(fields)
    for f in fields:
        target = f.spec.get("after")
        if target is None:
            continue
        ids = [o.id for o in ordered]
        if target == f.id or target not in ids:
            if f.origins["after"][0] is source:
                problem = "a field cannot come after itself" if target == f.id else f"unknown field '{target}' of form '{form_id}'" + did_you_mean(target, ids)
                errors.append(f.error("after", problem))
            continue
        ordered.remove(f)
        ordered.insert(ordered.index(next(o for o in ordered if o.id == target)) + 1, f)
    return ordered


def build_forms(decls: dict[str, FormDecl], resolved: dict[str, list[LayeredField]], policies: schema.Policies) -> dict[str, Form]:
    """Catalog Forms; a parent's field inherited unchanged by many forms becomes one shared (immutable) Field."""
    built: dict[int, Field] = {}

    def build(layered: LayeredField) -> Field:
        if id(layered) not in built:
            built[id(layered)] = _build_field(layered, policies)
        return built[id(layered)]

    return {
        fid: Form(fid, local_text(decls[fid].form.title, policies.default_locale), tuple(build(f) for f in fields))
        for fid, fields in resolved.items()
    }


def _build_field(layered: LayeredField, policies: schema.Policies) -> Field:
    spec = layered.spec
    attachments = policies.attachments
    text = partial(local_text, default_locale=policies.default_locale)
    required = spec.get("required", False)
    vw = spec.get("visible_when")
    visible_when = None
    if vw:
        visible_when = (vw["field"], tuple(vw["in_"]) if vw.get("in_") is not None else (vw.get("equals"),))
    options = tuple(  # built without validation: a label may be a LocalText (validated as YAML already)
        schema.SelectOption.model_construct(value=o, label=None) if isinstance(o, str)
        else schema.SelectOption.model_construct(value=o["value"], label=text(o.get("label")))
        for o in spec.get("options") or ()
    )
    return Field(
        id=layered.id,
        label=text(spec.get("label", layered.id)),
        type=spec.get("type", "string"),
        help=text(spec.get("help")),
        placeholder=text(spec.get("placeholder")),
        required=required,
        pattern=spec.get("pattern"),
        pattern_message=text(spec.get("pattern_message")),
        min_length=spec.get("min_length"),
        max_length=spec.get("max_length"),
        min=spec.get("min"),
        max=spec.get("max"),
        options=options,
        skippable=spec.get("skippable", not required),
        visible_when=visible_when,
        max_files=spec.get("max_files", attachments.max_files),
        max_file_size_mb=spec.get("max_file_size_mb", attachments.max_file_size_mb),
        allowed_types=tuple(spec.get("allowed_types", attachments.allowed_types)),
    )
