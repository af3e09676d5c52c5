"""The uploadable Zendesk app: `flask --app app zendesk-app` output checked against Zendesk's own package rules.

The rules below follow Zendesk's app validator (zendesk/zendesk_apps_support: validations/manifest.rb,
translations.rb, secure_settings.rb, manifest/parameter.rb, location.rb, app_version.rb) and the
manifest reference on developer.zendesk.com, as `zcli apps:validate` applies them. They are written here,
independent of the generator, so a generator bug cannot hide behind its own assumptions. sidecar_problems()
adds the project's own rules (four locales, RS256 signed URLs).
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
TRANSLATION_RE = re.compile(r"translations/(.*)\.json")
SHIPPED_LOCALES = {"en", "de", "pl", "ru"}
SETTING = "sidecar_url"


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
    parameters = m.get("parameters", [])
    problems += _parameter_problems(parameters)
    problems += _translation_problems(files, m, parameters if isinstance(parameters, list) else [])
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
            if "flexible" in opts and not isinstance(opts["flexible"], bool):
                problems.append(f"location {name} flexible must be true/false")
            if "{{setting." in opts["url"]:
                continue                  # the validator skips URLs built from a setting (location.rb)
            url = urlsplit(opts["url"])
            if url.scheme:
                if not (url.scheme == "https" or url.hostname == "localhost"):
                    problems.append(f"location {name} url must be https (or localhost): {opts['url']}")
            elif not (url.path.startswith("assets/") and url.path in files):
                problems.append(f"location {name} relative url must name a file under assets/")
    return problems


def _parameter_problems(parameters) -> list[str]:
    if not isinstance(parameters, list):
        return ["parameters must be a list"]
    problems, names = [], [p.get("name") for p in parameters if isinstance(p, dict)]
    problems += [f"duplicate parameter {n}" for n in sorted({n for n in names if names.count(n) > 1})]
    if sum(1 for p in parameters if isinstance(p, dict) and p.get("type") == "oauth") > 1:
        problems.append("at most one oauth parameter")
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


def _leaf_keys(node, prefix: str = "") -> set[str]:
    """Dotted paths of every text in a translation file (app.parameters.sidecar_url.label, ...)."""
    if not isinstance(node, dict):
        return {prefix}
    keys: set[str] = set()
    for k, v in node.items():
        keys |= _leaf_keys(v, f"{prefix}.{k}" if prefix else k)
    return keys


def _translation_problems(files, manifest, parameters) -> list[str]:
    """translations.rb, applied to EVERY locale file (Zendesk shows any of them to an admin of that language):
    file name, JSON object, app.name, a label for every setting; the marketplace keys in the default locale
    (only app.name when "private": true); and the same keys in every locale as in the default one."""
    problems, parsed = [], {}
    default = f"translations/{manifest.get('defaultLocale', 'en')}.json"
    for path, raw in sorted(files.items()):
        m = TRANSLATION_RE.fullmatch(path)
        if not m:
            continue
        if not LOCALE_RE.match(m.group(1)):
            problems.append(f"{path}: invalid locale {m.group(1)!r}")
        try:
            data = json.loads(raw)
        except ValueError:
            problems.append(f"{path} is not JSON")
            continue
        if not isinstance(data, dict) or not isinstance(data.get("app"), dict):
            problems.append(f"{path} must be an object with an 'app' object")
            continue
        parsed[path] = data
        app = data["app"]
        if not isinstance(app.get("name"), str) or not app["name"].strip():
            problems.append(f"{path}: app.name is missing")
        elif len(app["name"]) > 40:
            problems.append(f"{path}: app.name is longer than 40 characters")
        if path == default:
            keys = {"short_description" if k == "description" else k for k in app}
            needed = ("name",) if manifest.get("private", True) else MARKETPLACE_KEYS
            problems += [f"{path}: app.{k} is missing" for k in needed if k not in keys and k != "name"]
        labels = app.get("parameters") if isinstance(app.get("parameters"), dict) else {}
        for p in parameters:
            entry = labels.get(p.get("name")) if isinstance(p, dict) else None
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str) or not entry["label"].strip():
                problems.append(f"{path}: no label for parameter {p.get('name') if isinstance(p, dict) else p}")
    if default in parsed:
        expected = _leaf_keys(parsed[default])
        for path, data in parsed.items():
            if path != default and _leaf_keys(data) != expected:
                missing, extra = sorted(expected - _leaf_keys(data)), sorted(_leaf_keys(data) - expected)
                problems.append(f"{path}: keys differ from {default} (missing {missing}, extra {extra})")
    return problems


def sidecar_problems(files: dict[str, bytes]) -> list[str]:
    """The project's own rules on top of Zendesk's: the four shipped locales, and signed URLs that Zendesk signs
    with RS256 (no secure shared_secret setting, which would switch it to HS256; no secret settings at all)."""
    problems = []
    locales = {m.group(1) for p in files if (m := TRANSLATION_RE.fullmatch(p))}
    if locales != SHIPPED_LOCALES:
        problems.append(f"translations for {sorted(locales)}, expected {sorted(SHIPPED_LOCALES)}")
    m = json.loads(files["manifest.json"])
    if m.get("signedUrls") is not True:
        problems.append("signedUrls must be on: /widget signs agents in from Zendesk's token")
    for p in m.get("parameters", []):
        if p.get("name") == "shared_secret":
            problems.append("a shared_secret setting switches Zendesk's signed URLs to HS256")
        elif p.get("secure"):
            problems.append(f"secure setting {p['name']}: the sidecar needs no secret from Zendesk")
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
            "zendesk": {"subdomain": "acme", "app_id": 77, "app_installation_id": 424242,
                        "email": "it@acme.test", "api_token": "api-token-for-tests"}}


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


def _texts(files: dict[str, bytes], locale: str) -> dict:
    return json.loads(files[f"translations/{locale}.json"])["app"]


def test_package_passes_zendesk_rules_and_ours(built):
    _out, files, _log = built
    assert package_problems(files) == []
    assert sidecar_problems(files) == []


def test_zip_layout_and_folder_match(built):
    out, files, _log = built
    assert sorted(files) == ["assets/iframe.html", "assets/logo-small.png", "assets/logo.png", "manifest.json",
                             "translations/de.json", "translations/en.json", "translations/pl.json",
                             "translations/ru.json"]
    for name, data in files.items():
        assert (out / "zendesk-app" / name).read_bytes() == data


def test_manifest_points_the_ticket_sidebar_at_the_signed_widget(built):
    _out, files, _log = built
    m = json.loads(files["manifest.json"])
    # The concrete https URL, not "{{setting.sidecar_url}}/widget": checked at upload, no runtime substitution needed.
    assert m["location"] == {"support": {"ticket_sidebar": {"url": "https://sidecar.example.com/widget",
                                                            "flexible": True}}}
    assert m["signedUrls"] is True and m["private"] is True and m["frameworkVersion"] == "2.0"
    assert m["defaultLocale"] == "en" and isinstance(m["version"], str)
    assert m["author"]["email"] == "it@acme.test"
    # No secure setting named shared_secret: with one, Zendesk would sign with HS256 instead of its RS256 key.
    assert m["parameters"] == [{"name": "sidecar_url", "type": "url", "required": True,
                                "default": "https://sidecar.example.com"}]


def test_every_locale_carries_the_texts_and_the_setting_label(built):
    _out, files, _log = built
    en = _texts(files, "en")
    for locale in sorted(SHIPPED_LOCALES):
        app = _texts(files, locale)
        assert app["name"] == "Knowledge Sidecar"                 # a brand: the same in every language
        for key in MARKETPLACE_KEYS:
            assert isinstance(app[key], str) and app[key].strip()
        setting = app["parameters"][SETTING]
        assert setting["label"].strip() and setting["helpText"].strip()
        everything = " ".join([app["installation_instructions"], setting["helpText"]])
        assert "{" not in everything and "}" not in everything      # every placeholder filled in
        # What the admin types or opens stays literal in every language.
        for literal in ("KS_ZENDESK_APP_INSTALLATION_ID", "KS_ZENDESK_APP_ID", "KS_ZENDESK_APP_PUBLIC_KEY",
                        "https://acme.zendesk.com/api/v2/apps/installations.json", '"app_id"', '"id"',
                        "https://sidecar.example.com/widget"):
            assert literal in app["installation_instructions"], (locale, literal)
        assert re.search(r"https://sidecar\.example\.com(?!/)", app["installation_instructions"])  # the setting
        assert "https://sidecar.example.com/widget" in setting["helpText"]
        if locale != "en":                                          # translated, not copied
            for key in ("short_description", "long_description", "installation_instructions"):
                assert app[key] != en[key], (locale, key)
            assert setting["label"] != en["parameters"][SETTING]["label"]
    assert re.search("[а-яё]{4}", _texts(files, "ru")["long_description"])
    assert re.search("[ąęłńśźż]", _texts(files, "pl")["long_description"])
    assert re.search("[äöüß]", _texts(files, "de")["long_description"])
    assert "Sie" in _texts(files, "de")["installation_instructions"]


def test_instructions_name_a_placeholder_host_until_the_subdomain_is_set(tmp_path):
    app = create_app({"database": str(tmp_path / "s.db"), "server": {"public_url": "https://kb.example.org"}})
    for locale in sorted(SHIPPED_LOCALES):
        text = app_package.translations(app.config["KS"], locale)["app"]["installation_instructions"]
        assert "https://<subdomain>.zendesk.com/api/v2/apps/installations.json" in text


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


def test_warnings_name_what_stops_the_sidebar_and_where_to_find_it(tmp_path):
    app = create_app({"database": str(tmp_path / "s.db"), "server": {"public_url": "https://kb.example.org"},
                      "zendesk": {"subdomain": "acme"}})
    said = "\n".join(app_package.warnings(app.config["KS"]))
    assert "KS_ZENDESK_APP_ID" in said and "KS_ZENDESK_APP_INSTALLATION_ID" in said
    assert "https://acme.zendesk.com/api/v2/apps/installations.json" in said
    assert "only https://" not in said


def test_an_app_id_without_api_credentials_is_warned_about(tmp_path):
    app = create_app({"database": str(tmp_path / "s.db"), "server": {"public_url": "https://kb.example.org"},
                      "zendesk": {"subdomain": "acme", "app_id": 77, "app_installation_id": 5}})
    assert app_package.warnings(app.config["KS"]) == [
        "zendesk.app_id is set but the Zendesk API credentials (KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN) are not, "
        "so the app's public key cannot be fetched; set them, or paste the key from "
        "https://acme.zendesk.com/api/v2/apps/77/public_key.pem as KS_ZENDESK_APP_PUBLIC_KEY"]


def test_a_complete_configuration_has_nothing_to_warn_about(app):
    assert app_package.warnings(app.config["KS"]) == []


def _edit(path: str, change):
    """A breakage that parses one JSON file of the package, changes it, and writes it back."""
    def apply(files):
        data = json.loads(files[path])
        change(data)
        files[path] = json.dumps(data, ensure_ascii=False).encode()
    return apply


def _add_setting(param: dict):
    return _edit("manifest.json", lambda m: m.setdefault("parameters", []).append(param))


def _copy(source: str, target: str):
    def apply(files):
        files[target] = files[source]
    return apply


def _both(*changes):
    def apply(files):
        for change in changes:
            change(files)
    return apply


MANIFEST_BREAKAGES = [
    (_edit("manifest.json", lambda m: m.pop("author")), "missing manifest key author"),
    (_edit("manifest.json", lambda m: m.update(signedUrls="yes")), "signedUrls must be true/false"),
    (_edit("manifest.json", lambda m: m.update(colour="blue")), "unknown manifest key colour"),
    (_edit("manifest.json", lambda m: m["location"]["support"].update(ticket_sidebaar={"url": "https://x.test"})),
     "unknown Support location"),
    (_edit("manifest.json", lambda m: m["location"]["support"]["ticket_sidebar"].update(url="http://kb.test/w")),
     "url must be https"),
    (_edit("manifest.json", lambda m: m["location"]["support"]["ticket_sidebar"].update(url="widget.html")),
     "relative url must name a file under assets/"),
    (_edit("manifest.json", lambda m: m.update(frameworkVersion="1.0")), "frameworkVersion"),
    (_edit("manifest.json", lambda m: m.update(defaultLocale="english")), "invalid defaultLocale"),
    (_edit("manifest.json", lambda m: m.update(defaultLocale="fr")), "translations/fr.json is missing"),
]
SETTING_BREAKAGES = [
    (_add_setting({"name": "api_token", "type": "text"}), "must be secure"),
    (_add_setting({"name": "name", "type": "text"}), "may not be called 'name'"),
    (_add_setting({"name": "sidecar_url", "type": "url"}), "duplicate parameter sidecar_url"),
    (_add_setting({"name": "region", "type": "select"}), "unknown type 'select'"),
    (_add_setting({"name": "region", "type": "hidden", "required": True}), "hidden parameter region cannot be"),
    (_add_setting({"name": "region", "type": "hidden", "default": "eu"}), "must not ship a default"),
    (_add_setting({"name": "region", "type": "text", "secure": True, "default": "eu"}), "must not ship a default"),
    (_add_setting({"name": "login", "type": "oauth", "secure": True}), "oauth parameter login cannot be secure"),
    (_edit("manifest.json", lambda m: m["parameters"][0].update(required="yes")), "sidecar_url.required must be"),
    (_add_setting({"name": "region", "type": "text"}), "translations/de.json: no label for parameter region"),
]
TRANSLATION_BREAKAGES = [
    (_edit("translations/de.json", lambda t: t["app"]["parameters"]["sidecar_url"].pop("label")),
     "translations/de.json: no label for parameter sidecar_url"),
    (_edit("translations/ru.json", lambda t: t["app"]["parameters"]["sidecar_url"].update(label=" ")),
     "translations/ru.json: no label for parameter sidecar_url"),
    (_edit("translations/pl.json", lambda t: t["app"].pop("name")), "translations/pl.json: app.name is missing"),
    (_edit("translations/en.json", lambda t: t["app"].update(name="K" * 41)), "app.name is longer than 40"),
    (_copy("translations/en.json", "translations/english.json"), "translations/english.json: invalid locale"),
    (_copy("translations/de.json", "translations/de_DE.json"), "translations/de_DE.json: invalid locale"),
    (lambda files: files.update({"translations/ru.json": b'{"app": {'}), "translations/ru.json is not JSON"),
    (lambda files: files.update({"translations/ru.json": b'["app"]'}), "translations/ru.json must be an object"),
    (_edit("translations/de.json", lambda t: t["app"].update(title="Wissen")),
     "translations/de.json: keys differ from translations/en.json (missing [], extra ['app.title'])"),
    (_edit("translations/ru.json", lambda t: t["app"]["parameters"]["sidecar_url"].pop("helpText")),
     "translations/ru.json: keys differ"),
    (lambda files: files.pop("translations/en.json"), "translations/en.json is missing for the default locale"),
    (_both(_edit("manifest.json", lambda m: m.update(private=False)),
           _edit("translations/en.json", lambda t: t["app"].pop("long_description"))),
     "translations/en.json: app.long_description is missing"),
]


@pytest.mark.parametrize("breakage, expected", MANIFEST_BREAKAGES + SETTING_BREAKAGES + TRANSLATION_BREAKAGES)
def test_the_rules_catch_broken_packages(app, breakage, expected):
    files = app_package.files(app.config["KS"])
    breakage(files)
    problems = package_problems(files)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("change", [
    _copy("translations/en.json", "translations/pt-br.json"),               # a region suffix is a valid locale
    _edit("manifest.json", lambda m: m.update(private=False)),                # we ship the marketplace texts
    _edit("manifest.json", lambda m: m["location"]["support"]["ticket_sidebar"].update(
        url="{{setting.sidecar_url}}/widget")),                                # the validator skips setting URLs
])
def test_the_rules_accept_what_zendesk_accepts(app, change):
    files = app_package.files(app.config["KS"])
    change(files)
    assert package_problems(files) == []


@pytest.mark.parametrize("breakage, expected", [
    (_add_setting({"name": "shared_secret", "type": "text", "secure": True}), "switches Zendesk's signed URLs"),
    (_add_setting({"name": "webhook_token", "type": "text", "secure": True}), "needs no secret"),
    (_edit("manifest.json", lambda m: m.pop("signedUrls")), "signedUrls must be on"),
    (lambda files: files.pop("translations/pl.json"), "expected ['de', 'en', 'pl', 'ru']"),
    (_copy("translations/en.json", "translations/fr.json"), "expected ['de', 'en', 'pl', 'ru']"),
])
def test_our_own_rules_catch_a_package_that_would_not_work(app, breakage, expected):
    files = app_package.files(app.config["KS"])
    breakage(files)
    problems = sidecar_problems(files)
    assert any(expected in p for p in problems), problems


def test_nested_manifest_is_refused(app):
    files = {f"knowledge-sidecar/{k}": v for k, v in app_package.files(app.config["KS"]).items()}
    assert package_problems(files) == ["manifest.json is nested at knowledge-sidecar/manifest.json"]


def test_public_url_trailing_slash_is_not_doubled(app):
    assert app_package.widget_url(app.config["KS"]) == "https://sidecar.example.com/widget"
    assert Path(app_package.ROOT / "pyproject.toml").exists()
