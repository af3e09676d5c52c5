"""Who may change what in an article: the KCS states and who moves an article between them, and which fields
the article's owner may edit without a publisher.

States: wip (captured, being written) → not_validated (ready for review) → validated (trusted, reused) →
archived (no longer offered). The owner (the person named in the article's owner) may:
- edit every content field (title, body, the KCS fields, keywords, type, language, translation group,
  taxonomy node, review-by date) of their own article;
- move it wip ↔ not_validated, and validated → not_validated (it needs another look).
A publisher (or admin) may do all of that on any article, and also validate, archive and bring back from the
archive, make an article public, and give it another owner. Anyone else may change nothing.
"""
from __future__ import annotations

from api_tokens.tokens import allows

OWNER_FIELDS = ("title", "body", "issue", "environment", "resolution", "cause", "keywords", "type", "language",
                "translation_group", "taxonomy", "review_by")
OWNER_MOVES = {("wip", "not_validated"), ("not_validated", "wip"), ("validated", "not_validated")}


class NotAllowed(PermissionError):
    """The caller may not make this change (403); the message says who may."""


def is_owner(actor: dict, article: dict) -> bool:
    return bool(article.get("owner")) and actor.get("name") == article["owner"]


def may_edit(actor: dict, article: dict) -> bool:
    """Whether the caller may open the article's edit form at all."""
    return allows(actor.get("role", ""), "publisher") or is_owner(actor, article)


def check(actor: dict, article: dict, changes: dict) -> None:
    """NotAllowed unless the caller may make every one of these changes (field -> new value) to the article."""
    if allows(actor.get("role", ""), "publisher"):
        return
    if not is_owner(actor, article):
        raise NotAllowed("only a publisher or the article's owner "
                         f"({article.get('owner') or 'none yet'}) may change this article")
    for field, value in changes.items():
        if value == article.get(field):
            continue
        if field == "state":
            if (article["state"], value) not in OWNER_MOVES:
                raise NotAllowed(f"moving an article from {article['state']} to {value} needs a publisher; its owner "
                                 "may move wip ↔ not_validated and validated → not_validated")
        elif field == "visibility":
            if value == "public":
                raise NotAllowed("making an article public needs a publisher")
        elif field not in OWNER_FIELDS:
            raise NotAllowed(f"changing {field} needs a publisher")
