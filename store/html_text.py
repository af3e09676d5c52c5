"""Text from outside, made storable: HTML someone else wrote (a Help Center article, an HTML file being imported)
as the plain text the knowledge base keeps. store/values.py is its sibling (which text can be stored at all).

Such HTML is untrusted (anyone with edit rights on the other side wrote it): nh3 drops script, style and other
content that is never read as words (with that content), every event handler and style attribute, and unsafe link
schemes, before we read words out of it. What is left becomes text an agent reads: a blank line between paragraphs,
one list item per line, a link's target kept after its words as "words (url)".
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import nh3

# Tags kept for their structure (paragraphs, lists, links); anything else is unwrapped to its text, and the tags in
# DROPPED are removed with their content (code, a page's <title>, fallback text for plugins and for no script).
KEPT_TAGS = {"a", "p", "br", "div", "span", "section", "article", "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2",
             "h3", "h4", "h5", "h6", "pre", "code", "blockquote", "strong", "em", "b", "i", "u", "table", "thead",
             "tbody", "tr", "td", "th", "hr"}
DROPPED = {"script", "style", "title", "noscript", "template", "iframe", "object"}
PARAGRAPHS = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table",
              "ul", "ol", "dl", "hr"}
LINES = {"li", "tr", "dt", "dd"}


def clean_html(raw: str) -> str:
    """The HTML with only harmless structure left: no script or style (content and all), no event handlers or
    other attributes but a link's href, no javascript: or data: links, no comments."""
    return nh3.clean(raw or "", tags=KEPT_TAGS, clean_content_tags=DROPPED, attributes={"a": {"href"}},
                     url_schemes={"http", "https", "mailto"}, link_rel=None, strip_comments=True)


class _Reader(HTMLParser):
    """Readable plain text from cleaned HTML: a blank line between paragraphs, one item per line in lists
    ("- " or "1. "), a link's target after its words."""

    def __init__(self, base_url: str | None):
        super().__init__(convert_charrefs=True)
        self.base_url, self.out, self.lists, self.links, self.pre = base_url, [], [], [], 0

    def _text(self) -> str:
        return "".join(self.out)

    def _break(self, newlines: int) -> None:
        text = self._text().rstrip(" ")
        if not text:
            self.out = []
            return
        have = len(text) - len(text.rstrip("\n"))
        self.out = [text + "\n" * max(0, newlines - have)]

    def _block(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.lists:      # a list inside a list item: its items are lines of that list
            self._break(1)
        elif tag in PARAGRAPHS:
            self._break(2)
        elif tag in LINES:
            self._break(1)

    def handle_starttag(self, tag, attrs):
        self._block(tag)
        if tag == "br":
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            self.out.append("  " * max(0, len(self.lists) - 1) + ("- " if kind[0] == "ul" else f"{kind[1]}. "))
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self._text())))
            self.out = [self._text()]
        elif tag == "pre":
            self.pre += 1
        elif tag in ("td", "th") and not self._text().endswith(("\n", " ")):
            self.out.append(" | ")

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href, start = self.links.pop()
            words = self._text()[start:].strip()
            if href:
                target = urljoin(self.base_url, href) if self.base_url else href
                self.out.append(f" ({target})" if words and target not in words else ("" if words else target))
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        self._block(tag)

    def handle_data(self, data):
        if not self.pre:
            data = re.sub(r"\s+", " ", data)
            if not self.out or self._text().endswith(("\n", "- ", ". ")) and data.startswith(" "):
                data = data.lstrip(" ")
        self.out.append(data)


def html_to_text(raw: str, base_url: str | None = None) -> str:
    """Plain text of untrusted HTML, cleaned first (clean_html); relative links are made absolute against
    `base_url` when given (a Help Center article's html_url)."""
    reader = _Reader(base_url)
    reader.feed(clean_html(raw))
    reader.close()
    lines = [line.rstrip() for line in reader._text().split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
