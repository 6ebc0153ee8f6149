"""The admin page: the running catalog, reloads with errors and changes, channel bindings, undelivered notifications."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from web.admin import views  # noqa: E402,F401  (views register on bp)
