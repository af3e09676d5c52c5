"""The signed index snapshot: a restart loads it and catches up through the log; a file that does not prove
itself (tampered, another database's, not a snapshot) is ignored and replaced. Each start is a new process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from kb.articles import import_articles
from store import connect, migrate

ROOT = Path(__file__).resolve().parent.parent
START = """
import json, logging, sys
logging.basicConfig(level=logging.INFO, format="%(message)s")
from store import connect
from suggest import index
from suggest.rank import Query, suggest
index.warm(sys.argv[1], use_snapshot=True)
conn = connect(sys.argv[1]).conn
print(json.dumps([a["external_id"] for a in suggest(conn, Query(subject=sys.argv[2]))["articles"]]))
"""
ARTICLES = [{"external_id": f"r{i}", "title": f"Router model {i} keeps rebooting",
             "body": f"Update the firmware of router {i}. Then reset it.", "language": "en"} for i in range(40)]


def start(database: Path, query: str) -> tuple[list[str], str]:
    """A new process that warms its index as the web server's master does, then answers one query."""
    proc = subprocess.run([sys.executable, "-c", START, str(database), query], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def fresh(path: Path) -> Path:
    db = connect(path)
    migrate(db)
    import_articles(db.conn, ARTICLES, "en")
    db.conn.close()
    return path


def test_a_restart_loads_the_snapshot_and_catches_up_through_the_log(tmp_path):
    database = fresh(tmp_path / "s.db")
    found, log = start(database, "router model 7 keeps rebooting")
    assert found[0] == "r7"
    assert "full load of 40 articles" in log and "snapshot at log position" in log and "written" in log
    assert (tmp_path / "s.db.index").exists()

    found, log = start(database, "router model 7 keeps rebooting")
    assert found[0] == "r7"
    assert "loaded from" in log and "full load" not in log and "written" not in log     # nothing moved

    db = connect(database)
    import_articles(db.conn, [{"external_id": "scan", "title": "Scanner jams on every page",
                               "body": "Open the scanner lid and clear the rollers.", "language": "en"},
                              dict(ARTICLES[3], title="Printer tray will not close",
                                   body="Push the tray until it clicks.")], "en")
    db.conn.close()
    found, log = start(database, "scanner jams")
    assert found[0] == "scan"
    assert "loaded from" in log and "full load" not in log and "written" in log         # caught up, saved again
    found, _ = start(database, "printer tray will not close")
    assert found[0] == "r3"                                                              # the edit is followed
    found, _ = start(database, "router model 3 keeps rebooting")
    assert "r3" not in found


def test_a_tampered_snapshot_is_ignored_and_replaced(tmp_path):
    database = fresh(tmp_path / "t.db")
    start(database, "router")
    snap = tmp_path / "t.db.index"
    data = bytearray(snap.read_bytes())
    data[-10] ^= 0xFF
    snap.write_bytes(bytes(data))
    found, log = start(database, "router model 5 keeps rebooting")
    assert found[0] == "r5"
    assert "signature does not match this database" in log and "full load of 40 articles" in log
    _, log = start(database, "router")
    assert "loaded from" in log and "full load" not in log


def test_another_databases_snapshot_or_a_stray_file_is_ignored(tmp_path):
    ours = fresh(tmp_path / "ours.db")
    theirs = fresh(tmp_path / "theirs.db")             # same articles, its own instance secret
    start(theirs, "router")
    (tmp_path / "ours.db.index").write_bytes((tmp_path / "theirs.db.index").read_bytes())
    _, log = start(ours, "router")
    assert "signature does not match this database" in log and "full load of 40 articles" in log
    (tmp_path / "ours.db.index").write_bytes(b"not a snapshot at all")
    found, log = start(ours, "router model 9 keeps rebooting")
    assert found[0] == "r9" and "not a snapshot file" in log and "full load" in log


def test_the_snapshot_is_readable_by_its_owner_only(tmp_path):
    database = fresh(tmp_path / "m.db")
    start(database, "router")
    assert (tmp_path / "m.db.index").stat().st_mode & 0o777 == 0o600


def test_a_database_restored_from_a_backup_does_not_inherit_the_snapshot(tmp_path):
    import shutil

    database = fresh(tmp_path / "r.db")
    shutil.copy(database, tmp_path / "backup.db")
    db = connect(database)
    import_articles(db.conn, [{"external_id": "vpn", "title": "VPN drops", "body": "Call the hotline.",
                               "language": "en"}], "en")
    db.conn.close()
    start(database, "vpn")                                    # the snapshot now holds "Call the hotline"
    shutil.copy(tmp_path / "backup.db", database)             # restored, then the corrected article imported
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"r.db{suffix}").unlink(missing_ok=True)
    db = connect(database)
    import_articles(db.conn, [{"external_id": "vpn", "title": "VPN drops", "body": "Restart the client.",
                               "language": "en"}], "en")
    db.conn.close()
    found, log = start(database, "restart the client")
    assert "the search log differs at its position" in log and "full load" in log
    assert found[:1] == ["vpn"]
    assert "vpn" not in start(database, "hotline")[0]


def test_an_unreadable_snapshot_path_is_ignored(tmp_path):
    database = fresh(tmp_path / "u.db")
    (tmp_path / "u.db.index").mkdir()                         # not a file: cannot be read or replaced
    found, log = start(database, "router model 2 keeps rebooting")
    assert found[0] == "r2"
    assert "not used" in log and "not written" in log and "full load of 40 articles" in log
