"""Request dependencies for the pages; the shared ones live in :mod:`john.deps`."""

from john.deps import get_session, get_settings

__all__ = ["get_session", "get_settings"]
