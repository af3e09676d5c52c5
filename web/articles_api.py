"""The KCS loop over HTTP: edit an article (every field, versioned), its history, diffs and restores; flags and
their queue; each person's notices; how to reach people."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from api_tokens.tokens import allows
from kb import articles, editing, flags, lifecycle, notices, people, versions
from tickets import capture
from web.auth import actor, require
from web.db import cfg, get_db
from web.payload import json_object, row_id, text_arg

bp = Blueprint("articles_api", __name__, url_prefix="/api")


def _article_or_404(article_id: int) -> dict:
    art = articles.get(get_db(), row_id(article_id, "article"))
    if art is None:
        abort(404, description=f"no article {article_id}")
    return art


def _edit_outcome(call):
    try:
        return jsonify(call())
    except LookupError as exc:
        abort(404, description=str(exc))
    except lifecycle.NotAllowed as exc:
        abort(403, description=str(exc))
    except editing.EditError as exc:
        abort(400, description=str(exc))


@bp.post("/articles/similar")
@require("agent")
def similar_articles():
    """Before creating an article: the existing ones that already say the same. {"title", "issue"?, "language"?}
    -> {"language", "articles": [{id, external_id, title, state, visibility, score?, why}]}."""
    data = json_object()
    title, issue = text_arg(data, "title", required=True, max_len=500), text_arg(data, "issue", max_len=20000)
    language = data.get("language")
    if language is not None and not isinstance(language, str):
        abort(400, description="language must be text such as 'en'")
    return jsonify(capture.similar(get_db(), cfg(), title, issue, language or None))


@bp.patch("/articles/<int:article_id>")
@require("agent")
def edit_article(article_id: int):
    """Edit any field of an article (a publisher, or the article's owner): {"<field>": value, ..., "note"?,
    "fixes"?: [flag ids]}. Every edit stores the whole article as a new version with who, when and the note;
    "fixes" closes those open flags with this version. Answers the article as it is now, with "changed" (the
    fields), "flags_fixed" and "notified" (the people told of the change)."""
    data = dict(json_object())
    note, fixes = data.pop("note", ""), data.pop("fixes", None)
    if fixes is not None and not isinstance(fixes, list):
        abort(400, description="fixes must be a list of flag ids")
    return _edit_outcome(lambda: editing.edit(get_db(), cfg(), row_id(article_id, "article"), data, actor(),
                                              note=note, fixes=fixes))


def _may_read_history(art: dict) -> None:
    if not lifecycle.may_edit(actor(), art):
        abort(403, description="an article's history is for publishers and its owner")


@bp.get("/articles/<int:article_id>/versions")
@require("agent")
def article_versions(article_id: int):
    """Every version of an article, newest first, each the whole article with who, when and the note (publisher
    or owner)."""
    _may_read_history(_article_or_404(article_id))
    return jsonify({"article_id": article_id, "versions": versions.listing(get_db(), article_id)})


def _version_arg(name: str) -> int:
    raw = request.args.get(name, "")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        abort(400, description=f"{name} must be a version number")
    return int(raw)


@bp.get("/articles/<int:article_id>/diff")
@require("agent")
def article_diff(article_id: int):
    """What changed between two versions, field by field: ?from=N&to=M (publisher or owner)."""
    _may_read_history(_article_or_404(article_id))
    try:
        return jsonify(versions.diff(get_db(), article_id, _version_arg("from"), _version_arg("to")))
    except versions.VersionError as exc:
        abort(404, description=str(exc))


@bp.post("/articles/<int:article_id>/versions/<int:version>/restore")
@require("agent")
def restore_version(article_id: int, version: int):
    """Make the article read like version N again, as a new version (publisher or owner, as an edit)."""
    _article_or_404(article_id)
    try:
        return _edit_outcome(lambda: editing.restore(get_db(), cfg(), article_id, row_id(version, "version"),
                                                     actor()))
    except versions.VersionError as exc:
        abort(404, description=str(exc))


@bp.get("/flags")
@require("agent")
def flag_list():
    """Flags with their articles: ?status=open|resolved|fixed|rejected&owner=<name>&article_id=. Agents see the
    flags they own (their queue); leads and up see all."""
    status = request.args.get("status") or None
    if status not in (None, "open", "resolved", "fixed", "rejected"):
        abort(400, description="status must be open, resolved, fixed or rejected")
    who = actor()
    owner = request.args.get("owner")
    if not allows(who["role"], "lead"):
        if owner not in (None, who["name"]):
            abort(403, description="agents see their own flag queue only")
        owner = who["name"]
    article_id = request.args.get("article_id")
    if article_id is not None and not (article_id.isascii() and article_id.isdigit() and len(article_id) <= 18):
        abort(400, description="article_id must be an article id")
    return jsonify({"flags": flags.listing(get_db(), status=status, owner=owner,
                                           article_id=int(article_id) if article_id else None)})


@bp.post("/flags/<int:flag_id>/resolve")
@require("agent")
def resolve_flag(flag_id: int):
    """Close a flag: {"action": "reject", "note"} or {"action": "fixed", "version": n, "note"?} (the flag's or
    the article's owner, or a publisher). The agent who raised it is told."""
    return _edit_outcome(lambda: editing.resolve_flag(get_db(), cfg(), row_id(flag_id, "flag"), json_object(),
                                                      actor()))


@bp.get("/notices")
@require("agent")
def notice_list():
    """The caller's own notices, newest first, with read/unread: ?unread=1 for the unread only."""
    return jsonify(notices.for_recipient(get_db(), actor()["name"],
                                         unread_only=request.args.get("unread") in ("1", "true")))


@bp.post("/notices/read")
@require("agent")
def notices_read():
    """Mark the caller's notices read: {"ids": [..]}, or {} for all of them."""
    ids = json_object().get("ids")
    if ids is not None and not (isinstance(ids, list) and all(isinstance(i, int) and not isinstance(i, bool)
                                                              for i in ids)):
        abort(400, description="ids must be a list of notice ids")
    return jsonify({"marked": notices.mark_read(get_db(), actor()["name"], ids)})


@bp.get("/people")
@require("admin")
def people_list():
    """The people the sidecar can reach: name, display name, e-mail, locale (admin)."""
    return jsonify({"people": people.listing(get_db())})


@bp.put("/people/<name>")
@require("admin")
def person_set(name: str):
    """Set a person's display name, e-mail or locale: {"display_name"?, "email"?, "locale"?} (admin)."""
    try:
        return jsonify(people.set_contact(get_db(), name, json_object()))
    except people.PersonError as exc:
        abort(400, description=str(exc))
