"""An HTML file as one article. HTML from outside is untrusted: the body is cleaned with nh3 and read to plain
text by store/html_text.py (no script or style, no event handler, no unsafe link; paragraphs and list items on
lines of their own; a link kept as "words (url)"). The title is the page's <title>, else its first <h1> (then that
heading leaves the body); the language is <html lang>, keywords <meta name="keywords">; the external id is the
file's path relative to the folder imported ("faq/refunds.html").
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from kb.importers.items import Item, first_line_is, read_text
from store.html_text import html_to_text

EXTENSIONS = (".html", ".htm")


class _Head(HTMLParser):
    """The page's title, first <h1>, language and keywords, read as text (never kept as HTML)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title: list[str] | None = None
        self.h1: list[str] | None = None
        self.open: list[str] | None = None
        self.lang = self.keywords = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html" and attrs.get("lang"):
            self.lang = attrs["lang"]
        elif tag == "meta" and (attrs.get("name") or "").lower() == "keywords" and attrs.get("content"):
            self.keywords = attrs["content"]
        elif tag == "title" and self.title is None:
            self.title = self.open = []
        elif tag == "h1" and self.h1 is None:
            self.h1 = self.open = []
        elif tag in ("script", "style"):
            self.open = None

    def handle_endtag(self, tag):
        if tag in ("title", "h1"):
            self.open = None

    def handle_data(self, data):
        if self.open is not None:
            self.open.append(data)


def _text(parts: list[str] | None) -> str:
    return re.sub(r"\s+", " ", "".join(parts or [])).strip()


def read(path: Path, rel: str) -> list[Item]:
    raw_html = read_text(path)
    head = _Head()
    head.feed(raw_html)
    head.close()
    title = _text(head.title) or _text(head.h1)
    if not title:
        return [Item(error="no title: the page has neither a <title> nor an <h1>")]
    article = {"external_id": rel, "title": title, "body": first_line_is(html_to_text(raw_html), title)}
    if head.lang:
        article["language"] = head.lang
    if head.keywords:
        article["keywords"] = head.keywords
    return [Item(article=article)]
