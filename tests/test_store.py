"""The store: numbered migrations applied once, in order, safely from several processes; WAL on."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from store import connect, migrate
from store.db import applied
from store.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parent.parent


def test_fresh_database_gets_every_migration_once(tmp_path):
    db = connect(tmp_path / "a.db")
    ran = migrate(db)
    assert ran == [f"{i:04d}_{name}" for i, (name, _) in enumerate(MIGRATIONS, start=1)]
    assert migrate(db) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"articles", "tickets", "events", "outbox", "api_tokens", "webhook_deliveries"} <= set(db.table_names())


def test_an_older_database_is_brought_forward(tmp_path):
    db = connect(tmp_path / "old.db")
    first_name, first_step = MIGRATIONS[0]
    db.execute("CREATE TABLE _migrations (id INTEGER PRIMARY KEY, name TEXT UNIQUE, applied_at TEXT)")
    first_step(db.conn)
    db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, 'then')", (f"0001_{first_name}",))
    ran = migrate(db)
    assert ran == [f"{i:04d}_{name}" for i, (name, _) in enumerate(MIGRATIONS, start=1)][1:]
    assert applied(db)[0] == f"0001_{first_name}"


def test_init_db_from_two_processes_at_once(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "KS_DATABASE": str(tmp_path / "race.db")}
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "init-db"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    db = connect(tmp_path / "race.db")
    assert len(applied(db)) == len(MIGRATIONS)


def test_each_installation_gets_its_own_random_session_secret(tmp_path):
    secrets = set()
    for name in ("one.db", "two.db"):
        db = connect(tmp_path / name)
        migrate(db)
        (value,) = db.execute("SELECT value FROM instance WHERE key = 'session_secret'").fetchone()
        assert len(value) == 64
        secrets.add(value)
    assert len(secrets) == 2
