"""The admin pages: the running catalog, the config draft, reloads, history and rollbacks, channel bindings,
undelivered notifications; the users page (web/admin/users.py); search feedback."""
from web.admin import config_views, search_feedback_views, users, views  # noqa: F401  (they register their routes on bp)
from web.admin.blueprint import bp

__all__ = ["bp"]
