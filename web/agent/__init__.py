"""The agent console: the queue of open tickets and the staff view of a ticket."""
from flask import Blueprint

bp = Blueprint("agent", __name__, url_prefix="/agent")

from web.agent import views  # noqa: E402,F401  (views register on bp)
