"""Filling a macro's template with a ticket's details: sandboxed Jinja2, plain text out.

Autoescape is off because the result is the text of a helpdesk comment, not HTML; the sandbox keeps a
template from reaching Python internals. Variables a template may use:

    ticket.id, ticket.subject             the ticket
    requester.name, requester.first_name  the customer (also ticket.requester.*)
    agent.name, agent.first_name          the agent inserting the macro
    article.title, article.url            the article being shared, when one is given

A variable that is not given renders as nothing (never an error): `Hi {{ requester.first_name or "there" }}`.
Syntax errors, unsafe access and runtime errors become RenderError with a message for the author.
"""
from __future__ import annotations

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_OUTPUT = 20_000
ENV = SandboxedEnvironment(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True)


class RenderError(ValueError):
    """The macro's template cannot be rendered; the message says where and why."""


def _person(name) -> dict:
    name = str(name or "").strip()
    return {"name": name, "first_name": name.split()[0] if name else ""}


def context(ticket: dict | None = None, agent_name: str = "", article: dict | None = None) -> dict:
    """The variables a macro sees. `ticket` may carry id, subject, requester_name or requester{name}."""
    ticket = ticket or {}
    requester = ticket.get("requester")
    requester_name = requester.get("name") if isinstance(requester, dict) else ticket.get("requester_name")
    person = _person(requester_name)
    out = {"ticket": {"id": str(ticket.get("id") or ""), "subject": str(ticket.get("subject") or ""),
                      "requester": person},
           "requester": person, "agent": _person(agent_name)}
    if article:
        out["article"] = {"title": str(article.get("title") or ""), "url": str(article.get("url") or "")}
    return out


def check(body: str) -> None:
    """Raise RenderError when the template does not parse (used on import)."""
    try:
        ENV.parse(body)
    except TemplateSyntaxError as exc:
        raise RenderError(f"template syntax error on line {exc.lineno}: {exc.message}") from None


def render(body: str, ticket: dict | None = None, agent_name: str = "", article: dict | None = None) -> str:
    """The macro's text for this ticket; RenderError when the template is broken or unsafe."""
    check(body)
    parts, size = [], 0
    try:
        for chunk in ENV.from_string(body).generate(context(ticket, agent_name, article)):
            size += len(chunk)
            if size > MAX_OUTPUT:
                raise RenderError(f"the rendered text is longer than {MAX_OUTPUT} characters")
            parts.append(chunk)
    except RenderError:
        raise
    except SecurityError as exc:
        raise RenderError(f"unsafe template: {exc}") from None
    except Exception as exc:  # a template can raise anything Python can (TypeError, ZeroDivisionError, …)
        raise RenderError(f"template error: {type(exc).__name__}: {exc}") from None
    return "".join(parts)
