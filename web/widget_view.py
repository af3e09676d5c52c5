"""What the agent's sidebar shows for one ticket: taxonomy node, articles with steps, macros.

Shared by the widget (/widget, inside Zendesk) and the demo ticket page (/demo/tickets/<id>). The
page is rendered on the server (Jinja2 autoescape) so it reads without JavaScript; static/widget.js
adds the actions. The agent's session travels in a JSON script tag, never in a URL.
"""
from __future__ import annotations

import os
import re
import sqlite3

from flask import current_app, render_template

from kb import articles, flags, notices, people, versions
from tickets import events, intake

STATE_LABELS = {"validated": "Validated", "not_validated": "Not validated", "wip": "Work in progress",
                "archived": "Archived"}
SOURCE_LABELS = {"rule": "mapped by rule", "inferred": "inferred from text", "none": "not mapped"}
ZAF_SDK = ("vendor", "zaf_sdk.min.js")


def highlight(text: str, marked) -> list[tuple[str, bool]]:
    """Split a snippet into (text, matched) pieces; the template wraps matched ones in <mark>."""
    marked = sorted({w for w in (marked or []) if isinstance(w, str) and w.strip()}, key=len, reverse=True)
    if not text or not marked:
        return [(text or "", False)]
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(w) for w in marked) + r")(?!\w)", re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        if m.start() > last:
            out.append((text[last:m.start()], False))
        out.append((m.group(0), True))
        last = m.end()
    if last < len(text):
        out.append((text[last:], False))
    return out


def _article_card(conn: sqlite3.Connection, suggested: dict) -> dict | None:
    """A suggested article as stored in the set, refreshed from the knowledge base (title, state, steps)."""
    art = articles.get(conn, suggested["id"])
    if art is None or art["state"] == "archived":
        return None
    return {"id": art["id"], "title": art["title"], "state": art["state"],
            "state_label": STATE_LABELS.get(art["state"], art["state"]), "language": art["language"],
            "fallback": bool(suggested.get("fallback")),
            "confidence": suggested.get("confidence"),       # None in sets stored before confidences existed
            "segments": highlight(suggested.get("snippet", ""), suggested.get("matched")),
            "issue": art["issue"], "environment": art["environment"], "resolution": art["resolution"] or art["body"],
            "cause": art["cause"], "taxonomy": art["taxonomy"]}


def panel_context(conn: sqlite3.Connection, cfg: dict, integration: str, ticket_id: str | None,
                  agent: str = "") -> dict:
    """Everything the panel template needs. A ticket without a stored set gets one computed (not stored).
    For `agent`: which articles changed since they used them (an unread change notice), and the words they
    searched on this ticket (the keywords of an article they create from it).

    `known` is False when the sidecar holds neither the ticket's text nor a suggestion set for it (no webhook
    yet; an agent's action only creates an empty row): the page then ranks from the text the ZAF client gives."""
    ctx = {"integration": integration, "ticket_id": ticket_id or "", "ticket": None, "known": False,
           "taxonomy": None, "articles": [], "macros": [], "reused": [], "computed": False,
           "language": cfg["suggest"]["default_language"], "state_labels": STATE_LABELS,
           "source_labels": SOURCE_LABELS, "draft_keywords": [], "categories": flags.CATEGORY_WORDS}
    if not ticket_id:
        return ctx
    ticket = intake.load_ticket(conn, integration, ticket_id)
    if ticket is None:
        return ctx
    ctx["reused"] = events.reused_article_ids(conn, ticket["id"])       # their Reuse buttons show as done
    has_text = bool(ticket["subject"].strip() or ticket["description"].strip())
    result = intake.latest_set(conn, ticket["id"])
    if result is None and has_text:
        result = intake.suggestions(conn, cfg, subject=ticket["subject"], description=ticket["description"],
                                    locale=ticket["locale"], fields=ticket["fields"], tags=ticket["tags"],
                                    form_id=ticket["form_id"])
        ctx["computed"] = True
    ctx["known"] = result is not None
    ctx["ticket"] = {k: ticket[k] for k in ("external_id", "subject", "description", "tags", "language", "locale")}
    ctx["draft_keywords"] = events.searched_words(conn, ticket["id"], agent) if agent else []
    if result:
        ctx["taxonomy"] = result["taxonomy"]
        ctx["language"] = result.get("language") or ticket["language"] or ctx["language"]
        ctx["articles"] = [c for c in (_article_card(conn, a) for a in result["articles"]) if c]
        changed = notices.unread_changes(conn, agent, [a["id"] for a in ctx["articles"]])
        for card in ctx["articles"]:
            notice = changed.get(card["id"])
            card["changed"] = {"from": notice["data"].get("from"), "to": notice["data"].get("to")} if notice else None
        ctx["macros"] = [{"id": m["id"], "title": m["title"], "language": m["language"], "body": m["body"]}
                         for m in result["macros"]]
    return ctx


def article_view(conn: sqlite3.Connection, article_id: int, agent: str, old: str | None = None,
                 new: str | None = None) -> dict | None:
    """What the sidebar's read view of an article shows; None without the article. With two version numbers,
    the fields that changed between them. The agent's change notices about it are read from then on."""
    art = articles.get(conn, article_id)
    if art is None:
        return None
    changes = None
    if old and new and old.isascii() and old.isdigit() and new.isascii() and new.isdigit():
        try:
            changes = versions.diff(conn, article_id, int(old), int(new))["changes"]
        except versions.VersionError:
            changes = None
    notices.mark_article_seen(conn, agent, article_id)
    return {"article": art, "state_label": STATE_LABELS.get(art["state"], art["state"]), "changes": changes,
            "owner_name": people.display(conn, art["owner"]) if art["owner"] else ""}


def record_view(conn: sqlite3.Connection, cfg: dict, integration: str, ticket_id: str, agent: str,
                vouched: bool = False) -> bool:
    """One `viewed` event per opening of the sidebar, on a real ticket (see tickets.events.record). An opening of
    a ticket the sidecar cannot confirm is shown but not recorded; False then."""
    try:
        events.record(conn, cfg, integration, ticket_id, events.Event(kind="viewed", agent=agent), vouched=vouched)
    except (intake.UnknownTicket, intake.HelpdeskUnavailable) as exc:
        current_app.logger.info("sidebar opened on %s ticket %s, not recorded: %s", integration, ticket_id, exc)
        return False
    return True


def zaf_sdk_present() -> bool:
    """True when the Zendesk App Framework SDK is at static/vendor/zaf_sdk.min.js. It is vendored (2.0.11, built
    by static/vendor/build-zaf.sh, see static/vendor/README.md); the check keeps the page working without it."""
    return os.path.exists(os.path.join(current_app.static_folder, *ZAF_SDK))


def secure_headers(resp, cfg: dict, allow_zendesk_frame: bool = True):
    """Pages that embed an agent session: no caching, no referrer, scripts only from us, framed only by Zendesk
    (the account's *.zendesk.com host, plus the host-mapped origins in zendesk.frame_ancestors)."""
    ancestors = "'self'"
    if allow_zendesk_frame:
        sub = cfg["zendesk"]["subdomain"]
        ancestors += f" https://{sub}.zendesk.com" if sub else " https://*.zendesk.com"
        ancestors += "".join(f" {origin}" for origin in cfg["zendesk"]["frame_ancestors"].split())
    resp.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def error_page(status: int, title: str, message: str, hint: str = ""):
    return render_template("widget_error.html", status=status, title=title, message=message, hint=hint), status
