"""The KCS pages: an article's page (the read view for every signed-in agent; for publishers and the article's
owner also the edit form with every field, the history with diffs and restores, and the open flags), the
readable diff, the owners' flag queue and each person's notices.

Plain HTML forms (POST with the csrf field, then a redirect), signed in like /admin (web.signin). Every change
goes through kb.editing, so the page and PATCH /api/articles/<id> obey the same rules; a refused change is
shown on the page with the form as it was typed.
"""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for

from api_tokens.tokens import allows
from kb import articles, editing, flags, lifecycle, notices, people, taxonomy, versions
from web import signin
from web.db import cfg, get_db
from web.payload import row_id

bp = Blueprint("knowledge_pages", __name__)

DONE = {"edited": "Saved as a new version.", "restored": "Restored as a new version.",
        "rejected": "Flag rejected; the agent who raised it is told why.",
        "fixed": "Flag closed as fixed; the agent who raised it is told.", "read": "Marked read."}
LONG_FIELDS = ("body", "issue", "environment", "resolution", "cause")
TEXT_INPUTS = ("title", "owner", "translation_group", "review_by", "keywords", "type", "state", "visibility",
               "language", *LONG_FIELDS)
FLAG_STATUSES = {"open": "open", "resolved": "resolved", "all": None}


def _render(template: str, code: int = 200, **ctx):
    ctx.setdefault("error", None)
    conn = get_db()
    return render_template(template, who=signin.page_actor(), csrf=signin.csrf_token(),
                           notice=DONE.get(request.args.get("done", "")),
                           person=lambda name: people.display(conn, name) if name else "", **ctx), code


def _article_or_404(article_id: int) -> dict:
    art = articles.get(get_db(), row_id(article_id, "article"))
    if art is None:
        abort(404, description=f"no article {article_id}")
    return art


def _may_read_history(who: dict, art: dict) -> bool:
    """Earlier versions are for those who look after the article (publishers, its owner), leads (whose flag
    queue links to fixes), and anyone the sidecar told about a change to it (a notice links to the diff)."""
    if lifecycle.may_edit(who, art) or allows(who["role"], "lead"):
        return True
    mine = notices.for_recipient(get_db(), who["name"], limit=1000)["notices"]
    return any(n["article_id"] == art["id"] for n in mine)


def _values(art: dict) -> dict:
    """The edit form's fields as the article has them (text, as the inputs show them)."""
    out = {k: art.get(k) or "" for k in TEXT_INPUTS}
    out["keywords"] = ", ".join(art.get("keywords") or [])
    out["taxonomy"] = " / ".join(art.get("taxonomy") or [])
    return out


def _article_page(art: dict, status: int = 200, error: str | None = None, typed: dict | None = None,
                  fixes: list[int] | None = None, reject: dict | None = None):
    conn = get_db()
    who = signin.page_actor()
    editable = lifecycle.may_edit(who, art)
    languages = list(dict.fromkeys([*cfg()["suggest"]["languages"], art["language"]]))
    return _render("article.html", status, article=art, editable=editable, error=error,
                   values={**_values(art), **(typed or {})}, fixes=fixes or [], reject=reject or {},
                   variants=articles.variants(conn, art),
                   flags=flags.listing(conn, status="open", article_id=art["id"]),
                   history=versions.listing(conn, art["id"]) if editable else [],
                   states=articles.STATES, visibilities=articles.VISIBILITIES, types=articles.TYPES,
                   languages=languages, long_fields=LONG_FIELDS)


@bp.get("/articles/<int:article_id>")
@signin.page("agent")
def article_page(article_id: int):
    """An article's page: the read view for any signed-in agent (every field, its language variants, its open
    flags); for publishers and the article's owner also the edit form, the history, diffs and restores."""
    return _article_page(_article_or_404(article_id))


def _typed() -> dict:
    """The edit form as posted, text normalised (browsers send a textarea's new lines as CRLF)."""
    return {k: request.form[k].replace("\r\n", "\n") for k in (*TEXT_INPUTS, "taxonomy", "note")
            if k in request.form}


def _fixes(form) -> list[int]:
    out = []
    for raw in form.getlist("fixes"):
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
            abort(400, description=f"fixes must be flag ids, got {raw!r}")
        out.append(int(raw))
    return out


@bp.post("/articles/<int:article_id>")
@signin.page("agent")
def article_edit(article_id: int):
    """Save the edit form as a new version (publisher, or the article's owner), closing the flags ticked as
    fixed by it. A refused change shows why, with the form kept as typed."""
    art = _article_or_404(article_id)
    typed = _typed()
    fixes = _fixes(request.form)
    data = {k: v for k, v in typed.items() if k != "note"}
    if "taxonomy" in data:
        data["taxonomy"] = [s.strip() for s in data["taxonomy"].split("/") if s.strip()]
    seen = request.form.get("version", "")
    if seen and seen != str(art["version"]):
        return _article_page(art, 409, error=f"The article changed (now version {art['version']}) since you opened "
                             "it; your text is kept below. Compare it with the history, then save again.",
                             typed=typed, fixes=fixes)
    try:
        editing.edit(get_db(), cfg(), article_id, data, signin.page_actor(), note=typed.get("note", ""),
                     fixes=fixes)
    except lifecycle.NotAllowed as exc:
        return _article_page(art, 403, error=str(exc), typed=typed, fixes=fixes)
    except (editing.EditError, taxonomy.TaxonomyError) as exc:
        return _article_page(art, 400, error=str(exc), typed=typed, fixes=fixes)
    return redirect(url_for(".article_page", article_id=article_id, done="edited") + "#history", 303)


@bp.post("/articles/<int:article_id>/versions/<int:version>/restore")
@signin.page("agent")
def article_restore(article_id: int, version: int):
    """Make the article read like version N again, as a new version (publisher, or the article's owner)."""
    art = _article_or_404(article_id)
    try:
        editing.restore(get_db(), cfg(), article_id, row_id(version, "version"), signin.page_actor())
    except versions.VersionError as exc:
        abort(404, description=str(exc))
    except lifecycle.NotAllowed as exc:
        return _article_page(art, 403, error=str(exc))
    except (editing.EditError, taxonomy.TaxonomyError) as exc:
        return _article_page(art, 400, error=str(exc))
    return redirect(url_for(".article_page", article_id=article_id, done="restored") + "#history", 303)


def _version_arg(name: str, default: int) -> int:
    raw = request.args.get(name, "")
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400, description=f"{name} must be a version number, got {raw!r}")
    return int(raw)


def _side_by_side(lines: list[str]) -> list[dict]:
    """A unified diff as rows of (old line, new line): context on both sides, a run of deletions paired with the
    insertions that replace it, "@@" hunk headers as separators."""
    rows, gone, added = [], [], []

    def flush():
        for i in range(max(len(gone), len(added))):
            rows.append({"kind": "change", "old": gone[i] if i < len(gone) else None,
                         "new": added[i] if i < len(added) else None})
        gone.clear()
        added.clear()

    for line in lines:
        if line.startswith("@@"):
            flush()
            rows.append({"kind": "hunk", "old": line, "new": line})
        elif line.startswith("-"):
            if added:
                flush()
            gone.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            flush()
            rows.append({"kind": "same", "old": line[1:], "new": line[1:]})
    flush()
    return rows


def _shown(field: str, value) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return (" / " if field == "taxonomy" else ", ").join(str(v) for v in value)
    return str(value)


@bp.get("/articles/<int:article_id>/diff")
@signin.page("agent")
def article_diff(article_id: int):
    """What changed between two versions, readable: ?from=N&to=M (default: the latest version against the one
    before it). Each changed field old beside new; long text as a line diff."""
    art = _article_or_404(article_id)
    if not _may_read_history(signin.page_actor(), art):
        abort(403, description="an article's history is for publishers, leads, its owner and the people told of a "
                               "change to it")
    new = _version_arg("to", art["version"])
    old = _version_arg("from", max(new - 1, 1))
    try:
        found = versions.diff(get_db(), article_id, old, new)
    except versions.VersionError as exc:
        abort(404, description=str(exc))
    changes = []
    for change in found["changes"]:
        long = change["field"] in LONG_FIELDS or "\n" in _shown("", change["from"]) + _shown("", change["to"])
        changes.append({**change, "long": long, "rows": _side_by_side(change["lines"]) if long else [],
                        "old": _shown(change["field"], change["from"]), "new": _shown(change["field"], change["to"])})
    return _render("article_diff.html", article=art, diff=found, changes=changes)


def _queue(status: str, owner: str | None, code: int = 200, error: str | None = None, typed: dict | None = None):
    """The queue page: an agent's own flags, or (leads and up) everyone's filtered by owner; by status."""
    who, conn = signin.page_actor(), get_db()
    if status not in FLAG_STATUSES:
        abort(400, description="status must be open, resolved or all")
    everyone = allows(who["role"], "lead")
    owner = (owner or None) if everyone else who["name"]
    owners = sorted({f["owner"] for f in flags.listing(conn)} - {""}) if everyone else []
    return _render("flags_queue.html", code, flags=flags.listing(conn, status=FLAG_STATUSES[status], owner=owner),
                   status=status, owner=owner or "", owners=owners, everyone=everyone, error=error,
                   typed=typed or {})


@bp.get("/flags")
@signin.page("agent")
def flag_queue():
    """The flag queue: an agent sees the flags sent to them (as the owner of the article); leads and up see all,
    filtered by owner and status (?owner=&status=open|resolved|all)."""
    return _queue(request.args.get("status") or "open", request.args.get("owner"))


@bp.post("/flags/<int:flag_id>/resolve")
@signin.page("agent")
def flag_resolve(flag_id: int):
    """Close a flag from the queue or the article page: action=reject with a note (required), or action=fixed
    with the version that fixed it. The agent who raised it is told."""
    conn = get_db()
    flag = flags.get(conn, row_id(flag_id, "flag"))
    if flag is None:
        abort(404, description=f"no flag {flag_id}")
    form = request.form
    data = {"action": form.get("action", ""), "note": form.get("note", "").replace("\r\n", "\n")}
    if data["action"] == "fixed":
        raw = form.get("version", "").strip()
        data["version"] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else raw
    from_article = form.get("back") == "article"
    try:
        editing.resolve_flag(conn, cfg(), flag_id, data, signin.page_actor())
    except (lifecycle.NotAllowed, editing.EditError) as exc:
        code = 403 if isinstance(exc, lifecycle.NotAllowed) else 400
        if from_article:
            return _article_page(_article_or_404(flag["article_id"]), code, error=f"Flag {flag_id}: {exc}",
                                 reject={"flag": flag_id, "note": data["note"]})
        return _queue(form.get("status") or "open", form.get("owner"), code, f"Flag {flag_id}: {exc}",
                      {"flag": flag_id, "note": data["note"]})
    except LookupError as exc:
        abort(404, description=str(exc))
    done = "rejected" if data["action"] == "reject" else "fixed"
    if from_article:
        return redirect(url_for(".article_page", article_id=flag["article_id"], done=done), 303)
    return redirect(url_for(".flag_queue", done=done, status=form.get("status") or None,
                            owner=form.get("owner") or None), 303)


@bp.get("/notices")
@signin.page("agent")
def notices_page():
    """The signed-in person's notices, newest first, unread ones marked; each links to its article (and a
    change to the diff)."""
    return _render("notices.html", **notices.for_recipient(get_db(), signin.page_actor()["name"], limit=200))


@bp.post("/notices/read")
@signin.page("agent")
def notices_read():
    """Mark one of the signed-in person's notices read (form field id), or all of them (no id)."""
    raw = request.form.get("id", "")
    if raw and not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        abort(400, description=f"id must be a notice id, got {raw!r}")
    notices.mark_read(get_db(), signin.page_actor()["name"], [int(raw)] if raw else None)
    return redirect(url_for(".notices_page", done="read"), 303)
