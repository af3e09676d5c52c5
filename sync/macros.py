"""Zendesk macros both ways: import the account's macros as drafts, push ours as Zendesk macros (outbox).

Import (a publisher runs it; it reads Zendesk now, in the request or the CLI): each Zendesk macro's title and comment
become a sidecar macro in KCS state 'wip', inactive (a draft: not suggested until a publisher validates it), source
'zendesk', helpdesk_id its Zendesk id, external_id "zendesk-macro-<id>". Zendesk placeholders turn into our sandboxed
Jinja2 variables where one exists ({{ticket.requester.first_name}} -> {{ requester.first_name }}); any other
placeholder or Liquid tag is kept as literal text ({% raw %}...{% endraw %}), so the draft always parses. A re-import
updates drafts in place and never touches a macro a publisher has since validated or archived. Macros we pushed
ourselves are not imported back.

Push (the worker, outbox kind "push_macro"): only our own, active, validated macros. Our template is rendered with
Zendesk placeholders as the values of our variables, so Zendesk fills them per ticket. The first push creates the
Zendesk macro and records its id on ours; later pushes update that id. The description carries a marker line
("Knowledge Sidecar macro <external_id>") so that a retried job whose create answer was lost finds the macro it
created instead of creating a second one. A Zendesk macro deleted meanwhile (404 on update) is created anew.
"""
from __future__ import annotations

import re
import sqlite3

from integrations.base import PermanentError
from integrations.zendesk import client as zendesk_client
from integrations.zendesk import macros as zd
from kb import audit
from macros import library, render
from store import outbox, write

INTEGRATION = "zendesk"
SOURCE = "zendesk"            # macros.source of imported Zendesk macros
OURS = "sidecar"              # macros.source of the sidecar's own macros
KIND = "push_macro"
MARKER_PREFIX = "Knowledge Sidecar macro "

# A Zendesk placeholder -> the variable of ours that means the same (macros/render.py).
FROM_ZENDESK = {
    "ticket.requester.first_name": "requester.first_name",
    "ticket.requester.name": "requester.name",
    "ticket.id": "ticket.id",
    "ticket.title": "ticket.subject",
    "current_user.name": "agent.name",
    "current_user.first_name": "agent.first_name",
}
# Our variables with Zendesk placeholders as their values: rendering a template with these gives Zendesk's text.
_REQUESTER = {"name": "{{ticket.requester.name}}", "first_name": "{{ticket.requester.first_name}}"}
TO_ZENDESK = {"ticket": {"id": "{{ticket.id}}", "subject": "{{ticket.title}}", "requester": _REQUESTER},
              "requester": _REQUESTER,
              "agent": {"name": "{{current_user.name}}", "first_name": "{{current_user.first_name}}"}}

_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PLACEHOLDER = re.compile(r"\{\{\s*([\w.]+)\s*\}\}")
_OPENERS = ("{{", "{%", "{#")


class UnknownMacro(LookupError):
    """No macro has that id (404)."""


class NotPushable(ValueError):
    """The macro cannot go to Zendesk as it is (a draft, archived, inactive, imported from Zendesk) (409)."""


class NotConfigured(RuntimeError):
    """Zendesk credentials are not configured, so nothing can be read from it now (409)."""


# -- placeholders ---------------------------------------------------------------------------------------

def from_zendesk(text: str) -> str:
    """A Zendesk comment as our template: known placeholders become our variables, everything else that Jinja2
    would read as a tag stays literal text. The result always passes macros.render.check."""
    out, pos = [], 0
    for m in _TAG.finditer(text):
        out.append(_literal(text[pos:m.start()]))
        found = _PLACEHOLDER.fullmatch(m.group())
        ours = FROM_ZENDESK.get(found[1]) if found else None
        out.append(f"{{{{ {ours} }}}}" if ours else _literal(m.group()))
        pos = m.end()
    out.append(_literal(text[pos:]))
    body = "".join(out)
    try:
        render.check(body)
    except render.RenderError:
        body = _escape_braces(text)   # a shape the chunks above did not foresee: keep every character literal
    return body


def _literal(chunk: str) -> str:
    """Text Jinja2 must not read: untouched when it opens no tag, else inside {% raw %} (or brace by brace)."""
    if not any(o in chunk for o in _OPENERS) and not chunk.endswith("{"):
        return chunk
    if "endraw" in chunk:
        return _escape_braces(chunk)
    return "{% raw %}" + chunk + "{% endraw %}"


def _escape_braces(text: str) -> str:
    return text.replace("{", '{{ "{" }}')


def to_zendesk(body: str) -> str:
    """Our template rendered with Zendesk placeholders for our variables (requester.first_name ->
    {{ticket.requester.first_name}}, ticket.subject -> {{ticket.title}}, agent.name -> {{current_user.name}}, ...);
    a variable Zendesk has no placeholder for (article.*) renders as nothing. The same sandbox and bounds as an
    agent's render (macros.render); RenderError when the template cannot be rendered."""
    return render.fill(body, TO_ZENDESK)


# -- import -------------------------------------------------------------------------------------------

def _pushed_by_us(remote: dict, ours: set[str]) -> bool:
    """A Zendesk macro that is one of ours: its id is recorded on one of our macros, or it carries our marker."""
    if str(remote.get("id")) in ours:
        return True
    lines = str(remote.get("description") or "").splitlines()
    return any(line.strip().startswith(MARKER_PREFIX) for line in lines)


def import_zendesk_macros(conn: sqlite3.Connection, cfg: dict, client, actor: str = "") -> dict:
    """Read every macro of the Zendesk account and store each as a draft (see the module's docstring). Zendesk is
    read before anything is written; the writes are one transaction. Returns the counts."""
    remote = zd.list_macros(client)
    ours = library.helpdesk_ids(conn, OURS)
    language = cfg["suggest"]["default_language"]
    counts = {"total": len(remote), "created": 0, "updated": 0, "unchanged": 0, "kept_validated": 0,
              "skipped_no_comment": 0, "skipped_ours": 0, "errors": []}
    outcome_key = {"created": "created", "updated": "updated", "skipped": "unchanged", "kept": "kept_validated"}
    with write(conn):
        for item in remote:
            zid = str(item.get("id") or "").strip()
            if not zid.isdigit():
                counts["errors"].append({"zendesk_id": item.get("id"), "error": "a macro without an id"})
                continue
            if _pushed_by_us(item, ours):
                counts["skipped_ours"] += 1
                continue
            text = zd.comment_text(item)
            if text is None:
                counts["skipped_no_comment"] += 1
                continue
            raw = {"external_id": f"zendesk-macro-{zid}", "title": str(item.get("title") or f"Zendesk macro {zid}"),
                   "body": from_zendesk(text), "active": False}
            try:
                outcome = library.upsert_from_helpdesk(conn, library.clean(raw, language), SOURCE, zid)
            except library.MacroError as exc:
                counts["errors"].append({"zendesk_id": int(zid), "title": raw["title"], "error": str(exc)})
                continue
            counts[outcome_key[outcome]] += 1
            if outcome in ("created", "updated"):
                macro = library.find_by_helpdesk_id(conn, SOURCE, zid)
                audit.record(conn, "macro", macro["id"], "imported_from_zendesk", actor,
                             {"zendesk_id": int(zid), "outcome": outcome})
    return counts


def import_now(conn: sqlite3.Connection, cfg: dict, actor: str = "") -> dict:
    """The import with the configured Zendesk client (HTTP route, CLI); NotConfigured without credentials.
    Zendesk's refusals arrive as integrations.base.IntegrationError."""
    client = zendesk_client.from_config(cfg)
    if client is None:
        raise NotConfigured("Zendesk is not configured: set zendesk.subdomain, zendesk.email and zendesk.api_token")
    return import_zendesk_macros(conn, cfg, client, actor)


# -- push ---------------------------------------------------------------------------------------------

def why_not_pushable(macro: dict) -> str | None:
    """Why this macro cannot be pushed to Zendesk, in words for the publisher; None when it can."""
    label = f"macro {macro['id']} ({macro['external_id']})"
    if macro["source"] != OURS:
        return (f"{label} was imported from {macro['source']}; it is that helpdesk's own macro, "
                "so only the sidecar's own macros are pushed")
    if macro["state"] != "validated":
        return f"{label} is {macro['state']}: a publisher must validate it before it is pushed"
    if not macro["active"]:
        return f"{label} is inactive: activate it before it is pushed"
    return None


def marker(macro: dict) -> str:
    return MARKER_PREFIX + macro["external_id"]


def zendesk_macro(macro: dict) -> dict:
    """The Zendesk macro that carries ours: title, active, a public reply with our text in Zendesk placeholders
    (the sidecar's macros have no audience yet: every one is a reply to the customer), and the marker."""
    description = ("Pushed from the Knowledge Sidecar: edit it there, a change made in Zendesk is replaced by "
                   f"the next push.\n{marker(macro)}")
    return {"title": macro["title"], "active": True, "description": description,
            "actions": [{"field": "comment_value", "value": to_zendesk(macro["body"])}]}


def queue_push(conn: sqlite3.Connection, cfg: dict, macro_id: int, actor: str = "") -> dict:
    """Queue the push of one of our macros for the worker. UnknownMacro / NotPushable when it cannot go; a push
    of the same macro still waiting is answered instead of queueing a second one (it reads the macro when it runs).
    """
    macro = library.get(conn, macro_id)
    if macro is None:
        raise UnknownMacro(f"no macro {macro_id}")
    problem = why_not_pushable(macro)
    if problem:
        raise NotPushable(problem)
    try:
        to_zendesk(macro["body"])
    except render.RenderError as exc:
        raise NotPushable(f"macro {macro_id} ({macro['external_id']}) cannot be rendered for Zendesk: {exc}") from None
    answer = {"macro_id": macro_id, "zendesk_id": macro["helpdesk_id"],
              "zendesk_configured": zendesk_client.from_config(cfg) is not None}
    with write(conn):
        waiting = conn.execute("SELECT id FROM outbox WHERE kind = ? AND state = 'pending' AND integration = ? "
                               "AND json_extract(payload, '$.macro_id') = ? ORDER BY id LIMIT 1",
                               (KIND, INTEGRATION, macro_id)).fetchone()
        if waiting:
            return {**answer, "job_id": waiting[0], "already_queued": True}
        job_id = outbox.enqueue(conn, INTEGRATION, "", KIND, {"macro_id": macro_id,
                                                               "external_id": macro["external_id"], "actor": actor})
    return {**answer, "job_id": job_id, "already_queued": False}


def _push_macro(conn: sqlite3.Connection, cfg: dict, client, job: dict) -> str:
    """Outbox handler: create or update the Zendesk macro for ours, record its id and the push in the audit log."""
    macro_id = job["payload"].get("macro_id")
    macro = library.get(conn, macro_id) if isinstance(macro_id, int) else None
    if macro is None:
        raise PermanentError(f"macro {macro_id!r} no longer exists")
    problem = why_not_pushable(macro)
    if problem:
        raise PermanentError(f"not pushed: {problem}")
    try:
        wanted = zendesk_macro(macro)
    except render.RenderError as exc:
        raise PermanentError(f"not pushed: macro {macro_id} cannot be rendered for Zendesk: {exc}") from None
    zendesk_id, how = macro["helpdesk_id"], "updated"
    if not zendesk_id and job["attempts"] > 1:
        # An earlier attempt may have created it and lost the answer: find it by our marker, never create twice.
        found = zd.find_by_marker(client, marker(macro))
        zendesk_id = str(found["id"]) if found else None
        how = "found after a retry, updated"
    answer = zd.update_macro(client, zendesk_id, wanted) if zendesk_id else None
    if answer is None:
        how = "created again (deleted in Zendesk)" if zendesk_id else "created"
        answer = zd.create_macro(client, wanted)
    new_id = str(answer["id"])
    with write(conn):
        if new_id != macro["helpdesk_id"]:
            library.set_helpdesk_id(conn, macro["id"], new_id)
        audit.record(conn, "macro", macro["id"], "pushed_to_zendesk", str(job["payload"].get("actor") or ""),
                     {"zendesk_id": int(new_id) if new_id.isdigit() else new_id, "how": how,
                      "previous_zendesk_id": macro["helpdesk_id"], "job_id": job["id"]})
    return f"macro {macro['external_id']} {how} as Zendesk macro {new_id}"


# Outbox job kind -> handler(conn, cfg, client, job), merged into jobs/worker.py's HANDLERS.
HANDLERS: dict = {KIND: _push_macro}
