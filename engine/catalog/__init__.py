"""The declarative catalog: YAML under config/ -> validated, versioned, immutable Catalog snapshots.

Pure: no database, no Redis. A process's current snapshot and its reloads live in `engine.catalog_sync`.
"""
from engine.catalog.catalog import Catalog, Category, Field, Form, Topic
from engine.catalog.loader import ConfigError, ConfigErrors, load_catalog

__all__ = ["Catalog", "Category", "ConfigError", "ConfigErrors", "Field", "Form", "Topic", "load_catalog"]
