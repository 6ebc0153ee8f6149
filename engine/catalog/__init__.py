"""The declarative catalog: YAML under config/ -> validated, versioned, immutable Catalog snapshots."""
from engine.catalog.catalog import Catalog, Category, Field, Form, Topic
from engine.catalog.holder import CatalogHolder
from engine.catalog.loader import ConfigError, ConfigErrors, load_catalog

__all__ = ["Catalog", "CatalogHolder", "Category", "ConfigError", "ConfigErrors", "Field", "Form", "Topic", "load_catalog"]
