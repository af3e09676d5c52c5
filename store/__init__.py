"""The store: one SQLite file through sqlite-utils, schema only through numbered migrations; the outbox queue;
the one clock format and the value checks everything stored goes through."""
from store.clock import now
from store.db import connect, migrate, write

__all__ = ["connect", "migrate", "now", "write"]
