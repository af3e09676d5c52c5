"""Changing an article as a person does it (PATCH /api/articles/<id>, the article page, a restore): the
permission check (kb/lifecycle.py), a new whole-article version with the editor's note, the flags it fixes,
and the change notices.

Change notices: when a version changes the resolution, the cause or the state, the article's owner and the
agents who reused it within notify.reuse_days are told (not the editor), in the sidecar and through the
configured channel (kb/notices.py).
"""
from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from kb import articles, flags, lifecycle, notices, people, taxonomy, versions
from kb.articles import ArticleError
from store import write
from suggest import index

NOTICE_FIELDS = ("resolution", "cause", "state")
EDITABLE = tuple(f for f in articles.FIELDS)


class EditError(ValueError):
    """The change cannot be made as asked (400)."""


def _changes(article: dict, data: dict, default_language: str) -> dict:
    """The requested fields, checked as an import item would be, in the stored form: field -> new value."""
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise EditError(f"unknown field(s) {unknown}; an article has {list(EDITABLE)}")
    raw = {**articles.snapshot(article), **data, "external_id": article["external_id"]}
    try:
        row = articles.clean(raw, default_language)
    except ArticleError as exc:
        raise EditError(str(exc)) from None
    return {k: row[k] for k in data}


def _reusers(conn: sqlite3.Connection, article_id: int, days: int) -> list[str]:
    since = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return [r[0] for r in conn.execute("SELECT DISTINCT agent FROM events WHERE kind = 'reused' AND article_id = ? "
                                       "AND created_at >= ? AND agent != '' ORDER BY agent", (article_id, since))]


def _tell_about_change(conn: sqlite3.Connection, cfg: dict, before: dict, after: dict, changed: list[str],
                       editor: str, note: str) -> list[str]:
    """Notices for a version that changed the resolution, the cause or the state; the people told."""
    important = [f for f in changed if f in NOTICE_FIELDS]
    if not important:
        return []
    recipients = [after["owner"], *_reusers(conn, after["id"], cfg["notify"]["reuse_days"])]
    told = []
    for person in dict.fromkeys(p for p in recipients if p and p != editor):
        what = ", ".join("state " + after["state"] if f == "state" else f for f in important)
        body = (f"{people.display(conn, editor)} changed “{after['title']}” (version {before['version']} → "
                f"{after['version']}): {what}.")
        if note:
            body += f"\n\nNote: {note}"
        if "resolution" in important:
            body += f"\n\nResolution now:\n{after['resolution']}"
        notices.tell(conn, cfg, person, "article_changed", f"Changed since you used it: {after['title']}", body,
                     article_id=after["id"],
                     data={"from": before["version"], "to": after["version"], "fields": important})
        told.append(person)
    return told


def edit(conn: sqlite3.Connection, cfg: dict, article_id: int, data: dict, actor: dict, note: str = "",
         fixes: list[int] | None = None) -> dict:
    """Apply `data` (field -> value) as a new version by `actor`, closing the open flags in `fixes` with it.
    EditError (400), lifecycle.NotAllowed (403), LookupError (404)."""
    article = articles.get(conn, article_id)
    if article is None:
        raise LookupError(f"no article {article_id}")
    if not isinstance(data, dict):
        raise EditError("the changes must be an object of field → value")
    if note is not None and not isinstance(note, str):
        raise EditError("note must be text")
    note = (note or "").strip()
    changes = _changes(article, data, cfg["suggest"]["default_language"])
    lifecycle.check(actor, article, changes)
    fixing = []
    for flag_id in fixes or []:
        flag = flags.get(conn, flag_id) if isinstance(flag_id, int) and not isinstance(flag_id, bool) else None
        if flag is None or flag["article_id"] != article_id:
            raise EditError(f"no flag {flag_id!r} on article {article_id}")
        if flag["status"] != "open":
            raise EditError(f"flag {flag_id} is {flag['status']} already")
        fixing.append(flag)
    if not changes or all(article.get(k) == v for k, v in changes.items()):
        raise EditError("nothing to change: the article already reads like that")
    if fixing and changes.get("state") == "archived":
        raise EditError("archiving an article is not a fix: fix its text, or reject the flag with a note")
    with write(conn):
        try:
            articles.upsert(conn, {"external_id": article["external_id"], **articles.snapshot(article), **changes},
                            actor["name"], note)
        except taxonomy.TaxonomyError as exc:
            raise EditError(str(exc)) from None
        after = articles.get(conn, article_id)
        changed = versions.changed_fields(articles.snapshot(article), articles.snapshot(after))
        fixed = [flags.fix(conn, cfg, f, after["version"], after["state"], actor["name"], after["title"], note)
                 for f in fixing]
        told = _tell_about_change(conn, cfg, article, after, changed, actor["name"], note)
    if not conn.in_transaction:
        index.catch_up(conn)
    return {**after, "changed": changed, "flags_fixed": [f["id"] for f in fixed], "notified": told}


def restore(conn: sqlite3.Connection, cfg: dict, article_id: int, version: int, actor: dict) -> dict:
    """A new version that reads like version `version` (every field it kept); the same checks as an edit."""
    old = versions.get(conn, article_id, version)
    current = articles.get(conn, article_id)
    data = {k: v for k, v in old["fields"].items() if current is None or current.get(k) != v}
    return edit(conn, cfg, article_id, data, actor, note=f"restored version {version}")


def resolve_flag(conn: sqlite3.Connection, cfg: dict, flag_id: int, data: dict, actor: dict) -> dict:
    """Close a flag from its queue: {"action": "reject", "note"} or {"action": "fixed", "version": n, "note"?}
    (a version already made). Only the flag's owner, the article's owner or a publisher."""
    flag = flags.get(conn, flag_id)
    if flag is None:
        raise LookupError(f"no flag {flag_id}")
    article = articles.get(conn, flag["article_id"])
    if not (lifecycle.may_edit(actor, article) or actor.get("name") == flag["owner"]):
        raise lifecycle.NotAllowed("only a publisher, the flag's owner or the article's owner may resolve this flag")
    if not isinstance(data, dict):
        raise EditError("the body must be an object")
    action, note = data.get("action"), data.get("note") or ""
    if not isinstance(note, str):
        raise EditError("note must be text")
    try:
        if action == "reject":
            return flags.reject(conn, cfg, flag, actor["name"], article["title"], note)
        if action == "fixed":
            version = data.get("version")
            if isinstance(version, bool) or not isinstance(version, int):
                raise EditError('a fix names the version that fixed it: {"action": "fixed", "version": n}')
            fixing = versions.get(conn, article["id"], version)
            return flags.fix(conn, cfg, flag, version, fixing["fields"].get("state", ""), actor["name"],
                             article["title"], note)
    except (flags.FlagError, versions.VersionError) as exc:
        raise EditError(str(exc)) from None
    raise EditError('action must be "reject" (with a note) or "fixed" (with the version)')
