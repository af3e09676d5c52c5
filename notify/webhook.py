"""Post a notice as JSON to notify.webhook_url (a chat bridge, a ticketing rule, anything that takes a POST).

The receiver checks it came from this sidecar: X-KS-Signature is the hex HMAC-SHA256 of the raw body with
notify.webhook_secret (compare it in constant time over the bytes as received). The body carries `sent_at`, so a
receiver can refuse old replays, and X-KS-Notice-Id, the same on every retry of one notice, so it can drop
duplicates (the outbox delivers at least once).

Answers map as every helpdesk's do (integrations.base.error_for_status): 429 and 5xx are TransientError with the
receiver's Retry-After kept, refused credentials (401/403) are retried rarely, any other 4xx is PermanentError.
A redirect is not followed: the signed body goes only where it was configured to go.
"""
from __future__ import annotations

import hashlib
import hmac
import json

import requests

from integrations.base import PermanentError, TransientError, error_for_status

TIMEOUT_S = 15.0
SIGNATURE_HEADER = "X-KS-Signature"
NOTICE_HEADER = "X-KS-Notice-Id"


def signature(secret: str, raw: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body with the shared secret (what a receiver recomputes)."""
    return hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def body(payload: dict) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def post(nc: dict, payload: dict, session: requests.Session | None = None, timeout: float = TIMEOUT_S) -> None:
    """Send one notice; returns when the receiver answered 2xx, raises TransientError / PermanentError otherwise."""
    url, raw = nc["webhook_url"], body(payload)
    headers = {"Content-Type": "application/json; charset=utf-8",
               SIGNATURE_HEADER: signature(nc["webhook_secret"], raw),
               "User-Agent": "knowledge-sidecar-notify"}
    if payload.get("id") is not None:
        headers[NOTICE_HEADER] = str(payload["id"])
    try:
        resp = (session or requests).post(url, data=raw, headers=headers, timeout=timeout, allow_redirects=False)
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise TransientError(f"notify webhook unreachable: {exc.__class__.__name__}: {exc}") from None
    except requests.RequestException as exc:
        raise TransientError(f"notify webhook request failed: {exc}") from None
    if 300 <= resp.status_code < 400:
        raise PermanentError(f"notify webhook answered {resp.status_code} redirecting to "
                             f"{resp.headers.get('Location', '?')!r}: set notify.webhook_url to the final URL")
    if resp.status_code >= 400:
        text = resp.content[:300].decode("utf-8", "replace").strip()
        raise error_for_status(resp.status_code, f"notify webhook POST -> {resp.status_code} {text}".strip(),
                               resp.headers.get("Retry-After"), "notify.webhook_secret")
