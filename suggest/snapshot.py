"""A signed copy of one process's search index on disk, next to the database (`<database>.index`).

Indexing every article again costs about 18 s at 100 000 articles; loading this file takes well under a
second, and the search log then brings it up to date like any other process. The web server's master
(gunicorn.conf.py → index.warm) loads it before the workers fork and writes a fresh one when the index it
ended up with differs from the file.

The file is only trusted when it proves itself: its header names the format and a fingerprint of the code
that builds the index (a changed analyser or engine makes old files useless rather than wrong), and an
HMAC-SHA256 over header and body, keyed from this database's own random instance secret (migration 0004),
is checked before anything is unpickled. A file from another database, an older release or a tampered disk
is ignored and replaced. The log row at the snapshot's position is checked by its random nonce too, so a
database restored from a backup and written again does not inherit a snapshot of a different history.

Trust: the body is a pickle, so only a file signed with this database's key is ever unpickled. Whoever can
read the database can derive that key, as they can read every article; the file is written readable by its
owner only, like the data it is made from (internal articles included).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import sqlite3
import struct
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)
FORMAT = 2
MAGIC = b"KSIDX\n"
CODE = ("engine.py", "evidence.py", "analysis.py", "arrays.py", "index.py", "language.py", "snapshot.py")
LIBRARIES = ("numpy", "PyStemmer", "stop-words", "rapidfuzz")


def path_for(database: str) -> Path | None:
    return None if not database or database == ":memory:" else Path(f"{database}.index")


@cache
def fingerprint() -> str:
    """Changes whenever the code or the libraries that decide what the index holds change."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"

    h = hashlib.sha256(" ".join([str(FORMAT), *map(installed, LIBRARIES)]).encode())
    here = Path(__file__).resolve().parent
    for name in CODE:
        h.update((here / name).read_bytes())
    return h.hexdigest()


def _key(conn: sqlite3.Connection) -> bytes | None:
    row = conn.execute("SELECT value FROM instance WHERE key = 'session_secret'").fetchone()
    return hmac.new(row[0].encode(), b"search index snapshot", hashlib.sha256).digest() if row else None


def _marker(conn: sqlite3.Connection, seq: int) -> list | None:
    """The log row at `seq` with its random nonce: a database restored from a backup and written again can
    repeat the row's kind and item, never its nonce (migration 0005)."""
    row = conn.execute("SELECT kind, item_id, nonce FROM search_log WHERE seq = ?", (seq,)).fetchone()
    return list(row) if row else None


def save(conn: sqlite3.Connection, searcher, path: Path) -> bool:
    """Write the searcher atomically (a temporary file, then a rename); False if the database has no key."""
    key = _key(conn)
    if key is None:
        return False
    header = json.dumps({"format": FORMAT, "code": fingerprint(), "seq": searcher.seq,
                         "marker": _marker(conn, searcher.seq)}).encode()
    body = pickle.dumps(searcher, protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac.new(key, header + body, hashlib.sha256).digest()
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:   # owner only
            f.write(MAGIC + struct.pack(">I", len(header)) + header + mac)
            f.write(body)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


def load(conn: sqlite3.Connection, path: Path):
    """The searcher in the file if it is this database's, from this code, and untouched; else None."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:                       # unreadable (another owner, a directory): build instead
        log.warning("search index: snapshot %s not used: %s", path, exc)
        return None
    why = _check(conn, data)
    if why:
        log.info("search index: snapshot %s not used: %s", path, why)
        return None
    (size,) = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])
    return pickle.loads(data[len(MAGIC) + 4 + size + 32:])


def _check(conn: sqlite3.Connection, data: bytes) -> str:
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        return "not a snapshot file"
    (size,) = struct.unpack(">I", data[len(MAGIC):len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start:start + size])
    except ValueError:
        return "unreadable header"
    if header.get("format") != FORMAT or header.get("code") != fingerprint():
        return "written by other code"
    key = _key(conn)
    mac = data[start + size:start + size + 32]
    if key is None or not hmac.compare_digest(mac, hmac.new(key, data[start:start + size] + data[start + size + 32:],
                                                             hashlib.sha256).digest()):
        return "signature does not match this database"
    if header.get("marker") != _marker(conn, header.get("seq", -1)) and header.get("seq"):
        return "the search log differs at its position"
    return ""
