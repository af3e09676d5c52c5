"""The uploadable Zendesk app (ZAF v2) that puts the sidecar in the ticket sidebar.

`flask --app app zendesk-app` writes dist/zendesk-app/ and dist/knowledge-sidecar.zip:

    manifest.json              ticket_sidebar location → <server.public_url>/widget, signedUrls on (Zendesk
                               signs the JWT it posts with RS256 and the app's private key)
    translations/en.json       the app's name, descriptions, install steps, setting labels
    assets/iframe.html         a short page for Zendesk-hosted previews (the location itself is remote)
    assets/logo.png            320×320, assets/logo-small.png 128×128 (drawn here, no image library)

The rules the package follows are those of Zendesk's app validator (zendesk_apps_support); our test
tests/test_zendesk_app_package.py checks them. Upload the zip in Admin Center › Apps and
integrations › Zendesk Support apps › Upload private app, then give the sidecar the app's id and
installation id (KS_ZENDESK_APP_ID, KS_ZENDESK_APP_INSTALLATION_ID) so it can check the tokens Zendesk signs.
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

IFRAME_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Knowledge Sidecar</title></head>
<body style="font: 13px system-ui, sans-serif; margin: 12px">
<p>Knowledge Sidecar runs from its own server; Zendesk loads it from the URL in manifest.json.</p>
</body></html>
"""


def app_version() -> str:
    try:
        with (ROOT / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.1.0"


def widget_url(cfg: dict) -> str:
    return cfg["server"]["public_url"].rstrip("/") + "/widget"


def manifest(cfg: dict, author_name: str = "Knowledge Sidecar", author_email: str = "") -> dict:
    return {
        "name": cfg["zendesk"]["app_name"],
        "author": {"name": author_name, "email": author_email or cfg["zendesk"]["email"] or "support@example.com",
                   "url": cfg["server"]["public_url"].rstrip("/")},
        "defaultLocale": "en",
        "private": True,
        "location": {"support": {"ticket_sidebar": {"url": widget_url(cfg), "flexible": True}}},
        "version": app_version(),
        "frameworkVersion": "2.0",
        "signedUrls": True,
    }


def translations(cfg: dict) -> dict:
    return {"app": {
        "name": cfg["zendesk"]["app_name"][:40],
        "short_description": "Troubleshooting articles and macros for the ticket you are on.",
        "long_description": (
            "Knowledge Sidecar maps each ticket to your issue taxonomy, suggests troubleshooting articles and "
            "response macros in the ticket sidebar, and records what agents reuse, flag or create (KCS)."),
        "installation_instructions": (
            "After installing, give the sidecar this app's id and installation id (KS_ZENDESK_APP_ID, "
            "KS_ZENDESK_APP_INSTALLATION_ID). The sidecar must be reachable over HTTPS at the URL in the manifest."),
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


def files(cfg: dict, author_name: str = "Knowledge Sidecar", author_email: str = "") -> dict[str, bytes]:
    """Path inside the package → content."""
    out = {"manifest.json": json.dumps(manifest(cfg, author_name, author_email), indent=2).encode() + b"\n",
           "translations/en.json": json.dumps(translations(cfg), indent=2, ensure_ascii=False).encode() + b"\n",
           "assets/iframe.html": IFRAME_HTML.encode()}
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
                   "signed requests; after uploading, set KS_ZENDESK_APP_ID (the key is then fetched) or paste the "
                   "key as KS_ZENDESK_APP_PUBLIC_KEY")
    if not cfg["zendesk"]["app_installation_id"]:
        out.append("zendesk.app_installation_id is not set: /widget refuses every token until it is; after "
                   "installing, set KS_ZENDESK_APP_INSTALLATION_ID")
    if not cfg["zendesk"]["subdomain"]:
        out.append("zendesk.subdomain is empty: the signed requests' issuer cannot be checked; "
                   "set KS_ZENDESK_SUBDOMAIN")
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
