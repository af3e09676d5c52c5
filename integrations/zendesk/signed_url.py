"""Zendesk app signed URLs: the JWT Zendesk POSTs (form field `token`) when it loads our sidebar iframe.

With `"signedUrls": true` in the app manifest, Zendesk sends the first request for a remote location
URL as a form POST carrying `token`, a JWT. Zendesk signs it with RS256 by default; when the app
has a secure setting named `shared_secret`, it signs with HS256 using that value. We use the
shared secret (config `zendesk.app_shared_secret`, entered by the admin at install time).

Claims Zendesk sets (developer.zendesk.com, "Authenticating Zendesk in your server-side app"):
  iss      the account's host, e.g. "acme.zendesk.com"
  aud      the app installation URL, https://acme.zendesk.com/api/v2/apps/installations/<id>.json
  sub      the agent, https://acme.zendesk.com/api/v2/users/<id>.json
  exp/iat/nbf  a short lifetime (minutes)
  context  {"product": "support", "location": "ticket_sidebar"}
The ticket id is NOT in the token: inside Zendesk the page asks the ZAF client for it.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt

LEEWAY_S = 30
USER_RE = re.compile(r"/users/(\d+)(?:\.json)?/?$")


class SignedUrlError(ValueError):
    """The signed-URL token is missing, expired, forged or for another account."""


@dataclass(frozen=True)
class ZendeskAgent:
    subdomain: str
    user_id: str
    location: str

    @property
    def name(self) -> str:
        return f"zendesk:{self.subdomain}:user:{self.user_id}"


def _host(subdomain: str) -> str:
    return f"{subdomain}.zendesk.com"


def verify(token: str, shared_secret: str, subdomain: str) -> ZendeskAgent:
    """Check signature (HS256 only), expiry, issuer and audience; return who opened the app."""
    if not shared_secret:
        raise SignedUrlError("signed URLs are not configured here (set zendesk.app_shared_secret)")
    if not subdomain:
        raise SignedUrlError("zendesk.subdomain is not set, so the token's issuer cannot be checked")
    if not token:
        raise SignedUrlError("no signed-URL token was sent (form field 'token')")
    try:
        claims = jwt.decode(token, shared_secret, algorithms=["HS256"], leeway=LEEWAY_S,
                            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False})
    except jwt.ExpiredSignatureError:
        raise SignedUrlError("the signed-URL token has expired; reload the ticket") from None
    except jwt.InvalidSignatureError:
        raise SignedUrlError("the signed-URL token's signature does not match the shared secret") from None
    except jwt.PyJWTError as exc:
        raise SignedUrlError(f"the signed-URL token is not valid: {exc}") from None
    host = _host(subdomain)
    if claims["iss"] not in (host, f"https://{host}"):
        raise SignedUrlError(f"the token was issued by {claims['iss']!r}, not by {host}")
    aud = claims.get("aud")
    if aud is not None and not (isinstance(aud, str) and aud.startswith(f"https://{host}/")):
        raise SignedUrlError("the token's audience is not an app installation of this Zendesk account")
    context = claims.get("context") if isinstance(claims.get("context"), dict) else {}
    if context.get("product") not in (None, "support"):
        raise SignedUrlError(f"the token is for Zendesk {context.get('product')!r}, not Support")
    sub = str(claims["sub"])
    match = USER_RE.search(sub)
    user_id = match.group(1) if match else sub
    if not user_id.strip():
        raise SignedUrlError("the token names no agent (sub)")
    return ZendeskAgent(subdomain=subdomain, user_id=user_id[:100], location=str(context.get("location") or ""))


def sign_for_tests(shared_secret: str, subdomain: str, user_id: str = "1001", lifetime_s: int = 300,
                   issued_at: int | None = None, installation_id: str = "424242") -> str:
    """A token shaped like Zendesk's, for local tries and tests (signed with the same shared secret)."""
    now = int(time.time()) if issued_at is None else issued_at
    host = _host(subdomain)
    claims = {"iss": host, "aud": f"https://{host}/api/v2/apps/installations/{installation_id}.json",
              "sub": f"https://{host}/api/v2/users/{user_id}.json", "iat": now, "nbf": now,
              "exp": now + lifetime_s, "context": {"product": "support", "location": "ticket_sidebar"}}
    return jwt.encode(claims, shared_secret, algorithm="HS256")
