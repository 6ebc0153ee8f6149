"""The `admin` blueprint object; the views modules register their routes on it."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
