"""The customer portal: catalog pages and ticket forms, my tickets, notification settings."""
from flask import Blueprint

bp = Blueprint("portal", __name__)

from web.portal import account_views, catalog_views, ticket_views  # noqa: E402,F401  (views register on bp)
