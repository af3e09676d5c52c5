"""A CSV file of articles (a spreadsheet's export): a header row naming the fields (external_id and title are
required; "External ID" is external_id), then one article per row. Empty cells are left out, so a re-import keeps
what an editor added to a field the sheet leaves blank. The taxonomy column is a path ("Hardware > Printers" or
"Hardware / Printers"), keywords are comma-separated. UTF-8 with or without a byte order mark; comma-separated,
or semicolon / tab when the header uses those (as some spreadsheet locales export).

Rows are numbered as a spreadsheet shows them: the header is row 1, the first article row 2.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from kb.articles import FIELDS
from kb.importers.items import ALIASES, FileError, Item, article_fields, read_text

EXTENSIONS = (".csv",)
KNOWN = {"external_id", *FIELDS, *ALIASES}
FIELD_LIMIT = 1_000_000     # characters in one cell (csv's default, 131072, is below an article's longest body)


def column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    if "," not in header:
        for other in (";", "\t"):
            if other in header:
                return other
    return ","


def read(path: Path, rel: str) -> list[Item]:
    text = read_text(path)
    csv.field_size_limit(max(csv.field_size_limit(), FIELD_LIMIT))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = [column(h) for h in next(reader, [])]
    except csv.Error as exc:
        raise FileError(f"row 1 (the header): {exc}") from None
    if not any(header):
        raise FileError("no header row (the first row names the columns: external_id, title, body, ...)")
    missing = [c for c in ("external_id", "title") if c not in header]
    if missing:
        raise FileError(f"the header has no {' or '.join(missing)} column (it has: {', '.join(header)})")
    out = []
    unknown = [h for h in header if h and h not in KNOWN]
    if unknown:
        out.append(Item("row 1", note=f"columns not imported (not article fields): {', '.join(unknown)}"))
    row_number = 1
    while True:
        row_number += 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.append(Item(f"row {row_number}", error=f"{exc}; the rest of the file is not read"))
            break
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            out.append(Item(f"row {row_number}", error=f"{len(cells)} cells but the header names {len(header)} "
                                                       "columns (a value with a comma in it needs quotes)"))
            continue
        raw = {h: c.strip() for h, c in zip(header, cells, strict=False) if h in KNOWN and c.strip()}
        out.append(Item(f"row {row_number}", article=article_fields(raw)))
    return out
