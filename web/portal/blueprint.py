"""The `portal` blueprint object; the views modules register their routes on it."""
from flask import Blueprint

bp = Blueprint("portal", __name__)
