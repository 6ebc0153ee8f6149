"""The agent console: the queue of open tickets and the staff view of a ticket."""
from web.agent import search_views, views  # noqa: F401  (they register their routes on bp)
from web.agent.blueprint import bp

__all__ = ["bp"]
