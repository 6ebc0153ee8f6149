"""Cross-reference checks that pydantic cannot do alone: ids, references, regexes, templates, reserved fields."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from engine.catalog import schema
from engine.catalog.durations import parse_duration
from engine.catalog.errors import ConfigError, Source, did_you_mean
from engine.catalog.regex_problems import regex_problem
from engine.catalog.resolve import LayeredField
from engine.catalog.templates import TICKET_URL, template_problems
from engine.catalog.ui_format import placeholder_problems, placeholders
from engine.catalog.yaml_positions import Path_

REQUIRED_FIELDS = {"subject": "the ticket subject", "message": "the first message"}
UI_SECTIONS = tuple(name for name in schema.UITextsFile.model_fields if name != "locale")


@dataclass(frozen=True)
class CategoryDecl:
    category: object  # a CategoryFile of schema.config_models
    source: Source


def check_field_spec(spec: schema.FieldSpec, source: Source, path: Path_) -> list[ConfigError]:
    """Problems visible in one field declaration alone (library entry or form entry)."""
    errors = []
    problem = None if spec.pattern is None else regex_problem(spec.pattern)
    if problem:
        errors.append(source.error(path + ("pattern",), problem))
    vw = spec.visible_when
    if vw is not None and (vw.equals is None) == (vw.in_ is None):
        errors.append(source.error(path + ("visible_when",), "visible_when needs exactly one of `equals` or `in`"))
    return errors


def check_form(form_id: str, fields: list[LayeredField], source: Source) -> list[ConfigError]:
    """Problems of a resolved form: reserved fields, select options, visible_when references."""
    errors = []
    ids = [f.id for f in fields]
    for reserved, meaning in REQUIRED_FIELDS.items():
        if reserved not in ids:
            errors.append(source.error(("fields",), f"form '{form_id}' has no '{reserved}' field ({meaning}); add it or extend a form that has it"))
    for position, f in enumerate(fields):
        kind = f.spec.get("type", "string")
        if kind == "select" and not f.spec.get("options"):
            errors.append(f.error("type", f"select field '{f.id}' has no options"))
        if f.id == "attachments" and kind != "attachments":
            errors.append(f.error("type", "the reserved field 'attachments' must have type attachments"))
        target = (f.spec.get("visible_when") or {}).get("field")
        if target is None:
            continue
        # Reported where the form places the field (the order and the fields are the form's), not in the library.
        entry_source, entry_path = f.entry if f.entry[0] is source else (source, ("fields",))
        if target not in ids:
            errors.append(entry_source.error(entry_path + ("visible_when",), f"visible_when refers to unknown field '{target}' of form '{form_id}'" + did_you_mean(target, ids)))
        elif ids.index(target) >= position:
            errors.append(entry_source.error(entry_path + ("visible_when",), f"visible_when refers to field '{target}', which does not come before '{f.id}' in form '{form_id}': move '{f.id}' below '{target}' or give it `after: {target}`"))
    return errors


def check_categories(decls: list[CategoryDecl], form_ids, bound_kinds: set[str] | None) -> list[ConfigError]:
    """Duplicate category and topic ids, unknown forms, channels without a binding (None: not checkable)."""
    errors = []
    first_file: dict[str, Source] = {}
    for decl in decls:
        cat, src = decl.category, decl.source
        if cat.id in first_file:
            errors.append(src.duplicate_id("category", cat.id, first_file[cat.id]))
        first_file.setdefault(cat.id, src)
        errors += _unbound_channels(cat.channels, src, ("channels",), bound_kinds)
        seen_topics: dict[str, int] = {}
        for i, topic in enumerate(cat.topics):
            path = ("topics", i)
            if topic.id in seen_topics:
                errors.append(src.error(path + ("id",), f"duplicate topic id '{topic.id}' (also at line {src.line(('topics', seen_topics[topic.id], 'id'))})"))
            seen_topics.setdefault(topic.id, i)
            if form_ids is not None and topic.form not in form_ids:
                errors.append(src.error(path + ("form",), f"unknown form '{topic.form}'" + did_you_mean(topic.form, form_ids)))
            errors += _unbound_channels(topic.channels, src, path + ("channels",), bound_kinds)
    return errors


def _unbound_channels(kinds, src: Source, path: Path_, bound_kinds: set[str] | None) -> list[ConfigError]:
    if bound_kinds is None:
        return []
    return [
        src.error(path + (i,), f"no channel binding of kind '{kind}' in notifications/channels.yaml")
        for i, kind in enumerate(kinds or ()) if kind not in bound_kinds
    ]


def check_notification_types(types, src: Source, bound_kinds: set[str] | None, channels: dict) -> list[ConfigError]:
    """Template syntax, undeclared params, a template for every default channel, channels that are bound.

    `types` is a NotificationTypesFile of `schema.config_models`; `channels`: the installed channels by kind."""
    errors = []
    for type_id, spec in types.types.items():
        base = ("types", type_id)
        declared = tuple(spec.params) + ((TICKET_URL,) if spec.source in ("ticket", "staff") else ())
        texts = {}
        for kind, template in spec.templates:
            texts.update({(kind, *sub): text for sub, text in channels[kind].template_texts(template).items()})
        for sub, text in texts.items():
            if text is not None:
                errors += [src.error(base + ("templates",) + sub, m) for m in template_problems(text, declared)]
        for i, kind in enumerate(spec.default_channels):
            if getattr(spec.templates, kind) is None:
                errors.append(src.error(base + ("default_channels", i), f"default channel '{kind}' has no template under templates.{kind}"))
        errors += _unbound_channels(spec.default_channels, src, base + ("default_channels",), bound_kinds)
    return errors


def check_channels(channels, src: Source, type_ids, installed: dict) -> list[ConfigError]:
    """Each binding's notifications name known types (unless types.yaml is broken); its channel's own checks
    (e.g. where the secret is). `channels` is a ChannelsFile of `schema.config_models`; `installed`: channels by kind."""
    errors = []
    for binding_id, binding in channels.channels.items():
        base = ("channels", binding_id)
        for i, type_id in enumerate(binding.notifications or ()):
            if type_ids is not None and type_id not in type_ids:
                errors.append(src.error(base + ("notifications", i), f"unknown notification type '{type_id}'" + did_you_mean(type_id, type_ids)))
        errors += [src.error(base, problem) for problem in installed[binding.kind].binding_problems(binding)]
    return errors


# type id -> (when the engine sends it, its params): `source: account` types (engine/signup.py), by email only.
ACCOUNT_NOTIFICATIONS = MappingProxyType({
    "account_verify": ("an account signed up (or asked for a new link) and must confirm its address",
                       {"link": "string: the one-time confirmation link"}),
    "account_exists": ("someone signed up with an address that already has an account",
                       {"link": "string: the page to reset a forgotten password"}),
    "password_reset": ("someone asked to reset the password of an active account",
                       {"link": "string: the one-time reset link"}),
    "sign_in_link": ("someone asked for an emailed sign-in link (policies.signup.magic_link)",
                     {"link": "string: the one-time sign-in link"}),
    "account_invite": ("staff invited someone to create an account (signup mode invite)",
                       {"link": "string: the one-time link to set a password", "inviter": "string: who invited"}),
})
ACCOUNT_EMAIL_TYPES = ("account_verify", "account_exists", "password_reset")  # what a public sign-up sends
# The account emails each sign-up mode sends: invitations are the only way in under `invite`.
MODE_EMAIL_TYPES = {"open": ACCOUNT_EMAIL_TYPES, "domains": ACCOUNT_EMAIL_TYPES, "invite": ("account_invite",)}
SIGN_IN_LINK_TYPE = "sign_in_link"


def check_signup(policies: schema.Policies, src: Source, types: dict | None, bound: set[str] | None) -> list[ConfigError]:
    """A public sign-up, invitations and the emailed sign-in link send account emails: their notification types
    (`source: account`) and an email binding must exist."""
    errors = []
    if policies.signup.mode in MODE_EMAIL_TYPES:
        errors += _account_emails(src, ("policies", "signup", "mode"), f"signup mode '{policies.signup.mode}'",
                                  MODE_EMAIL_TYPES[policies.signup.mode], types, bound)
    if policies.signup.magic_link:
        errors += _account_emails(src, ("policies", "signup", "magic_link"), "signup magic_link",
                                  (SIGN_IN_LINK_TYPE,), types, bound)
    return errors


def _account_emails(src: Source, where: tuple, what: str, needed: tuple[str, ...], types: dict | None,
                    bound: set[str] | None) -> list[ConfigError]:
    missing = [t for t in needed if t not in (types or {}) or types[t].source != "account"]
    errors = [src.error(where, f"{what} needs the notification types {', '.join(missing)} with source: account "
                               "in notifications/types.yaml")] if missing else []
    if bound is not None and "email" not in bound:
        errors.append(src.error(where, f"{what} sends emails: add an email binding to notifications/channels.yaml"))
    return errors


def check_policies(policies: schema.Policies, src: Source) -> list[ConfigError]:
    errors = []
    auto = policies.auto_close
    if auto.after and auto.reminder_before and parse_duration(auto.reminder_before) >= parse_duration(auto.after):
        errors.append(src.error(("policies", "auto_close", "reminder_before"), f"reminder_before ({auto.reminder_before}) must be shorter than after ({auto.after})"))
    sessions = policies.sessions
    if parse_duration(sessions.idle) > parse_duration(sessions.lifetime):
        errors.append(src.error(("policies", "sessions", "idle"), f"idle ({sessions.idle}) must not be longer than lifetime ({sessions.lifetime})"))
    for key in ("idle", "lifetime"):
        if parse_duration(getattr(sessions, key)).total_seconds() < 60:
            errors.append(src.error(("policies", "sessions", key), f"{key} must be at least 1m"))
    return errors


def check_ui_texts(texts: schema.UITextsFile, src: Source, defaults: dict[str, dict[str, dict[str, str]]]) -> list[ConfigError]:
    """Every overridden key exists in the built-in texts, and uses only the placeholders its built-in text uses."""
    errors = []
    known = defaults.get("ru", {})
    for section in UI_SECTIONS:
        for key, text in getattr(texts, section).items():
            if key not in known.get(section, {}):
                errors.append(src.error((section, key), f"unknown UI text '{section}.{key}' (not in the built-in texts)" + did_you_mean(key, known.get(section, {}))))
                continue
            allowed = set().union(*(placeholders(loc.get(section, {}).get(key, "")) for loc in defaults.values()))
            errors += [src.error((section, key), message) for message in placeholder_problems(text, allowed)]
    return errors
