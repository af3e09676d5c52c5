"""Agent actions on a ticket, recorded as append-only events."""
from __future__ import annotations

import json
import re
import secrets
import sqlite3
from dataclasses import dataclass, field

from integrations import registry
from kb import articles, flags, taxonomy
from store import now, outbox, write
from suggest import index
from tickets.intake import UnknownTicket, ticket_from_helpdesk

KINDS = ("viewed", "reused", "macro_inserted", "flagged", "created", "searched")
WHOLE_RE = re.compile(r"[0-9]{1,18}")     # ASCII digits only ("²".isdigit() is true), and within SQLite's range
MAX_TEXT = 2000


class EventError(ValueError):
    pass


@dataclass
class Event:
    kind: str
    agent: str = ""
    article_id: int | None = None
    macro_id: int | None = None
    query: str | None = None
    reason: str | None = None
    data: dict = field(default_factory=dict)


def _int_or_none(body: dict, key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not WHOLE_RE.fullmatch(str(value)):
        raise EventError(f"{key} must be a whole number (an id)")
    return int(value)


def parse(body, agent: str, may_act_for_others: bool = False, verified_name: str | None = None) -> Event:
    """Validate an event body. `agent` is the caller; only a caller who may act for others (an admin
    integration token) can name another agent in the body, so the by-agent report stays truthful.
    `verified_name` is the agent's display name as the helpdesk vouched for it (a sidebar session): when given,
    it is recorded and any `agent_name` in the body is ignored, since the browser sent it."""
    if not isinstance(body, dict):
        raise EventError("the body must be a JSON object")
    if body.get("agent") not in (None, "", agent) and not may_act_for_others:
        raise EventError("agent can only be given by an admin token; events are recorded under the caller")
    kind = body.get("kind")
    if kind not in KINDS:
        raise EventError(f"kind must be one of {list(KINDS)}, got {kind!r}")
    ev = Event(kind=kind, agent=str(body.get("agent") or agent)[:200],
               article_id=_int_or_none(body, "article_id"), macro_id=_int_or_none(body, "macro_id"))
    for key in ("query", "reason"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise EventError(f"{key} must be text")
        setattr(ev, key, value[:MAX_TEXT] if value else None)
    if kind in ("reused", "flagged") and ev.article_id is None:
        raise EventError(f"a {kind} event needs article_id")
    if kind == "macro_inserted" and ev.macro_id is None:
        raise EventError("a macro_inserted event needs macro_id")
    if kind == "flagged" and not (ev.reason or "").strip():
        raise EventError("a flag needs a reason (what is wrong or outdated)")
    if kind == "flagged":
        category = body.get("category") or "outdated"
        if category not in flags.CATEGORIES:
            raise EventError(f"category must be one of {list(flags.CATEGORIES)}, got {category!r}")
        ev.data["category"] = category
    if kind == "searched" and not (ev.query or "").strip():
        raise EventError("a searched event needs the query")
    if kind == "created" and ev.article_id is None and not isinstance(body.get("article"), dict):
        raise EventError("a created event needs article_id or an article object")
    if isinstance(body.get("article"), dict):
        ev.data["article"] = body["article"]
    name = body.get("agent_name")
    if name is not None and not isinstance(name, str):
        raise EventError("agent_name must be text (the agent's display name)")
    if verified_name is not None:
        name = verified_name
    if name:
        ev.data["agent_name"] = name.strip()[:200]
    return ev


def record(conn: sqlite3.Connection, cfg: dict, integration: str, ticket_external_id: str, ev: Event,
           vouched: bool = False) -> dict:
    """Check references, apply side effects (reuse count, new article), append the event.

    Events are recorded only on real tickets: one the sidecar holds, or, when the caller's session was signed by
    the helpdesk (`vouched`), one the helpdesk's API confirms (read and kept). Otherwise intake.UnknownTicket, so
    reports cannot be inflated with invented ticket ids; intake.HelpdeskUnavailable when the helpdesk cannot be
    asked now."""
    if ev.article_id is not None and not conn.execute("SELECT 1 FROM articles WHERE id = ?",
                                                      (ev.article_id,)).fetchone():
        raise EventError(f"no article {ev.article_id}")
    if ev.macro_id is not None and not conn.execute("SELECT 1 FROM macros WHERE id = ?", (ev.macro_id,)).fetchone():
        raise EventError(f"no macro {ev.macro_id}")
    ticket_id = conn.execute("SELECT id FROM tickets WHERE integration = ? AND external_id = ?",
                             (integration, ticket_external_id)).fetchone()
    if ticket_id:
        ticket_id = ticket_id[0]
    elif vouched:
        ticket_id = ticket_from_helpdesk(conn, cfg, integration, ticket_external_id)
    else:
        raise UnknownTicket(f"the sidecar has not received {integration} ticket {ticket_external_id}: events are "
                            "recorded on tickets it knows (from a webhook, or confirmed by the helpdesk)")
    with write(conn):
        if ev.kind == "reused":
            # Linking is once per ticket and article: a reload of the sidebar or a second agent clicking
            # Reuse must not count it again, nor post a second note on the ticket.
            done = conn.execute("SELECT id FROM events WHERE ticket_id = ? AND kind = 'reused' AND article_id = ? "
                                "ORDER BY id LIMIT 1", (ticket_id, ev.article_id)).fetchone()
            if done:
                return {"id": done[0], "kind": ev.kind, "ticket": ticket_external_id, "article_id": ev.article_id,
                        "macro_id": None, "already_recorded": True}
        if ev.kind == "created" and ev.article_id is None:
            ev.article_id = _create_article(conn, cfg, integration, ticket_external_id, ev)
        node = conn.execute("SELECT node_id FROM tickets WHERE id = ?", (ticket_id,)).fetchone()[0]
        if ev.kind == "reused":
            articles.count_reuse(conn, ev.article_id)
            index.put_reuse(conn, ev.article_id)    # the ticket's text becomes evidence for the article's node
        cur = conn.execute(
            "INSERT INTO events (ticket_id, kind, article_id, macro_id, node_id, agent, query, reason, data, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (ticket_id, ev.kind, ev.article_id, ev.macro_id, node, ev.agent, ev.query, ev.reason,
             json.dumps(ev.data), now()))
        event_id = cur.lastrowid
        if ev.kind in ("reused", "created"):    # in the same transaction: a recorded link is always posted back
            _queue_link(conn, cfg, integration, ticket_external_id, ev)
        flag = flags.raise_flag(conn, cfg, articles.get(conn, ev.article_id), ev.agent, ev.data["category"],
                                ev.reason, ticket_id, event_id) if ev.kind == "flagged" else None
    out = {"id": event_id, "kind": ev.kind, "ticket": ticket_external_id, "article_id": ev.article_id,
           "macro_id": ev.macro_id}
    if flag is not None:
        # What the widget may truthfully say: to whom the flag went, and whether they were told.
        out["flag"] = {"id": flag["id"], "category": flag["category"], "owner": flag["owner"],
                       "owner_name": flag["owner_name"], "told": flag["notice"] is not None,
                       "delivery": flag["notice"]["delivery"] if flag["notice"] else None}
    return out


def _queue_link(conn: sqlite3.Connection, cfg: dict, integration: str, ticket_external_id: str, ev: Event) -> None:
    """The write-back of a reuse, or of an article created from the ticket: an internal note linking the article,
    and the ks_reused tag (as the ticket's integration's write-back settings say)."""
    mode = registry.write_back_settings(cfg, integration).mode
    if mode in ("note", "note_and_tags"):
        title, external_id = conn.execute("SELECT title, external_id FROM articles WHERE id = ?",
                                          (ev.article_id,)).fetchone()
        outbox.enqueue(conn, integration, ticket_external_id, "link",
                       {"article_id": ev.article_id, "title": title, "external_id": external_id,
                        "agent": ev.data.get("agent_name") or "", "created": ev.kind == "created"})
    if mode in ("tags", "note_and_tags"):
        outbox.enqueue(conn, integration, ticket_external_id, "tags", {"add": ["ks_reused"]})


def searched_words(conn: sqlite3.Connection, ticket_row_id: int, agent: str) -> list[str]:
    """What this agent searched for on this ticket, oldest first, each once: the keywords of an article they
    capture from it (the customer's problem in the words agents look for it)."""
    rows = conn.execute("SELECT query FROM events WHERE ticket_id = ? AND kind = 'searched' AND agent = ? "
                        "AND query IS NOT NULL ORDER BY id", (ticket_row_id, agent)).fetchall()
    return list(dict.fromkeys(r[0].strip() for r in rows if r[0].strip()))[:20]


def reused_article_ids(conn: sqlite3.Connection, ticket_row_id: int) -> list[int]:
    """Articles already linked to this ticket by a reuse (a reuse is recorded once per ticket and article)."""
    return [r[0] for r in conn.execute("SELECT DISTINCT article_id FROM events WHERE ticket_id = ? AND kind = 'reused' "
                                       "AND article_id IS NOT NULL ORDER BY article_id", (ticket_row_id,))]


def _create_article(conn: sqlite3.Connection, cfg: dict, integration: str, ticket_external_id: str,
                    ev: Event) -> int:
    """KCS capture: a new article from the ticket, work in progress and internal until a publisher reviews
    it. Its owner is the subject-matter expert of its taxonomy node (the node's default owner, nearest first),
    else the agent who captured it; the agent is its first author either way (version 1, and the ticket it came
    from). Whatever the body says about state, visibility or owner is ignored (an agent cannot publish), and it
    may only be filed under an existing taxonomy node."""
    raw = dict(ev.data["article"])
    raw.setdefault("external_id", f"{integration}-{ticket_external_id}-{now()}-{secrets.token_hex(3)}")
    raw.update(state="wip", visibility="internal")
    raw.pop("owner", None)
    try:
        row = articles.clean(raw, cfg["suggest"]["default_language"])
    except articles.ArticleError as exc:
        raise EventError(f"article: {exc}") from None
    node_id = taxonomy.find(conn, row["taxonomy"]) if row.get("taxonomy") else None
    if row.get("taxonomy") and node_id is None:
        raise EventError(f"article: no taxonomy node {' / '.join(row['taxonomy'])!r}; an admin creates nodes")
    row["owner"] = taxonomy.default_owner(conn, node_id) or ev.agent
    try:
        return articles.capture(conn, row, ev.agent, f"{integration}:{ticket_external_id}")
    except articles.ArticleError as exc:
        raise EventError(f"article: {exc}") from None
