"""The `agent` blueprint object; the views modules register their routes on it."""
from flask import Blueprint

bp = Blueprint("agent", __name__, url_prefix="/agent")
