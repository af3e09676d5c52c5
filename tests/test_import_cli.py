"""`flask --app app import PATH`: Markdown folders with front matter, CSV, HTML (stored clean), JSON and JSON Lines;
re-import by external_id; near-duplicates reported, never merged; errors with their file and row."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import articles
from kb.importers import run as file_import


@pytest.fixture
def src(tmp_path: Path) -> Path:
    """The folder imported (beside, not around, the test's database file)."""
    return tmp_path / "src"


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding=encoding)
    return path


def _import(app, *args):
    return app.test_cli_runner().invoke(args=["import", *map(str, args)])


def _versions(db, external_id: str) -> list[tuple]:
    return db.execute("SELECT v.version, v.changed_by FROM article_versions v JOIN articles a ON a.id = v.article_id "
                      "WHERE a.external_id = ? ORDER BY v.version", (external_id,)).fetchall()


VPN_MD = """---
title: VPN disconnects every few minutes
external_id: kb-vpn
language: en
taxonomy: Network > VPN
tags: [vpn, disconnect]
review_by: 2026-01-31
state: not_validated
issue: The VPN drops every five minutes.
author: someone          # not an article field: ignored
---
# VPN disconnects every few minutes

1. Open the VPN client.
2. Turn off **power saving** for the adapter.
"""


def test_markdown_folder_with_front_matter_nested_folders_and_a_file_without_it(app, db, src):
    _write(src / "network" / "vpn.md", VPN_MD)
    _write(src / "network" / "wifi" / "sleep.markdown",
           "# Wi-Fi drops after sleep\n\n```bash\n# a comment, not a heading\n```\n\nDisable power management.\n")
    _write(src / "untitled.md", "Just some words, no heading.\n")
    _write(src / "logo.png", "not an article")
    _write(src / ".git" / "config", "[core]")

    result = _import(app, src)

    assert result.exit_code == 0, result.output
    vpn = articles.get_by_external_id(db, "kb-vpn")
    assert (vpn["title"], vpn["language"], vpn["state"], vpn["taxonomy"], vpn["keywords"], vpn["review_by"]) == (
        "VPN disconnects every few minutes", "en", "not_validated", ["Network", "VPN"], ["vpn", "disconnect"],
        "2026-01-31")
    assert vpn["issue"] == "The VPN drops every five minutes."
    assert vpn["body"] == "1. Open the VPN client.\n2. Turn off **power saving** for the adapter."   # Markdown kept
    wifi = articles.get_by_external_id(db, "network/wifi/sleep.markdown")   # path relative to the folder
    assert wifi["title"] == "Wi-Fi drops after sleep"
    assert wifi["body"] == "```bash\n# a comment, not a heading\n```\n\nDisable power management."
    assert articles.get_by_external_id(db, "untitled.md") is None
    out = result.output
    assert "network/vpn.md: 1 created, 0 updated, 0 skipped" in out
    assert "network/wifi/sleep.markdown: 1 created" in out
    assert "untitled.md: no title: give one in the front matter" in out
    assert "skipped 1 file(s) of other types" in out and "logo.png" in out and ".git" not in out
    assert "total: 2 created, 0 updated, 0 skipped, 1 error in 3 file(s)" in out


def test_markdown_front_matter_errors_and_the_language_option(app, db, src):
    _write(src / "broken.md", "---\ntitle: [unclosed\n---\nbody\n")
    _write(src / "never-closed.md", "---\ntitle: x\n\nbody\n")
    _write(src / "de.md", "# Drucker druckt nicht\n\nKabel prüfen.\n")

    result = _import(app, src, "--language", "de")

    assert result.exit_code == 0, result.output
    assert "broken.md: front matter is not YAML on line 2" in result.output
    assert 'never-closed.md: front matter starts with "---" on line 1 but never ends' in result.output
    assert articles.get_by_external_id(db, "de.md")["language"] == "de"
    assert _import(app, src, "--language", "xx").exit_code == 2      # not a language the sidecar knows


def test_csv_with_bom_quoted_commas_and_bad_rows_reported_by_row_number(app, db, src):
    sheet = _write(src / "sheet.csv",
                   "External ID,Title,Body,Taxonomy,Keywords,State,Comment\r\n"
                   'csv-1,"Reset password, quickly","Open the portal, then ""Forgot password""",'
                   'Accounts / Passwords,"reset, password",validated,x\r\n'
                   "csv-2,,a row without a title,,,,\r\n"
                   'csv-3,Refund policy,"Line one\nline two",Billing > Refunds,,,\r\n'
                   "csv-4,Too many,cells,a,b,c,d,e\r\n"
                   "\r\n"
                   "csv-5,Bad state,body,,,done,\r\n", encoding="utf-8-sig")
    assert sheet.read_bytes().startswith(b"\xef\xbb\xbf")

    result = _import(app, sheet)

    assert result.exit_code == 0, result.output
    one = articles.get_by_external_id(db, "csv-1")
    assert (one["title"], one["body"], one["taxonomy"], one["keywords"]) == (
        "Reset password, quickly", 'Open the portal, then "Forgot password"', ["Accounts", "Passwords"],
        ["reset", "password"])
    three = articles.get_by_external_id(db, "csv-3")
    assert (three["body"], three["taxonomy"]) == ("Line one\nline two", ["Billing", "Refunds"])
    out = result.output
    assert "sheet.csv row 3: title is required" in out
    assert "sheet.csv row 5: 8 cells but the header names 7 columns" in out
    assert "sheet.csv row 7: state must be one of" in out     # the blank row 6 still counts
    assert "sheet.csv row 1: columns not imported (not article fields): comment" in out
    assert "sheet.csv: 2 created, 0 updated, 0 skipped, 3 errors" in out
    assert [r[0] for r in db.execute("SELECT external_id FROM articles ORDER BY external_id")] == ["csv-1", "csv-3"]


def test_csv_without_the_required_columns_imports_nothing_and_exits_1(app, db, src):
    result = _import(app, _write(src / "sheet.csv", "id,name\n1,x\n"))

    assert result.exit_code == 1
    assert "sheet.csv: the header has no external_id or title column (it has: id, name)" in result.output
    assert _import(app, _write(src / "notes.txt", "hi")).exit_code == 1
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0


EVIL_HTML = """<!doctype html>
<html lang="en-US"><head><title>Printer shows offline</title>
<meta name="keywords" content="printer, offline">
<script>alert(1)</script><style>body { color: red }</style></head>
<body onload="steal()">
<h1>Printer shows offline</h1>
<p>Check the cable <img src="x.png" onerror="alert(document.cookie)"> and read
<a href="https://help.example.com/printers" onclick="evil()">the printer guide</a>.</p>
<p><a href="javascript:alert(3)">click me</a></p>
<ul><li>Restart the printer</li><li>Remove it and add it again</li></ul>
<script>document.write('<b>injected</b>')</script>
</body></html>
"""


def test_html_with_script_and_event_handlers_is_stored_clean_with_links_kept(app, db, src):
    _write(src / "pages" / "printer.html", EVIL_HTML)
    _write(src / "pages" / "h1-only.htm", "<body><h1>Scanner is slow</h1><p>Lower the resolution.</p></body>")

    result = _import(app, src / "pages")

    assert result.exit_code == 0, result.output
    art = articles.get_by_external_id(db, "printer.html")
    assert (art["title"], art["language"], art["keywords"]) == ("Printer shows offline", "en", ["printer", "offline"])
    assert art["body"] == ("Check the cable and read the printer guide (https://help.example.com/printers).\n\n"
                           "click me\n\n- Restart the printer\n- Remove it and add it again")
    stored = json.dumps(db.execute("SELECT * FROM articles").fetchall()) + json.dumps(
        db.execute("SELECT snapshot FROM article_versions").fetchall())
    for unsafe in ("<script", "alert(", "onerror", "onclick", "onload", "javascript:", "steal", "injected", "<img",
                   "color: red"):
        assert unsafe not in stored, unsafe
    assert articles.get_by_external_id(db, "h1-only.htm")["body"] == "Lower the resolution."


def test_json_and_json_lines(app, db, src):
    _write(src / "a.json", json.dumps({"articles": [
        {"external_id": 7, "title": "Invoice address change", "body": "Edit it in Billing.",
         "taxonomy": "Billing / Invoices", "keywords": ["invoice"]},
        "not an object"]}))
    _write(src / "b.json", json.dumps([{"external_id": "b1", "title": "Cancel an order", "body": "Orders page.",
                                            "language": "en"}]))
    _write(src / "c.jsonl", '{"external_id": "l1", "title": "Change the e-mail address", "body": "Profile."}\n'
                                 "{not json\n\n"
                                 '{"external_id": "l2", "body": "no title"}\n')
    _write(src / "d.ndjson", '{"external_id": "n1", "title": "Delete the account", "body": "Support only."}\n')
    _write(src / "e.json", '{"articles": ')

    result = _import(app, src)

    assert result.exit_code == 0, result.output
    assert articles.get_by_external_id(db, "7")["taxonomy"] == ["Billing", "Invoices"]
    for ext in ("b1", "l1", "n1"):
        assert articles.get_by_external_id(db, ext) is not None
    out = result.output
    assert "a.json item 2: each article must be a JSON object" in out
    assert "c.jsonl line 2: not JSON:" in out
    assert "c.jsonl line 4: title is required" in out
    assert "e.json: not JSON:" in out
    assert "total: 4 created, 0 updated, 0 skipped, 4 errors in 5 file(s)" in out


def test_reimport_updates_a_changed_file_in_place_and_skips_an_unchanged_one(app, db, src):
    vpn = _write(src / "vpn.md", VPN_MD)
    _write(src / "other.md", "# Printer offline\n\nCheck the cable.\n")
    assert _import(app, src).exit_code == 0
    first_id = articles.get_by_external_id(db, "kb-vpn")["id"]

    vpn.write_text(VPN_MD.replace("Turn off **power saving**", "Turn off power saving and Wi-Fi roaming"))
    result = _import(app, src, "--changed-by", "maria")

    assert result.exit_code == 0, result.output
    assert "vpn.md: 0 created, 1 updated, 0 skipped" in result.output
    assert "other.md: 0 created, 0 updated, 1 skipped" in result.output
    changed = articles.get_by_external_id(db, "kb-vpn")
    assert (changed["id"], changed["version"]) == (first_id, 2)
    assert "Wi-Fi roaming" in changed["body"]
    assert _versions(db, "kb-vpn") == [(1, "import"), (2, "maria")]
    assert _versions(db, "other.md") == [(1, "import")]
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 2


def test_near_duplicates_are_reported_and_both_articles_kept(app, db, src):
    _write(src / "old.json", json.dumps([{"external_id": "old-1", "title": "Outlook calendar does not sync",
                                               "issue": "My calendar is not syncing in Outlook", "body": "Re-add."}]))
    assert _import(app, src / "old.json").exit_code == 0
    _write(src / "new" / "outlook.md", "---\nexternal_id: new-1\nissue: My calendar is not syncing in Outlook\n"
                                             "---\n# Outlook does not sync calendar\n\nRemove and add the account.\n")
    _write(src / "new" / "printer.md", "# Printer offline\n\nCheck the cable.\n")

    result = _import(app, src / "new")

    assert result.exit_code == 0, result.output
    assert "near-duplicates (similarity >= 90; reported, not merged -- both are kept):" in result.output
    line = next(x for x in result.output.splitlines() if "new-1" in x and "old-1" in x)
    assert "“Outlook does not sync calendar” (outlook.md)" in line and "(existing article" in line
    assert float(line.split()[0]) >= 90
    assert "printer" not in line.lower()
    assert articles.get_by_external_id(db, "old-1") and articles.get_by_external_id(db, "new-1")


def test_dry_run_reports_what_would_change_and_stores_nothing(app, db, src):
    _write(src / "a.md", "---\ntaxonomy: Hardware > Printers\n---\n# Printer offline\n\nCheck the cable.\n")
    _write(src / "b.md", "# Printer is offline\n\nCheck the cable.\n")

    result = _import(app, src, "--dry-run")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("dry run: nothing was stored")
    assert "a.md: 1 created" in result.output and "b.md: 1 created" in result.output
    assert "a.md “Printer offline” (a.md)  ~  b.md" in result.output       # found among the items themselves
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM taxonomy_nodes").fetchone()[0] == 0


def test_batches_report_every_item_against_its_file(app, db, src):
    """Each batch is its own transaction; outcomes and errors still land on the right file and row."""
    _write(src / "a.jsonl", "\n".join(json.dumps({"external_id": f"a{i}", "title": f"Topic {i} alpha",
                                                       "body": "x" if i != 3 else ""}) for i in range(5)))
    _write(src / "b.csv", "external_id,title,body\nb0,Beta zero,x\nb1,Beta one,\na1,Duplicate id,x\n")
    reading = file_import.read_path(src)
    done: list[int] = []

    report = file_import.import_reading(db, reading, "en", "test", dry_run=False, batch=2, progress=done.append)

    assert done == [2, 2, 2, 1]
    files = {f.file: f for f in report.files}
    assert (files["a.jsonl"].created, files["a.jsonl"].errors) == (4, [("line 4", "body (or resolution) is required")])
    assert files["b.csv"].created == 1
    assert files["b.csv"].errors == [("row 3", "body (or resolution) is required"),
                                     ("row 4", "external_id 'a1' is also given by a.jsonl line 2; only the first is "
                                               "imported")]
    assert articles.get_by_external_id(db, "a1")["title"] == "Topic 1 alpha"
    assert not db.in_transaction
