"""The customer portal: catalog pages and ticket forms, my tickets, notification settings."""
from web.portal import account_views, catalog_views, claim_views, ticket_views  # noqa: F401  (they register their routes on bp)
from web.portal.blueprint import bp

__all__ = ["bp"]
