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

import time

from jinja2 import ChainableUndefined, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

MAX_OUTPUT = 20_000
MAX_RANGE = 1_000               # items one range() may give
MAX_SECONDS = 2.0               # a render that takes longer is stopped at its next range() or output


class _Sandbox(SandboxedEnvironment):
    """The sandbox, bounded in work too: a macro is text for one comment, so no range() longer than
    MAX_RANGE, no string or list multiplied past MAX_OUTPUT, no huge powers, no lorem-ipsum generator,
    and a time budget checked on every range() and every piece of output."""

    intercepted_binops = frozenset(["*", "**"])

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
            raise RenderError("template error: exponent too large")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and len(seq) * times > MAX_OUTPUT:
                    raise RenderError(f"template error: a repeated text longer than {MAX_OUTPUT} characters")
        return super().call_binop(context, operator, left, right)


def _deadline_check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise RenderError(f"the template took longer than {MAX_SECONDS:g} s to render")


ENV = _Sandbox(autoescape=False, undefined=ChainableUndefined, keep_trailing_newline=True)
for _name in ("lipsum", "cycler", "joiner"):
    ENV.globals.pop(_name, None)


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
    return fill(body, context(ticket, agent_name, article))


def fill(body: str, variables: dict) -> str:
    """The template rendered with these variables, in the sandbox and within its bounds (time, range, size);
    RenderError when it is broken or unsafe. `render` gives it a ticket's variables; a push to a helpdesk gives
    it the helpdesk's placeholders (sync/macros.py)."""
    check(body)
    parts, size = [], 0
    deadline = time.monotonic() + MAX_SECONDS

    def bounded_range(*args):
        _deadline_check(deadline)
        items = range(*args)
        if len(items) > MAX_RANGE:
            raise RenderError(f"template error: range() of more than {MAX_RANGE} items")
        return items

    try:
        for chunk in ENV.from_string(body).generate(variables, range=bounded_range):
            _deadline_check(deadline)
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
