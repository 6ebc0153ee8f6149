"""The admin page: the running catalog, reloads with errors and changes, channel bindings, undelivered notifications."""
from web.admin import views  # noqa: F401  (they register their routes on bp)
from web.admin.blueprint import bp

__all__ = ["bp"]
