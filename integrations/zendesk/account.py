"""What the sidecar reads about the Zendesk account itself, cached in the database for every process: the sidebar
app's public key, agents' display names, the account's ticket fields.

Each is read through the Zendesk API with the configured credentials (zendesk.subdomain, email, api_token) and
kept in store.cache; a failed read raises the integration's typed errors, or answers from an older cached copy
where one exists.
"""
from __future__ import annotations

import sqlite3

from integrations.base import IntegrationError
from integrations.zendesk import signed_url
from integrations.zendesk.client import ZendeskClient, from_config
from store import cache

PUBLIC_KEY = "zendesk:app:{app_id}:public_key"
AGENT_NAME = "zendesk:user:{user_id}:name"
TICKET_FIELDS = "zendesk:ticket_fields"


class AccountError(Exception):
    """The account cannot be read (not configured, or Zendesk refused or is unreachable)."""


def _client(cfg: dict) -> ZendeskClient:
    client = from_config(cfg)
    if client is None:
        raise AccountError("the Zendesk API is not configured (zendesk.subdomain, email and api_token)")
    return client


def app_public_key(conn: sqlite3.Connection, cfg: dict) -> str:
    """The sidebar app's public key (PEM): zendesk.app_public_key when given, else fetched once through the Apps
    API (GET /api/v2/apps/{app_id}/public_key.pem) and cached. Empty when neither is configured."""
    zc = cfg["zendesk"]
    if zc["app_public_key"]:
        return zc["app_public_key"]
    if not zc["app_id"]:
        return ""
    key = PUBLIC_KEY.format(app_id=zc["app_id"])
    pem = cache.get(conn, key)
    if pem:
        return pem
    try:
        pem = _client(cfg).api("GET", f"/api/v2/apps/{zc['app_id']}/public_key.pem", text=True).strip()
        signed_url.load_public_key(pem)
    except (IntegrationError, signed_url.PublicKeyError) as exc:
        raise AccountError(f"the public key of Zendesk app {zc['app_id']} could not be read: {exc}") from None
    cache.put(conn, key, pem)
    return pem


def agent_name(conn: sqlite3.Connection, cfg: dict, user_id: str) -> str:
    """An agent's display name as Zendesk has it (GET /api/v2/users/{id}.json), cached for zendesk.cache_ttl_s;
    an older copy, or "", when Zendesk cannot be asked."""
    key = AGENT_NAME.format(user_id=user_id)
    fresh = cache.get(conn, key, max_age_s=cfg["zendesk"]["cache_ttl_s"])
    if fresh is not None:
        return fresh
    try:
        user = _client(cfg).api("GET", f"/api/v2/users/{int(user_id)}.json").get("user") or {}
    except (AccountError, IntegrationError, ValueError):
        return cache.get(conn, key) or ""
    name = str(user.get("name") or "").strip()[:200]
    cache.put(conn, key, name)
    return name


def sign_in(conn: sqlite3.Connection, cfg: dict, token: str) -> tuple[signed_url.ZendeskAgent, str]:
    """The agent who opened the sidebar, from Zendesk's signed token, with their display name.
    SignedUrlError when the token is not Zendesk's for this account and installation."""
    zc = cfg["zendesk"]
    try:
        pem = app_public_key(conn, cfg)
    except AccountError as exc:
        raise signed_url.SignedUrlError(str(exc)) from None
    agent = signed_url.verify(token, subdomain=zc["subdomain"], installation_id=zc["app_installation_id"],
                              public_key_pem=pem, dev_secret=zc["dev_signed_url_secret"])
    return agent, agent_name(conn, cfg, agent.user_id)


def ticket_fields(conn: sqlite3.Connection, cfg: dict, refresh: bool = False) -> dict:
    """The account's ticket fields and their options, {"fields": [...], "fetched_at"}, cached for
    zendesk.cache_ttl_s (`refresh` reads them again). Each field: id, type, title, active, options
    [{name, value}] (custom options of drop-downs and multi-selects, or the system options)."""
    fields = None if refresh else cache.get(conn, TICKET_FIELDS, max_age_s=cfg["zendesk"]["cache_ttl_s"])
    if fields is None:
        try:
            fields = [_field(f) for f in _client(cfg).all_ticket_fields()]
        except IntegrationError as exc:
            stale = cache.get(conn, TICKET_FIELDS)
            if stale is None:
                raise AccountError(f"the ticket fields could not be read: {exc}") from None
            return {"fields": stale, "fetched_at": cache.fetched_at(conn, TICKET_FIELDS), "stale": True,
                    "error": str(exc)}
        cache.put(conn, TICKET_FIELDS, fields)
    return {"fields": fields, "fetched_at": cache.fetched_at(conn, TICKET_FIELDS), "stale": False}


def _field(raw: dict) -> dict:
    options = raw.get("custom_field_options") or raw.get("system_field_options") or []
    return {"id": str(raw.get("id")), "type": raw.get("type"), "title": raw.get("title") or "",
            "active": bool(raw.get("active", True)), "tag": raw.get("tag"),
            "options": [{"name": o.get("name") or "", "value": o.get("value")} for o in options]}
