"""The uploadable Zendesk app (ZAF v2) that puts the sidecar in the ticket sidebar.

`flask --app app zendesk-app` writes dist/zendesk-app/ and dist/knowledge-sidecar.zip:

    manifest.json              ticket_sidebar location → <server.public_url>/widget, signedUrls on (Zendesk
                               signs the JWT it posts with RS256 and the app's private key); one setting,
                               sidecar_url (the sidecar's public address)
    translations/<locale>.json en (default), de, pl, ru: the app's name, descriptions, install steps, and the
                               setting's label and help text, the same keys in every file
    assets/iframe.html         a short page for Zendesk-hosted previews (the location itself is remote)
    assets/logo.png            320×320, assets/logo-small.png 128×128 (drawn here, no image library)

Why the sidebar URL is the concrete https address and not "{{setting.sidecar_url}}/widget": Zendesk's validator
skips its URL checks for a placeholder, and no source we have confirms that Zendesk substitutes settings into a
remote location URL when it loads the iframe (signed or not). If it did not, every agent would get a broken
sidebar with nothing at upload to warn the admin. The concrete URL is checked at upload (https or localhost)
and is what Zendesk signs requests for. The sidecar_url setting still has a use: it shows the admin, at install
and later in the app's settings, which sidecar this package was built for, and it is stored with the
installation (GET /api/v2/apps/installations/{id}.json, "settings"), where it can be compared with the
sidecar's own address. Its help text says that moving the sidecar means rebuilding the package and updating
the app; changing the setting alone moves nothing.

No secure setting exists, and none may be named shared_secret: with one, Zendesk signs with HS256 and that
secret instead of RS256 and the app's key (integrations/zendesk/signed_url.py). Nothing secret is needed.

The app's name is the configured product name (zendesk.app_name) in every locale: it is a brand, not a phrase.
The rules the package follows are those of Zendesk's app validator (zendesk_apps_support); our test
tests/test_zendesk_app_package.py checks them. After upload and install the admin gives the sidecar the app's
id and installation id (KS_ZENDESK_APP_ID, KS_ZENDESK_APP_INSTALLATION_ID); installation_instructions say where
to read them.
"""
from __future__ import annotations

import json
import struct
import tomllib
import zipfile
import zlib
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
LOGOS = {"assets/logo.png": 320, "assets/logo-small.png": 128}
ACCENT = (31, 115, 183)
DEFAULT_LOCALE = "en"
NAME_MAX = 40                      # Zendesk's limit for app.name in the translations
URL_SETTING = "sidecar_url"

IFRAME_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Knowledge Sidecar</title></head>
<body style="font: 13px system-ui, sans-serif; margin: 12px">
<p>Knowledge Sidecar runs from its own server; Zendesk loads it from the URL in manifest.json.</p>
</body></html>
"""

# Per locale: the app's texts, then the setting's label and help text. Placeholders: {public_url}, {widget_url},
# {host} (the account's <subdomain>.zendesk.com). Environment variable names, URLs and the English heading of the
# sidecar's sign-in error page stay as they are: the admin types or sees them literally.
TEXTS = {
    "en": {
        "short_description": "Troubleshooting articles and macros for the ticket you are on.",
        "long_description": (
            "Knowledge Sidecar maps each ticket to your issue taxonomy, suggests troubleshooting articles and "
            "response macros in the ticket sidebar, and records what agents reuse, flag or create (KCS)."),
        "installation_instructions": (
            "1. Install the app. Its setting “Knowledge Sidecar address” is already filled in with {public_url}, "
            "the address this package was built for; the ticket sidebar opens {widget_url}.\n"
            "2. Find the app's two ids: signed in to Zendesk as an admin, open "
            "https://{host}/api/v2/apps/installations.json. In the entry whose \"settings\" → \"name\" is this "
            "app's title, \"id\" is the installation id and \"app_id\" is the app id. (The installed app itself "
            "is listed in Admin Center › Apps and integrations › Apps › Zendesk Support apps.)\n"
            "3. On the Knowledge Sidecar server set KS_ZENDESK_APP_INSTALLATION_ID to the installation id and "
            "KS_ZENDESK_APP_ID to the app id, then restart it. With the app id and the Zendesk API credentials "
            "(KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN) the sidecar fetches the app's public key from "
            "https://{host}/api/v2/apps/<app id>/public_key.pem; without API credentials, paste that key as "
            "KS_ZENDESK_APP_PUBLIC_KEY.\n"
            "4. Open any ticket: the sidebar lists suggested articles and macros. A “Sign-in needed” page names "
            "the reason, usually an installation id, app id or key that does not belong to this app."),
        "label": "Knowledge Sidecar address",
        "helpText": (
            "The HTTPS address of your Knowledge Sidecar server (KS_SERVER_PUBLIC_URL). The sidebar opens "
            "{widget_url}, fixed when this package was built: to move the sidecar, build the package again with "
            "the new address and update the app."),
    },
    "de": {
        "short_description": "Lösungsartikel und Makros für das Ticket, das Sie gerade bearbeiten.",
        "long_description": (
            "Knowledge Sidecar ordnet jedes Ticket Ihrer Problem-Taxonomie zu, schlägt in der Ticket-Seitenleiste "
            "Lösungsartikel und Antwortmakros vor und hält fest, was Agenten wiederverwenden, als fehlerhaft "
            "melden oder neu anlegen (KCS)."),
        "installation_instructions": (
            "1. Installieren Sie die App. Die Einstellung „Adresse des Knowledge Sidecar“ ist bereits mit "
            "{public_url} ausgefüllt, der Adresse, für die dieses Paket erstellt wurde; die Ticket-Seitenleiste "
            "öffnet {widget_url}.\n"
            "2. Ermitteln Sie die beiden IDs der App: Öffnen Sie, als Zendesk-Administrator angemeldet, "
            "https://{host}/api/v2/apps/installations.json. Im Eintrag, dessen \"settings\" → \"name\" der Titel "
            "dieser App ist, steht unter \"id\" die Installations-ID und unter \"app_id\" die App-ID. (Die "
            "installierte App selbst finden Sie im Admin Center unter Apps und Integrationen › Apps › Zendesk "
            "Support-Apps.)\n"
            "3. Setzen Sie auf dem Knowledge-Sidecar-Server KS_ZENDESK_APP_INSTALLATION_ID auf die "
            "Installations-ID und KS_ZENDESK_APP_ID auf die App-ID und starten Sie ihn neu. Mit der App-ID und den "
            "Zugangsdaten für die Zendesk-API (KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN) ruft der Sidecar den "
            "öffentlichen Schlüssel der App von https://{host}/api/v2/apps/<App-ID>/public_key.pem ab; ohne "
            "API-Zugangsdaten fügen Sie diesen Schlüssel als KS_ZENDESK_APP_PUBLIC_KEY ein.\n"
            "4. Öffnen Sie ein beliebiges Ticket: Die Seitenleiste zeigt vorgeschlagene Artikel und Makros. Eine "
            "Seite „Sign-in needed“ nennt den Grund, meist eine Installations-ID, App-ID oder ein Schlüssel, die "
            "nicht zu dieser App gehören."),
        "label": "Adresse des Knowledge Sidecar",
        "helpText": (
            "Die HTTPS-Adresse Ihres Knowledge-Sidecar-Servers (KS_SERVER_PUBLIC_URL). Die Seitenleiste öffnet "
            "{widget_url}; diese Adresse wird beim Erstellen des Pakets festgelegt. Zieht der Sidecar um, "
            "erstellen Sie das Paket mit der neuen Adresse neu und aktualisieren Sie die App."),
    },
    "pl": {
        "short_description": "Artykuły z rozwiązaniami i makra do zgłoszenia, nad którym właśnie pracujesz.",
        "long_description": (
            "Knowledge Sidecar przypisuje każde zgłoszenie do Twojej taksonomii problemów, proponuje w panelu "
            "bocznym zgłoszenia artykuły z rozwiązaniami i makra odpowiedzi oraz zapisuje, co agenci wykorzystują "
            "ponownie, oznaczają do poprawy lub tworzą (KCS)."),
        "installation_instructions": (
            "1. Zainstaluj aplikację. Ustawienie „Adres Knowledge Sidecar” jest już wypełnione adresem "
            "{public_url}, dla którego zbudowano ten pakiet; panel boczny zgłoszenia otwiera {widget_url}.\n"
            "2. Znajdź dwa identyfikatory aplikacji: po zalogowaniu się do konta Zendesk jako administrator otwórz "
            "https://{host}/api/v2/apps/installations.json. We wpisie, w którym \"settings\" → \"name\" to nazwa "
            "tej aplikacji, \"id\" jest identyfikatorem instalacji, a \"app_id\" identyfikatorem aplikacji. (Samą "
            "zainstalowaną aplikację znajdziesz w Centrum administracyjnym › Aplikacje i integracje › Aplikacje › "
            "Aplikacje Zendesk Support.)\n"
            "3. Na serwerze Knowledge Sidecar ustaw KS_ZENDESK_APP_INSTALLATION_ID na identyfikator instalacji i "
            "KS_ZENDESK_APP_ID na identyfikator aplikacji, a następnie uruchom serwer ponownie. Znając "
            "identyfikator aplikacji i dane dostępowe do API Zendesk (KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN), "
            "Sidecar pobiera klucz publiczny aplikacji z https://{host}/api/v2/apps/<id aplikacji>/public_key.pem; "
            "bez danych dostępowych do API wklej ten klucz jako KS_ZENDESK_APP_PUBLIC_KEY.\n"
            "4. Otwórz dowolne zgłoszenie: panel boczny pokaże proponowane artykuły i makra. Strona „Sign-in "
            "needed” podaje przyczynę, zwykle identyfikator instalacji, identyfikator aplikacji lub klucz, które "
            "nie należą do tej aplikacji."),
        "label": "Adres Knowledge Sidecar",
        "helpText": (
            "Adres HTTPS Twojego serwera Knowledge Sidecar (KS_SERVER_PUBLIC_URL). Panel boczny otwiera "
            "{widget_url} — ten adres ustala się podczas budowania pakietu. Jeśli Sidecar zmieni adres, zbuduj "
            "pakiet ponownie z nowym adresem i zaktualizuj aplikację."),
    },
    "ru": {
        "short_description": "Статьи с решениями и макросы для запроса, с которым вы сейчас работаете.",
        "long_description": (
            "Knowledge Sidecar относит каждый запрос к вашей таксономии проблем, предлагает на боковой панели "
            "запроса статьи с решениями и макросы ответов и фиксирует, что агенты используют повторно, помечают "
            "для исправления или создают (KCS)."),
        "installation_instructions": (
            "1. Установите приложение. Параметр «Адрес Knowledge Sidecar» уже заполнен адресом {public_url}, для "
            "которого собран этот пакет; боковая панель запроса открывает {widget_url}.\n"
            "2. Найдите два идентификатора приложения: войдя в Zendesk как администратор, откройте "
            "https://{host}/api/v2/apps/installations.json. В записи, где \"settings\" → \"name\" — название "
            "этого приложения, \"id\" — идентификатор установки, а \"app_id\" — идентификатор приложения. (Само "
            "установленное приложение есть в Центре администрирования › Приложения и интеграции › Приложения › "
            "Приложения Zendesk Support.)\n"
            "3. На сервере Knowledge Sidecar задайте KS_ZENDESK_APP_INSTALLATION_ID (идентификатор установки) и "
            "KS_ZENDESK_APP_ID (идентификатор приложения), затем перезапустите его. Зная идентификатор приложения "
            "и учётные данные API Zendesk (KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN), Sidecar загружает открытый "
            "ключ приложения с https://{host}/api/v2/apps/<id приложения>/public_key.pem; если учётных данных "
            "API нет, вставьте этот ключ в KS_ZENDESK_APP_PUBLIC_KEY.\n"
            "4. Откройте любой запрос: на боковой панели появятся предлагаемые статьи и макросы. Страница "
            "«Sign-in needed» называет причину — обычно это идентификатор установки, идентификатор приложения или "
            "ключ, не относящиеся к этому приложению."),
        "label": "Адрес Knowledge Sidecar",
        "helpText": (
            "HTTPS-адрес вашего сервера Knowledge Sidecar (KS_SERVER_PUBLIC_URL). Боковая панель открывает "
            "{widget_url} — этот адрес задаётся при сборке пакета. Если адрес Sidecar изменится, соберите пакет "
            "заново с новым адресом и обновите приложение."),
    },
}
LOCALES = tuple(TEXTS)


def app_version() -> str:
    try:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.1.0"


def public_url(cfg: dict) -> str:
    return cfg["server"]["public_url"].rstrip("/")


def widget_url(cfg: dict) -> str:
    return public_url(cfg) + "/widget"


def account_host(cfg: dict) -> str:
    """<subdomain>.zendesk.com, with a visible stand-in while zendesk.subdomain is not set."""
    return f"{cfg['zendesk']['subdomain'] or '<subdomain>'}.zendesk.com"


def parameters(cfg: dict) -> list[dict]:
    """The app's settings, filled in on Zendesk's install page. Not secure (nothing secret is needed, and a
    secure shared_secret would switch Zendesk to HS256), so a default is allowed."""
    return [{"name": URL_SETTING, "type": "url", "required": True, "default": public_url(cfg)}]


def manifest(cfg: dict, author_name: str = "Knowledge Sidecar", author_email: str = "") -> dict:
    return {
        "name": cfg["zendesk"]["app_name"],
        "author": {"name": author_name, "email": author_email or cfg["zendesk"]["email"] or "support@example.com",
                   "url": public_url(cfg)},
        "defaultLocale": DEFAULT_LOCALE,
        "private": True,
        "location": {"support": {"ticket_sidebar": {"url": widget_url(cfg), "flexible": True}}},
        "version": app_version(),
        "frameworkVersion": "2.0",
        "signedUrls": True,
        "parameters": parameters(cfg),
    }


def translations(cfg: dict, locale: str = DEFAULT_LOCALE) -> dict:
    """translations/<locale>.json: the marketplace texts (optional for a private app, shipped anyway so the
    install page explains itself) and a label and help text for every setting."""
    values = {"public_url": public_url(cfg), "widget_url": widget_url(cfg), "host": account_host(cfg)}
    text = {key: value.format(**values) for key, value in TEXTS[locale].items()}
    return {"app": {
        "name": cfg["zendesk"]["app_name"][:NAME_MAX],
        "short_description": text["short_description"],
        "long_description": text["long_description"],
        "installation_instructions": text["installation_instructions"],
        "parameters": {URL_SETTING: {"label": text["label"], "helpText": text["helpText"]}},
    }}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def logo_png(size: int) -> bytes:
    """A square RGBA PNG: the accent colour with rounded corners and a white 'page' with lines."""
    radius, rows = size // 6, []
    page = (size * 28 // 100, size * 20 // 100, size * 72 // 100, size * 80 // 100)
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 for each scanline
        for x in range(size):
            cx = min(max(x, radius), size - 1 - radius)
            cy = min(max(y, radius), size - 1 - radius)
            if (x - cx) ** 2 + (y - cy) ** 2 > radius ** 2:
                row += b"\x00\x00\x00\x00"
            elif page[0] <= x < page[2] and page[1] <= y < page[3]:
                line = (y - page[1]) % max(size // 10, 4) < max(size // 40, 1) and x < page[2] - size // 12 \
                    and x >= page[0] + size // 12 and y > page[1] + size // 12
                row += bytes((*ACCENT, 255)) if line else b"\xff\xff\xff\xff"
            else:
                row += bytes((*ACCENT, 255))
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + _chunk(b"IEND", b""))


def _json(data: dict) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n"


def files(cfg: dict, author_name: str = "Knowledge Sidecar", author_email: str = "") -> dict[str, bytes]:
    """Path inside the package → content."""
    out = {"manifest.json": _json(manifest(cfg, author_name, author_email))}
    for locale in LOCALES:
        out[f"translations/{locale}.json"] = _json(translations(cfg, locale))
    out["assets/iframe.html"] = IFRAME_HTML.encode()
    for path, size in LOGOS.items():
        out[path] = logo_png(size)
    return out


def warnings(cfg: dict) -> list[str]:
    """What will stop the app from working in Zendesk, said before the admin uploads it."""
    out = []
    url = urlsplit(widget_url(cfg))
    if url.scheme != "https" and url.hostname != "localhost":
        out.append(f"server.public_url is {cfg['server']['public_url']!r}: Zendesk accepts only https:// "
                   "(or http://localhost) app URLs; set KS_SERVER_PUBLIC_URL=https://<your sidecar host>")
    if not (cfg["zendesk"]["app_public_key"] or cfg["zendesk"]["app_id"]):
        out.append("neither zendesk.app_public_key nor zendesk.app_id is set: /widget cannot check Zendesk's "
                   "signed requests; after installing, set KS_ZENDESK_APP_ID (\"app_id\" in "
                   f"https://{account_host(cfg)}/api/v2/apps/installations.json; the key is then fetched) or paste "
                   "the key as KS_ZENDESK_APP_PUBLIC_KEY")
    elif not cfg["zendesk"]["app_public_key"] and not (cfg["zendesk"]["email"] and cfg["zendesk"]["api_token"]):
        out.append("zendesk.app_id is set but the Zendesk API credentials (KS_ZENDESK_EMAIL, KS_ZENDESK_API_TOKEN) "
                   "are not, so the app's public key cannot be fetched; set them, or paste the key from "
                   f"https://{account_host(cfg)}/api/v2/apps/{cfg['zendesk']['app_id']}/public_key.pem as "
                   "KS_ZENDESK_APP_PUBLIC_KEY")
    if not cfg["zendesk"]["app_installation_id"]:
        out.append("zendesk.app_installation_id is not set: /widget refuses every token until it is; after "
                   "installing, set KS_ZENDESK_APP_INSTALLATION_ID (\"id\" of this app's entry in "
                   f"https://{account_host(cfg)}/api/v2/apps/installations.json)")
    if not cfg["zendesk"]["subdomain"]:
        out.append("zendesk.subdomain is empty: the signed requests' issuer cannot be checked; "
                   "set KS_ZENDESK_SUBDOMAIN")
    if len(cfg["zendesk"]["app_name"]) > NAME_MAX:
        out.append(f"zendesk.app_name is longer than {NAME_MAX} characters; Zendesk shows it cut to "
                   f"{cfg['zendesk']['app_name'][:NAME_MAX]!r}")
    return out


def build(cfg: dict, out_dir: Path, author_name: str = "Knowledge Sidecar", author_email: str = "") -> dict:
    """Write the package folder and its zip (files at the zip's root, as Zendesk expects)."""
    out_dir = Path(out_dir)
    folder, archive = out_dir / "zendesk-app", out_dir / "knowledge-sidecar.zip"
    content = files(cfg, author_name, author_email)
    for rel, data in content.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(content):
            zf.writestr(rel, content[rel])
    return {"folder": str(folder), "zip": str(archive), "files": sorted(content), "warnings": warnings(cfg)}
