"""The store: one SQLite file through sqlite-utils, schema only through numbered migrations."""
from store.db import connect, migrate, now, write

__all__ = ["connect", "migrate", "now", "write"]
