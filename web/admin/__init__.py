"""The admin pages: the running catalog, reloads with errors and changes, channel bindings, undelivered notifications;
the users page (web/admin/users.py)."""
from web.admin import users, views  # noqa: F401  (they register their routes on bp)
from web.admin.blueprint import bp

__all__ = ["bp"]
