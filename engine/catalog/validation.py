"""Validate parsed YAML against a pydantic model and turn each error `loc` into `file:line: key.path: message`."""
from __future__ import annotations

import types
import typing

from pydantic import BaseModel, ValidationError

from engine.catalog import schema
from engine.catalog.durations import parse_duration
from engine.catalog.errors import ConfigError, Source, did_you_mean


def validate(model: type[BaseModel], source: Source) -> tuple[BaseModel | None, list[ConfigError]]:
    """The validated model, or None and every error of the file."""
    data = {} if source.data is None else source.data
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _translate(model, source, data, exc.errors(include_url=False))


def _translate(model, source: Source, data, raw_errors: list[dict]) -> list[ConfigError]:
    found = []  # (path, came_through_union, message)
    for err in map(_at_discriminator, raw_errors):
        path, through_union = _data_path(data, err["loc"], err["type"] in ("missing", "extra_forbidden"))
        found.append((path, through_union, _message(model, err)))
    # A value failing every member of a union yields one error per member; keep the member that got furthest.
    found = [
        (path, tagged, msg) for path, tagged, msg in found
        if not tagged or not any(t and len(p) > len(path) and p[: len(path)] == path for p, t, _ in found)
    ]
    errors, seen_paths = [], set()
    for path, _, message in found:
        if path not in seen_paths:
            seen_paths.add(path)
            errors.append(source.error(path, message))
    return errors


def _at_discriminator(err: dict) -> dict:
    """A discriminated union's tag error (a binding's `kind`) as an error of that key, worded like a Literal's."""
    if err["type"] not in ("union_tag_invalid", "union_tag_not_found"):
        return err
    ctx = err.get("ctx", {})
    loc = (*err["loc"], ctx.get("discriminator", "").strip("'"))
    if err["type"] == "union_tag_not_found":
        return {**err, "type": "missing", "loc": loc}
    head, _, last = ctx.get("expected_tags", "").rpartition(", ")
    expected = f"{head} or {last}" if head else last
    return {**err, "type": "literal_error", "loc": loc, "msg": f"Input should be {expected}", "input": ctx.get("tag")}


def _data_path(data, loc: tuple, names_key: bool) -> tuple[tuple, bool]:
    """The loc with pydantic's union-member tags and '[key]' markers removed, following the actual data."""
    path, current, skipped = [], data, False
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(current, dict) and part in current:
            path.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            path.append(part)
            current = current[part]
        elif last and names_key and isinstance(current, dict):
            path.append(part)  # a missing or unknown key
        else:
            skipped = skipped or part != "[key]"
    return tuple(path), skipped


def _message(model, err: dict) -> str:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "missing":
        return "missing required key"
    if kind == "extra_forbidden":
        allowed = _keys_at(model, err["loc"][:-1])
        hint = did_you_mean(str(err["loc"][-1]), allowed) or (f" (allowed: {', '.join(allowed)})" if allowed else "")
        return "unknown key" + hint
    if kind == "string_pattern_mismatch":
        pattern = err.get("ctx", {}).get("pattern")
        if pattern == schema.IDENTIFIER_PATTERN:
            return f"invalid id {value!r}: use lowercase latin letters, digits, '-' and '_' (at most 40)"
        if pattern == schema.HOURS_PATTERN:
            return f"invalid hours {value!r}: use HH:MM-HH:MM, e.g. 09:00-18:00 (24:00 for midnight)"
        if pattern == schema.DURATION_PATTERN:
            try:
                parse_duration(value)
            except ValueError as exc:
                return str(exc)
    if (kind == "string_type" and value is None) or (kind == "string_too_short" and err.get("ctx", {}).get("min_length") == 1):
        return "must not be empty"
    if kind in ("model_type", "dict_type"):
        return f"must be a mapping (key: value), got {_kind_of(value)}"
    msg = msg.replace("Input should be", "must be").replace("Value error, ", "")
    if kind in ("literal_error", "enum") or (not isinstance(value, (dict, list)) and kind.endswith(("_type", "_parsing"))):
        msg += f", got {value!r}"
    return msg


def _kind_of(value) -> str:
    """How a YAML author would name the value they wrote."""
    if isinstance(value, list):
        return "a list"
    return "nothing" if value is None else repr(value)


def _keys_at(model, loc: tuple) -> list[str]:
    """The keys allowed at `loc` of `model`, for the did-you-mean hint of an unknown key."""
    tp = model
    for part in loc:
        tp = _step(tp, part)
        if tp is None:
            return []
    tp = _concrete(tp, None)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []


def _step(tp, part):
    """The annotation one loc step below `tp`."""
    tp = _concrete(tp, part)
    if tp is None:
        return None
    if isinstance(part, str) and (getattr(tp, "__name__", None) == part or _tagged(tp, part)):
        return tp  # a union member tag selected this member
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return next((f.annotation for name, f in tp.model_fields.items() if part in (name, f.alias)), None)
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict:
        return args[1]
    return None


def _concrete(tp, part):
    """Strip Annotated and Optional; inside a real union pick the member the loc names (or the model)."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        named = [m for m in members if getattr(m, "__name__", None) == part or _tagged(m, part)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        candidates = named or models or members
        return _concrete(candidates[0], part) if candidates else None
    return tp


def _tagged(tp, part) -> bool:
    """A discriminated union's member whose tag (a Literal field, e.g. a binding's `kind`) is `part`."""
    if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return False
    return any(typing.get_origin(f.annotation) is typing.Literal and typing.get_args(f.annotation) == (part,)
               for f in tp.model_fields.values())
