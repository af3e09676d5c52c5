"""Background work: the one worker process that drains the outbox (store/outbox.py) of write-backs."""
