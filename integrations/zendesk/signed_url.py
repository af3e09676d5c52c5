"""Zendesk app signed URLs: the JWT Zendesk POSTs (form field `token`) when it loads our sidebar iframe.

With `"signedUrls": true` in the app manifest, Zendesk sends the first request for a remote location URL as a
form POST carrying `token`, a ZAF JWT signed with RS256 and the app's private key (developer.zendesk.com,
"Authenticating Zendesk in your server-side app"; "Building a server-side app, part 5: securing the app"). The
app's public key comes from the Apps API (GET /api/v2/apps/{app_id}/public_key.pem) or is pasted by the admin.

Claims Zendesk sets:
  iss      the account's host, e.g. "acme.zendesk.com"
  aud      the app installation, https://acme.zendesk.com/api/v2/apps/installations/<id>.json
  sub      the agent, https://acme.zendesk.com/api/v2/users/<id>.json
  exp/iat  a short lifetime (minutes)
  context  {"product": "support", "location": "ticket_sidebar"}
The ticket id and the agent's name are NOT in the token: the page asks the ZAF client for the ticket id, and the
server reads the agent's name from the Zendesk API for the verified user id (integrations/zendesk/account.py).

HS256 with a shared secret is accepted only when zendesk.dev_signed_url_secret is set: a development stand-in for
Zendesk, off by default. A token whose header names any other algorithm is refused before its signature is read.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

LEEWAY_S = 60
USER_RE = re.compile(r"/users/(\d+)(?:\.json)?/?$")
INSTALLATION_RE = re.compile(r"/apps/installations/(\d+)(?:\.json)?/?$")


class SignedUrlError(ValueError):
    """The signed-URL token is missing, expired, forged or for another account or installation."""


class PublicKeyError(ValueError):
    """The configured or fetched app public key is not an RSA public key in PEM form."""


@dataclass(frozen=True)
class ZendeskAgent:
    """Who opened the sidebar, as Zendesk's signed token says."""
    subdomain: str
    user_id: str
    location: str
    installation_id: str

    @property
    def name(self) -> str:
        """The agent's stable id in events and reports."""
        return f"zendesk:{self.subdomain}:user:{self.user_id}"


def host(subdomain: str) -> str:
    return f"{subdomain}.zendesk.com"


def audience(subdomain: str, installation_id: int | str) -> str:
    """The `aud` Zendesk puts in tokens for one app installation."""
    return f"https://{host(subdomain)}/api/v2/apps/installations/{installation_id}.json"


def load_public_key(pem: str) -> RSAPublicKey:
    try:
        key = load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise PublicKeyError(f"not a PEM public key ({exc})") from None
    if not isinstance(key, RSAPublicKey):
        raise PublicKeyError("the key is not an RSA public key (Zendesk signs with RS256)")
    return key


def _key_for(token: str, public_key_pem: str, dev_secret: str):
    """The key the token's algorithm needs, or SignedUrlError: RS256 with the app's public key; HS256 only with
    the development secret; nothing else."""
    try:
        alg = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError as exc:
        raise SignedUrlError(f"the signed-URL token is not a JWT: {exc}") from None
    if alg == "RS256":
        if not public_key_pem:
            raise SignedUrlError("the Zendesk app's public key is not configured here (set zendesk.app_public_key, "
                                 "or zendesk.app_id with API credentials so it can be fetched)")
        try:
            return alg, load_public_key(public_key_pem)
        except PublicKeyError as exc:
            raise SignedUrlError(f"the Zendesk app's public key cannot be used: {exc}") from None
    if alg == "HS256" and dev_secret:
        return alg, dev_secret
    if alg == "HS256":
        raise SignedUrlError("the token is signed with HS256, which only a development setup accepts "
                             "(zendesk.dev_signed_url_secret); Zendesk signs with RS256")
    raise SignedUrlError(f"the token is signed with {alg!r}; Zendesk signs with RS256")


def verify(token: str, *, subdomain: str, installation_id: int | str, public_key_pem: str = "",
           dev_secret: str = "") -> ZendeskAgent:
    """Check signature, expiry, issue time, issuer and audience; return who opened the app."""
    if not subdomain:
        raise SignedUrlError("zendesk.subdomain is not set, so the token's issuer cannot be checked")
    if not installation_id:
        raise SignedUrlError("zendesk.app_installation_id is not set, so the token's app installation cannot be "
                             "checked")
    if not token:
        raise SignedUrlError("no signed-URL token was sent (form field 'token')")
    alg, key = _key_for(token, public_key_pem, dev_secret)
    aud = audience(subdomain, installation_id)
    try:
        claims = jwt.decode(token, key, algorithms=[alg], audience=aud, leeway=LEEWAY_S,
                            options={"require": ["exp", "iat", "iss", "sub", "aud"]})
    except jwt.ExpiredSignatureError:
        raise SignedUrlError("the signed-URL token has expired; reload the ticket") from None
    except jwt.ImmatureSignatureError:
        raise SignedUrlError("the signed-URL token is issued in the future; check this server's clock") from None
    except jwt.InvalidSignatureError:
        raise SignedUrlError("the token's signature does not match this Zendesk app's key") from None
    except jwt.InvalidAudienceError:
        raise SignedUrlError(f"the token is for another app installation, not {aud}") from None
    except jwt.PyJWTError as exc:
        raise SignedUrlError(f"the signed-URL token is not valid: {exc}") from None
    expected = host(subdomain)
    if claims["iss"] not in (expected, f"https://{expected}"):
        raise SignedUrlError(f"the token was issued by {claims['iss']!r}, not by {expected}")
    context = claims.get("context") if isinstance(claims.get("context"), dict) else {}
    if context.get("product") not in (None, "support"):
        raise SignedUrlError(f"the token is for Zendesk {context.get('product')!r}, not Support")
    match = USER_RE.search(str(claims["sub"]))
    if not match:
        raise SignedUrlError("the token names no Zendesk user (sub)")
    return ZendeskAgent(subdomain=subdomain, user_id=match.group(1), location=str(context.get("location") or ""),
                        installation_id=str(installation_id))


def sign_for_tests(key, subdomain: str, user_id: str = "1001", lifetime_s: int = 300, issued_at: int | None = None,
                   installation_id: int | str = "424242", algorithm: str = "RS256", issuer: str | None = None) -> str:
    """A token shaped like Zendesk's, for tests and local tries: `key` is an RSA private key (RS256, as Zendesk
    signs) or, with algorithm="HS256", the development secret."""
    now = int(time.time()) if issued_at is None else issued_at
    claims = {"iss": issuer or host(subdomain), "aud": audience(subdomain, installation_id),
              "sub": f"https://{host(subdomain)}/api/v2/users/{user_id}.json", "iat": now, "nbf": now,
              "exp": now + lifetime_s, "qsh": "", "context": {"product": "support", "location": "ticket_sidebar"}}
    return jwt.encode(claims, key, algorithm=algorithm)
