"""One import of a file or a folder (`flask --app app import PATH`): read every file of a known format, import the
articles in batches through kb.articles.import_articles (upsert by external_id: a changed article gets a new
version, an unchanged one is skipped), and report per file what was created, updated or skipped, each error with
its file and row or line, and the near-duplicates among the items and between them and the existing articles
(kb/duplicates.py). Near-duplicates are reported, never merged: both articles are kept, a person decides.

Each batch (BATCH items) is its own transaction, so a long import never holds the database's write lock for
long and the widget keeps answering meanwhile. A dry run does every batch the same way and rolls it back, so it
reports exactly what the import would do (created / updated / skipped, and the errors the database would give).
"""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kb import articles, duplicates, import_checks
from kb.importers import csv_file, html_page, json_file, json_lines, markdown_page
from kb.importers.items import FileError
from store import write

FORMATS = {ext: module for module in (json_file, json_lines, csv_file, markdown_page, html_page)
           for ext in module.EXTENSIONS}
BATCH = 500                 # items per transaction
SHOWN_ERRORS = 100          # per file, in the summary
SHOWN_PAIRS = 200


@dataclass
class FileReport:
    file: str               # its path relative to the folder imported (the file's name for a single file)
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)     # (where: "row 3", "line 7", "" ..., message)
    notes: list[tuple[str, str]] = field(default_factory=list)
    order: dict[str, int] = field(default_factory=dict, repr=False)     # where -> place in the file

    def sort(self) -> None:
        """Errors in the order of the file (those found while reading and those the import gave, merged)."""
        self.errors.sort(key=lambda e: self.order.get(e[0], -1))


@dataclass
class _Entry:
    report: FileReport
    where: str
    article: object         # the raw fields for kb.articles.clean (a dict, or whatever the file held there)
    key: str | None         # its external id as kb.articles.clean reads it; None when it has none


@dataclass
class Reading:
    """What was read from PATH, before anything is stored."""
    files: list[FileReport]
    entries: list[_Entry]
    ignored: list[str]      # files of other types in the folder, skipped


@dataclass
class Report:
    files: list[FileReport]
    ignored: list[str]
    duplicates: list[dict]  # {score, language, a: {external_id, title, file, where}, b: {..., or id for existing}}
    threshold: float
    dry_run: bool

    def total(self, what: str) -> int:
        if what == "errors":
            return sum(len(f.errors) for f in self.files)
        return sum(getattr(f, what) for f in self.files)


def walk(path: Path) -> Iterator[tuple[Path, str]]:
    """Every file under `path` (or `path` itself) with its path relative to the folder, in a stable order; hidden
    files and folders (".git") are passed over, symbolic links to folders are not followed."""
    if not path.is_dir():
        yield path, path.name
        return
    for folder, subfolders, files in os.walk(path):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                full = Path(folder) / name
                yield full, full.relative_to(path).as_posix()


def read_path(path: Path, language: str | None = None) -> Reading:
    """Read every importable file under `path`; `language` is given to the items that name none."""
    reading = Reading([], [], [])
    seen: dict[str, str] = {}
    single = not path.is_dir()
    for full, rel in walk(path):
        module = FORMATS.get(full.suffix.lower())
        if module is None:
            if single:
                kind = full.suffix or "no extension"
                reading.files.append(FileReport(rel, errors=[("", f"not a file type the import reads ({kind}): "
                                                                  f"use {' '.join(FORMATS)}")]))
            else:
                reading.ignored.append(rel)
            continue
        report = FileReport(rel)
        reading.files.append(report)
        try:
            items = module.read(full, rel)
        except FileError as exc:
            report.errors.append(("", str(exc)))
            continue
        except OSError as exc:
            report.errors.append(("", f"cannot be read: {exc.strerror or exc}"))
            continue
        for item in items:
            report.order.setdefault(item.where, len(report.order))
            if item.note:
                report.notes.append((item.where, item.note))
            elif item.error:
                report.errors.append((item.where, item.error))
            else:
                entry = _Entry(report, item.where, item.article, _key(item.article))
                if entry.key is not None and entry.key in seen:
                    report.errors.append((item.where, f"external_id {entry.key!r} is also given by {seen[entry.key]}; "
                                                      "only the first is imported"))
                    continue
                if entry.key is not None:
                    seen[entry.key] = _at(rel, item.where)
                if language and isinstance(item.article, dict) and item.article.get("language") in (None, ""):
                    item.article["language"] = language
                reading.entries.append(entry)
    return reading


def _key(article) -> str | None:
    if not isinstance(article, dict):
        return None
    try:
        return import_checks.external_id(article, ValueError)
    except ValueError:
        return None


@contextmanager
def _transaction(conn: sqlite3.Connection, dry_run: bool):
    """One batch's transaction: committed, or (dry run) rolled back once the outcome is known."""
    if not dry_run:
        with write(conn):
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        conn.execute("ROLLBACK")


def _stored(conn: sqlite3.Connection, keys: list[str]) -> dict[str, dict]:
    """The stored articles with these external ids: {external_id: {id, version, title, issue, language, state}}."""
    out = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        rows = conn.execute("SELECT external_id, id, version, title, issue, language, state FROM articles "
                            f"WHERE external_id IN ({', '.join('?' * len(chunk))})", chunk).fetchall()
        for ext, *rest in rows:
            out[ext] = dict(zip(("id", "version", "title", "issue", "language", "state"), rest, strict=True))
    return out


def _import_batch(conn, batch: list[_Entry], default_language: str, changed_by: str, dry_run: bool,
                  imported: dict[str, dict]) -> None:
    """Import one batch and tell each entry's file what became of it; the stored articles go into `imported`."""
    keys = [e.key for e in batch if e.key is not None]
    with _transaction(conn, dry_run):
        before = _stored(conn, keys)
        result = articles.import_articles(conn, [e.article for e in batch], default_language, changed_by)
        after = _stored(conn, keys)
    failed = {err["index"]: err["error"] for err in result["errors"]}
    for i, entry in enumerate(batch):
        if i in failed:
            entry.report.errors.append((entry.where, failed[i]))
            continue
        now = after[entry.key]
        old = before.get(entry.key)
        outcome = "created" if old is None else "updated" if now["version"] > old["version"] else "skipped"
        setattr(entry.report, outcome, getattr(entry.report, outcome) + 1)
        imported[entry.key] = {**now, "file": entry.report.file, "where": entry.where}


def import_reading(conn: sqlite3.Connection, reading: Reading, default_language: str, changed_by: str = "",
                   threshold: float = duplicates.DEFAULT_THRESHOLD, dry_run: bool = False, batch: int = BATCH,
                   progress: Callable[[int], object] | None = None) -> Report:
    """Import what read_path read, BATCH items to a transaction (`progress` is told how many after each), then
    look for near-duplicates. `conn` must not be inside a transaction: each batch commits (or rolls back) its
    own."""
    if conn.in_transaction:
        raise RuntimeError("import_reading commits per batch: call it outside a transaction")
    imported: dict[str, dict] = {}
    for start in range(0, len(reading.entries), batch):
        chunk = reading.entries[start:start + batch]
        _import_batch(conn, chunk, default_language, changed_by, dry_run, imported)
        if progress:
            progress(len(chunk))
    for report in reading.files:
        report.sort()
    return Report(reading.files, reading.ignored, near_duplicates(conn, imported, threshold), threshold, dry_run)


def near_duplicates(conn: sqlite3.Connection, imported: dict[str, dict], threshold: float) -> list[dict]:
    """Near-duplicate pairs that involve an imported article (with another imported one or an existing one);
    archived articles are left out on both sides."""
    live = {k: v for k, v in imported.items() if v["state"] != "archived"}
    rows = [(k, v["title"], v["issue"], v["language"]) for k, v in live.items()]
    existing = {}
    for ext, article_id, title, issue, language in conn.execute(
            "SELECT external_id, id, title, issue, language FROM articles WHERE state != 'archived'"):
        if ext not in imported:
            existing[ext] = {"external_id": ext, "id": article_id, "title": title}
            rows.append((ext, title, issue, language))
    out = []
    for a, b, score in duplicates.pairs(rows, threshold, among=live):
        def side(key):
            if key in live:
                return {"external_id": key, "title": live[key]["title"], "file": live[key]["file"],
                        "where": live[key]["where"]}
            return existing[key]
        out.append({"score": score, "language": live[a]["language"], "a": side(a), "b": side(b)})
    return out


def _counts(created: int, updated: int, skipped: int, errors: int) -> str:
    text = f"{created} created, {updated} updated, {skipped} skipped"
    return text + (f", {errors} error{'s' * (errors != 1)}" if errors else "")


def _at(file: str, where: str) -> str:
    return f"{file} {where}" if where else file


def _side(side: dict) -> str:
    where = _at(side["file"], side["where"]) if "file" in side else f"existing article {side['id']}"
    return f"{side['external_id']} “{side['title']}” ({where})"


def summary(report: Report) -> list[str]:
    """The import's report as lines of text for a terminal."""
    lines = ["dry run: nothing was stored; this is what the import would do"] if report.dry_run else []
    for f in report.files:
        lines.append(f"{f.file}: {_counts(f.created, f.updated, f.skipped, len(f.errors))}")
    if report.ignored:
        shown = ", ".join(report.ignored[:20]) + (f" and {len(report.ignored) - 20} more" if len(report.ignored) > 20
                                                   else "")
        lines.append(f"skipped {len(report.ignored)} file(s) of other types (the import reads "
                     f"{' '.join(FORMATS)}): {shown}")
    errors = [f for f in report.files if f.errors]
    if errors:
        lines.append("errors:")
        for f in errors:
            lines += [f"  {_at(f.file, where)}: {message}" for where, message in f.errors[:SHOWN_ERRORS]]
            if len(f.errors) > SHOWN_ERRORS:
                lines.append(f"  {f.file}: and {len(f.errors) - SHOWN_ERRORS} more errors")
    notes = [(f.file, where, note) for f in report.files for where, note in f.notes]
    if notes:
        lines.append("notes:")
        lines += [f"  {_at(file, where)}: {note}" for file, where, note in notes]
    if report.duplicates:
        lines.append(f"near-duplicates (similarity >= {report.threshold:g}; reported, not merged -- both are kept):")
        for pair in report.duplicates[:SHOWN_PAIRS]:
            lines.append(f"  {pair['score']:5.1f}  [{pair['language']}] {_side(pair['a'])}  ~  {_side(pair['b'])}")
        if len(report.duplicates) > SHOWN_PAIRS:
            lines.append(f"  and {len(report.duplicates) - SHOWN_PAIRS} more pairs")
    lines.append(f"total: {_counts(*(report.total(k) for k in ('created', 'updated', 'skipped', 'errors')))} "
                 f"in {len(report.files)} file(s)")
    return lines
