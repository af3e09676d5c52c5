"""Write-back to Zendesk through zenpy: internal note, tags, custom field, and fetching a ticket.

Retries belong to the worker, not to zenpy: zenpy sleeps through a 429 inside its own call
(zenpy.lib.api.BaseApi._call_api). We hand zenpy a requests.Session whose response hook raises
before zenpy sees the answer: TransientError (with Retry-After) on 409, 429 and 5xx; also on 401/403
(refused credentials: retried every 15 minutes, since an admin can fix them and nothing should be
lost); PermanentError on any other 4xx. Network failures become TransientError; zenpy's own
exceptions are mapped too.

Requests zenpy sends (checked against tests/fake_zendesk.py):
  note       PUT /api/v2/tickets/{id}.json       {"ticket": {"id": 1, "comment": {"body": "...", "public": false},
                                                               "additional_tags": ["ks_suggested"]}}
  tags       PUT /api/v2/tickets/{id}/tags.json  {"tags": ["ks_suggested", ...]}   (adds; keeps existing tags)
  set_field  PUT /api/v2/tickets/{id}.json       {"ticket": {"custom_fields": [{"id": 360…, "value": "a/b"}],
                                                               "additional_tags": ["ks_suggested"], "id": 1}}
  fetch      GET /api/v2/tickets/{id}.json, then GET /api/v2/users/{requester_id}.json for the locale
Auth is API-token basic auth: user "{email}/token", password the token.

Loop guard. Every write adds zendesk.loop_guard_tag (default ks_suggested). An API update cannot be
given a distinctive `via` (Zendesk sets via.channel "api" for every API client), so the guard is
admin-side: the trigger that notifies our webhook needs the condition "Tags contains none of
ks_suggested" (see integrations/zendesk/trigger.py); and the webhook intake ignores a delivery for
a ticket it already handled that carries the tag.

Zenpy's object cache is disabled: the worker is long-lived and must read the ticket as it is now.
"""
from __future__ import annotations

import email.utils
import os
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests
from zenpy import Zenpy
from zenpy.lib.api_objects import Comment, CustomField, Ticket
from zenpy.lib.exception import APIException, RatelimitBudgetExceeded, RecordNotFoundException, ZenpyException

from integrations.base import IntegrationError, PermanentError, TransientError

INTEGRATION = "zendesk"
TIMEOUT_S = 30.0
CREDENTIALS_RETRY_S = 900.0


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def error_for(status: int, message: str, retry_after: str | None = None) -> IntegrationError:
    """The typed error for a non-2xx Zendesk answer."""
    if status in (409, 429) or status >= 500:
        return TransientError(message, parse_retry_after(retry_after), status=status)
    if status in (401, 403):
        # Credentials can be fixed by an admin: keep the job, retry rarely, lose nothing.
        return TransientError(message + " (check KS_ZENDESK_EMAIL and KS_ZENDESK_API_TOKEN)", CREDENTIALS_RETRY_S,
                              status=status)
    error = PermanentError(message)
    error.status = status
    return error


def _raise_for_status(response: requests.Response, *args, **kwargs) -> requests.Response:
    """requests response hook: turn Zendesk errors into our typed errors before zenpy sees them."""
    if response.status_code < 400:
        return response
    body = response.content[:300].decode("utf-8", "replace").strip()
    message = f"{response.request.method} {urlsplit(response.url).path} -> {response.status_code} {body}".strip()
    raise error_for(response.status_code, message, response.headers.get("Retry-After"))


def session() -> requests.Session:
    s = requests.Session()
    s.hooks["response"].append(_raise_for_status)
    return s


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)


def _ticket_id(ticket_id) -> int:
    text = str(ticket_id).strip()
    if not text.isdigit():
        raise PermanentError(f"{ticket_id!r} is not a Zendesk ticket id")
    return int(text)


class ZendeskClient:
    """integrations.base.WriteBack for Zendesk."""

    integration = INTEGRATION

    def __init__(self, subdomain: str, email: str, api_token: str, loop_guard_tag: str = "ks_suggested",
                 timeout: float = TIMEOUT_S):
        self.loop_guard_tag = loop_guard_tag
        self.subdomain, self.timeout = subdomain, timeout
        self.session = session()
        self.zenpy = Zenpy(subdomain=subdomain, email=email, token=api_token, session=self.session,
                           timeout=timeout, disable_cache=True)

    def base_url(self) -> str:
        """https://<subdomain>.zendesk.com, or what zenpy's documented ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC say
        (tests point both zenpy and these calls at the fake on loopback)."""
        scheme = os.environ.get("ZENPY_FORCE_SCHEME", "https")
        netloc = os.environ.get("ZENPY_FORCE_NETLOC") or f"{self.subdomain}.zendesk.com"
        return f"{scheme}://{netloc}"

    def api(self, method: str, path: str, json: dict | None = None, params: dict | None = None,
            text: bool = False):
        """One call to an endpoint zenpy does not wrap (Help Center, app keys ...), through the same session: the
        same credentials, and the same typed errors (TransientError / PermanentError) for the worker's one retry
        loop. Returns the decoded JSON, or the body as text when `text`."""
        def call():
            resp = self.session.request(method, self.base_url() + path, json=json, params=params,
                                        timeout=self.timeout)
            return resp.text if text else (resp.json() if resp.content else {})
        return self._call(call)

    def _call(self, fn, *args):
        try:
            return fn(*args)
        except IntegrationError:
            raise
        except RecordNotFoundException as exc:
            error = PermanentError(f"not found: {exc}")
            error.status = 404
            raise error from None
        except APIException as exc:
            status = exc.response.status_code if exc.response is not None else 400
            raise error_for(status, f"zendesk {status}: {exc}") from None
        except RatelimitBudgetExceeded as exc:
            raise TransientError(f"rate limited: {exc}") from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"zendesk unreachable: {exc.__class__.__name__}: {exc}") from None
        except requests.RequestException as exc:
            raise TransientError(f"request failed: {exc}") from None
        except ValueError as exc:     # a 2xx answer that is not the JSON the API documents
            raise TransientError(f"zendesk answered something that is not JSON: {exc}") from None
        except ZenpyException as exc:
            raise PermanentError(f"zenpy: {exc}") from None

    def _guard(self, tags: list[str]) -> list[str]:
        out = [t for t in dict.fromkeys(str(t).strip() for t in tags) if t]
        if self.loop_guard_tag and self.loop_guard_tag not in out:
            out.append(self.loop_guard_tag)
        return out

    def add_internal_note(self, ticket_id, body: str) -> None:
        # zenpy serialises only attributes set after construction, so set them one by one.
        ticket = Ticket(id=_ticket_id(ticket_id))
        ticket.comment = Comment(body=body, public=False)
        ticket.additional_tags = self._guard([])
        self._call(self.zenpy.tickets.update, ticket)

    def add_tags(self, ticket_id, tags: list[str]) -> None:
        self._call(self.zenpy.tickets.add_tags, _ticket_id(ticket_id), self._guard(list(tags)))

    def set_custom_field(self, ticket_id, field_id, value) -> None:
        ticket = Ticket(id=_ticket_id(ticket_id))
        ticket.custom_fields = [CustomField(id=int(field_id), value=value)]
        ticket.additional_tags = self._guard([])
        self._call(self.zenpy.tickets.update, ticket)

    def all_ticket_fields(self) -> list[dict]:
        """Every ticket field of the account as Zendesk's JSON (zenpy ticket_fields(), all pages)."""
        return self._call(lambda: [f.to_dict() for f in self.zenpy.ticket_fields()])

    def fetch_ticket(self, ticket_id) -> dict:
        t = self._call(lambda: self.zenpy.tickets(id=_ticket_id(ticket_id)))
        fields = {}
        for f in t.custom_fields or []:
            if f.get("value") not in (None, "", []):
                fields[str(f["id"])] = f["value"]
        locale = None
        if t.requester_id:
            try:
                locale = self._call(lambda: self.zenpy.users(id=t.requester_id)).locale
            except PermanentError:
                locale = None  # requester not readable: the ticket text decides the language
        return {"id": str(t.id), "subject": t.subject or "", "description": t.description or "",
                "tags": list(t.tags or []), "fields": fields, "form_id": _text(t.ticket_form_id),
                "brand_id": _text(t.brand_id), "requester_id": _text(t.requester_id), "locale": locale}


def from_config(cfg: dict) -> ZendeskClient | None:
    """The client, or None when subdomain, email or api_token is not configured."""
    zc = cfg["zendesk"]
    if not (zc["subdomain"] and zc["email"] and zc["api_token"]):
        return None
    return ZendeskClient(zc["subdomain"], zc["email"], zc["api_token"], zc["loop_guard_tag"])
