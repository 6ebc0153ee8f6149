"""`run.py config check | schema | reload`: validate, export JSON Schemas, publish a new version to running processes."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.catalog.catalog import Catalog
from engine.catalog.changes import CatalogChanges, titles
from engine.catalog.errors import ConfigErrors
from engine.catalog.json_schema import write_schemas
from engine.catalog.loader import load_catalog
from engine.catalog.messages import LOCALES, localize
from engine.catalog_sync import publish, published_titles
from engine.redis_conn import connect_redis
from engine.settings import from_env


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
    reload = sub.add_parser("reload", help="validate the config and make every running process switch to it")
    reload.add_argument("--config", help="config folder (default: HELPDESK_CONFIG or ./config)")
    reload.set_defaults(func=_reload)


def summary(catalog: Catalog) -> str:
    """One line: what the catalog holds and its version."""
    field_ids = {f.id for form in catalog.forms.values() for f in form.fields}
    return (f"OK: {len(catalog.categories)} categories, {len(catalog.all_topics())} topics, {len(catalog.forms)} forms, "
            f"{len(field_ids)} fields, {len(catalog.notification_types)} notification types, version {catalog.version}")


def _load(args: argparse.Namespace) -> Catalog | None:
    try:
        return load_catalog(args.config or from_env().config_dir)
    except ConfigErrors as exc:
        for error in exc.errors:
            print(error)
        print(f"{len(exc.errors)} error(s)")
        return None


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


def _reload(args: argparse.Namespace) -> int:
    catalog = _load(args)
    if catalog is None:
        return 1
    redis = connect_redis(from_env())
    before = published_titles(redis)
    if not publish(redis, catalog):
        print("Redis is unreachable: nothing was published")
        return 2
    print(summary(catalog))
    print(f"Published version {catalog.version}; running processes switch within a second.")
    if before is None:
        print("No version was published before.")
        return 0
    lines = CatalogChanges.between(before, titles(catalog)).lines()
    print("\n".join(lines) if lines else "No category or topic was added, removed or renamed.")
    return 0
