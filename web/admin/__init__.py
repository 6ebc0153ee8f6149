"""The admin pages: the running catalog, reloads with errors and changes, channel bindings, undelivered notifications;
search feedback."""
from web.admin import search_feedback_views, views  # noqa: F401  (they register their routes on bp)
from web.admin.blueprint import bp

__all__ = ["bp"]
