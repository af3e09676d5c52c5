"""The uploadable Zendesk app: `flask --app app zendesk-app` output checked against Zendesk's own package rules.

The rules below follow Zendesk's app validator (zendesk/zendesk_apps_support: validations/manifest.rb,
translations.rb, secure_settings.rb, manifest/parameter.rb, location.rb, app_version.rb) and the
manifest reference on developer.zendesk.com. They are written here, independent of the generator,
so a generator bug cannot hide behind its own assumptions.
"""
from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import create_app
from integrations.zendesk import app_package

KNOWN_KEYS = {"requirementsOnly", "marketingOnly", "version", "author", "name", "experiments", "frameworkVersion",
              "singleInstall", "signedUrls", "noTemplate", "defaultLocale", "location", "private", "oauth",
              "parameters", "domainWhitelist", "remoteInstallationURL", "termsConditionsURL", "gaID"}
BOOLEANS = ("requirementsOnly", "marketingOnly", "singleInstall", "signedUrls", "private")
STRINGS = ("defaultLocale", "version", "frameworkVersion", "remoteInstallationURL", "termsConditionsURL", "gaID")
SUPPORT_LOCATIONS = {"top_bar", "nav_bar", "ticket_sidebar", "new_ticket_sidebar", "user_sidebar",
                     "organization_sidebar", "background", "modal", "ticket_editor", "system_top_bar",
                     "ticket_module"}
HOSTS = {"support", "chat", "zopim", "standalone_chat", "sell"}
PARAMETER_TYPES = {"text", "password", "checkbox", "url", "number", "multiline", "hidden", "oauth"}
VERSIONS_FOR_NEW_APPS = {"2.0"}
LOCALE_RE = re.compile(r"^[a-z]{2}(-\w{2,3})?$")
SECURABLE_RE = re.compile(r"token|key|pwd|password", re.I)
MARKETPLACE_KEYS = ("name", "short_description", "long_description", "installation_instructions")


def package_problems(files: dict[str, bytes]) -> list[str]:
    """Every rule the package breaks (empty when Zendesk would accept it)."""
    problems: list[str] = []
    if "manifest.json" not in files:
        nested = [p for p in files if re.fullmatch(r"[^/]+/manifest\.json", p)]
        return [f"manifest.json is nested at {nested[0]}" if nested else "manifest.json is missing"]
    try:
        m = json.loads(files["manifest.json"])
    except ValueError as exc:
        return [f"manifest.json is not JSON: {exc}"]
    if not isinstance(m, dict):
        return ["manifest.json is not an object"]
    for key in ("author", "defaultLocale", "location", "frameworkVersion"):
        if m.get(key) in (None, {}, ""):
            problems.append(f"missing manifest key {key}")
    problems += [f"unknown manifest key {k}" for k in m if k not in KNOWN_KEYS]
    problems += [f"{k} must be true/false" for k in BOOLEANS if k in m and not isinstance(m[k], bool)]
    problems += [f"{k} must be text" for k in STRINGS if k in m and not isinstance(m[k], str)]
    author = m.get("author") or {}
    if not isinstance(author, dict):
        problems.append("author must be an object")
        author = {}
    problems += [f"author {k} must be text" for k in ("name", "email", "url") if not isinstance(author.get(k, ""), str)]
    if not author.get("name") or not author.get("email"):
        problems.append("author needs name and email")
    if author.get("url") and not re.match(r"^https?://", author["url"]):
        problems.append("author url must start with http(s)://")
    locale = m.get("defaultLocale", "")
    if not LOCALE_RE.match(str(locale)):
        problems.append(f"invalid defaultLocale {locale!r}")
    elif f"translations/{locale}.json" not in files:
        problems.append(f"translations/{locale}.json is missing for the default locale")
    if m.get("frameworkVersion") not in VERSIONS_FOR_NEW_APPS:
        problems.append(f"frameworkVersion must be one of {sorted(VERSIONS_FOR_NEW_APPS)}")
    problems += _location_problems(m.get("location"), files)
    problems += _parameter_problems(m.get("parameters", []))
    problems += _translation_problems(files, m)
    return problems


def _location_problems(location, files) -> list[str]:
    if not isinstance(location, dict) or not location:
        return ["location must be an object of product → locations (frameworkVersion 2 needs URLs)"]
    problems = []
    for host, places in location.items():
        if host not in HOSTS:
            problems.append(f"unknown product {host!r} in location")
            continue
        if not isinstance(places, dict):
            problems.append(f"location.{host} must be an object")
            continue
        for name, opts in places.items():
            if host == "support" and name not in SUPPORT_LOCATIONS:
                problems.append(f"unknown Support location {name!r}")
            opts = {"url": opts} if isinstance(opts, str) else opts
            if not isinstance(opts, dict) or not isinstance(opts.get("url"), str) or not opts["url"]:
                problems.append(f"location {name} needs a url (v2 apps are iframes)")
                continue
            url = urlsplit(opts["url"])
            if url.scheme:
                if not (url.scheme == "https" or url.hostname == "localhost"):
                    problems.append(f"location {name} url must be https (or localhost): {opts['url']}")
            elif not (url.path.startswith("assets/") and url.path in files):
                problems.append(f"location {name} relative url must name a file under assets/")
            if "flexible" in opts and not isinstance(opts["flexible"], bool):
                problems.append(f"location {name} flexible must be true/false")
    return problems


def _parameter_problems(parameters) -> list[str]:
    if not isinstance(parameters, list):
        return ["parameters must be a list"]
    problems, names = [], [p.get("name") for p in parameters if isinstance(p, dict)]
    problems += [f"duplicate parameter {n}" for n in sorted({n for n in names if names.count(n) > 1})]
    for p in parameters:
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"]:
            problems.append("each parameter needs a name")
            continue
        n, kind = p["name"], p.get("type", "text")
        if n == "name":
            problems.append("a parameter may not be called 'name'")
        if kind not in PARAMETER_TYPES:
            problems.append(f"parameter {n} has unknown type {kind!r}")
        for flag in ("required", "secure"):
            if flag in p and not isinstance(p[flag], bool):
                problems.append(f"parameter {n}.{flag} must be true/false")
        if kind == "hidden" and p.get("required"):
            problems.append(f"hidden parameter {n} cannot be required")
        if kind == "oauth" and p.get("secure"):
            problems.append(f"oauth parameter {n} cannot be secure")
        if SECURABLE_RE.search(n) and kind in ("text", "password") and not p.get("secure"):
            problems.append(f"parameter {n} looks like a secret and must be secure")
        if (p.get("secure") or kind == "hidden") and "default" in p:
            problems.append(f"secure or hidden parameter {n} must not ship a default")
    return problems


def _translation_problems(files, manifest) -> list[str]:
    problems = []
    for path, raw in files.items():
        m = re.fullmatch(r"translations/(.*)\.json", path)
        if not m:
            continue
        if not LOCALE_RE.match(m.group(1)):
            problems.append(f"{path}: invalid locale")
        try:
            data = json.loads(raw)
        except ValueError:
            problems.append(f"{path} is not JSON")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("app"), dict):
            problems.append(f"{path} must be an object with an 'app' object")
            continue
        if path != "translations/en.json":
            continue
        app = data["app"]
        keys = {"short_description" if k == "description" else k for k in app}
        needed = ("name",) if manifest.get("private", True) else MARKETPLACE_KEYS
        problems += [f"{path}: app.{k} is missing" for k in needed if k not in keys]
        if len(app.get("name", "")) > 40:
            problems.append(f"{path}: app.name is longer than 40 characters")
        for p in manifest.get("parameters", []):
            label = (app.get("parameters") or {}).get(p.get("name"), {})
            if not isinstance(label, dict) or not isinstance(label.get("label"), str) or not label["label"]:
                problems.append(f"{path}: no label for parameter {p.get('name')}")
    return problems


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, size, chunks = 8, None, []
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    return size


@pytest.fixture
def config(tmp_path):
    return {"database": str(tmp_path / "sidecar.db"),
            "server": {"public_url": "https://sidecar.example.com/"},
            "zendesk": {"subdomain": "acme", "app_id": 77, "app_installation_id": 424242}}


@pytest.fixture
def built(app, tmp_path):
    out = tmp_path / "dist"
    result = app.test_cli_runner().invoke(args=["zendesk-app", "--out", str(out), "--author-email", "it@acme.test"])
    assert result.exit_code == 0, result.output
    assert "knowledge-sidecar.zip" in result.output
    with zipfile.ZipFile(out / "knowledge-sidecar.zip") as zf:
        assert zf.testzip() is None
        files = {name: zf.read(name) for name in zf.namelist()}
    return out, files, result.output


def test_package_passes_zendesk_rules(built):
    _out, files, _log = built
    assert package_problems(files) == []


def test_zip_layout_and_folder_match(built):
    out, files, _log = built
    assert sorted(files) == ["assets/iframe.html", "assets/logo-small.png", "assets/logo.png", "manifest.json",
                             "translations/en.json"]
    for name, data in files.items():
        assert (out / "zendesk-app" / name).read_bytes() == data


def test_manifest_points_the_ticket_sidebar_at_the_signed_widget(built):
    _out, files, _log = built
    m = json.loads(files["manifest.json"])
    assert m["location"] == {"support": {"ticket_sidebar": {"url": "https://sidecar.example.com/widget",
                                                            "flexible": True}}}
    assert m["signedUrls"] is True and m["private"] is True and m["frameworkVersion"] == "2.0"
    assert m["defaultLocale"] == "en" and isinstance(m["version"], str)
    assert m["author"]["email"] == "it@acme.test"
    # No secure setting named shared_secret: with one, Zendesk would sign with HS256 instead of its RS256 key.
    assert all(p["name"] != "shared_secret" for p in m.get("parameters", []))


def test_translations_carry_marketplace_texts_and_labels(built):
    _out, files, _log = built
    app = json.loads(files["translations/en.json"])["app"]
    for key in MARKETPLACE_KEYS:
        assert isinstance(app[key], str) and app[key].strip()
    assert "KS_ZENDESK_APP_INSTALLATION_ID" in app["installation_instructions"]


def test_logos_are_valid_pngs_of_the_sizes_zendesk_uses(built):
    _out, files, _log = built
    assert png_size(files["assets/logo.png"]) == (320, 320)
    assert png_size(files["assets/logo-small.png"]) == (128, 128)


def test_an_http_public_url_is_warned_about_and_breaks_the_rules(tmp_path):
    app = create_app({"database": str(tmp_path / "s.db")})       # default public_url http://127.0.0.1:8000
    result = app.test_cli_runner().invoke(args=["zendesk-app", "--out", str(tmp_path / "d")])
    assert result.exit_code == 0
    assert "only https://" in result.output and "KS_ZENDESK_APP_INSTALLATION_ID" in result.output
    files = app_package.files(app.config["KS"])
    assert any("must be https" in p for p in package_problems(files))


@pytest.mark.parametrize("breakage, expected", [
    (lambda m: m.pop("author"), "missing manifest key author"),
    (lambda m: m.update(signedUrls="yes"), "signedUrls must be true/false"),
    (lambda m: m["location"]["support"].update(ticket_sidebaar={"url": "https://x.test"}), "unknown Support location"),
    (lambda m: m.update(frameworkVersion="1.0"), "frameworkVersion"),
    (lambda m: m.setdefault("parameters", []).append({"name": "api_token", "type": "text"}), "must be secure"),
    (lambda m: m.setdefault("parameters", []).append({"name": "name", "type": "text"}), "may not be called 'name'"),
    (lambda m: m.update(defaultLocale="de"), "translations/de.json is missing"),
])
def test_the_rules_catch_broken_manifests(app, breakage, expected):
    files = app_package.files(app.config["KS"])
    m = json.loads(files["manifest.json"])
    breakage(m)
    files["manifest.json"] = json.dumps(m).encode()
    assert any(expected in p for p in package_problems(files)), package_problems(files)


def test_nested_manifest_is_refused(app):
    files = {f"knowledge-sidecar/{k}": v for k, v in app_package.files(app.config["KS"]).items()}
    assert package_problems(files) == ["manifest.json is nested at knowledge-sidecar/manifest.json"]


def test_public_url_trailing_slash_is_not_doubled(app):
    assert app_package.widget_url(app.config["KS"]) == "https://sidecar.example.com/widget"
    assert Path(app_package.ROOT / "pyproject.toml").exists()
