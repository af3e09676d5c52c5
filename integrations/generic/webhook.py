"""A generic JSON webhook in: the source's secret or HMAC-SHA256 signature checked in constant time, the ticket read
from the body through the source's JSON paths (integrations/generic/config.py says how a source is described).

Auth, per source:
- shared-secret: the header carries the configured secret itself (as Freshdesk, or a tool with only custom
  headers, can send);
- hmac-sha256: the header carries [prefix] + hex or base64 of HMAC-SHA256(secret, raw body), the common scheme of
  signed webhooks (GitHub's X-Hub-Signature-256 "sha256=<hex>", Shopify's base64 X-Shopify-Hmac-Sha256).

Every delivery is read as the ticket's creation: the first for a ticket gets suggestions; a later one for the same
ticket is kept and answered `ignored` (tickets/deliveries.py), so a tool that posts on every update does no harm.
The dedupe key is the source's delivery id header when it sends one, else the SHA-256 of the body (a redelivery
of the same body is a duplicate).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping

from integrations.base import Change, Delivery, PayloadError, SignatureError, Ticket, html_to_text
from integrations.generic.config import GenericSource
from store import clock
from store.values import storable

ID_RE = re.compile(r"[A-Za-z0-9._:-]{1,100}")
HTML_HINT = re.compile(r"<(p|div|br|span|b|i|a|ul|ol|li|table|img|h[1-6])\b", re.IGNORECASE)
MISSING = object()


def lookup(payload, path: tuple[str, ...]):
    """The value at a dotted path (list items by index), or MISSING."""
    node = payload
    for segment in path:
        if isinstance(node, dict) and segment in node:
            node = node[segment]
        elif isinstance(node, list) and segment.isdigit() and int(segment) < len(node):
            node = node[int(segment)]
        else:
            return MISSING
    return node


def _text(value) -> str:
    if value is MISSING or value is None or isinstance(value, dict | list):
        return ""
    return storable(str(value))


def _tags(value) -> list[str]:
    if value is MISSING or value in (None, ""):
        return []
    if isinstance(value, str):
        return [t for t in storable(value).replace(",", " ").split() if t]
    if isinstance(value, list):
        return [t for t in (_text(v).strip() for v in value) if t]
    raise PayloadError("tags must be a list or text separated by commas or spaces")


def _clean(value):
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v) for k, v in value.items()}
    return value


def _fields(value) -> dict:
    if value is MISSING or value in (None, ""):
        return {}
    if isinstance(value, dict):
        return {storable(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        out = {}
        for item in value:
            if not isinstance(item, dict) or "id" not in item:
                raise PayloadError("fields given as a list must hold objects with id and value")
            out[storable(str(item["id"]))] = _clean(item.get("value"))
        return out
    raise PayloadError("fields must be an object or a list of {id, value}")


class GenericReceiver:
    """integrations.base.Receiver for one configured source."""

    def __init__(self, source: GenericSource):
        self.source = source

    def expected(self, raw: bytes) -> str:
        mac = hmac.new(self.source.secret.encode("utf-8"), raw, hashlib.sha256).digest()
        text = base64.b64encode(mac).decode("ascii") if self.source.encoding == "base64" else mac.hex()
        return self.source.prefix + text

    def check(self, headers: Mapping[str, str], raw: bytes, cfg: dict) -> None:
        sent = headers.get(self.source.header, "")
        if not sent:
            raise SignatureError(f"missing {self.source.header} (generic source {self.source.name})")
        wanted = self.expected(raw) if self.source.auth == "hmac-sha256" else self.source.secret
        if not hmac.compare_digest(wanted.encode("utf-8"), sent.strip().encode("utf-8")):
            what = "signature" if self.source.auth == "hmac-sha256" else "secret"
            raise SignatureError(f"{self.source.header}: the {what} does not match (generic source {self.source.name})")

    def read(self, payload) -> Delivery:
        if not isinstance(payload, dict):
            raise PayloadError("the body must be a JSON object")
        paths = self.source.paths

        def at(key: str):
            return lookup(payload, paths[key]) if key in paths else MISSING

        raw_id = at("id")
        ticket_id = _text(raw_id).strip() if not isinstance(raw_id, bool) else ""
        if not ID_RE.fullmatch(ticket_id):
            where = ".".join(paths["id"])
            raise PayloadError(f"no ticket id at {where} (letters, digits, . _ : - and at most 100), got "
                               f"{None if raw_id is MISSING else raw_id!r}")
        subject, description = _text(at("subject")).strip(), _text(at("description"))
        if HTML_HINT.search(description):
            description = html_to_text(description)
        if not (subject or description.strip()):
            raise PayloadError("the delivery carries neither a subject nor a description at the configured paths")
        status = _text(at("status")).strip().lower()[:40] or None
        fields = _fields(at("fields"))
        ticket = Ticket(integration=self.source.name, external_id=ticket_id, subject=subject,
                        description=description.strip(), tags=_tags(at("tags")), fields=fields,
                        locale=_text(at("locale")).strip()[:40] or None, status=status)
        return Delivery(ticket=ticket, creation=True, event="created",
                        change=Change("created", "created", clock.now(), current=status or "new"))

    def delivery_id(self, headers: Mapping[str, str], raw: bytes) -> str:
        own = headers.get(self.source.delivery_id_header, "").strip() if self.source.delivery_id_header else ""
        return storable(own)[:200] if own else "sha256:" + hashlib.sha256(raw).hexdigest()

    def signed_at(self, headers: Mapping[str, str]) -> str:
        return ""
