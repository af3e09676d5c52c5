"""The generic JSON webhook sources, read from the file named by generic.sources_file (YAML, so JSON too).

One entry per source; the source's name is its integration name everywhere (/webhooks/generic/<name>,
/api/tickets/<name>/<id>/..., /widget?integration=<name>&ticket=<id>):

    helpscout:                          # [a-z][a-z0-9_-]{1,39}; not zendesk, zammad, freshdesk, demo or generic
      title: Help Scout                 # shown on /admin/integrations (default: the name)
      auth: hmac-sha256                 # hmac-sha256: the header carries HMAC-SHA256(secret, raw body)
      header: X-Signature               #   shared-secret: the header carries the secret itself
      encoding: hex                     # hmac-sha256 only: hex (default) or base64
      prefix: "sha256="                 # hmac-sha256 only: text before the signature (default none)
      secret_env: KS_HELPSCOUT_SECRET   # the secret from this environment variable, or `secret: "..."` inline
      delivery_id_header: X-Delivery-Id # optional: the sender's id of a delivery (else the body's SHA-256)
      paths:                            # dotted JSON paths into the body; list items by index (items.0.id)
        id: ticket.id                   # required: the ticket's id (letters, digits, . _ : -; at most 100)
        subject: ticket.subject         # subject or description required
        description: ticket.body        # HTML is reduced to text when it looks like HTML
        tags: ticket.tags               # a list, or text separated by commas or spaces
        fields: ticket.custom_fields    # an object {field: value}, or a list of {id, value}
        locale: ticket.language
        status: ticket.status

Everything is checked when the configuration is loaded: an unknown key, a bad name, path or header, a missing
secret or an unreadable file stops start-up with a message naming the source and key. Secrets of at least 16
characters are required: a shared secret is the only proof of origin.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

RESERVED = ("zendesk", "zammad", "freshdesk", "demo", "generic")
NAME_RE = re.compile(r"[a-z][a-z0-9_-]{1,39}")
HEADER_RE = re.compile(r"[A-Za-z0-9-]{1,100}")
SEGMENT_RE = re.compile(r"[A-Za-z0-9_@$-]{1,100}")
AUTHS = ("hmac-sha256", "shared-secret")
ENCODINGS = ("hex", "base64")
PATHS = ("id", "subject", "description", "tags", "fields", "locale", "status")
KEYS = {"title", "auth", "header", "encoding", "prefix", "secret", "secret_env", "delivery_id_header", "paths"}
MIN_SECRET = 16


class SourceConfigError(ValueError):
    """The generic sources file, or one source in it, is not acceptable (the message names which and why)."""


@dataclass(frozen=True)
class GenericSource:
    name: str
    title: str
    auth: str
    header: str
    secret: str = field(repr=False)
    encoding: str = "hex"
    prefix: str = ""
    delivery_id_header: str = ""
    paths: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def parse_path(text: str, where: str) -> tuple[str, ...]:
    """'ticket.custom_fields' → ('ticket', 'custom_fields'); a leading '$.' is allowed (JSONPath habit)."""
    if not isinstance(text, str) or not text.strip():
        raise SourceConfigError(f"{where}: expected a dotted JSON path such as ticket.subject, got {text!r}")
    body = text.strip()
    body = body[2:] if body.startswith("$.") else body
    segments = tuple(body.split("."))
    if not all(SEGMENT_RE.fullmatch(s) for s in segments):
        raise SourceConfigError(f"{where}: {text!r} is not a dotted JSON path (segments of letters, digits, _ - @ $)")
    return segments


def _text(entry: Mapping, key: str, where: str, default: str = "") -> str:
    value = entry.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise SourceConfigError(f"{where}.{key}: expected text, got {value!r}")
    return str(value)


def _source(name, entry, environ: Mapping[str, str]) -> GenericSource:
    where = f"generic source {name!r}"
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise SourceConfigError(f"{where}: a name is 2 to 40 of a-z, 0-9, _ and -, starting with a letter")
    if name in RESERVED:
        raise SourceConfigError(f"{where}: the name is taken by a built-in integration; choose another")
    if not isinstance(entry, Mapping):
        raise SourceConfigError(f"{where}: expected a mapping of settings, got {entry!r}")
    unknown = set(entry) - KEYS
    if unknown:
        raise SourceConfigError(f"{where}: unknown key(s) {sorted(map(str, unknown))}; known: {sorted(KEYS)}")
    auth = _text(entry, "auth", where)
    if auth not in AUTHS:
        raise SourceConfigError(f"{where}.auth: must be one of {list(AUTHS)}, got {auth!r}")
    header = _text(entry, "header", where)
    if not HEADER_RE.fullmatch(header):
        raise SourceConfigError(f"{where}.header: expected an HTTP header name such as X-Signature, got {header!r}")
    encoding = _text(entry, "encoding", where, "hex")
    if encoding not in ENCODINGS:
        raise SourceConfigError(f"{where}.encoding: must be one of {list(ENCODINGS)}, got {encoding!r}")
    if auth == "shared-secret" and ("encoding" in entry or "prefix" in entry):
        raise SourceConfigError(f"{where}: encoding and prefix apply to auth hmac-sha256 only")
    if ("secret" in entry) == ("secret_env" in entry):
        raise SourceConfigError(f"{where}: give exactly one of secret and secret_env")
    if "secret_env" in entry:
        variable = _text(entry, "secret_env", where)
        secret = environ.get(variable, "")
        if not secret:
            raise SourceConfigError(f"{where}.secret_env: the environment variable {variable!r} is not set")
    else:
        secret = _text(entry, "secret", where)
    if len(secret) < MIN_SECRET:
        raise SourceConfigError(f"{where}: the secret must be at least {MIN_SECRET} characters")
    delivery_header = _text(entry, "delivery_id_header", where)
    if delivery_header and not HEADER_RE.fullmatch(delivery_header):
        raise SourceConfigError(f"{where}.delivery_id_header: expected an HTTP header name, got {delivery_header!r}")
    raw_paths = entry.get("paths")
    if not isinstance(raw_paths, Mapping):
        raise SourceConfigError(f"{where}.paths: expected a mapping such as {{id: ticket.id, subject: ticket.subject}}")
    unknown = set(raw_paths) - set(PATHS)
    if unknown:
        raise SourceConfigError(f"{where}.paths: unknown key(s) {sorted(map(str, unknown))}; known: {list(PATHS)}")
    if "id" not in raw_paths or not ({"subject", "description"} & set(raw_paths)):
        raise SourceConfigError(f"{where}.paths: id and at least one of subject and description are required")
    paths = {key: parse_path(value, f"{where}.paths.{key}") for key, value in raw_paths.items()}
    return GenericSource(name=name, title=_text(entry, "title", where, name).strip()[:100] or name, auth=auth,
                         header=header, secret=secret, encoding=encoding, prefix=_text(entry, "prefix", where),
                         delivery_id_header=delivery_header, paths=paths)


def load(path: str, environ: Mapping[str, str]) -> dict[str, GenericSource]:
    """The sources in the file at `path` ({} for an empty path), checked; SourceConfigError otherwise."""
    if not path.strip():
        return {}
    try:
        data = yaml.safe_load(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise SourceConfigError(f"generic.sources_file: cannot read {path!r}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise SourceConfigError(f"generic.sources_file: {path!r} is not YAML or JSON: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise SourceConfigError(f"generic.sources_file: {path!r} must hold a mapping of source name → settings")
    return {name: _source(name, entry, environ) for name, entry in data.items()}
