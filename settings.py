"""Configuration: config.yaml defaults, then KS_* environment overrides, then an explicit mapping.

The defaults file is the schema: each key's type is the type of its documented default. Anything
unknown or of the wrong type stops start-up with a ConfigError naming the key.
"""
from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent
DEFAULTS_FILE = ROOT / "config.yaml"

CHOICES = {
    ("zendesk", "write_back"): {"note_and_tags", "note", "tags", "off"},
    ("zammad", "write_back"): {"note_and_tags", "note", "tags", "off"},
    ("freshdesk", "write_back"): {"note_and_tags", "note", "tags", "off"},
    ("suggest", "default_language"): {"en", "de", "pl", "ru"},
}
POSITIVE = {("server", "max_body_bytes"), ("server", "session_ttl_s"), ("zendesk", "replay_window_s"),
            ("suggest", "limit"), ("worker", "poll_seconds"), ("worker", "max_attempts"),
            ("worker", "backoff_base_s"), ("worker", "claim_timeout_s"), ("zendesk", "cache_ttl_s"),
            ("notify", "smtp_port"), ("notify", "reuse_days"), ("audit", "unused_days"), ("audit", "flag_open_days")}
NOT_NEGATIVE = {("zendesk", "app_id"), ("zendesk", "app_installation_id"), ("zendesk", "taxonomy_field_id"),
                ("zendesk", "help_center_permission_group_id"), ("zendesk", "help_center_user_segment_id")}
LANGUAGES = ("en", "de", "pl", "ru")
# A helpdesk's base URL: http(s)://host[:port], no path (http:// for a local fake).
BASE_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d{1,5})?/?")
# An origin allowed to frame the widget: https://host[:port] (a leading *. allowed), or http:// on loopback.
FRAME_ANCESTOR = re.compile(r"https://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?"
                            r"|http://(127\.0\.0\.1|localhost)(:\d{1,5})?", re.IGNORECASE)


class ConfigError(Exception):
    """A configuration key is unknown or its value is not acceptable."""


def _defaults() -> dict:
    with DEFAULTS_FILE.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _coerce(key: str, value: Any, default: Any) -> Any:
    """Turn value (from YAML, env or a mapping) into the type of default, or raise ConfigError."""
    kind = type(default)
    if isinstance(value, str) and kind is not str:
        text = value.strip()
        if kind is bool:
            if text.lower() in {"1", "true", "yes", "on"}:
                return True
            if text.lower() in {"0", "false", "no", "off"}:
                return False
            raise ConfigError(f"{key}: expected true/false, got {value!r}")
        if kind is list:
            return [p.strip() for p in text.split(",") if p.strip()]
        try:
            return kind(text)
        except ValueError:
            raise ConfigError(f"{key}: expected {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if value is None and kind is str:
        return ""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {kind.__name__}, got {value!r}")
    return value


def _merge(base: dict, layer: Mapping, defaults: dict, prefix: str = "") -> None:
    for key, value in layer.items():
        name = f"{prefix}{key}"
        if key not in defaults:
            raise ConfigError(f"{name}: unknown configuration key")
        if isinstance(defaults[key], dict):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{name}: expected a section (mapping), got {value!r}")
            _merge(base[key], value, defaults[key], name + ".")
        else:
            base[key] = _coerce(name, value, defaults[key])


def _env_layer(defaults: dict, environ: Mapping[str, str]) -> dict:
    layer: dict = {}
    known = set()
    for key, value in defaults.items():
        if isinstance(value, dict):
            for sub in value:
                env = f"KS_{key}_{sub}".upper()
                known.add(env)
                if env in environ:
                    layer.setdefault(key, {})[sub] = environ[env]
        else:
            env = f"KS_{key}".upper()
            known.add(env)
            if env in environ:
                layer[key] = environ[env]
    return layer


def _check(cfg: dict) -> None:
    for (section, key), allowed in CHOICES.items():
        if cfg[section][key] not in allowed:
            raise ConfigError(f"{section}.{key}: must be one of {sorted(allowed)}, got {cfg[section][key]!r}")
    for section, key in POSITIVE:
        if cfg[section][key] <= 0:
            raise ConfigError(f"{section}.{key}: must be positive, got {cfg[section][key]!r}")
    for section, key in NOT_NEGATIVE:
        if cfg[section][key] < 0:
            raise ConfigError(f"{section}.{key}: must be 0 (not set) or a positive id, got {cfg[section][key]!r}")
    unknown = set(cfg["suggest"]["languages"]) - set(LANGUAGES)
    if unknown:
        raise ConfigError(f"suggest.languages: no analysis for {sorted(unknown)}")
    for origin in cfg["zendesk"]["frame_ancestors"].split():
        if not FRAME_ANCESTOR.fullmatch(origin):
            raise ConfigError(f"zendesk.frame_ancestors: {origin!r} is not an origin like https://support.example.com "
                              "(http:// only for 127.0.0.1 or localhost)")
    _check_zendesk_app(cfg["zendesk"])
    for section in ("zammad", "freshdesk"):
        url = cfg[section]["url"].strip()
        if url and not BASE_URL.fullmatch(url):
            raise ConfigError(f"{section}.url: expected the helpdesk's base URL such as https://support.example.com "
                              f"(no path), got {url!r}")
        cfg[section]["url"] = url.rstrip("/")
    _check_notify_and_audit(cfg)
    cfg["zendesk"]["help_center_locales"] = help_center_locales(cfg["zendesk"]["help_center_locales"])
    if not cfg["database"]:
        raise ConfigError("database: must not be empty")
    if not 0.0 <= cfg["suggest"]["min_confidence"] <= 1.0:
        raise ConfigError(f"suggest.min_confidence: must be between 0 and 1, got {cfg['suggest']['min_confidence']!r}")
    weight = cfg["suggest"]["semantic_weight"]
    if not 0.0 <= weight <= 1.0:
        raise ConfigError(f"suggest.semantic_weight: must be between 0 and 1, got {weight!r}")
    if cfg["suggest"]["semantic"]:
        from suggest import semantic
        if semantic.missing():
            raise ConfigError(f"suggest.semantic: true needs the optional semantic extra ({semantic.missing()} is "
                              f"not installed): run {semantic.INSTALL} in the project folder, or set it to false")


def help_center_locales(text) -> dict[str, str]:
    """zendesk.help_center_locales as {content language: Help Center locale}."""
    if isinstance(text, dict):
        return text
    out = {}
    for pair in text.split():
        language, _, locale = pair.partition("=")
        if language not in LANGUAGES or not locale.strip():
            raise ConfigError(f"zendesk.help_center_locales: {pair!r} is not language=locale with a language of "
                              f"{list(LANGUAGES)}, e.g. en=en-us")
        out[language] = locale.strip().lower()
    return out


def _check_zendesk_app(zc: dict) -> None:
    """zendesk.app_public_key may name a file: read it now, so a wrong path or a key that is not a PEM public key
    stops start-up instead of refusing every agent later."""
    value = zc["app_public_key"].strip()
    if value and not value.startswith("-----BEGIN"):
        try:
            value = Path(value).expanduser().read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"zendesk.app_public_key: neither PEM text nor a readable file: {exc}") from None
    if value:
        from integrations.zendesk.signed_url import PublicKeyError, load_public_key
        try:
            load_public_key(value)
        except PublicKeyError as exc:
            raise ConfigError(f"zendesk.app_public_key: {exc}") from None
    zc["app_public_key"] = value


def _check_notify_and_audit(cfg: dict) -> None:
    if cfg["audit"]["interval_hours"] < 0:
        raise ConfigError(f"audit.interval_hours: must be 0 (off) or more, got {cfg['audit']['interval_hours']!r}")
    if not 0 <= cfg["audit"]["duplicate_threshold"] <= 100:
        raise ConfigError("audit.duplicate_threshold: must be between 0 and 100, got "
                          f"{cfg['audit']['duplicate_threshold']!r}")
    unknown = set(cfg["audit"]["markets"].split()) - set(LANGUAGES)
    if unknown:
        raise ConfigError(f"audit.markets: {sorted(unknown)} are not languages the sidecar knows {list(LANGUAGES)}")
    url = cfg["notify"]["webhook_url"]
    if url and not re.match(r"^https?://[^\s/]+", url):
        raise ConfigError(f"notify.webhook_url: {url!r} is not an http(s) URL")
    if url and not cfg["notify"]["webhook_secret"]:
        raise ConfigError("notify.webhook_secret: set it too, so the receiver can check the notices come from here")


def load(overrides: Mapping | None = None, environ: Mapping[str, str] | None = None) -> dict:
    """The effective configuration: defaults < environment < overrides (tests pass a mapping)."""
    defaults = _defaults()
    cfg = _defaults()
    _merge(cfg, _env_layer(defaults, os.environ if environ is None else environ), defaults)
    if overrides:
        _merge(cfg, overrides, defaults)
    _check(cfg)
    _generic_sources(cfg, os.environ if environ is None else environ)
    return cfg


def _generic_sources(cfg: dict, environ: Mapping[str, str]) -> None:
    """generic.sources_file read and checked now (integrations/generic/config.py), kept as cfg["generic"]["sources"]
    and handed to the registry, so /webhooks/generic/<source>, the API and the widget know each source."""
    from integrations import registry
    from integrations.generic.config import SourceConfigError, load

    try:
        sources = load(cfg["generic"]["sources_file"], environ)
    except SourceConfigError as exc:
        raise ConfigError(str(exc)) from None
    cfg["generic"]["sources"] = sources
    registry.use_generic_sources(sources)
