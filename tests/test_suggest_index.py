"""The in-process index follows SQLite: edits, deletes, other processes' writes and a full rebuild."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from kb.articles import import_articles
from store import write
from suggest import index
from suggest.rank import Query, suggest

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = [
    {"external_id": "vpn", "title": "VPN will not connect", "body": "Restart the VPN client and check the token."},
    {"external_id": "mail", "title": "Mailbox full", "body": "Archive old mail to free space in the mailbox."},
    {"external_id": "print", "title": "Printer offline", "body": "Turn the printer off and on, then re-add it."},
]


def ids(db, text, **kw):
    return [a["external_id"] for a in suggest(db, Query(subject=text, **kw))["articles"]]


def test_edit_is_searchable_at_once_and_old_words_are_gone(db):
    import_articles(db, ARTICLES, "en")
    assert ids(db, "printer offline")[0] == "print"
    before = index.searcher(db).articles["en"].size
    import_articles(db, [{"external_id": "print", "title": "Scanner jammed", "body": "Open the scanner lid."}], "en")
    assert ids(db, "scanner jammed")[0] == "print"
    assert "print" not in ids(db, "printer offline")
    assert index.searcher(db).articles["en"].size == before        # replaced, not added


def test_state_change_is_followed(db):
    import_articles(db, ARTICLES, "en")
    import_articles(db, [dict(ARTICLES[0], state="archived")], "en")
    assert "vpn" not in ids(db, "vpn connect")
    import_articles(db, [dict(ARTICLES[0], state="validated")], "en")
    assert ids(db, "vpn connect")[0] == "vpn"


def test_delete_drops_the_article(db):
    import_articles(db, ARTICLES, "en")
    assert ids(db, "mailbox full")[0] == "mail"
    with write(db):
        art = db.execute("SELECT id FROM articles WHERE external_id = 'mail'").fetchone()[0]
        db.execute("DELETE FROM article_versions WHERE article_id = ?", (art,))
        db.execute("DELETE FROM articles WHERE id = ?", (art,))
        index.drop_article(db, art)
    assert "mail" not in ids(db, "mailbox full")
    assert index.searcher(db).articles["en"].size == 2


def test_rolled_back_import_leaves_no_trace(db):
    import_articles(db, ARTICLES, "en")
    try:
        with write(db):
            import_articles(db, [{"external_id": "ghost", "title": "Ghost printer", "body": "Boo printer."}], "en")
            raise RuntimeError("abort the transaction")
    except RuntimeError:
        pass
    assert "ghost" not in ids(db, "ghost printer")


def test_another_process_write_is_seen_on_the_next_search(db, app):
    import_articles(db, ARTICLES, "en")
    assert ids(db, "keyboard layout") == []
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from store import connect
        from kb.articles import import_articles
        conn = connect({app.config["KS"]["database"]!r}).conn
        res = import_articles(conn, [{{"external_id": "kbd", "title": "Keyboard layout wrong",
                                       "body": "Switch the keyboard layout in region settings."}}], "en")
        assert res["created"] == 1, res
    """)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert ids(db, "keyboard layout")[0] == "kbd"


def test_rebuild_reloads_everything_from_the_tables(db):
    import_articles(db, ARTICLES, "en")
    assert ids(db, "vpn token")[0] == "vpn"
    with write(db):
        # a change made behind the index's back (no log entry) ...
        db.execute("UPDATE articles SET title = 'Wifi drops', body = 'Forget the wifi network.' "
                   "WHERE external_id = 'vpn'")
    assert ids(db, "wifi network") == []
    with write(db):
        assert index.rebuild(db) == 3
    assert ids(db, "wifi network") == ["vpn"]                       # ... is picked up by a rebuild


def test_rebuild_index_command(app, db):
    import_articles(db, ARTICLES, "en")
    env = dict(os.environ, KS_DATABASE=app.config["KS"]["database"])
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "rebuild-index"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "indexed 3" in out.stdout
    assert db.execute("SELECT kind FROM search_log ORDER BY seq DESC LIMIT 1").fetchone()[0] == "all"
    assert ids(db, "printer")[0] == "print"
