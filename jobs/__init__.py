"""Background work: the outbox of write-backs and the one worker process that drains it."""
