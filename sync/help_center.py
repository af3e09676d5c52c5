"""Zendesk Help Center both ways: import sections and articles, publish validated public articles (outbox).

Import (import_help_center, run now by an admin or the CLI):
- Each Help Center section becomes a taxonomy node: its path is its parent sections' names and its own; the node
  remembers the section (helpdesk_section_id). A node that already carries the section is reused as it is (an
  admin may have renamed or moved it); a node that exists at that path without a section adopts it.
- Each article becomes one row per language we know (zendesk.help_center_locales; other locales are counted as
  skipped), upserted on its Zendesk id and language (articles.helpdesk_id), external_id "zendesk-hc-<id>-<lang>",
  all rows of one Zendesk article in translation group "zendesk-hc-<id>". The HTML is cleaned with nh3 and stored
  as readable text; html_url is kept as helpdesk_url.
- KCS state from Help Center: a published translation is `validated` (it already is what customers read); a
  draft, or a translation Zendesk marks outdated (its source changed since), is `not_validated` (someone must look
  at it before it counts). An article archived here stays archived: re-import does not bring it back.
- Visibility: visible to everyone (user_segment_id null) is `public`; restricted to a user segment is `internal`,
  except the segment we publish to (zendesk.help_center_user_segment_id), which is our own public audience.
- The KCS fields an editor added here (issue, environment, resolution, cause, owner) are kept on re-import; Help
  Center has no such fields. An article the sidecar wrote and published is never overwritten by its copy in Help
  Center (it is skipped): the sidecar is its source.
- Unchanged articles are skipped, and so is one whose Help Center text is what we last published of it; a changed
  one gets a new version in place; each created or updated row gets an
  audit entry "imported_from_help_center".

Publish (queue_publish now, the worker's "publish_article" handler later): only validated, public articles whose
taxonomy node (or nearest ancestor) carries a Help Center section; the handler checks all of it again at send time
and fails the job for good rather than publish an article that became internal. The first publish of a
translation group creates one Help Center article (labelled with hc.marker so a retry can find it); every later
publish, and every other language of the group, updates that article's translation (PUT) or adds it (POST).
"""
from __future__ import annotations

import sqlite3

from integrations.base import IntegrationError, PermanentError
from integrations.zendesk import client as zendesk
from integrations.zendesk import help_center as hc
from kb import articles, audit, taxonomy
from store import clock, outbox, write
from suggest import index

PREFIX = "zendesk-hc-"        # external_id and translation group of what came from Help Center
KEPT_FIELDS = ("issue", "environment", "resolution", "cause", "owner")
MAX_DEPTH = 50                # parent sections deeper than this are a loop, not a tree


class NotConfigured(Exception):
    """Zendesk (or publishing to its Help Center) is not configured."""


class PublishRefused(Exception):
    """The article cannot be published; `reason` is "unknown" (no such article), "not_configured" or "refused"."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


# -- import --------------------------------------------------------------------------------------------------------
def run_import(conn: sqlite3.Connection, cfg: dict, actor: str) -> dict:
    """import_help_center with the configured Zendesk client; NotConfigured without credentials."""
    client = zendesk.from_config(cfg)
    if client is None:
        raise NotConfigured("Zendesk is not configured: set zendesk.subdomain, zendesk.email and zendesk.api_token")
    return import_help_center(conn, cfg, client, actor)


def import_help_center(conn: sqlite3.Connection, cfg: dict, client, actor: str) -> dict:
    """Import every section and article (see the module docstring). IntegrationError when the sections cannot be
    read; a failure later (the article list, one article's translations) is reported in "errors" and the rest
    goes on. {"sections": {"created", "updated", "skipped"}, "articles": {"created", "updated", "skipped"},
    "errors": [...]}"""
    report = {"sections": {"created": 0, "updated": 0, "skipped": 0},
              "articles": {"created": 0, "updated": 0, "skipped": 0}, "errors": []}
    nodes = _import_sections(conn, hc.sections(client), report)
    try:
        for art in hc.articles(client):
            try:
                found = hc.translations(client, art["id"])
            except IntegrationError as exc:
                report["errors"].append({"helpdesk_id": str(art.get("id")), "error": str(exc)})
                continue
            _import_article(conn, cfg, art, found or [art], nodes.get(str(art.get("section_id"))), actor, report)
    except IntegrationError as exc:
        report["errors"].append({"error": f"listing Help Center articles stopped: {exc}"})
    if not conn.in_transaction:
        index.catch_up(conn)
    return report


def _import_sections(conn: sqlite3.Connection, sections: list[dict], report: dict) -> dict[str, int | None]:
    """Section id -> node id, creating or adopting nodes, in one transaction."""
    by_id = {str(s["id"]): s for s in sections if isinstance(s, dict) and s.get("id") is not None}
    nodes: dict[str, int | None] = {}

    def node_for(sid: str, depth: int) -> int | None:
        if sid in nodes:
            return nodes[sid]
        nodes[sid] = None                    # a parent loop ends here instead of recursing forever
        known = taxonomy.find_by_section(conn, sid)
        if known is not None:
            report["sections"]["skipped"] += 1
            nodes[sid] = known
            return known
        section = by_id[sid]
        parent = str(section.get("parent_section_id") or "")
        above = []
        if parent in by_id and depth < MAX_DEPTH:
            above = taxonomy.path_of(conn, node_for(parent, depth + 1))
        name = str(section.get("name") or "").strip()
        try:
            nodes[sid] = _section_node(conn, sid, above, name, report)
        except taxonomy.TaxonomyError as exc:
            report["errors"].append({"section_id": sid, "error": str(exc)})
        return nodes[sid]

    with write(conn):
        for sid in by_id:
            node_for(sid, 0)
    return nodes


def _section_node(conn: sqlite3.Connection, sid: str, above: list[str], name: str, report: dict) -> int:
    """The node for a section no node carries yet: the one at its path (adopted), else a new one. A name without
    letters or digits, or a path another section holds, gets the section id added so it stays apart."""
    path = [*above, name]
    try:
        taxonomy.slug(name)
    except taxonomy.TaxonomyError:
        path = [*above, f"Section {sid}"]
    node = taxonomy.find(conn, path)
    if node is not None and taxonomy.section_of(conn, node) not in (None, sid):
        path = [*path[:-1], f"{path[-1]} ({sid})"]
        node = taxonomy.find(conn, path)
    outcome = "updated" if node is not None else "created"
    node = taxonomy.ensure_path(conn, path)
    taxonomy.set_helpdesk_section(conn, node, sid)
    report["sections"][outcome] += 1
    return node


def _public(cfg: dict, art: dict) -> bool:
    ours = cfg["zendesk"]["help_center_user_segment_id"] or None
    segments = [s for s in (art.get("user_segment_ids") or []) if s is not None]
    if art.get("user_segment_id") is not None:
        segments.append(art["user_segment_id"])
    return not segments or (ours is not None and set(segments) == {ours})


def _import_article(conn: sqlite3.Connection, cfg: dict, art: dict, found: list[dict], node_id: int | None,
                    actor: str, report: dict) -> None:
    """One Help Center article: a row per known language, each in its own transaction."""
    hid, locales = str(art["id"]), cfg["zendesk"]["help_center_locales"]
    group = articles.helpdesk_group(conn, hid) or f"{PREFIX}{hid}"
    visibility = "public" if _public(cfg, art) else "internal"
    for tr in found:
        language = hc.language_for(locales, tr.get("locale"))
        if language is None:
            report["articles"]["skipped"] += 1
            continue
        try:
            with write(conn):
                outcome = _import_translation(conn, hid, group, language, tr, art, node_id, visibility, actor)
        except (articles.ArticleError, taxonomy.TaxonomyError) as exc:
            report["errors"].append({"helpdesk_id": hid, "locale": tr.get("locale"), "error": str(exc)})
            continue
        report["articles"][outcome] += 1


def _import_translation(conn: sqlite3.Connection, hid: str, group: str, language: str, tr: dict, art: dict,
                        node_id: int | None, visibility: str, actor: str) -> str:
    existing = articles.find_by_helpdesk(conn, hid, language)
    if existing and not existing["external_id"].startswith(PREFIX):
        return "skipped"                    # the sidecar's own published article: it is the source, not Help Center
    url = tr.get("html_url") or art.get("html_url")
    text = hc.html_to_text(tr.get("body") or "", url)
    if existing and existing["title"] == tr.get("title") and text == hc.html_to_text(hc.article_html(existing), url):
        return "skipped"                    # what we published coming back (its KCS fields as headed sections)
    state = "not_validated" if tr.get("draft") or tr.get("outdated") else "validated"
    raw = {"external_id": existing["external_id"] if existing else f"{PREFIX}{hid}-{language}",
           "title": tr.get("title") or "", "body": text,
           "language": language, "state": state, "visibility": visibility,
           "taxonomy": taxonomy.path_of(conn, node_id)}
    if existing:
        raw.update({k: existing[k] for k in KEPT_FIELDS})
        if existing["state"] == "archived":
            raw["state"] = "archived"
        if node_id is None:
            raw["taxonomy"] = existing["taxonomy"]
    outcome = articles.upsert(conn, articles.clean(raw, language), actor)
    row = articles.get(conn, conn.execute("SELECT id FROM articles WHERE external_id = ?",
                                          (raw["external_id"],)).fetchone()[0])
    articles.set_helpdesk(conn, row["id"], hid, url, group)
    if outcome != "skipped":
        audit.record(conn, "article", row["id"], "imported_from_help_center", actor,
                     {"helpdesk_id": hid, "url": url, "locale": tr.get("locale"), "outcome": outcome,
                      "version": row["version"], "draft": bool(tr.get("draft"))})
    return outcome


# -- publish -------------------------------------------------------------------------------------------------------
def _not_configured(cfg: dict) -> str | None:
    zc = cfg["zendesk"]
    if not (zc["subdomain"] and zc["email"] and zc["api_token"]):
        return "publishing to Help Center is not configured: set zendesk.subdomain, zendesk.email, zendesk.api_token"
    if not zc["help_center_permission_group_id"]:
        return ("publishing to Help Center is not configured: set zendesk.help_center_permission_group_id (the "
                "permission group that may edit the published articles)")
    return None


def _refusal(conn: sqlite3.Connection, cfg: dict, art: dict) -> str | None:
    """Why this article may not go to Help Center, or None."""
    name = f"article {art['id']} ({art['external_id']})"
    if art["visibility"] != "public":
        return f"{name} is internal: internal articles are never published to Help Center"
    if art["state"] != "validated":
        return f"{name} is {art['state']}: only validated articles are published to Help Center"
    if hc.locale_for(cfg["zendesk"]["help_center_locales"], art["language"]) is None:
        return f"{name} is in {art['language']!r}, which has no Help Center locale in zendesk.help_center_locales"
    if art["node_id"] is None:
        return f"{name} has no taxonomy node, so no Help Center section to publish to"
    if taxonomy.helpdesk_section(conn, art["node_id"]) is None:
        return (f"taxonomy node {' / '.join(art['taxonomy'])!r} (nor any node above it) is not tied to a Help "
                f"Center section: import the Help Center sections first, or tie the node to one")
    return None


def queue_publish(conn: sqlite3.Connection, cfg: dict, article_id: int, actor: str) -> dict:
    """Queue the article's publish to Help Center: {"job_id", "article_id", "queued"} ("queued" false when a
    publish of it already waits; that job sends the article as it is when it runs). PublishRefused otherwise."""
    art = articles.get(conn, article_id)
    if art is None:
        raise PublishRefused("unknown", f"no article {article_id}")
    problem = _not_configured(cfg)
    if problem:
        raise PublishRefused("not_configured", problem)
    problem = _refusal(conn, cfg, art)
    if problem:
        raise PublishRefused("refused", problem)
    with write(conn):
        waiting = conn.execute("SELECT id FROM outbox WHERE kind = 'publish_article' AND state = 'pending' "
                               "AND json_extract(payload, '$.article_id') = ? ORDER BY id LIMIT 1",
                               (art["id"],)).fetchone()
        if waiting:
            return {"job_id": waiting[0], "article_id": art["id"], "queued": False}
        job_id = outbox.enqueue(conn, zendesk.INTEGRATION, "", "publish_article",
                                {"article_id": art["id"], "version": art["version"], "queued_by": actor})
    return {"job_id": job_id, "article_id": art["id"], "queued": True}


def _find_created(client, section_id: str, locale: str, label: str, title: str, since: str | None) -> dict | None:
    """The Help Center article an earlier attempt (or a language variant's job) created without us hearing back:
    in the section, carrying our label; where labels are not available (they need a Professional or Enterprise
    plan), bearing exactly this title and created after the job was queued. The oldest when several match."""
    by_label, by_title = [], []
    for a in hc.section_articles(client, section_id, locale):
        if label in (a.get("label_names") or []):
            by_label.append(a)
        elif since and a.get("title") == title and (clock.parse(a.get("created_at")) or "") >= since:
            by_title.append(a)
    found = sorted(by_label or by_title, key=lambda a: int(a["id"]))
    return found[0] if found else None


def _publish(conn: sqlite3.Connection, cfg: dict, client, job: dict) -> str:
    """Outbox handler "publish_article": create or update the article (or its translation) in Help Center."""
    article_id = job["payload"].get("article_id")
    art = articles.get(conn, article_id) if isinstance(article_id, int) else None
    if art is None:
        raise PermanentError(f"no article {article_id!r} to publish")
    problem = _not_configured(cfg) or _refusal(conn, cfg, art)
    if problem:
        raise PermanentError(f"not published: {problem}")
    zc = cfg["zendesk"]
    locale = hc.locale_for(zc["help_center_locales"], art["language"])
    section = taxonomy.helpdesk_section(conn, art["node_id"])
    title, body = art["title"], hc.article_html(art)
    group = articles.variants(conn, art)
    hid = art["helpdesk_id"] or next((v["helpdesk_id"] for v in group if v["helpdesk_id"]), None)
    label = hc.marker(art["translation_group"] or art["external_id"])
    if hid is None and (job["attempts"] > 1 or len(group) > 1):
        found = _find_created(client, section, locale, label, title, job.get("created_at"))
        hid = str(found["id"]) if found else None
    if hid is None:
        made = hc.create_article(client, section, title, body, locale, zc["help_center_permission_group_id"],
                                 zc["help_center_user_segment_id"] or None, [label])
        hid, url, how = str(made["id"]), made.get("html_url"), "created"
    elif art["helpdesk_id"] == hid or any(t.get("locale") == locale for t in hc.translations(client, hid)):
        url, how = hc.update_translation(client, hid, locale, title, body).get("html_url"), "updated"
    else:
        url, how = hc.create_translation(client, hid, locale, title, body).get("html_url"), "translation_created"
    with write(conn):
        articles.set_helpdesk(conn, art["id"], hid, url or art["helpdesk_url"])
        audit.record(conn, "article", art["id"], "published_to_help_center", job["payload"].get("queued_by") or "",
                     {"helpdesk_id": hid, "url": url, "locale": locale, "version": art["version"], "how": how,
                      "section_id": section, "job_id": job["id"]})
    return f"article {art['id']} {how} in Help Center as {hid} ({locale})"


# Outbox job kind -> handler(conn, cfg, client, job), merged into jobs/worker.py's HANDLERS.
HANDLERS: dict = {"publish_article": _publish}
