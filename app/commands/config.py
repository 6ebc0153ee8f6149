"""`run.py config check | schema | diff | reload | rollback | history`: validate, export JSON Schemas, show what a
reload would change, store a new version that every running process switches to (the folder's, or an earlier one
again), list the stored versions. Reloads and rollbacks are audited with the shell user as the actor."""
from __future__ import annotations

import argparse
from pathlib import Path

from peewee import DatabaseError

from engine.catalog.catalog import Catalog
from engine.catalog.changes import CatalogDiff, catalog_diff
from engine.catalog.errors import ConfigErrors
from engine.catalog.json_schema import write_schemas
from engine.catalog.loader import load_catalog
from engine.catalog.messages import LOCALES, localize
from engine.catalog_sync import QUICK_TIMEOUT, ReloadResult, announce, audit, connected, load_stored, read_folder, read_stored
from engine.config_follower import poll_interval_from
from engine.config_versions import history, latest_number, store_version, this_user
from engine.redis_conn import connect_redis, quick_client
from engine.settings import from_env
from engine.store.db import init_database
from engine.store.models import ConfigVersion


def register(subparsers) -> None:
    config = subparsers.add_parser("config", help="check, export the schema of, or reload the YAML catalog")
    sub = config.add_subparsers(dest="config_command", required=True)
    check = sub.add_parser("check", help="validate the config and print a summary (exit 1 listing every error)")
    check.add_argument("--config", help="config folder (default: HELPDESK_CONFIG or ./config)")
    check.add_argument("--strict", action="store_true", help="treat warnings (lint) as errors")
    check.add_argument("--lang", choices=LOCALES, default="en", help="language of the errors and warnings (default: en)")
    check.set_defaults(func=_check)
    schema = sub.add_parser("schema", help="write the JSON Schemas of the config files")
    schema.add_argument("--out", help="output folder (default: <config folder>/schema)")
    schema.set_defaults(func=_schema)
    reload = sub.add_parser("reload", help="validate the config, store it as a new version in the database and make "
                                           "every running process (on every host) switch to it")
    reload.add_argument("--config", help="config folder (default: HELPDESK_CONFIG or ./config)")
    reload.add_argument("-m", "--comment", default="", help="why: kept in the version history")
    reload.set_defaults(func=_reload)
    diff = sub.add_parser("diff", help="show what a reload of the folder would change against the running version")
    diff.add_argument("--config", help="config folder (default: HELPDESK_CONFIG or ./config)")
    diff.add_argument("--lang", choices=LOCALES, default="en", help="language of the lines (default: en)")
    diff.set_defaults(func=_diff)
    rollback = sub.add_parser("rollback", help="publish an earlier stored version again as the newest one (every "
                                               "running process switches to it)")
    rollback.add_argument("version", type=int, help="the version number to go back to (see `config history`)")
    rollback.add_argument("-m", "--comment", default="", help="why: kept in the version history")
    rollback.set_defaults(func=_rollback)
    versions = sub.add_parser("history", help="list the stored config versions, newest first")
    versions.add_argument("--limit", type=int, default=20)
    versions.set_defaults(func=_history)


def summary(catalog: Catalog) -> str:
    """One line: what the catalog holds and its version."""
    field_ids = {f.id for form in catalog.forms.values() for f in form.fields}
    return (f"OK: {len(catalog.categories)} categories, {len(catalog.all_topics())} topics, {len(catalog.forms)} forms, "
            f"{len(field_ids)} fields, {len(catalog.notification_types)} notification types, version {catalog.version}")


def _check(args: argparse.Namespace) -> int:
    """Errors (exit 1), else the warnings and the summary; with --strict, warnings are errors."""
    lang = args.lang
    try:
        catalog = load_catalog(args.config or from_env().config_dir)
    except ConfigErrors as exc:
        return _print_errors(exc.errors, lang)
    if args.strict and catalog.warnings:
        return _print_errors([w.as_error() for w in catalog.warnings], lang)
    for warning in catalog.warnings:
        print(localize(warning, lang))
    print(summary(catalog))
    return 0


def _print_errors(errors, lang: str) -> int:
    for error in errors:
        print(localize(error, lang))
    print(f"ошибок: {len(errors)}" if lang == "ru" else f"{len(errors)} error(s)")
    return 1


def _schema(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else from_env().config_dir / "schema"
    for path in write_schemas(out):
        print(path)
    return 0


NO_DATABASE = "a new database needs `python run.py db upgrade` first"


def _diff(args: argparse.Namespace) -> int:
    """The lines a reload of the folder would add to the history (against nothing before the first version)."""
    settings = from_env()
    try:
        _, catalog = read_folder(Path(args.config) if args.config else settings.config_dir)
    except ConfigErrors as exc:
        return _print_errors(exc.errors, args.lang)
    try:
        with connected(init_database(settings)):
            number, running = _running()
    except DatabaseError as exc:
        print(f"error: no version history ({exc}); {NO_DATABASE}")
        return 2
    lines = catalog_diff(running, catalog).lines(args.lang)
    against = f"version {number}" if number else "an empty catalog (no version is stored yet)"
    print(f"Against {against}:" if args.lang == "en" else f"По сравнению с {f'версией {number}' if number else 'пустой конфигурацией'}:")
    print("\n".join(lines) if lines else ("No changes." if args.lang == "en" else "Изменений нет."))
    return 0


def _running() -> tuple[int | None, Catalog | None]:
    """The newest stored version's number and catalog (None, None before the first; a catalog of None when that
    version no longer loads with this code: everything is new to it)."""
    number = latest_number()
    if number is None:
        return None, None
    try:
        return number, load_stored(number)[1]
    except ConfigErrors:
        return number, None


def _reload(args: argparse.Namespace) -> int:
    settings = from_env()
    try:
        bundle, catalog = read_folder(Path(args.config) if args.config else settings.config_dir)
    except ConfigErrors as exc:
        return _print_errors(exc.errors, "en")
    return _publish(settings, bundle, catalog, args.comment, "config_reload")


def _rollback(args: argparse.Namespace) -> int:
    settings = from_env()
    try:
        with connected(init_database(settings)):
            bundle, catalog = read_stored(args.version)
    except ConfigVersion.DoesNotExist:
        print(f"error: version {args.version} is not stored (see `python run.py config history`)")
        return 1
    except ConfigErrors as exc:
        print(f"error: version {args.version} does not load with this code:")
        return _print_errors(exc.errors, "en")
    except DatabaseError as exc:
        print(f"error: no version history ({exc}); {NO_DATABASE}")
        return 2
    comment = args.comment or f"rollback to version {args.version}"
    return _publish(settings, bundle, catalog, comment, "config_rollback", {"from": args.version})


def _publish(settings, bundle, catalog: Catalog, comment: str, action: str, extra: dict | None = None) -> int:
    """Store the bundle as the newest version, tell the running processes, audit it, print what changed."""
    actor = this_user("cli")
    db = init_database(settings)
    try:
        with connected(db):
            _, running = _running()
            info, stored = store_version(bundle, catalog, actor, comment)
            changes = catalog_diff(running, catalog) if stored else CatalogDiff()
            published = stored and announce(quick_client(connect_redis(settings), QUICK_TIMEOUT), info.number)
            result = ReloadResult(True, [], changes, catalog.version, published, info.number, stored)
            audit(action, actor, {**result.audit_detail(), **(extra or {})})
    except DatabaseError as exc:
        print(f"error: the version could not be stored ({exc}); {NO_DATABASE}")
        return 2
    print(summary(catalog))
    if not stored:
        print(f"Version {info.number} already has these files: nothing to store.")
        return 0
    if published:
        print(f"Stored version {info.number}; running processes switch within a second.")
    else:
        print(f"Stored version {info.number}; Redis is unreachable: running processes switch at their next check "
              f"(every {poll_interval_from(settings.env):g} s).")
    print(info.summary)
    if running is None:  # the first version (or the running one no longer loads): what it holds
        print("\n".join(changes.lines()))
    return 0


def _history(args: argparse.Namespace) -> int:
    with connected(init_database(from_env())):
        try:
            rows = history(args.limit)
        except DatabaseError as exc:
            print(f"error: no version history ({exc}); a new database needs `python run.py db upgrade` first")
            return 2
    for row in rows:
        comment = f"  {row.comment}" if row.comment else ""
        print(f"v{row.number}  {row.created_at:%Y-%m-%d %H:%M:%S}  {row.actor}  {row.catalog_version}{comment}")
        for line in row.summary.splitlines():
            print(f"    {line}")
    if not rows:
        print("No version is stored yet.")
    return 0
