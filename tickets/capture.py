"""KCS capture from a ticket, done the KCS way: before a new article is filed, the articles that already say
the same are shown (near-duplicates by title and issue, and what the ranker finds for the draft's text), so the
agent can reuse one instead of writing a second copy."""
from __future__ import annotations

import sqlite3

from kb import duplicates
from tickets import intake

RANKED = 3          # the ranker's best few beside the near-duplicates


def similar(conn: sqlite3.Connection, cfg: dict, title: str, issue: str, language: str | None = None,
            limit: int = 5) -> dict:
    """{"language", "articles": [{id, external_id, title, state, visibility, score?, why}]}: near-duplicates of
    the draft first (why "similar title and issue", with their similarity 0-100), then the ranker's top answers
    for its text (why "suggested for this text"); archived articles never."""
    ranked = intake.suggestions(conn, cfg, subject=title, description=issue, language=language, limit=RANKED)
    lang = ranked["language"]
    out, seen = [], set()
    for found in duplicates.similar_articles(conn, title, issue, lang, limit=limit):
        out.append({**found, "why": "similar title and issue"})
        seen.add(found["id"])
    for art in ranked["articles"]:
        if art["id"] in seen or len(out) >= limit:
            continue
        row = conn.execute("SELECT external_id, title, state, visibility FROM articles WHERE id = ? "
                           "AND state != 'archived'", (art["id"],)).fetchone()
        if row:
            out.append({"id": art["id"], "external_id": row[0], "title": row[1], "state": row[2],
                        "visibility": row[3], "why": "suggested for this text"})
            seen.add(art["id"])
    return {"language": lang, "articles": out}
