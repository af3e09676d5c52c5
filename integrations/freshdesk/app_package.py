"""The Freshworks app (Platform 3.0) that puts the sidecar's suggestions in Freshdesk's ticket sidebar.

`flask --app app freshdesk-app` writes dist/freshdesk-app/ (the folder `fdk validate` and `fdk pack` take) and
dist/knowledge-sidecar-freshdesk.zip:

    manifest.json           platform-version 3.0; modules.support_ticket.location.ticket_sidebar → index.html with
                            its icon; modules.common.requests declares the two request templates below
    config/iparams.json     one installation parameter, sidecar_api_token: secure (never sent to the browser)
    config/requests.json    ksSuggestions  GET  https://<sidecar host>/api/tickets/freshdesk/<ticket id>/suggestions
                            ksRecordEvent  POST https://<sidecar host>/api/tickets/freshdesk/<ticket id>/events
                            both with "Authorization: Bearer <%= iparam.sidecar_api_token %>"
    app/index.html          the sidebar page: loads the Freshworks client ({{{appclient}}}), styles and app.js
    app/scripts/app.js      reads the ticket (client.data.get("ticket")) and the agent (loggedInUser), asks for the
                            ticket's suggestions, lists them, and records a reuse when the agent clicks Reuse
    app/styles/style.css, app/styles/images/icon.svg

Why request templates and not the sidecar's /widget page in an iframe: /widget takes Zendesk's signed request or a
Bearer token, and a Freshworks sidebar can send neither to it. Request templates (developers.freshworks.com,
"Use request method to place secure HTTP calls") are proxied by Freshworks with the secure iparam filled in on
their side, so the API token never reaches the agent's browser and the sidecar needs no CORS. The template's host
is the concrete host of server.public_url (Freshworks requires a host name and HTTPS; checked in `warnings`).
Sources: developers.freshworks.com docs for Platform 3.0 (manifest "modules", support_ticket placeholders,
"ticket_sidebar", request method and requests.json, iparams.json), and the Zendesk package beside it
(integrations/zendesk/app_package.py) for the layout of this module.
"""
from __future__ import annotations

import json
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

from integrations.freshdesk.webhook import INTEGRATION

TOKEN_IPARAM = "sidecar_api_token"
TEMPLATES = {"ksSuggestions": ("GET", "suggestions"), "ksRecordEvent": ("POST", "events")}
ENGINES = {"node": "18.20.4", "fdk": "9.3.1"}

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{name}</title>
  <link rel="stylesheet" href="styles/style.css">
  <script src="{{{{{{appclient}}}}}}"></script>
</head>
<body>
  <main id="ks-app">
    <p id="ks-status" role="status">Loading suggestions…</p>
    <p id="ks-node" class="muted" hidden></p>
    <ol id="ks-articles"></ol>
  </main>
  <script src="scripts/app.js"></script>
</body>
</html>
"""

APP_JS = """/* Knowledge Sidecar in Freshdesk's ticket sidebar: suggestions and reuse through the sidecar's API, called
   through Freshworks request templates (config/requests.json) so the API token stays on Freshworks' side. */
(function () {
  "use strict";
  var client, ticketId = "", agentName = "";

  function status(text) {
    var p = document.getElementById("ks-status");
    p.textContent = text;
    p.hidden = !text;
  }

  function reuse(article, button) {
    button.disabled = true;
    client.request.invokeTemplate("ksRecordEvent", {
      context: { ticket_id: ticketId },
      body: JSON.stringify({ kind: "reused", article_id: article.id, agent_name: agentName })
    }).then(function () {
      button.textContent = "Reused \\u2713";
    }).catch(function (err) {
      button.disabled = false;
      status("The reuse was not recorded (" + (err && err.status ? err.status : "no answer") + "). Try again.");
    });
  }

  function render(data) {
    var list = document.getElementById("ks-articles");
    list.textContent = "";
    var path = (data.taxonomy && data.taxonomy.path) || [];
    var node = document.getElementById("ks-node");
    node.textContent = path.length ? "Issue: " + path.join(" \\u203a ") : "";
    node.hidden = !path.length;
    (data.articles || []).forEach(function (article) {
      var item = document.createElement("li");
      var title = document.createElement("strong");
      title.textContent = article.title;
      var snippet = document.createElement("p");
      snippet.textContent = article.snippet || "";
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "Reuse";
      button.addEventListener("click", function () { reuse(article, button); });
      item.append(title, snippet, button);
      list.appendChild(item);
    });
    status((data.articles || []).length ? "" : "No articles match this ticket yet.");
  }

  function load() {
    client.request.invokeTemplate("ksSuggestions", { context: { ticket_id: ticketId } }).then(function (resp) {
      render(JSON.parse(resp.response));
    }).catch(function (err) {
      status(err && err.status === 404
        ? "No suggestions yet: the sidecar has not received this ticket (check the automation rule)."
        : "The Knowledge Sidecar could not be reached (" + (err && err.status ? err.status : "no answer") + ").");
    });
  }

  app.initialized().then(function (c) {
    client = c;
    client.events.on("app.activated", function () {
      Promise.all([client.data.get("ticket"), client.data.get("loggedInUser")]).then(function (found) {
        ticketId = String(found[0].ticket.id);
        var user = found[1].loggedInUser || {};
        agentName = (user.contact && user.contact.name) || "";
        load();
      });
    });
  });
})();
"""

STYLE_CSS = """body { font: 13px/1.4 system-ui, sans-serif; margin: 8px; color: #12344d; }
ol { padding-left: 18px; margin: 0; }
li { margin-bottom: 10px; }
li p { margin: 2px 0 4px; color: #475867; }
button { font: inherit; padding: 2px 10px; cursor: pointer; }
.muted { color: #647a8e; }
"""

ICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
  <rect width="64" height="64" rx="12" fill="#1f73b7"/>
  <rect x="18" y="13" width="28" height="38" rx="2" fill="#fff"/>
  <path d="M23 22h18M23 29h18M23 36h12" stroke="#1f73b7" stroke-width="3"/>
</svg>
"""


def public_url(cfg: dict) -> str:
    return cfg["server"]["public_url"].rstrip("/")


def manifest() -> dict:
    return {
        "platform-version": "3.0",
        "modules": {
            "common": {"requests": {name: {} for name in TEMPLATES}},
            "support_ticket": {"location": {"ticket_sidebar": {"url": "index.html",
                                                               "icon": "styles/images/icon.svg"}}},
        },
        "engines": dict(ENGINES),
    }


def iparams() -> dict:
    return {TOKEN_IPARAM: {
        "display_name": "Knowledge Sidecar API token",
        "description": "An API token with the agent role, made on the sidecar with "
                       "`flask --app app create-token freshdesk-app --role agent`.",
        "type": "text", "required": True, "secure": True}}


def requests_json(cfg: dict) -> dict:
    """The request templates: the sidecar's ticket API for <%= context.ticket_id %>, the token filled in by
    Freshworks from the secure iparam."""
    url = urlsplit(public_url(cfg))
    out = {}
    for name, (method, tail) in TEMPLATES.items():
        schema = {"protocol": url.scheme or "https", "method": method, "host": url.hostname or "",
                  "path": f"/api/tickets/{INTEGRATION}/<%= context.ticket_id %>/{tail}",
                  "headers": {"Authorization": f"Bearer <%= iparam.{TOKEN_IPARAM} %>", "Accept": "application/json"}}
        if url.port:
            schema["port"] = str(url.port)
        if method == "POST":
            schema["headers"]["Content-Type"] = "application/json"
        out[name] = {"schema": schema}
    return out


def _json(data: dict) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode() + b"\n"


def files(cfg: dict) -> dict[str, bytes]:
    """Path inside the package → content."""
    name = cfg["freshdesk"]["app_name"]
    return {"manifest.json": _json(manifest()), "config/iparams.json": _json(iparams()),
            "config/requests.json": _json(requests_json(cfg)),
            "app/index.html": INDEX_HTML.format(name=name.replace("<", "&lt;")).encode(),
            "app/scripts/app.js": APP_JS.encode(), "app/styles/style.css": STYLE_CSS.encode(),
            "app/styles/images/icon.svg": ICON_SVG.encode()}


def warnings(cfg: dict) -> list[str]:
    """What will stop the app from working in Freshdesk, said before the admin uploads it."""
    out = []
    url = urlsplit(public_url(cfg))
    if url.scheme != "https" or url.hostname in (None, "localhost", "127.0.0.1"):
        out.append(f"server.public_url is {cfg['server']['public_url']!r}: Freshworks proxies request templates to "
                   "public https hosts only; set KS_SERVER_PUBLIC_URL=https://<your sidecar host>")
    if not cfg["freshdesk"]["webhook_secret"]:
        out.append("freshdesk.webhook_secret is empty: the sidecar refuses the automation rule's webhook, so the "
                   "sidebar finds no suggestions; set KS_FRESHDESK_WEBHOOK_SECRET")
    return out


def build(cfg: dict, out_dir: Path) -> dict:
    """Write the app folder and its zip (the folder's files at the zip's root)."""
    out_dir = Path(out_dir)
    folder, archive = out_dir / "freshdesk-app", out_dir / "knowledge-sidecar-freshdesk.zip"
    content = files(cfg)
    for rel, data in content.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(content):
            zf.writestr(rel, content[rel])
    return {"folder": str(folder), "zip": str(archive), "files": sorted(content), "warnings": warnings(cfg)}
