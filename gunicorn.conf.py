"""gunicorn settings, read from the project folder by every `gunicorn "app:create_app()"` started here.

The app is created once in the master (preload_app: configuration errors stop start-up before any
worker exists) and the search index is built there before the workers fork, so every worker starts
with it, shared copy-on-write, instead of each rebuilding it on its first request (about 20 s at
100 000 articles). With suggest.index_snapshot (the default) the master starts from the signed snapshot
beside the database instead, when it is valid (suggest/snapshot.py). Workers then follow changes through
the search log as usual.
"""
import logging

preload_app = True
loglevel = "info"


def when_ready(server):
    from suggest import index

    logging.getLogger("suggest.index").setLevel(logging.INFO)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="[%(process)d] %(name)s: %(message)s")
    cfg = server.app.wsgi().config["KS"]
    index.warm(cfg["database"], use_snapshot=cfg["suggest"]["index_snapshot"])
